"""Which U-Net a models directory holds, so that h-space networks are only used with the U-Net they were made for.

A converted or fetched U-Net folder carries ``chatface.json``: ``id`` (what
every mapping network made for it records as ``base_model``), where it came
from, the sha256 of the source file and the DDIM steps its networks were
trained with. A pytorch_diffusion checkpoint file loaded as it is has the id
its conversion would write (``<stem>-<resolution>@sha256:<16 hex>``). A hub id
or a folder without the file is identified by the source string itself, which
is what ``chatface train-direction`` records.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

IDENTITY_FILE = "chatface.json"


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checkpoint_id(path: str | Path, resolution: int, digest: str | None = None) -> str:
    """The id of a pytorch_diffusion checkpoint converted at ``resolution`` (the same for a file and its conversion)."""
    return f"{Path(path).stem}-{resolution}@sha256:{(digest or sha256_of(path))[:16]}"


def write_identity(unet_dir: str | Path, identity: dict) -> Path:
    if not identity.get("id"):
        raise ValueError("a U-Net identity needs an 'id'")
    path = Path(unet_dir) / IDENTITY_FILE
    path.write_text(json.dumps(identity, indent=2) + "\n", encoding="utf-8")
    return path


def read_identity(source: str | Path) -> dict | None:
    """The chatface.json of a local U-Net folder (or of its unet/ subfolder), None for hub ids and plain folders."""
    root = Path(source).expanduser()
    for folder in (root, root / "unet"):
        path = folder / IDENTITY_FILE
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    return None


def unet_id(source: str) -> str:
    """The identity that mapping networks record for the U-Net loaded from ``source``."""
    if Path(source).expanduser().is_file():
        return checkpoint_id(Path(source).expanduser(), 256)
    identity = read_identity(source)
    return identity["id"] if identity else source
