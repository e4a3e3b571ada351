"""Where the diffusion engines' weights come from (hub ids or local paths): one rule for every engine that needs them.

Where each part comes from, first match wins (the CHATFACE_* variables are read by
chatface.configuration, which passes them in as arguments):

- U-Net and scheduler: ``unet`` argument, CHATFACE_UNET, ``MODELS/unet``, else
  the hub id ``google/ddpm-ema-celebahq-256`` (diffusers downloads it once). A
  pytorch_diffusion checkpoint file (e.g. SDEdit's ``celeba_hq.ckpt``) is
  converted as it loads.
  A DDPM scheduler config is read as a DDIMScheduler (same noise schedule).
- Mapping networks: ``mappings``, CHATFACE_MAPPINGS, ``MODELS/mappings``; only
  those made for this U-Net are used (its ``chatface.json`` id, else its
  source string; see weights/provenance.py), the others are listed as problems.
- DDIM steps: the caller's, CHATFACE_STEPS, the steps the U-Net folder's
  networks were trained with (40 for Asyrp's), else 20.
- CLIP: ``clip``, CHATFACE_CLIP (an open_clip name, or ``local-dir:PATH``) with
  CHATFACE_CLIP_PRETRAINED, ``MODELS/clip``, else ViT-B-32 / openai.
- ArcFace: ``arcface``, CHATFACE_ARCFACE, ``MODELS/arcface.onnx``, else the
  buffalo_l pack's recognition model in ~/.insightface.

``chatface models make-tiny DIR`` writes a MODELS directory with random
weights of every one of these architectures, and ``chatface models fetch
asyrp --dest DIR`` the real CelebA-HQ U-Net with Asyrp's networks; both load
through this same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_UNET = "google/ddpm-ema-celebahq-256"
DEFAULT_CLIP = ("ViT-B-32", "openai")


@dataclass(frozen=True)
class DiffusionSources:
    unet: str
    mappings: str | None
    clip: str
    clip_pretrained: str | None
    arcface: str | None


def resolve_sources(
    models_dir: str | None = None,
    *,
    unet: str | None = None,
    mappings: str | None = None,
    clip: str | None = None,
    clip_pretrained: str | None = None,
    arcface: str | None = None,
) -> DiffusionSources:
    root = Path(models_dir).expanduser() if models_dir else None
    if root is not None and not root.is_dir():
        raise FileNotFoundError(f"models directory {root} does not exist")

    def local(name: str) -> str | None:
        return str(root / name) if root is not None and (root / name).exists() else None

    clip_dir = local("clip")
    return DiffusionSources(
        unet=unet or local("unet") or DEFAULT_UNET,
        mappings=mappings or local("mappings"),
        clip=clip or (f"local-dir:{clip_dir}" if clip_dir else DEFAULT_CLIP[0]),
        clip_pretrained=clip_pretrained or (None if clip_dir else DEFAULT_CLIP[1]),
        arcface=arcface or local("arcface.onnx"),
    )
