"""Smooth local image warps driven by landmark displacements.

A warp is a sum of compactly supported bumps: control point ``c`` moves by
``v`` and pulls its neighbourhood within radius ``R`` along with it. Outside
every radius the displacement is exactly zero, so those pixels are copied
unchanged. The same field moves the landmarks, so colour edits that follow a
warp paint where the features now are.
"""

from __future__ import annotations

import cv2
import numpy as np


class DisplacementField:
    """Backward displacement: output pixel p samples the source at p - d(p)."""

    def __init__(self, height: int, width: int) -> None:
        self.d = np.zeros((height, width, 2), np.float32)

    def add_bump(self, centre: np.ndarray, move: np.ndarray, radius: float) -> None:
        """Move the content at ``centre`` by ``move``, falling off to zero at ``radius``."""
        if radius <= 1 or not np.any(move):
            return
        h, w = self.d.shape[:2]
        dest = np.asarray(centre, np.float64) + np.asarray(move, np.float64)
        x0, x1 = int(max(0, np.floor(dest[0] - radius))), int(min(w, np.ceil(dest[0] + radius) + 1))
        y0, y1 = int(max(0, np.floor(dest[1] - radius))), int(min(h, np.ceil(dest[1] + radius) + 1))
        if x0 >= x1 or y0 >= y1:
            return
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        r2 = ((xs - dest[0]) ** 2 + (ys - dest[1]) ** 2) / (radius**2)
        wgt = np.clip(1.0 - r2, 0.0, None) ** 2
        self.d[y0:y1, x0:x1, 0] += wgt * float(move[0])
        self.d[y0:y1, x0:x1, 1] += wgt * float(move[1])

    def add_scale(self, centre: np.ndarray, k: float, radius: float, aspect: float = 1.0) -> None:
        """Magnify (``k`` > 0) or shrink (``k`` < 0) the content around ``centre``, by 1/(1-k) at the centre, falling
        off smoothly to nothing at ``radius`` (``aspect``: the vertical radius is ``radius * aspect``)."""
        if radius <= 1 or not k:
            return
        h, w = self.d.shape[:2]
        ry = radius * aspect
        x0, x1 = int(max(0, np.floor(centre[0] - radius))), int(min(w, np.ceil(centre[0] + radius) + 1))
        y0, y1 = int(max(0, np.floor(centre[1] - ry))), int(min(h, np.ceil(centre[1] + ry) + 1))
        if x0 >= x1 or y0 >= y1:
            return
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xs - float(centre[0]), ys - float(centre[1])
        r2 = (dx / radius) ** 2 + (dy / ry) ** 2
        wgt = np.clip(1.0 - r2, 0.0, None) ** 2
        self.d[y0:y1, x0:x1, 0] += k * wgt * dx
        self.d[y0:y1, x0:x1, 1] += k * wgt * dy

    def is_zero(self) -> bool:
        return not np.any(self.d)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Warp ``image`` (float32, same size); pixels with zero displacement are copied bit for bit."""
        h, w = self.d.shape[:2]
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        out = cv2.remap(image, xs - self.d[..., 0], ys - self.d[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        still = ~np.any(self.d != 0, axis=2)
        out[still] = image[still]
        return out

    def move_points(self, pts: np.ndarray) -> np.ndarray:
        """Where points of the source end up: the forward map found by a few fixed-point steps of the backward one
        (q + d(q) = p solved for q's image p), so a magnification moves points as far as it moves their pixels."""
        h, w = self.d.shape[:2]
        src = pts.astype(np.float64)
        out = src.copy()
        for _ in range(4):
            xi = np.clip(np.round(out[:, 0]).astype(int), 0, w - 1)
            yi = np.clip(np.round(out[:, 1]).astype(int), 0, h - 1)
            out = src + self.d[yi, xi]
        return out
