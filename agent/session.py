"""A conversation about one photo: the compiled graph plus the session's stored messages.

``ChatAgent.send`` replays the stored conversation into the graph, runs one
turn and stores the new messages. A failing LLM endpoint raises PlannerError
and stores nothing, so the session stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from ..memory.store import NodeInfo
from ..tools.toolkit import SessionToolkit
from .configuration import Configuration
from .errors import PlannerError
from .graph import build_graph

HISTORY_TURNS = 12
HISTORY_MESSAGES = 200  # read at most this many stored messages per turn (a turn has a handful)
MAX_MESSAGE_CHARS = 4000


@dataclass
class Reply:
    text: str
    head: NodeInfo
    tool_calls: list[dict]


def _to_lc(rows: list[dict]) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for r in rows:
        if r["role"] == "user":
            out.append(HumanMessage(r["content"]))
        elif r["role"] == "assistant":
            out.append(AIMessage(r["content"], tool_calls=r.get("tool_calls") or []))
        elif r["role"] == "tool":
            out.append(ToolMessage(r["content"], tool_call_id=r.get("tool_call_id") or "", name=r.get("name")))
    # keep the last HISTORY_TURNS user turns, starting at a user message
    starts = [i for i, m in enumerate(out) if isinstance(m, HumanMessage)]
    if not starts:
        return []
    out = out[starts[-HISTORY_TURNS] if len(starts) > HISTORY_TURNS else starts[0]:]  # always begin at a user message
    return out


def _to_rows(messages: list[BaseMessage]) -> list[dict]:
    rows = []
    for m in messages:
        if isinstance(m, HumanMessage):
            rows.append({"role": "user", "content": m.content})
        elif isinstance(m, AIMessage):
            calls = [{"name": c["name"], "args": c["args"], "id": c["id"], "type": "tool_call"} for c in m.tool_calls]
            rows.append({"role": "assistant", "content": m.content if isinstance(m.content, str) else str(m.content), "tool_calls": calls or None})
        elif isinstance(m, ToolMessage):
            rows.append({"role": "tool", "content": m.content if isinstance(m.content, str) else str(m.content),
                         "tool_call_id": m.tool_call_id, "name": m.name})
    return rows


class ChatAgent:
    def __init__(self, toolkit: SessionToolkit, planner, config: Configuration | None = None) -> None:
        self.toolkit = toolkit
        self.config = config or Configuration()
        self.graph = build_graph(planner, toolkit, self.config)

    @property
    def editor(self):
        return self.toolkit.editor

    def send(self, text: str, *, callbacks: list | None = None) -> Reply:
        """Run one turn. ``callbacks`` are LangChain callback handlers (the evaluator times the planner with one)."""
        text = (text or "").strip()
        if not text:
            return Reply("Say what you would like to change in the photo.", self.editor.head(), [])
        if len(text) > MAX_MESSAGE_CHARS:
            return Reply(f"That message is too long ({len(text)} characters; the limit is {MAX_MESSAGE_CHARS}).", self.editor.head(), [])
        store, sid, owner = self.editor.store, self.editor.session_id, self.editor.owner
        history = _to_lc(store.messages(sid, owner=owner, last=HISTORY_MESSAGES))
        try:
            result = self.graph.invoke({"messages": [*history, HumanMessage(text)]}, {"recursion_limit": self.config.recursion_limit, "callbacks": callbacks or []})
            new = list(result["messages"][len(history):])
        except Exception as exc:  # noqa: BLE001 - sorted below
            from langgraph.errors import GraphRecursionError

            if isinstance(exc, PlannerError):
                raise
            if isinstance(exc, GraphRecursionError):
                new = [HumanMessage(text), AIMessage("I stopped: the planner kept calling tools without finishing. "
                                                     "The edits made so far are kept; please rephrase.")]
            elif _is_endpoint_error(exc):
                raise PlannerError(f"the planner endpoint failed: {exc.__class__.__name__}: {exc}") from None
            else:
                raise
        store.add_messages(sid, _to_rows(new), owner=owner)
        final = next((m for m in reversed(new) if isinstance(m, AIMessage)), None)
        calls = [c for m in new if isinstance(m, AIMessage) for c in m.tool_calls]
        return Reply(final.content if final is not None else "", self.editor.head(), calls)


def _is_endpoint_error(exc: Exception) -> bool:
    try:
        import openai
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, (openai.APIError, openai.APIConnectionError, openai.APITimeoutError))
