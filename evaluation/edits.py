"""Edit quality of an engine on a folder of photos: identity, direction, preservation, per attribute and strength.

For each photo with a face, each attribute and each strength, the engine
renders the edit from the photo's one inversion and is scored as ChatFace and
its peers report it:

- identity similarity before/after (the engine's identity scorer: dlib
  offline, ArcFace with the diffusion engine), and whether it is still the
  same person;
- direction (the engine's direction scorer: measured change offline, CLIP
  directional similarity with the diffusion engine);
- preservation: SSIM and PSNR over the pixels outside the engine's edit
  region (and over the whole photo);
- LPIPS and FID only when their weights are available locally; otherwise the
  report says they were not computed and why.

Photos without a usable face are listed in the report, never fatal.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..models.base import ChatfaceModelError, EditSpec
from ..models.engines.catalog import EngineParts
from ..models.images import IMAGE_SUFFIXES, load_image
from ..tools.vocabulary import default_vocabulary

DEFAULT_STRENGTHS = (0.3, 0.6, 0.9)


@dataclass(frozen=True)
class AttributeRequest:
    attribute: str
    sign: int  # +1, or -1 for the negative direction ("-age" = younger)

    @property
    def label(self) -> str:
        return self.attribute if self.sign > 0 else f"-{self.attribute}"


def parse_attributes(text: str) -> list[AttributeRequest]:
    """ "smiling,eyeglasses,-age" -> requests; unknown ids raise ValueError naming the closest ones."""
    vocab = default_vocabulary()
    out = []
    for raw in (t.strip() for t in text.split(",")):
        if not raw:
            continue
        sign = -1 if raw.startswith("-") else 1
        name = raw.lstrip("-+")
        if name not in vocab:
            close = vocab.closest(name)
            raise ValueError(f"unknown attribute {name!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
        out.append(AttributeRequest(name, sign))
    if not out:
        raise ValueError("no attributes given")
    return out


def photo_paths(path: str | Path) -> list[Path]:
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise FileNotFoundError(f"no such file or folder: {p}")
    return sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)) if a.size else 0.0
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def preservation(before: np.ndarray, after: np.ndarray, region: np.ndarray | None) -> dict:
    """SSIM and PSNR of the whole photo and of the pixels outside the edit region."""
    from skimage.metrics import structural_similarity

    ssim_full, ssim_map = structural_similarity(before, after, channel_axis=2, data_range=255, full=True)
    out: dict[str, float | str | None] = {"ssim": round(float(ssim_full), 4), "psnr": _finite(_psnr(before, after))}
    if region is None or region.all():
        out.update({"ssim_outside": None, "psnr_outside": None})
    else:
        outside = ~region
        out["ssim_outside"] = round(float(ssim_map.mean(axis=2)[outside].mean()), 4)
        out["psnr_outside"] = _finite(_psnr(before[outside], after[outside]))
    return out


def _finite(x: float) -> float | str:
    return "inf" if math.isinf(x) else round(x, 2)


def optional_metrics() -> dict[str, str]:
    """LPIPS and FID: which could be computed here, and why not."""
    status = {}
    try:
        import lpips  # noqa: F401

        status["lpips"] = "not computed: lpips is installed but its backbone weights (AlexNet from torchvision) are not known to be local"
    except ImportError:
        status["lpips"] = "not computed: the lpips package and its AlexNet weights are not available"
    status["fid"] = "not computed: FID needs Inception-v3 weights and hundreds of images per attribute; none are available locally"
    return status


def evaluate_edits(
    photos: str | Path,
    requests: list[AttributeRequest],
    parts: EngineParts,
    out_dir: str | Path,
    strengths=DEFAULT_STRENGTHS,
    progress: bool = True,
) -> dict:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vocab = default_vocabulary()
    gen = parts.generator
    supported = gen.supported_attributes()
    unsupported = {}
    usable = []
    for r in requests:
        pos, neg = supported.get(r.attribute, (False, False))
        if (r.sign > 0 and pos) or (r.sign < 0 and neg):
            usable.append(r)
        else:
            unsupported[r.label] = f"the {gen.name} engine cannot render this direction"
    paths = photo_paths(photos)
    rows, skipped, sheets = [], [], []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=len(paths) * max(1, len(usable)) * len(strengths), unit="edit", desc=f"eval edits ({gen.name})", dynamic_ncols=True
        )
    try:
        for path in paths:
            try:
                image = load_image(path)
                latent = gen.invert(image)
            except ChatfaceModelError as exc:
                skipped.append({"photo": str(path), "reason": str(exc)})
                if bar is not None:
                    bar.update(len(usable) * len(strengths))
                continue
            region = gen.edit_region(image, latent)
            strongest = []
            for r in usable:
                attr = vocab[r.attribute]
                for s in strengths:
                    strength = r.sign * float(s)
                    try:
                        edited = gen.decode(image, latent, {r.attribute: EditSpec(strength, attr.default_t_edit)})
                    except ChatfaceModelError as exc:
                        rows.append({"photo": path.name, "attribute": r.label, "strength": strength, "error": str(exc)})
                        continue
                    finally:
                        if bar is not None:
                            bar.update(1)
                    ident = parts.identity.score(image, edited, latent)
                    text_a, text_b = attr.text_pair(strength)
                    direction = parts.direction.direction(
                        image, edited, text_a, text_b, attribute=r.attribute, strength_sign=strength, face_hint=latent
                    )
                    rows.append(
                        {
                            "photo": path.name,
                            "attribute": r.label,
                            "strength": strength,
                            "identity": round(ident.similarity, 4),
                            "identity_distance": round(ident.distance, 4),
                            "same_person": ident.same_person,
                            "direction": round(float(direction), 4),
                            **preservation(image, edited, region),
                        }
                    )
                    if s == max(strengths):
                        strongest.append((r.label, edited))
            sheets.append(_contact_sheet(path, image, strongest, out))
    except KeyboardInterrupt:
        skipped.append({"photo": "(interrupted)", "reason": "stopped by Ctrl-C; the report covers what was done"})
    finally:
        if bar is not None:
            bar.close()
    report = {
        "engine": gen.name,
        "model_id": parts.model_id,
        "photos": len(paths),
        "photos_skipped": skipped,
        "strengths": list(strengths),
        "unsupported": unsupported,
        "not_computed": optional_metrics(),
        "per_attribute": _aggregate(rows),
        "rows": rows,
        "contact_sheets": [s for s in sheets if s],
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _write_markdown(report, out)
    return report


def _aggregate(rows: list[dict]) -> dict:
    """attribute -> strength -> means over photos."""
    keys = ("identity", "identity_distance", "direction", "ssim", "psnr", "ssim_outside", "psnr_outside")
    table: dict[str, dict[str, list[dict]]] = {}
    for r in rows:
        if "error" in r:
            continue
        table.setdefault(r["attribute"], {}).setdefault(f"{r['strength']:+.2f}", []).append(r)
    out: dict[str, dict[str, dict]] = {}
    for attr, by_s in table.items():
        out[attr] = {}
        for s, rs in sorted(by_s.items(), key=lambda kv: float(kv[0])):
            agg: dict[str, float | str | None] = {"n": len(rs), "same_person_rate": round(sum(r["same_person"] for r in rs) / len(rs), 4)}
            for k in keys:
                read = [math.inf if r.get(k) == "inf" else r.get(k) for r in rs]
                vals = [float(v) for v in read if isinstance(v, (int, float))]
                mean = statistics.fmean(vals) if vals else None
                agg[k] = None if mean is None else ("inf" if math.isinf(mean) else round(mean, 4))
            out[attr][s] = agg
    return out


def _contact_sheet(path: Path, image: np.ndarray, edits: list[tuple[str, np.ndarray]], out: Path) -> str | None:
    """Before and the strongest edit of each attribute, side by side with labels."""
    if not edits:
        return None
    from PIL import Image, ImageDraw

    tile = 256
    items = [("original", image)] + edits
    cols = min(6, len(items))
    rows = math.ceil(len(items) / cols)
    sheet = Image.new("RGB", (cols * tile, rows * (tile + 18)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, img) in enumerate(items):
        im = Image.fromarray(img)
        im.thumbnail((tile, tile))
        x, y = (i % cols) * tile, (i // cols) * (tile + 18)
        sheet.paste(im, (x + (tile - im.width) // 2, y + 18 + (tile - im.height) // 2))
        draw.text((x + 4, y + 3), label, fill="black")
    name = f"contact_{path.stem}.png"
    sheet.save(out / name)
    return name


def _write_markdown(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = [
        f"# Edit quality: {report['engine']} engine",
        "",
        f"{report['photos']} photo(s), {len(report['photos_skipped'])} skipped; strengths {report['strengths']}.",
        "",
    ]
    lines += [
        "Identity: similarity of the edited face to the original (and the share still judged the same person). "
        "Direction: the engine's direction score toward the attribute. SSIM / PSNR outside: preservation of the "
        "pixels outside the engine's edit region.",
        "",
    ]
    lines += [
        "| attribute | strength | n | identity | same person | direction | SSIM | PSNR | SSIM outside | PSNR outside |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    fmt = lambda v: "n/a" if v is None else ("identical" if v == "inf" else f"{v:.3f}" if isinstance(v, float) else str(v))  # noqa: E731
    for attr, by_s in report["per_attribute"].items():
        for s, a in by_s.items():
            lines.append(
                f"| {attr} | {s} | {a['n']} | {fmt(a['identity'])} | {fmt(a['same_person_rate'])} | {fmt(a['direction'])} | "
                f"{fmt(a['ssim'])} | {fmt(a['psnr'])} | {fmt(a['ssim_outside'])} | {fmt(a['psnr_outside'])} |"
            )
    lines.append("")
    if report["per_attribute"]:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for attr, by_s in report["per_attribute"].items():
            xs = [abs(float(s)) for s in by_s]
            axes[0].plot(xs, [a["identity"] for a in by_s.values()], marker="o", label=attr)
            axes[1].plot(xs, [a["direction"] for a in by_s.values()], marker="o", label=attr)
        axes[0].set_title("identity similarity vs strength")
        axes[1].set_title("direction score vs strength")
        for ax in axes:
            ax.set_xlabel("|strength|")
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(out / "scores_vs_strength.png", dpi=110)
        plt.close(fig)
        lines += ["![scores vs strength](scores_vs_strength.png)", ""]
    for name in report["contact_sheets"]:
        lines += [f"![{name}]({name})", ""]
    if report["unsupported"]:
        lines += ["## Not supported by this engine", ""] + [f"- {a}: {why}" for a, why in report["unsupported"].items()] + [""]
    lines += ["## Not computed", ""] + [f"- {k}: {why}" for k, why in report["not_computed"].items()] + [""]
    if report["photos_skipped"]:
        lines += ["## Photos skipped", ""] + [f"- {s['photo']}: {s['reason']}" for s in report["photos_skipped"]] + [""]
    errors = [r for r in report["rows"] if "error" in r]
    if errors:
        lines += (
            ["## Edits that failed", ""] + [f"- {r['photo']} {r['attribute']} {r['strength']:+.2f}: {r['error']}" for r in errors] + [""]
        )
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
