"""The root of chatface's own errors: what a caller reports to the user as one line, never as a traceback.

Each layer raises its own subclass (a missing session, a photo without a
face, an unreachable planner); an entry point catches ``ChatfaceError``
(plus ValueError and OSError for bad arguments and files) without importing
the layers that raise them.
"""

from __future__ import annotations

from typing import Mapping


class ChatfaceError(Exception):
    """An error whose message is meant for the user."""


class MissingExtraError(ChatfaceError):
    """A command needs a package of an optional extra that is not installed."""


class ChatfaceModelError(ChatfaceError):
    """Base of the errors that models raise for bad input; their message is shown to users."""


class ImageError(ChatfaceModelError):
    """The input is not a usable image (not an image, truncated, too large...)."""


class NoFaceError(ChatfaceModelError):
    """No face was found where one is needed."""


class Why(str):
    """Why an engine refuses an edit: the words (the string itself, shown to users and planners) and a ``code`` that
    code branches on instead of the words (one of the ``WHY_*`` below), so rewording a reason changes no decision.
    Pickled whole: an engine on a Ray replica gives its reasons to its caller."""

    code: str

    def __new__(cls, text: str, code: str) -> "Why":
        made = super().__new__(cls, text)
        made.code = code
        return made

    def __reduce__(self):
        return (Why, (str(self), self.code))


WHY_NOT_AVAILABLE = "not_available"  # the engine has nothing for this attribute
WHY_NO_NETWORK = "no_network"  # the diffusion engine has no h-space network for it (fetch or train one)
WHY_NO_PROMPT = "no_prompt"  # the LEDITS++ engine has no editing prompt for it
WHY_WITHDRAWN = "withdrawn"  # the engine once drew it; its version did not pass for a photograph
WHY_ONE_DIRECTION = "one_direction"  # the engine does the other direction only
WHY_NO_COLOUR = "no_colour"  # a colour taken from a reference photo, on an engine that paints its own
WHY_NEEDS_TEXT = "needs_text_engine"  # a free-text concept, on an engine that does not take text
WHY_NO_STYLE = "no_style"  # a style from a reference photo, on an engine that cannot take one


def why_code(why: str) -> str:
    """The code of a reason (a plain string, from an engine that gives none: WHY_NOT_AVAILABLE)."""
    return getattr(why, "code", WHY_NOT_AVAILABLE)


class UnsupportedAttributeError(ChatfaceModelError):
    """The engine cannot render this attribute (or this direction of it)."""

    def __init__(self, unsupported: Mapping[str, str]):
        self.unsupported = dict(unsupported)
        detail = "; ".join(f"{a}: {why}" for a, why in self.unsupported.items())
        super().__init__(f"unsupported by this engine: {detail}")

    def __reduce__(self):  # pickled whole (an engine on a Ray replica raises it to its caller)
        return (type(self), (self.unsupported,))
