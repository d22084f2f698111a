"""One finding's life as a generator: it yields when its next action happens, then does it.

The mix of fates (prompt or late, extended, sent back, escalated, reopened, withdrawn) and
the delays between steps are rough guesses at a county's last mile, not measurements.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bench import scenery
from bench.scenery import DepartmentSpec
from domain.calendar import CHINA_TZ, WorkingCalendar, local_date
from domain.findings import Finding
from domain.policies import DeadlinePolicy, deadline_for, explicit_deadline
from domain.values import Actor, Status

Action = Callable[[datetime], object]
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
        [(reminded, _reminder(story, "acknowledge_due", "ack-due"))] if reminded < signed else []
    )
    yield from run(story, [*agenda, (signed, _acknowledge(story))])
    return True


def withdrawal(story: Story) -> Steps:
    yield from run(story, [(story.after(story.rng.uniform(5, 40)), _withdraw(story))])


def rectification(story: Story) -> Steps:
    """Work until submission, then reviews until verified (or sent back twice, then verified)."""
    story.evidence = []
    yield from run(story, work(story))
    for chance in (*REJECTED, 0.0):
        reviewed = story.after(story.rng.uniform(1, 18))
        if story.rng.random() >= chance:
            yield from run(story, [(reviewed, _verify(story))])
            return
        yield from run(story, [(reviewed, _reject(story))])
        yield from run(story, rework(story))


def reopening(story: Story) -> Steps:
    yield from run(story, [(story.after(story.rng.uniform(60, 150)), _reopen(story))])


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
    agenda += [(_between(story, start, submitted), _progress(story)) for _ in range(reports)]
    agenda += [(_between(story, start, submitted), _attach(story)) for _ in range(files)]
    agenda += pressure(story, due, pressed_from, submitted)
    return _then(agenda, submitted, _submit(story))


def rework(story: Story) -> Agenda:
    """After being sent back: perhaps more evidence, the same pressure, a new submission."""
    start = story.at
    submitted = story.after(story.rng.uniform(3, 25))
    agenda: Agenda = []
    if story.rng.random() < MORE_EVIDENCE:
        agenda.append((_between(story, start, submitted), _attach(story)))
    agenda += pressure(story, story.finding.deadline.due_on, start, submitted)
    return _then(agenda, submitted, _submit(story))


def extension(story: Story, due: date) -> tuple[date, datetime, Agenda]:
    """Ask for a later deadline part-way through: (deadline then, pressure from, agenda)."""
    rng = story.rng
    asked = story.after((due - local_date(story.at)).days * rng.uniform(0.3, 0.7))
    decided = story.after(rng.uniform(2, 6), since=asked)
    wanted = due + timedelta(days=rng.choice((30, 60, 90)))
    if rng.random() >= EXTENSION_GRANTED:
        return due, story.at, [(asked, _request(story, wanted)), (decided, _deny(story))]
    return wanted, decided, [(asked, _request(story, wanted)), (decided, _grant(story, wanted))]


def pressure(story: Story, due: date, since: datetime, until: datetime | None) -> Agenda:
    """The scheduler's reminders and escalations that fall between since and until."""
    agenda: Agenda = []
    for days, what, key in PRESSURE:
        moment = story.office_hours(due + timedelta(days=days))
        if moment <= since or (until is not None and moment >= until):
            continue
        if isinstance(what, str):
            agenda.append((moment, _reminder(story, what, key)))
        else:
            agenda += _escalation(story, what, key, moment, until)
    return agenda


def _escalation(
    story: Story, level: int, trigger: str, moment: datetime, until: datetime | None
) -> Agenda:
    """An automatic escalation, and at levels 2 and 3 the interview or decision that follows."""
    agenda: Agenda = [(moment, _escalate(story, level, trigger))]
    follow_up = story.after(story.rng.uniform(5, 20), since=moment)
    if level == 2:
        agenda.append((follow_up, _interview(story)))
    elif level == 3:
        agenda.append((follow_up, _decide(story)))
    return [(m, a) for m, a in agenda if until is None or m < until]


# -- actions: each binds its arguments now and acts at the moment it is given -------


def _acknowledge(story: Story) -> Action:
    person = story.rng.choice(scenery.PEOPLE)
    plan = "按期整改，按月报送进展"
    return lambda at: story.finding.acknowledge(story.department.user, at, person, plan)


def _withdraw(story: Story) -> Action:
    reason = "经复核，该问题系评价报告误列，予以撤销"
    return lambda at: story.finding.withdraw(story.evaluator(), at, reason)


def _request(story: Story, wanted: date) -> Action:
    def request(at: datetime) -> None:
        story.finding.request_extension(story.department.user, at, wanted, "施工受汛期影响")

    return request


def _grant(story: Story, wanted: date) -> Action:
    def grant(at: datetime) -> None:
        f, note = story.finding, "同意延期"
        deadline = explicit_deadline(wanted, local_date(at), story.calendar, "extension", note)
        f.grant_extension(story.evaluator(), at, len(f.extensions), note, deadline)

    return grant


def _deny(story: Story) -> Action:
    f = story.finding
    return lambda at: f.deny_extension(story.evaluator(), at, len(f.extensions), "延期理由不充分")


def _escalate(story: Story, level: int, trigger: str) -> Action:
    reason = f"逾期未整改，自动升级为{('', '督办', '约谈', '问责')[level]}"
    return lambda at: story.finding.escalate(scenery.SCHEDULER, at, level, reason, trigger)


def _interview(story: Story) -> Action:
    note = "约谈单位主要负责人，明确整改时限"
    return lambda at: story.finding.record_interview(scenery.SUPERVISOR, at, local_date(at), note)


def _decide(story: Story) -> Action:
    return lambda at: story.finding.decide_accountability(
        scenery.SUPERVISOR, at, "通报批评", "逾期未整改"
    )


def _reopen(story: Story) -> Action:
    def reopen(at: datetime) -> None:
        kind = story.finding.rectification_class.value
        rule = story.policy.classes[kind]
        deadline = deadline_for(f"class:{kind}", rule, local_date(at), story.calendar)
        story.finding.reopen(story.evaluator(), at, "回头看发现问题反弹，重新整改", deadline)

    return reopen


def _reminder(story: Story, kind: str, key: str) -> Action:
    recipients = [story.department.email]
    return lambda at: story.finding.record_reminder(scenery.SCHEDULER, at, kind, recipients, key)


def _progress(story: Story) -> Action:
    percent = story.rng.randint(10, 90)
    note = f"已完成整改任务的{percent}%，正在推进剩余工作"
    return lambda at: story.finding.report_progress(story.department.user, at, note, percent)


def _attach(story: Story) -> Action:
    sha, size = scenery.sha256_of(story.rng), story.rng.randint(20_000, 8_000_000)

    def attach(at: datetime) -> None:
        user, name = story.department.user, "整改佐证.pdf"
        story.finding.attach_evidence(user, at, sha, name, size, "application/pdf")
        story.evidence.append(sha)

    return attach


def _submit(story: Story) -> Action:
    amount = scenery.amount_recovered(story.rng, story.finding.category)
    rules = story.rng.choice((0, 0, 1, 2))

    def submit(at: datetime) -> None:
        user, measures = story.department.user, "已按要求完成整改"
        story.finding.submit_rectification(user, at, measures, story.evidence, amount, rules)

    return submit


def _verify(story: Story) -> Action:
    return lambda at: story.finding.verify(story.evaluator(), at, "整改到位，同意销号")


def _reject(story: Story) -> Action:
    reason = "佐证材料不足以证明整改到位，请补充"
    return lambda at: story.finding.reject(story.evaluator(), at, reason)


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
