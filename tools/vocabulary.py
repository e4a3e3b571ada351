"""The attribute vocabulary: the ids a planner may use, their CLIP text pairs,
categories, exclusive groups, default strength and default T_edit.

The data lives in ``attributes.json`` beside this module (ids of
shared/spec/intents.md); this module only loads and queries it, so every part
of chatface (prompts, tools, planners, engines, evaluation) reads one list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..models.base import STYLE_LABEL, STYLE_T_EDIT, TEXT_CONCEPT_PREFIX, concept_text, style_digest

DATA_FILE = Path(__file__).with_name("attributes.json")


@dataclass(frozen=True)
class Attribute:
    id: str
    category: str
    group: str
    exclusive: bool
    neutral_text: str
    positive_text: str
    negative_text: str | None
    default_strength: float
    default_t_edit: int
    positive_synonyms: tuple[str, ...]
    negative_synonyms: tuple[str, ...]
    positive_descriptions: tuple[str, ...] = ()  # sentences describing the look, for sentence-embedding matching
    negative_descriptions: tuple[str, ...] = ()
    positive_label: str = ""  # what a person would type for the edit ("bigger eyes"), and what replies call it
    negative_label: str | None = None  # the same for a negative strength ("smaller eyes")

    @property
    def has_negative(self) -> bool:
        """Whether a negative strength means something ("younger", "slimmer")."""
        return self.negative_text is not None

    def label_for(self, sign: float) -> str:
        """People's words for this edit in ``sign``'s direction: "bigger eyes", "smaller eyes"."""
        if sign < 0:
            return self.negative_label or f"less {self.positive_label}"
        return self.positive_label

    def texts(self) -> dict[str, str | None]:
        """The CLIP texts as the models record them: neutral, positive, negative."""
        return {"neutral": self.neutral_text, "positive": self.positive_text, "negative": self.negative_text}

    def text_pair(self, strength: float) -> tuple[str, str]:
        """The CLIP text pair (from, to) of an edit in the direction of ``strength``."""
        if strength >= 0 or self.negative_text is None:
            return self.neutral_text, self.positive_text
        return self.neutral_text, self.negative_text


@dataclass(frozen=True)
class Vocabulary:
    attributes: dict[str, Attribute]
    t_edit_range: tuple[int, int]

    def __contains__(self, attribute_id: object) -> bool:
        return attribute_id in self.attributes

    def __getitem__(self, attribute_id: str) -> Attribute:
        return self.attributes[attribute_id]

    def ids(self) -> list[str]:
        return list(self.attributes)

    # -- state keys: attribute ids and free-text concepts ("text:a pirate hat") alike --------
    def default_t_edit(self, key: str) -> int:
        """The vocabulary's T_edit of an attribute id, FREE_TEXT_T_EDIT for a free-text concept, STYLE_T_EDIT for a style."""
        if style_digest(key) is not None:
            return STYLE_T_EDIT
        return FREE_TEXT_T_EDIT if concept_text(key) is not None else self.attributes[key].default_t_edit

    def text_pair(self, key: str, strength: float) -> tuple[str, str]:
        """The CLIP text pair (from, to) that scores an edit of ``key`` (an id or a free-text concept) in ``strength``'s direction."""
        if style_digest(key) is not None:  # scored image to image where the scorer can (DirectionScorer.towards)
            return FREE_TEXT_NEUTRAL, "a face in the style of the reference photo"
        text = concept_text(key)
        if text is None:
            return self.attributes[key].text_pair(strength)
        with_it = f"{FREE_TEXT_NEUTRAL} with {text}"
        return (FREE_TEXT_NEUTRAL, with_it) if strength >= 0 else (with_it, FREE_TEXT_NEUTRAL)

    def texts(self) -> dict[str, dict[str, str | None]]:
        """attribute id -> its CLIP texts (what models that learn or fake a direction per attribute are given)."""
        return {a.id: a.texts() for a in self.attributes.values()}

    def concepts(self) -> dict[str, dict[str, str | None]]:
        """attribute id -> its texts and group: the editing prompts of a text-driven engine (LEDITS++)."""
        return {a.id: {**a.texts(), "group": a.group} for a in self.attributes.values()}

    def exclusive_rivals(self, attribute_id: str) -> list[str]:
        """The other ids of ``attribute_id``'s exclusive group (empty when not exclusive)."""
        attr = self.attributes.get(attribute_id)
        if attr is None or not attr.exclusive:  # free-text concepts have no rivals
            return []
        return [a.id for a in self.attributes.values() if a.group == attr.group and a.id != attribute_id]

    def closest(self, name: str, n: int = 3) -> list[str]:
        """Ids that look like ``name``: used in error messages the LLM can act on."""
        import difflib

        return difflib.get_close_matches(name.lower().replace(" ", "_"), self.ids(), n=n, cutoff=0.5)


FREE_TEXT_T_EDIT = 450  # a free-text concept's default step: the middle of the vocabulary's range of defaults
FREE_TEXT_NEUTRAL = "a photo of a face"


def text_key(text: str) -> str:
    """The edit-state key of a free-text concept (the text as validated by tools.schemas.TextConcept)."""
    return TEXT_CONCEPT_PREFIX + text


def people_label(key: str, sign: float = 1.0, vocab: Vocabulary | None = None) -> str:
    """How an edit reads to people: "bigger eyes", "smaller eyes", or a free text in quotes."""
    if style_digest(key) is not None:
        return STYLE_LABEL
    text = concept_text(key)
    if text is not None:
        return f'"{text}"'
    vocab = vocab or default_vocabulary()
    return vocab[key].label_for(sign) if key in vocab else key


def label(key: str) -> str:
    """How a state key reads in tool text (for a planner): the attribute id, or the free text in quotes."""
    if style_digest(key) is not None:
        return STYLE_LABEL
    text = concept_text(key)
    return key if text is None else f'"{text}"'


def _attribute_from_json(row: dict) -> Attribute:
    text = row["text"]
    syn = row.get("synonyms", {})
    return Attribute(
        id=row["id"],
        category=row["category"],
        group=row["group"],
        exclusive=bool(row.get("exclusive", False)),
        neutral_text=text["neutral"],
        positive_text=text["positive"],
        negative_text=text.get("negative"),
        default_strength=float(row.get("default_strength", 0.6)),
        default_t_edit=int(row.get("default_t_edit", 500)),
        positive_synonyms=tuple(syn.get("positive", [])),
        negative_synonyms=tuple(syn.get("negative", [])),
        positive_descriptions=tuple(row.get("descriptions", {}).get("positive", [])),
        negative_descriptions=tuple(row.get("descriptions", {}).get("negative", [])),
        positive_label=row["label"]["positive"],
        negative_label=row["label"].get("negative"),
    )


def load_vocabulary(path: str | Path = DATA_FILE) -> Vocabulary:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    attrs = {row["id"]: _attribute_from_json(row) for row in data["attributes"]}
    lo, hi = data.get("t_edit_range", [0, 999])
    return Vocabulary(attributes=attrs, t_edit_range=(int(lo), int(hi)))


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    return load_vocabulary()
