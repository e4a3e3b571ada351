"""Contact sheets of the offline engine: every kept attribute at 0.3, 0.6 and 0.9 on real faces, with scores.

Issue 11: an attribute is kept only when it looks like a photograph at all three strengths on several faces.
This renders scikit-image's astronaut and each of the six faces of insightface's ``t1.jpg`` (the first one
also upscaled to about 1 MP), writes one grid image per photo (rows: attributes; columns: the photo, then
0.3, 0.6, 0.9, cropped to the face and enlarged so a subtle change can be seen), and prints a table of
identity (dlib distance), direction and realism scores. Look at every grid before calling an attribute kept.

    python benchmarks/bench_contact_sheet.py --out contact-sheets [--attributes smiling,lipstick,-lipstick]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np
from chatface.models.base import EditSpec
from chatface.models.engines.catalog import load_engine
from chatface.models.images import save_image

STRENGTHS = (0.3, 0.6, 0.9)
TILE = 256


def photos() -> list[tuple[str, np.ndarray, int]]:
    """(name, image, face index) of every face this machine has."""
    import insightface
    from skimage import data

    t1 = cv2.cvtColor(cv2.imread(os.path.join(os.path.dirname(insightface.__file__), "data", "images", "t1.jpg")), cv2.COLOR_BGR2RGB)
    out = [("astronaut", data.astronaut(), 0)] + [(f"t1-face{i}", t1, i) for i in range(6)]
    from chatface.models.faces.detection import find_face

    box = find_face(t1, 0).box  # one face upscaled to about 1 MP, as a phone photo of one person would be
    x0, y0, x1, y1 = box
    size = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    crop = t1[max(0, cy - size * 2):cy + size * 2, max(0, cx - size * 2):cx + size * 2]
    scale = 1000 / max(crop.shape[:2])
    out.append(("t1-face0-1MP", cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), 0))
    return out


def _tile(image: np.ndarray, roi, label: str) -> np.ndarray:
    x0, y0, x1, y1 = roi
    crop = image[y0:y1, x0:x1]
    scale = TILE / crop.shape[0]
    tile = cv2.resize(crop, (max(1, int(crop.shape[1] * scale)), TILE), interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    tile = np.ascontiguousarray(tile)
    cv2.putText(tile, label, (4, TILE - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="contact-sheets")
    ap.add_argument("--attributes", default="smiling,lipstick,-lipstick")
    args = ap.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    requests = [(a.lstrip("-"), -1.0 if a.startswith("-") else 1.0) for a in args.attributes.split(",") if a]

    from chatface.tools.vocabulary import default_vocabulary

    vocab = default_vocabulary()
    print(f"{'photo':14s} {'attribute':10s} {'s':>4s} {'id dist':>7s} {'same':>4s} {'dir':>6s} {'seam':>5s} {'texture':>7s} "
          f"{'gamut':>5s} {'dE':>5s} realism")
    started = time.perf_counter()
    renders = 0
    for name, image, index in photos():
        parts = load_engine("offline", face_index=index)
        latent = parts.generator.invert(image)
        roi = latent.meta["roi"]
        rows = []
        for attr, sign in requests:
            label = attr if sign > 0 else f"-{attr}"
            row = [_tile(image, roi, f"{name} (photo)")]
            for s in STRENGTHS:
                strength = sign * s
                edited = parts.generator.decode(image, latent, {attr: EditSpec(strength, vocab[attr].default_t_edit)})
                renders += 1
                ident = parts.identity.score(image, edited, latent)
                text_a, text_b = vocab[attr].text_pair(strength)
                d = parts.direction.direction(image, edited, text_a, text_b, attribute=attr, strength_sign=strength, face_hint=latent)
                r = parts.realism.score(image, edited, roi)
                verdict = "ok" if r.ok else ",".join(r.problems)
                print(f"{name:14s} {label:10s} {strength:+.1f} {ident.distance:7.3f} {'yes' if ident.same_person else 'NO':>4s} {d:+6.2f} "
                      f"{r.seam:5.2f} {r.texture:7.2f} {r.gamut:5.2f} {r.visible:5.1f} {verdict}")
                row.append(_tile(edited, roi, f"{label} {strength:+.1f} {verdict}"))
            rows.append(np.hstack(row))
        width = max(r.shape[1] for r in rows)
        grid = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows])
        save_image(grid, out_dir / f"{name}.png")
    elapsed = time.perf_counter() - started
    print(f"\n{renders} renders in {elapsed:.1f} s ({elapsed / max(renders, 1) * 1000:.0f} ms each, with scoring); grids in {out_dir}/")


if __name__ == "__main__":
    main()
