"""A least-recently-used cache bounded by bytes, shared by every connection of a server.

Counting entries is no bound: one decoded 24-megapixel photo weighs as much as
a hundred small ones. Each entry's size is measured when it is stored and
again when it is used (an editor grows when its photo and inversion load), and
the oldest entries go until the total fits. An entry larger than the whole
budget is not kept at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class ByteBoundedCache(Generic[V]):
    def __init__(self, max_bytes: int, sizeof: Callable[[V], int]) -> None:
        if max_bytes < 0:
            raise ValueError("a cache's byte budget cannot be negative")
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            self._remeasure(key, found[0])
            return found[0]

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._total -= old[1]
            self._remeasure(key, value)
        return value

    def pop(self, key: Hashable) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._total -= old[1]

    @property
    def total_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._items)

    def _remeasure(self, key: Hashable, value: V) -> None:
        old = self._items.get(key)
        size = int(self._sizeof(value))
        self._total += size - (old[1] if old is not None else 0)
        self._items[key] = (value, size)
        self._items.move_to_end(key)
        while self._total > self.max_bytes and self._items:
            _, (_, dropped) = self._items.popitem(last=False)
            self._total -= dropped
