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
            message["tool_calls"] = [{"id": f"call_{len(type(self).requests)}_{i}", "type": "function",
                                      "function": {"name": n, "arguments": a if isinstance(a, str) else json.dumps(a)}}
                                     for i, (n, a) in enumerate(step)]
        payload = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "faulty",
                   "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if isinstance(step, list) else "stop"}],
                   "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
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
