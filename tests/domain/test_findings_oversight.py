"""Finding: segregation of duties, reopening (回头看), withdrawal, and replay from events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from domain.errors import SegregationOfDutiesError, TransitionError, ValidationError
from domain.findings import Finding
from domain.values import Actor, Role, Status
from tests.domain.builders import (
    CLERK,
    DEADLINE,
    EVALUATOR,
    SCHEDULER,
    SHA_A,
    SHA_B,
    STATES,
    SUPERVISOR,
    VERIFIER,
    acknowledged,
    assert_refused,
    at,
    attach,
    calculation,
    events,
    issue,
    issued,
    recorded,
    rectified,
    replay,
    submit,
    verified,
)

# Li works in the department but also holds an evaluator account.
LI_FOR_DEPARTMENT = Actor("li.both", Role.DEPARTMENT)
LI_AS_EVALUATOR = Actor("li.both", Role.EVALUATOR)
NEW_DEADLINE = calculation("2025-12-01", start="2025-10-31", rule="class:immediate")

VERDICTS: dict[str, Callable[[Finding], object]] = {
    "verify": lambda f: f.verify(LI_AS_EVALUATOR, at("2025-10-20 10:00"), "通过"),
    "reject": lambda f: f.reject(LI_AS_EVALUATOR, at("2025-10-20 10:00"), "不通过"),
}

# Each way Li can have acted for the department before the report reached an evaluator.
DEPARTMENT_ACTS: dict[str, Callable[[Finding], object]] = {
    "acknowledged": lambda f: f.acknowledge(LI_FOR_DEPARTMENT, at("2025-09-26"), "李", ""),
    "reported progress": lambda f: f.report_progress(LI_FOR_DEPARTMENT, at("2025-10-09"), "进", 5),
    "attached evidence": lambda f: f.attach_evidence(
        LI_FOR_DEPARTMENT, at("2025-10-09"), SHA_B, "b.pdf", 1, "a/pdf"
    ),
    "requested an extension": lambda f: f.request_extension(
        LI_FOR_DEPARTMENT, at("2025-10-09"), date(2025, 10, 30), "汛期"
    ),
}


def rectified_after(act: Callable[[Finding], object]) -> Finding:
    """A finding Li acted on for the department, then rectified; all its events pending."""
    finding = issue()
    if act is not DEPARTMENT_ACTS["acknowledged"]:
        finding.acknowledge(CLERK, at("2025-09-26 09:00"), "张三", "")
    act(finding)
    attach(finding, SHA_A)
    submit(finding)
    return finding


# -- segregation of duties ----------------------------------------------------------------


@pytest.mark.parametrize("verdict", VERDICTS)
@pytest.mark.parametrize("act", DEPARTMENT_ACTS)
def test_verdict_is_refused_to_a_user_who_acted_for_the_department(act: str, verdict: str) -> None:
    finding = rectified_after(DEPARTMENT_ACTS[act])
    finding.collect_events()

    assert_refused(
        finding,
        VERDICTS[verdict],
        SegregationOfDutiesError,
        "User li.both acted for the department on this finding",
    )
    assert finding.status is Status.RECTIFIED


@pytest.mark.parametrize("verdict", VERDICTS)
@pytest.mark.parametrize("act", DEPARTMENT_ACTS)
def test_verdict_is_refused_to_a_department_actor_after_replay(act: str, verdict: str) -> None:
    history = events(rectified_after(DEPARTMENT_ACTS[act]))

    rebuilt = replay(history)

    assert rebuilt.department_actors == {CLERK.user_id, LI_FOR_DEPARTMENT.user_id}
    assert_refused(rebuilt, VERDICTS[verdict], SegregationOfDutiesError, "li.both")


@pytest.mark.parametrize("verdict", VERDICTS)
def test_verdict_is_refused_when_the_department_act_was_in_an_earlier_cycle(verdict: str) -> None:
    # Cycle 1: Li submits the report for the department; another evaluator verifies it.
    finding = issued()
    finding.acknowledge(CLERK, at("2025-09-26 09:00"), "张三", "")
    attach(finding, SHA_A)
    finding.submit_rectification(
        LI_FOR_DEPARTMENT, at("2025-10-10"), "措施", [SHA_A], Decimal(0), 0
    )
    finding.verify(VERIFIER, at("2025-10-15 10:00"), "")

    # Cycle 2: only the clerk acts for the department.
    finding.reopen(SUPERVISOR, at("2025-10-31 10:00"), "回头看发现反弹", NEW_DEADLINE)
    attach(finding, SHA_B, when="2025-11-03 10:00")
    submit(finding, evidence=[SHA_B], when="2025-11-04")
    finding.collect_events()

    assert_refused(finding, VERDICTS[verdict], SegregationOfDutiesError, "li.both")


def test_a_supervisor_act_does_not_bar_the_same_user_from_verifying() -> None:
    finding = rectified()
    finding.escalate(Actor("li.both", Role.SUPERVISOR), at("2025-10-11"), 1, "督办", "manual")

    finding.verify(LI_AS_EVALUATOR, at("2025-10-15 10:00"), "")

    assert finding.status is Status.VERIFIED
    assert finding.department_actors == {CLERK.user_id}


# -- reopen -------------------------------------------------------------------------------


def test_reopen_starts_a_new_cycle_with_a_new_deadline() -> None:
    finding = verified()

    finding.reopen(EVALUATOR, at("2025-10-31 10:00"), " 回头看发现问题反弹 ", NEW_DEADLINE)

    event = recorded(finding, Finding.Reopened, EVALUATOR, at("2025-10-31 10:00"))
    assert (event.reason, event.deadline) == ("回头看发现问题反弹", NEW_DEADLINE)
    assert finding.status is Status.ACKNOWLEDGED
    assert finding.cycle == 2
    assert finding.deadline == NEW_DEADLINE
    assert finding.original_deadline == NEW_DEADLINE  # the new cycle is measured on its own
    assert finding.verified_at is None


def test_reopen_leaves_the_earlier_cycle_events_as_they_were() -> None:
    # Build the first cycle and keep its events.
    finding = issue()
    finding.acknowledge(CLERK, at("2025-09-26 10:00"), "张三", "")
    attach(finding)
    submit(finding)
    finding.verify(VERIFIER, at("2025-10-15 10:00"), "")
    first_cycle = events(finding)
    snapshot = [vars(e).copy() for e in first_cycle]

    # Reopen and work through a second cycle.
    finding.reopen(EVALUATOR, at("2025-10-31 10:00"), "回头看", NEW_DEADLINE)
    attach(finding, SHA_B, when="2025-11-03 10:00")
    submit(finding, evidence=[SHA_B], when="2025-11-04")
    second_cycle = events(finding)

    # The first cycle's events are untouched and still replay to the verified state.
    assert [vars(e) for e in first_cycle] == snapshot
    assert replay(first_cycle).status is Status.VERIFIED
    assert replay([*first_cycle, *second_cycle]).__dict__ == finding.__dict__
    assert [e.originator_version for e in second_cycle] == [6, 7, 8]


def test_evidence_from_the_earlier_cycle_alone_does_not_satisfy_a_new_submission() -> None:
    finding = verified()
    finding.reopen(EVALUATOR, at("2025-10-31 10:00"), "回头看", NEW_DEADLINE)
    events(finding)

    assert_refused(
        finding,
        lambda f: submit(f, evidence=[SHA_A], when="2025-11-04"),
        ValidationError,
        "list at least one evidence item uploaded since then",
    )


def test_the_same_file_attached_again_after_reopening_counts_for_the_new_cycle() -> None:
    finding = verified()
    finding.reopen(EVALUATOR, at("2025-10-31 10:00"), "回头看", NEW_DEADLINE)
    events(finding)

    # Re-attaching the same content in the new cycle is recorded, then it can be listed.
    attach(finding, SHA_A, when="2025-11-03 10:00")
    assert [type(e) for e in events(finding)] == [Finding.EvidenceAttached]
    assert finding.evidence[SHA_A].cycle == 2
    submit(finding, evidence=[SHA_A], when="2025-11-04")

    assert finding.status is Status.RECTIFIED
    assert finding.submissions == 2


def test_old_cycle_evidence_may_be_listed_beside_new_evidence() -> None:
    finding = verified()
    finding.reopen(EVALUATOR, at("2025-10-31 10:00"), "回头看", NEW_DEADLINE)
    attach(finding, SHA_B, when="2025-11-03 10:00")
    events(finding)

    submit(finding, evidence=[SHA_A, SHA_B], when="2025-11-04")

    rectified_event = events(finding)[0]
    assert isinstance(rectified_event, Finding.Rectified)
    assert tuple(rectified_event.evidence) == (SHA_A, SHA_B)


@pytest.mark.parametrize("state", ["issued", "acknowledged", "rectified", "withdrawn"])
def test_reopen_is_refused_when_not_verified(state: str) -> None:
    assert_refused(
        STATES[state](),
        lambda f: f.reopen(EVALUATOR, at("2025-10-31 10:00"), "回头看", NEW_DEADLINE),
        TransitionError,
        f"Cannot reopen: the finding is {state}, it must be verified",
    )


def test_reopen_needs_a_reason() -> None:
    assert_refused(
        verified(),
        lambda f: f.reopen(EVALUATOR, at("2025-10-31 10:00"), "", NEW_DEADLINE),
        ValidationError,
        "reason for reopening is required",
    )


# -- withdraw -----------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["issued", "acknowledged", "rectified"])
def test_withdraw_ends_an_open_finding(state: str) -> None:
    finding = STATES[state]()

    finding.withdraw(EVALUATOR, at("2025-10-20 10:00"), "问题已由审计整改覆盖")

    event = recorded(finding, Finding.Withdrawn, EVALUATOR, at("2025-10-20 10:00"))
    assert event.reason == "问题已由审计整改覆盖"
    assert finding.status is Status.WITHDRAWN


@pytest.mark.parametrize("state", ["verified", "withdrawn"])
def test_withdraw_is_refused_when_verified_or_withdrawn(state: str) -> None:
    assert_refused(
        STATES[state](),
        lambda f: f.withdraw(EVALUATOR, at("2025-10-20 10:00"), "撤销"),
        TransitionError,
        f"Cannot withdraw: the finding is {state}",
    )


def test_withdraw_needs_a_reason() -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.withdraw(EVALUATOR, at("2025-10-20 10:00"), " "),
        ValidationError,
        "reason for withdrawing is required",
    )


# -- replay -------------------------------------------------------------------------------


def test_replaying_the_events_rebuilds_the_same_state() -> None:
    extended = calculation(
        "2025-11-28", rule="extension", start="2025-10-10", unit="explicit", count=49
    )
    # A history that touches every kind of state change.
    finding = issue()
    finding.acknowledge(CLERK, at("2025-09-26 10:00"), "张三", "计划")
    finding.report_progress(CLERK, at("2025-10-09 10:00"), "过半", 50)
    n = finding.request_extension(CLERK, at("2025-10-09 11:00"), date(2025, 11, 28), "汛期")
    finding.grant_extension(EVALUATOR, at("2025-10-10 09:00"), n, "同意", extended)
    attach(finding, SHA_A, when="2025-10-15 10:00")
    submit(finding, when="2025-10-20")
    finding.reject(VERIFIER, at("2025-10-21 10:00"), "材料不全")
    finding.escalate(SUPERVISOR, at("2025-10-22 10:00"), 2, "两次督办", "manual")
    finding.record_reminder(SCHEDULER, at("2025-10-23 08:00"), "due", ["a@x.cn"], "due-5wd")
    finding.record_interview(SUPERVISOR, at("2025-10-24 10:00"), date(2025, 10, 24), "约谈")
    submit(finding, when="2025-10-27")
    finding.verify(VERIFIER, at("2025-10-28 10:00"), "通过")
    history = events(finding)

    rebuilt = replay(history)

    assert rebuilt.__dict__ == finding.__dict__
    assert rebuilt.version == len(history) == 13
    assert (rebuilt.deadline, rebuilt.original_deadline) == (extended, DEADLINE)
