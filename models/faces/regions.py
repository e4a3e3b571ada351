"""Region masks of a face from its 68 dlib landmarks: the lips and the facial skin.

Both the offline engine (where to paint) and the offline direction scorer
(where to measure) use these, so an edit and its check look at the same
pixels. Masks are float32 in [0, 1] with the shape given by the caller;
coordinates are in that array's frame.
"""

from __future__ import annotations

import cv2
import numpy as np

JAW = slice(0, 17)
RIGHT_BROW = slice(17, 22)  # the person's right: image left
LEFT_BROW = slice(22, 27)
NOSE = slice(27, 36)
RIGHT_EYE = slice(36, 42)
LEFT_EYE = slice(42, 48)
OUTER_LIPS = slice(48, 60)
INNER_LIPS = slice(60, 68)


def unit(lm: np.ndarray) -> float:
    """The face's length unit: the distance between the eye centres."""
    return float(np.linalg.norm(lm[RIGHT_EYE].mean(0) - lm[LEFT_EYE].mean(0)))


def _poly(shape, pts, value=1.0) -> np.ndarray:
    m = np.zeros(shape[:2], np.float32)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], value, lineType=cv2.LINE_AA)
    return m


def feather(mask: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0.3:
        return mask
    k = int(2 * round(3 * sigma) + 1)
    return cv2.GaussianBlur(mask, (k, k), sigma)


def lips(shape, lm: np.ndarray, u: float) -> np.ndarray:
    m = _poly(shape, lm[OUTER_LIPS]) - _poly(shape, lm[INNER_LIPS])
    return feather(np.clip(m, 0, 1), 0.03 * u)


def forehead_line(lm: np.ndarray, u: float) -> np.ndarray:
    brows = np.concatenate([lm[RIGHT_BROW], lm[LEFT_BROW]])
    return brows - np.array([0.0, 0.45 * u])


def face_outline(lm: np.ndarray, u: float) -> np.ndarray:
    """Jaw line and a forehead line above the brows: the closed outline of the face."""
    return np.concatenate([lm[JAW], forehead_line(lm, u)[::-1]])


def skin(image: np.ndarray, lm: np.ndarray, u: float) -> np.ndarray:
    """Facial skin: inside the face outline, without eyes, brows and mouth, gated by skin colour."""
    shape = image.shape
    m = _poly(shape, face_outline(lm, u))
    holes = np.zeros(shape[:2], np.float32)
    for sl in (RIGHT_EYE, LEFT_EYE):
        c = lm[sl].mean(0)
        pts = c + (lm[sl] - c) * 1.5
        holes = np.maximum(holes, _poly(shape, pts))
    for sl in (RIGHT_BROW, LEFT_BROW):
        pts = np.concatenate([lm[sl] - [0, 0.06 * u], lm[sl][::-1] + [0, 0.06 * u]])
        holes = np.maximum(holes, _poly(shape, pts))
    c = lm[OUTER_LIPS].mean(0)
    holes = np.maximum(holes, _poly(shape, c + (lm[OUTER_LIPS] - c) * 1.1))
    m = np.clip(m - holes, 0, 1)
    ycc = cv2.cvtColor(image.astype(np.uint8), cv2.COLOR_RGB2YCrCb).astype(np.float32)
    sel = m > 0.5
    if sel.sum() > 50:
        med = np.median(ycc[sel], axis=0)
        d = np.abs(ycc[..., 1] - med[1]) + np.abs(ycc[..., 2] - med[2])
        gate = np.clip(1.0 - (d - 12.0) / 14.0, 0, 1)
        m = m * gate
    return feather(m, 0.05 * u)
