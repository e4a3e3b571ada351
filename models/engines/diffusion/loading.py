"""Loading the diffusion engine's real weights (hub ids or local paths), with one code path for all sizes.

Where each part comes from is ``weights/sources.py``'s rule (first match wins: argument, CHATFACE_* variable,
models folder, hub default); this module loads what it names. ``chatface models make-tiny DIR`` (random weights
of every architecture) and ``chatface models fetch asyrp --dest DIR`` (the real CelebA-HQ U-Net with Asyrp's
networks) both load through this same code.
"""

from __future__ import annotations

from pathlib import Path

from ...weights.sources import DiffusionSources, resolve_sources
from ..placement import torch_placement

FILE_NAME = "mapper.safetensors"  # a models folder's deltaedit/mapper.safetensors (delta_mapper.FILE_NAME; torch-free here)

__all__ = ["DiffusionSources", "describe_models", "load_diffusion_engine", "load_unet", "resolve_sources"]


def load_unet(source: str, device="cpu", dtype=None):
    """UNet2DModel and DDIMScheduler from a hub id, a local directory (model and scheduler configs side by
    side) or a pytorch_diffusion checkpoint file (converted on load at 256x256, see pytorch_diffusion.py)."""
    import torch

    # the defining modules: diffusers' top-level __init__ shows type checkers only its dummy placeholder classes
    from diffusers.models.unets.unet_2d import UNet2DModel
    from diffusers.schedulers.scheduling_ddim import DDIMScheduler

    dtype = dtype or torch.float32
    local = Path(source).expanduser()
    if local.is_file():
        from ...weights.pytorch_diffusion import SCHEDULER_CONFIG, read_checkpoint, unet_from_state_dict

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


def load_diffusion_engine(
    models_dir: str | None = None,
    *,
    face_index: int = 0,
    device: str | None = None,
    dtype: str | None = None,
    steps: int | None = None,
    unet: str | None = None,
    mappings: str | None = None,
    clip: str | None = None,
    clip_pretrained: str | None = None,
    arcface: str | None = None,
    delta_mapper: str | None = None,
    concepts: dict[str, dict] | None = None,
    progress=None,
):
    """The diffusion engine of a models folder (or of the single parts given). ``concepts`` (attribute -> CLIP texts,
    the caller's vocabulary) are what a DeltaEdit mapper (``delta_mapper``, default MODELS/deltaedit/mapper.safetensors)
    edits for the attributes without a network; a mapper made for another U-Net or CLIP is not used, and said so in
    ``generator.delta_problem``."""
    from ...base import EngineParts
    from ...scorers.arcface import ArcFaceIdentityScorer
    from ...scorers.clip_direction import CLIPDirectionScorer
    from ...weights.provenance import read_identity, unet_id
    from .engine import DiffusionGenerator
    from .hspace import MappingRegistry

    src = resolve_sources(models_dir, unet=unet, mappings=mappings, clip=clip, clip_pretrained=clip_pretrained, arcface=arcface)
    device, torch_dtype = torch_placement(device, dtype)
    identity = read_identity(src.unet) or {}
    steps = steps or int(identity.get("steps") or 20)
    net, scheduler = load_unet(src.unet, device, torch_dtype)
    registry = MappingRegistry(
        src.mappings,
        channels=net.config.block_out_channels[-1],
        temb_channels=net.time_embedding.linear_2.out_features,
        base_model=unet_id(src.unet),
        device=device,
        dtype=torch_dtype,
    )
    generator = DiffusionGenerator(
        net, scheduler, registry, steps=steps, device=device, dtype=torch_dtype, face_index=face_index, model_id=src.unet, progress=progress
    )
    identity_scorer = ArcFaceIdentityScorer(src.arcface)
    direction = CLIPDirectionScorer(src.clip, src.clip_pretrained, device=device)
    generator.text_directions, generator.delta_problem = _text_directions(
        delta_mapper or (str(Path(models_dir) / "deltaedit" / FILE_NAME) if models_dir else None),
        unet_id(src.unet),
        net,
        direction,
        concepts,
        device,
        torch_dtype,
    )
    return EngineParts(generator, identity_scorer, direction, model_id=f"{src.unet}@{steps}steps")


def _text_directions(path: str | None, base_model: str, unet, direction, concepts: dict | None, device, dtype):
    """(TextDirections of the mapper in ``path``, None) or (None, why it is not used; None when there is none)."""
    from .delta_mapper import TextDirections, load_delta_mapper

    if path is None or not Path(path).is_file():
        return None, None
    clip_dim = int(direction.text_embedding("a face").shape[0])
    try:
        mapper, meta = load_delta_mapper(
            path, base_model=base_model, channels=unet.config.block_out_channels[-1], clip_dim=clip_dim,
            device=device, dtype=dtype,
        )  # fmt: skip
    except ValueError as exc:
        return None, str(exc)
    texts = {a: {k: v for k, v in c.items() if k in ("neutral", "positive", "negative")} for a, c in (concepts or {}).items()}
    return TextDirections(mapper, direction.text_embedding, texts, meta), None


def describe_models(models_dir: str | None = None, **sources) -> list[str]:
    """What ``chatface models list`` prints: where each part comes from, and the h-space networks usable with the U-Net."""
    from ...weights.provenance import unet_id
    from .hspace import MappingRegistry

    src = resolve_sources(models_dir, **sources)
    lines = [
        f"unet:     {src.unet}" + (f" (id {unet_id(src.unet)})" if unet_id(src.unet) != src.unet else ""),
        f"clip:     {src.clip}" + (f" ({src.clip_pretrained})" if src.clip_pretrained else ""),
        f"arcface:  {src.arcface or 'buffalo_l in ~/.insightface/models'}",
    ]
    reg = MappingRegistry(src.mappings, base_model=unet_id(src.unet))
    lines.append(f"mappings: {src.mappings or '(none)'}: {len(reg.available())} attribute(s): {', '.join(reg.available()) or '-'}")
    for attr in reg.available():
        pos, neg = reg.directions(attr)
        infos = reg.infos[attr].values()
        kinds = ", ".join(sorted({i.meta.get("architecture", "chatface") for i in infos}))
        lines.append(f"  {attr:<12} {'+' if pos else ' '}{'-' if neg else ' '}  {kinds}: {', '.join(i.path.name for i in infos)}")
    lines.extend(f"  ignored {name}: {why}" for name, why in reg.problems.items())
    lines.append(_describe_mapper(Path(models_dir) / "deltaedit" / FILE_NAME if models_dir else None, unet_id(src.unet)))
    return lines


def _describe_mapper(path: Path | None, base_model: str) -> str:
    """The ``models list`` line of a models folder's DeltaEdit mapper: what it was trained on, or why it is not used."""
    from .delta_mapper import read_delta_meta

    if path is None or not path.is_file():
        return "deltaedit: (none: chatface train-direction --method deltaedit --images DIR --out MODELS/deltaedit)"
    try:
        meta = read_delta_meta(path)
    except ValueError as exc:
        return f"deltaedit: ignored: {exc}"
    if meta.get("base_model") != base_model:
        return f"deltaedit: ignored {path}: the DeltaEdit mapper belongs to the U-Net {meta.get('base_model')!r}, not to this one"
    training = meta.get("training", {})
    return (
        f"deltaedit: {path}: every attribute without a network, from its texts "
        f"({training.get('iterations_done', '?')} iterations on {training.get('images', '?')} photos)"
    )
