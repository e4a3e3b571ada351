"""A models folder's manifest: every file's sha256, written by ``chatface models fetch`` and checked by ``chatface
models verify`` with no network and no torch, so a folder copied between machines (or from a mirror) is known
whole before an engine loads it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .provenance import sha256_of

MANIFEST = "MANIFEST.json"
PARTS = {
    "unet": "the U-Net (unet/)",
    "mappings": "Asyrp's networks (mappings/)",
    "arcface.onnx": "ArcFace (arcface.onnx)",
    "clip": "CLIP (clip/)",
}


def _files(dest: Path) -> list[Path]:
    return [
        f
        for f in sorted(dest.rglob("*"))
        if f.is_file() and f.name != MANIFEST and not any(part.startswith(".") for part in f.relative_to(dest).parts)
    ]


def write_manifest(dest: Path) -> Path:
    """DEST/MANIFEST.json: every file of the models folder with its sha256 and size."""
    files = {str(f.relative_to(dest)): {"sha256": sha256_of(f), "bytes": f.stat().st_size} for f in _files(dest)}
    target = dest / MANIFEST
    staging = dest / f".{MANIFEST}.new"
    staging.write_text(json.dumps({"files": files}, indent=1), encoding="utf-8")
    os.replace(staging, target)
    return target


def verify(dest: str | Path) -> list[str]:
    """What is wrong with a models folder, one line each (empty: every part is there and every file matches its sha256)."""
    dest = Path(dest).expanduser()
    if not dest.is_dir():
        return [f"{dest} is not a folder"]
    problems = [f"missing: {what}" for part, what in PARTS.items() if not (dest / part).exists()]
    manifest = dest / MANIFEST
    if not manifest.is_file():
        return problems + [f"no {MANIFEST}: the folder was not written by chatface models fetch, so its files cannot be checked"]
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError) as exc:
        return problems + [f"{MANIFEST} is unreadable ({exc})"]
    for name, want in files.items():
        f = dest / name
        if not f.is_file():
            problems.append(f"missing file: {name}")
        elif f.stat().st_size != want["bytes"] or sha256_of(f) != want["sha256"]:
            problems.append(f"changed: {name} (its sha256 is not the one fetched)")
    known = set(files)
    problems += [f"not in the manifest: {f.relative_to(dest)}" for f in _files(dest) if str(f.relative_to(dest)) not in known]
    return problems
