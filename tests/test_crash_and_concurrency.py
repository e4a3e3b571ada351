"""Crash safety and concurrency of the memory, on SQLite and on a real PostgreSQL server.

Crash: a child process is killed with SIGKILL in the middle of an edit, at
several points of the write (after the image blob, after the node, after
the attempts, and while looping over edits). Afterwards the database opens,
every blob verifies, the session's nodes are whole and numbered without
gaps, and it resumes at its last complete node.

Concurrency: 20 sessions edited at once from 4 processes; no node lost or
duplicated, and undo in one session never moves another.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from chatface.memory.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, db_url):
    return db_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


CHILD = textwrap.dedent("""
    import sys, time
    from chatface.memory import blobs
    from chatface.memory.store import Store, AttemptRecord
    url, sid, point = sys.argv[1], sys.argv[2], sys.argv[3]
    store = Store(url, run_migrations=False)

    def hang(name):
        print("AT " + name, flush=True)
        time.sleep(600)

    if point == "after_blob":
        original = blobs.put_bytes
        def put(db, data, **kw):
            key = original(db, data, **kw)
            db.flush()
            hang(point)
        blobs.put_bytes = put
    elif point == "after_attempts":
        original = Store._add_attempts
        def add(db, *a):
            original(db, *a)
            db.flush()
            hang(point)
        Store._add_attempts = staticmethod(add)
    i = 0
    while True:
        i += 1
        state = {"smiling": {"strength": round(0.01 * (i % 90 + 1), 2), "t_edit": 450}}
        store.commit_edit(sid, action="edit", request=f"edit {i}", state=state, scores={"i": i}, image_png=f"img {sid} {i}".encode(),
                          attempts=[AttemptRecord(state=state, identity=1.0, identity_distance=0.0, direction={}, passed=True, kept=True)])
        print(f"DONE {i}", flush=True)
        if point == "loop" and i % 3 == 0:
            store.undo(sid)
            store.redo(sid)
""")


@pytest.mark.parametrize("point", ["after_blob", "after_attempts", "loop"])
def test_sigkill_during_an_edit_loses_nothing_complete(url, point, tmp_path):
    store = Store(url)
    sid = store.create_session(b"source", [1, 1, 3], "p.png", "offline")
    store.commit_edit(sid, action="edit", request="first", state={"age": {"strength": 0.6, "t_edit": 300}}, scores={}, image_png=b"first")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), url, sid, point], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = 0
    deadline = time.time() + 120
    while time.time() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        if line.startswith("DONE"):
            done = int(line.split()[1])
        if line.startswith("AT ") or (point == "loop" and done >= 12):
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read()

    after = Store(url)
    assert after.verify_blobs() == []
    nodes = after.nodes(sid)
    assert [n.seq for n in nodes] == list(range(len(nodes)))  # no gaps, no half-written node
    assert len(nodes) == 2 + done  # the original, "first", and every edit the child finished
    head = after.head(sid)
    if point == "loop":  # killed anywhere, also between an undo and its redo: the head is the last node or its parent
        assert head.seq in (nodes[-1].seq, nodes[-1].seq - 1)
    else:
        assert head.seq == nodes[-1].seq and head.request == (f"edit {done}" if done else "first")
    for n in nodes[2:]:
        assert after.read_blob(n.image_blob) == f"img {sid} {n.seq - 1}".encode()
        assert len(after.attempts(sid, n.id)) == 1
    resumed = after.commit_edit(
        sid,
        action="edit",
        request="after the crash",
        state={"smiling": {"strength": 0.3, "t_edit": 450}},
        scores={},
        image_png=b"after",
        expected_head=head.id,
    )
    assert resumed.seq == len(nodes) and resumed.parent_id == head.id
    after.close()
    store.close()


WORKER = textwrap.dedent("""
    import json, sys
    from chatface.memory.store import Store
    url, worker = sys.argv[1], int(sys.argv[2])
    s = Store(url, run_migrations=False)
    sessions = [s.create_session(f"src {worker} {k}".encode(), [1, 1, 3], "p.png", "offline", owner=f"user{worker}") for k in range(5)]
    for i in range(8):
        for k, sid in enumerate(sessions):
            s.commit_edit(sid, action="edit", request=f"{worker}/{k}/{i}", state={"age": {"strength": 0.1 * (i + 1), "t_edit": 300}},
                          scores={}, image_png=f"{sid} {i}".encode(), owner=f"user{worker}")
            if i == 5 and k == 0:
                s.undo(sid, 2, owner=f"user{worker}")
    print(json.dumps(sessions))
""")


def test_twenty_sessions_edited_at_once_from_four_processes(url, tmp_path):
    import json

    Store(url).close()  # migrate once, before the workers start
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs = [
        subprocess.Popen([sys.executable, str(script), url, str(w)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(4)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-1500:] for _, err in outs]
    store = Store(url)
    all_sessions = [(w, k, sid) for w, (out, _) in enumerate(outs) for k, sid in enumerate(json.loads(out))]
    assert len({sid for _, _, sid in all_sessions}) == 20
    for w, k, sid in all_sessions:
        nodes = store.nodes(sid, owner=f"user{w}")
        assert [n.seq for n in nodes] == list(range(9))  # 8 edits each, none lost or duplicated
        assert [n.request for n in nodes[1:]] == [f"{w}/{k}/{i}" for i in range(8)]
        head = store.head(sid, owner=f"user{w}")
        if k == 0:  # undid 2 after edit 5, then edits 6 and 7 branched from edit 3
            assert head.request == f"{w}/{k}/7" and nodes[7].parent_id == nodes[4].id
        else:
            assert head.seq == 8 and nodes[8].parent_id == nodes[7].id
    assert store.verify_blobs() == []
    store.close()
