"""A seeded history of findings, written fast: real domain events, saved many aggregates at a time.

Departments and evaluations are registered through the application. Findings are issued
and driven through their stories (bench.stories) on in-memory aggregates, in time order
across all findings, and saved `per_save` aggregates per `app.save()`, so the hash chain,
the notification log and its order are what a real deployment would have written.
"""

from __future__ import annotations

import heapq
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate

from bench import scenery
from bench.scenery import DepartmentSpec
from bench.stories import Story, life
from domain.application import LastmileApplication
from domain.calendar import CHINA_TZ
from domain.findings import Finding
from domain.orders import issue_findings
from domain.views import FindingDraft, OrderDraft

FIRST_DAY = datetime(2024, 1, 2, 9, tzinfo=CHINA_TZ)
LAST_EVALUATION = datetime(2025, 9, 30, 17, tzinfo=CHINA_TZ)
LAST_ORDER = datetime(2025, 12, 19, 17, tzinfo=CHINA_TZ)
END = datetime(2025, 12, 31, 18, tzinfo=CHINA_TZ)  # the history stops here
REGISTERED_AT = datetime(2023, 12, 1, 9, tzinfo=CHINA_TZ)
Say = Callable[[str], None]


@dataclass(frozen=True)
class Scale:
    """How much history: findings, and the seed that makes it the same every run."""

    findings: int = 100_000
    seed: int = 20_240_102
    per_save: int = 500  # aggregates per app.save()

    @property
    def evaluations(self) -> int:
        return max(10, self.findings // 50)

    @property
    def departments(self) -> int:
        return max(5, self.evaluations // 10)


@dataclass(frozen=True)
class Generated:
    """What was written, how long it took, and how the findings ended."""

    findings: int
    events: int
    departments: int
    evaluations: int
    registry_seconds: float
    findings_seconds: float
    first_at: datetime
    last_at: datetime
    statuses: dict[str, int]  # how the findings' stories ended
    event_types: dict[str, int]  # finding events saved, by type

    @property
    def middle(self) -> datetime:
        return self.first_at + (self.last_at - self.first_at) / 2


class SimulatedClock:
    """The application's clock while the registry is written: set by the generator."""

    def __init__(self) -> None:
        self.now = REGISTERED_AT.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class PlannedOrder:
    """An order to issue at its moment."""

    at: datetime
    draft: OrderDraft


@dataclass(frozen=True)
class Running:
    """A finding whose story is under way."""

    finding: Finding
    steps: Iterator[datetime]


def generate(app: LastmileApplication, clock: SimulatedClock, scale: Scale, say: Say) -> Generated:
    """Register, plan the orders, then play every finding's story out in time order."""
    rng = random.Random(scale.seed)
    started = time.perf_counter()
    departments = register_departments(app, clock, scale.departments)
    evaluations = record_evaluations(app, clock, rng, departments, scale.evaluations)
    registry_seconds = time.perf_counter() - started
    say(f"registered {len(departments)} departments and {len(evaluations)} evaluations "
        f"in {registry_seconds:.1f} s")  # fmt: skip
    orders = plan_orders(rng, evaluations, scale.findings)
    simulation = Simulation(app, rng, {d.code: d for d in departments}, scale, say)
    simulation.play(orders)
    return Generated(
        findings=scale.findings,
        events=app.recorder.max_notification_id() or 0,
        departments=len(departments),
        evaluations=len(evaluations),
        registry_seconds=registry_seconds,
        findings_seconds=time.perf_counter() - started - registry_seconds,
        first_at=orders[0].at,
        last_at=simulation.last_at,
        statuses=dict(simulation.statuses.most_common()),
        event_types=dict(simulation.event_types.most_common()),
    )


def register_departments(
    app: LastmileApplication, clock: SimulatedClock, count: int
) -> list[DepartmentSpec]:
    specs = scenery.department_specs(count)
    for spec in specs:
        head = spec.email.replace("@", "-head@")
        app.register_department(scenery.ADMIN, spec.code, spec.name, spec.email, head)
    return specs


@dataclass(frozen=True)
class RecordedEvaluation:
    """What orders need to know of an evaluation."""

    ref: str
    department: DepartmentSpec
    year: int
    recorded_at: datetime


def record_evaluations(
    app: LastmileApplication,
    clock: SimulatedClock,
    rng: random.Random,
    departments: list[DepartmentSpec],
    count: int,
) -> list[RecordedEvaluation]:
    """Evaluations spread over 2024-2025, each recorded on its own day and by an evaluator."""
    recorded = []
    for n in range(count):
        department = departments[n % len(departments)]
        clock.now = _uniform_moment(rng, FIRST_DAY, LAST_EVALUATION)
        year = clock.now.astimezone(CHINA_TZ).year
        fields = scenery.evaluation_fields(rng, n, department, year)
        app.record_evaluation(rng.choice(scenery.EVALUATORS), **fields)
        recorded.append(RecordedEvaluation(str(fields["ref"]), department, year, clock.now))
    return recorded


def plan_orders(
    rng: random.Random, evaluations: list[RecordedEvaluation], findings: int
) -> list[PlannedOrder]:
    """Orders of 3-12 findings on random evaluations, 3-60 days after each, numbered by date."""
    planned: list[tuple[datetime, RecordedEvaluation, int]] = []
    remaining = findings
    while remaining > 0:
        evaluation = rng.choice(evaluations)
        size = min(remaining, rng.randint(3, 12))
        at = min(evaluation.recorded_at + timedelta(days=rng.uniform(3, 60)), LAST_ORDER)
        planned.append((at.astimezone(UTC), evaluation, size))
        remaining -= size
    planned.sort(key=lambda item: item[0])
    numbers: Counter[tuple[str, int]] = Counter()
    orders = []
    for at, evaluation, size in planned:
        county, year = evaluation.department.county[0], at.astimezone(CHINA_TZ).year
        numbers[(county, year)] += 1
        ref = f"{county}财绩〔{year}〕{numbers[(county, year)]}号"
        orders.append(PlannedOrder(at, _draft(rng, ref, evaluation, size)))
    return orders


def _draft(rng: random.Random, ref: str, evaluation: RecordedEvaluation, size: int) -> OrderDraft:
    drafts = []
    for n in range(1, size + 1):
        description, category, kind, requirement = scenery.problem(rng)
        drafts.append(FindingDraft(str(n), "", description, category, kind, requirement))
    return OrderDraft(ref, evaluation.ref, evaluation.department.code, drafts)


def _uniform_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return (start + (end - start) * rng.random()).astimezone(UTC)


class Simulation:
    """Plays orders and stories in time order, saving dirty aggregates in large batches."""

    def __init__(
        self,
        app: LastmileApplication,
        rng: random.Random,
        departments: dict[str, DepartmentSpec],
        scale: Scale,
        say: Say,
    ) -> None:
        self.app = app
        self.rng = rng
        self.departments = departments
        self.scale = scale
        self.say = say
        self.end = END.astimezone(UTC)
        self.queue: list[tuple[datetime, int, PlannedOrder | Running]] = []
        self.sequence = 0
        self.dirty: dict[UUID, Aggregate] = {}
        self.events = 0
        self.issued = 0
        self.statuses: Counter[str] = Counter()
        self.event_types: Counter[str] = Counter()
        self.last_at = FIRST_DAY
        self.started = time.perf_counter()

    def play(self, orders: list[PlannedOrder]) -> None:
        for order in orders:
            self._push(order.at, order)
        while self.queue:
            at, _, item = heapq.heappop(self.queue)
            if at > self.end and isinstance(item, Running):
                self.statuses[item.finding.status.value] += 1
                continue
            if isinstance(item, PlannedOrder):
                self._issue(item)
            else:
                self._advance(item)
        self._save()

    def _push(self, at: datetime, item: PlannedOrder | Running) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, (at, self.sequence, item))

    def _issue(self, order: PlannedOrder) -> None:
        draft = order.draft
        findings = issue_findings(
            scenery.EVALUATORS[0], order.at, draft, draft.department, draft.evaluation,
            self.app.calendar, self.app.policy,
        )  # fmt: skip
        department = self.departments[draft.department]
        for finding in findings:
            story = Story(finding, department, self.rng, self.app.calendar, self.app.policy)
            self._advance(Running(finding, life(story)))
        self._report_progress(len(findings))

    def _advance(self, running: Running) -> None:
        """Do the finding's pending action, then queue its next one."""
        finding = running.finding
        try:
            at = next(running.steps)
        except StopIteration:
            self.statuses[finding.status.value] += 1
            at = None
        if finding.pending_events:
            self.last_at = max(self.last_at, finding.modified_on)
            self.dirty[finding.id] = finding
            if len(self.dirty) >= self.scale.per_save:
                self._save()
        if at is not None:
            self._push(at, running)

    def _save(self) -> None:
        if self.dirty:
            pending = [e for a in self.dirty.values() for e in a.pending_events]
            self.events += len(pending)
            self.event_types.update(type(e).__name__ for e in pending)
            self.app.save(*self.dirty.values())
            self.dirty.clear()

    def _report_progress(self, issued: int) -> None:
        step = max(1, self.scale.findings // 10)
        before, self.issued = self.issued, self.issued + issued
        if self.issued // step > before // step or self.issued == self.scale.findings:
            elapsed = time.perf_counter() - self.started
            self.say(
                f"issued {self.issued:,}/{self.scale.findings:,} findings, "
                f"{self.events:,} events saved, {elapsed:.0f} s"
            )
