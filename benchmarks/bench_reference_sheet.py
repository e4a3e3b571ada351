"""Contact sheet of reference-guided edits: each row is a photo, a reference photo of another person, and the photo
given the reference's lipstick and its smile (apply_reference through the session tools, self-check included).

    python -m chatface.benchmarks.bench_reference_sheet --photos DIR --out sheet.png [--take lipstick smiling]

Prints, per pair, the strengths read off the reference, the lipstick colour taken, and the seconds each took.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def _crop(image: np.ndarray, box, side: int = 256) -> Image.Image:
    x0, y0, x1, y1 = box
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, 0.8 * max(x1 - x0, y1 - y0)
    h, w = image.shape[:2]
    a, b = int(max(0, cx - r)), int(max(0, cy - r))
    c, d = int(min(w, cx + r)), int(min(h, cy + r))
    return Image.fromarray(image[b:d, a:c]).resize((side, side), Image.LANCZOS)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", required=True, help="a folder of face photos (each is used as photo and as reference)")
    ap.add_argument("--out", default="reference-sheet.png")
    ap.add_argument("--take", nargs="+", default=["lipstick", "smiling"])
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--references", nargs="*", default=[], help="file names in --photos to use as references (default: every photo)")
    args = ap.parse_args()

    from ..errors import NoFaceError
    from ..memory.store import Store
    from ..models.engines.catalog import load_engine
    from ..models.faces.detection import find_face
    from ..models.images import load_image
    from ..tools.editor import open_photo
    from ..tools.toolkit import SessionToolkit

    photos = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    refs = [p for p in photos if p.name in args.references] or photos
    pairs = [(a, b) for a, b in itertools.product(photos, refs) if a != b]
    pairs = pairs[:: max(1, len(pairs) // args.pairs)][: args.pairs]
    parts = load_engine("offline")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        for photo, ref in pairs:
            ref_img = load_image(ref)
            try:
                ref_box = find_face(ref_img).box
                ed = open_photo(store, parts, str(photo))
            except NoFaceError as exc:
                print(f"{photo.name} <- {ref.name}: skipped ({exc})")
                continue
            row = []
            box = ed.latent().meta["box"]
            row.append(_crop(ed.source, box))
            row.append(_crop(ref_img, ref_box))
            for a in args.take:
                kit = SessionToolkit(ed, None, reference_dirs=None)
                ed.store.checkout(ed.session_id, 0, owner=ed.owner)
                t = time.perf_counter()
                text, art = kit.apply_reference(str(ref), [a])
                seconds = time.perf_counter() - t
                state = art.get("state", {})
                print(f"{photo.name} <- {ref.name} [{a}]: {state.get(a)} ({seconds:.2f} s) | {text[:160]}")
                row.append(_crop(ed.image_of(ed.head()), box))
            rows.append(row)
        store.close()
    side = 256
    sheet = Image.new("RGB", (side * (2 + len(args.take)), (side + 18) * len(rows) + 18), "white")
    draw = ImageDraw.Draw(sheet)
    for i, name in enumerate(["photo", "reference", *args.take]):
        draw.text((i * side + 6, 2), name, fill="black")
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            sheet.paste(tile, (c * side, 18 + r * (side + 18)))
    sheet.save(args.out)
    print(f"wrote {args.out} ({len(rows)} pairs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
