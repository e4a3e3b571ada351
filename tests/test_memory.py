import subprocess
import sys
import textwrap

import pytest
from chatface.memory.blobs import BlobCorruptedError
from chatface.memory.store import SessionNotFoundError, Store, StoredMessage
from sqlalchemy import text


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, db_url):
    """Every memory test runs on SQLite and on a real PostgreSQL server."""
    return db_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture()
def store(url):
    s = Store(url)
    yield s
    s.close()


def _state(**kw):
    return {a: {"strength": s, "t_edit": 500} for a, s in kw.items()}


def test_undo_redo_branch_and_checkout(store):
    sid = store.create_session(b"source", [1, 1, 3], "p.png", "offline")
    n1 = store.commit_edit(sid, action="edit", request="smile", state=_state(smiling=0.6), scores={}, image_png=b"1")
    n2 = store.commit_edit(sid, action="edit", request="glasses", state=_state(smiling=0.6, eyeglasses=0.6), scores={}, image_png=b"2")
    head, moved = store.undo(sid, 5)
    assert (head.seq, moved) == (0, 2)
    head, moved = store.redo(sid)
    assert (head.id, moved) == (n1.id, 1)
    head, moved = store.redo(sid, 3)
    assert (head.id, moved) == (n2.id, 1)
    store.undo(sid)
    n3 = store.commit_edit(sid, action="edit", request="lipstick", state=_state(smiling=0.6, lipstick=0.6), scores={}, image_png=b"3")
    assert n3.parent_id == n1.id
    assert store.redo(sid)[1] == 0  # a new branch clears redo
    seqs = {n.seq: n.parent_id for n in store.nodes(sid)}
    assert seqs == {0: None, 1: 1, 2: n1.id, 3: n1.id}  # the old branch is kept
    assert store.checkout(sid, 2).id == n2.id
    assert store.head(sid).state == _state(smiling=0.6, eyeglasses=0.6)


def test_sessions_are_scoped_to_their_owner(store):
    sid = store.create_session(b"x", [1, 1, 3], "p.png", "offline", owner="alice")
    with pytest.raises(SessionNotFoundError):
        store.head(sid, owner="bob")
    with pytest.raises(SessionNotFoundError):
        store.undo(sid, owner="bob")
    assert store.head(sid, owner="alice").seq == 0


def test_checksum_failure_is_detected(store):
    sid = store.create_session(b"precious pixels", [1, 1, 3], "p.png", "offline")
    key = store.get_session(sid).source_blob
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE blobs SET data = :d WHERE sha256 = :k"), {"d": b"precious pixelz", "k": key})
    with pytest.raises(BlobCorruptedError):
        store.read_blob(key)
    assert store.verify_blobs() == [key]


def test_an_edit_is_all_or_nothing(store, monkeypatch):
    sid = store.create_session(b"x", [1, 1, 3], "p.png", "offline")
    from chatface.memory import store as store_mod

    def boom(*a, **k):
        raise RuntimeError("crash while writing attempts")

    monkeypatch.setattr(store_mod.Store, "_add_attempts", staticmethod(boom))
    with pytest.raises(RuntimeError):
        store.commit_edit(sid, action="edit", request="r", state=_state(smiling=0.6), scores={}, image_png=b"never")
    assert [n.seq for n in store.nodes(sid)] == [0]
    assert store.head(sid).seq == 0
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM blobs")).scalar() == 1


def test_two_processes_write_one_sqlite_file(db_url, tmp_path):
    Store(db_url).close()  # migrate once
    script = textwrap.dedent(f"""
        from chatface.memory.store import Store
        s = Store({db_url!r})
        sid = s.create_session(b"src", [1, 1, 3], "p.png", "offline")
        for i in range(25):
            state = {{"smiling": {{"strength": 0.5, "t_edit": 1}}}}
            s.commit_edit(sid, action="edit", request=str(i), state=state, scores={{}}, image_png=str(i).encode() + sid.encode())
        print(sid)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    s = Store(db_url)
    for out, _ in outs:
        sid = out.strip()
        nodes = s.nodes(sid)
        assert [n.seq for n in nodes] == list(range(26))
        assert s.head(sid).seq == 25
    assert s.verify_blobs() == []


def test_session_ids_never_look_like_command_line_options():
    from chatface.memory.store import new_session_id

    ids = [new_session_id() for _ in range(3000)]
    assert not any(i.startswith("-") for i in ids) and len(set(ids)) == 3000 and min(map(len, ids)) >= 22


def test_the_newest_messages_can_be_read_alone(store):
    sid = store.create_session(b"x", [1, 1, 3], "p.png", "offline")
    store.add_messages(sid, [StoredMessage("user", f"m{i}") for i in range(30)])
    assert [m.content for m in store.messages(sid, last=3)] == ["m27", "m28", "m29"]
    assert len(store.messages(sid)) == 30


def test_owners_concurrent_edits_and_seeds(store):
    from chatface.memory.store import ConcurrentEditError

    sid = store.create_session(b"x", [1, 1, 3], "p.png", "offline", owner="alice")
    n1 = store.commit_edit(sid, action="edit", request="r", state=_state(smiling=0.6), scores={}, image_png=b"1", owner="alice")
    with pytest.raises(SessionNotFoundError):
        store.attempts(sid, n1.id, owner="bob")
    with pytest.raises(ConcurrentEditError, match="nothing was stored"):
        store.commit_edit(
            sid, action="edit", request="late", state=_state(smiling=0.9), scores={}, image_png=b"2", expected_head=n1.parent_id
        )
    assert store.head(sid).id == n1.id and len(store.nodes(sid)) == 2
    seeds = {store.get_session(store.create_session(b"y", [1, 1, 3], "p.png", "offline")).seed for _ in range(4)}
    assert len(seeds) > 1 and all(0 <= s < 2**31 for s in seeds)  # a real seed per session, stored


def test_a_database_made_by_the_first_schema_upgrades_without_loss(url):
    """Rows written under revision 0001 survive 0002 (which rebuilds the sessions table on SQLite) and 0003, and the
    head and redo references become enforced foreign keys."""
    from chatface.memory.store import make_engine, upgrade_to
    from sqlalchemy import inspect
    from sqlalchemy.exc import IntegrityError

    engine = make_engine(url)
    upgrade_to(engine, "0001")
    with engine.begin() as conn:
        q = lambda sql, **kw: conn.execute(text(sql), kw)  # noqa: E731
        q("INSERT INTO blobs VALUES ('k', 'image', 'uint8', '[1, 1, 3]', 'png', 1, :d, CURRENT_TIMESTAMP)", d=b"x")
        q(
            "INSERT INTO sessions VALUES ('s1', 'alice', 't', 'p.png', 'k', NULL, 'offline', '', 7, NULL, NULL, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        for i, parent in ((1, None), (2, 1), (3, 2)):
            q(
                "INSERT INTO edit_nodes VALUES (:i, 's1', :seq, :p, 'edit', 'r', '{}', '{}', 'k', CURRENT_TIMESTAMP)",
                i=i,
                seq=i - 1,
                p=parent,
            )
        q("UPDATE sessions SET head_node_id = 2, redo_node_id = 3 WHERE id = 's1'")
        q("INSERT INTO messages VALUES (1, 's1', 'user', 'make her smile', NULL, NULL, NULL, CURRENT_TIMESTAMP)")
        q("INSERT INTO attempts VALUES (1, 's1', 3, 1, '{}', 0.9, 0.1, '{}', true, true, '', CURRENT_TIMESTAMP)")
    engine.dispose()

    s = Store(url)  # migrates to the newest revision
    try:
        assert s.head("s1").id == 2 and [n.seq for n in s.nodes("s1")] == [0, 1, 2]
        assert s.messages("s1") == [StoredMessage("user", "make her smile")]
        (old_attempt,) = s.attempts("s1", 3)
        assert old_attempt.realism is None and s.get_session("s1").seed == 7  # 0003: attempts before it have no realism
        assert s.redo("s1") == (s.node("s1", 2), 1)  # the redo reference survived too
        fks = {tuple(fk["constrained_columns"]): fk["referred_table"] for fk in inspect(s.engine).get_foreign_keys("sessions")}
        assert fks[("head_node_id",)] == "edit_nodes" and fks[("redo_node_id",)] == "edit_nodes"
        with pytest.raises(IntegrityError):
            with s.engine.begin() as conn:
                conn.execute(text("UPDATE sessions SET head_node_id = 999 WHERE id = 's1'"))
    finally:
        s.close()


def test_checking_out_the_current_node_keeps_what_redo_would_reapply(store):
    import numpy as np
    from chatface.models.images import encode_png

    png = encode_png(np.zeros((8, 8, 3), np.uint8))
    sid = store.create_session(png, [8, 8, 3], "x.png", "offline")
    for i in (1, 2):
        store.commit_edit(
            sid,
            action="edit",
            request="",
            state={"smiling": {"strength": i / 10, "t_edit": 500}},
            scores={},
            image_png=png,
            image_shape=[8, 8, 3],
        )
    store.undo(sid, 2)
    store.checkout(sid, 0)  # the node that is already current
    assert store.redo(sid, 1)[0].seq == 1
    store.checkout(sid, 0)  # an ancestor on the undone path: redo still walks to where the undo started
    assert store.redo(sid, 5)[0].seq == 2
