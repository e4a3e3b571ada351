"""Example photos and requests a new user can click: the photos that ship with chatface's dependencies.

``skimage.data.astronaut()`` (a default dependency) and, when insightface is
installed (the diffusion extra), the faces of its ``t1.jpg`` group photo, each
cropped to a square portrait, and the group photo itself (to try picking one of
several faces). Files are written once into a directory the caller chooses.
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
    return image[top:top + side, left:left + side].copy()


def write_example_photos(directory: str | Path) -> list[Path]:
    """The example photos in ``directory`` (written on the first call): the astronaut, group-photo portraits, the group photo."""
    from skimage import data

    from ..models.faces.detection import detect_faces

    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    out = []
    astronaut = root / "astronaut.png"
    if not astronaut.exists():
        save_image(data.astronaut(), astronaut)
    out.append(astronaut)
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
    return out
