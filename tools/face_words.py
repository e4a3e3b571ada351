"""Which face of a photo an edit works on, in words: "the largest of 6 faces, on the left".

Engines record every face's box (largest first) and the index of the one they edit when they invert a photo;
this module says that to people, so a photo with several faces never gets an edit of a face nobody named.
"""

from __future__ import annotations

ORDINALS = ("largest", "2nd largest", "3rd largest")


def _rank(index: int) -> str:
    return ORDINALS[index] if index < len(ORDINALS) else f"{index + 1}th largest"


def _where(box: list[int], width: int) -> str:
    centre = (box[0] + box[2]) / 2 / max(width, 1)
    return "on the left" if centre < 0.36 else "on the right" if centre > 0.64 else "in the middle"


def which_face(meta: dict) -> str | None:
    """ "the largest of 6 faces, on the left" for an inversion of a photo with several faces; None for one face (or an
    inversion made before faces were recorded)."""
    faces = meta.get("faces") or []
    if len(faces) < 2:
        return None
    index = int(meta.get("face_index", 0))
    width = int((meta.get("image_size") or [0])[0]) or max(b[2] for b in faces)
    return f"the {_rank(index)} of {len(faces)} faces, {_where(faces[index], width)}"


def faces_listed(meta: dict) -> list[str]:
    """Each face of the photo as "0: the largest, on the left", in the order --face-index counts."""
    faces = meta.get("faces") or []
    width = int((meta.get("image_size") or [0])[0]) or max((b[2] for b in faces), default=1)
    return [f"{i}: the {_rank(i)}, {_where(b, width)}" for i, b in enumerate(faces)]
