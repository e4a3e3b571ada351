"""The people a server serves: users with argon2-hashed passwords and revocable bearer tokens.

A token is ``cf_`` and 43 random URL-safe characters (256 bits), shown once
when it is made; only its SHA-256 is stored (a token is a random key, not a
password, so a fast hash is the right one, and a stolen database gives no
usable token). Passwords go through argon2id (argon2-cffi's defaults). Every
method is one transaction. A user's sessions belong to the owner
``owner_of(name)`` = ``user:NAME``, a namespace no unauthenticated owner
("local", "web") can name.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update

from ..errors import ChatfaceError
from .schema import ApiToken, ChatSession, User, utcnow
from .store import Store

NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "cf_"
_hasher = PasswordHasher()


class AccountError(ChatfaceError):
    """A user-management request that cannot be done (unknown user, a name taken, a weak password)."""


@dataclass(frozen=True)
class UserInfo:
    name: str
    created_at: str
    tokens: int  # live (not revoked) tokens
    sessions: int


def owner_of(name: str) -> str:
    """The session owner of user ``name`` (names are case-blind: "Alice" logs in as alice)."""
    return f"user:{name.strip().lower()}"


@functools.cache
def _dummy_hash() -> str:
    """A hash checked against when the name is unknown, so both answers take as long (made on first use: argon2 is
    deliberately slow, and importing this module must not be)."""
    return _hasher.hash("not a password of anyone")


def _user(db, name: str) -> User:
    user = db.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise AccountError(f"no user {name!r}")
    return user


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    key = (name or "").strip().lower()
    if not NAME.match(key):
        raise AccountError(f"{name!r} is not a user name: 1-64 of a-z, 0-9 and . _ @ -, starting with a letter or digit")
    return key


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def any_users(self) -> bool:
        with self.store.unit(read=True) as db:
            return db.execute(select(User.id).limit(1)).first() is not None

    def add_user(self, name: str, password: str) -> str:
        name = check_name(name)
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password is too short ({len(password)} characters; at least {MIN_PASSWORD})")
        digest = _hasher.hash(password)
        with self.store.unit() as db:
            if db.execute(select(User.id).where(User.name == name)).first() is not None:
                raise AccountError(f"a user {name!r} exists already")
            db.add(User(name=name, password_hash=digest))
        return name

    def users(self) -> list[UserInfo]:
        with self.store.unit(read=True) as db:
            out = []
            for u in db.execute(select(User).order_by(User.name)).scalars():
                live = sum(1 for t in u.tokens if t.revoked_at is None)
                sessions = db.execute(select(func.count()).select_from(ChatSession).where(ChatSession.owner == owner_of(u.name))).scalar()
                out.append(UserInfo(u.name, u.created_at.isoformat() if u.created_at else "", live, int(sessions or 0)))
            return out

    def remove_user(self, name: str, *, delete_sessions: bool = False) -> int:
        """Remove the user and their tokens; their sessions too with ``delete_sessions`` (refused while they own any
        without it, as a later user of the same name would otherwise inherit them). Returns the sessions removed."""
        name = check_name(name)
        with self.store.unit() as db:
            user = _user(db, name)
            sessions = list(db.execute(select(ChatSession.id).where(ChatSession.owner == owner_of(name))).scalars())
            if sessions and not delete_sessions:
                raise AccountError(
                    f"{name} owns {len(sessions)} session(s); pass --delete-sessions to remove them with the user "
                    "(a later user of the same name would otherwise see them)"
                )
            for sid in sessions:
                self.store.delete_session_rows(db, sid)
            db.delete(user)
            return len(sessions)

    def check_password(self, name: str, password: str) -> str | None:
        """The user's name when ``password`` is theirs, else None (an unknown name takes as long as a wrong password)."""
        try:
            key = check_name(name)
        except AccountError:
            key = None
        with self.store.unit(read=True) as db:
            digest = db.execute(select(User.password_hash).where(User.name == key)).scalar_one_or_none() if key else None
        try:
            _hasher.verify(digest or _dummy_hash(), password or "")
        except (VerificationError, InvalidHashError):
            return None
        return key if digest is not None else None

    def new_token(self, name: str, label: str = "") -> str:
        """A new bearer token for the user, returned once (only its hash is kept)."""
        name = check_name(name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.unit() as db:
            user = _user(db, name)
            db.add(ApiToken(user_id=user.id, token_sha256=_sha256(token), prefix=token[:10], label=label[:128]))
        return token

    def revoke_tokens(self, name: str, prefix: str | None = None) -> int:
        """Revoke the user's tokens (only the one starting with ``prefix``, when given); returns how many."""
        name = check_name(name)
        with self.store.unit() as db:
            user = _user(db, name)
            stmt = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            if prefix:
                stmt = stmt.where(ApiToken.prefix == prefix[:10])
            result = db.execute(stmt.values(revoked_at=utcnow()))
            return int(getattr(result, "rowcount", 0) or 0)  # an UPDATE's CursorResult

    def user_of_token(self, token: str) -> str | None:
        """The name of the user whose live token this is, else None."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        with self.store.unit(read=True) as db:
            row = db.execute(
                select(User.name)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_sha256 == _sha256(token), ApiToken.revoked_at.is_(None))
            ).first()
        return row[0] if row else None


__all__ = ["AccountError", "Accounts", "UserInfo", "owner_of", "check_name"]
