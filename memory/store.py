"""The session memory's repository: sessions, the edit tree, undo/redo/branch, messages, attempts.

One SQLAlchemy session per unit of work and one transaction per change: an
edit writes its image blob, its node, its attempts and the new head together
or not at all. The same code runs on SQLite (the embedded default, WAL mode,
writers serialised with BEGIN IMMEDIATE) and PostgreSQL (the session row is
locked with SELECT ... FOR UPDATE). Undo, redo and reset move the session's
head along the tree; an edit after an undo starts a new branch and keeps the
old one.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from sqlalchemy import create_engine, delete, event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..errors import ChatfaceError
from . import blobs
from .schema import Attempt, ChatSession, EditNode, Message


class SessionNotFoundError(ChatfaceError):
    """No such session for this owner (the message never says which of the two)."""


class NodeNotFoundError(ChatfaceError):
    pass


class ConcurrentEditError(ChatfaceError):
    """The session's head moved (another edit, undo or checkout) while this edit was rendered; nothing was stored."""


def _driver(conn):
    """The DBAPI connection under a SQLAlchemy connection (sqlite3's, for pragmas outside a transaction)."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the database connection is closed")
    return raw


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            # writers take the write lock up front (no upgrade deadlocks); readers never wait for it (WAL)
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("chatface_read") else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (no-op when it is there already)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        upgrade_to(engine, "head")


def upgrade_to(engine: Engine, revision: str) -> None:
    """Run the Alembic migrations up to ``revision`` in one transaction.

    On SQLite, foreign-key enforcement is off while they run (rebuilding a table
    in batch mode must not cascade into the rows that point at it) and every key
    is checked before the transaction commits.
    """
    from alembic import command

    cfg = _alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:  # before SQLAlchemy begins the transaction: the pragma is a no-op inside one
            _driver(conn).execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration would leave broken references: {broken[:5]}")
        finally:
            if sqlite:
                _driver(conn).execute("PRAGMA foreign_keys=ON")


@dataclass(frozen=True)
class NodeInfo:
    id: int
    seq: int
    parent_id: int | None
    action: str
    request: str
    state: dict
    scores: dict
    image_blob: str | None

    def strengths(self) -> dict[str, float]:
        return {a: float(v["strength"]) for a, v in self.state.items()}

    @property
    def identity(self) -> float | None:
        """The identity similarity of this node's kept render to the source (None: not scored, e.g. the original)."""
        value = self.scores.get("identity")
        return None if value is None else float(value)


@dataclass(frozen=True)
class SessionInfo:
    id: str
    owner: str
    title: str
    source_name: str
    source_blob: str
    latent_blob: str | None
    engine: str
    model_id: str
    seed: int
    head_node_id: int | None
    created_at: str
    updated_at: str
    redo_node_id: int | None = None  # where redo leads back to after an undo (None: nothing to redo)


@dataclass
class AttemptRecord:
    state: dict
    identity: float | None
    identity_distance: float | None
    direction: dict
    passed: bool
    kept: bool = False
    note: str = ""
    realism: dict | None = None


@dataclass(frozen=True)
class StoredAttempt:
    """One render of a node's self-check as it was stored: the attempt's number in the node's order, and its record."""

    number: int
    state: dict
    identity: float | None
    identity_distance: float | None
    direction: dict
    realism: dict | None
    passed: bool
    kept: bool
    note: str


@dataclass(frozen=True)
class StoredMessage:
    """One stored message of the conversation (roles: user, assistant, tool, and 'shown' for what a page displayed)."""

    role: str
    content: str
    tool_calls: list | None = None
    tool_call_id: str | None = None
    name: str | None = None


def _node_info(n: EditNode) -> NodeInfo:
    return NodeInfo(n.id, n.seq, n.parent_id, n.action, n.request, dict(n.state or {}), dict(n.scores or {}), n.image_blob)


def _session_info(s: ChatSession) -> SessionInfo:
    return SessionInfo(
        s.id,
        s.owner,
        s.title,
        s.source_name,
        s.source_blob,
        s.latent_blob,
        s.engine,
        s.model_id,
        s.seed,
        s.head_node_id,
        s.created_at.isoformat() if s.created_at else "",
        s.updated_at.isoformat() if s.updated_at else "",
        s.redo_node_id,
    )


def new_session_id() -> str:
    """An unguessable id (128 bits) that never starts with '-', so command lines do not read it as an option."""
    while True:
        sid = secrets.token_urlsafe(16)
        if not sid.startswith("-"):
            return sid


class Store:
    """The memory. Every public method is one unit of work (one transaction)."""

    def __init__(self, url: str, *, run_migrations: bool = True) -> None:
        """``url``: a SQLAlchemy URL (Configuration.resolved_database_url gives the default one)."""
        if not url:
            raise ValueError("Store needs a database URL")
        self.url = url
        self.engine = make_engine(self.url)
        if run_migrations:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine.execution_options(chatface_read=True), expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def unit(self, *, read: bool = False) -> Iterator[Session]:
        """One transaction: a writer (locks the database on SQLite, the session row on PostgreSQL) or a reader."""
        with (self._read_sessions if read else self._sessions).begin() as db:
            yield db

    # -- sessions ---------------------------------------------------------
    def _locked_session(self, db: Session, session_id: str, owner: str | None, *, lock: bool = True) -> ChatSession:
        stmt = select(ChatSession).where(ChatSession.id == session_id)
        if lock and db.get_bind().dialect.name != "sqlite":
            stmt = stmt.with_for_update()
        row = db.execute(stmt).scalar_one_or_none()
        if row is None or (owner is not None and row.owner != owner):
            raise SessionNotFoundError(f"no session {session_id!r}")
        return row

    def create_session(
        self,
        image_png: bytes,
        image_shape: list,
        source_name: str,
        engine: str,
        *,
        owner: str = "local",
        model_id: str = "",
        seed: int | None = None,
        title: str = "",
        latent: bytes | None = None,
    ) -> str:
        """A new session on a source photo, with its original as node 0. ``seed``: the session's seed for any
        random part of an engine (a fresh random one when None), stored so that every node re-renders the same."""
        sid = new_session_id()
        seed = secrets.randbits(31) if seed is None else seed
        with self.unit() as db:
            key = blobs.put_bytes(db, image_png, kind="image", codec="png", dtype="uint8", shape=image_shape)
            latent_key = blobs.put_bytes(db, latent, kind="latent", codec="npz") if latent is not None else None
            db.add(
                ChatSession(
                    id=sid,
                    owner=owner,
                    title=title or Path(source_name).name,
                    source_name=source_name,
                    source_blob=key,
                    latent_blob=latent_key,
                    engine=engine,
                    model_id=model_id,
                    seed=seed,
                )
            )
            db.flush()
            root = EditNode(session_id=sid, seq=0, parent_id=None, action="original", request="", state={}, scores={}, image_blob=key)
            db.add(root)
            db.flush()
            session = db.get(ChatSession, sid)
            assert session is not None  # added above, in this transaction
            session.head = root
        return sid

    def get_session(self, session_id: str, owner: str | None = None) -> SessionInfo:
        with self.unit(read=True) as db:
            row = db.get(ChatSession, session_id)
            if row is None or (owner is not None and row.owner != owner):
                raise SessionNotFoundError(f"no session {session_id!r}")
            return _session_info(row)

    def list_sessions(self, owner: str | None = None) -> list[SessionInfo]:
        with self.unit(read=True) as db:
            stmt = select(ChatSession).order_by(ChatSession.updated_at.desc())
            if owner is not None:
                stmt = stmt.where(ChatSession.owner == owner)
            return [_session_info(s) for s in db.execute(stmt).scalars()]

    def count_sessions(self, owner: str) -> int:
        with self.unit(read=True) as db:
            return int(db.execute(select(func.count()).select_from(ChatSession).where(ChatSession.owner == owner)).scalar() or 0)

    def delete_session(self, session_id: str, owner: str | None = None) -> None:
        """Remove a session with its nodes, messages and attempts (its content-addressed blobs stay: others may share them)."""
        with self.unit() as db:
            self._locked_session(db, session_id, owner)
            self.delete_session_rows(db, session_id)

    @staticmethod
    def delete_session_rows(db: Session, session_id: str) -> None:
        """Delete a session's rows inside the caller's transaction: the head and redo pointers first, then the session,
        whose nodes, messages and attempts go with it (ON DELETE CASCADE)."""
        db.execute(update(ChatSession).where(ChatSession.id == session_id).values(head_node_id=None, redo_node_id=None))
        db.execute(update(EditNode).where(EditNode.session_id == session_id).values(parent_id=None))
        db.execute(delete(ChatSession).where(ChatSession.id == session_id))
        db.expire_all()

    def set_latent(self, session_id: str, data: bytes, *, owner: str | None = None) -> str:
        with self.unit() as db:
            s = self._locked_session(db, session_id, owner)
            key = blobs.put_bytes(db, data, kind="latent", codec="npz")
            s.latent_blob = key
            return key

    def put_reference(self, session_id: str, png: bytes, *, owner: str | None = None) -> str:
        """Store a reference photo (PNG) that an edit of this session renders from (a style's, named by its key in the
        node's state); returns its key. Content-addressed like every blob, so a reference used twice is stored once."""
        with self.unit() as db:
            self._locked_session(db, session_id, owner, lock=False)
            return blobs.put_bytes(db, png, kind="reference", codec="png", dtype="uint8")

    def read_blob(self, key: str) -> bytes:
        with self.unit(read=True) as db:
            return blobs.get(db, key).data

    def verify_blobs(self) -> list[str]:
        with self.unit(read=True) as db:
            return blobs.verify_all(db)

    # -- the tree -----------------------------------------------------------
    def head(self, session_id: str, owner: str | None = None) -> NodeInfo:
        with self.unit(read=True) as db:
            return _node_info(self._locked_session(db, session_id, owner, lock=False).head)

    def node(self, session_id: str, seq: int, owner: str | None = None) -> NodeInfo:
        with self.unit(read=True) as db:
            self._locked_session(db, session_id, owner, lock=False)
            n = db.execute(select(EditNode).where(EditNode.session_id == session_id, EditNode.seq == seq)).scalar_one_or_none()
            if n is None:
                raise NodeNotFoundError(f"session {session_id} has no node {seq}")
            return _node_info(n)

    @staticmethod
    def _nodes_of(db: Session, session_id: str) -> list[NodeInfo]:
        rows = db.execute(select(EditNode).where(EditNode.session_id == session_id).order_by(EditNode.seq)).scalars()
        return [_node_info(n) for n in rows]

    def nodes(self, session_id: str, owner: str | None = None) -> list[NodeInfo]:
        with self.unit(read=True) as db:
            self._locked_session(db, session_id, owner, lock=False)
            return self._nodes_of(db, session_id)

    def tree(self, session_id: str, owner: str | None = None) -> tuple[SessionInfo, NodeInfo, list[NodeInfo]]:
        """The session (with its head and redo pointers), its current node and every node of it, read in one
        transaction: consistent with itself even while another writer moves the head."""
        with self.unit(read=True) as db:
            row = self._locked_session(db, session_id, owner, lock=False)
            nodes = self._nodes_of(db, session_id)
            return _session_info(row), next(n for n in nodes if n.id == row.head_node_id), nodes

    def commit_edit(
        self,
        session_id: str,
        *,
        action: str,
        request: str,
        state: dict,
        scores: dict,
        image_png: bytes | None,
        image_key: str | None = None,
        image_shape: list | None = None,
        attempts: Sequence[AttemptRecord] = (),
        owner: str | None = None,
        expected_head: int | None = None,
    ) -> NodeInfo:
        """Add a child of the head and make it the head: one transaction."""
        with self.unit() as db:
            s = self._locked_session(db, session_id, owner)
            if expected_head is not None and s.head_node_id != expected_head:
                raise ConcurrentEditError(
                    "the session moved on while this edit was rendered (another edit, undo or checkout); nothing was stored, try again"
                )
            if image_png is not None:
                image_key = blobs.put_bytes(db, image_png, kind="image", codec="png", dtype="uint8", shape=image_shape)
            seq = (db.execute(select(func.max(EditNode.seq)).where(EditNode.session_id == session_id)).scalar() or 0) + 1
            node = EditNode(
                session_id=session_id,
                seq=seq,
                parent=s.head,
                action=action,
                request=request,
                state=state,
                scores=scores,
                image_blob=image_key,
            )
            db.add(node)
            db.flush()
            self._add_attempts(db, session_id, node.id, list(attempts))
            s.head, s.redo = node, None
            s.updated_at = func.now()
            return _node_info(node)

    @staticmethod
    def _add_attempts(db: Session, session_id: str, node_id: int, attempts: list[AttemptRecord]) -> None:
        """A new node's attempts, numbered from 1 (a node gets its attempts once, in the commit that creates it)."""
        for i, a in enumerate(attempts, start=1):
            db.add(
                Attempt(
                    session_id=session_id,
                    node_id=node_id,
                    number=i,
                    state=a.state,
                    identity=a.identity,
                    identity_distance=a.identity_distance,
                    direction=a.direction,
                    realism=a.realism,
                    passed=a.passed,
                    kept=a.kept,
                    note=a.note,
                )
            )

    def attempts(self, session_id: str, node_id: int, owner: str | None = None) -> list[StoredAttempt]:
        with self.unit(read=True) as db:
            self._locked_session(db, session_id, owner, lock=False)
            rows = db.execute(
                select(Attempt).where(Attempt.session_id == session_id, Attempt.node_id == node_id).order_by(Attempt.number)
            ).scalars()
            return [
                StoredAttempt(
                    a.number,
                    dict(a.state or {}),
                    a.identity,
                    a.identity_distance,
                    dict(a.direction or {}),
                    a.realism,
                    a.passed,
                    a.kept,
                    a.note,
                )
                for a in rows
            ]

    @staticmethod
    def _tree(db: Session, s: ChatSession) -> None:
        """Load the session's whole tree in one query, so that walking parents reads no more rows."""
        db.execute(select(EditNode).where(EditNode.session_id == s.id)).scalars().all()

    def undo(self, session_id: str, steps: int = 1, owner: str | None = None) -> tuple[NodeInfo, int]:
        """Move the head ``steps`` edits back (stopping at the original); returns (head, steps moved)."""
        with self.unit() as db:
            s = self._locked_session(db, session_id, owner)
            self._tree(db, s)
            if s.redo is None or s.head not in s.redo.ancestors():
                s.redo = s.head
            path = s.head.ancestors()  # head ... original
            moved = min(steps, len(path) - 1)
            s.head = path[moved]
            s.updated_at = func.now()
            return _node_info(s.head), moved

    def redo(self, session_id: str, steps: int = 1, owner: str | None = None) -> tuple[NodeInfo, int]:
        """Walk the head back toward where the last undo started; returns (head, steps moved)."""
        with self.unit() as db:
            s = self._locked_session(db, session_id, owner)
            self._tree(db, s)
            path = s.redo.ancestors() if s.redo is not None else []  # redo target ... original
            if s.head not in path:
                return _node_info(s.head), 0
            idx = path.index(s.head)
            moved = min(steps, idx)
            s.head = path[idx - moved]
            s.updated_at = func.now()
            return _node_info(s.head), moved

    def checkout(self, session_id: str, seq: int, owner: str | None = None) -> NodeInfo:
        """Make any node of the session the head again (later edits branch from it)."""
        with self.unit() as db:
            s = self._locked_session(db, session_id, owner)
            n = db.execute(select(EditNode).where(EditNode.session_id == session_id, EditNode.seq == seq)).scalar_one_or_none()
            if n is None:
                raise NodeNotFoundError(f"session {session_id} has no node {seq}")
            self._tree(db, s)
            if n is s.head:  # nothing moves, and what redo would re-apply stays
                return _node_info(n)
            if s.redo is not None and n in s.redo.ancestors():
                pass  # still on the undone path: redo keeps walking toward where the undo started
            elif n in s.head.ancestors():
                s.redo = s.head
            else:
                s.redo = None
            s.head = n
            s.updated_at = func.now()
            return _node_info(n)

    # -- messages ---------------------------------------------------------
    def add_messages(self, session_id: str, messages: Sequence[StoredMessage], owner: str | None = None) -> None:
        """Store messages in one transaction, after the session's others."""
        with self.unit() as db:
            self._locked_session(db, session_id, owner)
            for m in messages:
                db.add(
                    Message(
                        session_id=session_id,
                        role=m.role,
                        content=m.content or "",
                        tool_calls=m.tool_calls,
                        tool_call_id=m.tool_call_id,
                        name=m.name,
                    )
                )

    def messages(
        self, session_id: str, owner: str | None = None, *, last: int | None = None, roles: tuple[str, ...] | None = None
    ) -> list[StoredMessage]:
        """The conversation in order; ``last`` keeps only the newest that many messages, ``roles`` only those roles."""
        with self.unit(read=True) as db:
            self._locked_session(db, session_id, owner, lock=False)
            stmt = select(Message).where(Message.session_id == session_id)
            if roles is not None:
                stmt = stmt.where(Message.role.in_(roles))
            if last is not None:
                newest = stmt.order_by(Message.id.desc()).limit(last).subquery()
                stmt = select(Message).join(newest, Message.id == newest.c.id)
            rows = db.execute(stmt.order_by(Message.id)).scalars()
            return [StoredMessage(m.role, m.content, m.tool_calls, m.tool_call_id, m.name) for m in rows]
