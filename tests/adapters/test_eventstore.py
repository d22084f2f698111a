"""The event store on SQLite files and on PostgreSQL: round trips, restarts, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from adapters.bootstrap import Lastmile, bootstrap
from adapters.settings import Settings
from domain.errors import AlreadyExistsError, StaleVersionError
from tests.conftest import ManualClock
from tests.support.scenario import (
    DEPARTMENT_USER,
    EVALUATOR,
    OTHER_EVALUATOR,
    issue_order,
    register_basics,
    submit,
)


def test_a_lifecycle_survives_a_restart(settings: Settings, clock: ManualClock) -> None:
    # Given a finding taken through its lifecycle by one process
    first = bootstrap(settings, clock)
    register_basics(first.app)
    finding = issue_order(first.app)[0]
    first.app.acknowledge(finding, DEPARTMENT_USER, "张建国", "按月报送")
    submit(first.app, finding)
    clock.advance(days=3)
    first.app.reject(finding, EVALUATOR, "缺少支付凭证")
    first.app.submit_rectification(finding, DEPARTMENT_USER, "补充凭证", ["e" * 64])
    first.app.verify(finding, OTHER_EVALUATOR, "同意销号")
    first.close()

    # When another process opens the same store
    second = bootstrap(settings, clock)
    view = second.app.finding(finding)
    history = second.app.history(finding)
    second.close()

    # Then it sees the same finding, every event attributed and in order
    assert (view.status, view.rejections, view.submissions, view.version) == ("verified", 1, 2, 7)
    assert [e.type for e in history] == [
        "Issued",
        "Acknowledged",
        "EvidenceAttached",
        "Rectified",
        "Rejected",
        "Rectified",
        "Verified",
    ]
    assert [e.role for e in history] == ["evaluator"] + ["department"] * 3 + ["evaluator"] + [
        "department",
        "evaluator",
    ]
    assert history[-1].actor == OTHER_EVALUATOR.user_id


def test_issuing_the_same_order_twice_is_refused_and_stores_nothing(lastmile: Lastmile) -> None:
    register_basics(lastmile.app)
    issue_order(lastmile.app)
    before = lastmile.app.recorder.max_notification_id()

    with pytest.raises(AlreadyExistsError, match="already issued"):
        issue_order(lastmile.app)

    assert lastmile.app.recorder.max_notification_id() == before


def test_an_order_is_saved_whole_or_not_at_all(lastmile: Lastmile) -> None:
    # Given finding 2 of a new order already exists (issued under the same 文号 earlier)
    register_basics(lastmile.app)
    issue_order(lastmile.app, ref="泸财绩〔2025〕13号", count=2)
    before = lastmile.app.recorder.max_notification_id()

    # When an order with the same 文号 and three findings is issued
    with pytest.raises(AlreadyExistsError):
        issue_order(lastmile.app, ref="泸财绩〔2025〕13号", count=3)

    # Then finding 3 was not saved either
    assert lastmile.app.recorder.max_notification_id() == before


def test_a_stale_version_is_refused_and_changes_nothing(lastmile: Lastmile) -> None:
    register_basics(lastmile.app)
    finding = issue_order(lastmile.app)[0]
    lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")

    with pytest.raises(StaleVersionError, match="version 1"):
        lastmile.app.report_progress(finding, DEPARTMENT_USER, "进展", 10, expected_version=1)

    assert lastmile.app.finding(finding).version == 2


def test_twenty_threads_acting_on_one_finding_lose_no_event(lastmile: Lastmile) -> None:
    register_basics(lastmile.app)
    finding = issue_order(lastmile.app, count=1)[0]
    lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
    start = threading.Barrier(20)
    failures: list[BaseException] = []

    def remind(n: int) -> None:
        start.wait()
        try:
            for round_ in range(3):
                key = f"thread-{n}-round-{round_}"
                lastmile.app.record_reminder(finding, EVALUATOR, "due", ["a@b.cn"], key)
        except BaseException as error:  # collected, so the assertion shows it
            failures.append(error)

    threads = [threading.Thread(target=remind, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    keys = [e.fields["key"] for e in lastmile.app.history(finding) if e.type == "ReminderSent"]
    assert sorted(keys) == sorted(f"thread-{n}-round-{r}" for n in range(20) for r in range(3))
    assert lastmile.app.finding(finding).version == 2 + 60


def test_as_of_queries_read_the_stored_history(lastmile: Lastmile, clock: ManualClock) -> None:
    register_basics(lastmile.app)
    finding = issue_order(lastmile.app)[0]
    issued_at = clock.now
    clock.advance(days=1)
    lastmile.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
    clock.advance(days=60)

    then = lastmile.app.finding(finding, as_of=issued_at + timedelta(hours=1))
    now = lastmile.app.finding(finding)

    assert (then.status, then.overdue) == ("issued", False)
    assert (now.status, now.overdue) == ("acknowledged", True)
    assert now.overdue_days > 0


def test_a_second_process_sees_no_stale_state_from_the_first(
    settings: Settings, clock: ManualClock
) -> None:
    # Given two processes on one store; the first has just acted on the finding
    first, second = bootstrap(settings, clock), bootstrap(settings, clock)
    register_basics(first.app)
    finding = issue_order(first.app, count=1)[0]
    first.app.record_reminder(finding, EVALUATOR, "unacknowledged", ["a@b.cn"], "ack-3wd")

    # When the second acknowledges it, and the first then acts on what it remembers
    second.app.acknowledge(finding, DEPARTMENT_USER, "张建国")
    first.app.report_progress(finding, DEPARTMENT_USER, "已完成一半", 50)
    first.app.record_reminder(finding, EVALUATOR, "due", ["a@b.cn"], "due-5wd")
    second.app.record_reminder(finding, EVALUATOR, "due", ["a@b.cn"], "due-1wd")
    first.app.record_reminder(finding, EVALUATOR, "due", ["a@b.cn"], "due-1wd")

    # Then every command was judged on the stored state and nothing was lost or doubled
    types = [e.type for e in second.app.history(finding)]
    first.close()
    second.close()
    assert types == [
        "Issued",
        "ReminderSent",
        "Acknowledged",
        "ProgressReported",
        "ReminderSent",
        "ReminderSent",
    ]


def test_a_stale_version_from_another_process_is_refused(
    settings: Settings, clock: ManualClock
) -> None:
    first, second = bootstrap(settings, clock), bootstrap(settings, clock)
    register_basics(first.app)
    finding = issue_order(first.app, count=1)[0]
    seen = first.app.acknowledge(finding, DEPARTMENT_USER, "张建国").version
    second.app.report_progress(finding, DEPARTMENT_USER, "进展", 10)

    with pytest.raises(StaleVersionError):
        first.app.report_progress(finding, DEPARTMENT_USER, "进展", 20, expected_version=seen)

    assert second.app.finding(finding).version == seen + 1
    first.close()
    second.close()
