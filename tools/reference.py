"""Edits guided by a reference photo: "as much smile as in this photo", "give her the lipstick of this photo".

The reference is another person, so nothing of it is copied: each named attribute
is measured on the reference's face (models/scorers/attribute_meter), and the
strength that gives the user's face the same amount is found by rendering the
user's photo at a few strengths with this session's engine and measuring the
renders the same way. That works for every engine whose renders show the
attribute. Where the engine paints a colour (the offline lipstick), the colour
itself is read off the reference's lips and travels in the edit state, so the
node re-renders bit for bit. The strengths found then go through the ordinary
apply_attribute: the same self-check, commit, undo and history as every edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..models.faces.detection import find_face, landmarks_in_box
from ..models.scorers.attribute_meter import METERED, NATURAL_LIPS, lip_colour, measure
from .edit_state import apply_changes, strengths
from .editor import SessionEditor
from .vocabulary import label

PROBES = (0.3, 0.6, 1.0)  # the strengths rendered on each side to find the one that matches the reference
COLOURED = ("lipstick",)  # the attributes whose colour an engine may take from the reference (Generator.takes_colour)


@dataclass(frozen=True)
class ReferenceReading:
    """What the reference showed, and the strength found for each attribute on the user's photo."""

    strengths: dict[str, float]  # attribute -> strength that matches the reference (rounded to 0.05)
    colours: dict[str, str] = field(default_factory=dict)  # attribute -> "#rrggbb" read off the reference
    notes: list[str] = field(default_factory=list)  # what could not be matched, in words
    measured: dict[str, tuple[float, float]] = field(default_factory=dict)  # attribute -> (reference, user's photo now)


def _face_landmarks(image: np.ndarray, box) -> np.ndarray | None:
    try:
        x0, y0, x1, y1 = (int(v) for v in box)
        return landmarks_in_box(image, (x0, y0, x1, y1))
    except Exception:  # noqa: BLE001 - a render whose face the landmark model loses is a probe that says nothing
        return None


def read_reference(editor: SessionEditor, reference: np.ndarray, attributes: list[str], *, face_index: int = 0) -> ReferenceReading:
    """Measure ``attributes`` on the reference's face and find, for each, the strength on this session's photo
    that shows as much of it. Raises ValueError when the reference has no face."""
    ref_face = find_face(reference, face_index)
    head = editor.head()
    box = editor.latent().meta["box"]
    current = editor.image_of(head)
    now_lm = _face_landmarks(current, box)
    signs: dict[str, set[int]] = {o.attribute: set() for o in editor.offers()}
    for o in editor.offers():
        signs[o.attribute].add(o.sign)
    found: dict[str, float] = {}
    colours: dict[str, str] = {}
    notes: list[str] = []
    measured: dict[str, tuple[float, float]] = {}
    for a in attributes:
        if a not in METERED:
            notes.append(f"{label(a)}: no measure of it on a single face, so it cannot be read off a photo")
            continue
        if a not in signs:
            notes.append(f"{label(a)}: the {editor.engine_name} engine cannot do it")
            continue
        colour = None
        if a in COLOURED and editor.engine.generator.takes_colour(a):
            colour = editor.engine.generator.colour_for(a, lip_colour(reference, ref_face.landmarks).rgb)
        target = measure(reference, ref_face.landmarks, a)
        if a == "lipstick" and target < NATURAL_LIPS:
            notes.append(f"{label(a)}: the reference's lips look natural (no lipstick that can be told from lips)")
            continue
        base = measure(current, now_lm, a) if now_lm is not None else None
        if base is None:
            notes.append(f"{label(a)}: the face in the current version could not be measured")
            continue
        measured[a] = (round(target, 3), round(base, 3))
        now = strengths(head.state).get(a, 0.0)
        probes = [(now, base)]
        for sign in sorted(signs[a]):
            for p in PROBES:
                s = float(np.clip(now + sign * p, -1.0, 1.0))
                if any(abs(s - q) < 1e-6 for q, _ in probes):
                    continue
                state = apply_changes(
                    head.state, [(a, s, None)], "set", t_edit_defaults=editor.t_edit_defaults([a]), colours={a: colour} if colour else None
                )
                lm = _face_landmarks(image := editor.render(state), box)
                if lm is not None:
                    probes.append((s, measure(image, lm, a)))
        s = round(_matching_strength(probes, target) * 20) / 20
        if abs(s) >= 1.0 and (target - max(m for _, m in probes)) * np.sign(s) > 0:
            further = "more" if s > 0 else "less"  # a reference beyond the engine's range, on the side it was looked for
            notes.append(f"{label(a)}: the reference shows {further} than the {editor.engine_name} engine can paint; {s:+.2f} is its most")
        if abs(s - now) < 0.05:
            notes.append(_why_unchanged(a, probes, target, base, signs[a], editor.engine_name))
            continue
        if colour and s < now:
            notes.append(f"{label(a)}: the reference shows less of it than this photo, so there is no colour to take")
            continue
        if colour:
            colours[a] = colour
        found[a] = s
    return ReferenceReading(found, colours, notes, measured)


def _why_unchanged(attribute: str, probes: list[tuple[float, float]], target: float, base: float, signs: set[int], engine: str) -> str:
    """Why the strength found is the one the photo has: it shows about as much as the reference, or the reference
    lies the way this engine cannot go (less smile than the photo, where the engine only adds one)."""
    pts = sorted(probes)
    ys = [m for _, m in pts]
    span = max(ys) - min(ys)  # how far the engine's strengths move the measure: what "about as much" is against
    rising = pts[-1][1] >= pts[0][1]  # the measure grows with the strength
    needed = (1 if target > base else -1) * (1 if rising else -1)  # the sign of the strength change the reference asks for
    if span > 0 and abs(target - base) > 0.1 * span and needed not in signs:
        return (
            f"{label(attribute)}: the reference shows {'more' if target > base else 'less'} of it than this photo, and the "
            f"{engine} engine can only {'add' if needed < 0 else 'take away'} it"
        )
    return f"{label(attribute)}: the photo already shows about as much as the reference"


def _matching_strength(probes: list[tuple[float, float]], target: float) -> float:
    """The strength whose measure equals ``target``, by linear interpolation between the probes in strength order;
    past the last probe, the last probe's strength (the engine's range ends there)."""
    pts = sorted(probes)
    xs, ys = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    rising = ys[-1] >= ys[0]
    if not rising:
        ys = -ys
        target = -target
    ys = np.maximum.accumulate(ys)  # noisy probes made monotone, so the interpolation has one answer
    if target <= ys[0]:
        return float(xs[0])
    if target >= ys[-1]:
        return float(xs[-1])
    return float(np.interp(target, ys, xs))
