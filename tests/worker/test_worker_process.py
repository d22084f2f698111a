"""Two `lastmile worker` processes on one store: the second waits, then takes over cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from adapters.bootstrap import bootstrap
from adapters.settings import Settings


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a worker on this store; extra LASTMILE_* settings (e.g. short
    intervals: LASTMILE_SCAN_MINUTES=0.05, LASTMILE_MAIL_SEND_SECONDS=1) go on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LASTMILE_")}
    env["LASTMILE_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["LASTMILE_DATABASE_URL"] = settings.database_url
    return {**env, **extra}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def log_actions(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def wait_for_action(log: Path, action: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in log_actions(log):
            if entry.get("action") == action:
                return entry
        time.sleep(0.1)
    raise AssertionError(f"{log.name} never logged {action}: {log.read_text(encoding='utf-8')}")


def test_a_second_worker_waits_for_the_first_and_takes_over_after_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    env = worker_env(settings)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_worker(env, first_log)
    second = None
    try:
        wait_for_action(first_log, "scan_done")
        second = start_worker(env, second_log)

        waiting = wait_for_action(second_log, "lock_wait")
        assert f"lastmile-worker {socket.gethostname()} pid {first.pid}" in waiting["message"]
        assert "waiting for the worker lock held by" in waiting["message"]
        time.sleep(1)
        assert "worker_started" not in {e.get("action") for e in log_actions(second_log)}

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        assert {"worker_stopped", "lock_released"} <= {e["action"] for e in log_actions(first_log)}

        wait_for_action(second_log, "worker_started")
        wait_for_action(second_log, "scan_done")
        system = bootstrap(settings)
        status = system.worker_status.read()
        system.close()
        assert status is not None
        assert status["pid"] == second.pid

        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
