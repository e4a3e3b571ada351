"""The conversation between the memory and the graph: stored rows in, this turn's messages out, and what a turn may say.

The graph reads the session's last turns from the memory at the start of every
run and stores the turn at its end; nothing else keeps the conversation, so a
restarted or another front end goes on with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from ..tools.service import StoredMessage
from ..tools.text_rules import bad_characters

HISTORY_TURNS = 12
HISTORY_MESSAGES = 200  # read at most this many stored messages per turn (a turn has a handful)
MAX_MESSAGE_CHARS = 4000


def to_messages(rows: list[StoredMessage]) -> list[BaseMessage]:
    """Stored rows as LangChain messages: the last HISTORY_TURNS user turns, starting at a user message."""
    out: list[BaseMessage] = []
    for r in rows:
        if r.role == "user":
            out.append(HumanMessage(r.content))
        elif r.role == "assistant":
            out.append(AIMessage(r.content, tool_calls=r.tool_calls or []))
        elif r.role == "tool":
            out.append(ToolMessage(r.content, tool_call_id=r.tool_call_id or "", name=r.name))
    starts = [i for i, m in enumerate(out) if isinstance(m, HumanMessage)]
    if not starts:
        return []
    return out[starts[-HISTORY_TURNS] if len(starts) > HISTORY_TURNS else starts[0] :]


def to_rows(messages: Sequence[BaseMessage]) -> list[StoredMessage]:
    """This turn's messages as the rows the memory stores (a tool call's JSON form is LangChain's own)."""
    rows = []
    for m in messages:
        if isinstance(m, HumanMessage):
            rows.append(StoredMessage("user", _text(m)))
        elif isinstance(m, AIMessage):
            calls = [{"name": c["name"], "args": c["args"], "id": c["id"], "type": "tool_call"} for c in m.tool_calls]
            rows.append(StoredMessage("assistant", _text(m), tool_calls=calls or None))
        elif isinstance(m, ToolMessage):
            rows.append(StoredMessage("tool", _text(m), tool_call_id=m.tool_call_id, name=m.name))
    return rows


def _text(m: BaseMessage) -> str:
    return m.content if isinstance(m.content, str) else str(m.content)


def refusal(text: str) -> str | None:
    """Why a user message cannot be taken (empty, too long, control characters), or None. Nothing of it is stored."""
    text = text.strip()
    if not text:
        return "Say what you would like to change in the photo."
    if len(text) > MAX_MESSAGE_CHARS:
        return f"That message is too long ({len(text)} characters; the limit is {MAX_MESSAGE_CHARS})."
    bad = bad_characters(text, allow_newlines=True)
    if bad:  # PostgreSQL cannot hold NUL, and no store should hold what a terminal obeys
        return f"That message contains control characters ({', '.join(bad[:5])}); nothing was changed. Please type it again without them."
    return None
