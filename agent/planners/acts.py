"""The offline planner's learned turn-act model: which act a message asks for (edit, undo, redo, reset, none, clarify).

The grammar (intent_parser.py) reads attributes, signs and amounts well, but its act decisions are patterns, and
people say "take back the last three", "go bak 2 steps", "all back to beginning" or "I wonder what he'd look like
bald" in more ways than patterns hold. This model reads the whole message as hashed word and character n-grams
(so a misspelt word still shares most of its n-grams with the right one) and scores each act with a multinomial
logistic regression. It is trained by train_acts.py on data/acts.txt (sentences written for it; its header says
which evaluation sets they may follow and which they never do), and its weights ship in data/acts.npz. It needs
numpy only, so the default install has it, and a message costs well under a millisecond.

The planner asks it only where the grammar's act is weakest (see IntentParser.parse): the model can turn a
"none" or "clarify" into an undo, redo, reset or a request to read again, and a thank-you with an attribute word in
it into "none"; it never chooses attributes or strengths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .linear import hashed

ACTS = ("edit", "undo", "redo", "reset", "none", "clarify")
DIMENSIONS = 2**15
WEIGHTS = Path(__file__).with_name("data") / "acts.npz"


def normalise(text: str) -> str:
    """Lower case, one kind of apostrophe, letters repeated three or more times cut to two ("huuuge" -> "huuge")."""
    t = text.lower().replace("’", "'").replace("‘", "'")
    t = re.sub(r"(\w)\1{2,}", r"\1\1", t)
    return re.sub(r"\s+", " ", t).strip()


def features(text: str) -> dict[int, float]:
    """Hashed, L2-normalised counts: words, word pairs, and character 3- to 5-grams inside each word (with its edges)."""
    words = re.findall(r"[a-z0-9']+|[?]", normalise(text))
    keys = [f"w:{w}" for w in words] + [f"b:{a} {b}" for a, b in zip(words, words[1:])]
    if words:
        keys += [f"first:{words[0]}", f"last:{words[-1]}", f"len:{min(len(words), 12) // 3}"]
    for w in words:
        edged = f"<{w}>"
        keys += [f"c:{edged[i : i + n]}" for n in (3, 4, 5) for i in range(len(edged) - n + 1)]
    return hashed(keys, DIMENSIONS)


@dataclass(frozen=True)
class ActGuess:
    act: str
    probability: float


class ActModel:
    """Multinomial logistic regression over features(): ``weights`` is (acts, DIMENSIONS), ``bias`` (acts,)."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, acts: tuple[str, ...] = ACTS) -> None:
        if weights.shape != (len(acts), DIMENSIONS) or bias.shape != (len(acts),):
            raise ValueError(
                f"act model weights must be ({len(acts)}, {DIMENSIONS}) and bias ({len(acts)},); got {weights.shape} and {bias.shape}"
            )
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.acts = acts

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> ActModel:
        with np.load(path) as data:
            return cls(data["weights"], data["bias"], tuple(str(a) for a in data["acts"]))

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, weights=self.weights.astype(np.float16), bias=self.bias, acts=np.array(self.acts))

    def probabilities(self, text: str) -> np.ndarray:
        f = features(text)
        idx = np.fromiter(f.keys(), dtype=np.int64, count=len(f))
        val = np.fromiter(f.values(), dtype=np.float32, count=len(f))
        logits = self.weights[:, idx] @ val + self.bias
        e = np.exp(logits - logits.max())
        return e / e.sum()

    def __call__(self, text: str) -> ActGuess:
        p = self.probabilities(text)
        best = int(np.argmax(p))
        return ActGuess(self.acts[best], float(p[best]))


@lru_cache(maxsize=1)
def default_act_model() -> ActModel | None:
    """The shipped model, or None when its weights file is missing (the planner then uses its grammar alone)."""
    return ActModel.load() if WEIGHTS.exists() else None
