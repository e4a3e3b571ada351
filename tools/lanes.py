"""The background lane: heavy work (opening photos, editing big ones) on one thread of lower CPU priority.

A server shares a few cores among everyone. Opening a photo (decoding it, finding its faces, inverting) and
editing a big one cost seconds of CPU; left at the same priority as everything else, a flood of 24-megapixel
uploads from one client takes the cores from the people editing small photos. So this work runs here: one
job at a time, in the order it came, on a thread whose scheduling priority is lowered (``nice``) once when it
starts, so the operating system gives the cores to the interactive requests first and to this lane whenever
they are idle. The caller waits for its job's result, as if it had run the job itself; an exception comes
back to the caller unchanged, and the job runs in the caller's context variables.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
NICE = 10  # how much lower than the server's own threads the lane runs (0: the same; 19: only when idle)


class BackgroundLane:
    """One worker thread at ``nice`` lower priority; ``run(fn, ...)`` runs ``fn`` there and returns its result."""

    def __init__(self, name: str = "chatface-lane", nice: int = NICE) -> None:
        self.nice = nice
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name, initializer=self._lower_priority)
        self._worker: int | None = None

    def _lower_priority(self) -> None:
        self._worker = threading.get_ident()
        if not self.nice or not hasattr(os, "setpriority"):
            return
        try:  # on Linux a thread is its own scheduling entity: this lowers only the lane's thread
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + self.nice)
        except OSError as exc:  # a platform that refuses: the lane still serialises, at normal priority
            log.warning("could not lower the background lane's priority: %s", exc)

    def run(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """``fn(*args, **kwargs)`` on the lane's thread, after the jobs before it; called from the lane itself (a job
        that opens a photo and then edits it), it runs at once instead of waiting for itself."""
        if threading.get_ident() == self._worker:
            return fn(*args, **kwargs)
        # in the caller's context (contextvars): what the caller's framework keeps there, such as a web request's
        # progress bar, still works from the lane's thread
        return self._pool.submit(contextvars.copy_context().run, fn, *args, **kwargs).result()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
