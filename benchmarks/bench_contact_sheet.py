"""Contact sheets of the offline engine: every kept attribute at 0.3, 0.6 and 0.9 on real faces, with scores.

Issue 11: an attribute is kept only when it looks like a photograph at all three strengths on several faces.
This renders scikit-image's astronaut and each of the six faces of insightface's ``t1.jpg`` (the first one
also upscaled to about 1 MP), writes one grid image per photo (rows: attributes; columns: the photo, then
0.3, 0.6, 0.9, cropped to the face and enlarged so a subtle change can be seen), and prints a table of
identity (dlib distance), direction and realism scores. Look at every grid before calling an attribute kept.

    python benchmarks/bench_contact_sheet.py --out contact-sheets [--attributes smiling,lipstick,-lipstick] [--photos DIR]

``--broken`` renders, on the same faces, edits that are deliberately not photographs (neon lips, a pasted
patch, a flat-painted cheek, noise on the skin, a hard-edged tan, bug eyes from an over-driven warp) and
prints how many of each the realism check flags: its misses. Its false alarms are the flags on the kept
edits above, once you have graded their grids as photographs.

``--photos DIR`` adds every face (box of 60 px or more) of every photo in DIR: grade on faces the engine's
authors have not tuned on (public test photos of face_recognition and dlib were used for issue 22).
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


def photos(extra_dir: str | None = None, per_photo: int = 4) -> list[tuple[str, np.ndarray, int]]:
    """(name, image, face index) of every face this machine has, and of the photos in ``extra_dir``."""
    import insightface
    from skimage import data

    t1 = cv2.cvtColor(cv2.imread(os.path.join(os.path.dirname(insightface.__file__), "data", "images", "t1.jpg")), cv2.COLOR_BGR2RGB)
    out = [("astronaut", data.astronaut(), 0)] + [(f"t1-face{i}", t1, i) for i in range(6)]
    from chatface.models.faces.detection import find_face

    box = find_face(t1, 0).box  # one face upscaled to about 1 MP, as a phone photo of one person would be
    x0, y0, x1, y1 = box
    size = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    crop = t1[max(0, cy - size * 2) : cy + size * 2, max(0, cx - size * 2) : cx + size * 2]
    scale = 1000 / max(crop.shape[:2])
    out.append(("t1-face0-1MP", cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), 0))
    if extra_dir:
        from chatface.models.faces.detection import detect_faces
        from chatface.models.images import load_image

        for path in sorted(Path(extra_dir).iterdir()):
            if path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp"):
                continue
            image = load_image(path)
            for i, face in enumerate(detect_faces(image)[:per_photo]):
                if face.size >= 60:
                    out.append((f"{path.stem}-face{i}", image, i))
    return out


def broken_edits(image: np.ndarray, latent) -> dict[str, np.ndarray]:
    """Edits that do not pass for a photograph, each the way an earlier or a careless edit gave itself away."""
    from chatface.models.engines.offline import colour
    from chatface.models.engines.offline.warps import DisplacementField
    from chatface.models.faces import regions as fr

    x0, y0, x1, y1 = latent.meta["roi"]
    roi = image[y0:y1, x0:x1].astype(np.float32)
    lm = latent.arrays["landmarks"].astype(np.float64) - np.array([x0, y0])
    u = fr.unit(lm)
    out: dict[str, np.ndarray] = {}
    lips = fr.lips(roi.shape, lm, u)
    out["neon lips"] = colour.recolour(roi, lips, (255, 0, 255), 1.0, 0.6, 1.0)
    cheeks = fr.cheeks(roi, lm, u)
    flat = roi.copy()
    flat[cheeks > 0.3] = roi[cheeks > 0.3].mean(0)
    out["flat cheek paint"] = flat
    patch = roi.copy()
    c = lm[fr.RIGHT_EYE].mean(0) + [0, 0.7 * u]
    r = int(0.22 * u)
    cy, cx = int(c[1]), int(c[0])
    patch[cy - r : cy + r, cx - r : cx + r] = roi[cy - r : cy + r, cx - r : cx + r] * 0.75 + np.array([60, 0, 0]) * 0.25
    out["pasted patch"] = patch
    rng = np.random.default_rng(0)
    skin = fr.skin(roi, lm, u)
    out["noise on the skin"] = roi + rng.normal(0, 14, roi.shape).astype(np.float32) * skin[..., None]
    hard = (fr.all_skin(roi, lm, u) > 0.4).astype(np.float32)
    out["hard-edged tan"] = colour.shift(roi, hard, colour.TAN, 1.0)
    field = DisplacementField(*roi.shape[:2])
    for sl in (fr.RIGHT_EYE, fr.LEFT_EYE):
        pts = lm[sl]
        field.add_scale(pts.mean(0), 0.6, 1.05 * float(np.linalg.norm(pts[3] - pts[0])), aspect=0.8)
    out["bug eyes"] = field.apply(roi)
    full = {}
    for name, region in out.items():
        img = image.copy()
        img[y0:y1, x0:x1] = np.clip(np.round(region), 0, 255).astype(np.uint8)
        full[name] = img
    return full


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
    ap.add_argument("--photos", default=None, help="a folder of more photos: every face in them is rendered too")
    ap.add_argument("--strengths", default="0.3,0.6,0.9")
    ap.add_argument("--faces-per-photo", type=int, default=4, help="the largest faces of each photo in --photos")
    ap.add_argument("--broken", action="store_true", help="also render deliberately broken edits and count the realism check's misses")
    ap.add_argument("--blind", action="store_true", help="tiles name only the edit and strength, not the check's verdict (for a grader)")
    args = ap.parse_args()
    strengths = tuple(float(v) for v in args.strengths.split(","))
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    requests = [(a.lstrip("-"), -1.0 if a.startswith("-") else 1.0) for a in args.attributes.split(",") if a]

    from chatface.tools.vocabulary import default_vocabulary

    vocab = default_vocabulary()
    print(
        f"{'photo':24s} {'attribute':12s} {'s':>4s} {'id dist':>7s} {'same':>4s} {'dir':>6s} {'seam':>5s} {'texture':>7s} "
        f"{'gamut':>5s} {'dE':>5s} realism"
    )
    started = time.perf_counter()
    renders = 0
    missed: dict[str, int] = {}
    judged: dict[str, int] = {}
    for name, image, index in photos(args.photos, args.faces_per_photo):
        parts = load_engine("offline", face_index=index)
        latent = parts.generator.invert(image)
        roi = latent.meta["roi"]
        bx0, by0, bx1, by1 = latent.meta["box"]
        face_size = max(bx1 - bx0, by1 - by0)
        rows = []
        for attr, sign in requests:
            label = attr if sign > 0 else f"-{attr}"
            row = [_tile(image, roi, f"{name} (photo)")]
            for s in strengths:
                strength = sign * s
                edited = parts.generator.decode(image, latent, {attr: EditSpec(strength, vocab[attr].default_t_edit)})
                renders += 1
                ident = parts.identity.score(image, edited, latent)
                text_a, text_b = vocab[attr].text_pair(strength)
                d = parts.direction.direction(image, edited, text_a, text_b, attribute=attr, strength_sign=strength, face_hint=latent)
                r = parts.realism.score(
                    image, edited, roi, face_size=face_size, landmarks=latent.arrays["landmarks"]
                )  # as the self-check judges it
                verdict = "ok" if r.ok else ",".join(r.problems)
                print(
                    f"{name:24s} {label:12s} {strength:+.1f} {ident.distance:7.3f} {'yes' if ident.same_person else 'NO':>4s} {d:+6.2f} "
                    f"{r.seam:5.2f} {r.texture:7.2f} {r.gamut:5.2f} {r.visible:5.1f} {verdict}"
                )
                row.append(_tile(edited, roi, f"{label} {strength:+.1f}" + ("" if args.blind else f" {verdict}")))
            rows.append(np.hstack(row))
        if args.broken:
            row = [_tile(image, roi, f"{name} (photo)")]
            for what, edited in broken_edits(image, latent).items():
                r = parts.realism.score(image, edited, roi, face_size=face_size, landmarks=latent.arrays["landmarks"])
                missed[what] = missed.get(what, 0) + (1 if r.ok else 0)
                judged[what] = judged.get(what, 0) + 1
                row.append(_tile(edited, roi, what if args.blind else f"{what}: {'MISSED' if r.ok else ','.join(r.problems)}"))
            rows.append(np.hstack(row))
        width = max(r.shape[1] for r in rows)
        grid = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows])
        save_image(grid, out_dir / f"{name}.png")
    if judged:
        print("\nbroken edits the realism check passed (its misses):")
        for what in judged:
            print(f"  {what:18s} {missed[what]:3d} of {judged[what]}")
        total = sum(judged.values())
        print(f"  {'all':18s} {sum(missed.values()):3d} of {total} ({sum(missed.values()) / total:.0%})")
    elapsed = time.perf_counter() - started
    print(f"\n{renders} renders in {elapsed:.1f} s ({elapsed / max(renders, 1) * 1000:.0f} ms each, with scoring); grids in {out_dir}/")


if __name__ == "__main__":
    main()
