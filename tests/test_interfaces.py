"""chatface from outside: a foreign LangGraph agent using our LangChain toolkit, and the OpenAI tool schemas."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import require_extra, run_cli
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class ScriptedModel(BaseChatModel):
    """A chat model that answers from a script: someone else's agent, with its own (scripted) brain."""

    script: list = []
    seen: list = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools, **kwargs):
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(messages)
        step = self.script.pop(0)
        if isinstance(step, str):
            msg = AIMessage(content=step)
        else:
            msg = AIMessage(
                content="",
                tool_calls=[{"name": n, "args": a, "id": f"c{len(self.seen)}_{i}", "type": "tool_call"} for i, (n, a) in enumerate(step)],
            )
        return ChatResult(generations=[ChatGeneration(message=msg)])


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_a_foreign_langgraph_agent_edits_with_our_toolkit(photo, db_url, tmp_path):
    from chatface.interfaces.langchain_toolkit import ChatfaceToolkit
    from langgraph.prebuilt import create_react_agent

    kit = ChatfaceToolkit.from_photo(photo, database_url=db_url, export_dir=tmp_path / "exports")
    model = ScriptedModel(
        script=[
            [("apply_attribute", {"edits": [{"attribute": "smiling", "strength": 0.3}, {"attribute": "lipstick", "strength": 0.6}]})],
            "She now smiles a little and wears glasses.",
            [("undo", {"steps": 1})],
            "Undone.",
            [("apply_attribute", {"edits": [{"attribute": "lipstick", "strength": 0.6}]}), ("export", {"filename": "final.png"})],
            "Red lipstick, saved as final.png.",
        ],
        seen=[],
    )
    agent = create_react_agent(model, kit.get_tools())
    out = agent.invoke({"messages": [("user", "a subtle smile and glasses please")]})
    assert kit.head().strengths() == {"smiling": 0.3, "lipstick": 0.6}
    tool_result = [m for m in out["messages"] if m.type == "tool"][0]
    assert "identity" in tool_result.content and "same person" in tool_result.content  # scores reach the foreign agent
    out = agent.invoke({"messages": out["messages"] + [("user", "undo that")]})
    assert kit.head().seq == 0
    agent.invoke({"messages": out["messages"] + [("user", "just red lipstick then, and save it")]})
    assert kit.head().strengths() == {"lipstick": 0.6}
    assert (tmp_path / "exports" / "final.png").stat().st_size > 10_000
    again = ChatfaceToolkit.from_session(kit.session_id, database_url=db_url)
    assert [n.seq for n in again.session_toolkit.editor.store.nodes(kit.session_id)] == [0, 1, 2]


def test_openai_tool_schemas_from_the_cli():
    run = run_cli(["tools", "--format", "openai"])
    assert run.returncode == 0, run.stderr
    tools = json.loads(run.stdout)
    assert [t["function"]["name"] for t in tools] == [
        "invert",
        "apply_attribute",
        "apply_reference",
        "verify_identity",
        "undo",
        "redo",
        "checkout",
        "reset",
        "history",
        "export",
    ]
    apply = tools[1]["function"]["parameters"]
    edit = apply["properties"]["edits"]["items"]
    assert edit["properties"]["strength"]["minimum"] == -1.0 and edit["properties"]["strength"]["maximum"] == 1.0
    assert "attribute" in edit["required"]
    assert all(t["type"] == "function" and t["function"]["description"] for t in tools)


def _text(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def test_mcp_server_over_stdio_edits_undoes_and_stores(photo, tmp_path, astronaut):
    require_extra("mcp", "serve")
    import anyio
    from chatface.memory.store import Store
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    db = f"sqlite:///{tmp_path / 'mcp.db'}"
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_bytes(photo.read_bytes())
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "chatface.cli", "mcp", "--allow-dir", str(photo.parent), "--export-dir", str(tmp_path / "exports")],
        env={"CHATFACE_DATABASE_URL": db, "HF_HUB_OFFLINE": "1"},
    )

    async def scenario():
        async with Client(params, read_timeout_seconds=120) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            assert names == [
                "invert",
                "apply_attribute",
                "apply_reference",
                "verify_identity",
                "undo",
                "redo",
                "checkout",
                "reset",
                "history",
                "export",
            ]
            refused = await client.call_tool("invert", {"image_path": str(outside)})
            assert refused.is_error and "outside the directories" in _text(refused)
            early = await client.call_tool("undo", {})
            assert early.is_error and "call invert" in _text(early)
            opened = await client.call_tool("invert", {"image_path": str(photo)})
            assert not opened.is_error, _text(opened)
            sid = _text(opened).split("Session ")[1].rstrip(".")
            assert any(c.type == "image" and c.mime_type == "image/png" for c in opened.content)
            edited = await client.call_tool(
                "apply_attribute", {"edits": [{"attribute": "smiling", "strength": 0.6}, {"attribute": "lipstick", "strength": 0.6}]}
            )
            assert not edited.is_error and "same person" in _text(edited)
            bad = await client.call_tool("apply_attribute", {"edits": [{"attribute": "wings", "strength": 0.6}]})
            assert bad.is_error
            too_many = await client.call_tool("undo", {"steps": 101})  # the tools' own schema allows 1..100
            assert too_many.is_error and "less than or equal to 100" in _text(too_many)
            undone = await client.call_tool("undo", {"steps": 1})
            assert "node 0" in _text(undone)
            again = await client.call_tool("redo", {})
            assert "node 1" in _text(again)
            saved = await client.call_tool("export", {"filename": "../escape.png"})
            assert saved.is_error
            saved = await client.call_tool("export", {"filename": "mcp.png"})
            assert not saved.is_error, _text(saved)
            history = _text(await client.call_tool("history", {}))
            assert "* node 1" in history
            return sid

    sid = anyio.run(scenario)
    store = Store(db)
    assert store.head(sid).strengths() == {"smiling": 0.6, "lipstick": 0.6}
    assert [n.seq for n in store.nodes(sid)] == [0, 1]
    assert store.get_session(sid).latent_blob is not None
    assert (tmp_path / "exports" / "mcp.png").exists() and not (tmp_path / "escape.png").exists()


def test_mcp_over_http_gives_each_connection_its_own_session(photo, tmp_path):
    require_extra("mcp", "serve")
    import base64

    import anyio
    from chatface.memory.store import Store
    from helpers import free_port, wait_for_port
    from mcp import Client

    port = free_port()
    db = f"sqlite:///{tmp_path / 'mcp.db'}"
    env = {**__import__("os").environ, "CHATFACE_DATABASE_URL": db}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatface.cli", "mcp", "--transport", "http", "--port", str(port), "--allow-dir", str(photo.parent)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc, timeout=60)
        url = f"http://127.0.0.1:{port}/mcp"
        photo_b64 = base64.b64encode(photo.read_bytes()).decode()

        async def one(attribute):
            async with Client(url, read_timeout_seconds=120) as client:
                opened = await client.call_tool("invert", {"image_base64": photo_b64})
                assert not opened.is_error, _text(opened)
                sid = _text(opened).split("Session ")[1].rstrip(".")
                nameless = await client.call_tool("apply_attribute", {"edits": [{"attribute": attribute, "strength": 0.6}]})
                assert nameless.is_error and "session_id" in _text(nameless)  # stateless HTTP: no implicit session to hijack
                r = await client.call_tool("apply_attribute", {"edits": [{"attribute": attribute, "strength": 0.6}], "session_id": sid})
                assert not r.is_error, _text(r)
                forged = await client.call_tool("undo", {"session_id": "not-a-real-session"})
                assert forged.is_error and "no session" in _text(forged)
                return sid

        async def both():
            return [await one("lipstick"), await one("smiling")]

        first, second = anyio.run(both)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert first != second
    store = Store(db)
    assert store.head(first).strengths() == {"lipstick": 0.6} and store.head(second).strengths() == {"smiling": 0.6}


def _server_graph_module():
    import importlib.util
    from pathlib import Path

    spec = json.loads((Path(__file__).resolve().parents[1] / "langgraph.json").read_text())
    module_path, attr = spec["graphs"]["chatface"].split(":")
    file = Path(__file__).resolve().parents[1] / module_path
    mod_spec = importlib.util.spec_from_file_location("chatface_server_graph", file)  # loaded by path, as the server does
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return getattr(module, attr)


def test_the_graph_for_the_langgraph_server_and_as_a_subgraph(photo, db_url, monkeypatch):
    import asyncio

    from chatface.memory.store import Store
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, MessagesState, StateGraph

    monkeypatch.setenv("CHATFACE_DATABASE_URL", db_url)  # the server process's configuration: its environment
    monkeypatch.setenv("CHATFACE_EMBEDDINGS", "0")
    monkeypatch.setenv("CHATFACE_ALLOW_DIRS", str(photo.parent))  # the only folder a run may name photos in
    make_graph = _server_graph_module()
    graph = asyncio.run(make_graph({"configurable": {"photo": str(photo)}}))
    assert asyncio.run(make_graph({})) is graph  # compiled once per process, engine and planner loaded once

    outside = photo.parent.parent / f"{photo.parent.name}-outside.png"
    outside.write_bytes(photo.read_bytes())
    for path in (outside, photo.parent / ".." / outside.name):  # answered in words; no session is opened
        refused = graph.invoke({"messages": [("user", "hi")]}, {"configurable": {"photo": str(path)}})
        assert "outside the directories" in refused["messages"][-1].content and refused.get("session_id") is None
    assert Store(db_url).list_sessions() == []

    # the caller names no owner: a run's "owner" is ignored, its sessions are the configured owner's
    out = graph.invoke({"messages": [("user", "give her red lipstick")]}, {"configurable": {"photo": str(photo), "owner": "someone"}})
    assert "lipstick" in out["messages"][-1].content
    sid = out["session_id"]
    assert Store(db_url).head(sid).strengths() == {"lipstick": 0.6} and Store(db_url).get_session(sid).owner == "local"
    stored = Store(db_url).messages(sid)
    assert [m.role for m in stored][0] == "user" and stored[-1].role == "assistant"  # the graph stored its turn
    assert [m.type for m in out["messages"]][0] == "human" and len(out["messages"]) == len(stored)  # this turn only

    # the same session, reopened by id, as one node of a foreign graph
    parent = StateGraph(MessagesState)
    parent.add_node("face_editor", graph)
    parent.add_edge(START, "face_editor")
    result = parent.compile().invoke({"messages": [("user", "undo")]}, {"configurable": {"session_id": sid}})
    assert result["messages"][-1].type == "ai"
    assert Store(db_url).head(sid).seq == 0

    # on a checkpointed thread (as the server runs it) the session opened by the first run is kept, and notes do not pile up
    threaded = graph.builder.compile(checkpointer=InMemorySaver())
    thread = {"configurable": {"thread_id": "t1", "photo": str(photo)}}
    first = threaded.invoke({"messages": [("user", "add glasses")]}, thread)
    second = threaded.invoke({"messages": [("user", "give her a big smile")]}, {"configurable": {"thread_id": "t1"}})
    assert first["session_id"] == second["session_id"]
    assert "glasses: the offline engine withdrew it" in first["messages"][-1].content and "glasses" not in second["messages"][-1].content
    assert Store(db_url).head(second["session_id"]).strengths() == {"smiling": 0.9}


def _attempts_of_head(db: str, sid: str) -> list:
    from chatface.memory.store import Store

    store = Store(db)
    try:
        return store.attempts(sid, store.head(sid).id)
    finally:
        store.close()


STRICT = {"CHATFACE_IDENTITY_DISTANCE": "0.0001", "CHATFACE_MAX_ATTEMPTS": "2", "CHATFACE_EMBEDDINGS": "0"}  # no face can pass


def test_an_impossible_identity_threshold_reaches_every_foreign_client(photo, tmp_path, monkeypatch):
    require_extra("mcp", "serve")
    """The configuration reaches MCP over stdio, the LangChain toolkit and the LangGraph server alike: each edit is
    re-edited by the self-check (more than one stored attempt) and the trade-off is reported, as the CLI does."""
    import asyncio

    import anyio
    from chatface.interfaces.langchain_toolkit import ChatfaceToolkit
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    for name, value in STRICT.items():
        monkeypatch.setenv(name, value)
    smile = {"edits": [{"attribute": "smiling", "strength": 0.6}]}

    # the LangChain toolkit (configured from the environment, as a foreign agent gets it)
    db = f"sqlite:///{tmp_path / 'kit.db'}"
    kit = ChatfaceToolkit.from_photo(photo, database_url=db)
    message = {t.name: t for t in kit.get_tools()}["apply_attribute"].invoke(
        {"name": "apply_attribute", "args": smile, "id": "c1", "type": "tool_call"}
    )
    assert "Self-check: identity" in message.content and "no longer matches" in message.content
    assert message.artifact["self_check"] and message.artifact["attempts"] == 3
    assert len(_attempts_of_head(db, kit.session_id)) == 3

    # the LangGraph server's graph
    db = f"sqlite:///{tmp_path / 'graph.db'}"
    monkeypatch.setenv("CHATFACE_DATABASE_URL", db)
    monkeypatch.setenv("CHATFACE_ALLOW_DIRS", str(photo.parent))
    graph = asyncio.run(_server_graph_module()({}))
    out = graph.invoke({"messages": [("user", "give her a big smile")]}, {"configurable": {"photo": str(photo)}})
    assert "Self-check:" in out["messages"][-1].content
    assert len(_attempts_of_head(db, out["session_id"])) > 1

    # MCP over stdio: a separate process that reads the same variables
    db = f"sqlite:///{tmp_path / 'mcp.db'}"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "chatface.cli", "mcp", "--allow-dir", str(photo.parent)],
        env={**STRICT, "CHATFACE_DATABASE_URL": db, "HF_HUB_OFFLINE": "1"},
    )

    async def scenario():
        async with Client(params, read_timeout_seconds=120) as client:
            opened = await client.call_tool("invert", {"image_path": str(photo)})
            sid = _text(opened).split("Session ")[1].rstrip(".")
            edited = _text(await client.call_tool("apply_attribute", smile))
            return sid, edited

    sid, edited = anyio.run(scenario)
    assert "Self-check: identity" in edited
    assert len(_attempts_of_head(db, sid)) == 3
