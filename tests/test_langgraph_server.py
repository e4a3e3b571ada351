"""The graph on the real LangGraph server: ``langgraph dev`` (langgraph-cli, in-memory runtime) on langgraph.json,
driven by the official ``langgraph_sdk`` client, without ``--allow-blocking``.

Three turns on one thread keep their session, the graph stores each turn's messages in chatface's memory, a run
with recursion_limit 2 is answered in words, and a photo outside CHATFACE_ALLOW_DIRS is refused.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import free_port, require_extra, wait_for_port

require_extra("langgraph_sdk", "dev")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def server(tmp_path, photo):
    cli = shutil.which("langgraph", path=str(Path(os.sys.executable).parent)) or shutil.which("langgraph")
    if cli is None:
        require_extra("langgraph_cli", "dev")  # a skip that names the extra (a failure in CI)
        pytest.fail("langgraph-cli is installed but its command is not on the PATH")
    port = free_port()
    db = f"sqlite:///{tmp_path / 'lg.db'}"
    env = {
        **os.environ,
        "CHATFACE_DATABASE_URL": db,
        "CHATFACE_EMBEDDINGS": "0",
        "CHATFACE_ALLOW_DIRS": str(photo.parent),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    # the repository's langgraph.json with its paths made absolute, run from the test's folder: the in-memory runtime keeps
    # its threads and checkpoints in .langgraph_api/ of the folder it runs in, which must not be the checkout
    config = json.loads((ROOT / "langgraph.json").read_text())
    config["dependencies"] = [str((ROOT / d).resolve()) for d in config["dependencies"]]
    config["graphs"] = {name: str(ROOT / where) for name, where in config["graphs"].items()}
    config["env"] = str(ROOT / config["env"])
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    log = open(tmp_path / "langgraph.log", "w")
    proc = subprocess.Popen(
        [cli, "dev", "--port", str(port), "--no-browser", "--no-reload", "--config", str(tmp_path / "langgraph.json")],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc, timeout=120)
        yield f"http://127.0.0.1:{port}", db, tmp_path / "langgraph.log"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_turns_through_langgraph_dev(server, photo, tmp_path):
    from chatface.memory.store import Store
    from langgraph_sdk import get_client

    url, db, log = server
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_bytes(photo.read_bytes())

    async def scenario():
        client = get_client(url=url)
        thread = (await client.threads.create())["thread_id"]
        first = await client.runs.wait(
            thread,
            "chatface",
            input={"messages": [{"role": "user", "content": "give her red lipstick"}]},
            config={"configurable": {"photo": str(photo), "owner": "someone else"}},
        )
        second = await client.runs.wait(thread, "chatface", input={"messages": [{"role": "user", "content": "a bit more"}]})
        third = await client.runs.wait(thread, "chatface", input={"messages": [{"role": "user", "content": "undo"}]})
        short = await client.runs.wait(
            None,
            "chatface",
            input={"messages": [{"role": "user", "content": "undo"}]},
            config={"configurable": {"session_id": first["session_id"]}, "recursion_limit": 2},
        )
        refused = await client.runs.wait(
            None,
            "chatface",
            input={"messages": [{"role": "user", "content": "hi"}]},
            config={"configurable": {"photo": str(outside)}},
            raise_error=False,
        )
        return first, second, third, short, refused

    first, second, third, short, refused = asyncio.run(scenario())
    sid = first["session_id"]
    assert second["session_id"] == third["session_id"] == sid  # the thread keeps its session
    assert "lipstick" in first["messages"][-1]["content"]
    assert [m["type"] for m in second["messages"]][0] == "human" and second["messages"][0]["content"] == "a bit more"  # this turn only
    assert "Went back 1 step" in third["messages"][-1]["content"] or "node 1" in third["messages"][-1]["content"]
    assert "recursion limit" in short["messages"][-1]["content"]
    assert "outside the directories" in str(refused)

    store = Store(db)
    assert store.get_session(sid).owner == "local"  # the caller's "owner" is not taken
    assert store.head(sid).seq == 1 and store.node(sid, 2).strengths() == {"lipstick": 0.7}
    stored = store.messages(sid)
    users = [m.content for m in stored if m.role == "user"]
    assert users == ["give her red lipstick", "a bit more", "undo", "undo"]  # every turn stored by the graph, once
    assert any(m.role == "tool" for m in stored) and stored[-1].content.startswith("I stopped before finishing")
    store.close()
    text = log.read_text()
    assert "BlockingError" not in text and "Blocking call" not in text
