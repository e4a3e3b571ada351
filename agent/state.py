"""The graph's state: the session it edits, the conversation, and what the tools said the user must be told this run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Sequence

from langchain_core.messages import AnyMessage
from langgraph.graph import add_messages


def this_run(old: list[str], new: list[str] | None) -> list[str]:
    """Notes add up within a run; None (sent by the first node) starts the run's list afresh."""
    return [] if new is None else [*old, *new]


@dataclass
class AgentState:
    messages: Annotated[Sequence[AnyMessage], add_messages] = field(default_factory=list)
    session_id: str | None = None
    # What the tools said the user must be told: parts not done and limits (open the reply) ...
    not_done: Annotated[list[str], this_run] = field(default_factory=list)
    # ... and what the self-check traded off (closes it).
    trade_offs: Annotated[list[str], this_run] = field(default_factory=list)
