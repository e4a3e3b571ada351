"""Content-addressed, checksummed blobs: images and latents.

A blob's key is the sha256 of its stored bytes, so identical content is stored
once and every read can be verified: a blob whose bytes no longer hash to its
key raises BlobCorruptedError instead of handing back damaged data.
Arrays are stored as compressed ``.npz`` (float32 latents as float16 where the
round trip is exact enough, chosen by the caller).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from ..errors import ChatfaceError
from .schema import Blob


class BlobCorruptedError(ChatfaceError):
    pass


class BlobMissingError(ChatfaceError):
    pass


@dataclass(frozen=True)
class BlobRecord:
    sha256: str
    kind: str
    codec: str
    dtype: str | None
    shape: list | None
    data: bytes


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_bytes(db: Session, data: bytes, kind: str, codec: str, dtype: str | None = None, shape: list | None = None) -> str:
    """Store ``data`` (idempotent) inside the caller's transaction; returns its key."""
    key = sha256(data)
    if db.get(Blob, key) is None:
        db.add(Blob(sha256=key, kind=kind, codec=codec, dtype=dtype, shape=shape, size=len(data), data=data))
        db.flush()
    return key


def get(db: Session, key: str) -> BlobRecord:
    row = db.get(Blob, key)
    if row is None:
        raise BlobMissingError(f"blob {key[:12]} is missing from the store")
    data = bytes(row.data)
    if sha256(data) != row.sha256 or len(data) != row.size:
        raise BlobCorruptedError(f"blob {key[:12]} ({row.kind}) failed its checksum: the stored data is damaged")
    return BlobRecord(row.sha256, row.kind, row.codec, row.dtype, row.shape, data)


def pack_arrays(arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    import json

    buf = io.BytesIO()
    named: dict[str, np.ndarray] = {"__meta__": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8), **arrays}
    np.savez_compressed(buf, **named)  # type: ignore[arg-type]  # numpy's stub types **kwds as its bool option
    return buf.getvalue()


def unpack_arrays(data: bytes) -> tuple[dict[str, np.ndarray], dict]:
    import json

    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "__meta__"}
        meta = json.loads(bytes(z["__meta__"]).decode()) if "__meta__" in z.files else {}
    return arrays, meta


def verify_all(db: Session) -> list[str]:
    """Keys of every blob that fails its checksum."""
    bad = []
    for key, data, size in db.query(Blob.sha256, Blob.data, Blob.size):
        if sha256(bytes(data)) != key or len(data) != size:
            bad.append(key)
    return bad
