"""Lastmile processes for fault tests: `lastmile serve` and `lastmile worker` on one store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from adapters.settings import Settings
from tests.smtp import HOST, free_port


def lastmile_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `lastmile` process on this store, extra LASTMILE_* on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LASTMILE_")}
    env["LASTMILE_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["LASTMILE_DATABASE_URL"] = settings.database_url
    return {**env, **extra}


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


class Server:
    """One `lastmile serve` process on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = log
        self.process = start(env, log, "serve", "--host", HOST, "--port", str(self.port))

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.url} exited: {self.log.read_text()}")
            try:
                if httpx2.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.url} never answered: {self.log.read_text()}")

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it does not go."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
