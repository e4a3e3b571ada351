"""The graph's state: the conversation, and what the tools said the user must be told this turn."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Sequence

from langchain_core.messages import AnyMessage
from langgraph.graph import add_messages


@dataclass
class AgentState:
    messages: Annotated[Sequence[AnyMessage], add_messages] = field(default_factory=list)
    # Notes the tools said the user must be told (parts not done, limits, the self-check), this turn.
    notes: Annotated[list[str], operator.add] = field(default_factory=list)
