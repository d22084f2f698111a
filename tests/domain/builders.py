"""Builders for Finding tests: actors, China-time moments, hand-made deadlines and states."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from domain.calendar import CHINA_TZ
from domain.errors import DomainError
from domain.findings import Finding
from domain.policies import DeadlineCalculation
from domain.values import Actor, Role

EVALUATOR = Actor("eva.li", Role.EVALUATOR)
VERIFIER = Actor("zhou.verifier", Role.EVALUATOR)
CLERK = Actor("wang.clerk", Role.DEPARTMENT)
SUPERVISOR = Actor("sun.supervisor", Role.SUPERVISOR)
SCHEDULER = Actor("scheduler", Role.SYSTEM)

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64

Command = Callable[[Finding], object]
E = TypeVar("E", bound=Finding.Event)


def at(text: str) -> datetime:
    """An aware moment in China time, e.g. at("2025-09-26 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


ISSUED_AT = at("2025-09-25 09:00")


def calculation(
    due_on: str,
    *,
    rule: str = "class:immediate",
    start: str = "2025-09-25",
    unit: str = "calendar_days",
    count: int = 30,
    rolled_from: str | None = None,
) -> DeadlineCalculation:
    """A DeadlineCalculation as the policy would record it, written out by hand."""
    return DeadlineCalculation(
        rule=rule,
        start=date.fromisoformat(start),
        unit=unit,
        count=count,
        basis="test basis",
        calendar_version="test-calendar 1",
        provisional=False,
        due_on=date.fromisoformat(due_on),
        rolled_from=date.fromisoformat(rolled_from) if rolled_from else None,
    )


# The 2025 National Day holiday pushes 30 days from 25 September (25 October, a Saturday
# that is not a make-up day) to Monday 27 October.
DEADLINE = calculation("2025-10-27", rolled_from="2025-10-25")
ACKNOWLEDGE_DEADLINE = calculation("2025-09-29", rule="acknowledge", unit="working_days", count=3)


def issue(**overrides: Any) -> Finding:
    """Issue a finding as an evaluator would, leaving the Issued event pending."""
    fields: dict[str, Any] = {
        "order_ref": "泸财绩〔2025〕12号",
        "ref": "1",
        "evaluation": "LX-2025-PJ-001",
        "department": "SLJ",
        "title": "预算执行率低",
        "description": "项目资金执行率仅 42%，资金闲置沉淀。",
        "category": "过程/预算执行率低",
        "rectification_class": "immediate",
        "requirement": "年底前执行率达到 90%。",
        "issued_on": date(2025, 9, 25),
        "deadline": DEADLINE,
        "acknowledge_deadline": ACKNOWLEDGE_DEADLINE,
    }
    fields.update(overrides)
    return Finding.issue(actor=EVALUATOR, at=ISSUED_AT, **fields)


def issued() -> Finding:
    finding = issue()
    finding.collect_events()
    return finding


def acknowledged() -> Finding:
    finding = issued()
    finding.acknowledge(CLERK, at("2025-09-26 10:00"), "张三", "按月报送")
    finding.collect_events()
    return finding


def attach(finding: Finding, sha256: str = SHA_A, when: str = "2025-10-09 10:00") -> None:
    finding.attach_evidence(CLERK, at(when), sha256, f"{sha256[:4]}.pdf", 1024, "application/pdf")


def submit(finding: Finding, evidence: Sequence[str] = (SHA_A,), when: str = "2025-10-10") -> None:
    finding.submit_rectification(
        CLERK, at(f"{when} 10:00"), "收回闲置资金", evidence, Decimal("120000.00"), 2
    )


def rectified() -> Finding:
    finding = acknowledged()
    attach(finding)
    submit(finding)
    finding.collect_events()
    return finding


def verified() -> Finding:
    finding = rectified()
    finding.verify(VERIFIER, at("2025-10-15 10:00"), "材料齐全")
    finding.collect_events()
    return finding


def withdrawn() -> Finding:
    finding = acknowledged()
    finding.withdraw(EVALUATOR, at("2025-10-01 10:00"), "问题已由审计整改覆盖")
    finding.collect_events()
    return finding


def escalated_to(level: int) -> Finding:
    finding = acknowledged()
    finding.escalate(SUPERVISOR, at("2025-10-28 09:00"), level, "逾期未整改", "manual")
    finding.collect_events()
    return finding


STATES: dict[str, Callable[[], Finding]] = {
    "issued": issued,
    "acknowledged": acknowledged,
    "rectified": rectified,
    "verified": verified,
    "withdrawn": withdrawn,
}


def events(finding: Finding) -> list[Finding.Event]:
    """Collect the finding's pending events (and check that they are all Finding events)."""
    collected = finding.collect_events()
    assert all(isinstance(e, Finding.Event) for e in collected)
    return [e for e in collected if isinstance(e, Finding.Event)]


def recorded(finding: Finding, kind: type[E], actor: Actor, when: datetime) -> E:
    """Collect the one event a command recorded, checking who did it, in what role and when."""
    collected = events(finding)
    assert [type(e) for e in collected] == [kind]
    event = collected[0]
    assert isinstance(event, kind)
    assert (event.actor, event.role, event.timestamp) == (actor.user_id, actor.role, when)
    return event


def replay(history: Sequence[Finding.Event]) -> Finding:
    """Rebuild a finding from its events, as the repository does."""
    aggregate: Any = None
    for event in history:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, Finding)
    return aggregate


def assert_refused(
    finding: Finding, command: Command, error: type[DomainError], match: str
) -> DomainError:
    """Run a command that must be refused: the named error, nothing recorded."""
    version = finding.version
    with pytest.raises(error, match=match) as raised:
        command(finding)
    assert finding.pending_events == []
    assert finding.version == version
    return raised.value
