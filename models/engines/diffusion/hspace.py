"""Attribute networks in the U-Net's semantic h-space: ChatFace's mapping networks and Asyrp's DeltaBlocks.

A network f_A reads the middle block's output h_t at timestep t and returns a
shift delta_h for attribute A. Two architectures share one call,
``net(h, t, temb)``:

- ``chatface``: the mapping network that ``chatface train-direction`` trains,
  with its own sinusoidal embedding of t;
- ``asyrp-delta-block``: Asyrp's published networks (1x1 conv, the U-Net's own
  timestep embedding through SiLU and a linear layer, GroupNorm(32, eps 1e-6),
  SiLU, 1x1 conv), with the same layer names as Asyrp's DeltaBlock so its
  weights load unchanged.

Each network is one safetensors file whose metadata holds a JSON header: the
attribute id, which direction of it the network walks (``both`` for one that
is walked backwards for a negative strength, or ``positive`` / ``negative``
for one of a pair such as Asyrp's man / woman), a ``scale`` (-1 when the
network walks the attribute the other way, e.g. Asyrp's "young" serving
"age"), the U-Net it belongs to (``base_model``) and where it came from. A
MappingRegistry finds them in a directory and refuses the ones made for
another U-Net.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers.models.embeddings import Timesteps
from torch import nn

FORMAT = "chatface-mapping/1"
DIRECTIONS = ("both", "positive", "negative")


class MappingNetwork(nn.Module):
    """ChatFace's f_A(h, t): 1x1 convolutions over h-space, conditioned on a sinusoidal embedding of t."""

    architecture = "chatface"

    def __init__(self, channels: int, hidden: int = 512, time_dim: int = 128):
        super().__init__()
        self.channels, self.hidden, self.time_dim = channels, hidden, time_dim
        self.time_proj = Timesteps(time_dim, flip_sin_to_cos=False, downscale_freq_shift=1)
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.conv_in = nn.Conv2d(channels, hidden, kernel_size=1)
        self.norm = nn.GroupNorm(_groups(hidden), hidden)
        self.conv_out = nn.Conv2d(hidden, channels, kernel_size=1)

    def sizes(self) -> dict:
        return {"channels": self.channels, "hidden": self.hidden, "time_dim": self.time_dim}

    def forward(self, h: torch.Tensor, t: int | torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        t = torch.as_tensor(t, device=h.device).reshape(-1).expand(h.shape[0])
        emb = self.time_mlp(self.time_proj(t).to(h.dtype))
        x = self.conv_in(h) + emb[:, :, None, None]
        return self.conv_out(torch.nn.functional.silu(self.norm(x)))


class AsyrpDeltaBlock(nn.Module):
    """Asyrp's DeltaBlock: delta_h from h and the U-Net's own timestep embedding ``temb``."""

    architecture = "asyrp-delta-block"

    def __init__(self, channels: int, temb_channels: int):
        super().__init__()
        self.channels, self.temb_channels = channels, temb_channels
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=1)
        self.temb_proj = nn.Linear(temb_channels, channels)
        self.norm2 = nn.GroupNorm(num_groups=32, num_channels=channels, eps=1e-6, affine=True)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=1)

    def sizes(self) -> dict:
        return {"channels": self.channels, "temb_channels": self.temb_channels}

    def forward(self, h: torch.Tensor, t: int | torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        if temb is None:
            raise ValueError("Asyrp's DeltaBlock needs the U-Net's timestep embedding")
        x = self.conv1(h) + self.temb_proj(torch.nn.functional.silu(temb))[:, :, None, None]
        return self.conv2(torch.nn.functional.silu(self.norm2(x)))


ARCHITECTURES = {MappingNetwork.architecture: MappingNetwork, AsyrpDeltaBlock.architecture: AsyrpDeltaBlock}
AttributeNetwork = MappingNetwork | AsyrpDeltaBlock  # either architecture: both have ``architecture`` and ``sizes()``


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

    @property
    def direction(self) -> str:
        return self.meta.get("direction", "both")

    @property
    def scale(self) -> float:
        return float(self.meta.get("scale", 1.0))


def save_mapping(
    net: AttributeNetwork,
    path: str | Path,
    *,
    attribute: str,
    text: dict,
    base_model: str,
    training: dict | None = None,
    direction: str = "both",
    scale: float = 1.0,
    source: dict | None = None,
) -> Path:
    """Write ``net`` as ``path`` (safetensors, float32) with its chatface header."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    meta = {
        "format": FORMAT,
        "architecture": net.architecture,
        "attribute": attribute,
        "direction": direction,
        "scale": float(scale),
        "text": text,
        "base_model": base_model,
        **net.sizes(),
        "training": training or {},
        "source": source or {},
    }
    return write_network(net, path, meta)


def write_network(net: nn.Module, path: str | Path, meta: dict) -> Path:
    """``net``'s weights as ``path`` (safetensors, float32 on the CPU) with ``meta`` as its chatface header."""
    from safetensors.torch import save_file

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
    if meta.get("architecture", "chatface") not in ARCHITECTURES:
        raise ValueError(f"{path}: unknown network architecture {meta.get('architecture')!r}")
    return meta


def build_network(meta: dict) -> AttributeNetwork:
    arch = meta.get("architecture", "chatface")
    if arch == AsyrpDeltaBlock.architecture:
        return AsyrpDeltaBlock(meta["channels"], meta["temb_channels"])
    return MappingNetwork(meta["channels"], meta["hidden"], meta["time_dim"])


def load_mapping(path: str | Path, device="cpu", dtype=torch.float32) -> tuple[nn.Module, dict]:
    from safetensors.torch import load_file

    meta = read_mapping_meta(path)
    net = build_network(meta)
    net.load_state_dict(load_file(str(path)))
    return net.to(device=device, dtype=dtype).eval().requires_grad_(False), meta


@dataclass(frozen=True)
class ActiveEdit:
    """One network's term of the shift: ``coefficient * network(h, t, temb)`` at steps with t >= t_edit."""

    network: nn.Module
    coefficient: float
    t_edit: int


class MappingRegistry:
    """The attribute networks in a directory (``*.safetensors``), checked against the U-Net, loaded on first use.

    ``channels`` (h-space channels), ``temb_channels`` (the U-Net's timestep
    embedding size) and ``base_model`` (the U-Net's identity) are those of the
    U-Net they will run on; a file made for another is listed in ``problems``
    and not used.
    """

    def __init__(
        self,
        directory: str | Path | None,
        *,
        channels: int | None = None,
        temb_channels: int | None = None,
        base_model: str | None = None,
        device="cpu",
        dtype=torch.float32,
    ):
        self.directory = Path(directory) if directory else None
        self.channels, self.temb_channels, self.base_model = channels, temb_channels, base_model
        self.device, self.dtype = device, dtype
        self._loaded: dict[Path, nn.Module] = {}
        self.infos: dict[str, dict[str, MappingInfo]] = {}  # attribute -> direction -> file
        self.problems: dict[str, str] = {}
        if self.directory is not None and self.directory.is_dir():
            for path in sorted(self.directory.glob("*.safetensors")):
                try:
                    meta = read_mapping_meta(path)
                except Exception as exc:  # noqa: BLE001 - a bad file is reported, not fatal
                    self.problems[path.name] = str(exc)
                    continue
                why = self._mismatch(meta)
                if why:
                    self.problems[path.name] = why
                    continue
                info = MappingInfo(meta["attribute"], path, meta)
                taken = self.infos.setdefault(info.attribute, {})
                if info.direction in taken:
                    self.problems[path.name] = f"{info.attribute} ({info.direction}) is already served by {taken[info.direction].path.name}"
                    continue
                taken[info.direction] = info

    def _mismatch(self, meta: dict) -> str | None:
        if self.channels is not None and meta["channels"] != self.channels:
            return f"made for h-space with {meta['channels']} channels, this U-Net has {self.channels}"
        if self.temb_channels is not None and "temb_channels" in meta and meta["temb_channels"] != self.temb_channels:
            return f"made for a {meta['temb_channels']}-d timestep embedding, this U-Net has {self.temb_channels}"
        if self.base_model is not None and meta.get("base_model") != self.base_model:
            return f"belongs to the U-Net {meta.get('base_model')!r}, not to this one ({self.base_model!r})"
        return None

    def available(self) -> list[str]:
        return sorted(self.infos)

    def directions(self, attribute: str) -> tuple[bool, bool]:
        """(positive supported, negative supported): a ``both`` network serves the two, a pair one each."""
        have = self.infos.get(attribute, {})
        both = "both" in have
        return both or "positive" in have, both or "negative" in have

    def network(self, info: MappingInfo) -> nn.Module:
        if info.path not in self._loaded:
            self._loaded[info.path] = load_mapping(info.path, self.device, self.dtype)[0]
        return self._loaded[info.path]

    def get(self, attribute: str, direction: str = "both") -> nn.Module:
        return self.network(self.infos[attribute][direction])

    def active(self, attribute: str, strength: float, t_edit: int) -> ActiveEdit:
        """The network and signed coefficient that move ``attribute`` by ``strength``.

        A network of the requested direction is used with |strength|; else the
        ``both`` network with the signed strength (walked backwards when negative).
        """
        have = self.infos[attribute]
        wanted = "positive" if strength > 0 else "negative"
        info = have.get(wanted)
        coefficient = abs(strength) if info is not None else strength
        if info is None:
            info = have["both"]
        return ActiveEdit(self.network(info), coefficient * info.scale, int(t_edit))


def hspace_shift(edits: list[ActiveEdit], h: torch.Tensor, t: int, temb: torch.Tensor) -> torch.Tensor | None:
    """sum_A c_A * f_A(h, t, temb) over the edits active at ``t`` (t >= t_edit); None when none is."""
    active = [e for e in edits if t >= e.t_edit and e.coefficient != 0]
    if not active:
        return None
    return sum(e.coefficient * e.network(h, t, temb) for e in active)
