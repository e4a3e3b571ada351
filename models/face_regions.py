"""Region masks of a face from its 68 dlib landmarks: lips, eyes, irises, cheeks, skin, eyelids.

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


def inner_mouth(shape, lm: np.ndarray) -> np.ndarray:
    return _poly(shape, lm[INNER_LIPS])


def eyes(shape, lm: np.ndarray, u: float) -> np.ndarray:
    m = np.maximum(_poly(shape, lm[RIGHT_EYE]), _poly(shape, lm[LEFT_EYE]))
    return feather(m, 0.02 * u)


def iris_centres_and_radius(image: np.ndarray, lm: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Iris centre of each eye (the dark-weighted centroid inside the eye outline) and a radius."""
    out = []
    gray = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    for sl in (RIGHT_EYE, LEFT_EYE):
        pts = lm[sl]
        width = float(np.linalg.norm(pts[3] - pts[0]))
        m = _poly(gray.shape, pts)
        ys, xs = np.nonzero(m > 0.5)
        if len(xs) == 0:
            out.append((pts.mean(0), 0.22 * width))
            continue
        darkness = (1.0 - gray[ys, xs]) ** 4
        c = np.array([np.sum(xs * darkness), np.sum(ys * darkness)]) / max(float(darkness.sum()), 1e-6)
        out.append((c, 0.22 * width))
    return out


def irises(image: np.ndarray, lm: np.ndarray, u: float) -> np.ndarray:
    """Iris ring (iris disc inside the eye outline, pupil left out)."""
    shape = image.shape
    disc = np.zeros(shape[:2], np.float32)
    pupil = np.zeros(shape[:2], np.float32)
    for c, r in iris_centres_and_radius(image, lm):
        cv2.circle(disc, (int(round(c[0])), int(round(c[1]))), max(1, int(round(r))), 1.0, -1, cv2.LINE_AA)
        cv2.circle(pupil, (int(round(c[0])), int(round(c[1]))), max(1, int(round(0.38 * r))), 1.0, -1, cv2.LINE_AA)
    eye = np.maximum(_poly(shape, lm[RIGHT_EYE]), _poly(shape, lm[LEFT_EYE]))
    return feather(np.clip(disc - pupil, 0, 1) * eye, 0.015 * u)


def cheek_centres(lm: np.ndarray) -> list[np.ndarray]:
    right = (lm[2] + lm[31] + lm[41] + lm[3]) / 4.0
    left = (lm[14] + lm[35] + lm[46] + lm[13]) / 4.0
    return [right, left]


def cheeks(shape, lm: np.ndarray, u: float) -> np.ndarray:
    m = np.zeros(shape[:2], np.float32)
    for c in cheek_centres(lm):
        cv2.ellipse(m, (int(c[0]), int(c[1])), (int(0.32 * u), int(0.22 * u)), 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    return feather(m, 0.14 * u)


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


def eyelids(shape, lm: np.ndarray, u: float) -> np.ndarray:
    """Between the upper eyelid and the brow: where eyeshadow goes."""
    m = np.zeros(shape[:2], np.float32)
    for eye, brow in ((RIGHT_EYE, RIGHT_BROW), (LEFT_EYE, LEFT_BROW)):
        upper = lm[eye][0:4]
        b = lm[brow]
        lid_top = upper - np.array([0.0, 0.28 * u])
        lid_top[:, 1] = np.maximum(lid_top[:, 1], np.interp(lid_top[:, 0], b[:, 0], b[:, 1]) + 0.05 * u)
        pts = np.concatenate([upper, lid_top[::-1]])
        m = np.maximum(m, _poly(shape, pts))
    return feather(m, 0.06 * u)


def eye_band(shape, lm: np.ndarray, u: float) -> np.ndarray:
    """A box around both eyes (where glasses sit), used by the checks."""
    m = np.zeros(shape[:2], np.float32)
    x0, x1 = lm[0, 0], lm[16, 0]
    yc = (lm[RIGHT_EYE].mean(0)[1] + lm[LEFT_EYE].mean(0)[1]) / 2
    cv2.rectangle(m, (int(x0), int(yc - 0.45 * u)), (int(x1), int(yc + 0.45 * u)), 1.0, -1)
    return m
