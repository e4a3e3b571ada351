"""Example photos and requests a new user can click: the photos that ship with chatface's dependencies.

On the default install: scikit-image's astronaut (Eileen Collins, a NASA
photo) and matplotlib's Grace Hopper (a US Navy photo), both public domain and
shipped inside those default dependencies, and the two side by side as a photo
with two faces (to try picking one of several). When insightface is installed
(the diffusion extra), also the faces of its ``t1.jpg`` group photo, each
cropped to a square portrait, and that photo itself as the group photo. Files
are written once into a directory the caller chooses.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ..models.images import load_image, save_image

REQUESTS = (
    "give her a subtle smile and red lipstick",
    "make him smile a little",
    "add a bit of lipstick",
    "make her eyes a little bigger",
    "a touch of blush and a slimmer face",
    "more",
    "undo",
    "go back to the original",
)
GROUP_PHOTO = "group.jpg"  # the example with several faces (the others are portraits)
TWO_FACES = "two-faces.jpg"  # the default install's photo with several faces: the two portraits side by side
SEVERAL_FACES = (GROUP_PHOTO, TWO_FACES)  # the examples that open by asking which face
GROUP_FACES_KEPT = 4  # the largest faces of the group photo, as portraits


def group_photo() -> Path | None:
    """insightface's six-person photo, when the package is installed (found without importing it)."""
    spec = importlib.util.find_spec("insightface")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "images" / "t1.jpg"
    return path if path.is_file() else None


def portrait_crop(image: np.ndarray, box: tuple[int, int, int, int], scale: float = 2.6) -> np.ndarray:
    """A square around a face box, ``scale`` times its size, the face a little above the centre, clipped to the photo."""
    x0, y0, x1, y1 = box
    side = int(max(x1 - x0, y1 - y0) * scale)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2 + int(0.1 * side)
    h, w = image.shape[:2]
    side = min(side, h, w)
    left = min(max(0, cx - side // 2), w - side)
    top = min(max(0, cy - side // 2), h - side)
    return image[top : top + side, left : left + side].copy()


def grace_hopper() -> np.ndarray:
    """matplotlib's sample portrait of Grace Hopper (public domain), read from the installed package."""
    from matplotlib import cbook

    return load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def side_by_side(left: np.ndarray, right: np.ndarray, height: int = 600) -> np.ndarray:
    """Two photos scaled to one height and placed side by side: a photo with two faces."""
    import cv2

    def fit(img):
        return cv2.resize(img, (round(img.shape[1] * height / img.shape[0]), height), interpolation=cv2.INTER_AREA)

    return np.hstack([fit(left), fit(right)])


def write_example_photos(directory: str | Path) -> list[Path]:
    """The example photos in ``directory`` (written on the first call): the portraits, then the photos with several faces."""
    from skimage import data

    from ..models.faces.detection import detect_faces

    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, make in (("astronaut.png", data.astronaut), ("grace-hopper.png", grace_hopper)):
        path = written[name] = root / name
        if not path.exists():
            save_image(make(), path)
    out = list(written.values())
    two = root / TWO_FACES
    if not two.exists():
        save_image(side_by_side(grace_hopper(), data.astronaut()), two)
    group = group_photo()
    if group is not None:
        portraits = sorted(root.glob("group-face-*.png"))
        if not portraits:
            image = load_image(group)
            for i, face in enumerate(detect_faces(image)[:GROUP_FACES_KEPT]):
                path = root / f"group-face-{i + 1}.png"
                save_image(portrait_crop(image, face.box), path)
                portraits.append(path)
        out += portraits
        whole = root / GROUP_PHOTO
        if not whole.exists():
            whole.write_bytes(group.read_bytes())
        out.append(whole)
    out.append(two)
    return out
