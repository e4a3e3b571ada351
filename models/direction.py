"""Offline direction scorer: a measured check per attribute, no network model.

For each attribute the offline engine can render, a measurement on the photo
before and after: mouth-corner lift for a smile, lip redness for lipstick,
skin lightness for a tan, edge energy around the eyes for glasses, and so on.
The change is normalised to a signed score about in [-1, 1] (tanh of the
change over a typical full-strength change), positive when it goes the
requested way. CLIP directional similarity replaces it with the diffusion
engine.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import face_regions as fr
from .base import DirectionScorer, Latent
from .faces import find_face, landmarks_in_box


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


def _eye_size(img: np.ndarray, lm: np.ndarray) -> float:
    """Square root of the count of eye pixels (darker than the surrounding skin) near both eyes."""
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    total = 0.0
    for sl in (fr.RIGHT_EYE, fr.LEFT_EYE):
        pts = lm[sl]
        c = pts.mean(0)
        w = float(np.linalg.norm(pts[3] - pts[0]))
        x0, x1 = int(max(0, c[0] - 0.9 * w)), int(min(g.shape[1], c[0] + 0.9 * w))
        y0, y1 = int(max(0, c[1] - 0.6 * w)), int(min(g.shape[0], c[1] + 0.6 * w))
        patch = g[y0:y1, x0:x1]
        if patch.size == 0:
            continue
        ref = float(np.percentile(patch, 75))
        total += float(np.sum(patch < ref - 35.0))
    return float(np.sqrt(total))


def _lab_distance_to(img: np.ndarray, mask: np.ndarray, rgb) -> float:
    target = cv2.cvtColor(np.array([[rgb]], np.float32) / 255.0, cv2.COLOR_RGB2Lab)[0, 0]
    mean = _masked_mean(_lab(img), mask)
    return float(np.linalg.norm(mean[1:] - target[1:]) + 0.5 * abs(mean[0] - target[0]))


def _edge_energy(img: np.ndarray, mask: np.ndarray) -> float:
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1)
    return float(_masked_mean(np.sqrt(gx**2 + gy**2), mask))


def _dark_spots(img: np.ndarray, mask: np.ndarray) -> float:
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    blur = cv2.GaussianBlur(g, (0, 0), 3.0)
    return float(_masked_mean(np.clip(blur - g, 0, None), mask))


class LandmarkDirectionScorer(DirectionScorer):
    """Measured per-attribute direction on the source photo's face."""

    name = "landmark"

    # attribute -> typical change at full strength (the unit of the score)
    SCALES = {
        "smiling": 0.10, "mouth_open": 0.12, "big_eyes": 0.2, "chubby": 0.10,
        "lipstick": 14.0, "rosy_cheeks": 4.0, "makeup": 6.0, "tanned": 10.0, "freckles": 1.0,
        "eyeglasses": 8.0, "sunglasses": 25.0, "eye_color": 12.0, "hair_color": 20.0,
    }

    def __init__(self) -> None:
        from .offline_engine import EYE_COLOURS, HAIR_COLOURS

        self.eye_colours = EYE_COLOURS
        self.hair_colours = HAIR_COLOURS

    def direction(self, image_a, image_b, text_a, text_b, attribute=None, strength_sign=1.0, face_hint: Latent | None = None) -> float:
        if attribute is None:
            raise ValueError("the offline direction scorer needs the attribute id")
        if face_hint is not None and "landmarks" in face_hint.arrays:
            lm = face_hint.arrays["landmarks"].astype(np.float64)
            box = tuple(face_hint.meta["box"])
            hair = face_hint.arrays.get("hair_mask")
            roi = face_hint.meta.get("roi")
        else:
            face = find_face(image_a)
            lm, box, hair, roi = face.landmarks, face.box, None, None
        change, key = self._measure(image_a, image_b, lm, box, attribute, hair, roi)
        sign = 1.0 if strength_sign >= 0 else -1.0
        return float(np.tanh(sign * change / self.SCALES[key]))

    def _measure(self, a, b, lm, box, attr, hair, roi) -> tuple[float, str]:
        u = fr.unit(lm)
        shape = a.shape
        if attr == "big_eyes":
            before = _eye_size(a, lm)
            return (_eye_size(b, lm) - before) / max(before, 1.0), attr
        if attr in ("smiling", "mouth_open", "chubby"):
            lb = landmarks_in_box(b, box)
            la = landmarks_in_box(a, box)
            return (self._geometry(lb, attr) - self._geometry(la, attr)) / u, attr
        if attr == "lipstick":
            m = fr.lips(shape, lm, u)
            return float(_masked_mean(_lab(b), m)[1] - _masked_mean(_lab(a), m)[1]), attr
        if attr == "rosy_cheeks":
            m = fr.cheeks(shape, lm, u)
            return float(_masked_mean(_lab(b), m)[1] - _masked_mean(_lab(a), m)[1]), attr
        if attr == "makeup":
            lids = fr.eyelids(shape, lm, u)
            lips = fr.lips(shape, lm, u)
            dark = _masked_mean(_lab(a), lids)[0] - _masked_mean(_lab(b), lids)[0]
            red = _masked_mean(_lab(b), lips)[1] - _masked_mean(_lab(a), lips)[1]
            return float(dark + red), attr
        if attr == "tanned":
            m = fr.skin(a, lm, u)
            return float(_masked_mean(_lab(a), m)[0] - _masked_mean(_lab(b), m)[0]), attr
        if attr == "freckles":
            m = fr.skin(a, lm, u)
            return _dark_spots(b, m) - _dark_spots(a, m), attr
        if attr == "eyeglasses":
            m = fr.eye_band(shape, lm, u) * (1 - fr.eyes(shape, lm, u))
            return _edge_energy(b, m) - _edge_energy(a, m), attr
        if attr == "sunglasses":
            m = fr.eyes(shape, lm, u)
            return float(_masked_mean(_lab(a), m)[0] - _masked_mean(_lab(b), m)[0]), attr
        if attr in self.eye_colours:
            m = fr.irises(a, lm, u)
            rgb = self.eye_colours[attr]
            return _lab_distance_to(a, m, rgb) - _lab_distance_to(b, m, rgb), "eye_color"
        if attr in self.hair_colours:
            if hair is None or roi is None:
                raise ValueError("hair colour needs the hair mask of the inversion")
            m = np.zeros(shape[:2], np.float32)
            x0, y0, x1, y1 = roi
            m[y0:y1, x0:x1] = hair.astype(np.float32) / 255.0
            rgb = self.hair_colours[attr]
            return _lab_distance_to(a, m, rgb) - _lab_distance_to(b, m, rgb), "hair_color"
        raise ValueError(f"no offline measurement for {attr!r}")

    @staticmethod
    def _geometry(lm: np.ndarray, attr: str) -> float:
        if attr == "smiling":
            centre_y = (lm[51, 1] + lm[57, 1] + lm[62, 1] + lm[66, 1]) / 4
            return float(centre_y - (lm[48, 1] + lm[54, 1]) / 2)
        if attr == "mouth_open":
            return float(np.mean(lm[[65, 66, 67], 1]) - np.mean(lm[[61, 62, 63], 1]))
        if attr == "chubby":
            return float(np.mean(lm[10:14, 0] - lm[3:7][::-1, 0]))
        raise ValueError(attr)
