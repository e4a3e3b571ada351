"""The root of chatface's own errors: what a caller reports to the user as one line, never as a traceback.

Each layer raises its own subclass (a missing session, a photo without a
face, an unreachable planner); an entry point catches ``ChatfaceError``
(plus ValueError and OSError for bad arguments and files) without importing
the layers that raise them.
"""

from __future__ import annotations


class ChatfaceError(Exception):
    """An error whose message is meant for the user."""


class MissingExtraError(ChatfaceError):
    """A command needs a package of an optional extra that is not installed."""
