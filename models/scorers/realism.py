"""Does an edit still look like a photograph? Four measurements on the pixels.

Identity and direction scores pass on a cartoon: a neon disc on the iris is
"blue eyes" and the same person. This scorer compares the edited image with
the source photo, only where the edit changed something, and looks for the
artefacts that gave earlier edits away:

- **seam**: a hard border that the photo did not have, as a pasted patch or a
  hard-edged colour mask leaves. Measured as the share of the change's rim
  (where it fades out) that drops within a pixel or two on smooth skin.
- **texture**: skin and hair texture lost (a flat fill) or added (dots, noise).
  Measured as the ratio of fine-detail energy (Laplacian of the lightness)
  edited / source inside the changed area.
- **gamut**: colours that the photo's own face region never had (neon).
  Measured as the share of changed pixels whose chroma lies well beyond the
  region's own 99.5th percentile.
- **visible**: a change too weak to see. Measured as the mean colour
  difference (CIE76 delta E) of the most-changed 0.5 % of the face region.

The measurements are made at a working resolution: when the caller gives the
face's size, a face larger than WORK_FACE pixels is shrunk to it first (area
averaging), the scale of the faces the limits were calibrated on; and a region
is never measured larger than WORK_SIDE. So a face in a 24-megapixel photo is
judged as fast as, and by the same pixel-scale limits as, the same face in a
small crop of it.

Every measurement is reported with its limit, so the self-check can say what
failed. The limits were calibrated on real edits that pass for photographs and
on deliberately broken ones (benchmarks/bench_contact_sheet.py prints both).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..images import fit_within

WORK_FACE = 400  # the largest face (box size, pixels) the measurements are made on
WORK_SIDE = 1024  # the longest side of the region the measurements are made on


@dataclass(frozen=True)
class RealismLimits:
    seam: float = 0.35  # at most this share of the change's rim may be a hard step on smooth skin
    texture_low: float = 0.45  # fine-detail energy may not fall below this ratio (a flat fill)
    texture_high: float = 2.2  # nor rise above this one (dots, noise)
    gamut: float = 0.02  # at most this share of changed pixels beyond the region's own chroma
    visible: float = 4.0  # a change must reach this delta E (most-changed 0.5 %) to be visible


@dataclass(frozen=True)
class RealismScore:
    seam: float
    texture: float
    gamut: float
    visible: float
    problems: dict[str, str] = field(default_factory=dict)  # measurement -> what is wrong, in words

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def invisible(self) -> bool:
        return "visible" in self.problems

    def as_dict(self) -> dict:
        return {"seam": round(self.seam, 4), "texture": round(self.texture, 4), "gamut": round(self.gamut, 4),
                "visible": round(self.visible, 3), "ok": self.ok, "problems": dict(self.problems)}


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _edges(lightness: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3)
    return np.hypot(gx, gy)


class RealismScorer:
    """Compares an edit with its source photo inside a face region; needs no model."""

    name = "pixels"

    def __init__(self, limits: RealismLimits = RealismLimits()) -> None:
        self.limits = limits

    def score(self, source: np.ndarray, edited: np.ndarray, region: tuple[int, int, int, int] | None = None,
              face_size: int | None = None) -> RealismScore:
        """``region`` (x0, y0, x1, y1) is the face's region of interest; the whole image when None. ``face_size``
        (the face box's size in pixels), when known, sets the working scale (see the module's docstring)."""
        if source.shape != edited.shape:
            raise ValueError(f"the edit has shape {edited.shape}, the photo {source.shape}")
        if region is not None:
            x0, y0, x1, y1 = (int(v) for v in region)
            source, edited = source[y0:y1, x0:x1], edited[y0:y1, x0:x1]
        scale = min(1.0, WORK_FACE / face_size if face_size else 1.0, WORK_SIDE / max(source.shape[:2]))
        if scale < 1.0:
            side = max(1, round(max(source.shape[:2]) * scale))
            source, edited = fit_within(source, side), fit_within(edited, side)
        lim = self.limits
        src, out = _lab(source), _lab(edited)
        delta = np.linalg.norm(out - src, axis=-1)
        # the mean colour difference of the most-changed 0.5 % of the face region: a lipstick covers about 1 %
        top = np.sort(delta, axis=None)[-max(1, delta.size // 200):]
        visible = float(top.mean()) if delta.size else 0.0
        changed = delta > 2.0

        problems: dict[str, str] = {}
        if visible < lim.visible:
            problems["visible"] = f"the change is too weak to see (delta E {visible:.1f} < {lim.visible})"
            return RealismScore(0.0, 1.0, 0.0, visible, problems)

        # seam: the rim of the change. Where an edit fades out, a feathered edit or a warp's smooth field
        # falls off over several pixels; a pasted patch or a hard-edged mask drops from its full change to
        # nothing within a pixel or two. Rim pixels on the photo's own outlines (the lip line) are exempt:
        # a recolour that follows an outline is what the photo's own edges do.
        diff = cv2.GaussianBlur(out - src, (0, 0), 1.0)
        size = np.linalg.norm(diff, axis=-1)
        step = sum(_edges(diff[..., c]) for c in range(3)) / 8.0
        local = cv2.dilate(size, np.ones((5, 5), np.uint8))
        structure = cv2.GaussianBlur(src, (0, 0), 1.5)
        src_edge = sum(_edges(structure[..., c]) for c in range(3)) / 8.0
        rim = (local > max(3.0, 0.2 * float(np.percentile(size, 99.5)))) & (size < 0.6 * local) & (size > 0.05 * local)
        sharp = rim & (step > 0.25 * local)
        seam_px = sharp & (src_edge < 0.5 * step)
        # per separate area of change, so a patch beside an honest edit is judged on its own rim (where the
        # two touch, the honest rim still dilutes it: a limit of this measure)
        count, labels = cv2.connectedComponents(cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8)))
        rim_per_area = np.bincount(labels[rim], minlength=count)[1:]
        seam_per_area = np.bincount(labels[seam_px], minlength=count)[1:]
        judged = rim_per_area >= 20
        seam = float((seam_per_area[judged] / rim_per_area[judged]).max()) if judged.any() else 0.0

        # texture: fine-detail energy inside the changed area
        def detail(lightness):
            return np.abs(cv2.Laplacian(lightness - cv2.GaussianBlur(lightness, (0, 0), 2.0), cv2.CV_32F))

        d_src, d_out = detail(src[..., 0])[changed], detail(out[..., 0])[changed]
        texture = float((d_out.mean() + 0.05) / (d_src.mean() + 0.05)) if changed.sum() >= 20 else 1.0

        # gamut: chroma beyond what the region's own photo has
        chroma_src = np.hypot(src[..., 1], src[..., 2])
        chroma_out = np.hypot(out[..., 1], out[..., 2])
        limit = float(np.percentile(chroma_src, 99.5)) * 1.15 + 6.0
        # a pixel counts when the edit took it past both that limit and its own colour (lips that were already the
        # photo's most colourful part may be recoloured without counting)
        beyond = chroma_out > np.maximum(limit, chroma_src + 2.0)
        gamut = float(beyond[changed].mean()) if changed.any() else 0.0

        if seam > lim.seam:
            problems["seam"] = f"a hard seam at the edge of the edit ({seam:.0%} of its border)"
        if texture < lim.texture_low:
            problems["texture"] = f"texture lost: the area looks painted flat (detail x{texture:.2f})"
        elif texture > lim.texture_high:
            problems["texture"] = f"texture added: dots or noise the photo did not have (detail x{texture:.2f})"
        if gamut > lim.gamut:
            problems["gamut"] = f"colours the photo never had ({gamut:.0%} of the changed pixels)"
        return RealismScore(seam, texture, gamut, visible, problems)
