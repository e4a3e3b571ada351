"""The self-check's re-edit policy: a bounded search over strength and T_edit.

It runs inside the ``apply_attribute`` tool, so every client of the tools (the
chatface agent, an MCP client, a LangChain agent) gets its edits checked and
corrected. After an edit whose result fails a check, the change from the
previous state is scaled by a factor alpha (and T_edit lowered to edit more
steps where the direction is too weak):

- identity failed, or the edit shows artefacts (a seam, texture lost or added,
  colours the photo never had): both grow with the edit, so bisect alpha in
  (0, 1) for the largest change that passes;
- direction too weak or the change invisible (identity and realism fine):
  grow the weak attributes' strength toward the limit of 1 in even steps and
  lower their T_edit, stopping at the first candidate that passes, or
  bisecting back when identity or realism breaks.

At most ``max_attempts`` renders. Every attempt is returned with its scores; the
best one is kept (passing both checks, nearest to what was asked), and the
user is told what was traded off. Nothing here writes to the memory: the tool
stores the kept result and every attempt in one commit, after the search, so
a crash or a concurrent edit can never leave a failed first render as the head.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from ..memory.store import AttemptRecord
from .edit_state import clamp
from .editor import Evaluation, SessionEditor
from .vocabulary import label


@dataclass
class Candidate:
    alpha: float
    state: dict
    evaluation: Evaluation
    image: np.ndarray


class SelfCheckReason(str, Enum):
    """Why the self-check re-edited, as a value clients branch on (the note is the same thing in words)."""

    NONE = "none"  # the first render passed, or there was nothing to re-edit
    IDENTITY = "identity"  # the first render no longer showed the same person; a weaker one was kept
    ARTEFACTS = "artefacts"  # the first render did not pass for a photograph; a weaker one was kept
    TOO_WEAK = "too_weak"  # the change could not be seen or went the wrong way; a stronger one was kept
    NOT_IMPROVED = "not_improved"  # re-edits were tried and none beat the first render, which was kept


@dataclass
class SelfCheckResult:
    """What to store for one edit: the kept render and every attempt (the first render's included)."""

    kept_state: dict
    image: np.ndarray  # the kept render
    evaluation: Evaluation  # of the kept render
    records: list[AttemptRecord]  # every render, in order, exactly one of them kept
    note: str | None = None  # what the self-check traded off; None when the first render passed (or was not re-edited)
    reason: SelfCheckReason = SelfCheckReason.NONE

    @property
    def passed(self) -> bool:
        return self.evaluation.passed

    @property
    def attempts(self) -> int:
        return len(self.records)


def _scaled(parent: dict, target: dict, attrs: list[str], alpha: float, t_scale: float, t_min: int) -> dict:
    state = {a: dict(v) for a, v in target.items()}
    for a in attrs:
        if a not in target:
            continue
        p = float(parent.get(a, {}).get("strength", 0.0))
        s = clamp(p + alpha * (float(target[a]["strength"]) - p))
        state[a] = {**target[a], "strength": round(s, 4), "t_edit": max(t_min, int(round(target[a]["t_edit"] * t_scale)))}
    return state


def _fmt(state: dict, attrs: list[str]) -> str:
    return ", ".join(f"{label(a)} {state[a]['strength']:+.2f}" for a in attrs if a in state)


def run_self_check(
    editor: SessionEditor, target: dict, first_image, parent: dict, first: Evaluation, changed: list[str], max_attempts: int = 4
) -> SelfCheckResult:
    """The result to store for the edit to ``target``, whose first render ``first_image`` got ``first``: that render
    when it passed, else the best of a bounded search for a better one. Stores nothing (the caller commits it once)."""
    changed = [a for a in changed if a in target]

    def first_only(note: str | None = None, reason: SelfCheckReason = SelfCheckReason.NONE) -> SelfCheckResult:
        return SelfCheckResult(target, first_image, first, [first.attempt(target, kept=True, note="first render")], note, reason)

    if first.passed or not changed or max_attempts <= 0:
        return first_only()
    scores = first.as_dict()
    t_min = editor.vocab.t_edit_range[0]
    tried: list[Candidate] = []

    def attempt(alpha: float, attrs: list[str], t_scale: float = 1.0) -> Candidate:
        editor.stage(f"Self-check: re-editing (attempt {len(tried) + 2} of at most {max_attempts + 1})")
        state = _scaled(parent, target, attrs, alpha, t_scale, t_min)
        image = editor.render(state)
        c = Candidate(alpha, state, editor.evaluate(image, state, parent), image)
        tried.append(c)
        return c

    identity_failed = not first.same_person
    artefacts = first.artefacts
    shrink = identity_failed or bool(artefacts)

    def acceptable(ev: Evaluation) -> bool:
        return ev.same_person and ev.realistic

    if shrink:
        lo, hi = 0.0, 1.0
        for _ in range(max_attempts):
            mid = (lo + hi) / 2
            c = attempt(mid, changed)
            if acceptable(c.evaluation):
                lo = mid
                if c.evaluation.passed and hi - lo < 0.2:
                    break
            else:
                hi = mid
    else:
        weak = [a for a, ok in scores.get("direction_ok", {}).items() if not ok and a in target]
        if not first.visible:
            weak = changed
        # the largest alpha that keeps every weak strength within [-1, 1]
        limits = []
        for a in weak:
            p, s = float(parent.get(a, {}).get("strength", 0.0)), float(target[a]["strength"])
            delta = s - p
            limits.append(max(1.0, ((1.0 if s >= 0 else -1.0) - p) / delta) if delta else 1.0)
        alpha_max = min(limits) if limits else 1.0
        good_alpha, bad_alpha = 1.0, None
        for k in range(1, max_attempts + 1):
            if bad_alpha is None:
                alpha = 1.0 + (alpha_max - 1.0) * k / max_attempts
            else:
                alpha = (good_alpha + bad_alpha) / 2
            c = attempt(alpha, weak, t_scale=0.8**k)
            if c.evaluation.passed:
                break
            if not acceptable(c.evaluation):
                bad_alpha = alpha
            else:
                good_alpha = alpha
            if alpha_max <= 1.0 and bad_alpha is None and k >= 2:
                break

    if not tried:
        return first_only()

    def rank(c: Candidate):
        ev = c.evaluation
        return (ev.passed, acceptable(ev), ev.visible, min(ev.direction.values() or [0.0]), -abs(1.0 - c.alpha))

    best = max(tried, key=rank)
    records = [c.evaluation.attempt(c.state, kept=c is best, note=f"self-check alpha={c.alpha:.3f}") for c in tried]
    # The first render (already stored) stays kept when nothing beats it.
    original_rank = (False, acceptable(first), first.visible, min(scores.get("direction", {}).values() or [0.0]), 0.0)
    if rank(best) <= original_rank:
        for r in records:
            r.kept = False
        what = "identity" if identity_failed else ("the artefacts" if artefacts else "the effect strength")
        kept = first_only(
            f"Self-check: {what} could not be improved in {len(tried)} more attempt(s); kept the first result ({_fmt(target, changed)}).",
            SelfCheckReason.NOT_IMPROVED,
        )
        kept.records.extend(records)
        return kept
    first_record = first.attempt(target, kept=False, note="first render")
    ev = best.evaluation
    if identity_failed:
        reason = SelfCheckReason.IDENTITY
        note = (
            f"Self-check: at {_fmt(target, changed)} the face no longer matched the original "
            f"(identity distance {scores.get('identity_distance', 0):.2f}); kept {_fmt(best.state, changed)} "
            f"(distance {ev.identity_distance:.2f}) after {len(tried)} more attempt(s)."
        )
    elif artefacts:
        reason = SelfCheckReason.ARTEFACTS
        note = (
            f"Self-check: at {_fmt(target, changed)} the edit did not look like a photograph "
            f"({'; '.join(artefacts.values())}); kept {_fmt(best.state, changed)} after {len(tried)} more attempt(s)"
        )
        note += "." if ev.passed else f", which still shows {', '.join(ev.artefacts) or 'a failed check'}."
    else:
        reason = SelfCheckReason.TOO_WEAK
        weak = [a for a, ok in scores.get("direction_ok", {}).items() if not ok] or changed
        note = (
            f"Self-check: the {', '.join(map(label, weak))} change was too weak at {_fmt(target, weak)}; "
            f"kept {_fmt(best.state, weak)} after {len(tried)} more attempt(s)"
        )
        note += (
            "."
            if ev.passed
            else f", still below the direction threshold (scores {', '.join(f'{a} {d:+.2f}' for a, d in ev.direction.items())})."
        )
    return SelfCheckResult(best.state, best.image, ev, [first_record, *records], note, reason)
