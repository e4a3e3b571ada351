"""The memory's tables, as SQLAlchemy 2.0 typed mappings.

sessions: one chat about one source photo, with the head of its edit tree.
messages: the conversation, tool calls included.
edit_nodes: the edit tree; each node holds the *cumulative* edit state, so any
node renders (and re-renders) on its own from the source photo's inversion.
blobs: content-addressed bytes (images, latents), checksummed.
attempts: every self-check attempt with its scores.
users, api_tokens: the people a server serves: a password hash (argon2) and
bearer tokens stored as their SHA-256 (a token is shown once, when made). A
session's owner is ``user:NAME`` for a user, never a bare name, so no user can
take over the sessions of the CLI ("local") or of an unauthenticated server.

Every reference is a foreign key with a relationship: a session's head and
redo nodes (created after both tables, as the two tables point at each other),
its nodes, messages and attempts; a node's parent, children and attempts.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Blob(Base):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # image, latent
    dtype: Mapped[str | None] = mapped_column(String(16))
    shape: Mapped[list | None] = mapped_column(JSON)
    codec: Mapped[str] = mapped_column(String(16))  # png, npz, raw
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChatSession(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), default="local")
    title: Mapped[str] = mapped_column(String(256), default="")
    source_name: Mapped[str] = mapped_column(String(512), default="")
    source_blob: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    latent_blob: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    engine: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(256), default="")
    seed: Mapped[int] = mapped_column(Integer, default=0)
    head_node_id: Mapped[int | None] = mapped_column(ForeignKey("edit_nodes.id", name="fk_sessions_head_node", use_alter=True))
    # where redo leads back to, after undo
    redo_node_id: Mapped[int | None] = mapped_column(ForeignKey("edit_nodes.id", name="fk_sessions_redo_node", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    # every session has a head from its creation on (node 0); the column is nullable only because the two rows
    # point at each other and one of them is written first
    head: Mapped[EditNode] = relationship(foreign_keys=[head_node_id], post_update=True)
    redo: Mapped[EditNode | None] = relationship(foreign_keys=[redo_node_id], post_update=True)
    nodes: Mapped[list[EditNode]] = relationship(
        back_populates="session", foreign_keys="EditNode.session_id", order_by="EditNode.seq", passive_deletes=True
    )
    messages: Mapped[list[Message]] = relationship(back_populates="session", order_by="Message.id", passive_deletes=True)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user, assistant, tool, system; shown: a chat line as a page showed it (JSON)
    content: Mapped[str] = mapped_column(Text, default="")
    tool_calls: Mapped[list | None] = mapped_column(JSON)
    tool_call_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[ChatSession] = relationship(back_populates="messages")


class EditNode(Base):
    __tablename__ = "edit_nodes"
    __table_args__ = (Index("ix_edit_nodes_session_seq", "session_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 0 for the original, then 1, 2, ... within the session
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("edit_nodes.id"))
    action: Mapped[str] = mapped_column(String(16))  # original, edit, reset
    request: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[dict] = mapped_column(JSON)  # {attribute: {"strength": s, "t_edit": t}}
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    image_blob: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[ChatSession] = relationship(back_populates="nodes", foreign_keys=[session_id])
    parent: Mapped[EditNode | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[EditNode]] = relationship(back_populates="parent", order_by="EditNode.seq")
    attempts: Mapped[list[Attempt]] = relationship(back_populates="node", order_by="Attempt.number", passive_deletes=True)

    def ancestors(self) -> list[EditNode]:
        """This node, its parent, ... up to the original."""
        out: list[EditNode] = []
        cur: EditNode | None = self
        while cur is not None:
            out.append(cur)
            cur = cur.parent
        return out


class Attempt(Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("edit_nodes.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict] = mapped_column(JSON)
    identity: Mapped[float | None] = mapped_column(Float)
    identity_distance: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[dict] = mapped_column(JSON, default=dict)
    realism: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # seam, texture, gamut, visible, problems
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    kept: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    node: Mapped[EditNode] = relationship(back_populates="attempts")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True, order_by="ApiToken.id"
    )


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to tell tokens apart in a listing
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")
