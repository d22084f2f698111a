"""The projection applies every event exactly once: after a rebuild, a race or a kill -9."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, text

from adapters.bootstrap import Lastmile, bootstrap
from adapters.projections import runner as projection_runner
from adapters.projections.tables import READ_MODEL_SCHEMA, READ_MODEL_TABLES, findings, tracking
from adapters.settings import Settings
from domain.views import FindingDraft, OrderDraft
from tests.conftest import ManualClock
from tests.support.scenario import (
    DEPARTMENT_USER,
    EVALUATOR,
    SUPERVISOR,
    issue_order,
    register_basics,
    submit,
)


def dump(lastmile: Lastmile) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, in a stable order."""
    with lastmile.records.connect() as connection:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in connection.execute(select(table))),
            )
            for table in READ_MODEL_TABLES
        }


def make_history(lastmile: Lastmile, orders: int, findings_per_order: int) -> int:
    register_basics(lastmile.app)
    for n in range(orders):
        drafts = [
            FindingDraft(str(i), "", f"问题{i}", "过程/预算执行率低", "immediate", "整改")
            for i in range(1, findings_per_order + 1)
        ]
        ids = lastmile.app.issue_order(
            EVALUATOR, OrderDraft(f"泸财绩〔2025〕{n}号", "LX-2025-PJ-001", "SLJ", drafts)
        )
        for finding in ids[::2]:
            lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
    return lastmile.app.recorder.max_notification_id() or 0


def test_a_rebuild_equals_the_projection_built_as_events_came(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    register_basics(lastmile.app)
    for n in range(3):
        drafts = [FindingDraft("1", "", "问题", "过程", "immediate", "")]
        (finding,) = lastmile.app.issue_order(
            EVALUATOR, OrderDraft(f"文号{n}", "LX-2025-PJ-001", "SLJ", drafts)
        )
        lastmile.projections.catch_up()
        clock.advance(days=1)
        lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
        lastmile.projections.catch_up()
    incremental = dump(lastmile)

    lastmile.projections.rebuild()

    assert dump(lastmile) == incremental


def test_two_runners_at_once_apply_each_event_exactly_once(
    settings: Settings, clock: ManualClock
) -> None:
    small_batches = settings.model_copy(update={"projection_batch_size": 7})
    first, second = bootstrap(small_batches, clock), bootstrap(small_batches, clock)
    make_history(first, orders=4, findings_per_order=10)

    runners = [threading.Thread(target=s.projections.catch_up) for s in (first, second)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    raced = dump(first)
    first.projections.rebuild()

    assert raced == dump(first)
    first.close()
    second.close()


def test_killing_the_projection_mid_catch_up_loses_and_doubles_nothing(
    settings: Settings, clock: ManualClock
) -> None:
    # Given a log of well over a thousand events
    lastmile = bootstrap(settings, clock)
    last = make_history(lastmile, orders=10, findings_per_order=50)

    # When a rebuild in another process is killed with SIGKILL halfway through
    position_at_kill = _kill_rebuild_midway(settings, last)
    assert 0 < position_at_kill < last

    # Then resuming finishes the job with the same tables as an uninterrupted run
    lastmile.projections.catch_up()
    resumed = dump(lastmile)
    lastmile.projections.rebuild()
    assert resumed == dump(lastmile)
    assert lastmile.projections.position() == last
    lastmile.close()


def _kill_rebuild_midway(settings: Settings, last: int) -> int:
    env = {
        **os.environ,
        "LASTMILE_DATA_DIR": str(settings.data_dir),
        "LASTMILE_PROJECTION_BATCH_SIZE": "25",
    }
    if settings.database_url:
        env["LASTMILE_DATABASE_URL"] = settings.database_url
    watcher = bootstrap(settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "rebuild"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            position = watcher.projections.position()
            if last // 4 < position < last:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return watcher.projections.position()
            time.sleep(0.005)
        raise AssertionError("the rebuild never reached the middle of the log")
    finally:
        process.kill()
        watcher.close()


def test_a_store_built_under_an_older_read_model_schema_is_rebuilt_with_the_same_rows(
    settings: Settings, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Given read models built before ladder_keys existed, under no recorded schema version
    lastmile = bootstrap(settings, clock)
    last = make_history(lastmile, orders=2, findings_per_order=5)
    lastmile.projections.catch_up()
    expected = dump(lastmile)
    with lastmile.records.begin() as connection:
        for table in ("rm_findings", "rm_finding_versions"):
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN ladder_keys"))
        connection.execute(tracking.delete().where(tracking.c.projection == "schema"))
    lastmile.close()

    # When a process starts on it
    with caplog.at_level(logging.WARNING, "lastmile.projections"):
        reopened = bootstrap(settings, clock)

    # Then the read models were dropped, and catching up rebuilds the same rows
    assert reopened.projections.position() == 0
    assert "read-model schema 1 differs from" in caplog.text
    reopened.projections.catch_up()
    assert reopened.projections.position() == last
    assert dump(reopened) == expected
    reopened.close()


def test_the_current_schema_keeps_the_read_models(settings: Settings, clock: ManualClock) -> None:
    lastmile = bootstrap(settings, clock)
    last = make_history(lastmile, orders=1, findings_per_order=3)
    lastmile.projections.catch_up()
    lastmile.close()

    again = bootstrap(settings, clock)

    assert again.projections.position() == last
    with again.records.connect() as connection:
        stored = connection.execute(
            select(tracking.c.position).where(tracking.c.projection == "schema")
        ).scalar()
    assert stored == READ_MODEL_SCHEMA
    again.close()


def test_ledger_rows_keep_this_cycles_reminder_keys(lastmile: Lastmile, clock: ManualClock) -> None:
    register_basics(lastmile.app)
    (finding,) = issue_order(lastmile.app, count=1)
    lastmile.app.record_reminder(finding, SUPERVISOR, "overdue", ["a@b.cn"], "overdue-week-0:x")
    lastmile.app.record_reminder(finding, SUPERVISOR, "overdue", ["a@b.cn"], "overdue-week-1:x")
    lastmile.projections.catch_up()
    assert ladder_keys(lastmile, finding) == ["overdue-week-0:x", "overdue-week-1:x"]

    lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
    submit(lastmile.app, finding)
    lastmile.app.verify(finding, EVALUATOR, "属实")
    clock.advance(days=1)
    lastmile.app.reopen(finding, EVALUATOR, "回头看发现问题反弹")
    lastmile.projections.catch_up()

    assert ladder_keys(lastmile, finding) == []


def ladder_keys(lastmile: Lastmile, finding: UUID) -> list[str]:
    with lastmile.records.connect() as connection:
        query = select(findings.c.ladder_keys).where(findings.c.id == str(finding))
        keys: list[str] = connection.execute(query).scalar_one()
    return keys


def test_catching_up_vacuums_the_tables_batches_churn_on_postgresql(
    lastmile: Lastmile, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a history whose acknowledgements rewrote ledger rows, and a low threshold
    monkeypatch.setattr(projection_runner, "TIDY_AT_REST", 10)
    make_history(lastmile, orders=2, findings_per_order=6)

    # When the projection catches up
    with caplog.at_level(logging.INFO, "lastmile.projections"):
        lastmile.projections.catch_up()

    # Then the tables it churned were vacuumed once caught up (SQLite has nothing to vacuum)
    assert lastmile.projections.untidy == 0
    if lastmile.records.dialect.name == "postgresql":
        assert "vacuumed rm_findings, rm_scorecard_sums" in caplog.text
        assert vacuums(lastmile, "rm_findings") == (1, 1)  # (vacuums, analyses)
    assert "failed" not in caplog.text


def vacuums(lastmile: Lastmile, table: str) -> tuple[int, int]:
    query = text(
        "SELECT vacuum_count, analyze_count FROM pg_stat_user_tables WHERE relname = :table"
    )
    with lastmile.records.connect() as connection:
        row = connection.execute(query, {"table": table}).one()
    return (row.vacuum_count, row.analyze_count)


def test_an_event_the_read_models_cannot_take_stops_them_naming_it_and_applies_nothing(
    lastmile: Lastmile, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = make_history(lastmile, orders=1, findings_per_order=2)
    before = dump(lastmile)

    def broken(connection: Any, batch: Any) -> None:
        raise KeyError("a field this version does not know")

    monkeypatch.setattr(lastmile.projections.projection, "apply", broken)
    with pytest.raises(projection_runner.UnprojectableEventError) as stopped:
        lastmile.projections.catch_up()

    assert f"cannot apply events 1–{last} to the read models" in str(stopped.value)
    assert "Finding.Issued" in str(stopped.value)
    assert "KeyError" in str(stopped.value)
    assert (lastmile.projections.position(), dump(lastmile)) == (0, before)
    monkeypatch.undo()
    lastmile.projections.catch_up()  # once fixed, it goes on from where it stopped
    assert lastmile.projections.position() == last
