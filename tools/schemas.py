"""Pydantic arguments of every tool.

These schemas are what LLMs see (as JSON schema) and what every call is
validated against: attribute ids from the vocabulary, strengths in [-1, 1],
T_edit in the vocabulary's range, finite numbers only. A failed validation is
returned to the model as an error message it can act on.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .vocabulary import default_vocabulary

T_MIN, T_MAX = default_vocabulary().t_edit_range


class AttributeEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attribute: str = Field(description="Attribute id from the vocabulary, e.g. 'smiling', 'eyeglasses', 'blond_hair'.")
    strength: float = Field(
        ge=-1.0, le=1.0,
        description="Signed strength in [-1, 1]. Positive adds the attribute, negative its opposite or removal; "
        "0 removes the attribute from the edit state. In mode 'change' it is added to the current value.",
    )
    t_edit: int | None = Field(
        default=None, ge=T_MIN, le=T_MAX,
        description="Diffusion step from which the edit applies (lower = more steps, for global attributes such as age). "
        "Omit to use the attribute's default.",
    )

    @field_validator("strength")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("strength must be a finite number")
        return v

    @field_validator("attribute")
    @classmethod
    def _known(cls, v: str) -> str:
        vocab = default_vocabulary()
        key = v.strip().lower().replace(" ", "_").replace("-", "_")
        if key not in vocab:
            near = vocab.closest(key)
            hint = f" Did you mean {', '.join(near)}?" if near else ""
            raise ValueError(f"unknown attribute {v!r}.{hint} Known ids: {', '.join(vocab.ids())}")
        return key


class InvertArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplyAttributeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edits: list[AttributeEdit] = Field(min_length=1, max_length=12, description="One or more attribute edits applied together.")
    mode: Literal["set", "change"] = Field(
        default="set", description="'set': strength is the new value; 'change': strength is added to the current value (clamped to [-1, 1]).",
    )
    request: str = Field(default="", max_length=2000, description="The user's words this edit answers (kept in the history).")


class VerifyIdentityArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: int | None = Field(default=None, ge=0, description="History node number to check; the current image when omitted.")


class UndoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=1, ge=1, le=100, description="How many edits to go back.")


class RedoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=1, ge=1, le=100, description="How many undone edits to re-apply.")


class CheckoutArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: int = Field(ge=0, description="The history node to go to (its number, as history shows it).")


class ResetArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255, description="File name (PNG or JPEG) inside the export directory.")
    node: int | None = Field(default=None, ge=0, description="History node number; the current image when omitted.")
