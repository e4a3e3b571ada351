"""chatface's tools over the Model Context Protocol (official ``mcp`` SDK), on stdio or streamable HTTP.

``chatface mcp`` serves the tools of SessionToolkit.SPECS (invert,
apply_attribute, verify_identity, undo, redo, checkout, reset, history,
export), each made from the same schema and docstring as the LangChain tool,
so the two surfaces cannot drift apart. apply_attribute checks and re-edits its
result with the configured thresholds, as for every other client.

``invert`` opens a new chat session on a photo (a file path inside an allowed
directory, size-checked before it is read, or the image itself, base64) or
attaches to a stored session of the caller, and returns its id. On stdio the
process serves one client, which keeps that session, so later calls need no
id. Over streamable HTTP (stateless in the current protocol) every call names
its ``session_id``, and the server keeps nothing per connection: open sessions
live in the service's byte-bounded cache shared by all clients.

Who the caller is: over HTTP with users, the bearer token (``chatface users
token NAME``) names the user, and requests without a valid one get 401 (the
MCP authorization specification's resource-server role, through the SDK's
TokenVerifier); every session is that user's, and another user's session id
answers exactly as one that does not exist. Without users (a loopback address
only, or ``--no-auth``) the server's ``--owner`` owns everything. Paths outside
the allowed directories are refused; exports go to one directory and never
overwrite.
"""

from __future__ import annotations

import base64
import binascii
import inspect
from pathlib import Path
from typing import Annotated

import anyio
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image
from pydantic import Field
from pydantic_core import to_jsonable_python

from ..errors import ChatfaceError
from ..tools.service import EditService, PathNotAllowedError, SessionNotFoundError, allowed_path, user_owner
from ..tools.toolkit import SessionToolkit, tool_description

IMAGE_TOOLS = {"apply_attribute", "undo", "redo", "checkout", "reset"}  # their result carries the current image


def request_body_limit(max_image_bytes: int) -> int:
    """The HTTP body limit that admits a base64 image of ``max_image_bytes`` (4/3 of it) and the JSON around it."""
    return base64_length(max_image_bytes) + 1024 * 1024


def base64_length(size: int) -> int:
    """The length of ``size`` bytes in base64 (padded)."""
    return (size + 2) // 3 * 4


class AccountTokens:
    """The SDK's TokenVerifier over chatface's users: a live token of ``chatface users token`` names its user."""

    def __init__(self, service: EditService) -> None:
        self.accounts = service.accounts

    async def verify_token(self, token: str) -> AccessToken | None:
        name = await anyio.to_thread.run_sync(self.accounts.user_of_token, token)
        return AccessToken(token=token, client_id=name, subject=name, scopes=[]) if name else None


class ConnectionSessions:
    """Whose sessions a call may reach, and the stdio client's current session, over one EditService."""

    def __init__(self, service: EditService, *, owner: str, allowed_dirs: list[Path], export_dir: Path | None, authenticated: bool = False):
        self.service = service
        self.owner = owner  # without authentication: the owner of everything this server opens
        self.authenticated = authenticated
        self.allowed_dirs = [d.resolve() for d in allowed_dirs]
        self.export_dir = export_dir
        self._stdio: tuple[str, str] | None = None  # (session id, owner) of the one stdio client

    def owner_of_call(self) -> str:
        """The caller's owner: the user of the bearer token when the server authenticates, else the server's owner."""
        if not self.authenticated:
            return self.owner
        token = get_access_token()
        if token is None:  # the SDK's middleware answers 401 before a tool runs; never fall back to a shared owner
            raise ToolError("Error: not authenticated")
        return user_owner(token.client_id)

    def allowed(self, path: str) -> Path:
        try:
            p = allowed_path(path, self.allowed_dirs)
        except PathNotAllowedError as exc:
            raise ToolError(str(exc)) from None
        if not p.is_file():
            raise ToolError(f"{path}: no such file")
        return p

    def toolkit(self, session_id: str, owner: str) -> SessionToolkit:
        try:
            editor = self.service.open_session(session_id, owner=owner)
        except SessionNotFoundError:
            raise ToolError(f"Error: no session {session_id!r}") from None  # the same words whether it is missing or not yours
        return self.service.toolkit(editor, self.export_dir, reference_dirs=self.allowed_dirs)

    def current(self, stdio: bool, session_id: str | None) -> SessionToolkit:
        owner = self.owner_of_call()
        if session_id:
            return self.toolkit(session_id, owner)
        if stdio and self._stdio is not None and self._stdio[1] == owner:
            return self.toolkit(*self._stdio)
        raise ToolError(
            "Error: no photo yet: call invert with image_path or image_base64 first "
            "(over HTTP, pass the session_id it returns to every call)"
        )

    def remember(self, stdio: bool, toolkit: SessionToolkit) -> None:
        if stdio:
            self._stdio = (toolkit.editor.session_id, toolkit.editor.owner)


def _image(tk: SessionToolkit, node=None) -> Image:
    """The node's image as a preview at screen size (export writes the full-size file)."""
    ed = tk.editor
    return Image(data=ed.preview_png(ed.node(node)), format="png")


async def _run(fn, *args):
    """Blocking work in a worker thread; chatface's own errors become the tool's error text."""
    try:
        return await anyio.to_thread.run_sync(lambda: fn(*args))
    except ToolError:
        raise
    except (ChatfaceError, ValueError) as exc:
        raise ToolError(f"Error: {exc}") from None


def _is_stdio(ctx: Context) -> bool:
    return ctx.headers is None


def _session_tool(sessions: ConnectionSessions, name: str, schema):
    """An MCP tool function for toolkit tool ``name``: the schema's fields as its parameters (same bounds and
    descriptions as the LangChain tool's), plus ``session_id``; validated again by the schema itself."""

    async def tool(ctx: Context, **kwargs):
        session_id = kwargs.pop("session_id", None)
        tk = sessions.current(_is_stdio(ctx), session_id)
        args = {k: to_jsonable_python(v) for k, v in kwargs.items() if v is not None}  # unset: the schema's default
        text, _ = await _run(tk.call, name, args)
        return [text, await _run(_image, tk)] if name in IMAGE_TOOLS else text

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    for field_name, field in schema.model_fields.items():
        # the field's type, constraints (bounds, lengths, strictness) and description; an optional one defaults to None,
        # which the schema then fills with its own default
        annotation = field.annotation if field.is_required() else field.annotation | None
        # built at run time from the schema: mypy cannot read a type made from a variable
        described = Annotated[(annotation, *field.metadata, Field(description=field.description))]  # type: ignore[valid-type]
        default = inspect.Parameter.empty if field.is_required() else None
        params.append(inspect.Parameter(field_name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=described))
    params.append(inspect.Parameter("session_id", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=str | None))
    setattr(tool, "__signature__", inspect.Signature(params))  # what the MCP server reads for the tool's schema
    tool.__annotations__ = {p.name: p.annotation for p in params}
    tool.__name__ = name
    return tool


def build_server(sessions: ConnectionSessions, *, auth: AuthSettings | None = None) -> MCPServer:
    server = MCPServer(
        "chatface",
        instructions="Edit the face in a photo: call invert once with the photo, then apply_attribute, "
        "undo, redo, checkout, reset, history, verify_identity and export. Attribute ids and strengths "
        "in [-1, 1] are described in apply_attribute's schema.",
        auth=auth,
        token_verifier=AccountTokens(sessions.service) if auth is not None else None,
    )
    max_bytes = sessions.service.max_upload_bytes

    @server.tool(
        structured_output=False,
        description=tool_description("invert") + " Over MCP: open this connection's "
        "session on a photo (image_path, a file the server may read, or image_base64, the image's bytes), or on a "
        "stored session of yours (session_id); returns the session id to pass to every other call over HTTP.",
    )
    async def invert(ctx: Context, image_path: str | None = None, image_base64: str | None = None, session_id: str | None = None) -> list:
        stdio = _is_stdio(ctx)
        owner = sessions.owner_of_call()
        service = sessions.service
        if image_path or image_base64:
            if image_path:
                path = sessions.allowed(image_path)
                opener = lambda: service.open_photo(str(path), owner=owner)  # noqa: E731 - size-checked before it is read
            else:
                image_base64 = image_base64 or ""
                if len(image_base64) > base64_length(max_bytes) + 4:  # refused before decoding a byte
                    raise ToolError(f"Error: the image is larger than the server's limit of {max_bytes / 2**20:g} MB")
                try:
                    data = base64.b64decode(image_base64, validate=True)
                except (binascii.Error, ValueError):
                    raise ToolError("Error: image_base64 is not valid base64") from None
                opener = lambda: service.open_upload(data, owner=owner, name="(uploaded over MCP)")  # noqa: E731
            editor = await _run(opener)
            tk = service.toolkit(editor, sessions.export_dir, reference_dirs=sessions.allowed_dirs)
        else:
            tk = sessions.current(stdio, session_id)
        sessions.remember(stdio, tk)
        text, _ = await _run(tk.invert)
        return [f"{text} Session {tk.editor.session_id}.", await _run(_image, tk)]  # the id to pass as session_id over HTTP

    for name, schema in SessionToolkit.SPECS:
        if name != "invert":
            server.add_tool(
                _session_tool(sessions, name, schema),
                name=name,
                description=tool_description(name, sessions.service.config.engine),
                structured_output=False,
            )
    return server
