"""The deadline policy file: the packaged default loads, and bad files name what is wrong."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from adapters.calendar_table import load_holiday_table
from adapters.policy import load_deadline_policy
from domain.calendar import WorkingCalendar
from domain.ladder import Recipient
from domain.policies import DeadlineRule, DeadlineUnit, PolicyError, deadline_for

GOOD = """
version = "local.2"

[acknowledge]
unit = "working_days"
count = 5
basis = "本地办法"

[immediate]
unit = "calendar_days"
count = 20
basis = "本地办法"

[phased]
unit = "calendar_days"
count = 60
basis = "本地办法"

[long_term]
unit = "calendar_days"
count = 180
progress_every_months = 1
basis = "本地办法"

[verification]
unit = "working_days"
count = 10
basis = "本地办法"

[reminders]
hold_on_rest_days = false
basis = "本地办法"

[reminders.unacknowledged]
recipients = ["department_contact", "department_head"]
basis = "本地办法"

[reminders.deadline]
working_days_before = [3, 0]
recipients = ["responsible_person"]
basis = "本地办法"

[reminders.overdue]
every_working_days = 10
recipients = ["department_contact"]
basis = "本地办法"

[reminders.unverified]
recipients = ["evaluator", "supervisors"]
basis = "本地办法"

[escalation.level_1]
overdue_working_days = 3
recipients = ["department_head"]
basis = "本地办法"

[escalation.level_2]
overdue_working_days = 15
rejections = 3
recipients = ["supervisors"]
basis = "本地办法"

[escalation.level_3]
overdue_working_days = 45
recipients = ["supervisors"]
basis = "本地办法"
"""


def test_packaged_policy_holds_the_product_defaults() -> None:
    policy = load_deadline_policy()
    assert policy.version == "2025.1"
    expected = {
        "acknowledge": (policy.acknowledge, DeadlineUnit.WORKING_DAYS, 3),
        "immediate": (policy.classes["immediate"], DeadlineUnit.CALENDAR_DAYS, 30),
        "phased": (policy.classes["phased"], DeadlineUnit.CALENDAR_DAYS, 90),
        "long_term": (policy.classes["long_term"], DeadlineUnit.CALENDAR_DAYS, 365),
        "verification": (policy.verification, DeadlineUnit.WORKING_DAYS, 15),
    }
    for name, (rule, unit, count) in expected.items():
        assert (rule.unit, rule.count) == (unit, count), name
    assert policy.long_term_progress_every_months == 3


def test_packaged_policy_cites_a_basis_for_every_rule() -> None:
    policy = load_deadline_policy()
    rules = [policy.acknowledge, policy.verification, *policy.classes.values()]
    assert all("Lastmile 默认值" in rule.basis for rule in rules)
    assert all("民法典》第二百零三条" in rule.basis for rule in policy.classes.values())


def test_packaged_policy_computes_an_immediate_deadline() -> None:
    rule = load_deadline_policy().classes["immediate"]
    calendar = WorkingCalendar(load_holiday_table())
    calculation = deadline_for("class:immediate", rule, date(2025, 9, 5), calendar)
    assert (calculation.due_on, calculation.rolled_from) == (date(2025, 10, 9), date(2025, 10, 5))
    assert calculation.basis == rule.basis


def test_file_policy_overrides_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(GOOD, encoding="utf-8")
    policy = load_deadline_policy(path)
    assert policy.version == "local.2"
    assert policy.acknowledge == DeadlineRule(DeadlineUnit.WORKING_DAYS, 5, "本地办法")
    assert policy.long_term_progress_every_months == 1
    ladder = policy.ladder
    assert not ladder.hold_on_rest_days
    assert ladder.verification == policy.verification
    assert ladder.deadline.working_days_before == (3, 0)
    assert ladder.deadline.recipients == (Recipient.RESPONSIBLE_PERSON,)
    assert ladder.overdue.every_working_days == 10
    assert [(r.overdue_working_days, r.rejections) for r in ladder.escalation] == [
        (3, None),
        (15, 3),
        (45, None),
    ]
    assert ladder.escalation_recipients(1) == (Recipient.DEPARTMENT_HEAD,)


def test_packaged_policy_holds_the_ladder_defaults() -> None:
    ladder = load_deadline_policy().ladder
    assert ladder.hold_on_rest_days
    assert ladder.unacknowledged.recipients == (Recipient.DEPARTMENT_CONTACT,)
    assert ladder.deadline.working_days_before == (5, 1, 0)
    assert ladder.deadline.recipients == (
        Recipient.DEPARTMENT_CONTACT,
        Recipient.RESPONSIBLE_PERSON,
    )
    assert ladder.overdue.every_working_days == 5
    assert ladder.overdue.recipients == (Recipient.DEPARTMENT_CONTACT, Recipient.EVALUATOR)
    assert ladder.unverified.recipients == (Recipient.EVALUATOR,)
    assert [(r.overdue_working_days, r.rejections) for r in ladder.escalation] == [
        (1, None),
        (10, 2),
        (30, None),
    ]
    assert ladder.escalation_recipients(1) == (
        Recipient.DEPARTMENT_HEAD,
        Recipient.EVALUATOR,
        Recipient.SUPERVISORS,
    )
    assert ladder.escalation_recipients(2) == ladder.escalation_recipients(3)
    assert ladder.escalation_recipients(3) == (Recipient.SUPERVISORS,)
    bases = [ladder.rest_day_basis, ladder.unacknowledged.basis, ladder.deadline.basis]
    bases += [ladder.overdue.basis, ladder.unverified.basis, *(r.basis for r in ladder.escalation)]
    assert all("Lastmile 默认值" in basis for basis in bases)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("count = 20", "count = -20", r"immediate\.count"),
        ('unit = "calendar_days"\ncount = 60', 'unit = "days"\ncount = 60', r"phased\.unit"),
        ("progress_every_months = 1", "progress_every_month = 1", r"long_term\.progress_every"),
        ('version = "local.2"', "", "version"),
        ("[verification]", "[verificaton]", "verification"),
        ("count = 5", "count = ", "line"),  # TOML syntax error: tomllib names the line
        ("hold_on_rest_days = false", 'hold_on_rest_days = "no"', r"reminders\.hold_on_rest"),
        ("every_working_days = 10", "every_working_days = 0", r"overdue\.every_working_days"),
        ('["responsible_person"]', '["manager"]', r"reminders\.deadline\.recipients"),
        ("rejections = 3", "rejections = -1", r"escalation\.level_2\.rejections"),
        ("overdue_working_days = 45", "overdue_working_days = 9", r"level_3\.overdue_working"),
        ("[escalation.level_3]", "[escalation.level_4]", r"escalation\.level_4"),
        ("[reminders.unverified]", "[reminders.unverfied]", r"reminders\.unverfied"),
    ],
)
def test_bad_file_names_the_file_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyError, match=message) as raised:
        load_deadline_policy(path)
    assert str(path) in str(raised.value)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(PolicyError, match=r"absent\.toml"):
        load_deadline_policy(path)
