"""A value built on first use, once, even when several requests ask at the same time (models are slow to load)."""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar, cast

T = TypeVar("T")


class Lazy(Generic[T]):
    def __init__(self, build: Callable[[], T]):
        self._build = build
        self._value: T | None = None
        self._built = False
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if not self._built:
                self._value = self._build()
                self._built = True
            return cast(T, self._value)  # built: a T (None only before)
