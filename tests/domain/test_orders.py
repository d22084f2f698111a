"""Issuing a rectification order: deadlines across China's holidays, validation, all-or-none."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from adapters.calendar_table import load_holiday_table
from adapters.policy import load_deadline_policy
from domain.calendar import WorkingCalendar
from domain.errors import ValidationError
from domain.findings import Finding, finding_id
from domain.orders import issue_findings, rectification_class
from domain.policies import DeadlinePolicy
from domain.values import Actor, RectificationClass, Role, Status
from domain.views import FindingDraft, OrderDraft
from tests.domain.builders import at

D = date.fromisoformat
EVALUATOR = Actor("eva.li", Role.EVALUATOR)
NOW = at("2025-10-15 10:00")


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(load_holiday_table(last_year=2031))


@pytest.fixture(scope="module")
def policy() -> DeadlinePolicy:
    return load_deadline_policy()


def draft(ref: str = "1", **overrides: object) -> FindingDraft:
    fields: dict[str, object] = {
        "ref": ref,
        "title": "预算执行率低",
        "description": "项目资金执行率仅 42%，资金闲置沉淀。",
        "category": "过程/预算执行率低",
        "rectification_class": "immediate",
        "requirement": "年底前执行率达到 90%。",
    }
    fields.update(overrides)
    return FindingDraft(**fields)  # type: ignore[arg-type]


def order(*findings: FindingDraft, issued_on: str | None = "2025-09-25") -> OrderDraft:
    return OrderDraft(
        ref="泸财绩〔2025〕12号",
        evaluation="LX-2025-PJ-001",
        department="SLJ",
        findings=findings or (draft(),),
        issued_on=D(issued_on) if issued_on else None,
    )


def issued_event(finding: Finding) -> Finding.Issued:
    (event,) = finding.collect_events()
    assert isinstance(event, Finding.Issued)
    return event


# -- default deadlines --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued_on", "kind", "due_on", "rolled_from"),
    [
        # 30 days land on National Day (1 Oct) or inside the holiday: roll to Thursday 9 Oct.
        ("2025-09-01", "immediate", "2025-10-09", "2025-10-01"),
        ("2025-09-05", "immediate", "2025-10-09", "2025-10-05"),
        # Saturday 11 Oct is a make-up working day (调休上班), so it does not roll.
        ("2025-09-11", "immediate", "2025-10-11", None),
        # An ordinary Saturday rolls to Monday.
        ("2025-09-25", "immediate", "2025-10-27", "2025-10-25"),
        ("2025-07-03", "phased", "2025-10-09", "2025-10-01"),
        ("2025-09-25", "phased", "2025-12-24", None),
        ("2024-10-01", "long_term", "2025-10-09", "2025-10-01"),
        # 25 Sep 2026 is the Mid-Autumn Festival (a Friday): roll to Monday 28 Sep.
        ("2025-09-25", "long_term", "2026-09-28", "2026-09-25"),
    ],
)
def test_default_deadline_per_class_rolls_off_rest_days(
    calendar: WorkingCalendar,
    policy: DeadlinePolicy,
    issued_on: str,
    kind: str,
    due_on: str,
    rolled_from: str | None,
) -> None:
    (finding,) = issue_findings(
        EVALUATOR,
        NOW,
        order(draft(rectification_class=kind), issued_on=issued_on),
        "SLJ",
        "LX-2025-PJ-001",
        calendar,
        policy,
    )

    deadline = issued_event(finding).deadline
    assert deadline.due_on == D(due_on)
    assert deadline.rolled_from == (D(rolled_from) if rolled_from else None)
    assert finding.deadline == finding.original_deadline == deadline


@pytest.mark.parametrize(
    ("issued_on", "acknowledge_by"),
    [
        ("2025-09-25", "2025-09-29"),  # Fri, the make-up Sunday 28 Sep, Mon
        ("2025-09-26", "2025-09-30"),
        ("2025-09-30", "2025-10-11"),  # skips 1-8 Oct, counts the make-up Saturday
    ],
)
def test_acknowledgement_is_due_after_three_working_days(
    calendar: WorkingCalendar, policy: DeadlinePolicy, issued_on: str, acknowledge_by: str
) -> None:
    (finding,) = issue_findings(
        EVALUATOR, NOW, order(issued_on=issued_on), "SLJ", "E", calendar, policy
    )

    deadline = issued_event(finding).acknowledge_deadline
    assert (deadline.due_on, deadline.unit, deadline.count) == (
        D(acknowledge_by),
        "working_days",
        3,
    )
    assert deadline.rule == "acknowledge"


def test_issued_event_records_how_the_deadline_was_computed(
    calendar: WorkingCalendar, policy: DeadlinePolicy
) -> None:
    (finding,) = issue_findings(
        EVALUATOR, NOW, order(issued_on="2025-09-01"), "SLJ", "LX-2025-PJ-001", calendar, policy
    )

    event = issued_event(finding)
    deadline = event.deadline
    assert deadline.rule == "class:immediate"
    assert (deadline.start, deadline.unit, deadline.count) == (D("2025-09-01"), "calendar_days", 30)
    assert deadline.calendar_version == calendar.version
    assert deadline.basis == policy.classes["immediate"].basis
    assert deadline.provisional is False
    assert (deadline.due_on, deadline.rolled_from) == (D("2025-10-09"), D("2025-10-01"))
    assert (event.actor, event.role, event.timestamp) == ("eva.li", "evaluator", NOW)


# -- the order's fields -------------------------------------------------------------------


def test_issue_findings_fills_every_finding_from_the_order(
    calendar: WorkingCalendar, policy: DeadlinePolicy
) -> None:
    findings = issue_findings(
        EVALUATOR, NOW, order(draft("1"), draft("2", title=" ")), "SLJ", "LX-1", calendar, policy
    )

    first, second = findings
    assert [f.id for f in findings] == [finding_id("泸财绩〔2025〕12号", r) for r in ("1", "2")]
    assert {(f.order_ref, f.department, f.evaluation) for f in findings} == {
        ("泸财绩〔2025〕12号", "SLJ", "LX-1")
    }
    assert all(f.status is Status.ISSUED and f.issued_on == D("2025-09-25") for f in findings)
    assert first.title == "预算执行率低"
    # A blank title falls back to the start of the description.
    assert second.title == "项目资金执行率仅 42%，资金闲置沉淀。"


def test_an_explicit_due_date_is_recorded_as_given(
    calendar: WorkingCalendar, policy: DeadlinePolicy
) -> None:
    (finding,) = issue_findings(
        EVALUATOR, NOW, order(draft(due_on=D("2025-11-14"))), "SLJ", "E", calendar, policy
    )

    deadline = issued_event(finding).deadline
    assert (deadline.rule, deadline.unit) == ("explicit", "explicit")
    assert (deadline.start, deadline.due_on, deadline.count) == (
        D("2025-09-25"),
        D("2025-11-14"),
        50,
    )
    assert deadline.rolled_from is None


@pytest.mark.parametrize("due_on", ["2025-09-25", "2025-09-24"])
def test_an_explicit_due_date_must_be_after_the_notice_date(
    calendar: WorkingCalendar, policy: DeadlinePolicy, due_on: str
) -> None:
    with pytest.raises(ValidationError, match=f"Finding 1: the deadline {due_on} must be after"):
        issue_findings(EVALUATOR, NOW, order(draft(due_on=D(due_on))), "SLJ", "E", calendar, policy)


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ("立行立改", RectificationClass.IMMEDIATE),
        ("分阶段整改", RectificationClass.PHASED),
        ("持续整改", RectificationClass.LONG_TERM),
        ("immediate", RectificationClass.IMMEDIATE),
        (" phased ", RectificationClass.PHASED),
        ("long_term", RectificationClass.LONG_TERM),
    ],
)
def test_rectification_class_accepts_codes_and_chinese_labels(
    calendar: WorkingCalendar, policy: DeadlinePolicy, given: str, kind: RectificationClass
) -> None:
    assert rectification_class(given) is kind

    (finding,) = issue_findings(
        EVALUATOR, NOW, order(draft(rectification_class=given)), "SLJ", "E", calendar, policy
    )

    assert finding.rectification_class is kind
    assert issued_event(finding).deadline.rule == f"class:{kind.value}"


@pytest.mark.parametrize("given", ["立即整改", "urgent", ""])
def test_rectification_class_refuses_anything_else(given: str) -> None:
    with pytest.raises(
        ValidationError, match="is not one of immediate, phased, long_term, 立行立改"
    ):
        rectification_class(given)


# -- the notice date ----------------------------------------------------------------------


def test_notice_date_defaults_to_today_in_china(
    calendar: WorkingCalendar, policy: DeadlinePolicy
) -> None:
    # 20:00 UTC on 25 September is already 26 September in Beijing.
    now = datetime(2025, 9, 25, 20, 0, tzinfo=UTC)

    (finding,) = issue_findings(EVALUATOR, now, order(issued_on=None), "S", "E", calendar, policy)

    assert finding.issued_on == D("2025-09-26")
    assert issued_event(finding).deadline.start == D("2025-09-26")


def test_notice_date_may_be_today(calendar: WorkingCalendar, policy: DeadlinePolicy) -> None:
    (finding,) = issue_findings(
        EVALUATOR, NOW, order(issued_on="2025-10-15"), "S", "E", calendar, policy
    )

    assert finding.issued_on == D("2025-10-15")


def test_notice_date_in_the_future_is_refused(
    calendar: WorkingCalendar, policy: DeadlinePolicy
) -> None:
    with pytest.raises(ValidationError, match="notice date 2025-10-16 is in the future"):
        issue_findings(EVALUATOR, NOW, order(issued_on="2025-10-16"), "S", "E", calendar, policy)


# -- refused orders -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_order", "message"),
    [
        (replace(order(), findings=()), "lists no findings"),
        (order(draft("1"), draft("2"), draft(" 1 ")), "Finding numbers repeat within the order: 1"),
        (replace(order(), ref="  "), "order number \\(文号\\) is required"),
        (order(draft("1"), draft("2", description=" ")), "Finding 2: the description is required"),
        (order(draft("3", category="")), "Finding 3: the category \\(问题类型\\) is required"),
        (order(draft(ref="")), "finding number is required"),
        (order(draft("1"), draft("2", rectification_class="x")), "Rectification class 'x'"),
    ],
    ids=[
        "no findings",
        "repeated ref",
        "blank ref",
        "blank description",
        "blank category",
        "blank finding ref",
        "bad class",
    ],
)
def test_a_bad_order_is_refused_as_a_whole(
    calendar: WorkingCalendar, policy: DeadlinePolicy, bad_order: OrderDraft, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        issue_findings(EVALUATOR, NOW, bad_order, "SLJ", "E", calendar, policy)
