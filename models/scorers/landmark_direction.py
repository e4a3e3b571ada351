"""Offline direction scorer: a measured check per attribute, no network model.

For each attribute the offline engine renders, a measurement on the photo
before and after: mouth-corner lift (from landmarks found again on the edit)
for a smile, lip redness (Lab a*) for lipstick.
The change is normalised to a signed score about in [-1, 1] (tanh of the
change over a typical full-strength change), positive when it goes the
requested way. CLIP directional similarity replaces it with the diffusion
engine.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..base import DirectionScorer, Latent
from ..faces import regions as fr
from ..faces.detection import find_face, landmarks_in_box


def _lab(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _masked_mean(arr: np.ndarray, mask: np.ndarray):
    """Mask-weighted mean: a vector for (H, W, C) arrays, a float for (H, W)."""
    total = float(mask.sum())
    if arr.ndim == 2:
        return float((arr * mask).sum() / total) if total > 1e-6 else 0.0
    if total < 1e-6:
        return np.zeros(arr.shape[-1], np.float64)
    return (arr * mask[..., None]).reshape(-1, arr.shape[-1]).sum(0) / total


class LandmarkDirectionScorer(DirectionScorer):
    """Measured per-attribute direction on the source photo's face."""

    name = "landmark"

    # attribute -> typical change at full strength (the unit of the score)
    SCALES = {"smiling": 0.10, "lipstick": 14.0}

    def direction(self, image_a, image_b, text_a, text_b, attribute=None, strength_sign=1.0, face_hint: Latent | None = None) -> float:
        if attribute is None:
            raise ValueError("the offline direction scorer needs the attribute id")
        if face_hint is not None and "landmarks" in face_hint.arrays:
            lm = face_hint.arrays["landmarks"].astype(np.float64)
            box = tuple(face_hint.meta["box"])
        else:
            face = find_face(image_a)
            lm, box = face.landmarks, face.box
        change, key = self._measure(image_a, image_b, lm, box, attribute)
        sign = 1.0 if strength_sign >= 0 else -1.0
        return float(np.tanh(sign * change / self.SCALES[key]))

    def _measure(self, a, b, lm, box, attr) -> tuple[float, str]:
        u = fr.unit(lm)
        if attr == "smiling":
            lb = landmarks_in_box(b, box)
            la = landmarks_in_box(a, box)
            return (self._geometry(lb, attr) - self._geometry(la, attr)) / u, attr
        if attr == "lipstick":
            # measured on a window around the lips (the mask's feather is well inside it), so the cost does not
            # grow with the photo
            x0, y0 = np.maximum(np.floor(lm[fr.OUTER_LIPS].min(0) - 0.3 * u), 0).astype(int)
            x1, y1 = np.ceil(lm[fr.OUTER_LIPS].max(0) + 0.3 * u).astype(int) + 1
            a, b = a[y0:y1, x0:x1], b[y0:y1, x0:x1]
            m = fr.lips(a.shape, lm - [x0, y0], u)
            return float(_masked_mean(_lab(b), m)[1] - _masked_mean(_lab(a), m)[1]), attr
        raise ValueError(f"no offline measurement for {attr!r}")

    @staticmethod
    def _geometry(lm: np.ndarray, attr: str) -> float:
        if attr == "smiling":
            centre_y = (lm[51, 1] + lm[57, 1] + lm[62, 1] + lm[66, 1]) / 4
            return float(centre_y - (lm[48, 1] + lm[54, 1]) / 2)
        raise ValueError(attr)
