"""The engines chatface has, by name: what each needs to run (its facts) and how to load it with its scorers.

Configuration and the CLI name an engine; this module is the one place that knows what the name means, so
deploying, batching and loading ask here instead of comparing engine-name strings."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def max_batch(self) -> int:
        """How many decodes a replica gathers into one pass by default."""
        return 8 if self.batches else 1


FACTS = {
    "offline": EngineFacts("offline", batches=False, gpus_per_replica=0.0, extra=""),
    "diffusion": EngineFacts("diffusion", batches=True, gpus_per_replica=1.0, extra="diffusion"),
    "ledits": EngineFacts("ledits", batches=False, gpus_per_replica=1.0, extra="diffusion"),
}


def engine_facts(name: str) -> EngineFacts:
    """The facts of engine ``name``; an unknown name is refused with the list of engines."""
    if name not in FACTS:
        raise EngineUnavailableError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return FACTS[name]


class EngineUnavailableError(ChatfaceError):
    pass


def load_engine(name: str = "offline", *, face_index: int = 0, models_dir: str | None = None,
                diffusion_options: dict | None = None, concepts: dict[str, dict] | None = None) -> EngineParts:
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
            import insightface  # noqa: F401
            import open_clip  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailableError(f"the diffusion engine needs {exc.name}: pip install 'chatface[diffusion]'") from None
        from ..scorers.arcface import ArcFaceUnavailableError
        from .diffusion.loading import load_diffusion_engine

        try:
            return load_diffusion_engine(models_dir, face_index=face_index, **(diffusion_options or {}))
        except ArcFaceUnavailableError as exc:
            raise EngineUnavailableError(str(exc)) from None
    if name == "ledits":
        try:
            import diffusers  # noqa: F401
            import insightface  # noqa: F401
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
