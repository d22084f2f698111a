"""`lastmile report`, `rebuild` and `worker` against each real store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from tests.api.conftest import Run
from tests.conftest import ManualClock
from tests.support.scenario import DEPARTMENT_USER, issue_order, register_basics


@pytest.fixture
def demo(run: Run) -> Run:
    code, output = run("demo", "--no-serve")
    assert code == 0, output
    return run


def test_a_json_report_names_the_digest_of_the_log_it_was_built_from(
    demo: Run, settings: Settings
) -> None:
    code, output = demo("report", "departments")

    assert code == 0
    report = json.loads(output)
    system = bootstrap(settings)
    head = system.verify()
    system.close()
    assert (report["digest"], report["position"]) == (head.head_digest, head.head_id)
    assert {row["department"] for row in report["rows"]} >= {"SLJ", "JYJ", "WJJ", "NYJ", "全部"}


@pytest.mark.parametrize(
    ("kind", "fmt", "magic"),
    [
        ("ledger", "xlsx", b"PK"),
        ("departments", "pdf", b"%PDF"),
        ("accountability", "html", b"<!DOCTYPE html>"),
        ("budget-linkage", "csv", "\ufeff".encode()),
    ],
)
def test_each_report_is_written_in_each_format(
    demo: Run, tmp_path: Path, kind: str, fmt: str, magic: bytes
) -> None:
    target = tmp_path / f"report.{fmt}"

    code, output = demo("report", kind, "--format", fmt, "--output", str(target))

    assert code == 0, output
    assert target.read_bytes().startswith(magic)


def test_a_report_as_of_an_earlier_moment_reflects_fewer_events(demo: Run) -> None:
    _, now = demo("report", "ledger")
    _, earlier = demo("report", "ledger", "--as-of", "2000-01-01T00:00")

    assert json.loads(earlier)["position"] == 0
    assert json.loads(earlier)["rows"] == []
    assert json.loads(now)["position"] > 0


def test_a_binary_report_needs_a_file_and_a_bad_format_is_named(run: Run) -> None:
    assert run("report", "ledger", "--format", "xlsx")[0] == 2
    code, output = run("report", "ledger", "--format", "docx")
    assert code == 2
    assert "docx" in output


def test_rebuild_recreates_the_same_report(demo: Run) -> None:
    _, before = demo("report", "departments")
    code, output = demo("rebuild")
    _, after = demo("report", "departments")

    assert code == 0, output
    assert json.loads(after)["rows"] == json.loads(before)["rows"]


def test_the_worker_projects_new_events_and_stops_cleanly_on_sigterm(
    settings: Settings, clock: ManualClock
) -> None:
    lastmile = bootstrap(settings, clock)
    env = {**os.environ, "LASTMILE_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["LASTMILE_DATABASE_URL"] = settings.database_url
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        register_basics(lastmile.app)
        finding = issue_order(lastmile.app, count=1)[0]
        result = lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
        assert result.position is not None

        # Read-your-writes: the worker catches up with the position the command returned
        assert lastmile.projections.wait_for(result.position, timeout=20)
        rows = lastmile.read_models.ledger(lastmile.read_models.moment(clock.now)).rows
        assert [row["status"] for row in rows] == ["acknowledged"]

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        worker.kill()
        lastmile.close()
