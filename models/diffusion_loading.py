"""Loading the diffusion engine's real weights (hub ids or local paths), with one code path for all sizes.

Where each part comes from, first match wins (the CHATFACE_* variables are read by
chatface.configuration, which passes them in as arguments):

- U-Net and scheduler: ``unet`` argument, CHATFACE_UNET, ``MODELS/unet``, else
  the hub id ``google/ddpm-ema-celebahq-256`` (diffusers downloads it once). A
  pytorch_diffusion checkpoint file (e.g. SDEdit's ``celeba_hq.ckpt``) is
  converted as it loads.
  A DDPM scheduler config is read as a DDIMScheduler (same noise schedule).
- Mapping networks: ``mappings``, CHATFACE_MAPPINGS, ``MODELS/mappings``; only
  those made for this U-Net are used (its ``chatface.json`` id, else its
  source string; see unet_identity.py), the others are listed as problems.
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


def resolve_sources(models_dir: str | None = None, *, unet: str | None = None, mappings: str | None = None,
                    clip: str | None = None, clip_pretrained: str | None = None, arcface: str | None = None) -> DiffusionSources:
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


def load_unet(source: str, device="cpu", dtype=None):
    """UNet2DModel and DDIMScheduler from a hub id, a local directory (model and scheduler configs side by
    side) or a pytorch_diffusion checkpoint file (converted on load at 256x256, see pytorch_diffusion.py)."""
    import torch
    from diffusers import DDIMScheduler, UNet2DModel

    dtype = dtype or torch.float32
    local = Path(source).expanduser()
    if local.is_file():
        from .pytorch_diffusion import SCHEDULER_CONFIG, read_checkpoint, unet_from_state_dict

        unet = unet_from_state_dict(read_checkpoint(local)).to(device=device, dtype=dtype)
        return unet, DDIMScheduler(**SCHEDULER_CONFIG)
    kwargs = {}
    if local.exists():
        source = str(local)
        sub = "unet" if (local / "unet" / "config.json").exists() else None
        kwargs = {"subfolder": sub} if sub else {}
    unet = UNet2DModel.from_pretrained(source, torch_dtype=dtype, low_cpu_mem_usage=False, **kwargs).to(device)
    sched_kwargs = {"subfolder": "scheduler"} if local.exists() and (local / "scheduler").is_dir() else {}
    scheduler = DDIMScheduler.from_pretrained(source, **sched_kwargs)
    return unet, scheduler


def load_diffusion_engine(models_dir: str | None = None, *, face_index: int = 0, device: str | None = None, dtype: str | None = None,
                          steps: int | None = None, unet: str | None = None, mappings: str | None = None, clip: str | None = None,
                          clip_pretrained: str | None = None, arcface: str | None = None, progress=None):
    import torch

    from .arcface import ArcFaceIdentityScorer
    from .clip_direction import CLIPDirectionScorer
    from .diffusion_engine import DiffusionGenerator
    from .hspace import MappingRegistry
    from .base import EngineParts
    from .unet_identity import read_identity, unet_id

    src = resolve_sources(models_dir, unet=unet, mappings=mappings, clip=clip, clip_pretrained=clip_pretrained, arcface=arcface)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype_name = dtype or ("float16" if str(device).startswith("cuda") else "float32")
    torch_dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype_name]
    identity = read_identity(src.unet) or {}
    steps = steps or int(identity.get("steps") or 20)
    net, scheduler = load_unet(src.unet, device, torch_dtype)
    registry = MappingRegistry(src.mappings, channels=net.config.block_out_channels[-1],
                               temb_channels=net.time_embedding.linear_2.out_features, base_model=unet_id(src.unet),
                               device=device, dtype=torch_dtype)
    generator = DiffusionGenerator(net, scheduler, registry, steps=steps, device=device, dtype=torch_dtype,
                                   face_index=face_index, model_id=src.unet, progress=progress)
    identity = ArcFaceIdentityScorer(src.arcface)
    direction = CLIPDirectionScorer(src.clip, src.clip_pretrained, device=device)
    return EngineParts(generator, identity, direction, model_id=f"{src.unet}@{steps}steps")
