"""How much of an attribute one face shows, on its own: what "as much smile as in this photo" is matched against.

The direction scorers compare a photo with its edit, so they say how much an edit
changed; a reference photo is another person, so matching it needs an absolute
measure of each face. These are read off the 68 landmarks and the colours inside
the landmark regions, in face units (the eye distance), so the same number means
the same amount on a small and a big face:

- ``smiling``: the lips' corners above their middle, plus the mouth's width;
- ``mouth_open``: the gap between the inner lips;
- ``big_eyes``: the eyes' opening and width;
- ``chubby``: the face's width at the cheeks and jaw;
- ``lipstick``: how much redder (Lab a*) the lips are than the face's skin;
- ``rosy_cheeks``: how much redder the cheeks are than the rest of the skin.

A measure is only compared with the same measure on another face (the reference
against renders of the user's photo), never read as a strength by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..faces import regions as fr

# Natural lips measured 3.5 to 15 (Lab a* over the skin's) on 14 photos of men and women without lipstick, a red
# lipstick 23 to 24: below this a reference's lips cannot be told from natural ones, so no lipstick is read off them
NATURAL_LIPS = 15.0

METERED = ("smiling", "mouth_open", "big_eyes", "chubby", "lipstick", "rosy_cheeks")


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _median(values: np.ndarray, mask: np.ndarray) -> float | None:
    sel = mask > 0.5
    return float(np.median(values[sel])) if sel.sum() >= 20 else None


@dataclass(frozen=True)
class LipColour:
    """The lips' median colour, as the lipstick edit paints it ("#a8323c")."""

    rgb: tuple[int, int, int]

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)


def measure(image: np.ndarray, landmarks: np.ndarray, attribute: str) -> float:
    """``attribute``'s amount on the face with these landmarks (ValueError for an attribute with no measure)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    u = fr.unit(lm)
    if attribute == "smiling":
        centre = lm[[51, 57, 62, 66], 1].mean()
        corners = lm[[48, 54], 1].mean()
        width = np.linalg.norm(lm[54] - lm[48])
        return float((centre - corners) / u + 0.5 * width / u)
    if attribute == "mouth_open":
        return float(np.mean([np.linalg.norm(lm[i] - lm[j]) for i, j in ((61, 67), (62, 66), (63, 65))]) / u)
    if attribute == "big_eyes":
        opening = np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in ((37, 41), (38, 40), (43, 47), (44, 46))])
        width = np.mean([np.linalg.norm(lm[36] - lm[39]), np.linalg.norm(lm[42] - lm[45])])
        return float((opening + width) / u)  # the opening alone saturates: the lids' landmarks lag a scaled eye
    if attribute == "chubby":
        return float(np.mean([np.linalg.norm(lm[i] - lm[16 - i]) for i in (3, 4, 5)]) / u)
    if attribute in ("lipstick", "rosy_cheeks"):
        a_star = _lab(image)[..., 1]
        skin = _median(a_star, fr.skin(image, lm, u))
        region = fr.lips(image.shape, lm, u) if attribute == "lipstick" else fr.cheeks(image, lm, u)
        inside = _median(a_star, region)
        if skin is None or inside is None:
            raise ValueError(f"the face is too small to measure {attribute}")
        return inside - skin
    raise ValueError(f"no measure of {attribute!r} on a single face; measured: {', '.join(METERED)}")


def lip_colour(image: np.ndarray, landmarks: np.ndarray) -> LipColour:
    """The lips' median colour (the reference's lipstick, for the offline engine to paint)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    sel = fr.lips(image.shape, lm, fr.unit(lm)) > 0.6
    if sel.sum() < 20:
        raise ValueError("the lips are too small to read their colour")
    rgb = np.median(image[sel].reshape(-1, 3), axis=0)
    return LipColour(tuple(int(round(v)) for v in rgb))  # type: ignore[arg-type]
