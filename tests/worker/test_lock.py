"""One worker at a time: a second acquirer waits, says whom for, and goes on when it is free."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from adapters.settings import Settings
from adapters.worker.lock import WorkerLockError, holder_name, worker_lock


def test_a_second_acquirer_waits_until_the_first_releases(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    taken = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with worker_lock(settings):
            order.append("first in")
            taken.set()
            release.wait(10)
            order.append("first out")

    def second() -> None:
        with worker_lock(settings, log_every=0.2):
            order.append("second in")

    holder = threading.Thread(target=first)
    holder.start()
    assert taken.wait(10)
    with caplog.at_level(logging.INFO, "lastmile.worker"):
        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(1.5)
        assert order == ["first in"]  # still waiting
        release.set()
        holder.join(10)
        waiter.join(10)

    assert order == ["first in", "first out", "second in"]
    waits = [r for r in caplog.records if getattr(r, "action", None) == "lock_wait"]
    assert len(waits) >= 2  # logged again while the wait went on
    assert "waiting for the worker lock held by lastmile-worker" in waits[0].getMessage()
    assert holder_name().split(" pid ")[0] in waits[0].getMessage()


def test_waiting_ends_on_timeout_or_stop(settings: Settings) -> None:
    stop = threading.Event()
    with worker_lock(settings):
        with pytest.raises(WorkerLockError, match="gave up waiting"):  # noqa: SIM117
            with worker_lock(settings, timeout=0.3):
                pass
        threading.Timer(0.3, stop.set).start()
        with pytest.raises(WorkerLockError, match="stopped while waiting"):  # noqa: SIM117
            with worker_lock(settings, stop=stop):
                pass

    with worker_lock(settings, timeout=0):  # free again once released
        pass


def test_the_lock_is_free_again_after_an_error_inside(settings: Settings) -> None:
    with pytest.raises(RuntimeError), worker_lock(settings):
        raise RuntimeError("job failed")

    with worker_lock(settings, timeout=0) as held:
        held.check()
