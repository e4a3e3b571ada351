"""Train the offline planner's mention model (mentions.py) from the development dialogue sets; write data/mentions.npz.

    python -m chatface.agent.planners.train_mentions            # writes the shipped weights (deterministic, about 20 s)
    python -m chatface.agent.planners.train_mentions --check    # leave-one-set-out figures, writes nothing

Each turn of each development set is parsed by the grammar from the gold state before it; every attribute word the
grammar finds is an example: "remove" when the gold state takes that attribute away on that turn, "add" when it
changes it otherwise, "story" when it leaves it as it was. The messages written for the model (data/mentions.txt)
say which attributes each asks to change but not in which direction: their requests are trained as "add or remove"
(the model's own split between the two is the target). The sets are the ones the planner's development already reads (the
development set and the held-out rounds after their first score, DEVELOPMENT_SETS); none of a round that has not been
scored yet, and no third-party request corpus. The fit is L2-regularised logistic regression by Adam, in numpy and
scipy. The threshold is the one that, over the leave-one-set-out predictions, puts the most messages right (the words
kept are exactly the requests) net of 1.5 times those it puts wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .intent_parser import IntentParser, _Phrase
from .linear import fit_softmax
from .mentions import CLASSES, DIMENSIONS, WEIGHTS, Mention, MentionModel, features

REQUEST = -1  # the label of a written request: add or remove, not said which

DATA = Path(__file__).resolve().parents[2] / "evaluation" / "data"
WRITTEN = Path(__file__).with_name("data") / "mentions.txt"  # messages written for this model, with what each asks
DEVELOPMENT_SETS = (
    ["dialogues", "heldout"]
    + [f"heldout{n}" for n in range(2, 8)]
    + [f"heldout{n}-{voice}" for n in (8, 9, 10) for voice in ("terse", "chatty", "nonnative", "typos", "hypothetical")]
    + ["heldout11-chatty", "heldout11-nonnative"]
    + [f"heldout12-{voice}" for voice in ("terse", "chatty", "nonnative", "typos", "hypothetical")]
)


class _Recording(IntentParser):
    """The grammar, keeping the attribute words it found in each message (the mention model's inputs) unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[int, int, _Phrase]]]] = []

    def _kept_mentions(self, text, matches):
        self.seen.append((text, list(matches)))
        return matches


def examples(paths: list[Path]) -> list[tuple[str, str, Mention, int, int]]:
    """(set name, text, mention, mentions in the message, label: an index of CLASSES) over every set's turns."""
    parser = _Recording()
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            before: dict[str, float] = {}
            last: list[str] = []
            for turn in json.loads(line)["turns"]:
                gold = {k: float(v) for k, v in turn["state"].items()}
                changed = {a for a in set(before) | set(gold) if abs(gold.get(a, 0.0) - before.get(a, 0.0)) > 1e-6}
                removed = {a for a in changed if gold.get(a, 0.0) == 0.0}
                parser.seen.clear()
                parser.parse(turn["user"], dict(before), last)
                if parser.seen:
                    text, matches = parser.seen[0]
                    for s, e, ph in matches:
                        label = 2 if ph.attribute in removed else 1 if ph.attribute in changed else 0
                        out.append((path.stem, text, Mention(s, e, ph.text, ph.attribute), len(matches), label))
                before, last = gold, sorted(changed) or last
    return out


def read_written(path: Path = WRITTEN) -> list[tuple[set[str], str]]:
    """The written messages: ``ids<TAB>message`` lines (ids: the attributes it asks to change, comma-separated)."""
    from ...tools.vocabulary import default_vocabulary

    known = set(default_vocabulary().ids())
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        ids, sep, text = line.partition("\t")
        asked = {a.strip() for a in ids.split(",") if a.strip()}
        if not sep or not text.strip() or not asked or asked - known:
            raise ValueError(f"{path}:{n}: expected 'ids<TAB>message' with known attribute ids: {line!r}")
        out.append((asked, text.strip()))
    return out


def written_examples(path: Path = WRITTEN) -> list[tuple[str, str, Mention, int, int]]:
    """The written messages' attribute words, read from an empty state: a request when the line names its attribute."""
    parser = _Recording()
    out = []
    for asked, message in read_written(path):
        parser.seen.clear()
        parser.parse(message, {}, [])
        if parser.seen:
            text, matches = parser.seen[0]
            if len({ph.attribute for _, _, ph in matches}) >= 2:
                for s, e, ph in matches:
                    out.append(
                        ("written", text, Mention(s, e, ph.text, ph.attribute), len(matches), REQUEST if ph.attribute in asked else 0)
                    )
    return out


def design(rows):
    from scipy.sparse import csr_matrix

    r_idx, c_idx, vals = [], [], []
    for r, (_, text, mention, count, _) in enumerate(rows):
        for c, v in features(text, mention, count).items():
            r_idx.append(r)
            c_idx.append(c)
            vals.append(v)
    return csr_matrix((np.array(vals, np.float32), (r_idx, c_idx)), shape=(len(rows), DIMENSIONS))


def fit(rows, *, l2: float = 1e-4, steps: int = 500, lr: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by Adam; a written request's target is the model's own add/remove split."""
    x = design(rows)
    labels = np.array([label for *_, label in rows])
    partial = labels == REQUEST
    y = np.zeros((len(rows), len(CLASSES)), np.float32)
    y[~partial, labels[~partial]] = 1.0

    def retarget(p: np.ndarray, y: np.ndarray) -> None:
        y[partial, 0], y[partial, 1:] = 0.0, p[partial, 1:] / p[partial, 1:].sum(axis=1, keepdims=True)

    return fit_softmax(x, y, l2=l2, steps=steps, lr=lr, retarget=retarget)


def held_out_probabilities(rows, folds: int = 5) -> np.ndarray:
    """Each example's probabilities of CLASSES from a model fitted without its set (the sets in ``folds`` groups)."""
    sets = sorted({r[0] for r in rows})
    p = np.zeros((len(rows), len(CLASSES)))
    for k in range(folds):
        out = set(sets[k::folds])
        model = MentionModel(*fit([r for r in rows if r[0] not in out]))
        for i, r in enumerate(rows):
            if r[0] in out:
                g = model(r[1], r[2], r[3])
                p[i] = (g.story, g.add, g.remove)
    return p


def _messages(rows) -> dict[tuple[str, str], list[int]]:
    by: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(rows):
        by.setdefault((r[0], r[1]), []).append(i)
    return by


def outcome(rows, request: np.ndarray, threshold: float) -> tuple[int, int]:
    """(messages the model puts right, messages it puts wrong) at ``threshold`` on the probabilities of a request, as the
    planner applies it (only in messages of two or more attribute words, and a message whose every word reads as story
    keeps them). A message is right when the words kept are exactly its requests: a turn is won or lost whole."""
    fixed = broken = 0
    for idx in _messages(rows).values():
        if len(idx) < 2:
            continue
        asks = [rows[i][4] != 0 for i in idx]
        kept = [request[i] >= threshold for i in idx] if max(request[i] for i in idx) >= threshold else [True] * len(idx)
        fixed += not all(asks) and kept == asks
        broken += all(asks) and kept != asks
    return fixed, broken


def best_threshold(score, grid) -> float:
    """The threshold of ``grid`` where ``score(t)`` = (put right, put wrong) gives the most messages put right net of
    1.5 times those put wrong (a request dropped is worse than a story word kept: the user asked and was not heard)."""
    return max(grid, key=lambda t: (score(t)[0] - 1.5 * score(t)[1], -t))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m chatface.agent.planners.train_mentions", description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="the folder of the development sets")
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--check", action="store_true", help="print leave-one-set-out figures and write nothing")
    args = ap.parse_args(argv)
    paths = [args.data / f"{name}.jsonl" for name in DEVELOPMENT_SETS]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"error: development sets missing: {', '.join(missing)}", file=sys.stderr)
        return 2
    rows = examples(paths) + (written_examples() if WRITTEN.exists() else [])
    counts = {name: sum(r[4] == k for r in rows) for k, name in [(0, "story"), (1, "add"), (2, "remove"), (REQUEST, "written requests")]}
    print(f"{len(rows)} attribute words: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    p = held_out_probabilities(rows)
    request = p[:, 1] + p[:, 2]
    grid = [round(t, 2) for t in np.arange(0.05, 0.96, 0.05)]
    threshold = best_threshold(lambda t: outcome(rows, request, t), grid)
    fixed, broken = outcome(rows, request, threshold)
    many = sum(len(idx) >= 2 for idx in _messages(rows).values())
    summary = f"{fixed} put right, {broken} put wrong"
    print(f"held-out sets, request threshold {threshold:.2f}: of {many} messages with two or more attribute words, {summary}")
    if args.check:
        return 0
    w, b = fit(rows)
    MentionModel(w, b, threshold).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
