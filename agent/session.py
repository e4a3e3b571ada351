"""Chats about photos: the one factory every chat entry point uses, and one conversation's turns.

``ChatService(config)`` holds the edit-session service (store, engine,
thresholds), the planner and the compiled graph, each built once per
process; ``open_photo`` / ``resume`` / ``unrendered`` give a ChatAgent for
one session. ``ChatAgent.send`` replays the stored conversation into the
graph, runs one turn and stores the new messages. A failing LLM endpoint
raises PlannerError and stores nothing, so the session stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from pathlib import Path

from ..configuration import Configuration
from ..tools.editor import SessionEditor
from ..tools.lazy import Lazy
from ..tools.service import EditService, NodeInfo
from ..tools.text_rules import bad_characters
from ..tools.toolkit import SessionToolkit
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
    edits: list[dict] = field(default_factory=list)  # the artifacts (EditOutcome) of this turn's apply_attribute calls

    @property
    def visible_changes(self) -> list[str]:
        """The attributes this turn changed visibly and the asked way (EditOutcome.visible_changes)."""
        return sorted({a for e in self.edits for a in e.get("visible_changes") or []})

    @property
    def removed(self) -> list[str]:
        return sorted({a for e in self.edits for a in e.get("removed") or []})


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


class ChatService:
    """The factory of chats: the edit-session service, the planner and the graph, each built once."""

    def __init__(self, config: Configuration | None = None, *, service: EditService | None = None, planner=None) -> None:
        from .planners.llm import make_planner

        self.config = config or Configuration()
        self.service = service or EditService(self.config)
        self._planner = Lazy(lambda: planner if planner is not None else make_planner(self.config))
        self._graph = Lazy(lambda: build_graph(self.planner, self.service))

    @property
    def planner(self):
        return self._planner.get()

    @property
    def graph(self):
        return self._graph.get()

    def warm(self) -> None:
        """Load the engine, the planner (with its sentence model) and the graph now, not on the first request.

        A server calls it in the background at start, so the first message of the first user does not wait.
        A part that fails to load is left for the first request, which then reports the error to its user.
        """
        import logging

        try:
            self._warm()
        except Exception as exc:  # noqa: BLE001 - reported again, to the user, by the first request that needs it
            logging.getLogger(__name__).warning("warm-up failed (%s: %s); the first request will report it", type(exc).__name__, exc)

    def _warm(self) -> None:
        self.service.parts()
        warm = getattr(self.planner, "warm", None)
        if warm is not None:
            warm()
        _ = self.graph

    def agent(self, editor: SessionEditor, export_dir: str | Path | None = None) -> "ChatAgent":
        return ChatAgent(self, self.service.toolkit(editor, export_dir))

    def open_photo(self, photo: str | Path, *, owner: str = "local", image=None, export_dir: str | Path | None = None) -> "ChatAgent":
        return self.agent(self.service.open_photo(photo, owner=owner, image=image), export_dir)

    def resume(self, session_id: str, *, owner: str = "local", export_dir: str | Path | None = None) -> "ChatAgent":
        return self.agent(self.service.open_session(session_id, owner=owner), export_dir)

    def unrendered(self, *, owner: str = "local", title: str = "planner evaluation") -> "ChatAgent":
        return self.agent(self.service.open_unrendered(owner=owner, title=title))


class ChatAgent:
    """One session's conversation, run through its ChatService's graph."""

    def __init__(self, chats: ChatService, toolkit: SessionToolkit) -> None:
        self.chats = chats
        self.toolkit = toolkit
        self.config = chats.config

    @property
    def editor(self) -> SessionEditor:
        return self.toolkit.editor

    def send(self, text: str, *, callbacks: list | None = None) -> Reply:
        """Run one turn. ``callbacks`` are LangChain callback handlers (the evaluator times the planner with one)."""
        text = (text or "").strip()
        if not text:
            return Reply("Say what you would like to change in the photo.", self.editor.head(), [])
        if len(text) > MAX_MESSAGE_CHARS:
            return Reply(f"That message is too long ({len(text)} characters; the limit is {MAX_MESSAGE_CHARS}).", self.editor.head(), [])
        bad = bad_characters(text, allow_newlines=True)
        if bad:  # refused before anything is stored: PostgreSQL cannot hold NUL, and no store should hold what a terminal obeys
            return Reply(f"That message contains control characters ({', '.join(bad[:5])}); nothing was changed. "
                         "Please type it again without them.", self.editor.head(), [])
        store, sid, owner = self.editor.store, self.editor.session_id, self.editor.owner
        history = _to_lc(store.messages(sid, owner=owner, last=HISTORY_MESSAGES, roles=("user", "assistant", "tool")))
        try:
            result = self.chats.graph.invoke({"messages": [*history, HumanMessage(text)], "session_id": sid},
                                             {"recursion_limit": self.config.recursion_limit, "callbacks": callbacks or [],
                                              "configurable": {"toolkit": self.toolkit, "owner": owner}})
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
        edits = [m.artifact for m in new if isinstance(m, ToolMessage) and isinstance(getattr(m, "artifact", None), dict)
                 and m.artifact.get("tool") == "apply_attribute"]
        return Reply(final.content if final is not None else "", self.editor.head(), calls, edits)


def _is_endpoint_error(exc: Exception) -> bool:
    try:
        import openai
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, (openai.APIError, openai.APIConnectionError, openai.APITimeoutError))
