"""The SQLite data directory runs out of space: writes fail clearly, nothing is corrupted.

Two ways to run out: a small tmpfs mounted on the data directory (needs root), or a file size
limit (RLIMIT_FSIZE, SIGXFSZ ignored) that stops every file from growing. eventsourcing-sqlalchemy
swallows a sqlite3.OperationalError raised by COMMIT in one narrow case
(`isinstance(e.args[0], sqlite3.OperationalError)`, datastore.py): SQLAlchemy puts the message,
not the driver's exception, in args[0], so the case never matches. These tests prove it: a
commit that failed for want of space is never answered as a success.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.settings import Settings
from api.app import create_app
from api.cli import cli
from domain.errors import NotFoundError, StoreError
from domain.values import Actor, Role
from tests.api.conftest import Api, Who, start
from tests.conftest import ManualClock

pytestmark = pytest.mark.timeout(180)
# What SQLite says when a write finds no room: ENOSPC is "full"; a file size limit (EFBIG)
# surfaces as an I/O error unless part of the write fitted.
NO_ROOM = ("database or disk is full", "disk I/O error")
ADMIN = Actor("guanli.chen", Role.ADMIN)


class Disk(Protocol):
    data_dir: Path

    def fill(self) -> None: ...
    def free(self) -> None: ...


class Tmpfs:
    """A 16 MB tmpfs on the data directory; `fill` writes a file until ENOSPC."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16m", "lastmile-test", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        if mounted.returncode != 0:
            pytest.skip(
                f"cannot mount a tmpfs here ({mounted.stderr.strip()}); see the rlimit case"
            )
        self.data_dir = root / "var"
        self.filler = root / "filler"

    def fill(self) -> None:
        chunk = b"\0" * 65536
        descriptor = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while len(chunk) >= 512:
                try:
                    os.write(descriptor, chunk)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    chunk = chunk[: len(chunk) // 2]
        finally:
            os.close(descriptor)

    def free(self) -> None:
        self.filler.unlink()

    def close(self) -> None:
        subprocess.run(["umount", str(self.root)], check=True)


class FileSizeLimit:
    """No file of this process (or its children) may grow: RLIMIT_FSIZE at the largest's size."""

    def __init__(self, root: Path) -> None:
        self.data_dir = root / "var"
        self.saved = resource.getrlimit(resource.RLIMIT_FSIZE)
        self.handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death

    def fill(self) -> None:
        largest = max(p.stat().st_size for p in self.data_dir.iterdir() if p.is_file())
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest, self.saved[1]))

    def free(self) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, self.saved)

    def close(self) -> None:
        self.free()
        signal.signal(signal.SIGXFSZ, self.handler)


@pytest.fixture(params=["tmpfs", "rlimit"])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Disk]:
    made = Tmpfs(tmp_path / "disk") if request.param == "tmpfs" else FileSizeLimit(tmp_path)
    try:
        yield made
    finally:
        made.close()


def order(n: int) -> dict[str, Any]:
    findings = [
        {"ref": str(i), "description": "资金闲置" * 20, "category": "过程", "class": "immediate"}
        for i in range(1, 21)
    ]
    ref = f"泸财绩〔2026〕{n}号"
    return {"ref": ref, "evaluation": "LX-2025-PJ-001", "department": "SLJ", "findings": findings}


@dataclass(frozen=True)
class CliResult:
    returncode: int
    output: str


@pytest.fixture
def lastmile_cli(disk: Disk, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """`lastmile ARGS…` in this process (under its file size limit), on the disk's store."""
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(disk.data_dir))

    def invoke(*args: str) -> CliResult:
        result = CliRunner().invoke(cli, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result.exit_code, result.output)

    return invoke


def integrity_check(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def test_a_full_disk_refuses_writes_clearly_and_they_work_again_once_space_is_freed(
    disk: Disk, clock: ManualClock, lastmile_cli: Callable[..., CliResult]
) -> None:
    settings = Settings(_env_file=None, data_dir=disk.data_dir)  # type: ignore[call-arg]
    with TestClient(create_app(settings, clock, project_in_background=False)) as client:
        api = start(client)
        earlier = api.finding("rectified")
        head = api.system.verify().head_digest

        # When the disk fills up while orders keep coming
        disk.fill()
        answers = _post_orders_until_refused(api)
        refused = answers[-1]

        # Then the refusal is a clear problem, and only what was answered 2xx is stored
        assert refused.status_code in (503, 507), refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        if isinstance(disk, Tmpfs):
            assert (refused.status_code, refused.json()["code"]) == (507, "storage-full")
        _assert_exactly_the_acknowledged_orders_are_stored(api, answers)
        # A small write may still fit in space SQLite's files already hold: keep writing
        registered = _register_until_refused(api)
        refused_cli = _until_refused(lastmile_cli)
        assert refused_cli.returncode in (1, 2), refused_cli.output
        assert any(words in refused_cli.output for words in NO_ROOM), refused_cli.output

        # And the log is intact: earlier events, the chain, SQLite's own structure
        assert api.system.verify(anchors=[head]).ok
        assert api.view(earlier.id).status == "rectified"
        for code in registered:
            assert api.system.app.department(code).code == code

        # When space is freed, writing works again, through HTTP and the CLI
        disk.free()
        again = api.call(Who.EVALUATOR, "POST", "/api/v1/orders", json=order(999))
        assert again.status_code == 201, again.text
        added = lastmile_cli("department", "add", "JTJ", "县交通运输局")
        assert added.returncode == 0, added.output
        api.project()
        report = api.system.verify(anchors=[head])
        assert report.ok, report.problems
    verified = lastmile_cli("verify", "--expect", head)
    assert verified.returncode == 0, verified.output
    for name in ("events.sqlite3", "lastmile.sqlite3"):
        assert integrity_check(disk.data_dir / name) == "ok"


def _post_orders_until_refused(api: Api) -> list[Any]:
    answers = []
    for n in range(1, 400):
        response = api.call(Who.EVALUATOR, "POST", "/api/v1/orders", json=order(n))
        answers.append(response)
        if response.status_code != 201:
            return answers
    raise AssertionError("the disk never filled up")


def _register_until_refused(api: Api) -> list[str]:
    """Register departments in-process until the store refuses; returns those registered."""
    registered: list[str] = []
    for n in range(100):
        code = f"D{n}"
        try:
            api.system.app.register_department(ADMIN, code, f"单位{n}" * 50)
        except StoreError as error:
            message = str(error)
            break
        registered.append(code)
    else:
        raise AssertionError("the store never refused a department")
    assert any(words in message for words in NO_ROOM), message
    with pytest.raises(NotFoundError):
        api.system.app.department(code)
    return registered


def _until_refused(lastmile_cli: Callable[..., CliResult]) -> CliResult:
    for n in range(5):
        result = lastmile_cli("department", "add", f"C{n}", "县交通运输局")
        if result.returncode != 0:
            return result
    raise AssertionError("the CLI never failed to write")


def _assert_exactly_the_acknowledged_orders_are_stored(api: Api, answers: list[Any]) -> None:
    stored = {finding["id"] for answer in answers[:-1] for finding in answer.json()["findings"]}
    for finding in stored:
        assert api.view(uuid.UUID(finding)).version == 1
    events = api.system.recorder.select_notifications(start=1, limit=100_000)
    ids = {str(n.originator_id) for n in events}
    assert stored <= ids
    refused_ref = order(len(answers))["ref"]
    assert not any(refused_ref.encode() in n.state for n in events)
