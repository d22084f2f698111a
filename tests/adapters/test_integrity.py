"""Tamper detection: rows edited, deleted, reordered or inserted in SQL, outside the app."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError
from sqlalchemy import Engine, Table, select, text

from adapters.bootstrap import Lastmile, bootstrap
from adapters.settings import Settings
from domain.errors import StoreError
from tests.conftest import ManualClock
from tests.support.scenario import DEPARTMENT_USER, EVALUATOR, issue_order, register_basics

ORDER = "泸财绩〔2025〕12号"


def _engine(lastmile: Lastmile) -> Engine:
    engine = lastmile.recorder.datastore.engine
    assert isinstance(engine, Engine)
    return engine


def _sql(lastmile: Lastmile, statement: str, **params: object) -> None:
    with _engine(lastmile).begin() as connection:
        connection.execute(text(statement), params)


def _history(lastmile: Lastmile) -> list[UUID]:
    register_basics(lastmile.app)
    findings = issue_order(lastmile.app, ORDER, count=3)
    for finding in findings:
        lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
    return findings


def _events(lastmile: Lastmile) -> Table:
    table: Table = lastmile.recorder.events_record_cls.__table__
    return table


def _notification_id(lastmile: Lastmile, finding: UUID, version: int) -> int:
    events = _events(lastmile)
    query = select(events.c.id).where(
        events.c.originator_id == finding, events.c.originator_version == version
    )
    with _engine(lastmile).connect() as connection:
        return int(connection.execute(query).scalar_one())


def test_an_untouched_log_verifies_and_reports_its_head(lastmile: Lastmile) -> None:
    _history(lastmile)

    report = lastmile.verify()

    assert report.ok
    assert report.events_checked == 2 + 3 + 3
    assert len(report.head_digest) == 64


def test_the_head_digest_moves_with_every_event(lastmile: Lastmile) -> None:
    findings = _history(lastmile)
    before = lastmile.verify().head_digest

    lastmile.app.report_progress(findings[0], DEPARTMENT_USER, "进展", 50)

    assert lastmile.verify().head_digest != before


def _edit(lastmile: Lastmile, nid: int) -> None:
    new_state = '{"responsible_person":"李四","plan":""}'.encode()
    _sql(lastmile, "UPDATE lastmile_events SET state = :s WHERE id = :id", s=new_state, id=nid)


def _delete(lastmile: Lastmile, nid: int) -> None:
    _sql(lastmile, "DELETE FROM lastmile_events WHERE id = :id", id=nid)


def _swap_with_next(lastmile: Lastmile, nid: int) -> None:
    # Reorder two rows by swapping their positions in the log.
    _sql(lastmile, "UPDATE lastmile_events SET id = -1 WHERE id = :id", id=nid)
    _sql(lastmile, "UPDATE lastmile_events SET id = :id WHERE id = :next", id=nid, next=nid + 1)
    _sql(lastmile, "UPDATE lastmile_events SET id = :next WHERE id = -1", next=nid + 1)


TAMPERINGS: list[tuple[str, Callable[[Lastmile, int], None], str]] = [
    ("edited", _edit, "was changed after it was recorded"),
    ("deleted", _delete, "was deleted"),
    ("moved", _swap_with_next, "reordered"),
]


@pytest.mark.parametrize(("kind", "tamper", "wording"), TAMPERINGS, ids=[t[0] for t in TAMPERINGS])
def test_tampering_is_detected_and_names_the_event_and_finding(
    lastmile: Lastmile, kind: str, tamper: Callable[[Lastmile, int], None], wording: str
) -> None:
    # Given the acknowledgement of finding 2, stored as its version 2
    findings = _history(lastmile)
    nid = _notification_id(lastmile, findings[1], 2)

    # When someone changes the table directly
    tamper(lastmile, nid)
    report = lastmile.verify()

    # Then verification fails at that event, naming the order, the finding and the version
    assert not report.ok
    first = report.problems[0]
    assert (first.kind, first.notification_id) == (kind, nid)
    assert f"finding {ORDER} #2" in first.message
    assert "version 2" in first.message
    assert wording in first.message


def test_a_row_inserted_outside_the_application_is_detected(lastmile: Lastmile) -> None:
    findings = _history(lastmile)
    forged = (
        _events(lastmile)
        .insert()
        .values(
            originator_id=findings[0],
            originator_version=99,
            topic="lastmile:Finding.Verified",
            state=b'{"note":"forged"}',
        )
    )
    with _engine(lastmile).begin() as connection:
        connection.execute(forged)

    report = lastmile.verify()

    assert [p.kind for p in report.problems] == ["inserted"]
    assert f"finding {ORDER} #1" in report.problems[0].message


def test_a_rewritten_chain_entry_is_detected(lastmile: Lastmile) -> None:
    _history(lastmile)
    _sql(
        lastmile,
        "UPDATE lastmile_events_chain SET digest = :d WHERE notification_id = 4",
        d="0" * 64,
    )

    report = lastmile.verify()

    assert not report.ok
    assert report.problems[0].notification_id == 4


def test_writers_in_two_processes_keep_one_unbroken_chain(
    settings: Settings, clock: ManualClock
) -> None:
    first, second = bootstrap(settings, clock), bootstrap(settings, clock)
    register_basics(first.app)
    finding = issue_order(first.app, count=1)[0]

    for n in range(6):
        writer = first if n % 3 else second  # runs of writes from each, interleaved
        writer.app.record_reminder(finding, EVALUATOR, "due", ["a@b.cn"], f"key-{n}")

    report = second.verify()
    first.close()
    second.close()
    assert report.ok
    assert report.events_checked == 2 + 1 + 6


def test_a_transaction_rolled_back_after_chaining_leaves_the_chain_whole(
    lastmile: Lastmile, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = _history(lastmile)
    recorder = lastmile.recorder
    chain_events = recorder._insert_stored_events

    def chain_then_fail(*args: Any, **kwargs: Any) -> Any:
        chain_events(*args, **kwargs)
        raise OperationalError("simulated failure before commit")

    # When a save fails after its chain rows were computed, so its transaction rolls back
    monkeypatch.setattr(recorder, "_insert_stored_events", chain_then_fail)
    with pytest.raises(StoreError, match="nothing was recorded"):
        lastmile.app.report_progress(findings[0], DEPARTMENT_USER, "进展", 10)
    monkeypatch.undo()

    # Then the next saves chain onto the last committed event, not the rolled-back one
    lastmile.app.report_progress(findings[0], DEPARTMENT_USER, "进展", 20)
    lastmile.app.report_progress(findings[1], DEPARTMENT_USER, "进展", 30)
    assert lastmile.verify().ok


def test_an_event_deleted_with_its_chain_entry_is_named_as_a_gap_not_blamed_on_the_next(
    lastmile: Lastmile,
) -> None:
    findings = _history(lastmile)
    nid = _notification_id(lastmile, findings[1], 2)
    _delete(lastmile, nid)
    _sql(lastmile, "DELETE FROM lastmile_events_chain WHERE notification_id = :id", id=nid)

    report = lastmile.verify()

    assert [(p.kind, p.notification_id) for p in report.problems] == [("deleted", nid + 1)]
    assert f"from event #{nid - 1} to #{nid + 1}" in report.problems[0].message


def test_events_cut_from_the_end_are_found_by_an_anchor_recorded_earlier(
    lastmile: Lastmile,
) -> None:
    findings = _history(lastmile)
    anchor = lastmile.verify().head_digest
    lastmile.app.report_progress(findings[0], DEPARTMENT_USER, "进展", 10)
    # Someone removes the latest events and their chain entries, leaving a tidy chain
    nid = _notification_id(lastmile, findings[2], 2)
    _sql(lastmile, "DELETE FROM lastmile_events WHERE id >= :id", id=nid)
    _sql(lastmile, "DELETE FROM lastmile_events_chain WHERE notification_id >= :id", id=nid)

    assert lastmile.verify().ok  # the chain alone cannot tell
    report = lastmile.verify(anchors=[anchor])

    assert [p.kind for p in report.problems] == ["truncated"]
    assert anchor in report.problems[0].message


def test_writing_continues_after_the_last_event_row_was_deleted(lastmile: Lastmile) -> None:
    # A deleted last row must be reported, not make every later write fail.
    findings = _history(lastmile)
    last = lastmile.verify().head_id
    _delete(lastmile, last)

    lastmile.app.report_progress(findings[0], DEPARTMENT_USER, "进展", 10)

    assert [(p.kind, p.notification_id) for p in lastmile.verify().problems] == [("deleted", last)]


def test_verifying_while_the_application_writes_reports_no_false_alarm(lastmile: Lastmile) -> None:
    findings = _history(lastmile)
    done = threading.Event()

    def write() -> None:
        for n in range(60):
            lastmile.app.record_reminder(findings[n % 3], EVALUATOR, "due", ["a@b.cn"], f"k{n}")
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    reports = []
    while not done.is_set():
        reports.append(lastmile.verify())
    writer.join()

    assert reports
    assert [p.message for r in reports for p in r.problems] == []


def test_a_write_refused_for_a_reason_other_than_a_race_fails_at_once(lastmile: Lastmile) -> None:
    # Given a forged chain entry squatting on the id the next event will get
    findings = _history(lastmile)
    head = lastmile.verify().head_id
    _sql(
        lastmile,
        "INSERT INTO lastmile_events_chain (notification_id, originator_id, originator_version,"
        " previous_id, previous_digest, digest) VALUES (:id, 'x', 1, 0, 'x', 'x')",
        id=head + 1,
    )

    # Then the next command fails with a store error instead of retrying as if raced
    with pytest.raises(StoreError, match="refused a write"):
        lastmile.app.report_progress(findings[0], DEPARTMENT_USER, "进展", 10)
    assert lastmile.app.finding(findings[0]).version == 2
