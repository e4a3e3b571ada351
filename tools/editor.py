"""One session's editing service: source photo, its one inversion, render, score, commit.

Tools and the self-check both go through a SessionEditor, which is bound to one
session of one owner and can reach nothing else. Every image is rendered from
the source photo and its stored inversion plus the cumulative state, never
from a previous edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, TypeVar

import numpy as np

from ..errors import ChatfaceError
from ..memory import blobs
from ..memory.store import AttemptRecord, NodeInfo, Store
from ..models.base import EditSpec, Latent, UnsupportedAttributeError, style_digest
from .capabilities import Offer, offers_of
from ..models.engines.catalog import EngineParts
from ..models.images import decode_image_bytes, encode_png, fit_within, load_image
from ..models.scorers.realism import RealismScore
from .edit_state import describe, specs, strengths
from .node_images import decode_node_image, encode_node_image, is_patch
from .vocabulary import default_vocabulary

T = TypeVar("T")

if TYPE_CHECKING:
    from .lanes import BackgroundLane
    from .selfcheck import SelfCheckResult


BIG_PHOTO_PIXELS = 4_000_000  # a photo of this many pixels or more is edited in the service's big-photo lane


def is_big_photo(image: np.ndarray) -> bool:
    return image.shape[0] * image.shape[1] >= BIG_PHOTO_PIXELS


PREVIEW_SIDE = 1024  # the longest side of an image sent to a client to look at


@dataclass(frozen=True)
class Thresholds:
    identity_distance: float | None = None  # None: the identity scorer's own criterion
    direction: float = 0.1
    max_attempts: int = 4  # the self-check's re-edits per edit (0: check and report, never re-edit)


@dataclass
class Evaluation:
    identity: float
    identity_distance: float
    same_person: bool
    direction: dict[str, float]
    direction_ok: dict[str, bool]
    identity_criterion: str = ""
    direction_threshold: float = 0.0
    realism: RealismScore | None = None  # None: not measured (nothing changed on the pixels' side)

    @property
    def realistic(self) -> bool:
        """No artefact (seam, texture, gamut); a change too weak to see is not an artefact (see ``visible``)."""
        return not self.artefacts

    @property
    def visible(self) -> bool:
        return self.realism is None or not self.realism.invisible

    @property
    def artefacts(self) -> dict[str, str]:
        """What makes the edit look unlike a photograph (seam, texture, gamut); invisibility is not an artefact."""
        return {k: v for k, v in (self.realism.problems if self.realism else {}).items() if k != "visible"}

    @property
    def applied(self) -> bool:
        """Every change can be seen and goes the asked way: the one rule for saying an edit was applied."""
        return self.visible and all(self.direction_ok.values())

    @property
    def visible_changes(self) -> list[str]:
        """The attributes whose change can be seen and goes the asked way (some of a request can pass, some not)."""
        return sorted(a for a, ok in self.direction_ok.items() if ok) if self.visible else []

    @property
    def passed(self) -> bool:
        return self.same_person and all(self.direction_ok.values()) and self.realistic and self.visible

    def as_dict(self) -> dict:
        return {
            "identity": round(self.identity, 4),
            "identity_distance": round(self.identity_distance, 4),
            "same_person": self.same_person,
            "direction": {a: round(v, 4) for a, v in self.direction.items()},
            "direction_ok": self.direction_ok,
            "passed": self.passed,
            "identity_criterion": self.identity_criterion,
            "direction_threshold": self.direction_threshold,
            "realism": self.realism.as_dict() if self.realism is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Evaluation":
        """An evaluation as ``as_dict`` wrote it (a node's stored scores, an artifact's); ``passed`` is derived, not read."""
        realism = d.get("realism")
        return cls(
            float(d["identity"]),
            float(d["identity_distance"]),
            bool(d["same_person"]),
            {a: float(v) for a, v in (d.get("direction") or {}).items()},
            {a: bool(v) for a, v in (d.get("direction_ok") or {}).items()},
            str(d.get("identity_criterion") or ""),
            float(d.get("direction_threshold") or 0.0),
            RealismScore.from_dict(realism) if realism else None,
        )

    def attempt(self, state: dict, *, kept: bool, note: str) -> AttemptRecord:
        """This evaluation of the render of ``state``, as a stored attempt."""
        return AttemptRecord(
            state=state,
            identity=self.identity,
            identity_distance=self.identity_distance,
            direction=self.direction,
            passed=self.passed,
            kept=kept,
            note=note,
            realism=self.realism.as_dict() if self.realism is not None else None,
        )


def open_photo(
    store: Store,
    parts: EngineParts,
    image_path: str,
    *,
    owner: str = "local",
    title: str = "",
    image: np.ndarray | None = None,
    face_index: int | None = None,
) -> "SessionEditor":
    """Read the photo, find the face and invert it, then create the session with both, in one transaction.

    ``image`` (RGB uint8), when given, is used instead of reading ``image_path`` (which then only names it);
    ``face_index`` picks a face of a photo with several (see ``faces_in``), else the engine's configured one.
    Any failure (not an image, no face...) happens before anything is written.
    """
    image = load_image(image_path) if image is None else image
    latent = parts.generator.invert(image, face_index)
    latent_bytes = blobs.pack_arrays(latent.arrays, {"engine": latent.engine, **latent.meta})
    sid = store.create_session(
        encode_png(image),
        list(image.shape),
        str(image_path),
        parts.generator.name,
        owner=owner,
        model_id=parts.model_id,
        title=title,
        latent=latent_bytes,
    )
    editor = SessionEditor(store, parts, sid, owner=owner)
    editor._image, editor._latent = image, latent
    return editor


def open_unrendered(store: Store, *, owner: str = "local", title: str = "planner evaluation") -> "SessionEditor":
    """A session that records edits without rendering them, for evaluating planners.

    Tools, undo/redo/reset and memory behave exactly as in a rendering session,
    and every vocabulary attribute is accepted; no image is rendered or scored
    (each node points at a small blank source image), so no models are loaded.
    """
    blank = np.full((16, 16, 3), 128, np.uint8)
    sid = store.create_session(
        encode_png(blank), list(blank.shape), "(no photo: planner evaluation)", UNRENDERED_ENGINE, owner=owner, title=title
    )
    return SessionEditor(store, None, sid, owner=owner, render_images=False)


UNRENDERED_ENGINE = "unrendered"


class SessionEditor:
    def __init__(
        self,
        store: Store,
        parts: EngineParts | None,
        session_id: str,
        *,
        owner: str = "local",
        thresholds: Thresholds = Thresholds(),
        render_images: bool = True,
    ):
        if parts is None and render_images:
            raise ValueError("a rendering session needs an engine (parts)")
        self.store = store
        self.parts = parts
        self.render_images = render_images
        self.owner = owner
        self.thresholds = thresholds
        self.info = store.get_session(session_id, owner=owner)  # raises for a session that is not this owner's
        self.session_id = session_id
        self.vocab = default_vocabulary()
        self._image: np.ndarray | None = None
        self._latent: Latent | None = None
        self.lane: BackgroundLane | None = None  # set by the service that keeps this editor (see work)
        self.on_stage: Callable[[str], None] | None = None  # told what an edit is doing now (a web page shows it as progress)

    def work(self, fn: Callable[[], T]) -> T:
        """``fn()`` (an edit's render, check and commit) where this session's edits run: in the service's background
        lane when the photo is big (one at a time for everyone, at a lower CPU priority), else right here."""
        big = self.render_images and is_big_photo(self.source)
        return self.lane.run(fn) if big and self.lane is not None else fn()

    def nbytes(self) -> int:
        """What this open session holds in memory: its decoded photo and its inversion (what a cache counts)."""
        size = self._image.nbytes if self._image is not None else 0
        if self._latent is not None:
            size += sum(int(getattr(a, "nbytes", 0)) for a in self._latent.arrays.values())
        return size + 4096

    def stage(self, what: str) -> None:
        if self.on_stage is not None:
            self.on_stage(what)

    # -- source and inversion ---------------------------------------------
    @property
    def source(self) -> np.ndarray:
        if self._image is None:
            self._image = decode_image_bytes(self.store.read_blob(self.info.source_blob), "stored source photo")
        return self._image

    def latent(self) -> Latent:
        """The one inversion of the source photo: read from memory, or computed once and stored."""
        if self._latent is None:
            info = self.store.get_session(self.session_id, owner=self.owner)
            if info.latent_blob is not None:
                arrays, meta = blobs.unpack_arrays(self.store.read_blob(info.latent_blob))
                self._latent = Latent(engine=meta.pop("engine", self.engine.generator.name), arrays=arrays, meta=meta)
            else:
                lat = self.engine.generator.invert(self.source)
                self.store.set_latent(self.session_id, blobs.pack_arrays(lat.arrays, {"engine": lat.engine, **lat.meta}), owner=self.owner)
                self._latent = lat
        return self._latent

    # -- render and check ---------------------------------------------------
    @property
    def engine(self) -> EngineParts:
        """The engine that renders and checks this session's edits; a session that only records them (a planner
        evaluation) has none, and asking for it is a clear error, not an AttributeError on None."""
        if self.parts is None:
            raise ChatfaceError("this session records edits without rendering them: it has no engine")
        return self.parts

    @property
    def engine_name(self) -> str:
        return self.parts.generator.name if self.parts is not None else UNRENDERED_ENGINE

    def unsupported(self, state: dict) -> dict[str, str]:
        if not self.render_images:
            return {}
        try:
            self.engine.generator.check_supported(self._specs(state))
        except UnsupportedAttributeError as exc:
            return exc.unsupported
        return {}

    def offers(self) -> tuple[Offer, ...]:
        """What this session's engine can edit, in people's words (an unrendered session: every attribute)."""
        return tuple(offers_of(self.engine.generator.supported_attributes() if self.render_images else None))

    @property
    def accepts_text(self) -> bool:
        """Whether this session's engine renders free-text concepts (a planner evaluation's unrendered session does not offer them)."""
        return self.render_images and self.engine.generator.accepts_text

    def t_edit_defaults(self, attributes) -> dict[str, int]:
        """The engine's own T_edit for those of ``attributes`` it has one for (see Generator.default_t_edit)."""
        if self.parts is None:
            return {}
        found = {a: self.engine.generator.default_t_edit(a) for a in attributes}
        return {a: t for a, t in found.items() if t is not None}

    def _specs(self, state: dict) -> dict[str, EditSpec]:
        """The typed state the engine renders: a style's spec carries its reference photo, read from memory."""
        out = specs(state)
        for key, spec in out.items():
            digest = style_digest(key)
            if digest is not None and self.render_images:
                out[key] = EditSpec(spec.strength, spec.t_edit, spec.colour, reference=self.reference_image(digest))
        return out

    def reference_image(self, digest: str) -> np.ndarray:
        """A stored reference photo (a style's), by its key; the last one read is kept."""
        cached = self.__dict__.get("_reference")
        if cached is None or cached[0] != digest:
            cached = (digest, decode_image_bytes(self.store.read_blob(digest), "stored reference photo"))
            self._reference = cached
        return cached[1]

    def store_reference(self, image: np.ndarray) -> str:
        """Store a reference photo for a style of this session; returns the style's edit-state key."""
        from ..models.base import STYLE_PREFIX

        return STYLE_PREFIX + self.store.put_reference(self.session_id, encode_png(image), owner=self.owner)

    def render(self, state: dict) -> np.ndarray:
        self.stage(f"Rendering {describe(state)}")
        return self.engine.generator.decode(self.source, self.latent(), self._specs(state))

    def evaluate(self, image: np.ndarray, state: dict, parent_state: dict) -> Evaluation:
        """Identity against the source; direction for every attribute this edit set or changed."""
        self.stage("Checking identity, direction and realism")
        lat = self.latent()
        ident = self.engine.identity.score(self.source, image, lat)
        same = ident.same_person if self.thresholds.identity_distance is None else ident.distance < self.thresholds.identity_distance
        direction, ok = {}, {}
        old = strengths(parent_state)
        for attr, s in strengths(state).items():
            if old.get(attr) == s:
                continue
            digest = style_digest(attr)
            towards = self.engine.direction.towards(self.source, image, self.reference_image(digest)) if digest is not None else None
            if towards is not None:  # a style: how far the render went towards the reference's look
                direction[attr], ok[attr] = towards, towards >= self.thresholds.direction
                continue
            text_a, text_b = self.vocab.text_pair(attr, s)
            d = self.engine.direction.direction(self.source, image, text_a, text_b, attribute=attr, strength_sign=s, face_hint=lat)
            direction[attr] = d
            ok[attr] = d >= self.thresholds.direction
        rule = (
            self.engine.identity.criterion
            if self.thresholds.identity_distance is None
            else f"{self.engine.identity.name} distance < {self.thresholds.identity_distance} (configured)"
        )
        box = lat.meta.get("box")
        face_size = max(box[2] - box[0], box[3] - box[1]) if box else None
        realism = (
            self.engine.realism.score(self.source, image, self.face_region(), face_size=face_size, landmarks=lat.arrays.get("landmarks"))
            if direction
            else None
        )
        return Evaluation(ident.similarity, ident.distance, same, direction, ok, rule, self.thresholds.direction, realism)

    def face_region(self) -> tuple[int, int, int, int] | None:
        """The bounding box of the engine's edit region (where realism is judged); None for the whole photo.

        It depends only on the photo and its one inversion, so it is computed once per editor.
        """
        if not hasattr(self, "_face_region"):
            self._face_region = self.engine.generator.edit_box(self.source, self.latent())
        return self._face_region

    # -- memory -------------------------------------------------------------
    def head(self) -> NodeInfo:
        return self.store.head(self.session_id, owner=self.owner)

    def node(self, seq: int | None) -> NodeInfo:
        return self.head() if seq is None else self.store.node(self.session_id, seq, owner=self.owner)

    def image_of(self, node: NodeInfo) -> np.ndarray:
        if node.image_blob is None and self.render_images:
            return self.render(node.state)
        return decode_node_image(self.store.read_blob(self._blob_of(node)), lambda: self.source, self.info.source_blob, f"node {node.seq}")

    @staticmethod
    def _blob_of(node: NodeInfo) -> str:
        if node.image_blob is None:
            raise ChatfaceError(f"node {node.seq} has no stored image")
        return node.image_blob

    def png_of(self, node: NodeInfo) -> bytes:
        """The node's whole image as PNG bytes: the stored blob itself when it is the whole photo (not decoded and
        re-encoded), the composed photo when the node stores only the part its edit changed."""
        if node.image_blob is None and self.render_images:
            return encode_png(self.render(node.state))
        data = self.store.read_blob(self._blob_of(node))
        return encode_png(self.image_of(node)) if is_patch(data) else data

    def preview_png(self, node: NodeInfo, longest: int = PREVIEW_SIDE) -> bytes:
        """The node's image at screen size, as PNG (what a client shows; export writes the full size)."""
        return encode_png(fit_within(self.image_of(node), longest))

    def commit(
        self,
        *,
        action: str,
        request: str,
        state: dict,
        image: np.ndarray | None,
        evaluation: Evaluation | None,
        expected_head: int | None = None,
        note: str = "",
    ) -> NodeInfo:
        """Store an edit as the new head; ``image`` None (an unrendered session) points the node at the source."""
        scores = evaluation.as_dict() if evaluation is not None else {}
        attempts = [evaluation.attempt(state, kept=True, note=note or "first render")] if evaluation is not None else []
        return self._commit(action, request, state, scores, image, attempts, expected_head)

    def commit_checked(self, *, action: str, request: str, result: "SelfCheckResult", expected_head: int) -> NodeInfo:
        """Store a checked edit (the self-check's kept render and every attempt) as the new head, in one transaction,
        only if the head is still ``expected_head`` (ConcurrentEditError otherwise, and nothing is stored)."""
        return self._commit(action, request, result.kept_state, result.evaluation.as_dict(), result.image, result.records, expected_head)

    def _commit(
        self,
        action: str,
        request: str,
        state: dict,
        scores: dict,
        image: np.ndarray | None,
        attempts: list[AttemptRecord],
        expected_head: int | None,
    ) -> NodeInfo:
        return self.store.commit_edit(
            self.session_id,
            action=action,
            request=request,
            state=state,
            scores=scores,
            image_png=encode_node_image(image, self.source, self.info.source_blob) if image is not None else None,
            image_key=None if image is not None else self.info.source_blob,
            image_shape=list(image.shape) if image is not None else None,
            attempts=attempts,
            owner=self.owner,
            expected_head=expected_head,
        )

    def commit_reset(self, request: str = "") -> NodeInfo:
        return self.store.commit_edit(
            self.session_id,
            action="reset",
            request=request,
            state={},
            scores={},
            image_png=None,
            image_key=self.info.source_blob,
            owner=self.owner,
        )
