"""Chats about photos: the one factory every chat entry point uses, and one conversation's turns.

``ChatService(config)`` holds the edit-session service (store, engine,
thresholds), the planner and the compiled graph, each built once per
process; ``open_photo`` / ``resume`` / ``unrendered`` give a ChatAgent for
one session. ``ChatAgent.send`` runs one turn through the graph, which
reads the stored conversation and stores the turn itself (so the LangGraph
server's runs behave the same). A failing LLM endpoint raises PlannerError
and stores nothing, so the session stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage, ToolCall, ToolMessage

from ..configuration import Configuration
from ..tools.editor import SessionEditor
from ..tools.lazy import Lazy
from ..tools.service import EditService, NodeInfo
from ..tools.results import EditOutcome
from ..tools.toolkit import SessionToolkit
from .errors import PlannerError
from .graph import build_graph


@dataclass
class Reply:
    text: str
    head: NodeInfo
    tool_calls: list[ToolCall]
    edits: list[EditOutcome] = field(default_factory=list)  # what this turn's apply_attribute calls did

    @property
    def visible_changes(self) -> list[str]:
        """The attributes this turn changed visibly and the asked way (EditOutcome.visible_changes)."""
        return sorted({a for e in self.edits for a in e.visible_changes})

    @property
    def removed(self) -> list[str]:
        return sorted({a for e in self.edits for a in e.removed})


class ChatService:
    """The factory of chats: the edit-session service, the planner and the graph, each built once."""

    def __init__(self, config: Configuration | None = None, *, service: EditService | None = None, planner=None) -> None:
        from .planners.llm import make_planner

        self.config = config or Configuration()
        self.service = service or EditService(self.config)
        self._planner = Lazy(lambda: planner if planner is not None else make_planner(self.config))
        self._graph = Lazy(lambda: build_graph(self.planner, self.service))
        self._server_graph = Lazy(lambda: build_graph(self.planner, self.service, trusted=False))

    @property
    def planner(self):
        return self._planner.get()

    @property
    def graph(self):
        """The graph for in-process entry points, which name the owner themselves (after their own login)."""
        return self._graph.get()

    @property
    def server_graph(self):
        """The graph for the LangGraph server: the owner from the run's authenticated user, photos from allow_dirs only."""
        return self._server_graph.get()

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
        return ChatAgent(self, self.service.toolkit(self.service.adopt(editor), export_dir))

    def open_photo(
        self, photo: str | Path, *, owner: str = "local", image=None, export_dir: str | Path | None = None, face_index: int | None = None
    ) -> "ChatAgent":
        return self.agent(self.service.open_photo(photo, owner=owner, image=image, face_index=face_index), export_dir)

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
        self.reference: str | None = None  # the reference photo attached for the next turns (attach_reference)

    def attach_reference(self, path: str) -> str:
        """Attach a reference photo for "like in this photo" requests; it must read as an image (ImageError)."""
        self.chats.service.read_photo(path)
        self.reference = str(Path(path).resolve())
        return self.reference

    @property
    def editor(self) -> SessionEditor:
        return self.toolkit.editor

    def send(self, text: str, *, callbacks: list | None = None, reference: str | None = None) -> Reply:
        """Run one turn through the graph, which reads the history and stores the turn (``callbacks``: LangChain
        callback handlers; the evaluator times the planner with one; ``reference``: a reference photo's path for
        "like in this photo", else the one attached with ``attach_reference``)."""
        ed = self.editor
        export_dir = str(self.toolkit.export_dir) if self.toolkit.export_dir else None
        try:
            result = self.chats.graph.invoke(
                {"messages": [HumanMessage((text or "").strip())]},
                {
                    "recursion_limit": self.config.recursion_limit,
                    "callbacks": callbacks or [],
                    "configurable": {
                        "session_id": ed.session_id,
                        "owner": ed.owner,
                        "export_dir": export_dir,
                        "reference": reference or self.reference,
                    },
                },
            )
        except PlannerError:
            raise
        except Exception as exc:  # noqa: BLE001 - an endpoint's own error class, said as the planner's failure
            if _is_endpoint_error(exc):
                raise PlannerError(f"the planner endpoint failed: {exc.__class__.__name__}: {exc}") from None
            raise
        new = list(result["messages"])
        final = next((m for m in reversed(new) if isinstance(m, AIMessage)), None)
        calls = [c for m in new if isinstance(m, AIMessage) for c in m.tool_calls]
        edits = [e for m in new if isinstance(m, ToolMessage) and (e := EditOutcome.of(getattr(m, "artifact", None))) is not None]
        text = "" if final is None else final.content if isinstance(final.content, str) else str(final.content)
        return Reply(text, ed.head(), calls, edits)


def _is_endpoint_error(exc: Exception) -> bool:
    try:
        import openai
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, (openai.APIError, openai.APIConnectionError, openai.APITimeoutError))
