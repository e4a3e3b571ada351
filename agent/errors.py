"""Errors of the agent that callers handle: the planner (an LLM endpoint or the offline planner) failed."""

from __future__ import annotations

from ..errors import ChatfaceError


class PlannerError(ChatfaceError):
    """The planner could not be reached, timed out, or answered with something that is not a chat completion."""
