"""The engines chatface has, by name: what each needs to run (its facts), what each can edit, and how to load it
with its scorers.

Configuration and the CLI name an engine; this module is the one place that knows what the name means, so
deploying, batching, loading and telling people what an engine offers ask here instead of comparing engine-name
strings. What an engine can edit is known without loading it (``engine_attributes``), so the help, the refusals
and ``chatface engines`` never download or load a model."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ...errors import ChatfaceError
from ..base import EngineParts

ENGINES = ("offline", "diffusion", "ledits")


@dataclass(frozen=True)
class EngineFacts:
    """What running an engine takes, known without loading it.

    ``batches``: its ``decode_batch`` shares one pass between requests (``Generator.batches`` of its class), so a
    replica should gather concurrent decodes. ``gpus_per_replica``: what one deployed replica should hold.
    """

    name: str
    batches: bool
    gpus_per_replica: float
    extra: str  # the pip extra that installs it ("" for the core install)
    title: str = ""  # what the engine is, in a few words
    needs: tuple[str, ...] = ()  # what running it takes, beyond the core install, in words
    modules: tuple[str, ...] = ()  # what its extra installs (importable names): found without importing them
    accepts_text: bool = False  # whether it renders free-text concepts ("a pirate hat")

    @property
    def max_batch(self) -> int:
        """How many decodes a replica gathers into one pass by default."""
        return 8 if self.batches else 1


DIFFUSION_MODULES = ("diffusers", "onnxruntime", "open_clip")  # ArcFace runs on onnxruntime (no insightface: one OpenCV)
FACTS = {
    "offline": EngineFacts(
        "offline",
        batches=False,
        gpus_per_replica=0.0,
        extra="",
        title="landmark warps and recolours of the photo itself; no GPU, no download",
    ),
    "diffusion": EngineFacts(
        "diffusion",
        batches=True,
        gpus_per_replica=1.0,
        extra="diffusion",
        title="ChatFace's method: Asyrp's h-space networks on a CelebA-HQ diffusion U-Net",
        needs=(
            "pip install 'chatface[diffusion]'",
            "chatface models fetch asyrp (the U-Net, Asyrp's networks, ArcFace and CLIP)",
            "a GPU for edits in seconds (minutes each on a CPU)",
        ),
        modules=DIFFUSION_MODULES,
    ),
    "ledits": EngineFacts(
        "ledits",
        batches=False,
        gpus_per_replica=1.0,
        extra="diffusion",
        title="LEDITS++ on Stable Diffusion 1.5: any attribute or free text, from its words",
        needs=(
            "pip install 'chatface[diffusion]'",
            "Stable Diffusion 1.5 from the Hugging Face hub (about 4 GB, once)",
            "a GPU for edits in seconds (minutes each on a CPU)",
        ),
        modules=DIFFUSION_MODULES + ("transformers",),
        accepts_text=True,
    ),
}
# What `chatface models fetch asyrp` installs for the diffusion engine: attribute -> (positive, negative). Asyrp's
# face networks (models/weights/asyrp.py; tests/test_asyrp.py checks the two agree); a models folder with other
# networks offers what it holds.
ASYRP_ATTRIBUTES = {
    "smiling": (True, True),
    "angry": (True, True),
    "sad": (True, True),
    "tanned": (True, True),
    "makeup": (True, True),
    "curly_hair": (True, True),
    "age": (True, True),
    "masculine": (True, True),
}


def engine_attributes(name: str, models_dir: str | None = None) -> dict[str, tuple[bool, bool]] | None:
    """What engine ``name`` can edit, without loading it: attribute -> (positive, negative); None for a text-driven
    engine, which edits every attribute that has words (and free text)."""
    facts = engine_facts(name)
    if facts.accepts_text:
        return None
    if name == "offline":
        from .offline.engine import KEPT

        return dict(KEPT)
    mappings = Path(models_dir) / "mappings" if models_dir else None
    if mappings is not None and mappings.is_dir():
        found: dict[str, tuple[bool, bool]] = {}
        for f in sorted(mappings.glob("*.safetensors")):
            attr, _, direction = f.name.removesuffix(".safetensors").partition(".")
            pos, neg = found.get(attr, (False, False))
            found[attr] = (pos or direction in ("", "positive"), neg or direction in ("", "negative"))
        if found:
            return found
    return dict(ASYRP_ATTRIBUTES)


def missing_modules(name: str) -> list[str]:
    """The Python packages engine ``name`` needs that are not installed (found without importing anything)."""
    return [m for m in engine_facts(name).modules if importlib.util.find_spec(m) is None]


def engine_facts(name: str) -> EngineFacts:
    """The facts of engine ``name``; an unknown name is refused with the list of engines."""
    if name not in FACTS:
        raise EngineUnavailableError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return FACTS[name]


class EngineUnavailableError(ChatfaceError):
    pass


def load_engine(
    name: str = "offline",
    *,
    face_index: int = 0,
    models_dir: str | None = None,
    diffusion_options: dict | None = None,
    concepts: dict[str, dict] | None = None,
) -> EngineParts:
    """The engine ``name`` with its scorers. ``concepts`` (attribute -> texts and group) are the editing prompts
    of the text-driven ``ledits`` engine; the caller (the tools) gives them from its vocabulary."""
    if name == "offline":
        from ..scorers.identity import DlibIdentityScorer
        from ..scorers.landmark_direction import LandmarkDirectionScorer
        from .offline.engine import OfflineEngine

        return EngineParts(OfflineEngine(face_index=face_index), DlibIdentityScorer(), LandmarkDirectionScorer(), "offline-landmarks-v1")
    if name == "diffusion":
        try:
            import diffusers  # noqa: F401
            import onnxruntime  # noqa: F401
            import open_clip  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailableError(f"the diffusion engine needs {exc.name}: pip install 'chatface[diffusion]'") from None
        from ..scorers.arcface import ArcFaceUnavailableError
        from .diffusion.loading import load_diffusion_engine

        try:
            return load_diffusion_engine(models_dir, face_index=face_index, concepts=concepts, **(diffusion_options or {}))
        except ArcFaceUnavailableError as exc:
            raise EngineUnavailableError(str(exc)) from None
    if name == "ledits":
        try:
            import diffusers  # noqa: F401
            import onnxruntime  # noqa: F401
            import open_clip  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailableError(f"the ledits engine needs {exc.name}: pip install 'chatface[diffusion]'") from None
        from ..scorers.arcface import ArcFaceUnavailableError
        from .ledits import load_ledits_engine

        if not concepts:
            raise EngineUnavailableError("the ledits engine needs the attributes' editing prompts (concepts)")
        try:
            return load_ledits_engine(models_dir, concepts=concepts, face_index=face_index, **(diffusion_options or {}))
        except ArcFaceUnavailableError as exc:
            raise EngineUnavailableError(str(exc)) from None
    raise EngineUnavailableError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
