"""ChatFace's attribute mapping networks in the U-Net's semantic h-space, and the hook that applies them.

A mapping network f_A takes the middle block's output h_t and the timestep t
and returns a shift delta_h for attribute A. While sampling, a forward hook
on ``unet.mid_block`` adds ``sum_A S_A * f_A(h_t, t)`` at the steps where
``t >= T_edit_A`` (ChatFace's stable manipulation strategy: edit only the
early, semantic steps), for every attribute of the state in one pass.

Each network is one safetensors file whose metadata holds a JSON header
(attribute id, CLIP text pair, base model, sizes, training settings); a
MappingRegistry finds them in a directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers.models.embeddings import Timesteps
from torch import nn

FORMAT = "chatface-mapping/1"


class MappingNetwork(nn.Module):
    """f_A(h, t): 1x1 convolutions over h-space, conditioned on a sinusoidal timestep embedding."""

    def __init__(self, channels: int, hidden: int = 512, time_dim: int = 128):
        super().__init__()
        self.channels, self.hidden, self.time_dim = channels, hidden, time_dim
        self.time_proj = Timesteps(time_dim, flip_sin_to_cos=False, downscale_freq_shift=1)
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.conv_in = nn.Conv2d(channels, hidden, kernel_size=1)
        self.norm = nn.GroupNorm(_groups(hidden), hidden)
        self.conv_out = nn.Conv2d(hidden, channels, kernel_size=1)

    def forward(self, h: torch.Tensor, t: int | torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, device=h.device).reshape(-1).expand(h.shape[0])
        temb = self.time_mlp(self.time_proj(t).to(h.dtype))
        x = self.conv_in(h) + temb[:, :, None, None]
        return self.conv_out(torch.nn.functional.silu(self.norm(x)))


def _groups(channels: int) -> int:
    for g in (32, 16, 8, 4, 2):
        if channels % g == 0:
            return g
    return 1


@dataclass(frozen=True)
class MappingInfo:
    attribute: str
    path: Path
    meta: dict


def save_mapping(net: MappingNetwork, path: str | Path, *, attribute: str, text: dict, base_model: str, training: dict | None = None) -> Path:
    from safetensors.torch import save_file

    meta = {"format": FORMAT, "attribute": attribute, "text": text, "base_model": base_model, "channels": net.channels,
            "hidden": net.hidden, "time_dim": net.time_dim, "training": training or {}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(path), metadata={"chatface": json.dumps(meta)})
    return path


def read_mapping_meta(path: str | Path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        raw = (f.metadata() or {}).get("chatface")
    if raw is None:
        raise ValueError(f"{path}: not a chatface mapping network (no 'chatface' metadata)")
    meta = json.loads(raw)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown mapping format {meta.get('format')!r}")
    return meta


def load_mapping(path: str | Path, device="cpu", dtype=torch.float32) -> tuple[MappingNetwork, dict]:
    from safetensors.torch import load_file

    meta = read_mapping_meta(path)
    net = MappingNetwork(meta["channels"], meta["hidden"], meta["time_dim"])
    net.load_state_dict(load_file(str(path)))
    return net.to(device=device, dtype=dtype).eval().requires_grad_(False), meta


class MappingRegistry:
    """The mapping networks in a directory (``<attribute>.safetensors``), loaded on first use."""

    def __init__(self, directory: str | Path | None, *, channels: int | None = None, device="cpu", dtype=torch.float32):
        self.directory = Path(directory) if directory else None
        self.channels, self.device, self.dtype = channels, device, dtype
        self._loaded: dict[str, MappingNetwork] = {}
        self.infos: dict[str, MappingInfo] = {}
        self.problems: dict[str, str] = {}
        if self.directory is not None and self.directory.is_dir():
            for path in sorted(self.directory.glob("*.safetensors")):
                try:
                    meta = read_mapping_meta(path)
                except Exception as exc:  # noqa: BLE001 - a bad file is reported, not fatal
                    self.problems[path.name] = str(exc)
                    continue
                if channels is not None and meta["channels"] != channels:
                    self.problems[path.name] = f"made for h-space with {meta['channels']} channels, this U-Net has {channels}"
                    continue
                self.infos[meta["attribute"]] = MappingInfo(meta["attribute"], path, meta)

    def available(self) -> list[str]:
        return sorted(self.infos)

    def get(self, attribute: str) -> MappingNetwork:
        if attribute not in self._loaded:
            net, _ = load_mapping(self.infos[attribute].path, self.device, self.dtype)
            self._loaded[attribute] = net
        return self._loaded[attribute]


@dataclass(frozen=True)
class ActiveEdit:
    network: MappingNetwork
    strength: float
    t_edit: int


class HSpaceHook:
    """Adds sum_A S_A * f_A(h_t, t) to the middle block's output at steps with t >= T_edit_A.

    Use as a context manager around sampling, and set ``hook.t`` before each U-Net call.
    """

    def __init__(self, mid_block: nn.Module, edits: list[ActiveEdit]):
        self.mid_block = mid_block
        self.edits = [e for e in edits if e.strength != 0]
        self.t: int = 0
        self.applied_steps: list[int] = []  # the timesteps at which a shift was added
        self._handle = None

    def _hook(self, module, inputs, output):
        active = [e for e in self.edits if self.t >= e.t_edit]
        if not active:
            return output
        self.applied_steps.append(int(self.t))
        delta = sum(e.strength * e.network(output, self.t) for e in active)
        return output + delta

    def __enter__(self) -> "HSpaceHook":
        self._handle = self.mid_block.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
