"""Arithmetic of the cumulative edit state (shared/spec/intents.md).

The state maps attribute id (or a free-text concept's key, "text:a pirate hat") ->
{"strength": s, "t_edit": t}. Values are
clamped to [-1, 1], an attribute at 0 is dropped, and setting one id of an
exclusive group (hair colours, eye colours) drops the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

from ..memory.store import NodeInfo, StoredAttempt
from ..models.base import EditSpec, style_digest
from ..models.scorers.realism import RealismScore
from .capabilities import Offer
from .vocabulary import Vocabulary, default_vocabulary, label

if TYPE_CHECKING:
    from .editor import Evaluation

EPS = 1e-9


@dataclass(frozen=True)
class Version:
    """One node of a session's edit tree, as a planner sees it."""

    seq: int
    action: str
    strengths: dict[str, float]


@dataclass(frozen=True)
class EditContext:
    """What a planner knows of the session it plans for, handed to it as data (never parsed back out of a prompt)."""

    strengths: dict[str, float]  # the current node's attribute -> strength
    last_changed: tuple[str, ...] = ()  # what the current node's edit set or changed ("more" and "less" refer to these)
    head: int = 0  # the current node's number
    versions: tuple[Version, ...] = ()  # every node, in order
    free_text: bool = False  # whether the session's engine renders free-text concepts (apply_attribute's ``concepts``)
    engine: str = "offline"  # the session's engine
    offers: tuple[Offer, ...] = ()  # what it can edit, in people's words (the help and the question back name these)
    reference: bool = False  # whether a reference photo is attached to this turn (apply_reference can use it)
    removed_last: tuple[str, ...] = ()  # what the current node's edit took away ("put it back" after it is its undo)
    redoable: bool = False  # whether redo would move the head (an undo left a node to return to)

    def with_attributes(self, wanted: dict[str, float]) -> Version | None:
        """The newest version, other than the current one, that has every attribute of ``wanted`` in its direction."""
        for v in sorted(self.versions, key=lambda v: v.seq, reverse=True):
            if v.seq != self.head and all(v.strengths.get(a, 0.0) * s > 0 for a, s in wanted.items()):
                return v
        return None


def strengths(state: dict) -> dict[str, float]:
    return {a: float(v["strength"]) for a, v in state.items()}


def specs(state: dict) -> dict[str, EditSpec]:
    """A stored edit state (JSON: attribute -> {"strength", "t_edit"}) as the typed state the engines and clients read."""
    return {a: EditSpec(float(v["strength"]), int(v["t_edit"]), v.get("colour")) for a, v in state.items()}


def attempt_strengths(attempt: StoredAttempt) -> dict[str, float]:
    """The strengths a stored attempt rendered."""
    return strengths(attempt.state)


def attempt_realism(attempt: StoredAttempt) -> RealismScore | None:
    """A stored attempt's realism check (None: not measured)."""
    return RealismScore.from_dict(attempt.realism) if attempt.realism else None


def node_scores(node: NodeInfo) -> Evaluation | None:
    """A node's stored scores, typed (None: not scored, as the original photo and a reset)."""
    from .editor import Evaluation

    return Evaluation.from_dict(node.scores) if node.scores else None


def as_json(state: Mapping[str, EditSpec]) -> dict:
    """The typed state as it is stored and sent (the inverse of ``specs``)."""
    return {
        a: {"strength": e.strength, "t_edit": e.t_edit, **({"colour": e.colour} if e.colour is not None else {})} for a, e in state.items()
    }


def clamp(x: float) -> float:
    return max(-1.0, min(1.0, x))


def apply_changes(
    state: dict,
    edits: list[tuple[str, float, int | None]],
    mode: str = "set",
    vocab: Vocabulary | None = None,
    t_edit_defaults: dict[str, int] | None = None,
    colours: dict[str, str] | None = None,
) -> dict:
    """New state after ``edits`` [(attribute, strength, t_edit or None)] in ``mode`` 'set' or 'change'; ``colours``:
    attribute -> "#rrggbb" to paint it in (a reference's), kept by later changes of its strength.

    A missing t_edit keeps the state's, else takes ``t_edit_defaults`` (the
    engine's, e.g. the T_edit a network was trained with), else the vocabulary's.
    """
    vocab = vocab or default_vocabulary()
    new = {a: dict(v) for a, v in state.items()}
    for attr, strength, t_edit in edits:
        current = float(new.get(attr, {}).get("strength", 0.0))
        value = clamp(current + strength if mode == "change" else strength)
        value = round(value, 4)
        if abs(value) < EPS:
            new.pop(attr, None)
            continue
        for rival in vocab.exclusive_rivals(attr):
            new.pop(rival, None)
        if style_digest(attr) is not None:  # one style at a time: a new reference's replaces the old
            for other in [k for k in new if k != attr and style_digest(k) is not None]:
                new.pop(other)
        default = (t_edit_defaults or {}).get(attr, vocab.default_t_edit(attr))
        t = t_edit if t_edit is not None else new.get(attr, {}).get("t_edit", default)
        paint = (colours or {}).get(attr) or new.get(attr, {}).get("colour")  # a reference's colour stays until replaced
        new[attr] = {"strength": value, "t_edit": int(t), **({"colour": paint} if paint else {})}
    return new


def describe(state: dict) -> str:
    if not state:
        return "the original photo (no edits)"
    return ", ".join(
        f"{label(a)} {v['strength']:+.2f}" + (f" (colour {v['colour']} from a reference)" if v.get("colour") else "")
        for a, v in sorted(state.items())
    )


def redo_moves(head: NodeInfo, nodes: Sequence[NodeInfo], redo_node_id: int | None) -> bool:
    """Whether redo would move the head: an undo left a node to return to, and the head is still on its way there."""
    by_id = {n.id: n for n in nodes}
    node = by_id.get(redo_node_id) if redo_node_id is not None and redo_node_id != head.id else None
    while node is not None and node.id != head.id:
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return node is not None


def tree_rows(nodes: list[NodeInfo], head_id: int) -> list[tuple[NodeInfo, int | str, bool]]:
    """(node, its parent's number or "-", whether it is the current node) for an edit tree, in node order."""
    by_id = {n.id: n for n in nodes}
    return [(n, by_id[n.parent_id].seq if n.parent_id in by_id else "-", n.id == head_id) for n in nodes]
