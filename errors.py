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


class UnsupportedAttributeError(ChatfaceModelError):
    """The engine cannot render this attribute (or this direction of it)."""

    def __init__(self, unsupported: Mapping[str, str]):
        self.unsupported = dict(unsupported)
        detail = "; ".join(f"{a}: {why}" for a, why in self.unsupported.items())
        super().__init__(f"unsupported by this engine: {detail}")

    def __reduce__(self):  # pickled whole (an engine on a Ray replica raises it to its caller)
        return (type(self), (self.unsupported,))
