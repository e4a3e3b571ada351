"""chatface's tools over the Model Context Protocol (official ``mcp`` SDK), on stdio or streamable HTTP.

``chatface mcp`` serves invert, apply_attribute, verify_identity, undo, redo,
checkout, reset, history and export; apply_attribute checks and re-edits
its result with the configured thresholds, as for every other client. ``invert`` opens a new chat session on a photo (a
file path inside an allowed directory, or the image itself, base64) or
attaches to a stored session the server's owner owns, and returns its id.
On stdio the connection keeps that session, so later calls need no id. Over
streamable HTTP the current protocol (2026-07-28) is stateless (no
connection to remember), so each client passes the ``session_id`` that its
``invert`` returned; ids are unguessable and checked against the owner, and
no tool can reach any other session. Results carry
the text our tools return plus the current image as MCP image content.
Paths outside the allowed directories are refused; exports go to one
directory and never overwrite.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image

from ..errors import ChatfaceError
from ..tools.schemas import ApplyAttributeArgs, AttributeEdit, TextConcept, UndoArgs
from ..tools.service import EditService, SessionNotFoundError
from ..tools.toolkit import SessionToolkit

MAX_IMAGE_BYTES = 40 * 1024 * 1024


class ConnectionSessions:
    """Which chat session each MCP connection works on, over one EditService (the engine is loaded once, on first use)."""

    def __init__(self, service: EditService, *, owner: str, allowed_dirs: list[Path], export_dir: Path | None):
        self.service = service
        self.owner = owner
        self.allowed_dirs = [d.resolve() for d in allowed_dirs]
        self.export_dir = export_dir
        self._by_connection: dict[str, SessionToolkit] = {}

    def allowed(self, path: str) -> Path:
        p = Path(path).expanduser().resolve()
        if not any(p.is_relative_to(d) for d in self.allowed_dirs):
            raise ToolError(f"{path} is outside the directories this server may read ({', '.join(map(str, self.allowed_dirs))})")
        if not p.is_file():
            raise ToolError(f"{path}: no such file")
        return p

    def bind(self, key: str, toolkit: SessionToolkit) -> SessionToolkit:
        if not key.endswith(":stateless"):  # a stateless request is no connection: nothing to remember it by
            self._by_connection[key] = toolkit
        return toolkit

    def attach(self, session_id: str) -> SessionToolkit:
        editor = self.service.open_session(session_id, owner=self.owner)  # SessionNotFoundError if not ours
        return self.service.toolkit(editor, self.export_dir)

    def of(self, key: str, session_id: str | None = None) -> SessionToolkit:
        if session_id:
            tk = self._by_connection.get(f"id:{session_id}")
            if tk is None:
                try:
                    tk = self.bind(f"id:{session_id}", self.attach(session_id))
                except SessionNotFoundError:
                    raise ToolError(f"Error: no session {session_id!r} of yours") from None
            return tk
        tk = self._by_connection.get(key)
        if tk is None:
            raise ToolError("Error: no photo yet: call invert with image_path or image_base64 first "
                            "(over HTTP, pass the session_id it returns to every call)")
        return tk



def _check_steps(steps: int) -> None:
    """The same bounds as the tools' own schema (UndoArgs), so MCP allows exactly what the tools do."""
    field = UndoArgs.model_fields["steps"]
    low = next(m.ge for m in field.metadata if hasattr(m, "ge"))
    high = next(m.le for m in field.metadata if hasattr(m, "le"))
    if not low <= steps <= high:
        raise ToolError(f"Error: steps must be between {low} and {high}")

def _image(tk: SessionToolkit, node=None) -> Image:
    ed = tk.editor
    return Image(data=ed.png_of(ed.node(node)), format="png")


def build_server(sessions: ConnectionSessions) -> MCPServer:
    server = MCPServer("chatface", instructions="Edit the face in a photo: call invert once with the photo, then apply_attribute, "
                                               "undo, redo, checkout, reset, history, verify_identity and export. Attribute ids and strengths "
                                               "in [-1, 1] are described in apply_attribute's schema.")

    def key(ctx: Context) -> str:
        """The connection: its MCP session id over HTTP; on stdio the process serves one client."""
        headers = ctx.headers
        if headers is None:
            return "stdio"
        return f"http:{headers.get('mcp-session-id') or 'stateless'}"

    async def run(fn, *args):
        try:
            return await anyio.to_thread.run_sync(lambda: fn(*args))
        except (ChatfaceError, ValueError) as exc:
            raise ToolError(f"Error: {exc}") from None

    @server.tool(structured_output=False)
    async def invert(ctx: Context, image_path: str | None = None, image_base64: str | None = None, session_id: str | None = None) -> list:
        """Open this connection's chat session: on a photo (a path the server may read, or base64 image bytes), or on a
        stored session you own (session_id). The face is found and inverted once. Without arguments: the current session."""
        k = key(ctx)
        if session_id:
            tk = sessions.bind(k, await run(sessions.of, k, session_id))
        elif image_path or image_base64:
            if image_path:
                path = sessions.allowed(image_path)
                data, name = None, str(path)
            else:
                try:
                    data = base64.b64decode(image_base64, validate=True)
                except (binascii.Error, ValueError):
                    raise ToolError("Error: image_base64 is not valid base64") from None
                if len(data) > MAX_IMAGE_BYTES:
                    raise ToolError(f"Error: the image is larger than {MAX_IMAGE_BYTES // 2**20} MB")
                name = "(uploaded over MCP)"

            def open_new():
                service = sessions.service
                ed = service.open_photo(name, owner=sessions.owner) if data is None else service.open_upload(data, owner=sessions.owner, name=name)
                tk = service.toolkit(ed, sessions.export_dir)
                sessions.bind(f"id:{ed.session_id}", tk)
                return sessions.bind(k, tk)
            tk = await run(open_new)
        else:
            tk = sessions.of(k)
        text, _ = await run(tk.invert)
        return [f"{text} Session {tk.editor.session_id}.", _image(tk)]  # the id to pass as session_id over HTTP

    @server.tool(structured_output=False)
    async def apply_attribute(ctx: Context, edits: list[AttributeEdit] | None = None, mode: str = "set", request: str = "",
                              concepts: list[TextConcept] | None = None, session_id: str | None = None) -> list:
        """Set (mode 'set') or change (mode 'change') one or more attributes: edits [{attribute, strength in [-1, 1], t_edit?}].
        concepts [{text, strength, t_edit?}]: free text for what the vocabulary lacks ('a pirate hat'), only with an engine
        that accepts text (ledits; invert's reply says so). Renders from the original photo, checks identity and
        direction, and stores a new history node."""
        tk = sessions.of(key(ctx), session_id)
        try:
            args = ApplyAttributeArgs(edits=edits or [], concepts=concepts or [], mode=mode, request=request)
        except ValueError as exc:
            raise ToolError(f"Error: {exc}") from exc
        text, art = await run(tk.apply_attribute, args.edits, args.mode, args.request, args.concepts)
        return [text, _image(tk)]

    @server.tool(structured_output=False)
    async def verify_identity(ctx: Context, node: int | None = None, session_id: str | None = None) -> str:
        """Compare the face of a history node (default: the current one) with the original photo."""
        tk = sessions.of(key(ctx), session_id)
        return (await run(tk.verify_identity, node))[0]

    @server.tool(structured_output=False)
    async def undo(ctx: Context, steps: int = 1, session_id: str | None = None) -> list:
        """Go back ``steps`` edits."""
        _check_steps(steps)
        tk = sessions.of(key(ctx), session_id)
        return [(await run(tk.undo, steps))[0], _image(tk)]

    @server.tool(structured_output=False)
    async def redo(ctx: Context, steps: int = 1, session_id: str | None = None) -> list:
        """Re-apply edits that were undone."""
        _check_steps(steps)
        tk = sessions.of(key(ctx), session_id)
        return [(await run(tk.redo, steps))[0], _image(tk)]

    @server.tool(structured_output=False)
    async def checkout(ctx: Context, node: int, session_id: str | None = None) -> list:
        """Go to history node ``node`` (an earlier version, as history numbers it); redo still reaches the others."""
        tk = sessions.of(key(ctx), session_id)
        return [(await run(tk.checkout, node))[0], _image(tk)]

    @server.tool(structured_output=False)
    async def reset(ctx: Context, session_id: str | None = None) -> list:
        """Back to the original photo (a new history node, so it can be undone)."""
        tk = sessions.of(key(ctx), session_id)
        return [(await run(tk.reset))[0], _image(tk)]

    @server.tool(structured_output=False)
    async def history(ctx: Context, session_id: str | None = None) -> str:
        """The edit tree of this connection's session; * marks the current node."""
        tk = sessions.of(key(ctx), session_id)
        return (await run(tk.history))[0]

    @server.tool(structured_output=False)
    async def export(ctx: Context, filename: str, node: int | None = None, session_id: str | None = None) -> str:
        """Write a history node's image (default: current) into the server's export directory as ``filename``."""
        tk = sessions.of(key(ctx), session_id)
        return (await run(tk.export, filename, node))[0]

    return server
