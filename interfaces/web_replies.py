"""What the web page says after an edit: plain words first, the numbers in a detail to open.

The tools' replies are written for a planner and for logs ("Check: identity
0.938 (distance 0.513, same person); eyeglasses direction +1.00"). A person
editing a photo wants "Done: smile (subtle) and lipstick. It still looks like
the same person." This module turns an edit's typed outcomes (EditOutcome
artifacts) and the attempts the self-check stored into those two parts. When
the self-check kept a strength other than the one asked for ("a subtle
smile" ending at +0.65), the plain part says so and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..tools.edit_state import attempt_realism, attempt_strengths
from ..tools.editor import Evaluation, RealismScore
from ..tools.results import EditOutcome, EditSpec
from ..tools.selfcheck import SelfCheckReason
from ..tools.service import StoredAttempt
from ..tools.vocabulary import default_vocabulary, label, people_label, style_digest


@dataclass(frozen=True)
class PlainReply:
    text: str  # plain words, shown as the reply
    details: str  # markdown: the check's numbers and every attempt with its thresholds ("" when there are none)


def strength_word(strength: float) -> str:
    s = abs(strength)
    return "subtle" if s <= 0.35 else "medium" if s <= 0.7 else "strong"


def name_of(key: str, strength: float) -> str:
    """A short name for an attribute at ``strength``: "smile", "serious", "younger", "glasses", '"a pirate hat"'."""
    vocab = default_vocabulary()
    if key not in vocab:
        return label(key)
    attr = vocab[key]
    names = attr.positive_synonyms if strength >= 0 or not attr.negative_synonyms else attr.negative_synonyms
    return names[0] if names else key.replace("_", " ")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


WHY_KEPT = {  # SelfCheckReason values (tools/selfcheck.py) -> the reply's reason; a rewording of the notes changes nothing here
    "identity": "stronger, the face no longer looked like the same person",
    "artefacts": "stronger, it did not look like a photograph",
    "too_weak": "weaker, the change could not be seen on this photo",
}


def _why_kept(reason: SelfCheckReason) -> str:
    return WHY_KEPT.get(reason.value, "the self-check found it worked better")


def edit_sentences(outcome: EditOutcome) -> list[str]:
    """Plain sentences about one apply_attribute outcome."""
    out = list(outcome.not_done)
    state, asked, changed, visible = outcome.strengths(), outcome.asked, outcome.changed, outcome.visible_changes
    if outcome.from_reference:
        taken = [
            f"{name_of(a, state[a])} ({strength_word(state[a])})" + (" in its colour" if outcome.state[a].colour else "")
            for a in outcome.from_reference
            if a in state and style_digest(a) is None
        ]
        styles = [f"its style ({strength_word(state[a])})" for a in outcome.from_reference if a in state and style_digest(a) is not None]
        out.append(f"From the reference photo: {_and(taken)}, as much as it shows." if taken else "")
        out.append(f"From the reference photo: {_and(styles)}, with this face kept." if styles else "")
        out += [f"{note[0].upper()}{note[1:]}." for note in outcome.reference_notes]
        out = [o for o in out if o]
    if not changed:
        return out or ["Nothing changed."]
    # what came from a reference is said above, with where it came from
    shown = [f"{name_of(a, state[a])} ({strength_word(state[a])})" for a in visible if a in state and a not in outcome.from_reference]
    if shown:
        out.append(f"Done: {_and(shown)}.")
    if outcome.removed:
        out.append(f"Removed: {_and([label(a) for a in outcome.removed])}.")
    weak = [a for a in changed if a in state and a not in visible]
    if weak:
        out.append(
            f"The {_and([name_of(a, state[a]) for a in weak])} change is too weak to see on this photo; it is kept in the "
            "history, so you can make it stronger or undo it."
        )
    kept_other = [a for a in changed if a in state and a in asked and abs(state[a] - asked[a]) > 0.005]
    if kept_other and outcome.self_check:
        why = _why_kept(outcome.self_check_reason)
        parts = [
            f"{name_of(a, state[a])} {state[a]:+.2f} instead of the {strength_word(asked[a])} {asked[a]:+.2f} you asked for"
            for a in kept_other
        ]
        out.append(f"I kept {_and(parts)}: {why}. Move its slider or say so to change it.")
    scores = outcome.scores
    if scores is not None and (visible or weak):
        if scores.same_person:
            out.append("It still looks like the same person.")
        else:
            out.append("Careful: the face no longer matches the original person closely.")
        problems = list(scores.artefacts.values())
        if problems:
            out.append("It does not quite look like a photograph: " + "; ".join(problems) + ".")
    return out


def _looks(realism: RealismScore | None) -> str:
    """The realism check of one render in a table cell: "-" (not measured), "looks like a photo", or its problems."""
    if realism is None:
        return "-"
    return "looks like a photo" if realism.ok else "; ".join(realism.problems.values())


def _check_rows(attempts: list[StoredAttempt], scores: Evaluation | None) -> list[str]:
    criterion = (scores.identity_criterion if scores is not None else "") or "the identity scorer's own rule"
    threshold = scores.direction_threshold if scores is not None else None
    rows = [
        f"Same person when: {criterion}. A change counts as visible in the asked direction when its direction score is "
        f"at least {threshold if threshold is not None else '(the configured threshold)'}.",
        "",
        "| attempt | strengths | identity distance | direction | realism | all checks passed | kept |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in attempts:
        strengths = ", ".join(f"{label(k)} {v:+.2f}" for k, v in sorted(attempt_strengths(a).items())) or "-"
        direction = ", ".join(f"{label(k)} {float(d):+.2f}" for k, d in a.direction.items()) or "-"
        rows.append(
            f"| {a.number} | {strengths} | {float(a.identity_distance or 0):.3f} | {direction} | "
            f"{_looks(attempt_realism(a))} | {'yes' if a.passed else 'no'} | {'**kept**' if a.kept else ''} |"
        )
    return rows


def plain_reply(text: str, outcomes: list[EditOutcome], attempts: dict[int, list[StoredAttempt]] | None = None) -> PlainReply:
    """The reply to show for a turn: ``text`` as the planner wrote it, ``outcomes`` what its apply_attribute calls did,
    ``attempts`` node number -> the attempts stored for it (the self-check's tries)."""
    if not outcomes:
        return PlainReply(text, "")
    sentences = [s for o in outcomes for s in edit_sentences(o)]
    details = [f"**What the tools reported:** {text}"] if text else []
    for o in outcomes:
        tries = (attempts or {}).get(o.node_seq, [])
        if tries:
            details += [
                "",
                f"**Checks of node {o.node_seq}** ({len(tries)} attempt{'s' if len(tries) != 1 else ''}, the kept one first)",
                "",
            ]
            details += _check_rows(sorted(tries, key=lambda a: not a.kept), o.scores)
    return PlainReply(" ".join(sentences), "\n".join(details))


def in_page_words(text: str) -> str:
    """A tool's reply in the page's words: the page calls a stored step a "version" ("Went back 1 step to
    version 2"), where the tools, written for planners and logs, say "node"."""
    import re

    text = re.sub(r"\b(?:history )?node (\d+)", r"version \1", text)
    text = re.sub(r"\bnodes\b", "versions", text)
    return re.sub(r"\b(\d+) step\(s\)", lambda m: f"{m.group(1)} step" + ("" if m.group(1) == "1" else "s"), text)


def amount_in_words(key: str, strength: float) -> str:
    """One edit as the page writes it: people's words for its direction, and how much ("smaller eyes 0.30")."""
    return f"{people_label(key, strength)} {abs(float(strength)):.2f}"


def state_in_words(state: Mapping[str, EditSpec]) -> str:
    """An edit state as the page writes it: "lipstick 0.60, a smile 0.30" (the tools write "smiling +0.30")."""
    if not state:
        return "the original photo (no edits)"
    return ", ".join(amount_in_words(a, e.strength) for a, e in sorted(state.items()))


def slider_label(key: str) -> str:
    """A slider's name: both of its directions in people's words ("smaller eyes ← → bigger eyes")."""
    low, high = people_label(key, -1.0), people_label(key, 1.0)
    return high if low == high else f"{low} ← → {high}"
