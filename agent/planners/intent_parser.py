"""The offline planner's understanding of a message: action, attributes, strengths.

Works from the vocabulary (ids and synonyms), the grammar of editing requests
(strength words, relative changes, removal, undo/redo/reset, chit-chat, vague
requests) and, for paraphrases the synonym table does not hold, sentence
embeddings. The arithmetic is shared/spec/intents.md's. It is a pure function
of (message, current state, last edited attributes), so it is easy to test and
fast (a lexical parse takes well under a millisecond).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Callable

from ...tools.edit_state import clamp
from ...tools.vocabulary import Vocabulary, default_vocabulary

SLIGHT, DEFAULT, STRONG, FULL = 0.3, 0.6, 0.9, 1.0

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "once": 1, "twice": 2, "thrice": 3}

ABS_FULL = r"fully|maximum|max|maxed|as much as possible|completely|totally|all the way|100 ?%|to the max"
ABS_STRONG = r"very|a lot|lots of|much|strongly|strong|really|extremely|dramatically|dramatic|heavy|heavily|intense|intensely|super|bold|huge|massive|big|loads of|seriously|way|hugely|so"
ABS_SLIGHT = r"slightly|slight|a little|a little bit|a bit|a touch|a tad|tad|subtle|subtly|light|lightly|a hint of|hint of|mild|mildly|faint|small|soft|softly|gentle|gently|barely|somewhat|kinda|kind of|a smidge"
REL_MORE = r"more|stronger|bigger|increase|intensify|boost|amp up|crank up|push|further|extra|even more|turn up|up the|heavier|deeper"
REL_LESS = r"less|weaker|reduce|decrease|tone down|tone it down|dial down|dial it down|dial back|soften|lighter|turn down|too much|too strong|overdone|smaller|lower|not so much|subtler|scale back"
REL_SLIGHT = r"a bit|slightly|a little|a little bit|a touch|a tad|just a bit|somewhat"
REL_MUCH = r"much|a lot|way|far|lots|significantly|considerably"
REMOVAL = r"remove|removing|drop|take away|take off|take out|get rid of|lose|lose the|ditch|delete|erase|without|no more|no|not|don't want|dont want|eliminate|clear|cancel|strip|undo the|revert the"

UNDO = r"undo|go back|step back|revert|take (?:that|it) back|previous (?:one|version|image|state)|back a step|back one|one step back|roll back|rollback|ctrl ?z"
REDO = r"redo|re-do|re do|bring (?:it|that) back|put (?:it|that) back|re-?apply|apply (?:it|that) again|undo the undo|forward again|go forward"
RESET = r"start over|start again|start fresh|from scratch|reset|back to (?:the )?original|original (?:photo|image|picture|one)|revert (?:all|everything)|undo (?:all|everything)|clear (?:all|everything)|remove (?:all|every|everything)(?: the)?(?: edits| changes)?|(?:all|every) (?:the )?(?:edits|changes) (?:gone|removed)|wipe|scrap (?:it|that|everything|all)|clean slate|fresh start"
VAGUE = r"better|nicer|prettier|improve|improved|fix|enhance|enhanced|more attractive|attractive|beautiful|beautify|good|great|cooler|cool|different|change (?:something|it|her|him|them)|do something|edit (?:it|this|her|him)|make it pop|pop|touch up|touch-up|glow up|glow-up|perfect|look good|look nice|something else|surprise me|whatever|fancier|interesting|better looking|more interesting|spice|prettify|stylish|hotter|cuter|weird"
CHAT = r"hi|hello|hey|thanks|thank you|thx|cheers|great job|good job|nice|perfect|awesome|that's all|thats all|that is all|done|bye|goodbye|ok|okay|cool|love it|looks good|looks great|what can you do|how does|what is|what's|who|why|how are you|help|can you explain|no thanks|nothing|never ?mind|good morning|good evening|wow|lol|haha"
SEPARATORS = r",|;|\band\b|\bthen\b|\balso\b|\bplus\b|&|\bbut\b|\bas well as\b|\bwhile\b|\bafter that\b|\. "


@dataclass
class AttributeChange:
    attribute: str
    strength: float  # the new absolute value (0 = remove)


@dataclass
class Intent:
    action: str  # edit, undo, redo, reset, none, clarify
    changes: list[AttributeChange] = field(default_factory=list)
    undo_steps: int = 0  # for "undo that and add X": undo first
    steps: int = 1
    note: str = ""


@dataclass(frozen=True)
class _Phrase:
    text: str
    attribute: str
    polarity: int  # +1 or -1
    removal: bool  # the phrase itself says "no X"/"remove X"
    comparative: bool


def _normalise(text: str) -> str:
    t = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    t = re.sub(r"[!?\"()\[\]{}*_~`]+", " ", t)
    t = re.sub(r"\.(?!\d)", ". ", t)
    t = re.sub(r"\s+", " ", t).strip()
    # "her eyes green", "hair to blonde" -> "green eyes", "blonde hair"
    colours = r"black|blond|blonde|brown|red|ginger|auburn|gray|grey|white|silver|blue|pink|purple|violet|green|hazel|golden|platinum"
    return re.sub(r"\b(hair|eyes)\b ((?:(?:to|into|a|an|color|colour|more|be|look|turn|should|in|some) )*)(" + colours + r")\b",
                  lambda m: f"{m.group(2)}{m.group(3)} {m.group(1)}", t)


def _phrase_table(vocab: Vocabulary) -> tuple[re.Pattern, dict[str, _Phrase], set[str]]:
    """The synonym regex (longest phrases first), phrase lookup, and the words typos are corrected to."""
    phrases: list[_Phrase] = []
    seen: set[str] = set()
    for attr in vocab.attributes.values():
        for pol, syns in ((1, attr.positive_synonyms), (-1, attr.negative_synonyms)):
            for s in list(syns) + ([attr.id.replace("_", " ")] if pol == 1 else []):
                key = _normalise(s)
                if not key or key in seen:
                    continue
                seen.add(key)
                removal = pol < 0 and bool(re.match(r"(no|remove|without|not|take off|stop)\b", key))
                comparative = bool(re.search(r"(er|ier)\b", key.split()[-1])) and key not in ("ginger", "lighter")
                phrases.append(_Phrase(key, attr.id, pol, removal, comparative))
    phrases.sort(key=lambda p: -len(p.text))
    pattern = re.compile(r"\b(" + "|".join(re.escape(p.text) for p in phrases) + r")\b")
    lookup = {p.text: p for p in phrases}
    words = {w for p in phrases for w in p.text.split() if len(w) >= 5}
    return pattern, lookup, words


_COMMON = set("these there their where which would could should about after again other small smaller hello thanks thank maybe please great really older sweet looks little wants"
              .split())


def _fix_typos(text: str, words: set[str]) -> str:
    out = []
    for tok in text.split(" "):
        core = tok.strip(",.;:")
        if len(core) >= 5 and core.isalpha() and core not in words and core not in _COMMON:
            near = difflib.get_close_matches(core, words, n=1, cutoff=0.84)
            if near:
                tok = tok.replace(core, near[0])
        out.append(tok)
    return " ".join(out)


def _has(pattern: str, text: str) -> bool:
    return re.search(r"(?<![\w'])(?:" + pattern + r")(?![\w'])", text) is not None


def _count(text: str) -> int:
    m = re.search(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:steps?|edits?|times|changes|turns|moves|levels)\b", text)
    if m:
        v = m.group(1)
        return int(v) if v.isdigit() else NUMBER_WORDS[v]
    for w, n in (("thrice", 3), ("three times", 3), ("twice", 2), ("two times", 2)):
        if w in text:
            return n
    return 1


def _explicit_number(clause: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)\s*(%|percent|per cent)", clause)
    if m:
        return min(1.0, float(m.group(1)) / 100.0)
    m = re.search(r"(?:strength|level|intensity|to|at|by)?\s*\b(0?\.\d+|1\.0|1|0)\b(?!\s*(?:years?|yrs|steps?|times|x\b))", clause)
    if m and re.search(r"\d", m.group(1)) and ("." in m.group(1) or re.search(r"(strength|level|intensity)", clause)):
        return min(1.0, float(m.group(1)))
    return None


def _absolute_magnitude(clause: str) -> float:
    n = _explicit_number(clause)
    if n is not None:
        return n
    if _has(ABS_FULL, clause):
        return FULL
    if _has(ABS_SLIGHT, clause):
        return SLIGHT
    if _has(ABS_STRONG, clause):
        return STRONG
    return DEFAULT


def _relative(clause: str) -> tuple[int, float] | None:
    """(+1 more / -1 less, step) when the clause asks for a relative change."""
    less = _has(REL_LESS, clause) or _has(r"not as|not so|down a notch|too", clause)
    more = _has(REL_MORE, clause) or _has(r"not enough|up a notch|even", clause)
    if not (less or more):
        return None
    direction = -1 if less else 1
    if _has(REL_SLIGHT, clause):
        return direction, 0.1
    if _has(REL_MUCH, clause):
        return direction, 0.3
    return direction, 0.2


class IntentParser:
    def __init__(self, vocab: Vocabulary | None = None, embedder: Callable[[str], list[tuple[str, int, float]]] | None = None):
        self.vocab = vocab or default_vocabulary()
        self.embedder = embedder  # text -> [(attribute, polarity, similarity)], best first
        self._pattern, self._lookup, self._words = _phrase_table(self.vocab)

    def parse(self, message: str, state: dict[str, float], last_changed: list[str] | None = None) -> Intent:
        last_changed = [a for a in (last_changed or []) if a in state] or list(state)[-1:]
        text = _normalise(message)[:2000]
        if not text:
            return Intent("none", note="empty message")
        text = _fix_typos(text, self._words)

        wants_undo = _has(UNDO, text) and not _has(r"undo the undo", text)
        wants_redo = _has(REDO, text)
        wants_reset = _has(RESET, text)

        matches = [(m.start(), m.end(), self._lookup[m.group(1)]) for m in self._pattern.finditer(text)]
        changes = self._changes(text, matches, state, last_changed)

        if wants_reset and not changes:
            return Intent("reset")
        if wants_redo and not changes:
            return Intent("redo", steps=_count(text))
        if wants_undo:
            if changes:
                return Intent("edit", changes=changes, undo_steps=_count(text))
            return Intent("undo", steps=_count(text))
        if changes:
            return Intent("edit", changes=changes)
        # no attribute found lexically
        rel = _relative(text)
        if rel is not None and last_changed and len(text.split()) <= 8:
            return Intent("edit", changes=[self._relative_change(a, state, rel, None) for a in last_changed])
        if self.embedder is not None and (_looks_like_request(text) or (len(text.split()) >= 2 and not _has(CHAT, text))):
            guess = self.embedder(text)
            if guess:
                attr, pol, sim = guess[0]
                if sim >= 0.62 and not _has(VAGUE, text):
                    return Intent("edit", changes=[self._absolute(attr, pol, text, state, removal=False, comparative=False)], note=f"embedding match {sim:.2f}")
        if _has(VAGUE, text) and _looks_like_request(text) or _has(r"fix|improve|enhance|better|prettier|nicer|touch ?up", text):
            return Intent("clarify")
        if _looks_like_request(text) and not _has(CHAT, text):
            return Intent("clarify")
        return Intent("none")

    # -- attributes -------------------------------------------------------
    def _changes(self, text, matches, state, last_changed) -> list[AttributeChange]:
        if not matches:
            return []
        bounds = [0] + [m.end() for m in re.finditer(SEPARATORS, text)] + [len(text)]
        out: dict[str, AttributeChange] = {}
        for i, (start, end, ph) in enumerate(matches):
            lo = max([b for b in bounds if b <= start] + [0])
            hi = min([b for b in bounds if b >= end] + [len(text)])
            prev_end = matches[i - 1][1] if i > 0 else 0
            next_start = matches[i + 1][0] if i + 1 < len(matches) else len(text)
            left = text[max(lo, prev_end):start]
            right = text[end:min(hi, next_start)]
            clause = (left + " " + right).strip()
            removal = ph.removal or _has(REMOVAL, left)
            rel = _relative(clause)
            if rel is not None and not removal and not _has(r"\b(?:more|less) (?:and|or)", clause):
                change = self._relative_change(ph.attribute, state, rel, ph.polarity)
            else:
                # a removal names the positive attribute ("no smile" = the smile goes)
                polarity = 1 if ph.removal else ph.polarity
                change = self._absolute(ph.attribute, polarity, clause, state, removal=removal, comparative=ph.comparative)
            out[ph.attribute] = change
        return list(out.values())

    def _absolute(self, attr, polarity, clause, state, *, removal: bool, comparative: bool) -> AttributeChange:
        current = state.get(attr, 0.0)
        if removal:
            if current != 0:  # removing an edit that is in the state
                return AttributeChange(attr, 0.0)
            sign = -1 if polarity > 0 else 1  # the photo's own attribute
            return AttributeChange(attr, round(sign * _absolute_magnitude(clause), 4))
        if comparative and current != 0 and current * polarity > 0:
            rel = _relative(clause) or (1, 0.2)
            step = 0.1 if _has(ABS_SLIGHT, clause) else 0.3 if _has(ABS_STRONG, clause) else rel[1]
            return AttributeChange(attr, round(clamp(current + polarity * step), 4))
        return AttributeChange(attr, round(polarity * _absolute_magnitude(clause), 4))

    @staticmethod
    def _relative_change(attr, state, rel, polarity) -> AttributeChange:
        direction, step = rel
        current = state.get(attr, 0.0)
        if current == 0:
            base = {0.1: SLIGHT, 0.2: DEFAULT, 0.3: STRONG}[step]
            pol = polarity if polarity is not None else 1
            return AttributeChange(attr, round(pol * base * direction, 4))
        if polarity is None:
            polarity = 1 if current > 0 else -1
        if direction > 0:
            new = current + polarity * step
        else:
            sign = 1 if current > 0 else -1
            new = current - sign * step if polarity * current > 0 else current + polarity * -step
            if sign * new < 0:
                new = 0.0
        return AttributeChange(attr, round(clamp(new), 4))


def _looks_like_request(text: str) -> bool:
    return _has(r"make|give|add|change|turn|put|can you|could you|would you|please|i want|i'd like|id like|let's|lets|edit|modify|alter|adjust|try|do|transform|update|apply|set", text)
