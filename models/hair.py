"""Finding the hair region without a network model: GrabCut seeded by the landmarks.

The head region above and beside the face is "probably hair", the face
itself and the image border far from the head are background; GrabCut's
colour models settle the rest. Run once per photo at inversion time, at a
reduced size, and kept in the latent.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import face_regions as fr

WORK_SIDE = 256


def hair_mask(roi_image: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Hair probability mask (float32 0..1) of ``roi_image``; all zeros when none is found."""
    h, w = roi_image.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = cv2.resize(roi_image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
    sl = lm * scale
    u = fr.unit(sl)
    sh, sw = small.shape[:2]

    mask = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    face_w = sl[16, 0] - sl[0, 0]
    centre = np.array([(sl[0, 0] + sl[16, 0]) / 2, sl[17:27, 1].min()])
    # Head: an ellipse from above the crown to the jaw, a bit wider than the face.
    cv2.ellipse(mask, (int(centre[0]), int(centre[1] + 0.1 * face_w)), (int(0.85 * face_w), int(1.05 * face_w)), 0, 0, 360, cv2.GC_PR_BGD, -1)
    cv2.ellipse(mask, (int(centre[0]), int(centre[1] - 0.15 * face_w)), (int(0.7 * face_w), int(0.62 * face_w)), 0, 180, 360, cv2.GC_PR_FGD, -1)
    outline = fr.face_outline(sl, u)
    cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], cv2.GC_BGD)
    below = sl[8, 1]
    mask[int(min(sh - 1, below)) :, :] = cv2.GC_BGD
    if not np.any(mask == cv2.GC_PR_FGD):
        return np.zeros((h, w), np.float32)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(np.ascontiguousarray(small), mask, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return np.zeros((h, w), np.float32)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg)
    if n <= 1:
        return np.zeros((h, w), np.float32)
    # Keep the components that touch the band just above the brows (hair grows from there).
    band_y0 = int(max(0, centre[1] - 0.5 * u))
    band_y1 = int(max(1, centre[1]))
    band = labels[band_y0:band_y1, int(sl[0, 0]) : int(sl[16, 0]) + 1]
    keep = set(np.unique(band)) - {0}
    if not keep:
        keep = {int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) + 1}
    fg = np.isin(labels, list(keep)).astype(np.float32)
    face_area = max(1.0, face_w * (sl[8, 1] - centre[1]))
    if fg.sum() < 0.12 * face_area:
        return np.zeros((h, w), np.float32)
    big = cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR)
    return fr.feather(np.clip(big, 0, 1), 0.04 * fr.unit(lm))
