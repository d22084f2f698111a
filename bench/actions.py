"""What each step of a story does to its finding: arguments bound now, done at the moment given."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from bench import scenery
from domain.calendar import local_date
from domain.policies import deadline_for, explicit_deadline

if TYPE_CHECKING:
    from bench.stories import Story

Action = Callable[[datetime], object]


def acknowledge(story: Story) -> Action:
    person = story.rng.choice(scenery.PEOPLE)
    plan = "按期整改，按月报送进展"
    return lambda at: story.finding.acknowledge(story.department.user, at, person, plan)


def withdraw(story: Story) -> Action:
    reason = "经复核，该问题系评价报告误列，予以撤销"
    return lambda at: story.finding.withdraw(story.evaluator(), at, reason)


def request(story: Story, wanted: date) -> Action:
    def act(at: datetime) -> None:
        story.finding.request_extension(story.department.user, at, wanted, "施工受汛期影响")

    return act


def grant(story: Story, wanted: date) -> Action:
    def act(at: datetime) -> None:
        f, note = story.finding, "同意延期"
        deadline = explicit_deadline(wanted, local_date(at), story.calendar, "extension", note)
        f.grant_extension(story.evaluator(), at, len(f.extensions), note, deadline)

    return act


def deny(story: Story) -> Action:
    f = story.finding
    return lambda at: f.deny_extension(story.evaluator(), at, len(f.extensions), "延期理由不充分")


def escalate(story: Story, level: int, trigger: str) -> Action:
    reason = f"逾期未整改，自动升级为{('', '督办', '约谈', '问责')[level]}"
    return lambda at: story.finding.escalate(scenery.SCHEDULER, at, level, reason, trigger)


def interview(story: Story) -> Action:
    note = "约谈单位主要负责人，明确整改时限"
    return lambda at: story.finding.record_interview(scenery.SUPERVISOR, at, local_date(at), note)


def decide(story: Story) -> Action:
    return lambda at: story.finding.decide_accountability(
        scenery.SUPERVISOR, at, "通报批评", "逾期未整改"
    )


def reopen(story: Story) -> Action:
    def act(at: datetime) -> None:
        kind = story.finding.rectification_class.value
        rule = story.policy.classes[kind]
        deadline = deadline_for(f"class:{kind}", rule, local_date(at), story.calendar)
        story.finding.reopen(story.evaluator(), at, "回头看发现问题反弹，重新整改", deadline)

    return act


def reminder(story: Story, kind: str, key: str) -> Action:
    recipients = [story.department.email]
    return lambda at: story.finding.record_reminder(scenery.SCHEDULER, at, kind, recipients, key)


def progress(story: Story) -> Action:
    percent = story.rng.randint(10, 90)
    note = f"已完成整改任务的{percent}%，正在推进剩余工作"
    return lambda at: story.finding.report_progress(story.department.user, at, note, percent)


def attach(story: Story) -> Action:
    sha, size = scenery.sha256_of(story.rng), story.rng.randint(20_000, 8_000_000)

    def act(at: datetime) -> None:
        user, name = story.department.user, "整改佐证.pdf"
        story.finding.attach_evidence(user, at, sha, name, size, "application/pdf")
        story.evidence.append(sha)

    return act


def submit(story: Story) -> Action:
    amount = scenery.amount_recovered(story.rng, story.finding.category)
    rules = story.rng.choice((0, 0, 1, 2))

    def act(at: datetime) -> None:
        user, measures = story.department.user, "已按要求完成整改"
        story.finding.submit_rectification(user, at, measures, story.evidence, amount, rules)

    return act


def verify(story: Story) -> Action:
    return lambda at: story.finding.verify(story.evaluator(), at, "整改到位，同意销号")


def reject(story: Story) -> Action:
    reason = "佐证材料不足以证明整改到位，请补充"
    return lambda at: story.finding.reject(story.evaluator(), at, reason)
