"""One finding's life as a generator: it yields when its next action happens, then does it.

The mix of fates (prompt or late, extended, sent back, escalated, reopened, withdrawn) and
the delays between steps are rough guesses at a county's last mile, not measurements.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bench import actions, scenery
from bench.actions import Action
from bench.scenery import DepartmentSpec
from domain.calendar import CHINA_TZ, WorkingCalendar, local_date
from domain.findings import Finding
from domain.policies import DeadlinePolicy
from domain.values import Actor, Status

Agenda = list[tuple[datetime, Action]]
Steps = Generator[datetime, None, None]
NEVER_ACKNOWLEDGED, LATE_ACKNOWLEDGED = 0.03, 0.12
WITHDRAWN = 0.02
ON_TIME = 0.75
LATE_MEAN_DAYS = 20
EXTENSION, EXTENSION_GRANTED = 0.08, 0.7
REJECTED = (0.15, 0.1)  # chance of being sent back at the first and second review
REOPENED = 0.02
MORE_EVIDENCE = 0.3  # chance of a new file after being sent back
PROGRESS_REPORTS = {"immediate": (0, 0), "phased": (0, 1), "long_term": (1, 3)}
SECOND_FILE = 0.05  # chance that a submission carries two files rather than one
# (days after the deadline, reminder kind or escalation level, key or trigger)
PRESSURE: list[tuple[int, str | int, str]] = [
    (1, "overdue", "overdue-1wd"),
    (14, 1, "overdue-10wd"),
    (42, 2, "overdue-30wd"),
    (90, 3, "overdue-60wd"),
]


@dataclass
class Story:
    """A finding, who acts on it, and the time its story has reached."""

    finding: Finding
    department: DepartmentSpec
    rng: random.Random
    calendar: WorkingCalendar
    policy: DeadlinePolicy
    at: datetime = field(init=False)
    evidence: list[str] = field(default_factory=list)  # attached in the current cycle

    def __post_init__(self) -> None:
        self.at = self.finding.modified_on

    def office_hours(self, day: date) -> datetime:
        """A moment in office hours on that day, or on the next working day."""
        day = self.calendar.next_working_day(day)
        minutes = self.rng.randint(8 * 60 + 30, 17 * 60 + 30)
        local = datetime.combine(day, time(), CHINA_TZ) + timedelta(minutes=minutes)
        return local.astimezone(UTC)

    def after(self, days: float, since: datetime | None = None) -> datetime:
        """A moment in office hours about `days` after `since` (default: the story's time)."""
        start = since or self.at
        moment = self.office_hours(local_date(start + timedelta(days=days)))
        return max(moment, start + timedelta(minutes=1))

    def evaluator(self) -> Actor:
        return self.rng.choice(scenery.EVALUATORS)


def life(story: Story) -> Steps:
    """Acknowledge, rectify (perhaps twice), or stop at any point the scenario says."""
    if not (yield from acknowledgement(story)):
        return
    if story.rng.random() < WITHDRAWN:
        yield from withdrawal(story)
        return
    yield from rectification(story)
    if story.finding.status is Status.VERIFIED and story.rng.random() < REOPENED:
        yield from reopening(story)
        yield from rectification(story)


def run(story: Story, agenda: Agenda) -> Steps:
    """Do the agenda's actions in time order; each waits for its moment first."""
    for moment, action in sorted(agenda, key=lambda item: item[0]):
        story.at = max(moment, story.at)
        yield story.at
        action(story.at)


def acknowledgement(story: Story) -> Generator[datetime, None, bool]:
    """Sign promptly, late (after a reminder), or never (and be chased until the end)."""
    f, rng = story.finding, story.rng
    roll = rng.random()
    if roll < NEVER_ACKNOWLEDGED:
        yield from run(story, pressure(story, f.deadline.due_on, story.at, None))
        return False
    late = roll < NEVER_ACKNOWLEDGED + LATE_ACKNOWLEDGED
    signed = story.after(rng.uniform(4, 15) if late else rng.uniform(0, 3))
    reminded = story.office_hours(f.acknowledge_deadline.due_on)
    agenda = (
        [(reminded, actions.reminder(story, "acknowledge_due", "ack-due"))]
        if reminded < signed
        else []
    )
    yield from run(story, [*agenda, (signed, actions.acknowledge(story))])
    return True


def withdrawal(story: Story) -> Steps:
    yield from run(story, [(story.after(story.rng.uniform(5, 40)), actions.withdraw(story))])


def rectification(story: Story) -> Steps:
    """Work until submission, then reviews until verified (or sent back twice, then verified)."""
    story.evidence = []
    yield from run(story, work(story))
    for chance in (*REJECTED, 0.0):
        reviewed = story.after(story.rng.uniform(1, 18))
        if story.rng.random() >= chance:
            yield from run(story, [(reviewed, actions.verify(story))])
            return
        yield from run(story, [(reviewed, actions.reject(story))])
        yield from run(story, rework(story))


def reopening(story: Story) -> Steps:
    yield from run(story, [(story.after(story.rng.uniform(60, 150)), actions.reopen(story))])


def work(story: Story) -> Agenda:
    """Progress, evidence, perhaps an extension, reminders and escalations, then submission."""
    start, rng = story.at, story.rng
    due, pressed_from = story.finding.deadline.due_on, start
    agenda: Agenda = []
    if rng.random() < EXTENSION:
        due, pressed_from, agenda = extension(story, due)
    submitted = _submission_moment(story, due)
    low, high = PROGRESS_REPORTS[story.finding.rectification_class.value]
    reports = rng.randint(low, high)
    files = 1 + (rng.random() < SECOND_FILE)
    agenda += [(_between(story, start, submitted), actions.progress(story)) for _ in range(reports)]
    agenda += [(_between(story, start, submitted), actions.attach(story)) for _ in range(files)]
    agenda += pressure(story, due, pressed_from, submitted)
    return _then(agenda, submitted, actions.submit(story))


def rework(story: Story) -> Agenda:
    """After being sent back: perhaps more evidence, the same pressure, a new submission."""
    start = story.at
    submitted = story.after(story.rng.uniform(3, 25))
    agenda: Agenda = []
    if story.rng.random() < MORE_EVIDENCE:
        agenda.append((_between(story, start, submitted), actions.attach(story)))
    agenda += pressure(story, story.finding.deadline.due_on, start, submitted)
    return _then(agenda, submitted, actions.submit(story))


def extension(story: Story, due: date) -> tuple[date, datetime, Agenda]:
    """Ask for a later deadline part-way through: (deadline then, pressure from, agenda)."""
    rng = story.rng
    asked = story.after((due - local_date(story.at)).days * rng.uniform(0.3, 0.7))
    decided = story.after(rng.uniform(2, 6), since=asked)
    wanted = due + timedelta(days=rng.choice((30, 60, 90)))
    if rng.random() >= EXTENSION_GRANTED:
        return (
            due,
            story.at,
            [(asked, actions.request(story, wanted)), (decided, actions.deny(story))],
        )
    return (
        wanted,
        decided,
        [(asked, actions.request(story, wanted)), (decided, actions.grant(story, wanted))],
    )


def pressure(story: Story, due: date, since: datetime, until: datetime | None) -> Agenda:
    """The scheduler's reminders and escalations that fall between since and until."""
    agenda: Agenda = []
    for days, what, key in PRESSURE:
        moment = story.office_hours(due + timedelta(days=days))
        if moment <= since or (until is not None and moment >= until):
            continue
        if isinstance(what, str):
            agenda.append((moment, actions.reminder(story, what, key)))
        else:
            agenda += _escalation(story, what, key, moment, until)
    return agenda


def _escalation(
    story: Story, level: int, trigger: str, moment: datetime, until: datetime | None
) -> Agenda:
    """An automatic escalation, and at levels 2 and 3 the interview or decision that follows."""
    agenda: Agenda = [(moment, actions.escalate(story, level, trigger))]
    follow_up = story.after(story.rng.uniform(5, 20), since=moment)
    if level == 2:
        agenda.append((follow_up, actions.interview(story)))
    elif level == 3:
        agenda.append((follow_up, actions.decide(story)))
    return [(m, a) for m, a in agenda if until is None or m < until]


# -- moments -------------------------------------------------------------------------


def _submission_moment(story: Story, due: date) -> datetime:
    period = max((due - local_date(story.at)).days, 1)
    if story.rng.random() < ON_TIME:
        return story.after(period * story.rng.uniform(0.3, 0.95))
    return story.after(period + story.rng.expovariate(1 / LATE_MEAN_DAYS))


def _between(story: Story, start: datetime, end: datetime) -> datetime:
    """Office hours somewhere between start and end (or just after start)."""
    rough = start + (end - start) * story.rng.uniform(0.05, 0.95)
    return max(story.office_hours(local_date(rough)), start + timedelta(minutes=1))


def _then(agenda: Agenda, moment: datetime, last: Action) -> Agenda:
    """The agenda, then `last` strictly after everything on it."""
    latest = max((m for m, _ in agenda), default=moment)
    return [*agenda, (max(moment, latest + timedelta(minutes=1)), last)]
