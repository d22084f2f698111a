"""Which forms a finding page offers: the API's permission table and the finding's state."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from api.ui.commands import available
from domain.calendar import CHINA_TZ
from domain.policies import DeadlineCalculation
from domain.values import Role
from domain.views import ExtensionView, FindingView

DUE = date(2025, 10, 27)
DEADLINE = DeadlineCalculation("class:immediate", date(2025, 9, 26), "calendar_days", 30,
                               "默认值", "test", False, DUE)  # fmt: skip
ISSUED = FindingView(
    id=uuid4(), ref="1", order_ref="泸财绩〔2025〕12号", evaluation="LX-2025-PJ-001",
    department="SLJ", title="", description="预算执行率低", category="过程/预算执行率低",
    rectification_class="immediate", requirement="", status="issued",
    issued_on=date(2025, 9, 26), issued_by="pingjia.li", due_on=DUE, original_due_on=DUE,
    acknowledge_due_on=date(2025, 9, 30), deadline=DEADLINE, original_deadline=DEADLINE,
    overdue=False, overdue_days=0, escalation_level=0, rejections=0, submissions=0, cycle=1,
    responsible_person="", progress_percent=0, amount_recovered=Decimal(0), rules_improved=0,
    version=1, as_of=datetime(2025, 9, 26, 9, tzinfo=CHINA_TZ),
)  # fmt: skip
PENDING = (ExtensionView(1, date(2025, 12, 1), "汛期", "slj.jingban", "pending"),)


def finding(status: str, level: int = 0, pending: bool = False) -> FindingView:
    extensions = PENDING if pending else ()
    return dataclasses.replace(ISSUED, status=status, escalation_level=level, extensions=extensions)


@pytest.mark.parametrize(
    ("role", "view", "offered"),
    [
        (Role.DEPARTMENT, finding("issued"), ["acknowledge", "evidence", "extension"]),
        (
            Role.DEPARTMENT,
            finding("acknowledged"),
            ["progress", "evidence", "rectification", "extension"],
        ),
        (
            Role.DEPARTMENT,
            finding("acknowledged", pending=True),
            ["progress", "evidence", "rectification"],
        ),
        (Role.DEPARTMENT, finding("rectified"), ["evidence"]),
        (Role.DEPARTMENT, finding("verified"), []),
        (Role.EVALUATOR, finding("issued"), ["withdrawal"]),
        (
            Role.EVALUATOR,
            finding("acknowledged", pending=True),
            ["extension-decision", "withdrawal"],
        ),
        (Role.EVALUATOR, finding("rectified"), ["verification", "withdrawal"]),
        (Role.EVALUATOR, finding("verified"), ["reopening"]),
        (Role.EVALUATOR, finding("withdrawn"), []),
        (Role.SUPERVISOR, finding("acknowledged"), ["escalation"]),
        (Role.SUPERVISOR, finding("acknowledged", level=2), ["escalation", "interview"]),
        (Role.SUPERVISOR, finding("issued", level=3), ["interview", "accountability"]),
        (Role.SUPERVISOR, finding("verified", level=3), ["interview", "accountability"]),
        (Role.ADMIN, finding("rectified", level=3), []),
    ],
)
def test_only_the_commands_this_role_may_take_now_are_offered(
    role: Role, view: FindingView, offered: list[str]
) -> None:
    assert available(role, view) == offered
