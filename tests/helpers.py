"""Test helpers: a scripted OpenAI-compatible endpoint on 127.0.0.1, and waiting for a server's port."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def wait_for_port(port: int, proc=None, timeout: float = 120.0) -> None:
    """Until something listens on 127.0.0.1:port; fails early when ``proc`` exits."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            time.sleep(0.3)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScriptedOpenAI(BaseHTTPRequestHandler):
    """Each request pops one step of ``script``: text, a list of (tool, arguments), or a fault
    ("sleep:SECONDS", "429", "500", "malformed")."""

    script: list = []
    requests: list = []

    def _send(self, code: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        step = type(self).script.pop(0) if type(self).script else "(script ended)"
        if isinstance(step, str) and step.startswith("sleep:"):
            time.sleep(float(step.split(":")[1]))
            step = "too late"
        if step == "429":
            return self._send(429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}', {"retry-after-ms": "20"})
        if step == "500":
            return self._send(500, b'{"error": {"message": "boom"}}', {"retry-after-ms": "20"})
        if step == "malformed":
            return self._send(200, b'{"id": "x", "choices": [{"message": ')
        message = {"role": "assistant", "content": step if isinstance(step, str) else None}
        if isinstance(step, list):
            message["tool_calls"] = [
                {
                    "id": f"call_{len(type(self).requests)}_{i}",
                    "type": "function",
                    "function": {"name": n, "arguments": a if isinstance(a, str) else json.dumps(a)},
                }
                for i, (n, a) in enumerate(step)
            ]
        payload = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "faulty",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if isinstance(step, list) else "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        self._send(200, json.dumps(payload).encode())

    def log_message(self, *args):
        pass


@contextmanager
def scripted_endpoint():
    """(base URL, handler class) of a fresh scripted server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedOpenAI)
    ScriptedOpenAI.script, ScriptedOpenAI.requests = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", ScriptedOpenAI
    finally:
        server.shutdown()


def chat_agent(editor, planner, export_dir=None, config=None):
    """A ChatAgent on an already open editor (a fixture's), through the same factory the entry points use."""
    from chatface.agent.session import ChatService
    from chatface.configuration import Configuration
    from chatface.tools.service import EditService

    config = config or Configuration()
    chats = ChatService(config, service=EditService(config, store=editor.store), planner=planner)
    return chats.agent(editor, export_dir)


def run_cli(args, env: dict | None = None, input: str | None = None, timeout=None):
    """``chatface ARGS`` in this process (torch, dlib and the models are imported once per test run, not per call).

    Returns what subprocess.run would: returncode, stdout, stderr. ``env`` is laid over os.environ for the call
    (the configuration reads it then); ``input`` is the standard input. An unexpected exception shows as a
    traceback on stderr with status 1, as it would in a real process.
    """
    import contextlib
    import io
    import os
    import subprocess
    import sys
    import traceback

    from chatface.cli import main

    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update({k: str(v) for k, v in (env or {}).items()})
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(input or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse: --help and argument errors
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception:  # noqa: BLE001 - what a real process would print
                traceback.print_exc()
                code = 1
    finally:
        sys.stdin = old_stdin
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return subprocess.CompletedProcess(["chatface", *map(str, args)], code, out.getvalue(), err.getvalue())


def require_extra(module: str, extra: str):
    """``module`` of an optional extra, imported; without it the calling test module is skipped with the install
    command, or fails under CHATFACE_REQUIRE_EXTRAS=1 (.ci/run sets it: CI installs every extra)."""
    import importlib
    import os

    import pytest

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        why = f"needs the '{extra}' extra ({exc}): pip install -e \".[{extra}]\""
        if os.environ.get("CHATFACE_REQUIRE_EXTRAS"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why, allow_module_level=True)
