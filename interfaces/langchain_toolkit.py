"""chatface's tools for someone else's agent: one call gives LangChain tools bound to one photo's session.

    from chatface.interfaces.langchain_toolkit import ChatfaceToolkit

    kit = ChatfaceToolkit.from_photo("portrait.jpg", export_dir="exports")
    agent = create_react_agent(model, kit.get_tools())      # langgraph.prebuilt
    agent.invoke({"messages": [("user", "give her a subtle smile, then undo it")]})
    kit.head().state                                         # what the session holds now

The tools are the same objects our own agent uses (typed arguments, errors
returned to the model as messages, every edit stored in the session memory);
they can reach only their own session and export directory. Re-edits by the
self-check are part of our graph, not of the bare tools: a foreign agent sees
the identity and direction scores in each tool result and decides itself.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict

from ..memory.store import NodeInfo, Store
from ..tools.editor import SessionEditor, open_photo
from ..tools.toolkit import SessionToolkit


class ChatfaceToolkit(BaseToolkit):
    """LangChain toolkit of one chatface session (invert, apply_attribute, verify_identity, undo, redo, reset, history, export)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    session_toolkit: SessionToolkit

    @classmethod
    def from_photo(cls, photo: str | Path, *, owner: str = "local", engine: str = "offline", database_url: str | None = None,
                   export_dir: str | Path | None = None, models_dir: str | None = None, face_index: int = 0) -> "ChatfaceToolkit":
        """Open a new session on ``photo`` (the face is found and inverted now, so a bad photo fails here)."""
        from ..models.registry import load_engine

        parts = load_engine(engine, face_index=face_index, models_dir=models_dir)
        editor = open_photo(Store(database_url), parts, str(photo), owner=owner)
        return cls(session_toolkit=SessionToolkit(editor, export_dir))

    @classmethod
    def from_session(cls, session_id: str, *, owner: str = "local", database_url: str | None = None,
                     export_dir: str | Path | None = None, models_dir: str | None = None) -> "ChatfaceToolkit":
        """Go on with a stored session (it must belong to ``owner``)."""
        from ..models.registry import load_engine

        store = Store(database_url)
        info = store.get_session(session_id, owner=owner)
        # a session stores the name of the engine that made it, which is the name load_engine takes (as `chat --session` does)
        editor = SessionEditor(store, load_engine(info.engine, models_dir=models_dir), session_id, owner=owner)
        return cls(session_toolkit=SessionToolkit(editor, export_dir))

    @property
    def session_id(self) -> str:
        return self.session_toolkit.editor.session_id

    def head(self) -> NodeInfo:
        return self.session_toolkit.editor.head()

    def get_tools(self) -> list[BaseTool]:
        return self.session_toolkit.langchain_tools()


def tool_schemas(fmt: str = "openai") -> list[dict]:
    """The tool definitions for function-calling clients, from the same tools (no session needed to describe them)."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    tools = SessionToolkit(None).langchain_tools()  # described, never called: unbound tools
    if fmt == "openai":
        return [convert_to_openai_tool(t) for t in tools]
    if fmt == "json-schema":
        return [{"name": t.name, "description": t.description, "input_schema": t.args_schema.model_json_schema()} for t in tools]
    raise ValueError(f"unknown format {fmt!r}; choose openai or json-schema")
