"""chatface's tools for someone else's agent: one call gives LangChain tools bound to one photo's session.

    from chatface.interfaces.langchain_toolkit import ChatfaceToolkit

    kit = ChatfaceToolkit.from_photo("portrait.jpg", export_dir="exports")
    agent = create_react_agent(model, kit.get_tools())      # langgraph.prebuilt
    agent.invoke({"messages": [("user", "give her a subtle smile, then undo it")]})
    kit.head().state                                         # what the session holds now

The tools are the same objects our own agent uses (typed arguments, errors
returned to the model as messages, every edit stored in the session memory);
they can reach only their own session and export directory. ``apply_attribute``
checks its own result (identity, direction, realism) and re-edits when a check
fails, with the thresholds of chatface's configuration (CHATFACE_IDENTITY_DISTANCE,
...), so a foreign agent gets checked edits and reads the trade-off in the
tool's text.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict

from ..configuration import Configuration
from ..tools.service import EditService, NodeInfo
from ..tools.toolkit import SessionToolkit


class ChatfaceToolkit(BaseToolkit):
    """LangChain toolkit of one chatface session (invert, apply_attribute, verify_identity, undo, redo, reset, history, export)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    session_toolkit: SessionToolkit

    @classmethod
    def from_photo(
        cls,
        photo: str | Path,
        *,
        owner: str = "local",
        export_dir: str | Path | None = None,
        config: Configuration | None = None,
        service: EditService | None = None,
        **overrides,
    ) -> "ChatfaceToolkit":
        """Open a new session on ``photo`` (the face is found and inverted now, so a bad photo fails here).

        ``config`` (default: the environment's) with ``overrides`` (engine, database_url, models_dir, face_index,
        identity_distance, ...) builds the service; pass ``service`` to share one engine between toolkits.
        """
        service = service or _service(config, overrides)
        return cls(session_toolkit=service.toolkit(service.open_photo(photo, owner=owner), export_dir))

    @classmethod
    def from_session(
        cls,
        session_id: str,
        *,
        owner: str = "local",
        export_dir: str | Path | None = None,
        config: Configuration | None = None,
        service: EditService | None = None,
        **overrides,
    ) -> "ChatfaceToolkit":
        """Go on with a stored session (it must belong to ``owner``), with the engine that made it."""
        service = service or _service(config, overrides)
        return cls(session_toolkit=service.toolkit(service.open_session(session_id, owner=owner), export_dir))

    @property
    def session_id(self) -> str:
        return self.session_toolkit.editor.session_id

    def head(self) -> NodeInfo:
        return self.session_toolkit.editor.head()

    def get_tools(self) -> list[BaseTool]:
        return self.session_toolkit.langchain_tools()


def _service(config: Configuration | None, overrides: dict) -> EditService:
    from dataclasses import fields

    unknown = sorted(set(overrides) - {f.name for f in fields(Configuration)})
    if unknown:
        raise TypeError(f"unknown configuration {', '.join(unknown)}; see chatface.configuration.Configuration")
    return EditService((config or Configuration()).with_overrides(**overrides))


def tool_schemas(fmt: str = "openai", engine: str = "offline") -> list[dict]:
    """The tool definitions for function-calling clients, from the same tools (no session needed to describe them);
    apply_attribute's description names what ``engine`` does."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    tools = SessionToolkit.unbound_tools(engine)  # described, never called: unbound tools
    if fmt == "openai":
        return [convert_to_openai_tool(t) for t in tools]
    if fmt == "json-schema":
        return [{"name": t.name, "description": t.description, "input_schema": t.args_schema.model_json_schema()} for t in tools]
    raise ValueError(f"unknown format {fmt!r}; choose openai or json-schema")
