"""The real API in a process of its own: `lastmile serve` under uvicorn on a free loopback port.

To see where a server's time goes, set LASTMILE_BENCH_PYSPY to a directory: each server is
then sampled by py-spy (`pip install py-spy`) while it runs, only where it holds the GIL,
into DIRECTORY/server-PORT.txt as collapsed stacks (for grep, flamegraph.pl or speedscope).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from adapters.settings import Settings

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
SERVE = ("-m", "api.cli", "serve")  # `lastmile serve`, as run in production
PYSPY_ENV = "LASTMILE_BENCH_PYSPY"


@dataclass(frozen=True)
class Served:
    """A running API server: where it answers, its process, and its log file."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def health(self) -> dict[str, Any]:
        """GET /healthz: events in the log, projected position and lag."""
        answer = httpx2.get(f"{self.base_url}/healthz", timeout=30)
        answer.raise_for_status()
        health: dict[str, Any] = answer.json()
        return health

    def wait_caught_up(self, timeout: float, poll: float = 0.2) -> float:
        """Wait until the read models hold every event; the seconds it took."""
        started = time.perf_counter()
        while self.health()["lag"] > 0:
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"read models still lag after {timeout:.0f} s; see {self.log}")
            self.check_alive()
            time.sleep(poll)
        return time.perf_counter() - started

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the API server exited ({self.process.returncode}):\n{tail}")


def lastmile_env(settings: Settings) -> dict[str, str]:
    """This process's environment without LASTMILE_* variables, plus the store's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LASTMILE_")}
    env["LASTMILE_DATA_DIR"] = str(settings.data_dir.resolve())
    if settings.database_url:
        env["LASTMILE_DATABASE_URL"] = settings.database_url
    return env


def lastmile_cli(settings: Settings, *args: str) -> str:
    """Run `lastmile ARGS` (python -m api.cli) on the store; its stdout."""
    with tempfile.TemporaryDirectory(prefix="lastmile-bench-cli-") as workdir:
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            env=lastmile_env(settings),
            cwd=workdir,  # no stray .env file is read
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"lastmile {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def add_user_by_cli(settings: Settings, name: str, role: str) -> str:
    """`lastmile user add NAME --role ROLE`; the API token it prints."""
    printed = lastmile_cli(settings, "user", "add", name, "--role", role)
    token: str = json.loads(printed.strip().splitlines()[-1])["token"]
    return token


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(settings: Settings) -> Iterator[Served]:
    """Start `lastmile serve` on the store, wait for /healthz, and stop it (SIGTERM) after."""
    with tempfile.TemporaryDirectory(prefix="lastmile-bench-serve-") as workdir:
        port = free_port()
        log = Path(workdir) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, *SERVE, "--host", HOST, "--port", str(port)],
                env=lastmile_env(settings),
                cwd=workdir,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        served = Served(f"http://{HOST}:{port}", process, log)
        try:
            _wait_started(served)
            with _sampled(process, port):
                yield served
        finally:
            _stop(process)


@contextmanager
def _sampled(process: subprocess.Popen[bytes], port: int) -> Iterator[None]:
    """py-spy on the server while it serves, when LASTMILE_BENCH_PYSPY names a directory."""
    directory = os.environ.get(PYSPY_ENV)
    if not directory:
        yield
        return
    py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if py_spy is None:
        raise RuntimeError(f"{PYSPY_ENV} is set but py-spy is not installed: pip install py-spy")
    Path(directory).mkdir(parents=True, exist_ok=True)
    output = Path(directory) / f"server-{port}.txt"
    spy = subprocess.Popen(
        [py_spy, "record", "--pid", str(process.pid), "--gil", "--nonblocking",
         "--rate", "200", "--format", "raw", "--output", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        spy.wait(STOP_TIMEOUT)


def _wait_started(served: Served) -> None:
    deadline = time.perf_counter() + START_TIMEOUT
    while time.perf_counter() < deadline:
        served.check_alive()
        try:
            served.health()
        except httpx2.TransportError:
            time.sleep(0.1)
        else:
            return
    raise RuntimeError(f"the API server did not answer within {START_TIMEOUT:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
