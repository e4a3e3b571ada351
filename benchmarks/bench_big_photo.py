"""An edit of a 24-megapixel photo against the same edit of a 1-megapixel crop of it (issue 21: big photos must not
stall everyone).

Run: python benchmarks/bench_big_photo.py [--repeat N]. Two photos: scikit-image's astronaut scaled up to a
6000x4000 frame (one large face), and insightface's group photo t1.jpg scaled by 4.5 (six faces, about 500 px
each). For each: the time to open (read, find the face, invert, store) and to apply "give her a subtle smile"
(render, check, commit) on the full photo and on a 1000x1000 crop around the face, and their ratio (the target:
at most 2). The edit is rendered from the full photo and stored at full size (the exported file keeps it).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def photos() -> dict[str, np.ndarray]:
    import cv2
    from skimage import data

    astronaut = cv2.resize(data.astronaut(), (4000, 4000), interpolation=cv2.INTER_CUBIC)
    frame = np.full((4000, 6000, 3), 200, np.uint8)
    frame[:, 1000:5000] = astronaut
    out = {"astronaut in 6000x4000": frame}
    try:
        from importlib.resources import files

        from PIL import Image

        group = np.array(Image.open(files("insightface") / "data" / "images" / "t1.jpg").convert("RGB"))
        out["group photo x4.5"] = cv2.resize(
            group, (round(group.shape[1] * 4.5), round(group.shape[0] * 4.5)), interpolation=cv2.INTER_CUBIC
        )
    except Exception as exc:  # noqa: BLE001 - the diffusion extra brings insightface; the astronaut alone still measures
        print(f"(no group photo: {exc})")
    return out


def crop_around_face(image: np.ndarray, box, side: int = 1000) -> np.ndarray:
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    x0 = int(min(max(0, cx - side // 2), image.shape[1] - side))
    y0 = int(min(max(0, cy - side // 2), image.shape[0] - side))
    return image[y0 : y0 + side, x0 : x0 + side].copy()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from chatface.configuration import Configuration
    from chatface.tools.schemas import AttributeEdit
    from chatface.tools.service import EditService

    tmp = Path(tempfile.mkdtemp())
    service = EditService(Configuration(database_url=f"sqlite:///{tmp / 'bench.db'}", max_megapixels=60))
    service.parts()  # models loaded before timing
    for name, image in photos().items():
        box = service.faces(image)[0]
        rows = {}
        for label, img in (("full", image), ("1 MP crop", crop_around_face(image, box))):
            opens, edits, renders = [], [], []
            for i in range(args.repeat):
                t = time.perf_counter()
                editor = service.open_photo(f"{label}.png", image=img)
                opens.append(time.perf_counter() - t)
                tools = service.toolkit(editor)
                t = time.perf_counter()
                _, outcome = tools.apply_attribute(
                    [AttributeEdit(attribute="smiling", strength=0.3 + 0.01 * i)], request="give her a subtle smile"
                )  # a new render each time: no cached score
                edits.append(time.perf_counter() - t)
                renders.append(outcome["attempts"])
                assert outcome["node_seq"] == 1
                stored = editor.image_of(editor.head())
                assert stored.shape == img.shape, (stored.shape, img.shape)  # stored at full size
            rows[label] = (statistics.median(opens), statistics.median(edits))
            print(
                f"{name:26s} {label:10s} {img.shape[1]}x{img.shape[0]} ({img.shape[0] * img.shape[1] / 1e6:4.1f} MP): "
                f"open {rows[label][0]:6.2f}s  edit {rows[label][1]:6.2f}s  (median of {args.repeat}; renders per edit "
                f"{renders[0]}: the first and the self-check's)"
            )
        print(
            f"{name:26s} edit ratio full / crop: {rows['full'][1] / rows['1 MP crop'][1]:.2f} (target <= 2); "
            f"open ratio {rows['full'][0] / rows['1 MP crop'][0]:.2f}"
        )


if __name__ == "__main__":
    main()
