"""Engine and scorer selection by name, so configuration and CLI pick parts without importing them."""

from __future__ import annotations

from ..errors import ChatfaceError
from .base import EngineParts

ENGINES = ("offline", "diffusion", "ledits")


class EngineUnavailableError(ChatfaceError):
    pass


def load_engine(name: str = "offline", *, face_index: int = 0, models_dir: str | None = None,
                diffusion_options: dict | None = None, concepts: dict[str, dict] | None = None) -> EngineParts:
    """The engine ``name`` with its scorers. ``concepts`` (attribute -> texts and group) are the editing prompts
    of the text-driven ``ledits`` engine; the caller (the tools) gives them from its vocabulary."""
    if name == "offline":
        from .direction import LandmarkDirectionScorer
        from .identity import DlibIdentityScorer
        from .offline_engine import OfflineEngine

        return EngineParts(OfflineEngine(face_index=face_index), DlibIdentityScorer(), LandmarkDirectionScorer(), "offline-landmarks-v1")
    if name == "diffusion":
        try:
            import diffusers  # noqa: F401
            import insightface  # noqa: F401
            import open_clip  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailableError(f"the diffusion engine needs {exc.name}: pip install 'chatface[diffusion]'") from None
        from .arcface import ArcFaceUnavailableError
        from .diffusion_loading import load_diffusion_engine

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
        from .arcface import ArcFaceUnavailableError
        from .ledits_engine import load_ledits_engine

        if not concepts:
            raise EngineUnavailableError("the ledits engine needs the attributes' editing prompts (concepts)")
        try:
            return load_ledits_engine(models_dir, concepts=concepts, face_index=face_index, **(diffusion_options or {}))
        except ArcFaceUnavailableError as exc:
            raise EngineUnavailableError(str(exc)) from None
    raise EngineUnavailableError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
