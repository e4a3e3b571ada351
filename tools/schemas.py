"""Pydantic arguments of every tool.

These schemas are what LLMs see (as JSON schema) and what every call is
validated against: attribute ids from the vocabulary, strengths in [-1, 1],
T_edit in the vocabulary's range, finite numbers only. Free-text concepts
("a pirate hat") are a field of their own, never a made-up attribute id: short
plain text, and not a vocabulary attribute under another name. A failed validation is
returned to the model as an error message it can act on.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from .text_rules import check_text
from .vocabulary import default_vocabulary

STYLE_KEY = r"style:[0-9a-f]{64}"  # the edit-state key of a style taken from a stored reference photo (models.base.style_digest)

T_MIN, T_MAX = default_vocabulary().t_edit_range
NODE_MAX = 1_000_000  # history node numbers: far beyond any session, far below every database's integer range


class _Strength(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strength: float = Field(
        ge=-1.0,
        le=1.0,
        strict=True,  # strict: a bool or a string is not a number
        description="Signed strength in [-1, 1]. Positive adds the attribute, negative its opposite or removal; "
        "0 removes the attribute from the edit state. In mode 'change' it is added to the current value.",
    )
    t_edit: int | None = Field(
        default=None,
        ge=T_MIN,
        le=T_MAX,
        strict=True,
        description="Diffusion step from which the edit applies (lower = more steps, for global attributes such as age). "
        "Omit to use the attribute's default.",
    )

    @field_validator("strength")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("strength must be a finite number")
        return v


class AttributeEdit(_Strength):
    attribute: str = Field(description="Attribute id from the vocabulary, e.g. 'smiling', 'eyeglasses', 'blond_hair'.")

    @field_validator("attribute")
    @classmethod
    def _known(cls, v: str) -> str:
        vocab = default_vocabulary()
        if re.fullmatch(STYLE_KEY, v.strip()):  # a style already taken from a reference (apply_reference), by its key
            return v.strip()
        key = v.strip().lower().replace(" ", "_").replace("-", "_")
        if key not in vocab:
            near = vocab.closest(key)
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise ValueError(
                f"unknown attribute {v!r}.{hint} Known ids: {', '.join(vocab.ids())}. "
                "Something outside the vocabulary goes in 'concepts' as free text, where the engine accepts it"
            )
        return key


TEXT_MAX = 80
_TEXT_CHARS = re.compile(r"^[a-z0-9][a-z0-9 ,.'&/-]*$")


def _vocabulary_names() -> dict[str, str]:
    """Every way the vocabulary names an attribute (id, texts, positive synonyms) -> its id."""
    names: dict[str, str] = {}
    for a in default_vocabulary().attributes.values():
        for n in (a.id, a.id.replace("_", " "), a.positive_text, *a.positive_synonyms):
            names.setdefault(n.strip().lower(), a.id)
    return names


class TextConcept(_Strength):
    text: str = Field(
        min_length=2,
        max_length=TEXT_MAX,
        description="What to add (or, with a negative strength, take away), in a few plain words: 'a pirate hat', "
        "'a scar over the left eyebrow'. Not a vocabulary attribute: those go in 'edits'.",
    )

    @field_validator("text")
    @classmethod
    def _plain(cls, v: str) -> str:
        text = " ".join(v.split()).lower()
        if len(text) < 2 or not any(c.isalpha() for c in text):
            raise ValueError("a concept needs a few words, e.g. 'a pirate hat'")
        if not _TEXT_CHARS.match(text):
            raise ValueError("a concept is plain words: letters, digits, spaces and , . ' & / - only")
        names = _vocabulary_names()
        known = names.get(text) or names.get(re.sub(r"^(?:a|an|the|some) ", "", text))
        if known is not None:
            raise ValueError(f"{v!r} is the vocabulary attribute {known!r}: put it in 'edits' as attribute {known!r}")
        return text


class InvertArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _plain_request(v: str) -> str:
    return check_text(v, "request")


# the user's words an edit answers, kept in the history: plain text, no control characters
Request = Annotated[
    str, Field(max_length=2000, description="The user's words this edit answers (kept in the history)."), AfterValidator(_plain_request)
]


class ApplyAttributeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edits: list[AttributeEdit] = Field(default_factory=list, max_length=12, description="Attribute edits applied together.")
    concepts: list[TextConcept] = Field(
        default_factory=list,
        max_length=4,
        description="Free-text edits for what the vocabulary has no id for ('a pirate hat'), applied with the edits. "
        "Only when the engine accepts free text (the instructions say so); otherwise leave it empty.",
    )
    mode: Literal["set", "change"] = Field(
        default="set",
        description="'set': strength is the new value; 'change': strength is added to the current value (clamped to [-1, 1]).",
    )
    request: Request = ""

    @model_validator(mode="after")
    def _something(self) -> "ApplyAttributeArgs":
        if not self.edits and not self.concepts:
            raise ValueError("edits and concepts are both empty: give at least one")
        return self


class ApplyReferenceArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    take: list[str] = Field(
        min_length=1,
        max_length=6,
        description="Attribute ids to take from the reference photo, e.g. "
        "['smiling'] for 'as much smile as in this photo', ['lipstick'] for 'the lipstick of this photo'; "
        "'style' for its look as a whole ('paint me in the style of this portrait'), where the engine takes one.",
    )
    style_strength: float = Field(
        default=0.6, gt=0, le=1, description="How much of the reference's style, in (0, 1]: 0.3 a touch of it, 0.6 (default), 0.9 strong."
    )
    reference: str | None = Field(
        default=None,
        max_length=4096,
        description="Path of the reference photo (inside the "
        "folders this server may read); omit it to use the reference attached to this turn.",
    )
    reference_base64: str | None = Field(
        default=None, max_length=40_000_000, description="The reference photo itself, base64-encoded PNG or JPEG, instead of a path."
    )
    request: Request = ""

    @model_validator(mode="after")
    def _one_source(self) -> "ApplyReferenceArgs":
        if self.reference is not None and self.reference_base64 is not None:
            raise ValueError("give the reference as a path or as base64, not both")
        return self


class VerifyIdentityArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: int | None = Field(
        default=None, ge=0, le=NODE_MAX, strict=True, description="History node number to check; the current image when omitted."
    )


class UndoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=1, ge=1, le=100, strict=True, description="How many edits to go back.")


class RedoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=1, ge=1, le=100, strict=True, description="How many undone edits to re-apply.")


class CheckoutArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: int = Field(ge=0, le=NODE_MAX, strict=True, description="The history node to go to (its number, as history shows it).")


class ResetArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255, description="File name (PNG or JPEG) inside the export directory.")
    node: int | None = Field(
        default=None, ge=0, le=NODE_MAX, strict=True, description="History node number; the current image when omitted."
    )

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        return check_text(v, "the file name", allow_newlines=False)
