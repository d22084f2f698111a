"""The API's read-model runner, in a thread or in a child process of its own.

Projecting an event costs about as much as the command that recorded it. In a thread it
holds the API process's one GIL, so requests waited on it; `lastmile serve` therefore runs it
in a child process. Either way it is safe beside `lastmile worker` and other API processes:
runners take turns on a lock and never apply twice.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Literal, Protocol

from adapters.bootstrap import Lastmile, bootstrap
from adapters.settings import Settings

Projecting = Literal["thread", "process", "off"]
log = logging.getLogger("lastmile.api")
RETRY_SECONDS = 5.0
STOP_SECONDS = 10.0
WATCH_SECONDS = 1.0


class Projector(Protocol):
    def stop(self) -> None: ...


def start_projector(how: Projecting, lastmile: Lastmile) -> Projector | None:
    """Keep the read models current beside the API, as `how` says; None when off."""
    if how == "thread":
        return ThreadProjector(lastmile)
    if how == "process":
        return ProcessProjector(lastmile.settings)
    return None


class ThreadProjector:
    """The runner in a daemon thread of this process."""

    def __init__(self, lastmile: Lastmile) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=project, args=(lastmile, self._stop), name="projections", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=STOP_SECONDS)


class ProcessProjector:
    """The runner in a child process (spawned: no thread or connection is inherited).

    A child that dies (killed, out of memory) is started again after RETRY_SECONDS.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self.process = self._start()
        threading.Thread(target=self._keep_running, name="projections-watch", daemon=True).start()

    def _start(self) -> SpawnProcess:
        process = self._context.Process(
            target=project_in_child,
            args=(self._settings, self._stop, os.getpid()),
            name="lastmile-projections",
            daemon=True,
        )
        process.start()
        return process

    def _keep_running(self) -> None:
        while True:
            self.process.join()
            if self._stop.wait(RETRY_SECONDS):
                return
            log.error("the projection process exited (%s); starting another", self.process.exitcode)
            self.process = self._start()

    def stop(self) -> None:
        self._stop.set()
        self.process.join(timeout=STOP_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=STOP_SECONDS)


def project(lastmile: Lastmile, stop: threading.Event) -> None:
    """Run the read models' runner until stopped; a failure is logged and retried."""
    while not stop.is_set():
        try:
            lastmile.projections.run_forever(stop)
        except Exception:  # a bad moment must not stop reports for good: log, retry
            log.exception("projecting events failed; retrying in %.0f s", RETRY_SECONDS)
            stop.wait(RETRY_SECONDS)


def project_in_child(settings: Settings, stopping: ProcessEvent, parent: int) -> None:
    """The child's whole life: project until the parent says stop, or is gone."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    stop = threading.Event()
    # Ctrl-C and systemd's SIGTERM reach the whole process group: finish the batch, then stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=_watch, args=(stopping, parent, stop), daemon=True).start()
    lastmile = bootstrap(settings)
    try:
        project(lastmile, stop)
    finally:
        lastmile.close()


def _watch(stopping: ProcessEvent, parent: int, stop: threading.Event) -> None:
    # A parent killed outright never says stop; its child is then handed to another parent.
    while not stopping.wait(WATCH_SECONDS):
        if os.getppid() != parent:
            break
    stop.set()
