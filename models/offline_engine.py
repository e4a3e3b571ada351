"""The offline engine: real edits of real photos with no network and no GPU.

``invert`` finds the face (dlib), its 68 landmarks and a hair region, once per
photo. ``decode`` renders the source photo plus the full cumulative edit state:
landmark-driven warps (smile, open mouth, eye size, face fullness), then region
colour (skin tone, makeup, lipstick, blush, freckles, eye and hair colour),
then accessories drawn on top (eyeglasses, sunglasses). Everything is computed
inside a region around the face; pixels away from an edit are copied bit for
bit, and strength 0 returns the photo untouched.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from . import face_regions as fr
from .base import EditState, Generator, Latent, NoFaceError, UnsupportedAttributeError
from .faces import find_face
from .hair import hair_mask
from .warps import DisplacementField

HAIR_COLOURS = {
    "black_hair": (28, 22, 22),
    "blond_hair": (222, 186, 120),
    "brown_hair": (105, 66, 38),
    "red_hair": (168, 58, 30),
    "gray_hair": (188, 188, 190),
    "blue_hair": (40, 85, 205),
    "pink_hair": (236, 122, 172),
    "purple_hair": (118, 52, 160),
    "green_hair": (40, 150, 72),
}
EYE_COLOURS = {"blue_eyes": (70, 130, 215), "green_eyes": (70, 155, 90), "brown_eyes": (105, 62, 30)}
# Drawn by this module but withdrawn (issue 11): they did not pass for a photograph.
WITHDRAWN = frozenset({"mouth_open", "big_eyes", "chubby", "eyeglasses", "sunglasses", "makeup",
                       "rosy_cheeks", "tanned", "freckles", *EYE_COLOURS, *HAIR_COLOURS})
WITHDRAWN_REASON = "needs the diffusion engine (the offline engine's version does not pass for a photograph)"
LIPSTICK = (175, 22, 45)
BLUSH = (230, 95, 115)
EYESHADOW = (120, 70, 95)
FRAME = (28, 26, 30)


def _lab(rgb_f: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(rgb_f, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _rgb(lab: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB) * 255.0


def _target_lab(rgb) -> np.ndarray:
    return _lab(np.array([[rgb]], np.float32))[0, 0]


def _blend(img: np.ndarray, new: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    return img * (1.0 - a) + new * a


def _recolour(img: np.ndarray, mask: np.ndarray, target_rgb, chroma: float, light: float, strength: float) -> np.ndarray:
    """Move the region's colour toward ``target_rgb``: chroma (a, b) and mean lightness, keeping texture."""
    alpha = np.clip(mask * strength, 0, 1)
    if not np.any(alpha):
        return img
    lab = _lab(img)
    t = _target_lab(target_rgb)
    sel = mask > 0.3
    mean_l = float(lab[..., 0][sel].mean()) if sel.any() else float(lab[..., 0].mean())
    new = lab.copy()
    new[..., 0] = lab[..., 0] + (t[0] - mean_l) * light
    new[..., 1] = lab[..., 1] + (t[1] - lab[..., 1]) * chroma
    new[..., 2] = lab[..., 2] + (t[2] - lab[..., 2]) * chroma
    new[..., 0] = np.clip(new[..., 0], 0, 100)
    return _blend(img, _rgb(new), alpha)


def _upper_shifted(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The inner-lip outline as it was before the jaw dropped, with the upper lip where it is now."""
    pts = old.copy()
    pts[60:65] = new[60:65]
    return pts


class OfflineEngine(Generator):
    """Landmark warps and region colour, rendered from the source photo every time."""

    name = "offline"

    def __init__(self, face_index: int = 0) -> None:
        self.face_index = face_index

    # -- what it can do -------------------------------------------------
    def supported_attributes(self) -> dict[str, tuple[bool, bool]]:
        """Only the edits that pass for a photograph (issue 11): a smile and lipstick.

        The other edits this module can draw (mouth_open, big_eyes, chubby, glasses, makeup, blush,
        tan, freckles, eye and hair colour) were graded as not looking like a real photograph, so
        they are withdrawn and reported as needing the diffusion engine, never drawn badly.
        """
        return {"smiling": (True, False), "lipstick": (True, True)}

    def check_supported(self, edits: EditState) -> None:
        """As Generator.check_supported, but a withdrawn attribute says it needs the diffusion engine."""
        try:
            super().check_supported(edits)
        except UnsupportedAttributeError as exc:
            raise UnsupportedAttributeError({a: (WITHDRAWN_REASON if a in WITHDRAWN else r) for a, r in exc.unsupported.items()}) from None

    # -- inversion --------------------------------------------------------
    def invert(self, image: np.ndarray) -> Latent:
        face = find_face(image, self.face_index)
        h, w = image.shape[:2]
        size = face.size
        cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
        roi = (
            int(max(0, cx - 1.3 * size)),
            int(max(0, cy - 1.6 * size)),
            int(min(w, cx + 1.3 * size)),
            int(min(h, cy + 1.2 * size)),
        )
        x0, y0, x1, y1 = roi
        lm = face.landmarks - np.array([x0, y0])
        hair = hair_mask(image[y0:y1, x0:x1], lm)
        return Latent(
            engine=self.name,
            arrays={"landmarks": face.landmarks.astype(np.float32), "hair_mask": (hair * 255).astype(np.uint8)},
            meta={"box": list(face.box), "roi": list(roi), "image_size": [w, h], "hair_found": bool(hair.max() > 0.5)},
        )

    def edit_region(self, image: np.ndarray, latent: Latent) -> np.ndarray:
        """Every edit of this engine stays inside the face's region of interest (face, hair, neck)."""
        x0, y0, x1, y1 = latent.meta["roi"]
        mask = np.zeros(image.shape[:2], bool)
        mask[y0:y1, x0:x1] = True
        return mask

    # -- decoding ---------------------------------------------------------
    def decode(self, image: np.ndarray, latent: Latent, edits: EditState) -> np.ndarray:
        self.check_supported(edits)
        active = {a: float(s.strength) for a, s in edits.items() if s.strength != 0}
        if not active:
            return image.copy()
        if latent.meta.get("image_size") != [image.shape[1], image.shape[0]]:
            raise NoFaceError("the latent was computed for a different photo")
        hair_wanted = [a for a in active if a in HAIR_COLOURS]
        if hair_wanted and not latent.meta.get("hair_found"):
            raise UnsupportedAttributeError({a: "no hair region could be found in this photo" for a in hair_wanted})

        x0, y0, x1, y1 = latent.meta["roi"]
        img = image[y0:y1, x0:x1].astype(np.float32)
        lm = latent.arrays["landmarks"].astype(np.float64) - np.array([x0, y0])
        u = fr.unit(lm)
        hair = latent.arrays["hair_mask"].astype(np.float32) / 255.0

        img, lm = self._warp(img, lm, u, active)
        for attr, op in self._colour_ops():
            if attr in active:
                img = op(img, lm, u, active[attr], hair)
        for attr in HAIR_COLOURS:
            if attr in active and active[attr] > 0:
                img = _recolour(img, hair, HAIR_COLOURS[attr], 0.85, 0.75, active[attr])
        for attr in EYE_COLOURS:
            if attr in active and active[attr] > 0:
                img = _recolour(img, fr.irises(img, lm, u), EYE_COLOURS[attr], 0.9, 0.25, min(1.0, 1.2 * active[attr]))
        if "sunglasses" in active:
            img = self._glasses(img, lm, u, active["sunglasses"], dark_lenses=True)
        if "eyeglasses" in active:
            img = self._glasses(img, lm, u, active["eyeglasses"], dark_lenses=False)

        out = image.copy()
        out[y0:y1, x0:x1] = np.clip(np.round(img), 0, 255).astype(np.uint8)
        return out

    # -- warps ------------------------------------------------------------
    def _warp(self, img, lm, u, active):
        field = DisplacementField(*img.shape[:2])
        s = active.get("smiling", 0.0)
        if s:
            mouth_w = np.linalg.norm(lm[54] - lm[48])
            lift = (0.16 if s > 0 else 0.12) * u * s
            for corner, side in ((48, -1.0), (54, 1.0)):
                field.add_bump(lm[corner], np.array([side * 0.05 * u * max(s, 0), -lift]), 0.45 * u)
            field.add_bump(lm[57], np.array([0.0, 0.03 * u * s]), 0.25 * mouth_w)
        s = active.get("mouth_open", 0.0)
        if s > 0:
            drop = 0.28 * u * s
            for i in (56, 57, 58, 65, 66, 67):
                field.add_bump(lm[i], np.array([0.0, drop / 6 * 2.0]), 0.5 * u)
            field.add_bump(lm[8], np.array([0.0, 0.5 * drop]), 0.7 * u)
        elif s < 0:
            for lo, hi in ((66, 62), (65, 63), (67, 61)):
                gap = lm[hi] - lm[lo]
                field.add_bump(lm[lo], gap * (-s) * 0.9, 0.35 * u)
        s = active.get("big_eyes", 0.0)
        if s:
            for sl in (fr.RIGHT_EYE, fr.LEFT_EYE):
                c = lm[sl].mean(0)
                width = np.linalg.norm(lm[sl][3] - lm[sl][0])
                field.add_radial(c, 0.9 * width, 0.28 * s)
        s = active.get("chubby", 0.0)
        if s:
            centre_x = lm[30, 0]
            for i in range(2, 15):
                out_dir = np.sign(lm[i, 0] - centre_x) if i != 8 else 0.0
                weight = 1.0 - abs(i - 8) / 8.0 * 0.3
                move = np.array([out_dir * 0.12 * u * s * weight, 0.04 * u * s * (1.0 if 5 <= i <= 11 else 0.0)])
                field.add_bump(lm[i], move, 0.55 * u)
        if field.is_zero():
            return img, lm
        warped = field.apply(img)
        new_lm = field.move_points(lm)
        if active.get("mouth_open", 0.0) > 0:
            # Only the newly opened gap is darkened; the mouth's own inside (teeth) is kept.
            gap = np.clip(fr.inner_mouth(img.shape, new_lm) - fr.inner_mouth(img.shape, _upper_shifted(lm, new_lm)), 0, 1)
            gap = fr.feather(gap, 0.02 * u) * min(1.0, 1.5 * active["mouth_open"])
            dark = np.zeros_like(warped)
            dark[...] = (45, 18, 20)
            warped = _blend(warped, dark, gap * 0.85)
        return warped, new_lm

    # -- colour -----------------------------------------------------------
    def _colour_ops(self) -> list[tuple[str, Callable]]:
        return [
            ("tanned", self._tan),
            ("freckles", self._freckles),
            ("makeup", self._makeup),
            ("rosy_cheeks", self._blush),
            ("lipstick", self._lipstick),
        ]

    @staticmethod
    def _tan(img, lm, u, s, hair):
        mask = fr.skin(img, lm, u)
        if s > 0:
            new = img * np.array([0.86, 0.74, 0.62], np.float32)
            return _blend(img, new, mask * s)
        lab = _lab(img)
        lab[..., 0] = lab[..., 0] + (100 - lab[..., 0]) * 0.35
        lab[..., 1:] *= 0.55
        return _blend(img, _rgb(lab), mask * (-s))

    @staticmethod
    def _freckles(img, lm, u, s, hair):
        mask = fr.skin(img, lm, u)
        if s < 0:
            smooth = cv2.bilateralFilter(img.astype(np.float32), 9, 30, max(3.0, 0.08 * u))
            return _blend(img, smooth, mask * (-s))
        # Fixed, deterministic spots on nose and cheeks; more of them appear as strength grows.
        rng = np.random.default_rng(20230524)
        centre = (lm[30] + lm[29]) / 2
        n = 260
        pts = centre + rng.normal(0, 1, (n, 2)) * np.array([0.75 * u, 0.32 * u])
        thresholds = rng.uniform(0, 1, n)
        radii = rng.uniform(0.008, 0.018, n) * u
        dots = np.zeros(img.shape[:2], np.float32)
        for p, t, r in zip(pts, thresholds, radii):
            if t < s:
                cv2.circle(dots, (int(p[0]), int(p[1])), max(1, int(round(r))), float(min(1.0, (s - t) * 4 + 0.4)), -1, cv2.LINE_AA)
        dots = fr.feather(dots, 0.006 * u + 0.5) * mask
        new = img * np.array([0.78, 0.66, 0.58], np.float32)
        return _blend(img, new, np.clip(dots * 0.55, 0, 1))

    @staticmethod
    def _makeup(img, lm, u, s, hair):
        if s > 0:
            lids = fr.eyelids(img.shape, lm, u)
            img = _recolour(img, lids, EYESHADOW, 0.55, 0.25, 0.9 * s)
            liner = np.zeros(img.shape[:2], np.float32)
            for sl in (fr.RIGHT_EYE, fr.LEFT_EYE):
                pts = np.round(lm[sl][0:4]).astype(np.int32)
                cv2.polylines(liner, [pts], False, 1.0, max(1, int(0.035 * u)), cv2.LINE_AA)
            img = _blend(img, np.full_like(img, 20.0), fr.feather(liner, 0.01 * u) * 0.8 * s)
            lips = fr.lips(img.shape, lm, u)
            img = _recolour(img, lips, (190, 70, 85), 0.45, 0.0, 0.7 * s)
            skin = fr.skin(img, lm, u)
            smooth = cv2.bilateralFilter(img.astype(np.float32), 9, 25, max(3.0, 0.06 * u))
            return _blend(img, smooth, skin * 0.6 * s)
        # towards a bare face: lips and lids lose their colour to the skin's
        skin = fr.skin(img, lm, u)
        sel = skin > 0.5
        skin_rgb = img[sel].mean(0) if sel.any() else img.reshape(-1, 3).mean(0)
        region = np.maximum(fr.lips(img.shape, lm, u), fr.eyelids(img.shape, lm, u))
        return _recolour(img, region, tuple(skin_rgb), 0.6, 0.0, -s)

    @staticmethod
    def _blush(img, lm, u, s, hair):
        mask = fr.cheeks(img.shape, lm, u) * fr.skin(img, lm, u).clip(0.0, 1.0) ** 0.5
        return _recolour(img, mask, BLUSH, 0.45, 0.0, min(1.0, 0.9 * s))

    @staticmethod
    def _lipstick(img, lm, u, s, hair):
        lips = fr.lips(img.shape, lm, u)
        if s > 0:
            return _recolour(img, lips, LIPSTICK, 0.8, 0.35, s)
        skin = fr.skin(img, lm, u)
        sel = skin > 0.5
        skin_rgb = img[sel].mean(0) if sel.any() else img.reshape(-1, 3).mean(0)
        return _recolour(img, lips, tuple(skin_rgb * 0.9), 0.6, 0.2, -s)

    # -- accessories ------------------------------------------------------
    @staticmethod
    def _glasses(img, lm, u, s, dark_lenses: bool):
        s = max(0.0, s)
        layer = np.zeros(img.shape[:2], np.float32)
        lens = np.zeros(img.shape[:2], np.float32)
        thick = max(1, int(round(u * (0.035 + 0.05 * s))))
        sub = 4  # sub-pixel precision for cv2 drawing
        centres = []
        for sl in (fr.RIGHT_EYE, fr.LEFT_EYE):
            pts = lm[sl]
            c = pts.mean(0) + np.array([0.0, 0.05 * u])
            width = np.linalg.norm(pts[3] - pts[0])
            axes = (int(width * 0.95 * 2**sub), int(width * (0.72 if dark_lenses else 0.62) * 2**sub))
            cc = (int(c[0] * 2**sub), int(c[1] * 2**sub))
            cv2.ellipse(layer, cc, axes, 0, 0, 360, 1.0, thick, cv2.LINE_AA, sub)
            cv2.ellipse(lens, cc, axes, 0, 0, 360, 1.0, -1, cv2.LINE_AA, sub)
            centres.append((c, width))
        (cr, wr), (cl, wl) = centres
        bridge_y = lm[27, 1] + 0.02 * u
        p1 = (cr[0] + wr * 0.95, bridge_y)
        p2 = (cl[0] - wl * 0.95, bridge_y)
        cv2.line(layer, (int(p1[0] * 16), int(p1[1] * 16)), (int(p2[0] * 16), int(p2[1] * 16)), 1.0, thick, cv2.LINE_AA, 4)
        for c, wd, side, edge in ((cr, wr, -1, lm[0]), (cl, wl, 1, lm[16])):
            a = (c[0] + side * wd * 0.95, c[1] - 0.1 * u)
            b = (edge[0] - side * 0.05 * u, edge[1] - 0.1 * u)
            cv2.line(layer, (int(a[0] * 16), int(a[1] * 16)), (int(b[0] * 16), int(b[1] * 16)), 1.0, thick, cv2.LINE_AA, 4)
        opacity = min(1.0, 2.5 * s)
        if dark_lenses:
            tint = img * 0.12 + np.array([8.0, 8.0, 10.0], np.float32)
            img = _blend(img, tint, lens * min(0.92, 1.6 * s))
        else:
            shine = img * 0.93 + 255.0 * 0.07
            img = _blend(img, shine, lens * 0.5 * min(1.0, 2.5 * s))
        frame = np.zeros_like(img)
        frame[...] = FRAME
        return _blend(img, frame, layer * opacity)
