"""The ``chatface`` command line: edit, chat, demo, sessions, history, export, eval, engines.

Parsing and help never import torch or load a model: everything heavy is
imported inside the command that needs it. Errors are one line on stderr and
a non-zero exit status.
"""

from __future__ import annotations

import sys

from .eval_commands import cmd_eval
from .model_commands import cmd_models, cmd_train_direction
from .parser import build_parser
from .server_commands import cmd_engines, cmd_mcp, cmd_serve, cmd_tools, cmd_users
from .session_commands import cmd_chat, cmd_demo, cmd_edit, cmd_export, cmd_history, cmd_sessions

COMMANDS = {
    "serve": cmd_serve,
    "mcp": cmd_mcp,
    "tools": cmd_tools,
    "engines": cmd_engines,
    "models": cmd_models,
    "train-direction": cmd_train_direction,
    "eval": cmd_eval,
    "edit": cmd_edit,
    "chat": cmd_chat,
    "demo": cmd_demo,
    "sessions": cmd_sessions,
    "users": cmd_users,
    "history": cmd_history,
    "export": cmd_export,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("chatface: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, no traceback
        if _is_user_error(exc):
            print(f"chatface: error: {exc}", file=sys.stderr)
            return 1
        raise


def _is_user_error(exc: Exception) -> bool:
    from ..errors import ChatfaceError

    return isinstance(exc, (ValueError, OSError, ChatfaceError))
