"""Does an edit still look like a photograph? Four measurements on the pixels.

Identity and direction scores pass on a cartoon: a neon disc on the iris is
"blue eyes" and the same person. This scorer compares the edited image with
the source photo, only where the edit changed something, and looks for the
artefacts that gave earlier edits away:

- **seam**: a hard border that the photo did not have, as a pasted patch or a
  hard-edged colour mask leaves. Measured as the share of the change's rim
  (where it fades out) that drops within a pixel or two on smooth skin, or
  the length of such drops against the face's size, whichever is larger.
  Where an edit moved pixels (a warp), the rim is also measured against the
  photo moved the same way (optical flow), and the smaller is kept: a warp
  moves an outline to where the photo had none, which is no seam.
- **texture**: skin and hair texture lost (a flat fill) or added (dots, noise).
  Measured as the ratio of fine-detail energy (Laplacian of the lightness)
  edited / source inside each separate area of change; the most extreme.
- **gamut**: colours that the photo's own face region never had (neon).
  Measured as the share of changed pixels whose chroma lies well beyond the
  region's own 99.5th percentile.
  Lips are also judged against the face they are on (when the caller gives
  the landmarks): more chroma than the lips' own plus LIPS_GAIN_SEEN times
  the skin's median counts as beyond, so a red that the frame elsewhere holds
  still reads as pasted on a face of almost no colour.
- **visible**: a change too weak to see. Measured as the mean colour
  difference (CIE76 delta E) of the most-changed 0.5 % of the face region.

The measurements are made at a working resolution: when the caller gives the
face's size, a face larger than WORK_FACE pixels is shrunk to it first (area
averaging), the scale of the faces the limits were calibrated on; and a region
is never measured larger than WORK_SIDE. So a face in a 24-megapixel photo is
judged as fast as, and by the same pixel-scale limits as, the same face in a
small crop of it.

- **eyes** (when the caller gives the face's landmarks): geometry no face
  has, as an over-driven liquify leaves. Measured as the scale of each eye
  against the photo's (the lightness of the eye matched at scales 0.6 to 1.8,
  as the offline direction scorer measures bigger eyes). On 29 faces, the
  offline engine's "bigger eyes" at 0.9 read 1.04-1.19 and "smaller eyes" at
  0.9 down to 0.88; an over-driven warp's bug eyes read 1.25-1.45.

Every measurement is reported with its limit, so the self-check can say what
failed. The limits were calibrated on real edits that pass for photographs and
on deliberately broken ones (benchmarks/bench_contact_sheet.py --broken prints
both). Other geometry (a jaw, a mouth) is not judged: the engines bound those
warps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..faces import regions as fr
from ..images import fit_within, photo_chroma

WORK_FACE = 400  # the largest face (box size, pixels) the measurements are made on
WORK_SIDE = 1024  # the longest side of the region the measurements are made on
# lips may gain at most this many times the face skin's median chroma over their own before they count as beyond the
# photo's colours (with a margin of 3); the offline lipstick stops at the same gain without the margin (offline/colour.py)
LIPS_GAIN_SEEN = 1.0


@dataclass(frozen=True)
class RealismLimits:
    seam: float = 0.35  # at most this share of the change's rim may be a hard step on smooth skin
    texture_low: float = 0.45  # fine-detail energy may not fall below this ratio (a flat fill)
    texture_high: float = 2.2  # nor rise above this one (dots, noise)
    gamut: float = 0.02  # at most this share of changed pixels beyond the region's own chroma
    visible: float = 4.0  # a change must reach this delta E (most-changed 0.5 %) to be visible
    eyes_low: float = 0.8  # the eyes may not shrink below this scale of the photo's
    eyes_high: float = 1.22  # nor grow past this one (bug eyes)


@dataclass(frozen=True)
class RealismScore:
    seam: float
    texture: float
    gamut: float
    visible: float
    problems: dict[str, str] = field(default_factory=dict)  # measurement -> what is wrong, in words
    eyes: float = 1.0  # the eyes' scale against the photo's (1.0: unchanged, or not measured)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def invisible(self) -> bool:
        return "visible" in self.problems

    def as_dict(self) -> dict:
        return {
            "seam": round(self.seam, 4),
            "texture": round(self.texture, 4),
            "gamut": round(self.gamut, 4),
            "visible": round(self.visible, 3),
            "eyes": round(self.eyes, 3),
            "ok": self.ok,
            "problems": dict(self.problems),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "RealismScore":
        """A score as ``as_dict`` wrote it (``ok`` is derived from the problems, so it is not read)."""
        return cls(
            float(d.get("seam", 0.0)),
            float(d.get("texture", 0.0)),
            float(d.get("gamut", 0.0)),
            float(d.get("visible", 0.0)),
            dict(d.get("problems") or {}),
            float(d.get("eyes", 1.0)),
        )


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _edges(lightness: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3)
    return np.hypot(gx, gy)


def _motion(source: np.ndarray, edited: np.ndarray) -> np.ndarray | None:
    """The photo moved as the edit moved its pixels (a warp's liquify), found by optical flow (DIS) from the edit
    back to the photo; None when nothing moved by half a pixel. A warp moves an outline (the jaw, the lips) to
    where the photo had none: against the moved photo that is no seam, and texture is compared pixel for pixel."""
    gs = cv2.cvtColor(source, cv2.COLOR_RGB2GRAY)
    ge = cv2.cvtColor(edited, cv2.COLOR_RGB2GRAY)
    # edited(x) ~ source(x + flow(x)); OpenCV's stubs require the output flow, which calc allocates when given None
    flow = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(ge, gs, None)
    if float(np.percentile(np.hypot(flow[..., 0], flow[..., 1]), 99.5)) < 0.5:
        return None
    h, w = gs.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(source, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


ALIGNED = 0.5  # a step runs along the photo's outline when its gradient is within 60 degrees of the outline's
TEXTURED = 1.2  # a step under photo texture this much stronger than itself is not seen
LENGTH_SHARE = 0.05  # a hard step twice as long as the face is wide counts as a seam over all of the rim


def _seam(src: np.ndarray, out: np.ndarray, changed: np.ndarray, unit: float = 0.0, region_px: int | None = None) -> float:
    """The largest share of one area of change's rim that is a hard step on smooth parts of the photo; with ``unit``
    (a tenth of the face's size, pixels), at least LENGTH_SHARE x the length of all such steps in that unit, so a hard
    edge that is a small part of a long, soft rim still counts."""
    diff = cv2.GaussianBlur(out - src, (0, 0), 1.0)
    size = np.linalg.norm(diff, axis=-1)
    step = sum(_edges(diff[..., c]) for c in range(3)) / 8.0
    local = cv2.dilate(size, np.ones((5, 5), np.uint8))
    structure = cv2.GaussianBlur(src, (0, 0), 1.5)
    src_edge = sum(_edges(structure[..., c]) for c in range(3)) / 8.0
    rim = (local > max(3.0, 0.2 * _top(size, region_px, 0.005))) & (size < 0.6 * local) & (size > 0.05 * local)
    sharp = rim & (step > 0.25 * local)
    # exempt: a step that runs along an outline of the photo (the gradients of the change and of the photo's
    # lightness point the same way there); photo texture under a step, pointing every way, exempts nothing
    # (the photo's outline direction from its structure tensor over L*, a*, b*); a step under photo texture
    # stronger than itself is not seen either
    cgx, cgy = cv2.Sobel(size, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(size, cv2.CV_32F, 0, 1, ksize=3)
    jxx: float | np.ndarray = 0.0  # the structure tensor's entries, summed over the three channels
    jyy: float | np.ndarray = 0.0
    jxy: float | np.ndarray = 0.0
    for c in range(3):
        sgx, sgy = cv2.Sobel(structure[..., c], cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(structure[..., c], cv2.CV_32F, 0, 1, ksize=3)
        jxx, jyy, jxy = jxx + sgx * sgx, jyy + sgy * sgy, jxy + sgx * sgy
    theta = 0.5 * np.arctan2(2 * jxy, jxx - jyy)  # the photo's strongest gradient direction
    aligned = np.abs(cgx * np.cos(theta) + cgy * np.sin(theta)) > ALIGNED * np.hypot(cgx, cgy)
    seam_px = sharp & ~(((src_edge >= 0.5 * step) & aligned) | (src_edge >= TEXTURED * step))
    # per separate area of change, so a patch beside an honest edit is judged on its own rim (where the
    # two touch, the honest rim still dilutes it: a limit of this measure)
    count, labels = cv2.connectedComponents(cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8)))
    rim_per_area = np.bincount(labels[rim], minlength=count)[1:]
    seam_per_area = np.bincount(labels[seam_px], minlength=count)[1:]
    judged = rim_per_area >= 20
    share = float((seam_per_area[judged] / rim_per_area[judged]).max()) if judged.any() else 0.0
    if unit <= 0:
        return share
    # a hard step is drawn twice or three times over (its rim is 2-3 px wide at sigma 1): thinned to one line
    length = float(seam_px.sum()) / 2.5
    return max(share, LENGTH_SHARE * length / unit)


def _top(values: np.ndarray, region_px: int | None, share: float) -> float:
    """The value above which the largest ``share`` of a region's pixels lie, when ``values`` is the window of the
    region holding every change (the rest of the region is unchanged: zero)."""
    k = max(1, int((region_px or values.size) * share))
    flat = values.ravel()
    if k > flat.size:
        return 0.0
    return float(np.partition(flat, flat.size - k)[flat.size - k])


def _texture(src: np.ndarray, out: np.ndarray, changed: np.ndarray, region_px: int | None = None) -> float:
    """Fine-detail energy edited / photo, in the interior of each separate area of change (its rim is the seam's to
    judge); of all areas, the ratio furthest from 1. A flat-painted cheek next to an honest edit is judged alone."""

    def detail(lightness):
        return np.abs(cv2.Laplacian(lightness - cv2.GaussianBlur(lightness, (0, 0), 2.0), cv2.CV_32F))

    d_src, d_out = detail(src[..., 0]), detail(out[..., 0])
    count, labels = cv2.connectedComponents(cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8)))
    inner = cv2.erode(changed.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    least = max(20, (region_px or changed.size) // 2000)
    worst = 1.0
    for i in range(1, count):
        sel = inner & (labels == i)
        if sel.sum() < least:
            continue
        ratio = float((d_out[sel].mean() + 0.05) / (d_src[sel].mean() + 0.05))
        if abs(np.log(ratio)) > abs(np.log(worst)):
            worst = ratio
    if worst == 1.0 and changed.sum() >= 20:  # no area large enough to have an interior: the whole change
        worst = float((d_out[changed].mean() + 0.05) / (d_src[changed].mean() + 0.05))
    return worst


EYE_SCALES = np.linspace(0.6, 1.8, 121)


def _lips_chroma_limit(source: np.ndarray, lm: np.ndarray, side: int = 512) -> float | None:
    """The most chroma the lips of ``source`` (a region, ``lm`` its landmarks) may show after an edit: their own median
    plus LIPS_GAIN_SEEN times the skin's, plus a margin; measured at ``side`` px at most. None when too little skin or
    lip shows to say."""
    small = fit_within(source, side)
    f = small.shape[0] / source.shape[0]
    at = lm * f
    u = fr.unit(at)
    lab = _lab(small)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    skin, lips = fr.skin(small, at, u) > 0.5, fr.lips(small.shape, at, u) > 0.5
    if skin.sum() < 50 or lips.sum() < 20:
        return None
    return float(np.median(chroma[lips]) + LIPS_GAIN_SEEN * np.median(chroma[skin]) + 3.0)


def matched_scale(before: np.ndarray, after: np.ndarray, centre: tuple[float, float], scales) -> float:
    """The scale about ``centre`` at which square patch ``after`` best matches ``before`` (normalised cross-correlation
    of their central halves): ``after`` shrunk by k about the centre is ``before`` when its content is k times larger."""
    side = before.shape[0]
    q = side // 4
    core = before[q : 3 * q, q : 3 * q]
    core = (core - core.mean()) / (core.std() + 1e-6)
    best, best_score = 1.0, -np.inf
    for k in scales:
        warped = cv2.warpAffine(
            after, cv2.getRotationMatrix2D(centre, 0.0, 1.0 / float(k)), (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )[q : 3 * q, q : 3 * q]
        score = float(((warped - warped.mean()) / (warped.std() + 1e-6) * core).mean())
        if score > best_score:
            best, best_score = float(k), score
    return best


def eye_scale(source: np.ndarray, edited: np.ndarray, lm: np.ndarray) -> float:
    """How much larger the eyes are in ``edited`` than in ``source`` (``lm``: the photo's 68 points in these images'
    coordinates): for each eye, the scale about its centre at which the edited eye's lightness best matches the
    photo's (normalised cross-correlation), at a working size of 24 pixels of eye radius; the one furthest from 1."""
    from ..faces.regions import LEFT_EYE, RIGHT_EYE, unit

    u = unit(lm)
    found = []
    for sl in (RIGHT_EYE, LEFT_EYE):
        c = lm[sl].mean(0)
        width = float(np.linalg.norm(lm[sl][3] - lm[sl][0]))
        r = max(4, int(round(0.5 * width)))  # the eye itself
        x0, y0 = int(round(c[0])) - 2 * r, int(round(c[1])) - 2 * r
        if x0 < 0 or y0 < 0 or x0 + 4 * r >= source.shape[1] or y0 + 4 * r >= source.shape[0] or width < 0.1 * u:
            continue
        f = 24.0 / r  # every eye judged at one size: small faces upscaled, big ones shrunk
        side = max(8, int(round(4 * r * f)))

        def patch(img):
            p = cv2.cvtColor(np.ascontiguousarray(img[y0 : y0 + 4 * r, x0 : x0 + 4 * r]), cv2.COLOR_RGB2GRAY).astype(np.float32)
            return cv2.resize(p, (side, side), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)

        pa, pb = patch(source), patch(edited)
        if np.array_equal(pa, pb):
            found.append(1.0)
            continue
        found.append(matched_scale(pa, pb, (float(c[0] - x0) * f, float(c[1] - y0) * f), EYE_SCALES))
    return max(found, key=lambda k: abs(np.log(k))) if found else 1.0


class RealismScorer:
    """Compares an edit with its source photo inside a face region; needs no model."""

    name = "pixels"

    def __init__(self, limits: RealismLimits = RealismLimits()) -> None:
        self.limits = limits

    def score(
        self,
        source: np.ndarray,
        edited: np.ndarray,
        region: tuple[int, int, int, int] | None = None,
        face_size: int | None = None,
        landmarks: np.ndarray | None = None,
    ) -> RealismScore:
        """``region`` (x0, y0, x1, y1) is the face's region of interest; the whole image when None. ``face_size``
        (the face box's size in pixels), when known, sets the working scale (see the module's docstring).
        ``landmarks`` (the photo's 68 points, in the image's coordinates), when known, let the eyes' geometry be judged."""
        if source.shape != edited.shape:
            raise ValueError(f"the edit has shape {edited.shape}, the photo {source.shape}")
        x0 = y0 = 0
        if region is not None:
            x0, y0, x1, y1 = (int(v) for v in region)
            source, edited = source[y0:y1, x0:x1], edited[y0:y1, x0:x1]
        eyes = 1.0
        lm = None
        if landmarks is not None and np.asarray(landmarks).shape == (68, 2):
            lm = np.asarray(landmarks, np.float64) - np.array([x0, y0])
            eyes = eye_scale(source, edited, lm)
        h, w = source.shape[:2]
        scale = min(1.0, WORK_FACE / face_size if face_size else 1.0, WORK_SIDE / max(h, w))
        region_px = max(1, round(h * scale)) * max(1, round(w * scale))  # the region's size at the working scale
        lim = self.limits
        problems: dict[str, str] = {}
        # the gamut's reference: the whole region's own colours, at low resolution
        chroma_limit = photo_chroma(source) * 1.15 + 6.0
        lips_limit = _lips_chroma_limit(source, lm) if lm is not None else None
        # everything else is measured on the window that holds every change (and a margin for the rim's blur): the
        # rest of the region is the photo itself, so a big photo costs what its change costs
        moved_px = np.any(source != edited, axis=2)
        rows, cols = np.flatnonzero(moved_px.any(1)), np.flatnonzero(moved_px.any(0))
        if rows.size == 0:
            problems["visible"] = f"the change is too weak to see (delta E 0.0 < {lim.visible})"
            return RealismScore(0.0, 1.0, 0.0, 0.0, problems, eyes)
        margin = int(np.ceil(16 / scale))
        wy0, wy1 = max(0, rows[0] - margin), min(h, rows[-1] + 1 + margin)
        wx0, wx1 = max(0, cols[0] - margin), min(w, cols[-1] + 1 + margin)
        source, edited = source[wy0:wy1, wx0:wx1], edited[wy0:wy1, wx0:wx1]
        if scale < 1.0:
            size = (max(1, round((wx1 - wx0) * scale)), max(1, round((wy1 - wy0) * scale)))
            source = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
            edited = cv2.resize(edited, size, interpolation=cv2.INTER_AREA)
        src, out = _lab(source), _lab(edited)
        delta = np.linalg.norm(out - src, axis=-1)
        # the mean colour difference of the most-changed 0.5 % of the face region: a lipstick covers about 1 %
        k = max(1, region_px // 200)
        flat = np.sort(delta, axis=None)
        top = flat[-k:] if k <= flat.size else np.concatenate([np.zeros(k - flat.size, flat.dtype), flat])
        visible = float(top.mean()) if top.size else 0.0
        if visible < lim.visible:
            problems["visible"] = f"the change is too weak to see (delta E {visible:.1f} < {lim.visible})"
            return RealismScore(0.0, 1.0, 0.0, visible, problems, eyes)

        # seam and texture: against the photo, and, where the edit moved pixels, against the photo moved the same
        # way; a colour edit's seam shows in both, a warp's moved outline only in the first
        changed = delta > 2.0
        unit = (face_size * scale if face_size else min(h, w) * scale / 2.5) / 10.0
        seam = _seam(src, out, changed, unit, region_px)
        moved = _motion(source, edited) if seam > lim.seam else None
        if moved is not None:
            src_moved = _lab(moved)
            changed_moved = np.linalg.norm(out - src_moved, axis=-1) > 2.0
            seam_moved = _seam(src_moved, out, changed_moved, unit, region_px)
            if seam_moved < seam:
                seam, src, changed = seam_moved, src_moved, changed_moved
        texture = _texture(src, out, changed, region_px)

        # gamut: chroma beyond what the region's own photo has
        chroma_src = np.hypot(src[..., 1], src[..., 2])
        chroma_out = np.hypot(out[..., 1], out[..., 2])
        limit: float | np.ndarray = chroma_limit
        if lips_limit is not None and lm is not None:
            at = (lm - np.array([wx0, wy0])) * np.array([out.shape[1] / (wx1 - wx0), out.shape[0] / (wy1 - wy0)])
            on_lips = fr.lips(out.shape, at, fr.unit(at)) > 0.5
            limit = np.where(on_lips, min(chroma_limit, lips_limit), chroma_limit)
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
        if eyes > lim.eyes_high or eyes < lim.eyes_low:
            problems["eyes"] = f"eyes {eyes:.2f} times their size in the photo: no longer a plausible face"
        return RealismScore(seam, texture, gamut, visible, problems, eyes)
