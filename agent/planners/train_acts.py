"""Train the offline planner's turn-act model (acts.py) from data/acts.txt and write data/acts.npz.

    python -m chatface.agent.planners.train_acts            # writes the shipped weights (deterministic, about 10 s)
    python -m chatface.agent.planners.train_acts --check    # cross-validated accuracy on the written data, writes nothing

Every written sentence is also seen in the voices people type in: lower case without punctuation, with typos (a
letter dropped, doubled, swapped or replaced by a neighbouring key), wrapped in chatty openings and closings, and
without articles. The training is full-batch multinomial logistic regression with L2, by Adam, in numpy and scipy.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

import numpy as np

from .acts import ACTS, DIMENSIONS, WEIGHTS, ActModel, features
from .linear import fit_softmax

DATA = Path(__file__).with_name("data") / "acts.txt"
KEYBOARD = "qwertyuiop asdfghjkl zxcvbnm".split()
OPENINGS = ("", "hi! ", "ok so ", "hmm, ", "alright, ", "oh, ", "so um ", "hey there, ", "okay okay, ", "right, ")
CLOSINGS = ("", " please", " thanks!", " if you can", ", that would be lovely", " :)", " pls", " thank you", " haha", "?")


def read_data(path: Path = DATA) -> list[tuple[str, str]]:
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        act, sep, text = line.partition("\t")
        if not sep or act not in ACTS or not text.strip():
            raise ValueError(f"{path}:{n}: expected 'act<TAB>message' with act one of {', '.join(ACTS)}: {line!r}")
        rows.append((act, text.strip()))
    return rows


def _neighbour(c: str, rng: random.Random) -> str:
    for row in KEYBOARD:
        i = row.find(c)
        if i >= 0:
            return row[max(0, min(len(row) - 1, i + rng.choice((-1, 1))))]
    return c


def typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    for i in rng.sample(long, min(len(long), rng.choice((1, 1, 2)))):
        w = words[i]
        j = rng.randrange(1, len(w) - 1)
        kind = rng.choice(("drop", "double", "swap", "key"))
        words[i] = {
            "drop": w[:j] + w[j + 1 :],
            "double": w[:j] + w[j] + w[j:],
            "swap": w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :],
            "key": w[:j] + _neighbour(w[j], rng) + w[j + 1 :],
        }[kind]
    return " ".join(words)


def voices(text: str, rng: random.Random) -> list[str]:
    plain = re.sub(r"[^\w' ]+", " ", text.lower())
    plain = re.sub(r"\s+", " ", plain).strip()
    no_articles = re.sub(r"\b(?:the|a|an) ", "", plain)
    return [
        text,
        plain,
        typo(plain, rng),
        typo(plain, rng),
        rng.choice(OPENINGS) + text + rng.choice(CLOSINGS),
        rng.choice(OPENINGS) + typo(plain, rng) + rng.choice(CLOSINGS),
        no_articles,
    ]


def design(texts: list[str]):
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for r, t in enumerate(texts):
        for c, v in features(t).items():
            rows.append(r)
            cols.append(c)
            vals.append(v)
    return csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(len(texts), DIMENSIONS))


def fit(texts: list[str], labels: list[str], *, l2: float = 1e-4, steps: int = 400, lr: float = 0.1) -> ActModel:
    x = design(texts)
    y = np.zeros((len(texts), len(ACTS)), np.float32)
    y[np.arange(len(texts)), [ACTS.index(a) for a in labels]] = 1.0
    w, b = fit_softmax(x, y, l2=l2, steps=steps, lr=lr)
    return ActModel(w, b)


def expanded(rows: list[tuple[str, str]], seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for act, text in rows:
        for v in voices(text, rng):
            texts.append(v)
            labels.append(act)
    return texts, labels


def cross_validate(rows: list[tuple[str, str]], folds: int = 5) -> float:
    """Accuracy on held-out written sentences (each fold's sentences and all their voices are left out together)."""
    rng = random.Random(1)
    order = list(range(len(rows)))
    rng.shuffle(order)
    right = total = 0
    for k in range(folds):
        test = [rows[i] for j, i in enumerate(order) if j % folds == k]
        train = [rows[i] for j, i in enumerate(order) if j % folds != k]
        model = fit(*expanded(train))
        t_texts, t_labels = expanded(test, seed=99)
        right += sum(model(t).act == a for t, a in zip(t_texts, t_labels))
        total += len(t_texts)
    return right / total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m chatface.agent.planners.train_acts", description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--check", action="store_true", help="print 5-fold cross-validated accuracy and write nothing")
    args = ap.parse_args(argv)
    rows = read_data(args.data)
    if args.check:
        print(f"{len(rows)} sentences; 5-fold accuracy over their voices: {cross_validate(rows):.3f}")
        return 0
    texts, labels = expanded(rows)
    model = fit(texts, labels)
    train_acc = sum(model(t).act == a for t, a in zip(texts, labels)) / len(texts)
    model.save(args.out)
    print(f"{len(rows)} sentences, {len(texts)} with their voices; training accuracy {train_acc:.3f}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
