"""The offline engine's shape edits: landmark-driven warps, as retouching software's liquify tools draw them.

Each edit adds its displacement to one field (``warps.DisplacementField``), so the photo is resampled once
however many shapes change, and the same field moves the landmarks that the colour edits then follow.

- **smile**: the mouth corners lifted (and drawn apart a little), the lower lip's middle lowered.
- **eyes**: each eye magnified (bigger) or shrunk (smaller) about its centre, fading out before the brow.
- **face width**: the cheeks and jaw pushed out (fuller) or in (slimmer) along the jaw line's normal, the
  chin left where it is.

Strengths are in [-1, 1]; 0 adds nothing, so the pixels stay bit for bit.
"""

from __future__ import annotations

import numpy as np

from ...faces import regions as fr
from .colour import knee, perceived
from .warps import DisplacementField

# how much of the jaw line's push each point takes (2..14: cheek to cheek; the chin, 8, barely moves)
JAW_PROFILE = {2: 0.45, 3: 0.8, 4: 1.0, 5: 1.0, 6: 0.75, 7: 0.4, 8: 0.1, 9: 0.4, 10: 0.75, 11: 1.0, 12: 1.0, 13: 0.8, 14: 0.45}


def smile(field: DisplacementField, lm: np.ndarray, u: float, s: float) -> None:
    if not s:
        return
    s = knee(s)  # the strong end eased: a full lift stretches closed lips into a smirk
    mouth_w = float(np.linalg.norm(lm[54] - lm[48]))
    lift = (0.16 if s > 0 else 0.12) * u * s
    for corner, side in ((48, -1.0), (54, 1.0)):
        field.add_bump(lm[corner], np.array([side * 0.05 * u * max(s, 0), -lift]), 0.45 * u)
    field.add_bump(lm[57], np.array([0.0, 0.03 * u * s]), 0.25 * mouth_w)


def eyes(field: DisplacementField, lm: np.ndarray, u: float, s: float) -> None:
    """Bigger (s > 0: up to 1.35x at the pupil) or smaller (s < 0: down to 0.85x) eyes."""
    if not s:
        return
    k = (0.26 if s > 0 else 0.18) * perceived(s)
    for sl in (fr.RIGHT_EYE, fr.LEFT_EYE):
        pts = lm[sl]
        width = float(np.linalg.norm(pts[3] - pts[0]))
        field.add_scale(pts.mean(0), k, 1.05 * width, aspect=0.8)


def face_width(field: DisplacementField, lm: np.ndarray, u: float, s: float) -> None:
    """A fuller (s > 0) or slimmer (s < 0) face: the jaw line moved along its outward normal by up to 0.09 of the
    eye distance per point (the neighbouring bumps overlap, so the outline moves about twice that)."""
    if not s:
        return
    centre = lm[fr.NOSE].mean(0)
    for i, weight in JAW_PROFILE.items():
        tangent = lm[i + 1] - lm[i - 1]
        normal = np.array([tangent[1], -tangent[0]]) / (np.linalg.norm(tangent) + 1e-9)
        if np.dot(normal, lm[i] - centre) < 0:
            normal = -normal
        field.add_bump(lm[i], normal * 0.09 * u * weight * perceived(s), 0.5 * u)


def reach(lm: np.ndarray, u: float, attribute: str) -> np.ndarray:
    """The points and margin within which ``attribute``'s warp can move a pixel: (x0, y0, x1, y1), unclipped."""
    if attribute == "smiling":
        pts, margin = lm[fr.OUTER_LIPS], 1.0 * u
    elif attribute == "big_eyes":
        pts, margin = np.concatenate([lm[fr.RIGHT_EYE], lm[fr.LEFT_EYE]]), 0.8 * u
    elif attribute == "chubby":
        pts, margin = lm[2:15], 0.6 * u
    else:
        raise ValueError(attribute)
    return np.concatenate([pts.min(0) - margin - 4, pts.max(0) + margin + 4])
