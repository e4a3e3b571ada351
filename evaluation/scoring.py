"""The scores of shared/spec/intents.md, as pure functions of gold and predicted turns.

A turn is correct when the action matches and the predicted state has the
gold state's ids, each with the same sign and within 0.15 of the gold
strength. Attribute precision / recall / F1 count the ids each turn changed
(relative to that side's previous state); sign accuracy and strength error
are taken over the ids found correctly. Figures that have no denominator
(no attribute changed anywhere) are None.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

from .dialogues import ACTIONS

TOLERANCE = 0.15
PRED_ACTIONS = ACTIONS + ("error",)  # "error": the planner endpoint failed on this turn


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def states_match(gold: dict[str, float], pred: dict[str, float], tolerance: float = TOLERANCE) -> bool:
    if set(gold) != set(pred):
        return False
    return all(_sign(gold[a]) == _sign(pred[a]) and abs(gold[a] - pred[a]) <= tolerance + 1e-9 for a in gold)


def turn_correct(gold_action: str, gold_state: dict, pred_action: str, pred_state: dict) -> bool:
    return gold_action == pred_action and states_match(gold_state, pred_state)


def changed_ids(before: dict[str, float], after: dict[str, float]) -> set[str]:
    return {a for a in set(before) | set(after) if abs(before.get(a, 0.0) - after.get(a, 0.0)) > 1e-9}


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def summarize(records: list[dict]) -> dict:
    """Headline figures over turn records (dicts with gold/pred action, state and previous state)."""
    n = len(records)
    dialogues: dict[str, bool] = {}
    tp = fp = fn = 0
    signs_ok = signs = 0
    errors: list[float] = []
    for r in records:
        dialogues[r["dialogue_id"]] = dialogues.get(r["dialogue_id"], True) and r["correct"]
        gold_changed = changed_ids(r["gold_prev_state"], r["gold_state"])
        pred_changed = changed_ids(r["pred_prev_state"], r["pred_state"])
        found = gold_changed & pred_changed
        tp += len(found)
        fp += len(pred_changed - gold_changed)
        fn += len(gold_changed - pred_changed)
        for a in found:
            g, p = r["gold_state"].get(a, 0.0), r["pred_state"].get(a, 0.0)
            signs += 1
            signs_ok += _sign(g) == _sign(p)
            errors.append(abs(g - p))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = (
        round(2 * precision * recall / (precision + recall), 4)
        if precision and recall
        else (0.0 if precision is not None and recall is not None else None)
    )
    return {
        "n_dialogues": len(dialogues),
        "n_turns": n,
        "turn_accuracy": _ratio(sum(r["correct"] for r in records), n),
        "dialogue_success": _ratio(sum(dialogues.values()), len(dialogues)),
        "action_accuracy": _ratio(sum(r["gold_action"] == r["pred_action"] for r in records), n),
        "attribute_precision": precision,
        "attribute_recall": recall,
        "attribute_f1": f1,
        "sign_accuracy": _ratio(signs_ok, signs),
        "strength_mae": round(statistics.fmean(errors), 4) if errors else None,
    }


def latency_summary(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"mean": None, "median": None, "max": None}
    return {
        "mean": round(statistics.fmean(values_ms), 2),
        "median": round(statistics.median(values_ms), 2),
        "max": round(max(values_ms), 2),
    }


def confusion(records: list[dict]) -> dict[str, dict[str, int]]:
    """gold action -> predicted action -> count."""
    table: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        table[r["gold_action"]][r["pred_action"]] += 1
    return {g: dict(table[g]) for g in ACTIONS if g in table}


def per_tag(records: list[dict]) -> dict[str, dict]:
    by_tag: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        for t in r.get("tags") or []:
            by_tag[t].append(r)
    return {t: summarize(rs) for t, rs in sorted(by_tag.items())}
