"""Many people at once, safely (issue 21): accounts, no cross-user reach, one commit per edit, bounded caches, exports.

Each test plays what a team or an attacker did: a second user holding the first user's session id, a client with
no token, an edit racing the self-check, two exports to one name, a server bound to a public address without users.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from chatface.configuration import Configuration
from helpers import require_extra, run_cli


def _text(result) -> str:
    return " ".join(c.text for c in result.content if getattr(c, "type", "") == "text")


@pytest.fixture()
def service(db_url):
    from chatface.tools.service import EditService

    s = EditService(Configuration(database_url=db_url))
    yield s
    s.close()


# -- accounts ------------------------------------------------------------------------------------------------------
def test_users_passwords_and_tokens_from_the_command_line(db_url):
    env = {"CHATFACE_DATABASE_URL": db_url}
    assert run_cli(["users", "add", "Alice", "--password-stdin"], env=env, input="correct horse\n").returncode == 0
    short = run_cli(["users", "add", "bob", "--password-stdin"], env=env, input="short\n")
    assert short.returncode == 1 and "too short" in short.stderr
    again = run_cli(["users", "add", "alice", "--password-stdin"], env=env, input="another one\n")
    assert again.returncode == 1 and "exists already" in again.stderr
    token = run_cli(["users", "token", "alice", "--label", "laptop"], env=env).stdout.strip()
    assert token.startswith("cf_") and len(token) > 40

    from chatface.memory.accounts import Accounts
    from chatface.memory.store import Store

    store = Store(db_url)
    accounts = Accounts(store)
    assert accounts.check_password("alice", "correct horse") == "alice"
    assert accounts.check_password("alice", "wrong horse") is None and accounts.check_password("nobody", "x") is None
    assert accounts.user_of_token(token) == "alice" and accounts.user_of_token(token[:-1] + "x") is None
    stored = store.engine.connect().exec_driver_sql("SELECT password_hash, token_sha256 FROM users, api_tokens").fetchone()
    assert stored[0].startswith("$argon2id$") and token not in stored and "correct horse" not in stored  # only hashes
    listed = run_cli(["users", "list"], env=env).stdout
    assert "alice" in listed and "1 token(s)" in listed
    assert run_cli(["users", "token", "alice", "--revoke"], env=env).returncode == 0
    assert accounts.user_of_token(token) is None
    store.close()


def test_a_user_with_sessions_is_removed_only_with_them(service):
    accounts = service.accounts
    accounts.add_user("carol", "long enough")
    from chatface.tools.service import user_owner

    editor = service.open_unrendered(owner=user_owner("carol"))
    refused = run_cli(["users", "remove", "carol"], env={"CHATFACE_DATABASE_URL": service.config.database_url})
    assert refused.returncode == 1 and "--delete-sessions" in refused.stderr
    assert accounts.remove_user("carol", delete_sessions=True) == 1
    accounts.add_user("carol", "a new carol")  # a later user of the same name starts with nothing
    assert service.sessions(owner=user_owner("carol")) == []
    from chatface.tools.service import SessionNotFoundError

    with pytest.raises(SessionNotFoundError):
        service.store.get_session(editor.session_id)


def test_servers_on_a_public_address_without_users_refuse_to_start(db_url):
    require_extra("mcp", "serve")
    require_extra("gradio", "serve")
    # imported here, not first inside run_cli's redirected stderr: mcp's stdio client binds sys.stderr as a default
    # argument when it is imported, and later stdio tests need the real one
    import mcp.client.stdio  # noqa: F401

    env = {"CHATFACE_DATABASE_URL": db_url}
    for command in (["mcp", "--transport", "http"], ["serve"]):
        run = run_cli([*command, "--host", "0.0.0.0", "--port", "1"], env=env)
        assert run.returncode == 1 and "without a login" in run.stderr and "chatface users add" in run.stderr

    from chatface.interfaces.access import check_exposure, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("192.168.1.20")
    assert "WITHOUT authentication" in check_exposure("0.0.0.0", users=False, no_auth=True, command="serve")
    assert check_exposure("0.0.0.0", users=True, no_auth=False, command="serve") is None


def test_two_users_over_mcp_http_see_only_their_own_sessions(photo, tmp_path):
    require_extra("mcp", "serve")
    import base64

    import anyio
    import httpx2
    from helpers import free_port, wait_for_port
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    db = f"sqlite:///{tmp_path / 'mcp.db'}"
    env = {"CHATFACE_DATABASE_URL": db}
    tokens = {}
    for name in ("ann", "ben"):
        assert run_cli(["users", "add", name, "--password-stdin"], env=env, input="pass phrase\n").returncode == 0
        tokens[name] = run_cli(["users", "token", name], env=env).stdout.strip()
    local = run_cli(["edit", str(photo), "red lipstick", "-o", str(tmp_path / "cli.png")], env=env)  # a CLI session (owner local)
    cli_sid = local.stdout.split("session ")[-1].split(",")[0]

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatface.cli", "mcp", "--transport", "http", "--port", str(port), "--allow-dir", str(photo.parent)],
        env={**__import__("os").environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_for_port(port, proc, timeout=60)
        photo_b64 = base64.b64encode(photo.read_bytes()).decode()
        anonymous = httpx2.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers={"Accept": "application/json, text/event-stream"}
        )
        assert anonymous.status_code == 401 and "Bearer" in anonymous.headers.get("www-authenticate", "")
        forged = httpx2.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Accept": "application/json, text/event-stream", "Authorization": "Bearer cf_not-a-token"},
        )
        assert forged.status_code == 401

        def client(name):
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {tokens[name]}"}, timeout=120)
            return Client(streamable_http_client(url, http_client=http), read_timeout_seconds=120)

        async def scenario():
            async with client("ann") as ann:
                opened = await ann.call_tool("invert", {"image_base64": photo_b64})
                assert not opened.is_error, _text(opened)
                sid = _text(opened).split("Session ")[1].rstrip(".")
                edited = await ann.call_tool("apply_attribute", {"edits": [{"attribute": "smiling", "strength": 0.6}], "session_id": sid})
                assert not edited.is_error, _text(edited)
                boolean = await ann.call_tool("apply_attribute", {"edits": [{"attribute": "smiling", "strength": True}], "session_id": sid})
                assert boolean.is_error and "valid number" in _text(boolean)
                huge = await ann.call_tool("checkout", {"node": 2**63, "session_id": sid})
                assert huge.is_error and "less than or equal to 1000000" in _text(huge)
                # 6 MB of base64 (4.5 MB of bytes) passes the transport and gets the tool's own answer, not -32603
                junk = await ann.call_tool("invert", {"image_base64": base64.b64encode(bytes(4_500_000)).decode()})
                assert junk.is_error and "not an image" in _text(junk), _text(junk)
            async with client("ben") as ben:
                answers = {}
                for what, session_id in (("ann's", sid), ("the CLI's", cli_sid), ("made up", "no-such-session-id")):
                    answers[what] = []
                    for tool, args in (("invert", {}), ("undo", {}), ("history", {}), ("export", {"filename": "x.png"})):
                        r = await ben.call_tool(tool, {**args, "session_id": session_id})
                        assert r.is_error, (what, tool, _text(r))
                        answers[what].append(_text(r).replace(session_id, "ID"))
                assert answers["ann's"] == answers["made up"] == answers["the CLI's"]  # another's session answers as no session
                assert "no session" in answers["ann's"][0]
            return sid

        sid = anyio.run(scenario)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    from chatface.memory.store import Store

    store = Store(db)
    assert store.get_session(sid).owner == "user:ann" and store.head(sid).strengths() == {"smiling": 0.6}
    store.close()


# -- no lost work --------------------------------------------------------------------------------------------------
def test_an_edit_racing_the_self_check_is_refused_and_the_head_is_the_other_edit(store, parts, photo):
    """Client A's edit fails its first check and the self-check re-renders; meanwhile client B edits the same session.
    A's result must not land on top of B's (nor say "kept" what the head does not hold): A gets the conflict answer."""
    from chatface.tools.editor import SessionEditor, Thresholds, open_photo
    from chatface.tools.schemas import AttributeEdit
    from chatface.tools.toolkit import SessionToolkit

    a = open_photo(store, parts, str(photo))
    a.thresholds = Thresholds(identity_distance=1e-4, max_attempts=2)  # no render passes: the self-check always runs
    b = SessionEditor(store, parts, a.session_id)
    renders = []
    original_render = a.render

    def render_and_race(state):
        renders.append(state)
        if len(renders) == 2:  # the self-check's first re-edit: B commits an edit now
            SessionToolkit(b).apply_attribute([AttributeEdit(attribute="lipstick", strength=0.6)])
        return original_render(state)

    a.render = render_and_race
    tool = {t.name: t for t in SessionToolkit(a).langchain_tools()}["apply_attribute"]
    reply = tool.invoke({"edits": [{"attribute": "smiling", "strength": 0.6}]})
    assert "moved on" in reply and "nothing was stored" in reply
    head = store.head(a.session_id)
    assert head.strengths() == {"lipstick": 0.6} and [n.seq for n in store.nodes(a.session_id)] == [0, 1]
    assert len(store.attempts(a.session_id, head.id)) == 1  # B's own first render; none of A's attempts


KILL_CHILD = """
import os, sys, time
from chatface.memory.store import Store
from chatface.models.engines.catalog import load_engine
from chatface.tools.editor import SessionEditor, Thresholds
from chatface.tools.schemas import AttributeEdit
from chatface.tools.toolkit import SessionToolkit
url, sid = sys.argv[1], sys.argv[2]
editor = SessionEditor(Store(url, run_migrations=False), load_engine("offline"), sid, thresholds=Thresholds(identity_distance=1e-4))
render = editor.render
count = [0]
def slow(state):
    count[0] += 1
    if count[0] == 2:
        print("SELF-CHECK", flush=True)
        time.sleep(600)
    return render(state)
editor.render = slow
SessionToolkit(editor).apply_attribute([AttributeEdit(attribute="smiling", strength=0.6)])
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_during_the_self_check_leaves_no_failed_render_as_the_head(backend, request, db_url, parts, photo):
    from chatface.memory.store import Store
    from chatface.tools.editor import open_photo

    url = db_url if backend == "sqlite" else request.getfixturevalue("pg_url")
    store = Store(url)
    sid = open_photo(store, parts, str(photo)).session_id
    child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, url, sid], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "SELF-CHECK"
    finally:
        child.kill()
        child.wait(timeout=30)
    assert store.head(sid).seq == 0 and [n.seq for n in store.nodes(sid)] == [0]
    assert store.verify_blobs() == []
    store.close()


def test_two_exports_to_one_name_give_one_file_and_one_refusal(editor, tmp_path):
    from chatface.tools.toolkit import SessionToolkit
    from PIL import Image

    out = tmp_path / "exports"
    answers = []

    def export():
        tools = {t.name: t for t in SessionToolkit(editor, out).langchain_tools()}
        answers.append(tools["export"].invoke({"filename": "same.png"}))

    for _ in range(5):
        threads = [threading.Thread(target=export) for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        saved = [a for a in answers if a.startswith("Saved")]
        assert len(saved) == 1 and sum("exists already" in a for a in answers) == 1, answers
        with Image.open(out / "same.png") as im:
            im.load()
            assert im.size == (512, 512)
        assert sorted(p.name for p in out.iterdir()) == ["same.png"]  # no temporary file left behind
        (out / "same.png").unlink()
        answers.clear()


# -- bounded memory and limits -------------------------------------------------------------------------------------
def test_open_sessions_are_cached_by_bytes_shared_by_everyone(db_url, photo):
    from chatface.tools.service import EditService

    service = EditService(Configuration(database_url=db_url, cache_mb=3))  # 2.25 MB for open sessions
    ids = [service.open_photo(photo, owner=f"user:u{i}").session_id for i in range(6)]  # 0.75 MB of photo each
    budget = int(3 * 2**20 * 0.75)
    assert 0 < service._editors.total_bytes <= budget and len(service._editors) == 2
    again = service.open_session(ids[0], owner="user:u0")  # an evicted session reopens from the database
    assert again.source.shape == (512, 512, 3) and service._editors.total_bytes <= budget


def test_upload_limits_answer_in_one_line_before_decoding(db_url, photo, tmp_path):
    from chatface.models.base import ImageError
    from chatface.tools.service import EditService, QuotaError

    service = EditService(Configuration(database_url=db_url, max_upload_mb=0.1, max_megapixels=0.2, max_sessions_per_user=1))
    with pytest.raises(ImageError, match=r"the file is 0\.\d MB; the limit is 0\.1 MB"):
        service.read_upload(photo.read_bytes())
    big = tmp_path / "big.bmp"  # bigger than the byte limit: refused from its size, before it is read
    big.write_bytes(b"BM" + bytes(300_000))
    with pytest.raises(ImageError, match="the limit is 0.1 MB"):
        service.open_photo(big)
    from PIL import Image

    small = tmp_path / "wide.png"
    Image.fromarray(np.zeros((300, 1000, 3), np.uint8)).save(small)
    with pytest.raises(ImageError, match="limit is 0.2 megapixels"):
        service.read_upload(small.read_bytes())
    tiny = EditService(Configuration(database_url=db_url, max_sessions_per_user=1), store=service.store)
    tiny.open_unrendered(owner="user:dan")
    tiny.open_photo(photo, owner="local")  # the CLI's own owner has no session limit
    with pytest.raises(QuotaError, match="limit of this server"):
        tiny.open_photo(photo, owner="user:dan")


def test_bad_input_gets_a_clear_error_and_stores_nothing(editor, tmp_path):
    from chatface.tools.toolkit import SessionToolkit

    tools = {t.name: t for t in SessionToolkit(editor, tmp_path / "exports").langchain_tools()}
    assert "valid number" in tools["apply_attribute"].invoke({"edits": [{"attribute": "smiling", "strength": True}]})
    assert "valid number" in tools["apply_attribute"].invoke({"edits": [{"attribute": "smiling", "strength": "0.5"}]})
    assert "less than or equal to 1000000" in tools["checkout"].invoke({"node": 2**63})
    for name in ("a\nb.png", "x\x1b[2J.png", "photo\u202egnp.png", "nul\x00.png"):
        answer = tools["export"].invoke({"filename": name})
        assert answer.startswith("Error") and "control or direction-override" in answer, (name, answer)
    assert "control or direction-override" in tools["apply_attribute"].invoke(
        {"edits": [{"attribute": "smiling", "strength": 0.3}], "request": "smile\x00"}
    )
    assert not (tmp_path / "exports").exists() and editor.head().seq == 0


def test_a_nul_byte_in_a_chat_message_is_refused_on_sqlite_and_postgresql(request, photo, db_url):
    from chatface.agent.session import ChatService

    for url in (db_url, request.getfixturevalue("pg_url")):
        chats = ChatService(Configuration(database_url=url, use_embeddings=False))
        agent = chats.open_photo(photo)
        reply = agent.send("make her smile\x00 please")
        assert "control characters (U+0000)" in reply.text and reply.head.seq == 0
        assert chats.service.history(agent.editor.session_id).messages == []
        assert agent.send("make her smile").head.seq == 1  # the conversation goes on


def test_a_big_photo_stores_the_changed_part_and_gives_back_the_whole_photo_bit_for_bit(db_url, tmp_path):
    import cv2
    from chatface.tools.node_images import is_patch
    from chatface.tools.schemas import AttributeEdit
    from chatface.tools.service import EditService
    from PIL import Image
    from skimage import data

    big = cv2.resize(data.astronaut(), (1800, 1800), interpolation=cv2.INTER_CUBIC)  # 3.2 megapixels
    service = EditService(Configuration(database_url=db_url))
    editor = service.open_photo("big.png", image=big)
    _, outcome = service.toolkit(editor).apply_attribute([AttributeEdit(attribute="lipstick", strength=0.6)])
    head = editor.head()
    stored = service.store.read_blob(head.image_blob)
    assert is_patch(stored) and len(stored) < len(service.store.read_blob(editor.info.source_blob)) / 20
    rendered = editor.render(head.state)
    assert np.array_equal(editor.image_of(head), rendered)  # composed: the render, bit for bit
    out = service.export_node(editor.session_id, head.seq, tmp_path / "node.png")
    assert np.array_equal(np.array(Image.open(out)), rendered)  # the exported file keeps the full size
    from io import BytesIO

    assert np.array_equal(np.array(Image.open(BytesIO(editor.png_of(head)))), rendered)
    preview = np.array(Image.open(BytesIO(editor.preview_png(head))))
    assert max(preview.shape[:2]) == 1024
    small = service.open_photo("small.png", image=data.astronaut())  # small photos are stored whole
    service.toolkit(small).apply_attribute([AttributeEdit(attribute="lipstick", strength=0.6)])
    assert not is_patch(service.store.read_blob(small.head().image_blob))


def test_web_thumbnails_are_written_once_and_never_half_written(db_url, photo):
    """A page redraw hands out the same thumbnail file, untouched (a concurrent download of it never sees it
    truncated), and the file is a whole WebP of the face."""
    require_extra("gradio", "serve")
    import os

    from PIL import Image

    from chatface.agent.session import ChatService
    from chatface.interfaces.web_app import WebBackend

    chats = ChatService(Configuration(database_url=db_url))
    backend = WebBackend(chats)
    ed = chats.service.open_photo(photo, owner="web")
    box = ed.latent().meta.get("box")
    first = backend.thumbnail(ed, ed.head(), box)
    stamp = os.stat(first).st_mtime_ns
    assert backend.thumbnail(ed, ed.head(), box) == first and os.stat(first).st_mtime_ns == stamp
    with Image.open(first) as im:
        assert im.format == "WEBP" and max(im.size) <= 192
    assert not [p for p in Path(first).parent.iterdir() if p.name.startswith(".")]  # no staging file left behind
    chats.service.close()


def test_password_guessing_at_the_web_login_is_throttled(db_url):
    require_extra("gradio", "serve")
    from chatface.agent.session import ChatService
    from chatface.configuration import Configuration
    from chatface.interfaces.access import LoginThrottle
    from chatface.interfaces.web_app import WebBackend

    now = [0.0]
    throttle = LoginThrottle(failures=3, window_s=60, lockout_s=30, names=2, clock=lambda: now[0])
    for _ in range(2):
        throttle.record("Ann", False)
    assert not throttle.locked("ann")
    throttle.record("ann", False)
    assert throttle.locked("ANN")  # names are one whatever their case
    now[0] = 31
    assert not throttle.locked("ann")
    throttle.record("ann", False)
    throttle.record("ann", True)  # a success forgets the failures
    throttle.record("ann", False)
    assert not throttle.locked("ann")
    for name in ("b", "c", "d"):
        throttle.record(name, False)
    assert len(throttle._seen) == 2  # bounded by names

    backend = WebBackend(ChatService(Configuration(database_url=db_url, use_embeddings=False)), authenticated=True)
    backend.service.accounts.add_user("ann", "correct horse")
    assert backend.check_login("ann", "correct horse")
    for _ in range(5):
        assert not backend.check_login("ann", "guess")
    assert not backend.check_login("ann", "correct horse")  # locked: even the right password waits a minute
