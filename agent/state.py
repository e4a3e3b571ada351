"""The graph's state: the session it edits, this turn's conversation, the stored history, and what the user must be told.

``messages`` holds this turn only (the user's message and what the planner and
the tools add), so a caller that runs the graph as a node of its own graph
gets back just this turn. ``history`` is the session's stored conversation,
read from the memory by the session node (the memory, not a checkpoint, is the
truth, so any front end can go on with a session). ``remaining_steps`` is
LangGraph's managed count, which lets the planner node answer in words before
the run's recursion limit ends it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Sequence

from langchain_core.messages import AnyMessage
from langgraph.graph import add_messages
from langgraph.managed import RemainingSteps


def this_run(old: list[str], new: list[str] | None) -> list[str]:
    """Notes add up within a run; None (sent by the first node) starts the run's list afresh."""
    return [] if new is None else [*old, *new]


@dataclass
class AgentState:
    messages: Annotated[Sequence[AnyMessage], add_messages] = field(default_factory=list)
    session_id: str | None = None
    history: list[AnyMessage] = field(default_factory=list)
    # What the tools said the user must be told: parts not done and limits (open the reply) ...
    not_done: Annotated[list[str], this_run] = field(default_factory=list)
    # ... and what the self-check traded off (closes it).
    trade_offs: Annotated[list[str], this_run] = field(default_factory=list)
    remaining_steps: RemainingSteps = 25


@dataclass
class AgentOutput:
    """What a run gives back: this turn's messages and the session it edited."""

    messages: Annotated[Sequence[AnyMessage], add_messages] = field(default_factory=list)
    session_id: str | None = None
