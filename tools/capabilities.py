"""What each engine can edit, in people's words: the one source for every list of edits chatface shows.

The engine catalog (models/engines/catalog.py) knows which attributes an engine renders, without loading it;
the vocabulary knows what people call each edit ("bigger eyes", "a slimmer face"). This module joins the two
into ``Offer``s, and everything that tells a person or a planner what can be done reads them: the help reply
and the question back, the web app's attribute list and example requests, ``chatface engines`` and
``chatface tools``, MCP's tool descriptions and the LLM planner's prompt. A refusal names an engine that really
does the edit, and the one command that gets it, or says that no engine here can.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import (
    WHY_NEEDS_TEXT,
    WHY_NO_COLOUR,
    WHY_NO_NETWORK,
    WHY_NO_PROMPT,
    WHY_NOT_AVAILABLE,
    WHY_ONE_DIRECTION,
    WHY_WITHDRAWN,
    why_code,
)
from ..models.engines.catalog import ENGINES, engine_attributes, engine_facts, missing_modules
from .vocabulary import Vocabulary, default_vocabulary


@dataclass(frozen=True)
class Offer:
    """One edit an engine does: an attribute in one direction, and what a person would type for it."""

    attribute: str
    sign: int  # +1 or -1
    label: str

    def as_dict(self) -> dict:
        return {"id": self.attribute, "sign": self.sign, "label": self.label}


def offers_of(supported: dict[str, tuple[bool, bool]] | None, vocab: Vocabulary | None = None) -> list[Offer]:
    """The offers of an engine whose supported attributes are ``supported`` (None: a text-driven engine, which does
    every attribute, and its reverse where the reverse has words), in the vocabulary's order."""
    vocab = vocab or default_vocabulary()
    out = []
    for attr in vocab.attributes.values():
        if supported is None:
            pos, neg = True, attr.has_negative
        elif attr.id in supported:
            pos, neg = supported[attr.id]
        else:
            continue
        if pos:
            out.append(Offer(attr.id, 1, attr.label_for(1)))
        if neg and attr.negative_label:
            out.append(Offer(attr.id, -1, attr.label_for(-1)))
    return out


def engine_offers(name: str, models_dir: str | None = None, vocab: Vocabulary | None = None) -> list[Offer]:
    """What engine ``name`` offers, known without loading it."""
    return offers_of(engine_attributes(name, models_dir), vocab)


def can_do(name: str, attribute: str, sign: float, models_dir: str | None = None) -> bool:
    supported = engine_attributes(name, models_dir)
    if supported is None:
        return attribute in default_vocabulary()
    pos, neg = supported.get(attribute, (False, False))
    return pos if sign >= 0 else neg


def phrase(offers: list[Offer], most: int = 12) -> str:
    """ "a smile, lipstick, no lipstick, bigger eyes, ..." (at most ``most`` of them)."""
    labels = [o.label for o in offers][:most]
    if len(labels) <= 1:
        return "".join(labels)
    more = ", and more" if len(offers) > most else ""
    return ", ".join(labels[:-1]) + (f", {labels[-1]}{more}" if more else f" or {labels[-1]}")


def refusal(attribute: str, sign: float, engine: str, why: str, models_dir: str | None = None, vocab: Vocabulary | None = None) -> str:
    """Why ``engine`` did not do an edit, and which engine does (the one command that gets it), in people's words."""
    vocab = vocab or default_vocabulary()
    what = vocab[attribute].label_for(sign) if attribute in vocab else attribute
    head = f"{what}: the {engine} engine {_reason(why)}"
    for other in ENGINES:
        if other != engine and can_do(other, attribute, sign, models_dir):
            needs = engine_facts(other).needs
            how = f"--engine {other}" + (f"; {needs[0]}, and best on a GPU" if needs else ", on the core install")
            return f"{head}; the {other} engine does it ({how})"
    return f"{head}, and no engine here can"


REASON_WORDS = {  # an engine's reason code (errors.WHY_*) -> how a refusal says it
    WHY_NOT_AVAILABLE: "cannot do it",
    WHY_NO_NETWORK: "has no network for it",
    WHY_NO_PROMPT: "has no editing prompt for it",
    WHY_WITHDRAWN: "withdrew it: its version did not pass for a photograph",
    WHY_ONE_DIRECTION: "does only the other direction",
    WHY_NEEDS_TEXT: "does not take free text",
    WHY_NO_COLOUR: "paints it in its own colour, not one taken from a photo",
}


def _reason(why: str) -> str:
    """A refusal's reason in people's words, chosen by the reason's code, never by its wording."""
    return REASON_WORDS.get(why_code(why), f"cannot do it ({why})")


def engines_report(models_dir: str | None = None, vocab: Vocabulary | None = None) -> list[dict]:
    """What ``chatface engines --json`` prints: every engine, whether it can run here, what it needs, what it does."""
    out = []
    for name in ENGINES:
        facts = engine_facts(name)
        missing = missing_modules(name)
        out.append(
            {
                "name": name,
                "title": facts.title,
                "available": not missing,
                "missing": missing,
                "needs": list(facts.needs),
                "free_text": facts.accepts_text,
                "attributes": [o.as_dict() for o in engine_offers(name, models_dir, vocab)],
            }
        )
    return out
