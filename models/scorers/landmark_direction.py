"""Offline direction scorer: a measured check per attribute, no network model.

For each attribute the offline engine renders, a measurement on the photo
before and after. Shapes are measured by the pixels' motion (the optical flow
at the mouth's landmarks for a smile), on landmarks found again on the edit
(the jaw's width for face fullness), or by matching (the scale at which the
edit's eyes match the photo's). Colours are measured in Lab on the region they
paint: lip redness (a*) for lipstick, cheek redness for blush.
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
from .realism import matched_scale


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
    SCALES = {"smiling": 0.10, "lipstick": 14.0, "big_eyes": 0.05, "chubby": 0.06, "rosy_cheeks": 6.0}

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
            return self._mouth_lift(a, b, lm, u), attr
        if attr == "big_eyes":
            return self._eye_scale(a, b, lm, u) - 1.0, attr
        if attr == "chubby":
            la, lb = landmarks_in_box(a, box), landmarks_in_box(b, box)
            before = self._geometry(la, attr)
            return (self._geometry(lb, attr) - before) / max(before, 1e-6), attr
        if attr == "rosy_cheeks":
            reach = 0.9 * u
            x0, y0 = np.maximum(np.floor(lm.min(0) - reach), 0).astype(int)
            x1, y1 = np.ceil(lm.max(0) + reach).astype(int) + 1
            a, b = a[y0:y1, x0:x1].astype(np.float32), b[y0:y1, x0:x1].astype(np.float32)
            local = lm - [x0, y0]
            m = fr.cheeks(a, local, u)
            la, lb = _masked_mean(_lab(a), m), _masked_mean(_lab(b), m)
            return float(lb[1] - la[1]), attr
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
    def _mouth_lift(a: np.ndarray, b: np.ndarray, lm: np.ndarray, u: float) -> float:
        """How much more the mouth smiles in ``b`` than in ``a``, in face units: the lips' middle moved down against
        the corners, read off the optical flow (DIS) between the two mouths at the photo's landmarks. Landmarks found again on
        the edited mouth jump by a pixel or two, which made the score fall as a smile grew; the flow follows the pixels the edit moved."""
        x0, y0 = np.maximum(np.floor(lm[fr.OUTER_LIPS].min(0) - 0.7 * u), 0).astype(int)
        x1, y1 = np.ceil(lm[fr.OUTER_LIPS].max(0) + 0.7 * u).astype(int) + 1
        pa = cv2.cvtColor(np.ascontiguousarray(a[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
        pb = cv2.cvtColor(np.ascontiguousarray(b[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
        if pa.size == 0 or np.array_equal(pa, pb):
            return 0.0
        f = max(1.0, 96.0 / max(pa.shape))  # a small mouth is enlarged, so a pixel of lift spans several
        if f > 1.0:
            size = (round(pa.shape[1] * f), round(pa.shape[0] * f))
            pa, pb = cv2.resize(pa, size, interpolation=cv2.INTER_CUBIC), cv2.resize(pb, size, interpolation=cv2.INTER_CUBIC)
        # a(x) ~ b(x + flow(x)); OpenCV's stubs require the output flow, which calc allocates when given None
        flow = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(pa, pb, None)
        dy = cv2.GaussianBlur(flow[..., 1], (0, 0), max(1.0, 0.04 * u * f))

        def moved(i: int) -> float:
            x, y = (lm[i] - [x0, y0]) * f
            return float(dy[int(np.clip(round(y), 0, dy.shape[0] - 1)), int(np.clip(round(x), 0, dy.shape[1] - 1))]) / f

        centre = np.mean([moved(i) for i in (51, 57, 62, 66)])
        corners = np.mean([moved(i) for i in (48, 54)])
        return float(centre - corners) / u

    @staticmethod
    def _eye_scale(a: np.ndarray, b: np.ndarray, lm: np.ndarray, u: float) -> float:
        """How much larger the eyes are in ``b`` than in ``a``: the scale about each eye's centre at which ``b``'s eye
        best matches ``a``'s (normalised cross-correlation of the lightness, scales 0.8 to 1.4), averaged over both
        eyes. Landmarks found again on a small face move by a pixel or two, less than a subtle change of eye size;
        matching the whole eye patch sees it."""
        r = max(6, int(round(0.25 * u)))
        scales = np.linspace(0.8, 1.4, 61)
        found = []
        for sl in (fr.RIGHT_EYE, fr.LEFT_EYE):
            c = lm[sl].mean(0)
            x0, y0 = int(round(c[0])) - 2 * r, int(round(c[1])) - 2 * r
            if x0 < 0 or y0 < 0 or x0 + 4 * r >= a.shape[1] or y0 + 4 * r >= a.shape[0]:
                continue
            pa = cv2.cvtColor(np.ascontiguousarray(a[y0 : y0 + 4 * r, x0 : x0 + 4 * r]), cv2.COLOR_RGB2GRAY).astype(np.float32)
            pb = cv2.cvtColor(np.ascontiguousarray(b[y0 : y0 + 4 * r, x0 : x0 + 4 * r]), cv2.COLOR_RGB2GRAY).astype(np.float32)
            found.append(matched_scale(pa, pb, (float(c[0] - x0), float(c[1] - y0)), scales))
        return float(np.mean(found)) if found else 1.0

    @staticmethod
    def _geometry(lm: np.ndarray, attr: str) -> float:
        if attr == "chubby":  # the face's width at the cheeks and jaw over the eye distance
            return float(np.mean([np.linalg.norm(lm[i] - lm[16 - i]) for i in (3, 4, 5)]) / fr.unit(lm))
        raise ValueError(attr)
