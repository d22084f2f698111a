"""Findings this process saved last, so the next command on them need not reload."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")


class CommandCache(Generic[T]):
    """A bounded, thread-safe cache from which an entry is *taken*, never shared.

    A command takes the aggregate out, acts on it and puts it back only after a successful
    save, so two threads never mutate one object. A cached aggregate may be older than the
    store (another process wrote since): the save then collides on its version, and the
    command reloads and tries again, so staleness costs a retry, never a wrong write.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[UUID, T] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: UUID) -> T | None:
        with self._lock:
            return self._entries.pop(key, None)

    def peek(self, key: UUID) -> T | None:
        """Look without taking: only for attributes that never change once set."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: UUID, value: T) -> None:
        if self.maxsize <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
