"""The offline engine: real edits of real photos with no network and no GPU.

It keeps only the edits that pass for a photograph at strengths 0.3, 0.6 and
0.9 on real faces (issue 11): a smile (a landmark-driven warp of the mouth
corners) and lipstick, on or off (a recolour of the lips in Lab that keeps
their texture). Everything else it once drew (open mouth, eye size, face
fullness, glasses, makeup, blush, tan, freckles, eye and hair colour) looked
drawn, so it is withdrawn and reported as needing the diffusion engine.

``invert`` finds the face (dlib) and its 68 landmarks once per photo.
``decode`` renders the source photo plus the full cumulative edit state, inside
a region around the face; pixels away from an edit are copied bit for bit, and
strength 0 returns the photo untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...base import EditState, Generator, Latent, UnsupportedAttributeError
from ...faces import regions as fr
from ...faces.detection import find_face
from .warps import DisplacementField

# Once drawn by this module, withdrawn (issue 11): they did not pass for a photograph.
WITHDRAWN = frozenset({"mouth_open", "big_eyes", "chubby", "eyeglasses", "sunglasses", "makeup", "rosy_cheeks", "tanned",
                       "freckles", "blue_eyes", "green_eyes", "brown_eyes", "black_hair", "blond_hair", "brown_hair",
                       "red_hair", "gray_hair", "blue_hair", "pink_hair", "purple_hair", "green_hair"})
WITHDRAWN_REASON = "it needs the diffusion engine: the offline version did not pass for a photograph"
LIPSTICK = (175, 22, 45)


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


class OfflineEngine(Generator):
    """A smile (a warp) and lipstick (a recolour), rendered from the source photo every time."""

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
    def invert(self, image: np.ndarray, face_index: int | None = None) -> Latent:
        face = find_face(image, self.face_index if face_index is None else face_index)
        h, w = image.shape[:2]
        size = face.size
        cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
        roi = (
            int(max(0, cx - 1.3 * size)),
            int(max(0, cy - 1.6 * size)),
            int(min(w, cx + 1.3 * size)),
            int(min(h, cy + 1.2 * size)),
        )
        return Latent(
            engine=self.name,
            arrays={"landmarks": face.landmarks.astype(np.float32)},
            meta={"box": list(face.box), "roi": list(roi), "image_size": [w, h]},
        )

    def edit_region(self, image: np.ndarray, latent: Latent) -> np.ndarray:
        """Every edit of this engine stays inside the face's region of interest (face, hair, neck)."""
        x0, y0, x1, y1 = latent.meta["roi"]
        mask = np.zeros(image.shape[:2], bool)
        mask[y0:y1, x0:x1] = True
        return mask

    def edit_box(self, image: np.ndarray, latent: Latent) -> tuple[int, int, int, int] | None:
        x0, y0, x1, y1 = (int(v) for v in latent.meta["roi"])
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    # -- decoding ---------------------------------------------------------
    def decode(self, image: np.ndarray, latent: Latent, edits: EditState) -> np.ndarray:
        active = {a: float(s.strength) for a, s in self.active_edits(image, latent, edits).items()}
        if not active:
            return image.copy()
        x0, y0, x1, y1 = self._mouth_box(latent)
        img = image[y0:y1, x0:x1].astype(np.float32)
        lm = latent.arrays["landmarks"].astype(np.float64) - np.array([x0, y0])
        u = fr.unit(lm)

        img, lm = self._smile(img, lm, u, active.get("smiling", 0.0))
        if "lipstick" in active:
            skin = self._skin_colour(image, latent, img, (x0, y0)) if active["lipstick"] < 0 else None
            img = self._lipstick(img, lm, u, active["lipstick"], skin)

        out = image.copy()
        out[y0:y1, x0:x1] = np.clip(np.round(img), 0, 255).astype(np.uint8)
        return out

    @staticmethod
    def _mouth_box(latent: Latent) -> tuple[int, int, int, int]:
        """Where this engine's edits can change a pixel: the mouth, the reach of the smile's warp bumps (radius
        0.45 of the eye distance, moved by up to 0.16 of it) and the lips' feathering, inside the region of interest.
        Everything outside is copied, so a render costs what the mouth's size costs, not the photo's."""
        rx0, ry0, rx1, ry1 = latent.meta["roi"]
        lm = latent.arrays["landmarks"].astype(np.float64)
        margin = 1.0 * fr.unit(lm) + 4
        mouth = lm[48:68]
        return (int(max(rx0, np.floor(mouth[:, 0].min() - margin))), int(max(ry0, np.floor(mouth[:, 1].min() - margin))),
                int(min(rx1, np.ceil(mouth[:, 0].max() + margin))), int(min(ry1, np.ceil(mouth[:, 1].max() + margin))))

    @staticmethod
    def _skin_colour(image: np.ndarray, latent: Latent, warped_mouth: np.ndarray, at: tuple[int, int]) -> np.ndarray:
        """The mean colour of the facial skin (what a lipstick's removal paints the lips with), measured on the whole
        region of interest as the warp left it."""
        x0, y0, x1, y1 = latent.meta["roi"]
        roi = image[y0:y1, x0:x1].astype(np.float32)
        mx, my = at[0] - x0, at[1] - y0
        roi[my:my + warped_mouth.shape[0], mx:mx + warped_mouth.shape[1]] = warped_mouth
        lm = latent.arrays["landmarks"].astype(np.float64) - np.array([x0, y0])
        skin = fr.skin(roi, lm, fr.unit(lm))
        sel = skin > 0.5
        return roi[sel].mean(0) if sel.any() else roi.reshape(-1, 3).mean(0)

    # -- the smile: a warp of the mouth corners ----------------------------
    @staticmethod
    def _smile(img, lm, u, s):
        if not s:
            return img, lm
        field = DisplacementField(*img.shape[:2])
        mouth_w = np.linalg.norm(lm[54] - lm[48])
        lift = (0.16 if s > 0 else 0.12) * u * s
        for corner, side in ((48, -1.0), (54, 1.0)):
            field.add_bump(lm[corner], np.array([side * 0.05 * u * max(s, 0), -lift]), 0.45 * u)
        field.add_bump(lm[57], np.array([0.0, 0.03 * u * s]), 0.25 * mouth_w)
        return field.apply(img), field.move_points(lm)

    # -- lipstick: the lips recoloured in Lab, their texture kept -----------
    @staticmethod
    def _lipstick(img, lm, u, s, skin_rgb=None):
        lips = fr.lips(img.shape, lm, u)
        if s > 0:
            return _recolour(img, lips, LIPSTICK, 0.8, 0.35, s)
        return _recolour(img, lips, tuple(skin_rgb * 0.9), 0.6, 0.2, -s)
