"""Engine and scorer selection by name, so configuration and CLI pick parts without importing them."""

from __future__ import annotations

from dataclasses import dataclass

from .base import DirectionScorer, Generator, IdentityScorer

ENGINES = ("offline", "diffusion")


class EngineUnavailableError(Exception):
    pass


@dataclass
class EngineParts:
    generator: Generator
    identity: IdentityScorer
    direction: DirectionScorer
    model_id: str = ""


def load_engine(name: str = "offline", *, face_index: int = 0, models_dir: str | None = None) -> EngineParts:
    if name == "offline":
        from .direction import LandmarkDirectionScorer
        from .identity import DlibIdentityScorer
        from .offline_engine import OfflineEngine

        return EngineParts(OfflineEngine(face_index=face_index), DlibIdentityScorer(), LandmarkDirectionScorer(), "offline-landmarks-v1")
    if name == "diffusion":
        raise EngineUnavailableError(
            "the diffusion engine is not part of this build yet; use --engine offline"
        )
    raise EngineUnavailableError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
