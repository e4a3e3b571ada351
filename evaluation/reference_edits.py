"""``chatface eval edits --reference DIR``: reference-guided edits scored on pairs of faces.

For every photo and every reference photo of a different person, and every attribute asked for, a fresh session
takes the attribute from the reference through the session tools (``apply_reference``: the same strength search,
self-check and commit as a chat request). Each row then says what the reference showed, how far the user's face was
from it before and after, in the attribute meter's own units (models/scorers/attribute_meter), and whether the
edited face is still the same person. An edit that brought the face closer to the reference scores ``closer``; one
the tools declined (the reference shows no lipstick, or about as much as the photo) is a row with its reason, never
counted as a success.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from ..errors import ChatfaceError
from ..models.faces.detection import find_face, landmarks_in_box
from ..models.images import load_image
from ..models.scorers.attribute_meter import METERED, measure
from ..tools.edit_state import strengths
from ..tools.service import EditService
from ..tools.vocabulary import label
from .edits import photo_paths


def _amount(image, box, attribute: str) -> float | None:
    try:
        x0, y0, x1, y1 = (int(v) for v in box)
        return float(measure(image, landmarks_in_box(image, (x0, y0, x1, y1)), attribute))
    except Exception:  # noqa: BLE001 - a face the landmark model loses is an amount that cannot be read, said in the row
        return None


def evaluate_reference_edits(
    photos: str | Path, references: str | Path, attributes: list[str], service: EditService, out_dir: str | Path, progress: bool = True
) -> dict:
    """Score ``attributes`` taken from each photo of ``references`` onto each photo of ``photos``; writes report.json
    and report.md into ``out_dir`` and returns the report."""
    unknown = [a for a in attributes if a not in METERED]
    if unknown:
        raise ValueError(
            f"cannot be read off a reference photo: {', '.join(unknown)} (the attributes with a measure: {', '.join(METERED)})"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    users, refs = photo_paths(photos), photo_paths(references)
    if not refs:
        raise ValueError(f"{references}: no reference photos (.png, .jpg, .jpeg, .webp, .bmp, .tif)")
    parts = service.parts()
    pairs = [(p, r) for p in users for r in refs if p.resolve() != r.resolve()]
    rows: list[dict] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs) * len(attributes), unit="edit", desc=f"eval reference edits ({parts.generator.name})")
    try:
        for photo, ref in pairs:
            try:
                reference = load_image(ref)
                ref_face = find_face(reference, 0)
            except (ChatfaceError, ValueError) as exc:
                rows += [{"photo": photo.name, "reference": ref.name, "attribute": a, "error": f"reference: {exc}"} for a in attributes]
                if bar is not None:
                    bar.update(len(attributes))
                continue
            for attribute in attributes:
                row: dict[str, object] = {"photo": photo.name, "reference": ref.name, "attribute": attribute}
                try:
                    ed = service.open_photo(photo, title=f"eval reference {ref.name}")
                    tools = service.toolkit(ed, reference_dirs=[ref.parent])  # the folder the evaluation was given
                    box = ed.latent().meta["box"]
                    before = ed.image_of(ed.head())
                    text, _ = tools.apply_reference(reference=str(ref), take=[attribute], request=f"the {label(attribute)} of {ref.name}")
                    head = ed.head()
                    after = ed.image_of(head)
                    target = float(measure(reference, ref_face.landmarks, attribute))
                    was, now = _amount(before, box, attribute), _amount(after, box, attribute)
                    row.update(
                        reference_amount=round(target, 3),
                        before=None if was is None else round(was, 3),
                        after=None if now is None else round(now, 3),
                        strength=strengths(head.state).get(attribute) if head.seq > 0 else None,
                        stored=head.seq > 0,
                        reply=text,
                    )
                    if was is not None and now is not None:
                        row.update(
                            distance_before=round(abs(was - target), 3),
                            distance_after=round(abs(now - target), 3),
                            closer=head.seq > 0 and abs(now - target) < abs(was - target),
                        )
                    if head.seq > 0:
                        ident = parts.identity.score(ed.source, after, ed.latent())
                        row.update(
                            identity=round(ident.similarity, 4), identity_distance=round(ident.distance, 4), same_person=ident.same_person
                        )
                except ChatfaceError as exc:
                    row["error"] = str(exc)
                finally:
                    if bar is not None:
                        bar.update(1)
                rows.append(row)
    except KeyboardInterrupt:
        rows.append({"error": "stopped by Ctrl-C; the report covers what was done"})
    finally:
        if bar is not None:
            bar.close()
    report = {
        "engine": parts.generator.name,
        "model_id": parts.model_id,
        "photos": len(users),
        "references": len(refs),
        "attributes": attributes,
        "per_attribute": _aggregate(rows, attributes),
        "rows": rows,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _write_markdown(report, out)
    return report


def _aggregate(rows: list[dict], attributes: list[str]) -> dict:
    """attribute -> pairs, how many were edited, how many came closer, the mean distances and identity."""
    out = {}
    for a in attributes:
        mine = [r for r in rows if r.get("attribute") == a]
        scored = [r for r in mine if "distance_after" in r]
        edited = [r for r in mine if r.get("stored")]

        def mean(key, among):
            values = [r[key] for r in among if r.get(key) is not None]
            return round(statistics.fmean(values), 4) if values else None

        out[a] = {
            "pairs": len(mine),
            "edited": len(edited),
            "declined": sum(1 for r in mine if "error" not in r and not r.get("stored")),
            "errors": sum(1 for r in mine if "error" in r),
            "closer": sum(1 for r in scored if r.get("closer")),
            "distance_before": mean("distance_before", edited),
            "distance_after": mean("distance_after", edited),
            "identity": mean("identity", edited),
            "same_person": sum(1 for r in edited if r.get("same_person")),
        }
    return out


def _write_markdown(report: dict, out: Path) -> None:
    lines = [
        f"# Reference-guided edits: {report['engine']} engine",
        "",
        f"{report['photos']} photo(s) x {report['references']} reference(s). Distances are in the attribute meter's units,",
        "between the user's face and the reference's, over the pairs the tools edited.",
        "",
        "| attribute | pairs | edited | declined | errors | closer | distance before | distance after | identity | same person |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for a, s in report["per_attribute"].items():
        lines.append(
            f"| {label(a)} | {s['pairs']} | {s['edited']} | {s['declined']} | {s['errors']} | {s['closer']} | "
            f"{s['distance_before']} | {s['distance_after']} | {s['identity']} | {s['same_person']} |"
        )
    lines += [
        "",
        "| photo | reference | attribute | reference shows | before | after | strength | closer | identity | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        note = r.get("error") or ("" if r.get("stored") else (r.get("reply") or "")[:120])
        cells = [r.get(k, "") for k in ("photo", "reference", "attribute", "reference_amount", "before", "after", "strength", "closer")]
        lines.append("| " + " | ".join(str(c) for c in [*cells, r.get("identity", ""), note]) + " |")
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
