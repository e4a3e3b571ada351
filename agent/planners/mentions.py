"""The offline planner's learned mention model: does this attribute word ask for a change, or only tell the story?

People wrap requests in stories: "my teenage son wants to dye his hair purple, so please give him purple hair", "I
want to see whether I'd end up looking like my mum in the eighties", "like he just found a tenner in an old coat". The
grammar (intent_parser.py) finds every attribute word ("teenage", "eighties", "old") and, with no way to tell the
request from the story, edits them all. This model scores each word the grammar found in its context: the words on
either side, its sentence and that sentence's verbs, where the sentence stands in the message. It is a logistic
regression over hashed features, like the act model (acts.py); train_mentions.py fits it on the development dialogue
sets, where a mention is a request when the gold state changes that attribute on that turn, and its weights ship in
data/mentions.npz. It needs numpy only, so the default install has it, and a mention costs a few microseconds.

It is trained on three classes (story, asks for the attribute, asks it gone), since the development sets say which;
the planner reads only story against request. Reading removals the grammar misses ("glasses I don't want anymore,
delete") from it was tried: on held-out development sets no threshold read one right without reading others wrong.

The grammar asks it in IntentParser._kept_mentions. Where a message has two or more attribute words, the ones it
scores as story are dropped when another one in the message reads as a request ("why she look so serious? make her
smile" names the smile twice); a message with one attribute word, or whose every word reads as story, keeps them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .linear import hashed

DIMENSIONS = 2**16
WEIGHTS = Path(__file__).with_name("data") / "mentions.npz"
_SENTENCE_END = re.compile(r"[.!?;]+(?:\s+|$)")
_WORD = re.compile(r"[a-z0-9']+")
# words that ask, in the forms people use them; the nearest one to the left of a mention says a lot about it
_ASKING = frozenset(
    "make give add put turn change remove take lose drop ditch get try show want like love wish wonder could can would "
    "will please let imagine see swap switch replace do go bring keep shave dye cut colour color paint".split()
)

# what stands beside a word says how it is used: "an old coat" (a word that describes another thing), "make him old"
# (the request), "old, please" (the end of a request)
_DETERMINERS = frozenset("a an the my his her our their your this that these those some".split())
_PRONOUNS = frozenset("him her me them us it you".split())
_LINKS = frozenset("make look looks be is are was were turn give add get become seem more less very so too".split())
_FACE = frozenset(
    "face hair eyes eye smile look skin beard lips lip mouth nose cheeks head brows eyebrows version style colour color "
    "man woman guy girl boy lady person".split()
)
_ENDS = frozenset("and or but please too with now again as enough then so also plus pls thanks instead".split())


def _kind(word: str | None, *, left: bool) -> str:
    if word is None:
        return "none"
    for name, words in (("det", _DETERMINERS), ("pron", _PRONOUNS), ("link", _LINKS), ("face", _FACE), ("end", _ENDS)):
        if word in words:
            return name
    if left and word in _ASKING:
        return "ask"
    return "word"


@dataclass(frozen=True)
class Mention:
    """An attribute word the grammar found: where it is in the (normalised) text, its phrase and attribute."""

    start: int
    end: int
    phrase: str
    attribute: str


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > at:
            spans.append((at, m.start()))
        at = m.end()
    if at < len(text):
        spans.append((at, len(text)))
    return spans or [(0, len(text))]


def features(text: str, mention: Mention, mentions: int) -> dict[int, float]:
    """Hashed, L2-normalised features of ``mention`` in ``text`` (``mentions``: how many the message has)."""
    spans = _sentence_spans(text)
    index = next((i for i, (s, e) in enumerate(spans) if s <= mention.start < e), len(spans) - 1)
    s0, s1 = spans[index]
    left = _WORD.findall(text[s0 : mention.start])
    right = _WORD.findall(text[mention.end : s1])
    sentence = _WORD.findall(text[s0:s1])
    keys = [f"p:{mention.phrase}", f"a:{mention.attribute}"]
    keys += [f"l1:{w}" for w in left[-1:]] + [f"l2:{w}" for w in left[-2:-1]] + [f"L:{w}" for w in left[-6:]]
    keys += [f"r1:{w}" for w in right[:1]] + [f"r2:{w}" for w in right[1:2]] + [f"R:{w}" for w in right[:4]]
    if len(left) >= 2:
        keys.append(f"lb:{left[-2]} {left[-1]}")
    if len(right) >= 2:
        keys.append(f"rb:{right[0]} {right[1]}")
    keys += [f"s:{w}" for w in sentence]
    keys += [f"sb:{a} {b}" for a, b in zip(sentence, sentence[1:])]
    if sentence:
        keys += [f"sf:{sentence[0]}", f"sf2:{' '.join(sentence[:2])}"]
    l_kind, r_kind = _kind(left[-1] if left else None, left=True), _kind(right[0] if right else None, left=False)
    keys += [f"lk:{l_kind}", f"rk:{r_kind}", f"lrk:{l_kind}:{r_kind}", f"rkp:{r_kind}:{mention.phrase}", f"lkp:{l_kind}:{mention.phrase}"]
    verb = next((w for w in reversed(left) if w in _ASKING), None)
    keys.append(f"verb:{verb}" if verb else "verb:none")
    keys.append(f"verb-distance:{min(len(left) - left[::-1].index(verb) - 1, 6) if verb else -1}")
    keys += [
        f"sentence-from-end:{min(len(spans) - 1 - index, 3)}",
        f"sentence-from-start:{min(index, 3)}",
        f"sentences:{min(len(spans), 5)}",
        f"mentions:{min(mentions, 5)}",
        f"left-length:{min(len(left), 12) // 3}",
        f"question:{text[s1 : s1 + 2].strip()[:1] == '?'}",
        "bias-feature",
    ]
    return hashed(keys, DIMENSIONS)


CLASSES = ("story", "add", "remove")  # the word only tells; it asks for (more or less of) the attribute; it asks it gone


@dataclass(frozen=True)
class MentionGuess:
    story: float  # the probabilities of CLASSES
    add: float
    remove: float

    @property
    def request(self) -> float:
        return self.add + self.remove


class MentionModel:
    """Multinomial logistic regression over features(): ``weights`` is (3, DIMENSIONS), ``bias`` (3,), for CLASSES.
    ``threshold``: the probability of a request below which a mention reads as story."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, threshold: float = 0.5) -> None:
        if weights.shape != (len(CLASSES), DIMENSIONS) or bias.shape != (len(CLASSES),):
            want = f"({len(CLASSES)}, {DIMENSIONS}) and bias ({len(CLASSES)},)"
            raise ValueError(f"mention model weights must be {want}; got {weights.shape}, {bias.shape}")
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"the mention threshold must be a probability strictly between 0 and 1; got {threshold}")
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.threshold = float(threshold)

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> MentionModel:
        with np.load(path) as data:
            return cls(data["weights"], data["bias"], float(data["threshold"]))

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, weights=self.weights.astype(np.float16), bias=self.bias, threshold=np.float32(self.threshold))

    def __call__(self, text: str, mention: Mention, mentions: int) -> MentionGuess:
        """How likely ``mention`` only tells the story, asks for the attribute, or asks it gone."""
        f = features(text, mention, mentions)
        idx = np.fromiter(f.keys(), dtype=np.int64, count=len(f))
        val = np.fromiter(f.values(), dtype=np.float32, count=len(f))
        logits = self.weights[:, idx] @ val + self.bias
        e = np.exp(logits - logits.max())
        p = e / e.sum()
        return MentionGuess(float(p[0]), float(p[1]), float(p[2]))


@lru_cache(maxsize=1)
def default_mention_model() -> MentionModel | None:
    """The shipped model, or None when its weights file is missing (the planner then keeps every mention)."""
    return MentionModel.load() if WEIGHTS.exists() else None
