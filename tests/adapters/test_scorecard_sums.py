"""The scorecard from kept sums plus open rows equals the full scan it replaced, on each store.

A seeded random walk of commands (every transition the lifecycle allows: withdrawal from
each open status, verification, reopening, rejection, extensions, escalations, the ladder)
is projected in batches of random sizes; at checkpoints, and after a rebuild from position
0, the scorecard is compared with `reference_scorecard` — the full scan the scorecard ran
before the sums were kept, copied here unchanged — on many days before, inside and after the
history, value for value and type for type.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, FromClause, and_, case, func, or_, select

from adapters.bootstrap import Lastmile
from adapters.projections.moments import Moment, findings_at
from adapters.projections.scorecard import OPEN, TOTAL, _row, scorecard_rows
from adapters.projections.tables import findings, scorecard_sums
from domain.calendar import CHINA_TZ, local_date
from domain.errors import DomainError
from domain.values import Actor, Role
from domain.views import FindingDraft, OrderDraft
from tests.conftest import ManualClock

EVALUATOR = Actor("pingjia.li", Role.EVALUATOR)
VERIFIER = Actor("pingjia.wang", Role.EVALUATOR)
SUPERVISOR = Actor("jiandu.zhao", Role.SUPERVISOR)
CLERK = Actor("danwei.jingban", Role.DEPARTMENT)
DEPARTMENTS = ("SLJ", "JYJ", "WJW")
CLASSES = ("immediate", "phased", "long_term")
SHA = "5" * 64
STEPS = 360
CHECKPOINT_EVERY = 45
# What the walk may try in each status, how often, and the status each command leads to.
_ANYTIME = {"escalate": 1, "interview": 1, "decision": 1, "ladder": 2}
MOVES: dict[str, dict[str, int]] = {
    "issued": {"acknowledge": 6, "withdraw": 1, **_ANYTIME},
    "acknowledged": {
        "submit": 6, "progress": 1, "request": 2, "decide": 3, "withdraw": 1, **_ANYTIME
    },
    "rectified": {"verify": 4, "reject": 2, "withdraw": 1, "ladder": 1},
    "verified": {"reopen": 1, "ladder": 3},
    "withdrawn": {},
}  # fmt: skip
AFTER = {
    "acknowledge": "acknowledged", "submit": "rectified", "verify": "verified",
    "reject": "acknowledged", "reopen": "acknowledged", "withdraw": "withdrawn",
}  # fmt: skip


def test_the_scorecard_equals_the_full_scan_at_every_moment_and_after_a_rebuild(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    rng = random.Random(20_251_001)
    walk = Walk(lastmile, clock, rng)
    first_day = local_date(clock.now)

    for step in range(1, STEPS + 1):
        walk.step()
        if step % CHECKPOINT_EVERY == 0:
            lastmile.projections.batch_size = rng.randint(1, 40)
            lastmile.projections.catch_up()
            assert_latest_equals_the_full_scan(lastmile, rng, first_day)
    lastmile.projections.catch_up()
    statuses = {lastmile.app.finding(f).status for f in walk.findings}
    assert statuses == {"issued", "acknowledged", "rectified", "verified", "withdrawn"}
    assert all(walk.done.get(name) for name in ("verify", "reopen", "withdraw", "reject", "decide"))
    built_as_it_came = kept_sums(lastmile)

    lastmile.projections.batch_size = 7
    lastmile.projections.rebuild()

    assert kept_sums(lastmile) == built_as_it_came
    assert_latest_equals_the_full_scan(lastmile, rng, first_day)
    assert_as_of_equals_the_full_scan(lastmile, first_day)


def assert_latest_equals_the_full_scan(lastmile: Lastmile, rng: random.Random, first: date) -> None:
    read = lastmile.read_models
    latest = read.moment(lastmile.app.clock())
    assert latest.latest
    names = read.department_names(latest)
    today = latest.day
    days = {first - timedelta(days=10), today, *(today + timedelta(days=n) for n in (1, 60))}
    days |= {first + timedelta(days=rng.randint(0, 800)) for _ in range(10)}
    with lastmile.records.connect() as connection:
        for day in sorted(days):
            moment = _on(lastmile, latest, day)
            expected = reference_scorecard(connection, findings, moment, names)
            assert expected  # groups to compare
            assert typed(scorecard_rows(connection, moment, names)) == typed(expected), day


def assert_as_of_equals_the_full_scan(lastmile: Lastmile, first: date) -> None:
    read = lastmile.read_models
    now = lastmile.app.clock()
    start = datetime.combine(first, datetime.min.time(), CHINA_TZ)
    for n in range(1, 6):
        moment = read.moment(start + (now - start) * n / 6)
        assert not moment.latest
        names = read.department_names(moment)
        with lastmile.records.connect() as connection:
            expected = reference_scorecard(connection, findings_at(moment), moment, names)
            assert typed(read.scorecard(moment)) == typed(expected)


def typed(value: Any) -> Any:
    """The value with the type of every number in it: 1 and Decimal(1) are equal, not the same."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def _on(lastmile: Lastmile, latest: Moment, day: date) -> Moment:
    """The latest rows, judged on another day (the sums must not care which)."""
    number = lastmile.read_models.calendar.working_day_number(day)
    return replace(latest, day=day, day_number=number)


def kept_sums(lastmile: Lastmile) -> list[tuple[Any, ...]]:
    with lastmile.records.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(select(scorecard_sums)))


class Walk:
    """Random findings, each given a random command its status allows (a guard may still say no)."""

    def __init__(self, lastmile: Lastmile, clock: ManualClock, rng: random.Random) -> None:
        self.app, self.clock, self.rng = lastmile.app, clock, rng
        self.findings: list[UUID] = []
        self.done: dict[str, int] = {}
        self.orders = 0
        for code in DEPARTMENTS:
            self.app.register_department(EVALUATOR, code, f"单位{code}")
            self.app.record_evaluation(
                EVALUATOR, ref=f"PJ-{code}", title="评价", year=2025, object_type="project",
                department=code, budget_amount=Decimal("1000000"), score=Decimal("78"),
            )  # fmt: skip
        self.commands: dict[str, Callable[[UUID], Any]] = {
            "acknowledge": lambda f: self.app.acknowledge(f, CLERK, "张建国"),
            "progress": lambda f: self.app.report_progress(f, CLERK, "进展", rng.randint(1, 99)),
            "submit": self._submit,
            "verify": lambda f: self.app.verify(f, VERIFIER, "通过"),
            "reject": lambda f: self.app.reject(f, VERIFIER, "退回"),
            "reopen": lambda f: self.app.reopen(f, EVALUATOR, "回头看"),
            "withdraw": lambda f: self.app.withdraw(f, EVALUATOR, "撤销"),
            "request": self._request_extension,
            "decide": self._decide_extension,
            "escalate": lambda f: self.app.escalate(f, SUPERVISOR, rng.randint(1, 3), "督办"),
            "interview": lambda f: self.app.record_interview(f, SUPERVISOR, self.today, "约谈"),
            "decision": lambda f: self.app.decide_accountability(f, SUPERVISOR, "问责"),
            "ladder": self.app.climb_ladder,
        }
        self.status: dict[UUID, str] = {}

    @property
    def today(self) -> date:
        return local_date(self.clock.now)

    def step(self) -> None:
        self.clock.advance(hours=self.rng.uniform(0.5, 60))
        if not self.findings or self.rng.random() < 0.04:
            self._issue()
            return
        finding = self.rng.choice(self.findings)
        moves = MOVES[self.status[finding]]
        if not moves:
            return
        name = self.rng.choices(list(moves), list(moves.values()))[0]
        try:
            self.commands[name](finding)
        except DomainError:
            return  # refused (a guard beyond the status): the walk moves on
        self.done[name] = self.done.get(name, 0) + 1
        self.status[finding] = AFTER.get(name, self.status[finding])

    def _issue(self) -> None:
        self.orders += 1
        department = self.rng.choice(DEPARTMENTS)
        drafts = [
            FindingDraft(str(n), "", f"问题{n}", "过程", self.rng.choice(CLASSES), "整改")
            for n in range(1, self.rng.randint(2, 6))
        ]
        order = OrderDraft(f"文号{self.orders}", f"PJ-{department}", department, drafts)
        issued = self.app.issue_order(EVALUATOR, order)
        self.findings += issued
        self.status.update(dict.fromkeys(issued, "issued"))

    def _submit(self, finding: UUID) -> None:
        self.app.attach_evidence(finding, CLERK, SHA, "凭证.pdf", 10, "application/pdf")
        amount = Decimal(self.rng.randint(0, 100_000)) / 100
        rules = self.rng.randint(0, 3)
        self.app.submit_rectification(finding, CLERK, "已整改", [SHA], amount, rules)

    def _request_extension(self, finding: UUID) -> None:
        wanted = self.today + timedelta(days=self.rng.randint(20, 120))
        self.app.request_extension(finding, CLERK, wanted, "需要时间")

    def _decide_extension(self, finding: UUID) -> None:
        view = self.app.finding(finding)
        n = len(view.extensions)
        self.app.decide_extension(finding, EVALUATOR, n, approved=self.rng.random() < 0.7)


# -- the scorecard before the sums were kept, the reference: its query and grouping unchanged --


def _count(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _later(a: Any, b: Any) -> Any:
    return case((a > b, a), else_=b)


def reference_scorecard(
    connection: Connection, rows: FromClause, moment: Moment, names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The scorecard as the full scan computed it: its sums, grouped as scorecard_rows did."""
    groups: dict[tuple[str, str | None], dict[str, Any]] = defaultdict(dict)
    for sums in _reference_query(connection, rows, moment):
        department, kind = sums["department"], sums["rectification_class"]
        for key in ((department, None), (department, kind), (TOTAL, None)):
            into = groups[key]
            for name, value in sums.items():
                if name not in ("department", "rectification_class"):
                    into[name] = into.get(name, 0) + (value or 0)
    ordered = sorted(groups, key=lambda k: (k[0] == TOTAL, k[0], k[1] or ""))
    return [
        _row(department, kind, groups[(department, kind)], names) for department, kind in ordered
    ]


def _reference_query(
    connection: Connection, rows: FromClause, moment: Moment
) -> list[Mapping[str, Any]]:
    f = rows.c
    t, today = moment.day, moment.day_number
    verified = f.status == "verified"
    overdue = and_(f.status.in_(OPEN), f.due_on < t)
    since_due = today - _later(f.due_wdn, f.held_since_wdn)
    ongoing_department = case((and_(f.holder == "department", since_due > 0), since_due), else_=0)
    since_review_due = today - _later(f.verify_due_wdn, f.held_since_wdn)
    ongoing_evaluator = case(
        (and_(f.holder == "evaluator", since_review_due > 0), since_review_due), else_=0
    )
    overdue_days = f.department_overdue_days + ongoing_department
    query = (
        select(
            f.department,
            f.rectification_class,
            func.count().label("issued"),
            _count(or_(verified, f.due_on < t)).label("due"),
            _count(verified).label("verified"),
            _count(and_(verified, f.verified_on <= f.due_on)).label("verified_on_time"),
            _count(and_(verified, f.verified_on <= f.original_due_on)).label(
                "verified_on_time_original"
            ),
            _count(f.acknowledged_on <= f.acknowledge_due_on).label("acknowledged_on_time"),
            _count(or_(f.acknowledge_due_on < t, f.acknowledged_at.is_not(None))).label(
                "acknowledgement_due"
            ),
            _count(overdue).label("overdue"),
            _count(and_(overdue, overdue_days >= 1, overdue_days <= 10)).label("ageing_1_10"),
            _count(and_(overdue, overdue_days >= 11, overdue_days <= 30)).label("ageing_11_30"),
            _count(and_(overdue, overdue_days > 30)).label("ageing_over_30"),
            func.sum(case((verified, f.rectification_days), else_=0)).label("rectification_days"),
            func.sum(f.submissions).label("submissions"),
            func.sum(f.rejections).label("rejections"),
            func.sum(f.extensions_requested).label("extensions_requested"),
            func.sum(f.extensions_granted).label("extensions_granted"),
            func.sum(f.escalations_1).label("escalations_1"),
            func.sum(f.escalations_2).label("escalations_2"),
            func.sum(f.escalations_3).label("escalations_3"),
            func.sum(f.interviews).label("interviews"),
            func.sum(f.decisions).label("decisions"),
            func.sum(case((verified, f.amount_recovered), else_=0)).label("amount_recovered"),
            func.sum(case((verified, f.rules_improved), else_=0)).label("rules_improved"),
            func.sum(
                f.earlier_cycles_overdue_days + f.department_overdue_days + ongoing_department
            ).label("overdue_days_department"),
            func.sum(f.evaluator_overdue_days + ongoing_evaluator).label("overdue_days_evaluator"),
        )
        .where(f.status != "withdrawn")
        .group_by(f.department, f.rectification_class)
    )
    return [dict(row._mapping) for row in connection.execute(query)]
