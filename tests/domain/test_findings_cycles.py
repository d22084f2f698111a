"""Finding: who counts as the department's hand, and what a closed or reopened cycle leaves."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import SegregationOfDutiesError, ValidationError
from domain.findings import Finding
from tests.domain.builders import (
    CLERK,
    DEADLINE,
    EVALUATOR,
    SCHEDULER,
    SHA_A,
    VERIFIER,
    acknowledged,
    assert_refused,
    at,
    calculation,
    events,
    rectified,
    verified,
)

LATER = date(2025, 11, 30)
NEXT_CYCLE = calculation("2025-12-31", start="2025-11-01", rule="class:immediate")


def test_an_evaluator_who_did_the_departments_work_may_not_verify_it() -> None:
    # Given an evaluator who attached the evidence himself
    finding = acknowledged()
    finding.attach_evidence(VERIFIER, at("2025-10-09 10:00"), SHA_A, "凭证.pdf", 10, "a/pdf")
    finding.submit_rectification(CLERK, at("2025-10-10 10:00"), "已整改", [SHA_A], Decimal(0), 0)
    events(finding)

    # Then he may not verify it: what he did counts, not the role he held
    assert_refused(
        finding,
        lambda f: f.verify(VERIFIER, at("2025-10-20 10:00"), "通过"),
        SegregationOfDutiesError,
        "acted for the department",
    )


@pytest.mark.parametrize("close", ["verify", "withdraw"])
def test_a_pending_extension_lapses_when_the_finding_closes(close: str) -> None:
    finding = acknowledged()
    finding.request_extension(CLERK, at("2025-10-09 10:00"), LATER, "汛期无法施工")
    if close == "verify":
        finding.attach_evidence(CLERK, at("2025-10-10 09:00"), SHA_A, "凭证.pdf", 10, "a/pdf")
        finding.submit_rectification(
            CLERK, at("2025-10-10 10:00"), "已整改", [SHA_A], Decimal(0), 0
        )
        finding.verify(VERIFIER, at("2025-10-20 10:00"), "通过")
    else:
        finding.withdraw(EVALUATOR, at("2025-10-20 10:00"), "问题不成立")

    assert finding.pending_extension is None
    assert [r.decision for r in finding.extensions] == ["lapsed"]


def test_after_a_reopen_a_new_extension_can_be_asked_for() -> None:
    finding = acknowledged()
    finding.request_extension(CLERK, at("2025-10-09 10:00"), LATER, "汛期无法施工")
    finding.attach_evidence(CLERK, at("2025-10-10 09:00"), SHA_A, "凭证.pdf", 10, "a/pdf")
    finding.submit_rectification(CLERK, at("2025-10-10 10:00"), "已整改", [SHA_A], Decimal(0), 0)
    finding.verify(VERIFIER, at("2025-10-20 10:00"), "通过")
    finding.reopen(EVALUATOR, at("2025-11-01 10:00"), "回头看", NEXT_CYCLE)

    n = finding.request_extension(CLERK, at("2025-11-05 10:00"), date(2026, 1, 31), "需要更多时间")

    assert n == 2


def test_an_extension_must_move_the_deadline_later() -> None:
    finding = acknowledged()
    finding.request_extension(CLERK, at("2025-10-09 10:00"), LATER, "汛期无法施工")
    events(finding)
    not_later = calculation(DEADLINE.due_on.isoformat(), rule="extension", unit="explicit")

    assert_refused(
        finding,
        lambda f: f.grant_extension(EVALUATOR, at("2025-10-10"), 1, "", not_later),
        ValidationError,
        "not later than the current deadline",
    )


def test_a_reopened_cycle_has_its_own_reminders_and_escalation_ladder() -> None:
    # Given a finding reminded and escalated in its first cycle, then verified and reopened
    finding = rectified()
    finding.record_reminder(SCHEDULER, at("2025-10-21 10:00"), "verify", ["x@y.cn"], "due-5wd")
    finding.escalate(SCHEDULER, at("2025-10-21 10:00"), 1, "逾期", "overdue-1wd")
    finding.verify(VERIFIER, at("2025-10-22 10:00"), "通过")
    finding.reopen(EVALUATOR, at("2025-11-01 10:00"), "回头看", NEXT_CYCLE)
    events(finding)

    # When the same reminder and escalation come due in the new cycle
    finding.record_reminder(SCHEDULER, at("2025-12-20 10:00"), "due", ["x@y.cn"], "due-5wd")
    finding.escalate(SCHEDULER, at("2026-01-05 10:00"), 1, "逾期", "overdue-1wd")

    # Then both are recorded, and the new cycle is measured against its own deadline
    assert [type(e) for e in events(finding)] == [Finding.ReminderSent, Finding.Escalated]
    assert finding.original_deadline == NEXT_CYCLE


def test_a_command_timestamped_before_the_last_event_is_recorded_after_it() -> None:
    # Another machine's clock may lag a little behind the one that wrote the last event.
    finding = verified()
    last = finding.modified_on

    finding.reopen(EVALUATOR, last.replace(year=last.year - 1), "回头看", NEXT_CYCLE)

    assert events(finding)[0].timestamp == last


def test_text_with_a_nul_character_is_refused() -> None:
    # PostgreSQL text cannot hold NUL: such an event would be stored but never projected.
    finding = acknowledged()

    assert_refused(
        finding,
        lambda f: f.report_progress(CLERK, at("2025-10-09 10:00"), "进展\x00", 10),
        ValidationError,
        "NUL",
    )
