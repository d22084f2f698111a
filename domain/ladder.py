"""The reminder and escalation ladder (PRODUCT.md §5): pure decisions of what is due when.

INTERFACE SKELETON — to be completed (see docs/worker.md). Names here are the contract
that the scan (adapters/worker) and the mail (notifications) code against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from domain.calendar import WorkingCalendar
from domain.values import Status


class Recipient(StrEnum):
    """Who hears of a step; notifications resolves each to e-mail addresses."""

    DEPARTMENT_CONTACT = "department_contact"  # Department.contact_email
    DEPARTMENT_HEAD = "department_head"  # Department.head_email
    RESPONSIBLE_PERSON = "responsible_person"  # a department user named at acknowledgement
    EVALUATOR = "evaluator"  # the user who issued the finding
    SUPERVISORS = "supervisors"  # every supervisor user with an e-mail


@dataclass(frozen=True)
class ClockState:
    """What the ladder needs to know about one finding at one moment."""

    status: Status
    acknowledge_due_on: date
    due_on: date
    department_holds_clock: bool
    overdue_days: int  # working days the department has missed this cycle, at the moment
    submitted_on: date | None  # China date of the current submission (status rectified)
    escalation_level: int
    rejections: int
    done_keys: frozenset[str]  # reminder keys already recorded this cycle


@dataclass(frozen=True)
class Step:
    """One due step: a reminder (level None) or an automatic escalation (level 1-3)."""

    key: str  # e.g. "due-5wd:2025-10-31"; "escalation-2" for levels
    kind: str  # unacknowledged | due_soon | due_today | overdue | verification | escalation
    recipients: tuple[Recipient, ...]
    reason: str  # plain Chinese, recorded on the event
    trigger: str  # the rule that fired, e.g. "overdue-10wd", "rejected-2"
    level: int | None = None


@dataclass(frozen=True)
class LadderPolicy:
    version: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> LadderPolicy:
        raise NotImplementedError

    def escalation_recipients(self, level: int) -> tuple[Recipient, ...]:
        raise NotImplementedError


def due_steps(
    state: ClockState, today: date, policy: LadderPolicy, calendar: WorkingCalendar
) -> list[Step]:
    """Steps due on `today` and not yet recorded, reminders first, escalations lowest first."""
    raise NotImplementedError
