"""LastmileApplication use cases on the in-memory store: registry, orders, the lifecycle, writes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.application import LastmileApplication
from domain.errors import (
    AlreadyExistsError,
    NotFoundError,
    SegregationOfDutiesError,
    StaleVersionError,
    TransitionError,
    ValidationError,
)
from domain.findings import Finding, finding_id
from domain.registry import department_id
from domain.values import Actor, Role
from domain.views import CommandResult
from tests.application.builders import (
    CLERK,
    EVALUATOR,
    ORDER_REF,
    SCHEDULER,
    SHA_A,
    SHA_B,
    VERIFIER,
    Clock,
    at,
    attach,
    draft,
    order,
)


def stored(app: LastmileApplication) -> int:
    """How many events the store holds (its highest notification id)."""
    return app.recorder.max_notification_id() or 0


# -- departments and evaluations ----------------------------------------------------------


def test_register_department_and_evaluation(app: LastmileApplication) -> None:
    department = app.register_department(EVALUATOR, "slj", "县水利局", "slj@lx.gov.cn")
    evaluation = app.record_evaluation(
        EVALUATOR,
        ref="LX-2025-PJ-001",
        title="评价",
        year=2025,
        object_type="department",
        department="slj",
        budget_amount=Decimal("100.00"),
        score=Decimal("90"),
    )

    assert (department.id, department.code) == (department_id("SLJ"), "SLJ")
    assert app.department("SLJ") == department
    assert (evaluation.department, evaluation.grade, evaluation.object_type) == (
        "SLJ",
        "优",
        "department",
    )
    assert app.evaluation("LX-2025-PJ-001") == evaluation
    assert stored(app) == 2


def test_registering_a_department_code_twice_is_refused(registered: LastmileApplication) -> None:
    before = stored(registered)

    with pytest.raises(AlreadyExistsError, match="Department SLJ is already registered"):
        registered.register_department(EVALUATOR, " slj ", "另一个水利局")

    assert stored(registered) == before
    assert registered.department("SLJ").name == "县水利局"


def test_recording_an_evaluation_twice_is_refused(registered: LastmileApplication) -> None:
    before = stored(registered)

    with pytest.raises(AlreadyExistsError, match="Evaluation LX-2025-PJ-001 is already recorded"):
        registered.record_evaluation(
            EVALUATOR,
            ref="LX-2025-PJ-001",
            title="重复",
            year=2025,
            object_type="project",
            department="SLJ",
            budget_amount=Decimal("1"),
            score=Decimal("50"),
        )

    assert stored(registered) == before


def test_an_evaluation_for_an_unknown_department_is_refused(app: LastmileApplication) -> None:
    with pytest.raises(NotFoundError, match="Department CZJ does not exist"):
        app.record_evaluation(
            EVALUATOR,
            ref="LX-2025-PJ-009",
            title="评价",
            year=2025,
            object_type="policy",
            department="czj",
            budget_amount=Decimal("1"),
            score=Decimal("50"),
        )

    assert stored(app) == 0


def test_unknown_department_and_evaluation_are_not_found(registered: LastmileApplication) -> None:
    with pytest.raises(NotFoundError, match="Department CZJ does not exist"):
        registered.department("CZJ")
    with pytest.raises(NotFoundError, match="Evaluation LX-0 does not exist"):
        registered.evaluation("LX-0")


# -- issuing orders -----------------------------------------------------------------------


def test_issue_order_saves_every_finding(registered: LastmileApplication) -> None:
    before = stored(registered)

    ids = registered.issue_order(EVALUATOR, order(draft("1"), draft("2"), draft("3")))

    assert ids == [finding_id(ORDER_REF, ref) for ref in ("1", "2", "3")]
    assert stored(registered) == before + 3
    views = [registered.finding(i) for i in ids]
    assert {(v.status, v.version, v.department, v.evaluation) for v in views} == {
        ("issued", 1, "SLJ", "LX-2025-PJ-001")
    }
    assert registered.finding_by_ref(ORDER_REF, "2") == views[1]


def test_issuing_the_same_order_again_is_refused_and_stores_nothing(
    registered: LastmileApplication,
) -> None:
    registered.issue_order(EVALUATOR, order(draft("1"), draft("2")))
    before = stored(registered)

    # The same order again, even with an extra finding, adds nothing.
    with pytest.raises(AlreadyExistsError, match=r"Finding 1 of order .* was already issued"):
        registered.issue_order(EVALUATOR, order(draft("3"), draft("1")))

    assert stored(registered) == before
    with pytest.raises(NotFoundError):
        registered.finding_by_ref(ORDER_REF, "3")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"department": "CZJ"}, "Department CZJ does not exist"),
        ({"evaluation": "LX-0"}, "Evaluation LX-0 does not exist"),
    ],
)
def test_issue_order_needs_a_known_department_and_evaluation(
    registered: LastmileApplication, overrides: dict[str, str], message: str
) -> None:
    before = stored(registered)

    with pytest.raises(NotFoundError, match=message):
        registered.issue_order(EVALUATOR, order(**overrides))

    assert stored(registered) == before


def test_one_bad_finding_stores_none_of_the_order(registered: LastmileApplication) -> None:
    before = stored(registered)

    with pytest.raises(ValidationError, match="Finding 2: the description is required"):
        registered.issue_order(EVALUATOR, order(draft("1"), draft("2", description="")))

    assert stored(registered) == before


# -- the lifecycle ------------------------------------------------------------------------


def test_full_lifecycle_from_issue_to_reopened_and_verified_again(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    app = registered

    # The department signs, uploads evidence and submits.
    clock.set("2025-09-26 10:00")
    app.acknowledge(finding, CLERK, "张三", "按月报送")
    clock.set("2025-10-09 10:00")
    app.report_progress(finding, CLERK, "资金已清理一半", 50)
    attach(app, finding, SHA_A)
    app.submit_rectification(finding, CLERK, "收回资金", [SHA_A], Decimal("120000.00"), 1)
    assert app.finding(finding).status == "rectified"

    # The evaluator sends it back; the department adds evidence and resubmits.
    clock.set("2025-10-10 10:00")
    app.reject(finding, VERIFIER, "缺少银行回单")
    assert (app.finding(finding).status, app.finding(finding).rejections) == ("acknowledged", 1)
    attach(app, finding, SHA_B)
    app.submit_rectification(finding, CLERK, "补充回单", [SHA_A, SHA_B])

    # A different evaluator accepts it.
    clock.set("2025-10-13 10:00")
    result = app.verify(finding, VERIFIER, "材料齐全")
    view = app.finding(finding)
    assert (view.status, view.submissions, view.version) == ("verified", 2, result.version)

    # 回头看: reopened, fresh evidence, submitted and verified again.
    clock.set("2025-12-01 10:00")
    app.reopen(finding, EVALUATOR, "回头看发现问题反弹")
    assert (app.finding(finding).status, app.finding(finding).cycle) == ("acknowledged", 2)
    with pytest.raises(ValidationError, match="uploaded since then"):
        app.submit_rectification(finding, CLERK, "同上", [SHA_A])
    attach(app, finding, SHA_A)
    app.submit_rectification(finding, CLERK, "重新整改", [SHA_A])
    app.verify(finding, VERIFIER, "")

    assert [e.type for e in app.history(finding)] == [
        "Issued",
        "Acknowledged",
        "ProgressReported",
        "EvidenceAttached",
        "Rectified",
        "Rejected",
        "EvidenceAttached",
        "Rectified",
        "Verified",
        "Reopened",
        "EvidenceAttached",
        "Rectified",
        "Verified",
    ]
    final = app.finding(finding)
    assert (final.status, final.cycle, final.submissions, final.rejections) == ("verified", 2, 3, 1)
    assert [(e.sha256, e.cycle) for e in final.evidence] == [(SHA_A, 2), (SHA_B, 1)]


def test_commands_on_an_unknown_finding_are_not_found(registered: LastmileApplication) -> None:
    unknown = uuid4()

    with pytest.raises(NotFoundError, match=f"Finding {unknown} does not exist"):
        registered.acknowledge(unknown, CLERK, "张三")
    with pytest.raises(NotFoundError):
        registered.finding(unknown)
    with pytest.raises(NotFoundError):
        registered.history(unknown)
    # A department's id is not a finding's.
    with pytest.raises(NotFoundError):
        registered.acknowledge(department_id("SLJ"), CLERK, "张三")


def test_a_refused_command_stores_nothing(registered: LastmileApplication, finding: UUID) -> None:
    registered.acknowledge(finding, CLERK, "张三")
    before = stored(registered)

    with pytest.raises(TransitionError, match="Cannot acknowledge: the finding is acknowledged"):
        registered.acknowledge(finding, CLERK, "李四")
    with pytest.raises(ValidationError, match="at least one evidence item"):
        registered.submit_rectification(finding, CLERK, "措施", [])

    assert stored(registered) == before
    assert registered.finding(finding).responsible_person == "张三"


def test_a_command_that_changes_nothing_reports_no_position(
    registered: LastmileApplication, finding: UUID
) -> None:
    first = registered.attach_evidence(finding, CLERK, SHA_A, "a.pdf", 1, "application/pdf")

    again = registered.attach_evidence(finding, CLERK, SHA_A, "a.pdf", 1, "application/pdf")

    assert first.position == stored(registered)
    assert (again.version, again.position) == (first.version, None)


def test_a_stale_expected_version_is_refused_and_stores_nothing(
    registered: LastmileApplication, finding: UUID
) -> None:
    # Two people load version 1; the first acknowledges.
    result = registered.acknowledge(finding, CLERK, "张三", expected_version=1)
    before = stored(registered)

    # The second acts on the version they saw.
    with pytest.raises(StaleVersionError, match="you acted on version 1, it is now at version 2"):
        registered.report_progress(finding, CLERK, "进展", 10, expected_version=1)

    assert stored(registered) == before
    assert result.version == 2
    assert registered.report_progress(finding, CLERK, "进展", 10, expected_version=2).version == 3


def test_segregation_of_duties_holds_after_the_finding_is_reloaded(
    registered: LastmileApplication, finding: UUID
) -> None:
    li_for_department = Actor("li.both", Role.DEPARTMENT)
    li_as_evaluator = Actor("li.both", Role.EVALUATOR)
    registered.acknowledge(finding, li_for_department, "李")
    attach(registered, finding)
    registered.submit_rectification(finding, CLERK, "措施", [SHA_A])
    before = stored(registered)

    # Every command reloads the finding from its stored events.
    with pytest.raises(SegregationOfDutiesError, match=r"li\.both acted for the department"):
        registered.verify(finding, li_as_evaluator, "通过")

    assert stored(registered) == before
    assert registered.finding(finding).status == "rectified"


def test_a_finding_saved_and_read_back_has_the_same_state(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    # Work on a loaded copy, save it, and read it back from the stored events.
    aggregate: Finding = registered.repository.get(finding)
    aggregate.acknowledge(CLERK, at("2025-09-26 10:00"), "张三", "")
    aggregate.attach_evidence(CLERK, at("2025-09-27 10:00"), SHA_A, "a.pdf", 9, "a/pdf")
    aggregate.request_extension(CLERK, at("2025-09-28 10:00"), at("2025-11-30").date(), "汛期")
    aggregate.escalate(SCHEDULER, at("2025-09-29 10:00"), 1, "督办", "overdue-1wd")
    aggregate.record_reminder(SCHEDULER, at("2025-09-29 10:00"), "due", ["a@x.cn"], "due-5wd")
    aggregate.submit_rectification(CLERK, at("2025-09-30"), "措施", [SHA_A], Decimal("1.5"), 2)
    registered.save(aggregate)

    reloaded: Finding = registered.repository.get(finding)

    assert reloaded.__dict__ == aggregate.__dict__


# -- concurrency --------------------------------------------------------------------------


def test_concurrent_reminders_on_one_finding_are_all_recorded(
    registered: LastmileApplication, finding: UUID, clock: Clock
) -> None:
    keys = [f"overdue-week-{n}" for n in range(20)]
    start = threading.Barrier(len(keys))
    attempts: list[str] = []

    def slow_clock() -> datetime:
        # Read once per attempt, between loading the finding and saving it: the pause makes
        # the writers overlap.
        attempts.append(threading.current_thread().name)
        time.sleep(0.002)
        return clock()

    def remind(key: str) -> CommandResult:
        start.wait()
        return registered.record_reminder(finding, SCHEDULER, "overdue", [], key)

    # Twenty writers race on the same finding.
    registered.clock = slow_clock
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        results = list(pool.map(remind, keys))

    reminders = [e for e in registered.history(finding) if e.type == "ReminderSent"]
    assert sorted(e.fields["key"] for e in reminders) == sorted(keys)
    assert sorted(r.version for r in results) == list(range(2, 22))
    assert registered.finding(finding).version == 21
    assert len(attempts) > len(keys)  # saves really collided and were retried
