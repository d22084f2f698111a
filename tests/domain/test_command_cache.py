"""The command cache hands an entry to one taker only and stays within its size."""

from __future__ import annotations

from uuid import uuid4

from domain.command_cache import CommandCache


def test_a_taken_entry_is_gone_until_put_back() -> None:
    cache: CommandCache[str] = CommandCache(maxsize=2)
    key = uuid4()
    cache.put(key, "finding v3")

    assert cache.take(key) == "finding v3"
    assert cache.take(key) is None


def test_the_least_recently_saved_entry_is_dropped_first() -> None:
    cache: CommandCache[str] = CommandCache(maxsize=2)
    first, second, third = uuid4(), uuid4(), uuid4()
    cache.put(first, "1")
    cache.put(second, "2")
    cache.put(first, "1 again")  # saved again: now the most recent
    cache.put(third, "3")

    assert (cache.take(second), cache.take(first), cache.take(third)) == (None, "1 again", "3")


def test_a_cache_of_size_zero_keeps_nothing() -> None:
    cache: CommandCache[str] = CommandCache(maxsize=0)
    key = uuid4()
    cache.put(key, "x")

    assert cache.take(key) is None
