"""DeltaEdit's text-free mapper in h-space: one network for every attribute, learnt from images alone.

DeltaEdit (Lyu et al., CVPR 2023) learns a mapper from differences of CLIP
image features to differences of a generator's latent code. Because CLIP
aligns images and texts, the difference of two texts ("a face" -> "a face with
a goatee") then stands in for the difference of two images, so one mapper
edits towards any text with no text-image pairs and no network per attribute.

Here the latent is the U-Net's h-space: the mapper is

    g(delta_clip, h_t, t) -> delta_h

trained on pairs of photos (i, j) at the editing steps to map
``normalise(E_img(j) - E_img(i))``, read with ``h_t(i)``, to ``h_t(j) - h_t(i)``
(models/training/deltaedit.py). At inference ``TextDirections`` turns an
attribute's texts into delta_clip and the mapper into an h-space network of the
same call as an attribute network (``net(h, t, temb)``), so the engine's
reverse process treats both alike.

The layers are ours, in the spirit of DeltaEdit's delta mapper (the CLIP delta
modulates features of the source code): h through a 1x1 convolution and a
GroupNorm, scaled and shifted by an MLP of delta_clip, plus a sinusoidal
embedding of t, then SiLU and a 1x1 convolution back to h's channels (zero at
the start of training). A mapper is one safetensors file whose header names the
U-Net it belongs to and the CLIP it read; the loader refuses another U-Net's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from diffusers.models.embeddings import Timesteps
from torch import nn

from .hspace import ActiveEdit, _groups, write_network

FORMAT = "chatface-delta-mapper/1"
FILE_NAME = "mapper.safetensors"  # inside a models folder's deltaedit/ (where train-direction --method deltaedit writes)


class DeltaMapper(nn.Module):
    """g(delta_clip, h, t) -> delta_h (see the module)."""

    def __init__(self, clip_dim: int, channels: int, hidden: int = 512, time_dim: int = 128):
        super().__init__()
        self.clip_dim, self.channels, self.hidden, self.time_dim = clip_dim, channels, hidden, time_dim
        self.time_proj = Timesteps(time_dim, flip_sin_to_cos=False, downscale_freq_shift=1)
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.delta_mlp = nn.Sequential(nn.Linear(clip_dim, hidden), nn.SiLU(), nn.Linear(hidden, 2 * hidden))
        self.conv_in = nn.Conv2d(channels, hidden, kernel_size=1)
        self.norm = nn.GroupNorm(_groups(hidden), hidden)
        self.conv_out = nn.Conv2d(hidden, channels, kernel_size=1)
        nn.init.zeros_(self.conv_out.weight)
        if self.conv_out.bias is not None:
            nn.init.zeros_(self.conv_out.bias)

    def sizes(self) -> dict:
        return {"clip_dim": self.clip_dim, "channels": self.channels, "hidden": self.hidden, "time_dim": self.time_dim}

    def forward(self, delta_clip: torch.Tensor, h: torch.Tensor, t: int | torch.Tensor) -> torch.Tensor:
        if delta_clip.shape != (h.shape[0], self.clip_dim):
            raise ValueError(f"delta_clip must be {h.shape[0]} x {self.clip_dim}, got {tuple(delta_clip.shape)}")
        t = torch.as_tensor(t, device=h.device).reshape(-1).expand(h.shape[0])
        temb = self.time_mlp(self.time_proj(t).to(h.dtype))
        scale, shift = self.delta_mlp(delta_clip.to(h.dtype)).chunk(2, dim=1)
        x = self.norm(self.conv_in(h)) * (1 + scale[:, :, None, None]) + shift[:, :, None, None] + temb[:, :, None, None]
        return self.conv_out(torch.nn.functional.silu(x))


def unit(v: torch.Tensor) -> torch.Tensor:
    """Rows scaled to norm 1 (a CLIP difference, image or text, as the mapper reads it)."""
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def save_delta_mapper(mapper: DeltaMapper, path: str | Path, *, base_model: str, clip_model: str, training: dict | None = None) -> Path:
    """Write ``mapper`` as ``path`` (safetensors, float32) with its header."""
    meta = {"format": FORMAT, "base_model": base_model, "clip_model": clip_model, **mapper.sizes(), "training": training or {}}
    return write_network(mapper, path, meta)


def read_delta_meta(path: str | Path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        raw = (f.metadata() or {}).get("chatface")
    meta = json.loads(raw) if raw else {}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a chatface DeltaEdit mapper (format {meta.get('format')!r})")
    return meta


def load_delta_mapper(
    path: str | Path, *, base_model: str, channels: int, clip_dim: int, device="cpu", dtype=torch.float32
) -> tuple[DeltaMapper, dict]:
    """The mapper in ``path``; ValueError when it was made for another U-Net, h-space or CLIP."""
    from safetensors.torch import load_file

    meta = read_delta_meta(path)
    if meta.get("base_model") != base_model:
        raise ValueError(f"{path}: the DeltaEdit mapper belongs to the U-Net {meta.get('base_model')!r}, not to this one ({base_model!r})")
    if meta["channels"] != channels:
        raise ValueError(f"{path}: made for h-space with {meta['channels']} channels, this U-Net has {channels}")
    if meta["clip_dim"] != clip_dim:
        raise ValueError(f"{path}: made for {meta['clip_dim']}-d CLIP features, this CLIP has {clip_dim}")
    mapper = DeltaMapper(meta["clip_dim"], meta["channels"], meta["hidden"], meta["time_dim"])
    mapper.load_state_dict(load_file(str(path)))
    return mapper.to(device=device, dtype=dtype).eval().requires_grad_(False), meta


class DeltaDirection(nn.Module):
    """The mapper with one CLIP delta fixed: an h-space network of an attribute network's call, ``net(h, t, temb)``."""

    delta_clip: torch.Tensor

    def __init__(self, mapper: DeltaMapper, delta_clip: torch.Tensor):
        super().__init__()
        self.mapper: DeltaMapper = mapper
        self.register_buffer("delta_clip", delta_clip.reshape(1, -1))

    def forward(self, h: torch.Tensor, t: int | torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        return self.mapper(self.delta_clip.expand(h.shape[0], -1), h, t)


class TextDirections:
    """Every attribute of ``texts`` (attribute -> neutral / positive / negative CLIP texts) as a DeltaEdit direction.

    ``embed_text`` is the CLIP text encoder the mapper was trained beside (text -> unit embedding). A positive
    strength walks neutral -> positive; a negative one neutral -> negative where the attribute has a negative text,
    else positive -> neutral.
    """

    def __init__(self, mapper: DeltaMapper, embed_text: Callable[[str], np.ndarray], texts: dict[str, dict], meta: dict | None = None):
        self.mapper, self.embed_text, self.texts, self.meta = mapper, embed_text, texts, meta or {}
        self._directions: dict[tuple[str, int], DeltaDirection] = {}

    def attributes(self) -> list[str]:
        return sorted(a for a, t in self.texts.items() if t.get("neutral") and t.get("positive"))

    def delta(self, attribute: str, sign: int) -> torch.Tensor:
        """The unit CLIP text difference that stands for the edit of ``attribute`` in ``sign``'s direction."""
        text = self.texts[attribute]
        neutral, positive, negative = text["neutral"], text["positive"], text.get("negative")
        a, b = (neutral, positive) if sign > 0 else (neutral, negative) if negative else (positive, neutral)
        d = torch.from_numpy(np.asarray(self.embed_text(b), np.float32) - np.asarray(self.embed_text(a), np.float32))
        return unit(d[None])[0]

    def active(self, attribute: str, strength: float, t_edit: int) -> ActiveEdit:
        sign = 1 if strength > 0 else -1
        key = (attribute, sign)
        if key not in self._directions:
            p = next(self.mapper.parameters())
            self._directions[key] = DeltaDirection(self.mapper, self.delta(attribute, sign).to(device=p.device, dtype=p.dtype))
        return ActiveEdit(self._directions[key], abs(float(strength)), int(t_edit))
