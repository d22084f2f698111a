"""The worker benchmark's read model: many open findings, a few of them due a ladder step.

The findings due a step at the scan's moment are real: issued (and most acknowledged) as
domain events on in-memory aggregates, saved many at a time and projected, so the scan's
`climb_ladders` loads and saves them as it would in service. The rest of the open findings
are rows bulk-inserted into rm_findings, made from a projected row with their own id, status
and dates, and every ladder step due at the moment already in their `ladder_keys` and
`escalation_level`: the scan reads and judges them, and finds nothing to do. No aggregate
stands behind them, so a scan that climbed one would report a failure; the benchmark refuses
to report figures if any scan failed.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from adapters.bootstrap import Lastmile
from adapters.projections.tables import findings
from adapters.worker.scan import clock_state
from bench import scenery
from bench.history import SimulatedClock, register_departments
from bench.scenery import DepartmentSpec
from domain.application import LastmileApplication
from domain.calendar import CHINA_TZ, WorkingCalendar, local_date
from domain.findings import Finding
from domain.ladder import LadderPolicy, due_steps
from domain.orders import issue_findings
from domain.readers import clock_state as aggregate_clock_state
from domain.views import FindingDraft, OrderDraft

MOMENT = datetime(2025, 11, 12, 10, tzinfo=CHINA_TZ)  # a Wednesday: reminders go out
DEPARTMENTS = 30
PER_SAVE = 500  # aggregates per app.save()
INSERT_CHUNK = 2_000  # rm_findings rows per INSERT
# The open findings that are not due: (share, kind). Overdue ones stay candidates of the
# scan's SQL pre-filter every day (their next weekly notice is judged in Python).
QUIET = [
    (0.66, "acknowledged"),  # deadline more than a week away
    (0.04, "issued"),  # issued in the last two days, acknowledgement not yet due
    (0.10, "rectified"),  # submitted, with the evaluator
    (0.20, "overdue"),  # past the deadline, this week's notice and escalations recorded
]
Say = Callable[[str], None]


@dataclass(frozen=True)
class Seeded:
    """What the benchmark's read model holds."""

    open_findings: int
    real: int  # findings with events, due a step at MOMENT
    synthetic: dict[str, int]  # bulk-inserted rows by kind
    events: int  # events in the log before the first scan
    seconds: float


def seed(
    lastmile: Lastmile, clock: SimulatedClock, count: int, due_share: float, say: Say
) -> Seeded:
    """`count` open findings, round(count × due_share) of them real and due a step at MOMENT."""
    started = time.perf_counter()
    app = lastmile.app
    departments = register_departments(app, clock, DEPARTMENTS)
    evaluations = _record_evaluations(app, clock, departments)
    real = max(1, round(count * due_share))
    rng = random.Random(20_251_112)
    _save_in_batches(app, _due_findings(app, rng, evaluations, real))
    lastmile.projections.catch_up()
    say(f"issued and projected {real:,} findings due a step, {time.perf_counter() - started:.1f} s")
    template = _template_row(lastmile)
    kinds = _insert_quiet_rows(lastmile, rng, template, count - real, [d.code for d in departments])
    events = app.recorder.max_notification_id() or 0
    seconds = time.perf_counter() - started
    say(f"inserted {count - real:,} rows with nothing due; seeded in {seconds:.1f} s")
    return Seeded(count, real, kinds, events, seconds)


# -- the findings due a step: real aggregates ----------------------------------------------


def _record_evaluations(
    app: LastmileApplication, clock: SimulatedClock, departments: list[DepartmentSpec]
) -> list[tuple[DepartmentSpec, str]]:
    """One evaluation per department, recorded at the start of the year."""
    clock.now = datetime(2025, 1, 6, 10, tzinfo=CHINA_TZ).astimezone(UTC)
    rng = random.Random(1)
    recorded = []
    for n, department in enumerate(departments):
        fields = scenery.evaluation_fields(rng, n, department, 2025)
        app.record_evaluation(scenery.EVALUATORS[0], **fields)
        recorded.append((department, str(fields["ref"])))
    return recorded


def _due_findings(
    app: LastmileApplication,
    rng: random.Random,
    evaluations: list[tuple[DepartmentSpec, str]],
    count: int,
) -> list[Finding]:
    """Findings each due at least one step at MOMENT: about a third unacknowledged, a third
    near their deadline, a third overdue (notice and escalations)."""
    made: list[Finding] = []
    n = 0
    while len(made) < count:
        n += 1
        department, evaluation = evaluations[n % len(evaluations)]
        finding = _one_finding(app, rng, n, department, evaluation)
        state = aggregate_clock_state(finding, MOMENT, app.calendar)
        if due_steps(state, local_date(MOMENT), app.policy.ladder, app.calendar):
            made.append(finding)
        if n > 20 * count + 100:
            raise RuntimeError("could not make findings due a step; has the policy changed?")
    return made


def _one_finding(
    app: LastmileApplication,
    rng: random.Random,
    n: int,
    department: DepartmentSpec,
    evaluation: str,
) -> Finding:
    today = local_date(MOMENT)
    kind = n % 3
    if kind == 0:  # not acknowledged, the 3-working-day deadline passed
        issued, acknowledged, due = today - timedelta(days=rng.randint(6, 40)), None, None
    elif kind == 1:  # acknowledged, 0-5 working days left
        issued = today - timedelta(days=rng.randint(20, 80))
        acknowledged = issued + timedelta(days=1)
        due = app.calendar.add_working_days(today, rng.randint(0, 5))
    else:  # acknowledged, overdue by 1-200 calendar days
        age = rng.randint(40, 400)
        issued, acknowledged = today - timedelta(days=age), today - timedelta(days=age - 1)
        due = today - timedelta(days=rng.randint(1, min(200, age - 20)))
    description, category, klass, requirement = scenery.problem(rng)
    draft = FindingDraft("1", "", description, category, klass, requirement, due_on=due)
    order = OrderDraft(f"BENCH-W-{n:06d}", evaluation, department.code, [draft])
    at = _office_moment(app.calendar, issued)
    (finding,) = issue_findings(
        scenery.EVALUATORS[0], at, order, department.code, evaluation, app.calendar, app.policy
    )
    if acknowledged is not None:
        person = rng.choice(scenery.PEOPLE)
        finding.acknowledge(department.user, _office_moment(app.calendar, acknowledged), person, "")
    return finding


def _office_moment(calendar: WorkingCalendar, day: date) -> datetime:
    return datetime.combine(calendar.next_working_day(day), datetime.min.time(), CHINA_TZ).replace(
        hour=10
    )


def _save_in_batches(app: LastmileApplication, made: list[Finding]) -> None:
    made.sort(key=lambda f: f.created_on)  # the log in time order, as issuing would write it
    for start in range(0, len(made), PER_SAVE):
        app.save(*made[start : start + PER_SAVE])


# -- the rest: rows with nothing due -------------------------------------------------------


def _template_row(lastmile: Lastmile) -> dict[str, Any]:
    with lastmile.records.connect() as connection:
        row = connection.execute(select(findings).limit(1)).one()
    return dict(row._mapping)


def _insert_quiet_rows(
    lastmile: Lastmile,
    rng: random.Random,
    template: dict[str, Any],
    count: int,
    departments: list[str],
) -> dict[str, int]:
    app = lastmile.app
    kinds: Counter[str] = Counter()
    rows = _quiet_rows(app.calendar, app.policy.ladder, rng, template, count, departments, kinds)
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == INSERT_CHUNK:
            _insert(lastmile, chunk)
            chunk = []
    _insert(lastmile, chunk)
    return dict(kinds.most_common())


def _insert(lastmile: Lastmile, rows: list[dict[str, Any]]) -> None:
    if rows:
        with lastmile.records.begin() as connection:
            connection.execute(findings.insert(), rows)


def _quiet_rows(
    calendar: WorkingCalendar,
    ladder: LadderPolicy,
    rng: random.Random,
    template: dict[str, Any],
    count: int,
    departments: list[str],
    kinds: Counter[str],
) -> Iterator[dict[str, Any]]:
    today = local_date(MOMENT)
    today_wdn = calendar.working_day_number(today)
    shares, names = [s for s, _ in QUIET], [k for _, k in QUIET]
    for n in range(count):
        kind = rng.choices(names, shares)[0]
        row = _quiet_row(calendar, rng, template, n, departments[n % len(departments)], kind)
        _record_due_steps(row, today, today_wdn, ladder, calendar)
        kinds[kind] += 1
        yield row


def _quiet_row(
    calendar: WorkingCalendar,
    rng: random.Random,
    template: dict[str, Any],
    n: int,
    department: str,
    kind: str,
) -> dict[str, Any]:
    today = local_date(MOMENT)
    wdn = calendar.working_day_number
    if kind == "issued":
        issued = today - timedelta(days=rng.randint(0, 2))
        due = issued + timedelta(days=rng.choice((30, 90, 365)))
    elif kind == "overdue":
        due = today - timedelta(days=rng.randint(1, 300))
        issued = due - timedelta(days=rng.choice((30, 90, 365)))
    else:  # acknowledged, or rectified
        due = today + timedelta(days=rng.randint(10, 365))
        issued = max(due - timedelta(days=rng.choice((30, 90, 365))), today - timedelta(days=400))
    acknowledged = None if kind == "issued" else issued + timedelta(days=rng.randint(1, 3))
    submitted = today - timedelta(days=rng.randint(1, 40)) if kind == "rectified" else None
    row = dict(template)
    row.update(
        id=str(UUID(int=rng.getrandbits(128), version=4)),
        version=2 if acknowledged else 1,
        order_ref=f"BENCH-S-{n // 8:06d}",
        ref=str(n % 8 + 1),
        ref_sort=n % 8 + 1,
        department=department,
        status="acknowledged" if kind == "overdue" else kind,
        issued_on=issued,
        issued_at=_at(issued),
        cycle_started_on=issued,
        acknowledge_due_on=calendar.add_working_days(issued, 3),
        acknowledged_at=_at(acknowledged) if acknowledged else None,
        acknowledged_on=acknowledged,
        original_due_on=due,
        due_on=due,
        due_wdn=wdn(due),
        submitted_at=_at(submitted) if submitted else None,
        verify_due_on=calendar.add_working_days(submitted, 15) if submitted else None,
        verify_due_wdn=wdn(calendar.add_working_days(submitted, 15)) if submitted else None,
        holder="evaluator" if submitted else "department",
        held_since_wdn=wdn(submitted or acknowledged or issued),
        department_overdue_days=0,
        escalation_level=0,
        rejections=0,
        ladder_keys=[],
        changed_at=_at(submitted or acknowledged or issued),
    )
    return row


def _record_due_steps(
    row: dict[str, Any],
    today: date,
    today_wdn: int,
    ladder: LadderPolicy,
    calendar: WorkingCalendar,
) -> None:
    """Put into the row every step the ladder would have recorded by today, as a worker that
    ran every day would have: all weekly overdue notices, not only this week's."""
    state = clock_state(row, today, today_wdn)
    steps = due_steps(state, today, ladder, calendar)
    keys: list[str] = []
    if row["status"] == "acknowledged" and row["due_on"] < today:
        due = row["due_on"]
        keys += [f"due-{n}wd:{due}" for n in ladder.deadline.working_days_before]
        weeks = (state.overdue_days - 1) // ladder.overdue.every_working_days
        keys += [f"overdue-week-{week}:{due}" for week in range(weeks + 1)]
    keys += [step.key for step in steps if step.level is None and step.key not in keys]
    levels = [step.level for step in steps if step.level is not None]
    row["ladder_keys"] = keys
    row["escalation_level"] = max(levels, default=0)
    after = clock_state(row, today, today_wdn)
    if due_steps(after, today, ladder, calendar):
        raise AssertionError(f"a seeded row is still due a step: {row['id']}")


def _at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), CHINA_TZ).replace(hour=10).astimezone(UTC)
