"""Asyrp's published CelebA-HQ h-space networks: which files exist, what they edit, and their conversion.

Asyrp's authors (github kwonminki/Asyrp_official, MIT) publish trained
DeltaBlocks for the U-Net of SDEdit's CelebA-HQ checkpoint, pinned here by
commit and sha256. The face networks map onto chatface's vocabulary:

- smiling, angry, sad, tanned, makeup, curly_hair: the attribute of that id,
  walked backwards for a negative strength;
- young: ``age`` with the sign flipped (older = the network walked backwards);
- man / woman: ``masculine`` + / - (one network per direction).

The style networks (pixar, zombie, ...) are pinned too but are not face
attributes; they are never mapped onto one. A ``.pth`` holds a dict whose key
"0" is the DeltaBlock's state dict (the rest is optimizer state); it is read
with ``weights_only=True`` and written once as a chatface mapping file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..engines.diffusion.hspace import AsyrpDeltaBlock, save_mapping

REPOSITORY = "kwonminki/Asyrp_official"
COMMIT = "a6c82dc760849dd4c1e878990ce38e824967e5b0"
UNET_REPOSITORY = "gwang-kim/DiffusionCLIP-CelebA_HQ"  # Hugging Face hub
UNET_FILE = "celeba_hq.ckpt"
TRAINED_STEPS = 40  # Asyrp's networks were trained with 40 inversion and 40 generative steps
DEFAULT_T_EDIT = 500

SHA256 = {
    "angry": "533ef903b93101c49ccc19eec89207d209613de0a48e54ca539a5caa7c2d56b6",
    "curly_hair": "8016ba5d555da53bfd7acd87d98fd85bd81cd3b34d15b7d16dd7b2ac06132f20",
    "frida": "8a32e6fea636904696588925734b5e068dcb7692c574d87c41df3b2867d4034f",
    "makeup": "8cb888e6daa6b1c135b0ce2e7fc4f6746b324ce3658a96aab1396e968e06185d",
    "man": "5b206d86bfd66245faf7c816189e85046c295f1bd79b4ebe15f2c79c8b2b8764",
    "modigliani": "db7ce60fb1e65f0b72964c69b561923b142971f78f72df0ea3e146adb7dff37d",
    "neanderthal": "f159a7ea48939f149a63de105e56c34d42ced887c712004139c950e5e8ac043b",
    "nicolas": "365a4109e2d91063e21ca164b6884d30b94ad080d767ade52c61b1ee97aefe0b",
    "pixar": "fb5b77b60221872c8ba9dd9af9f40a92c6eba5bb716585c0e7e75f996659b67e",
    "random_noise_man": "913957a7ae6e6ad14063a783acafcb3aba502d5d1e408edd19d54a92a0a6e480",
    "random_noise_woman": "cc87f61c3bd1459eea19257dfa0ff6e3aa575b4025b26fd1a22af85192093f44",
    "sad": "3b1fbc22602043d8748fd444ef4a9f993175ad02196c56e7e0d4270ca2e5eea3",
    "smiling": "6694632ef848d12e595ec1291df734ef3e9850d94a08632f06dc8fdd459b7703",
    "tanned": "ac4e6eeb1c3aad92aa495a448d5ddf878c38b482b1feba08d8adaf1a856ec7f7",
    "woman": "10677f4f7b1bd948658ce6ca59aa18a2fc7ade9e35a6db00236ea93aa8b06ff3",
    "young": "9db44522a9e043479f39b6bad54e8d489754ed36dd25365e024b1861cbe6260b",
    "zombie": "733751b36777f37e902b401bca865ecbec764b4bb13cd381cee1ce361d98b329",
    "zombie_new": "731e66a6a9b03a87832f2182a3b58333f57f70970813a37415fb1f7e4ef09598",
}


@dataclass(frozen=True)
class FaceNetwork:
    """How one of Asyrp's networks serves a vocabulary attribute."""

    name: str  # Asyrp's name (file prefix)
    attribute: str  # chatface vocabulary id
    direction: str  # "both", or the one sign it serves ("positive" / "negative")
    scale: float  # -1 when the network walks the attribute the other way

    @property
    def mapping_file(self) -> str:
        suffix = "" if self.direction == "both" else f".{self.direction}"
        return f"{self.attribute}{suffix}.safetensors"


FACE_NETWORKS = {
    n.name: n
    for n in (
        FaceNetwork("smiling", "smiling", "both", 1.0),
        FaceNetwork("angry", "angry", "both", 1.0),
        FaceNetwork("sad", "sad", "both", 1.0),
        FaceNetwork("tanned", "tanned", "both", 1.0),
        FaceNetwork("makeup", "makeup", "both", 1.0),
        FaceNetwork("curly_hair", "curly_hair", "both", 1.0),
        FaceNetwork("young", "age", "both", -1.0),
        FaceNetwork("man", "masculine", "positive", 1.0),
        FaceNetwork("woman", "masculine", "negative", 1.0),
    )
}


def file_name(name: str) -> str:
    """The file of network ``name`` in Asyrp's checkpoint/ folder."""
    return f"{name}_LC_CelebA_HQ_t999_ninv40_ngen40_0.pth"


def network_url(name: str, base: str | None = None) -> str:
    """Where network ``name`` downloads from: GitHub at the pinned commit, or ``base``/checkpoint/<file>."""
    if base:
        return f"{base.rstrip('/')}/checkpoint/{file_name(name)}"
    return f"https://github.com/{REPOSITORY}/raw/{COMMIT}/checkpoint/{file_name(name)}"


def load_delta_block(path: str | Path) -> AsyrpDeltaBlock:
    """Asyrp's DeltaBlock from one of its .pth files (key "0"; the optimizer state is ignored)."""
    data = torch.load(str(path), map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or "0" not in data:
        raise ValueError(f"{path}: not an Asyrp network (no key '0')")
    state = {k.removeprefix("module."): v for k, v in data["0"].items()}
    if "conv1.weight" not in state or "temb_proj.weight" not in state:
        raise ValueError(f"{path}: not a DeltaBlock (keys {sorted(state)[:4]}...)")
    channels, temb_channels = state["temb_proj.weight"].shape
    net = AsyrpDeltaBlock(int(channels), int(temb_channels))
    net.load_state_dict(state, strict=True)
    return net.eval().requires_grad_(False)


def convert_network(pth: str | Path, out_dir: str | Path, name: str, *, base_model: str, sha256: str) -> Path:
    """Write Asyrp network ``name`` (from ``pth``) into ``out_dir`` as the chatface mapping of its attribute."""
    spec = FACE_NETWORKS[name]
    net = load_delta_block(pth)
    return save_mapping(
        net,
        Path(out_dir) / spec.mapping_file,
        attribute=spec.attribute,
        direction=spec.direction,
        scale=spec.scale,
        text={"asyrp": name},
        base_model=base_model,
        training={"kind": "Asyrp (Kwon et al. 2023), published weights", "steps": TRAINED_STEPS, "t_edit": DEFAULT_T_EDIT},
        source={"repository": REPOSITORY, "commit": COMMIT, "file": f"checkpoint/{file_name(name)}", "sha256": sha256, "license": "MIT"},
    )
