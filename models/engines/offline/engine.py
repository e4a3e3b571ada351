"""The offline engine: real edits of real photos with no network and no GPU.

It keeps only the edits that pass for a photograph at strengths 0.3, 0.6 and 0.9 on real faces (issues 11
and 22), drawn as retouching software draws them: shapes are landmark-driven warps (``shape``: a smile,
bigger or smaller eyes, a fuller or slimmer face) and colours are Lab recolours that keep the texture
(``colour``: lipstick on or off, blush). What it once drew and did not pass (open mouth, glasses, makeup,
freckles, eye and hair colour, and a tan or paler skin: at 0.9 a blind grader saw a filter on 5 of 29 faces,
a face that no longer matched its neck, colour spilling onto a beard) stays withdrawn, and is reported so.

``invert`` finds the face (dlib) and its 68 landmarks once per photo. ``decode`` renders the source photo
plus the full cumulative edit state, inside the box the active edits can reach; pixels away from an edit
are copied bit for bit, and strength 0 returns the photo untouched.
"""

from __future__ import annotations

import numpy as np

from ....errors import WHY_WITHDRAWN, Why
from ...base import EditState, Generator, Latent, UnsupportedAttributeError
from ...faces import regions as fr
from ...faces.detection import face_meta, find_face
from ...images import photo_chroma
from . import colour, shape
from .warps import DisplacementField

# attribute -> (positive kept, negative kept): every one graded on contact sheets (benchmarks/bench_contact_sheet.py)
KEPT = {"smiling": (True, False), "lipstick": (True, True), "big_eyes": (True, True), "chubby": (True, True), "rosy_cheeks": (True, False)}
# Once drawn by this module, withdrawn: they did not pass for a photograph.
WITHDRAWN = frozenset(
    {
        "mouth_open",
        "eyeglasses",
        "sunglasses",
        "makeup",
        "freckles",
        "blue_eyes",
        "green_eyes",
        "brown_eyes",
        "black_hair",
        "blond_hair",
        "brown_hair",
        "red_hair",
        "gray_hair",
        "blue_hair",
        "pink_hair",
        "purple_hair",
        "green_hair",
        "tanned",
    }
)
WITHDRAWN_REASON = "the offline engine's version did not pass for a photograph, so it is withdrawn"
SHAPES = ("chubby", "big_eyes", "smiling")  # warped first, in one field; the colours then follow the moved features


class OfflineEngine(Generator):
    """Warps (smile, eyes, face width) and recolours (lipstick, blush, tan), rendered from the source photo every time."""

    name = "offline"

    def __init__(self, face_index: int = 0) -> None:
        self.face_index = face_index

    # -- what it can do -------------------------------------------------
    def supported_attributes(self) -> dict[str, tuple[bool, bool]]:
        """Only the edits that pass for a photograph (``KEPT``); the withdrawn ones are refused with their reason."""
        return dict(KEPT)

    def takes_colour(self, attribute: str) -> bool:
        """The lipstick is painted in any colour (a reference's); the blush keeps its rose."""
        return attribute == "lipstick"

    def colour_for(self, attribute: str, seen_rgb: tuple[int, int, int]) -> str:
        return colour.pigment(seen_rgb)

    def check_supported(self, edits: EditState) -> None:
        """As Generator.check_supported, but a withdrawn attribute says that it was withdrawn, and why."""
        try:
            super().check_supported(edits)
        except UnsupportedAttributeError as exc:
            raise UnsupportedAttributeError(
                {a: (Why(WITHDRAWN_REASON, WHY_WITHDRAWN) if a in WITHDRAWN else r) for a, r in exc.unsupported.items()}
            ) from None

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
            meta={"box": list(face.box), **face_meta(face), "roi": list(roi), "image_size": [w, h]},
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
        specs = self.active_edits(image, latent, edits)
        active = {a: float(s.strength) for a, s in specs.items()}
        if not active:
            return image.copy()
        x0, y0, x1, y1 = self._render_box(latent, active)
        img = image[y0:y1, x0:x1].astype(np.float32)
        lm = latent.arrays["landmarks"].astype(np.float64) - np.array([x0, y0])
        u = fr.unit(lm)

        field = DisplacementField(*img.shape[:2])
        shape.face_width(field, lm, u, active.get("chubby", 0.0))
        shape.eyes(field, lm, u, active.get("big_eyes", 0.0))
        shape.smile(field, lm, u, active.get("smiling", 0.0))
        if not field.is_zero():
            img, lm = field.apply(img), field.move_points(lm)
        if "rosy_cheeks" in active:
            img = colour.blush(img, lm, u, active["rosy_cheeks"])
        if "lipstick" in active:
            skin = self._skin_colour(image, latent, img, (x0, y0)) if active["lipstick"] < 0 else None
            rx0, ry0, rx1, ry1 = (int(v) for v in latent.meta["roi"])
            limit = photo_chroma(image[ry0:ry1, rx0:rx1]) * 1.12 + 5.0 if active["lipstick"] > 0 else None
            img = colour.lipstick(img, lm, u, active["lipstick"], skin, chroma_limit=limit, paint=specs["lipstick"].colour)

        out = image.copy()
        out[y0:y1, x0:x1] = np.clip(np.round(img), 0, 255).astype(np.uint8)
        return out

    @staticmethod
    def _render_box(latent: Latent, active: dict[str, float]) -> tuple[int, int, int, int]:
        """Where the active edits can change a pixel, inside the region of interest: the mouth for a smile and
        lipstick (the warp bumps' reach and the lips' feathering), the eyes, the jaw line, the cheeks. Everything outside
        is copied, so a render costs what the features' size costs."""
        rx0, ry0, rx1, ry1 = (int(v) for v in latent.meta["roi"])
        lm = latent.arrays["landmarks"].astype(np.float64)
        u = fr.unit(lm)
        boxes = []
        for attr in active:
            if attr in SHAPES:
                boxes.append(shape.reach(lm, u, attr))
            elif attr == "lipstick":
                boxes.append(shape.reach(lm, u, "smiling"))
            elif attr == "rosy_cheeks":
                pts = np.concatenate([lm[[1, 15, 31, 35]], lm[fr.RIGHT_EYE], lm[fr.LEFT_EYE]])
                boxes.append(np.concatenate([pts.min(0) - 0.7 * u, pts.max(0) + 0.7 * u]))
        b = np.array(boxes)
        return (
            int(max(rx0, np.floor(b[:, 0].min()))),
            int(max(ry0, np.floor(b[:, 1].min()))),
            int(min(rx1, np.ceil(b[:, 2].max()))),
            int(min(ry1, np.ceil(b[:, 3].max()))),
        )

    @staticmethod
    def _skin_colour(image: np.ndarray, latent: Latent, warped: np.ndarray, at: tuple[int, int]) -> np.ndarray:
        """The mean colour of the facial skin (what a lipstick's removal paints the lips with), measured on the whole
        region of interest as the other edits left it."""
        x0, y0, x1, y1 = latent.meta["roi"]
        roi = image[y0:y1, x0:x1].astype(np.float32)
        mx, my = at[0] - x0, at[1] - y0
        roi[my : my + warped.shape[0], mx : mx + warped.shape[1]] = warped
        lm = latent.arrays["landmarks"].astype(np.float64) - np.array([x0, y0])
        skin = fr.skin(roi, lm, fr.unit(lm))
        sel = skin > 0.5
        return roi[sel].mean(0) if sel.any() else roi.reshape(-1, 3).mean(0)
