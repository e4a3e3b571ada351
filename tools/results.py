"""The typed results the tools hand up: what an edit did (EditOutcome) and where a move of the head led (MoveOutcome).

A tool returns its result to LangChain, MCP and JSON clients as a plain dict
(the ToolMessage artifact is the edge that serialises it). Everything above
the tools that reads a result parses it back with ``from_artifact`` first and
reads fields, so a renamed key fails in one place, here, not in a reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models.base import EditSpec
from .edit_state import as_json, specs
from .editor import Evaluation
from .selfcheck import SelfCheckReason


@dataclass(frozen=True)
class EditOutcome:
    """What one apply_attribute did.

    ``not_done`` opens the reply to the user (parts the engine cannot do, values
    at their limit); ``self_check`` is what the self-check traded off, in words,
    or None when the first render passed, and ``self_check_reason`` the same as a
    value to branch on. ``applied``: every change is visible and goes the asked
    way (Evaluation.applied); ``visible_changes``: the attributes for which that
    holds; ``passed``: also the same person and no artefact. ``scores``: the
    kept render's evaluation (None when nothing was rendered).
    """

    node_seq: int
    state: dict[str, EditSpec]
    parent_state: dict[str, EditSpec]
    changed: list[str]
    applied: bool
    passed: bool
    scores: Evaluation | None = None
    unsupported: dict[str, str] = field(default_factory=dict)
    not_done: list[str] = field(default_factory=list)
    self_check: str | None = None
    self_check_reason: SelfCheckReason = SelfCheckReason.NONE
    visible_changes: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # attributes taken away (not scored: there is no direction to check)
    attempts: int = 0  # renders stored for this node (1 without a re-edit, 0 when nothing was rendered)
    asked: dict[str, float] = field(default_factory=dict)  # the strengths asked for, of the attributes set or changed
    node_id: int | None = None
    request: str = ""
    from_reference: list[str] = field(default_factory=list)  # the attributes apply_reference took from a reference photo
    reference_notes: list[str] = field(default_factory=list)  # what it could not take from it, in words

    TOOL = "apply_attribute"

    def strengths(self) -> dict[str, float]:
        return {a: e.strength for a, e in self.state.items()}

    def artifact(self) -> dict[str, Any]:
        """The JSON form every client receives (the LangChain artifact, MCP's structured content)."""
        return {
            "tool": self.TOOL,
            "node_seq": self.node_seq,
            "state": as_json(self.state),
            "parent_state": as_json(self.parent_state),
            "changed": list(self.changed),
            "applied": self.applied,
            "passed": self.passed,
            "scores": self.scores.as_dict() if self.scores is not None else {},
            "unsupported": dict(self.unsupported),
            "not_done": list(self.not_done),
            "self_check": self.self_check,
            "self_check_reason": self.self_check_reason.value,
            "visible_changes": list(self.visible_changes),
            "removed": list(self.removed),
            "attempts": self.attempts,
            "asked": dict(self.asked),
            "node_id": self.node_id,
            "request": self.request,
            "from_reference": list(self.from_reference),
            "reference_notes": list(self.reference_notes),
        }

    @classmethod
    def from_artifact(cls, d: dict[str, Any]) -> "EditOutcome":
        """The outcome from its JSON form; an artifact of another tool is refused (ValueError)."""
        if d.get("tool") != cls.TOOL:
            raise ValueError(f"not an {cls.TOOL} result: {d.get('tool')!r}")
        scores = d.get("scores")
        return cls(
            int(d["node_seq"]),
            specs(d["state"]),
            specs(d.get("parent_state") or {}),
            list(d["changed"]),
            bool(d["applied"]),
            bool(d["passed"]),
            Evaluation.from_dict(scores) if scores else None,
            dict(d.get("unsupported") or {}),
            list(d.get("not_done") or []),
            d.get("self_check"),
            SelfCheckReason(d.get("self_check_reason") or "none"),
            list(d.get("visible_changes") or []),
            list(d.get("removed") or []),
            int(d.get("attempts") or 0),
            {a: float(v) for a, v in (d.get("asked") or {}).items()},
            d.get("node_id"),
            str(d.get("request") or ""),
            list(d.get("from_reference") or []),
            list(d.get("reference_notes") or []),
        )

    @classmethod
    def of(cls, artifact: Any) -> "EditOutcome | None":
        """The outcome if ``artifact`` is an apply_attribute result, else None (another tool's, an error's)."""
        return cls.from_artifact(artifact) if isinstance(artifact, dict) and artifact.get("tool") == cls.TOOL else None


MOVES = ("undo", "redo", "checkout", "reset")


@dataclass(frozen=True)
class MoveOutcome:
    """Where undo, redo, checkout or reset moved the head: the node it is at now, and by how many steps it moved
    (0: it was there already)."""

    tool: str
    node_seq: int
    moved: int
    state: dict[str, EditSpec]

    def artifact(self) -> dict[str, Any]:
        return {"tool": self.tool, "node_seq": self.node_seq, "moved": self.moved, "state": as_json(self.state)}

    @classmethod
    def from_artifact(cls, d: dict[str, Any]) -> "MoveOutcome":
        if d.get("tool") not in MOVES:
            raise ValueError(f"not a move of the head: {d.get('tool')!r}")
        return cls(str(d["tool"]), int(d["node_seq"]), int(d.get("moved") or 0), specs(d.get("state") or {}))


@dataclass(frozen=True)
class ApplyReferenceOutcome:
    """An apply_reference that changed nothing: why each attribute was not taken, and what was measured (attribute ->
    (on the reference, on the user's photo)). When something is taken, the result is the edit's EditOutcome."""

    strengths: dict[str, float]
    colours: dict[str, str]
    notes: list[str]
    measured: dict[str, tuple[float, float]]

    TOOL = "apply_reference"

    def artifact(self) -> dict[str, Any]:
        return {
            "tool": self.TOOL,
            "strengths": dict(self.strengths),
            "colours": dict(self.colours),
            "notes": list(self.notes),
            "measured": {a: list(v) for a, v in self.measured.items()},
        }
