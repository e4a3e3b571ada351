"""The seams between tools and models: Generator, IdentityScorer, DirectionScorer.

Every engine (the offline landmark engine, the diffusion h-space engine) and
every scorer implements these, so tools, agent and memory never depend on
which one is selected. Images are ``uint8`` RGB arrays of shape (H, W, 3).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

import numpy as np

from ..errors import (
    WHY_NEEDS_TEXT,
    WHY_NO_COLOUR,
    WHY_NO_STYLE,
    WHY_NOT_AVAILABLE,
    WHY_ONE_DIRECTION,
    ChatfaceModelError,
    ImageError,  # noqa: F401 - named here too
    NoFaceError,  # noqa: F401 - named here too
    UnsupportedAttributeError,
    Why,
)

if TYPE_CHECKING:
    from .scorers.realism import RealismScorer


TEXT_CONCEPT_PREFIX = "text:"


def concept_text(key: str) -> str | None:
    """The free text of an edit-state key made for a text concept ("text:a pirate hat" -> "a pirate hat"); None for an attribute id.

    Free-text concepts live in the same cumulative state as attribute ids, under this prefix, so that
    memory, undo and the self-check treat them alike; only engines that accept text
    (``Generator.accepts_text``) render them.
    """
    return key[len(TEXT_CONCEPT_PREFIX) :] if key.startswith(TEXT_CONCEPT_PREFIX) else None


STYLE_PREFIX = "style:"
STYLE_T_EDIT = 400  # a style's injection steps, t >= 400 of 1000 (our choice for content injection: not yet checked on real weights)
STYLE_LABEL = "the reference photo's style"


def style_digest(key: str) -> str | None:
    """The reference photo's key (the sha256 of its stored PNG) of an edit-state key made for a style ("style:<sha256>");
    None for any other key.

    A style taken from a reference photo lives in the cumulative state like an attribute, under this prefix, so memory,
    undo and the self-check treat it alike, and the key names the stored reference the node re-renders from. Only
    engines that take a style (``Generator.takes_style``) render it.
    """
    return key[len(STYLE_PREFIX) :] if key.startswith(STYLE_PREFIX) else None


@dataclass(frozen=True)
class EditSpec:
    """One attribute of a cumulative edit state: signed strength in [-1, 1] and T_edit; ``colour`` ("#rrggbb"), the
    colour to paint where an engine takes one (``Generator.takes_colour``: the offline lipstick, from a reference's lips);
    ``reference``, for a style key, the reference photo's pixels (uint8 RGB), read from memory by the caller."""

    strength: float
    t_edit: int
    colour: str | None = None
    reference: np.ndarray | None = field(default=None, compare=False, repr=False)


EditState = Mapping[str, EditSpec]


@dataclass
class Latent:
    """What ``invert`` computes once per source photo and every ``decode`` reuses.

    ``arrays`` hold the numeric content (a noise map, landmarks, masks); ``meta``
    JSON-able facts (engine, model id, face box). Memory stores both as blobs.
    """

    engine: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


class Generator(ABC):
    """Inverts a photo once, then decodes it with a cumulative edit state."""

    name: str = "generator"
    accepts_text: bool = False  # whether free-text concepts ("text:..." keys, see concept_text) can be rendered
    takes_style: bool = False  # whether a style from a reference photo ("style:..." keys, see style_digest) can be rendered

    @abstractmethod
    def invert(self, image: np.ndarray, face_index: int | None = None) -> Latent:
        """Find the face (``face_index`` in size order, largest first; None: the engine's configured one) and invert it once."""

    @abstractmethod
    def decode(self, image: np.ndarray, latent: Latent, edits: EditState) -> np.ndarray:
        """Render the source photo ``image`` with the full cumulative ``edits``.

        Always from the source and its one inversion, never from a previous edit.
        Raises UnsupportedAttributeError for attributes it cannot render.
        """

    batches: bool = False  # whether decode_batch shares work between requests (else it decodes them one by one)

    def decode_batch(self, requests: list[tuple[np.ndarray, "Latent", EditState]]) -> list[np.ndarray | ChatfaceModelError]:
        """``decode`` of each (image, latent, edits); a request's own error is returned in its place, so one bad
        request does not fail the others. Engines that can share work between photos override it."""
        out: list[np.ndarray | ChatfaceModelError] = []
        for image, latent, edits in requests:
            try:
                out.append(self.decode(image, latent, edits))
            except ChatfaceModelError as exc:
                out.append(exc)
        return out

    def active_edits(self, image: np.ndarray, latent: Latent, edits: EditState) -> dict[str, EditSpec]:
        """The non-zero edits of ``edits``, after checking this engine can render them and ``latent`` is this photo's.

        An empty result means the render is the photo itself.
        """
        self.check_supported(edits)
        active = {a: s for a, s in edits.items() if s.strength != 0}
        if active and latent.meta.get("image_size") != [image.shape[1], image.shape[0]]:
            raise NoFaceError("the latent was computed for a different photo")
        return active

    def edit_region(self, image: np.ndarray, latent: Latent) -> np.ndarray | None:
        """Boolean mask (H, W) of the pixels an edit may change; None when an edit may change any pixel."""
        return None

    def edit_box(self, image: np.ndarray, latent: Latent) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1): the bounding box of ``edit_region``; None when an edit may change any pixel (or none).
        An engine that knows its box without drawing the mask says so here: a mask of a 24-megapixel photo costs."""
        mask = self.edit_region(image, latent)
        if mask is None:
            return None
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            return None
        return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1

    def takes_colour(self, attribute: str) -> bool:
        """Whether this engine paints ``attribute`` in a colour it is given (EditSpec.colour); none does by default."""
        return False

    def colour_for(self, attribute: str, seen_rgb: tuple[int, int, int]) -> str:
        """The colour ("#rrggbb") to paint ``attribute`` in so that it looks like ``seen_rgb`` on a photo (an engine that
        takes colours says how its paint mixes; by default the colour itself)."""
        return "#{:02x}{:02x}{:02x}".format(*seen_rgb)

    def default_t_edit(self, attribute: str) -> int | None:
        """The T_edit this engine's model of ``attribute`` was made for, when it knows one (else the vocabulary's)."""
        return None

    def edited_by(self, attribute: str) -> str | None:
        """How ``attribute`` is edited when it is not this engine's usual way, in words for the reply (the diffusion
        engine's DeltaEdit mapper for an attribute with no network); None for the usual way."""
        return None

    @abstractmethod
    def supported_attributes(self) -> dict[str, tuple[bool, bool]]:
        """attribute id -> (positive direction supported, negative direction supported)."""

    def check_supported(self, edits: EditState) -> None:
        supported = self.supported_attributes()
        bad: dict[str, str] = {}
        for attr, spec in edits.items():
            if spec.strength == 0:
                continue
            if style_digest(attr) is not None:
                if not self.takes_style:
                    bad[attr] = Why("a style from a reference photo needs the diffusion engine (--engine diffusion)", WHY_NO_STYLE)
                elif spec.reference is None:
                    bad[attr] = Why("the reference photo of this style was not given to the engine", WHY_NO_STYLE)
                elif spec.strength < 0:
                    bad[attr] = Why("a style is taken from a reference, never taken away (undo removes it)", WHY_ONE_DIRECTION)
                continue
            if concept_text(attr) is not None:
                if not self.accepts_text:
                    bad[attr] = Why("free-text concepts need a text-driven engine (--engine ledits)", WHY_NEEDS_TEXT)
                continue
            if attr not in supported:
                bad[attr] = Why("not available", WHY_NOT_AVAILABLE)
                continue
            if spec.colour is not None and not self.takes_colour(attr):
                bad[attr] = Why(f"the {self.name} engine paints {attr} in its own colour, not one from a reference", WHY_NO_COLOUR)
                continue
            pos, neg = supported[attr]
            if spec.strength > 0 and not pos:
                bad[attr] = Why("only the negative direction is available", WHY_ONE_DIRECTION)
            if spec.strength < 0 and not neg:
                bad[attr] = Why("the negative direction (removal/reduction) is not available", WHY_ONE_DIRECTION)
        if bad:
            raise UnsupportedAttributeError(bad)


@dataclass(frozen=True)
class IdentityScore:
    similarity: float  # cosine of the two face embeddings
    distance: float  # the scorer's native distance
    same_person: bool  # by the scorer's native criterion


class IdentityScorer(ABC):
    name: str = "identity"

    @property
    def criterion(self) -> str:
        """The scorer's own same-person rule, in words (reported with every check)."""
        return self.name

    @abstractmethod
    def score(self, image_a: np.ndarray, image_b: np.ndarray, face_hint: Latent | None = None) -> IdentityScore: ...

    def similarity(self, image_a: np.ndarray, image_b: np.ndarray) -> float:
        return self.score(image_a, image_b).similarity


class DirectionScorer(ABC):
    """How far image_b moved from image_a in the direction text_a -> text_b.

    Scores are signed, about in [-1, 1]; positive means the change goes the
    requested way.
    """

    name: str = "direction"

    @abstractmethod
    def direction(
        self,
        image_a: np.ndarray,
        image_b: np.ndarray,
        text_a: str,
        text_b: str,
        attribute: str | None = None,
        strength_sign: float = 1.0,
        face_hint: Latent | None = None,
    ) -> float: ...

    def towards(self, image_a: np.ndarray, image_b: np.ndarray, reference: np.ndarray) -> float | None:
        """How far image_b moved from image_a towards ``reference`` (a style's check): signed, about in [-1, 1];
        None when this scorer has no measure between images."""
        return None


def _default_realism():
    from .scorers.realism import RealismScorer

    return RealismScorer()


@dataclass
class EngineParts:
    """An engine's generator with the scorers that check its edits."""

    generator: Generator
    identity: IdentityScorer
    direction: DirectionScorer
    model_id: str = ""
    realism: "RealismScorer" = field(default_factory=_default_realism)
