"""The offline engine's colour edits: recolours in CIE Lab that keep the photo's texture.

Each moves colour (a*, b*) and lightness (L*) inside a soft mask made from the landmarks, never paints a flat
fill, so the skin's and lips' detail stays as it was photographed.

- **lipstick**: the lips toward a red (on), or toward the face's own skin colour (off).
- **blush**: a rose flush on the apples of the cheeks.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...faces import regions as fr

LIPSTICK = (175, 22, 45)
# Lab shifts at full strength: (L*, a*, b*)
BLUSH = (-2.0, 11.0, 1.5)
TAN = (-9.0, 2.5, 7.0)  # the withdrawn tan's shift: the benchmark's deliberately broken hard-edged tan still draws it


def lab(rgb_f: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(rgb_f, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def rgb(lab_img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(lab_img.astype(np.float32), cv2.COLOR_Lab2RGB) * 255.0


def _blend(img: np.ndarray, new: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    return img * (1.0 - a) + new * a


def recolour(
    img: np.ndarray, mask: np.ndarray, target_rgb, chroma: float, light: float, strength: float, lighten: bool = True
) -> np.ndarray:
    """Move the region's colour toward ``target_rgb``: chroma (a, b) and mean lightness, keeping texture; with
    ``lighten`` False the lightness may only fall (a red on dark lips in a dim photo must not glow)."""
    alpha = np.clip(mask * strength, 0, 1)
    if not np.any(alpha):
        return img
    src = lab(img)
    t = lab(np.array([[target_rgb]], np.float32))[0, 0]
    sel = mask > 0.3
    mean_l = float(src[..., 0][sel].mean()) if sel.any() else float(src[..., 0].mean())
    new = src.copy()
    new[..., 0] = src[..., 0] + ((t[0] - mean_l) if lighten else min(0.0, t[0] - mean_l)) * light
    new[..., 1] = src[..., 1] + (t[1] - src[..., 1]) * chroma
    new[..., 2] = src[..., 2] + (t[2] - src[..., 2]) * chroma
    new[..., 0] = np.clip(new[..., 0], 0, 100)
    return _blend(img, rgb(new), alpha)


def shift(img: np.ndarray, mask: np.ndarray, lab_shift: tuple[float, float, float], strength: float) -> np.ndarray:
    """Add ``lab_shift`` x ``strength`` x mask to the Lab colour (texture, the detail in L*, is kept)."""
    if not strength or not np.any(mask):
        return img
    out = lab(img)
    for c, v in enumerate(lab_shift):
        out[..., c] += mask * (v * strength)
    out[..., 0] = np.clip(out[..., 0], 0, 100)
    return rgb(out)


def _shade_bound(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``after`` with the colour it added scaled by each pixel's own lightness (full from L* 55 up, at least 35 %):
    a real lipstick darkens into the lips' shadowed outline rather than painting it a saturated dark red (which
    reads as drawn-on liner)."""
    a, b = lab(before), lab(after)
    k = np.clip(a[..., 0] / 55.0, 0.35, 1.0)
    sel = mask > 0
    for c in (1, 2):
        b[..., c] = np.where(sel, a[..., c] + (b[..., c] - a[..., c]) * k, b[..., c])
    return rgb(b)


def cap_chroma(before: np.ndarray, after: np.ndarray, mask: np.ndarray, most: float) -> np.ndarray:
    """``after`` with the chroma it added kept under ``most`` (or under the photo's own, where that was higher)."""
    a, b = lab(before), lab(after)
    ca, cb = np.hypot(a[..., 1], a[..., 2]), np.hypot(b[..., 1], b[..., 2])
    limit = np.maximum(most, ca)
    over = (cb > limit) & (mask > 0)
    if not over.any():
        return after
    f = np.where(over, limit / np.maximum(cb, 1e-6), 1.0)
    b[..., 1] *= f
    b[..., 2] *= f
    return rgb(b)


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """ "#a8323c" -> (168, 50, 60); anything else is refused (ValueError)."""
    c = colour.strip()
    if len(c) != 7 or c[0] != "#":
        raise ValueError(f"a colour is '#rrggbb', not {colour!r}")
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def pigment(seen_rgb) -> str:
    """The lipstick to paint so that lips come out like ``seen_rgb`` (a reference's lips, as photographed): the seen
    colour's hue and lightness, at least the default lipstick's chroma. The lips of a photo are the pigment already
    mixed with lips and light, so painting the seen colour itself would fall short of it; the strength, matched on
    the reference, then says how much of the pigment the lips take."""
    seen = lab(np.array([[seen_rgb]], np.float32))[0, 0]
    full = lab(np.array([[LIPSTICK]], np.float32))[0, 0]
    chroma = max(float(np.hypot(seen[1], seen[2])), float(np.hypot(full[1], full[2])))
    hue = float(np.arctan2(seen[2], seen[1]))
    light = min(float(seen[0]), 60.0)
    out = np.clip(rgb(np.array([[[light, chroma * np.cos(hue), chroma * np.sin(hue)]]], np.float32))[0, 0], 0, 255)
    return "#{:02x}{:02x}{:02x}".format(*(int(round(v)) for v in out))


def lipstick(
    img: np.ndarray, lm: np.ndarray, u: float, s: float, skin_rgb=None, chroma_limit: float | None = None, paint: str | None = None
) -> np.ndarray:
    """Lipstick on (s > 0: red, or ``paint`` ("#rrggbb", a reference's lips), no more colourful than ``chroma_limit``,
    the photo's own range, and proportionally less of it on a muted photo, as a blush) or off (s < 0)."""
    lips = fr.lips(img.shape, lm, u)
    if s > 0:
        target = LIPSTICK if paint is None else hex_rgb(paint)
        out = recolour(img, lips, target, 0.8, 0.35, knee(s) * muted(img, lm, u), lighten=False)
        out = _shade_bound(img, out, lips)
        limits = [v for v in (chroma_limit, lips_chroma_limit(img, lm, u, lips)) if v is not None]
        return cap_chroma(img, out, lips, min(limits)) if limits else out
    return recolour(img, lips, tuple(skin_rgb * 0.9), 0.6, 0.2, -s)


def perceived(s: float) -> float:
    """The share of the full change that strength ``s`` paints: |s| ** 0.6, so that a subtle 0.3 can still be
    seen (0.49 of the change) while 0.9 stays short of the full one (0.94)."""
    return float(np.sign(s) * abs(s) ** 0.6)


def knee(s: float, at: float = 0.6, slope: float = 0.5) -> float:
    """``s`` with its top third eased: past ``at`` each step counts ``slope`` as much (0.9 -> 0.75), so the strong end
    of a smile, a lipstick or a blush stays a photograph on faces where the full change was too much (graded
    contact sheets: closed lips stretched into a smirk, red paint on a muted photo)."""
    a = abs(s)
    return float(np.sign(s) * (a if a <= at else at + (a - at) * slope))


SKIN_CHROMA_FOR_FULL_BLUSH = 24.0  # the face skin's median Lab chroma at which a blush or a lipstick takes its full colour


def blush(img: np.ndarray, lm: np.ndarray, u: float, s: float) -> np.ndarray:
    """A rose flush on the cheeks; on a muted photo (skin of little colour) proportionally less of it, at least 60 %,
    as the same flush on grey-ish skin reads as a pink patch."""
    return shift(img, fr.cheeks(img, lm, u), BLUSH, perceived(knee(s)) * muted(img, lm, u))


def skin_chroma(img: np.ndarray, lm: np.ndarray, u: float) -> float | None:
    """The face skin's median CIE Lab chroma: how colourful this photo renders a face (None when too little skin shows)."""
    face = fr.skin(img, lm, u) > 0.5
    if face.sum() < 50:
        return None
    return float(np.median(np.hypot(*np.moveaxis(lab(img)[..., 1:][face], -1, 0))))


def muted(img: np.ndarray, lm: np.ndarray, u: float) -> float:
    """How much of a colour edit a photo takes: its face skin's median Lab chroma against SKIN_CHROMA_FOR_FULL_BLUSH,
    at least 0.6 (a dim or film-muted photo: the same red there glows as if pasted on), at most 1."""
    chroma = skin_chroma(img, lm, u)
    return 1.0 if chroma is None else float(np.clip(chroma / SKIN_CHROMA_FOR_FULL_BLUSH, 0.6, 1.0))


LIP_GAIN_PER_SKIN_CHROMA = 1.0


def lips_chroma_limit(img: np.ndarray, lm: np.ndarray, u: float, lips: np.ndarray) -> float | None:
    """The most chroma a lipstick may give this photo's lips: their own median chroma plus LIP_GAIN_PER_SKIN_CHROMA
    times the skin's. Lips are judged against the face they are on: in a photo whose skin has almost no colour (a
    film look, a desaturated still) a red that is ordinary elsewhere is the most colourful thing in the frame, and
    reads as painted onto the print (graded contact sheets, issue 22). Everywhere else the limit is far above what
    the lipstick paints."""
    skin = skin_chroma(img, lm, u)
    sel = lips > 0.5
    if skin is None or sel.sum() < 20:
        return None
    own = float(np.median(np.hypot(*np.moveaxis(lab(img)[..., 1:][sel], -1, 0))))
    return own + LIP_GAIN_PER_SKIN_CHROMA * skin
