"""Fixtures: an in-memory LastmileApplication on a clock the test moves, and its basics."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from adapters.calendar_table import load_holiday_table
from adapters.policy import load_deadline_policy
from domain.application import LastmileApplication
from domain.calendar import WorkingCalendar
from domain.policies import DeadlinePolicy
from tests.application.builders import EVALUATOR, Clock, at, order


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(load_holiday_table(last_year=2031))


@pytest.fixture(scope="session")
def policy() -> DeadlinePolicy:
    return load_deadline_policy()


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2025-09-25 09:00"))


@pytest.fixture
def app(calendar: WorkingCalendar, policy: DeadlinePolicy, clock: Clock) -> LastmileApplication:
    return LastmileApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        calendar=calendar,
        policy=policy,
        clock=clock,
    )


@pytest.fixture
def registered(app: LastmileApplication) -> LastmileApplication:
    """The application with department SLJ and evaluation LX-2025-PJ-001 recorded."""
    return register_slj(app)


def register_slj(app: LastmileApplication) -> LastmileApplication:
    app.register_department(EVALUATOR, "SLJ", "县水利局", "slj@lx.gov.cn")
    app.record_evaluation(
        EVALUATOR,
        ref="LX-2025-PJ-001",
        title="2025 年农田水利项目绩效评价",
        year=2025,
        object_type="project",
        department="SLJ",
        budget_amount=Decimal("1200000.00"),
        score=Decimal("78.5"),
    )
    return app


@pytest.fixture
def finding(registered: LastmileApplication) -> UUID:
    """One immediate finding issued on Thursday 25 Sep 2025, due Monday 27 Oct 2025."""
    (finding_id,) = registered.issue_order(EVALUATOR, order())
    return finding_id
