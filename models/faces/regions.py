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
    return feather(np.clip(m, 0, 1), 0.045 * u)


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


def _features(shape, lm: np.ndarray, u: float) -> np.ndarray:
    """The eyes (with their whites), the brows and the mouth: what a skin mask leaves out."""
    holes = np.zeros(shape[:2], np.float32)
    for sl in (RIGHT_EYE, LEFT_EYE):
        c = lm[sl].mean(0)
        holes = np.maximum(holes, _poly(shape, c + (lm[sl] - c) * 1.5))
    for sl in (RIGHT_BROW, LEFT_BROW):
        holes = np.maximum(holes, _poly(shape, np.concatenate([lm[sl] - [0, 0.06 * u], lm[sl][::-1] + [0, 0.06 * u]])))
    c = lm[OUTER_LIPS].mean(0)
    return np.maximum(holes, _poly(shape, c + (lm[OUTER_LIPS] - c) * 1.1))


def cheeks(image: np.ndarray, lm: np.ndarray, u: float) -> np.ndarray:
    """The apples of the cheeks: a soft ellipse each, about halfway between the nose's wing and the face's outline,
    a little above the nostrils, on facial skin only."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    m = np.zeros((h, w), np.float32)
    up = lm[RIGHT_EYE].mean(0) - lm[33]  # towards the eyes, whatever the head's tilt
    up = up / (np.linalg.norm(up) + 1e-9)
    for outline, wing in ((1, 31), (15, 35)):
        c = 0.45 * lm[outline] + 0.55 * lm[wing] + up * 0.06 * u
        m = np.maximum(m, np.exp(-(((xs - c[0]) / (0.24 * u)) ** 2 + ((ys - c[1]) / (0.18 * u)) ** 2) / 2))
    return m * np.clip(skin(image, lm, u) * 1.5, 0, 1)


def all_skin(image: np.ndarray, lm: np.ndarray, u: float) -> np.ndarray:
    """Every pixel of ``image`` (the face's region: face, ears, neck) coloured like the face's own skin, without
    the eyes, brows and mouth, fading to nothing over the outer sixth of the region so its border leaves no edge."""
    h, w = image.shape[:2]
    ycc = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_RGB2YCrCb).astype(np.float32)
    face = skin(image, lm, u) > 0.5
    if face.sum() < 50:
        return np.zeros((h, w), np.float32)
    med = np.median(ycc[face], axis=0)
    spread = np.percentile(np.abs(ycc[face][:, 1:] - med[1:]).sum(1), 90)
    d = np.abs(ycc[..., 1] - med[1]) + np.abs(ycc[..., 2] - med[2])
    gate = np.clip(1.0 - (d - spread - 4.0) / 10.0, 0, 1)
    lightness = np.clip((ycc[..., 0] - 0.35 * med[0]) / (0.15 * med[0] + 1), 0, 1)  # not the dark hair or shadows
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    edge = np.minimum(np.minimum(xs, w - 1 - xs) / w, np.minimum(ys, h - 1 - ys) / h)
    fade = np.clip(edge / (1 / 6), 0, 1)
    m = gate * lightness * fade * _near_the_face(image.shape, lm, u) * (1.0 - _features(image.shape, lm, u))
    return feather(m.astype(np.float32), 0.04 * u)


def _near_the_face(shape, lm: np.ndarray, u: float) -> np.ndarray:
    """Where the person's skin can be: an ellipse from the chin to well above the brows (a bald head's scalp, the
    ears) and the neck below the jaw, soft-edged; a wall or a tabletop of skin colour elsewhere is not."""
    jaw = lm[JAW]
    top = min(lm[RIGHT_BROW][:, 1].min(), lm[LEFT_BROW][:, 1].min()) - 1.6 * u
    bottom = jaw[:, 1].max()
    cx = float(jaw[:, 0].mean())
    half_w = 0.65 * float(jaw[:, 0].max() - jaw[:, 0].min()) + 0.1 * u
    m = np.zeros(shape[:2], np.float32)
    cv2.ellipse(
        m,
        (int(round(cx)), int(round((top + bottom) / 2))),
        (int(round(half_w)), int(round((bottom - top) / 2))),
        0,
        0,
        360,
        1.0,
        -1,
        lineType=cv2.LINE_AA,
    )
    h = shape[0]
    neck = np.array([jaw[4], jaw[12], [jaw[12][0] + 0.1 * u, h + u], [jaw[4][0] - 0.1 * u, h + u]])
    m = np.maximum(m, _poly(shape, neck))
    return feather(m, 0.3 * u)
