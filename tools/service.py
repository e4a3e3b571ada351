"""The edit-session service: one per process, built from one Configuration, used by every entry point.

The CLI, the web app, the MCP server, the LangChain toolkit, the LangGraph
server and the evaluator all open and resume sessions here, so they all get
the same store, the same engine (loaded once per engine name, on first use,
with the configured device, precision, steps and face index) and the same
self-check thresholds. What happens to a session (apply, check, re-edit,
store) is in the tools bound to it (toolkit.py); this module only wires them.

    service = EditService(Configuration())
    editor = service.open_photo("portrait.jpg")          # finds and inverts the face, stores the session
    tools = service.toolkit(editor)                      # invert, apply_attribute, ... bound to that session
    tools.apply_attribute([AttributeEdit(attribute="smiling", strength=0.5)])
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..configuration import Configuration
from ..errors import ChatfaceError, ImageError
from ..memory.accounts import Accounts
from ..memory.accounts import owner_of as user_owner  # the owner of a user's sessions ("user:NAME"), for entry points
from ..memory.store import NodeInfo, SessionInfo, SessionNotFoundError, Store, StoredAttempt, StoredMessage
from ..models.base import EngineParts
from ..models.images import decode_image_bytes, load_image, save_image
from .cache import ByteBoundedCache
from .edit_state import redo_moves
from .editor import UNRENDERED_ENGINE, SessionEditor, Thresholds, open_photo, open_unrendered
from .lanes import BackgroundLane
from .lazy import Lazy
from .node_images import decode_node_image
from .toolkit import SessionToolkit
from .vocabulary import default_vocabulary

__all__ = [
    "EditService",
    "NodeInfo",
    "PathNotAllowedError",
    "QuotaError",
    "SessionHistory",
    "allowed_path",
    "SessionInfo",
    "SessionNotFoundError",
    "StoredAttempt",
    "StoredMessage",
    "user_owner",
]  # what entry points may name

EDITOR_SHARE = 0.75  # of the configured cache budget: open sessions (decoded photo and inversion); the rest: decoded node images


@dataclass(frozen=True)
class SessionHistory:
    """A stored session as the history views show it; reading it loads no engine."""

    info: SessionInfo
    head: NodeInfo
    nodes: list[NodeInfo]
    messages: list[StoredMessage]


CONVERSATION = ("user", "assistant", "tool")  # the stored roles of the conversation (not the lines a page showed)


class PathNotAllowedError(ChatfaceError):
    """A photo path outside the directories a server may read."""


def allowed_path(path: str | Path, dirs) -> Path:
    """``path`` resolved (symlinks and '..' followed) when it lies inside one of ``dirs``, else PathNotAllowedError."""
    p = Path(path).expanduser().resolve()
    roots = [Path(d).expanduser().resolve() for d in dirs]
    if not any(p.is_relative_to(d) for d in roots):
        where = ", ".join(map(str, roots)) or "none are configured"
        raise PathNotAllowedError(f"{path} is outside the directories this server may read ({where})")
    return p


class QuotaError(ChatfaceError):
    """A user is at a limit of the server (sessions kept)."""


class EditService:
    def __init__(self, config: Configuration | None = None, *, store: Store | None = None) -> None:
        self.config = config or Configuration()
        self.store = store if store is not None else Store(self.config.resolved_database_url())
        self.thresholds = Thresholds(
            identity_distance=self.config.identity_distance,
            direction=self.config.direction_threshold,
            max_attempts=self.config.max_attempts,
        )
        self._engines: dict[str, Lazy[EngineParts]] = {}
        budget = int(self.config.cache_mb * 2**20)
        # shared by every connection and user: open sessions, least recently used dropped first, and decoded node images
        self._editors: ByteBoundedCache[SessionEditor] = ByteBoundedCache(int(budget * EDITOR_SHARE), SessionEditor.nbytes)
        self.images: ByteBoundedCache[np.ndarray] = ByteBoundedCache(budget - int(budget * EDITOR_SHARE), lambda a: a.nbytes)
        self._lock = threading.Lock()
        # photos are opened, and big ones (BIG_PHOTO_PIXELS or more) edited, one at a time whoever sends them, at a
        # lower CPU priority: a flood of 24-megapixel uploads gets the cores the people editing small photos leave
        self.lane = BackgroundLane()

    # -- engines ----------------------------------------------------------------
    def engine_options(self) -> dict:
        """What loading an engine takes from the configuration (load_engine's keywords), here or in a Ray replica."""
        cfg = self.config
        return {
            "face_index": cfg.face_index,
            "models_dir": cfg.models_dir,
            "diffusion_options": cfg.diffusion_options(),
            "concepts": default_vocabulary().concepts(),
        }

    def parts(self, engine: str | None = None) -> EngineParts:
        """The engine ``engine`` (default: the configured one), loaded once per process, or its deployment on the
        configured Ray cluster (``ray_address``), reached through the same interfaces."""
        name = engine or self.config.engine
        with self._lock:
            lazy = self._engines.setdefault(name, Lazy(lambda: self._load(name)))
        return lazy.get()

    def _load(self, name: str) -> EngineParts:
        if self.config.ray_address:
            from ..models.engines import remote

            remote.connect(self.config.ray_address)
            return remote.remote_parts(name)
        from ..models.engines.catalog import load_engine

        return load_engine(name, **self.engine_options())

    def engine_facts(self):
        """What the configured engine takes to run (GPUs per replica, whether it batches), without loading it."""
        from ..models.engines.catalog import engine_facts

        return engine_facts(self.config.engine)

    def replica_resources(self, gpus: float | None = None, max_batch: int | None = None) -> tuple[float, int]:
        """(GPUs, batch size) of one deployed replica: the caller's, else the engine's own facts (a GPU for a
        diffusion engine unless the configured device is the CPU; batches of 8 for the engine that batches)."""
        facts = self.engine_facts()
        if gpus is None:
            gpus = 0.0 if self.config.device == "cpu" else facts.gpus_per_replica
        return gpus, facts.max_batch if max_batch is None else max_batch

    def deploy(
        self,
        *,
        replicas: int = 1,
        max_replicas: int | None = None,
        gpus: float | None = None,
        cpus: float = 1.0,
        max_batch: int | None = None,
    ) -> None:
        """Start (or update) the configured engine as a Ray Serve deployment on the configured cluster
        (``gpus`` and ``max_batch`` as ``replica_resources`` gives them)."""
        from ..models.engines import remote

        if not self.config.ray_address:
            raise ValueError("deploying needs a Ray cluster: set ray_address (--ray ADDRESS or CHATFACE_RAY_ADDRESS)")
        gpus, max_batch = self.replica_resources(gpus, max_batch)
        remote.connect(self.config.ray_address)
        remote.deploy(
            self.config.engine,
            self.engine_options(),
            remote.Scaling(replicas=replicas, max_replicas=max_replicas, gpus=gpus, cpus=cpus, max_batch=max_batch),
        )

    # -- sessions ---------------------------------------------------------------
    def open_photo(
        self, photo: str | Path, *, owner: str = "local", image: np.ndarray | None = None, title: str = "", face_index: int | None = None
    ) -> SessionEditor:
        """A new session on ``photo`` (or on ``image``, which ``photo`` then only names): the face is found and inverted now.

        ``face_index`` picks one of several faces (in the order of ``faces``), else the configured one.
        """
        self._check_session_quota(owner)
        if image is None:
            image = self.read_photo(photo)
        self._check_pixels(image, str(photo))
        parts = self.parts()
        editor = self.lane.run(open_photo, self.store, parts, str(photo), owner=owner, title=title, image=image, face_index=face_index)
        editor.thresholds = self.thresholds
        return self._keep(editor)

    def open_upload(
        self, data: bytes, *, owner: str = "local", name: str = "(uploaded image)", face_index: int | None = None
    ) -> SessionEditor:
        """A new session on image file bytes (PNG, JPEG, ...) sent by a client; a clear error for anything else."""
        return self.open_photo(name, owner=owner, image=self.read_upload(data, name), face_index=face_index)

    # -- photos before a session, and the limits on them -------------------------------
    @property
    def max_upload_bytes(self) -> int:
        return int(self.config.max_upload_mb * 2**20)

    def read_upload(self, data: bytes, name: str = "(uploaded image)") -> np.ndarray:
        """Image file bytes as RGB uint8, or a clear ImageError (not an image, truncated, over the size limits...)."""
        self.check_upload_size(len(data), name)
        return decode_image_bytes(data, name, max_pixels=int(self.config.max_megapixels * 1_000_000))

    def read_photo(self, path: str | Path) -> np.ndarray:
        """A photo file, size-checked before a byte of it is read."""
        p = Path(path)
        if p.is_file():
            self.check_upload_size(p.stat().st_size, str(p))
        return load_image(p, max_pixels=int(self.config.max_megapixels * 1_000_000))

    def allowed_photo(self, path: str | Path) -> Path:
        """A photo path a run from outside may name: inside the configured ``allow_dirs`` (CHATFACE_ALLOW_DIRS)."""
        return allowed_path(path, self.config.allow_dirs)

    def check_upload_size(self, size: int, name: str) -> None:
        """ImageError when a file of ``size`` bytes is over the upload limit."""
        if size > self.max_upload_bytes:
            raise ImageError(f"{name}: the file is {size / 2**20:.1f} MB; the limit is {self.config.max_upload_mb:g} MB")

    def _check_pixels(self, image: np.ndarray, name: str) -> None:
        mp = image.shape[0] * image.shape[1] / 1e6
        if mp > self.config.max_megapixels:
            raise ImageError(f"{name}: the photo has {mp:.1f} megapixels; the limit is {self.config.max_megapixels:g}")

    def _check_session_quota(self, owner: str) -> None:
        """A user of a server (owner ``user:NAME``) keeps at most ``max_sessions_per_user`` sessions."""
        if not owner.startswith("user:") or not self.config.max_sessions_per_user:
            return
        count = self.store.count_sessions(owner)
        if count >= self.config.max_sessions_per_user:
            raise QuotaError(
                f"you have {count} sessions, the limit of this server; delete some before opening another (chatface sessions --delete ID)"
            )

    @staticmethod
    def faces(image: np.ndarray) -> list[tuple[int, int, int, int]]:
        """The boxes (x0, y0, x1, y1) of the faces in ``image``, largest first: ``face_index`` counts in this order."""
        from ..models.faces.detection import detect_faces

        return [(int(f.box[0]), int(f.box[1]), int(f.box[2]), int(f.box[3])) for f in detect_faces(image)]

    def open_session(self, session_id: str, *, owner: str = "local") -> SessionEditor:
        """A stored session of ``owner``, with the engine that made it (SessionNotFoundError for anyone else's)."""
        editor = self._editors.get((session_id, owner))
        if editor is not None:
            return editor
        info = self.store.get_session(session_id, owner=owner)
        if info.engine == UNRENDERED_ENGINE:
            editor = SessionEditor(self.store, None, session_id, owner=owner, thresholds=self.thresholds, render_images=False)
        else:
            editor = SessionEditor(self.store, self.parts(info.engine), session_id, owner=owner, thresholds=self.thresholds)
        return self._keep(editor)

    def open_unrendered(self, *, owner: str = "local", title: str = "planner evaluation") -> SessionEditor:
        """A session that records edits without rendering them (planner evaluation: no engine is loaded)."""
        return self._keep(open_unrendered(self.store, owner=owner, title=title))

    def toolkit(
        self,
        editor: SessionEditor,
        export_dir: str | Path | None = None,
        *,
        reference_dirs: Sequence[str | Path] | None = None,
        reference: str | None = None,
    ) -> SessionToolkit:
        """The session's tools; a reference photo is read by path only inside ``reference_dirs`` (default: the configured
        ``allow_dirs``, none unless set; a local, trusted caller passes the folder it means)."""
        dirs = self.config.allow_dirs if reference_dirs is None else reference_dirs
        return SessionToolkit(editor, export_dir, reference_dirs=dirs, reference=reference)

    def _keep(self, editor: SessionEditor) -> SessionEditor:
        editor.lane = self.lane  # its edits run in the lane when its photo is big (SessionEditor.work)
        return self._editors.put((editor.session_id, editor.owner), editor)

    def adopt(self, editor: SessionEditor) -> SessionEditor:
        """Serve ``editor`` (opened elsewhere on this service's store) for its session from now on, as if opened here."""
        return self._keep(editor)

    def delete_session(self, session_id: str, *, owner: str = "local") -> None:
        """Remove a stored session of ``owner`` (SessionNotFoundError for anyone else's) and drop it from the cache."""
        self.store.delete_session(session_id, owner=owner)
        self._editors.pop((session_id, owner))

    @property
    def accounts(self) -> Accounts:
        """The users of this service's database (a server's logins and bearer tokens)."""
        return Accounts(self.store)

    # -- reading stored sessions (no engine) ------------------------------------
    def sessions(self, *, owner: str = "local") -> list[tuple[SessionInfo, NodeInfo]]:
        """Every session of ``owner`` with its current node, newest first."""
        return [(s, self.store.head(s.id, owner=owner)) for s in self.store.list_sessions(owner=owner)]

    def tree(self, session_id: str, *, owner: str = "local") -> tuple[NodeInfo, list[NodeInfo]]:
        """(current node, every node) of a session: what a history view redraws after each action, without the conversation."""
        _, head, nodes = self.store.tree(session_id, owner=owner)
        return head, nodes

    def history(self, session_id: str, *, owner: str = "local") -> SessionHistory:
        info, head, nodes = self.store.tree(session_id, owner=owner)
        return SessionHistory(info, head, nodes, self.conversation(info.id, owner=owner))

    def conversation(self, session_id: str, *, owner: str = "local", last: int | None = None) -> list[StoredMessage]:
        """The stored conversation a planner reads (user, assistant and tool messages; ``last``: only the newest)."""
        return self.store.messages(session_id, owner=owner, last=last, roles=CONVERSATION)

    def add_conversation(self, session_id: str, rows: list[StoredMessage], *, owner: str = "local") -> None:
        """Store a turn's messages in one transaction."""
        self.store.add_messages(session_id, rows, owner=owner)

    def can_redo(self, session_id: str, *, owner: str = "local", tree: tuple[NodeInfo, list[NodeInfo]] | None = None) -> bool:
        """Whether redo would move the head: an undo left a node to return to, and the head is still on its way there.
        ``tree``: the session's (head, nodes) when the caller has just read them (``tree``), so they are not read again."""
        if tree is None:
            info, head, nodes = self.store.tree(session_id, owner=owner)
        else:
            info, (head, nodes) = self.store.get_session(session_id, owner=owner), tree
        return redo_moves(head, nodes, info.redo_node_id)

    def add_shown(self, session_id: str, lines: list[dict], *, owner: str = "local") -> None:
        """Chat lines as a page showed them ({"role", "content", "metadata"?}), so a reload shows them the same."""
        self.store.add_messages(session_id, [StoredMessage("shown", json.dumps(line)) for line in lines], owner=owner)

    def shown(self, session_id: str, *, owner: str = "local") -> list[dict]:
        """The chat lines a page showed for this session, in order (see add_shown)."""
        return [json.loads(m.content) for m in self.store.messages(session_id, owner=owner, roles=("shown",))]

    def attempts(self, session_id: str, seq: int, *, owner: str = "local") -> list[StoredAttempt]:
        """The renders stored for node ``seq`` (the first one and the self-check's), with their scores and which one is kept."""
        node = self.store.node(session_id, seq, owner=owner)
        return self.store.attempts(session_id, node.id, owner=owner)

    def export_node(self, session_id: str, seq: int, path: str | Path, *, owner: str = "local", overwrite: bool = False) -> Path:
        """Write the stored image of node ``seq`` to ``path`` (PNG or JPEG by its suffix), whole or not at all; a file that
        exists already is replaced only with ``overwrite`` (FileExistsError otherwise)."""
        node = self.store.node(session_id, seq, owner=owner)
        if node.image_blob is None:
            raise ValueError(f"node {seq} has no stored image")
        info = self.store.get_session(session_id, owner=owner)
        image = decode_node_image(
            self.store.read_blob(node.image_blob),
            lambda: decode_image_bytes(self.store.read_blob(info.source_blob), "stored source photo"),
            info.source_blob,
            f"node {node.seq}",
        )
        try:
            save_image(image, Path(path), overwrite=overwrite)
        except FileExistsError:
            raise FileExistsError(f"{path} exists already (nothing was written over it)") from None
        return Path(path)

    def close(self) -> None:
        self.store.close()
