"""Departments (整改责任单位) and evaluations (绩效评价): the facts findings refer to."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import ValidationError
from domain.values import Actor, Grade, ObjectType, optional_text, required_text

REGISTRY_NAMESPACE = uuid5(NAMESPACE_URL, "https://lastmile.example/registry")
DEPARTMENT_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def department_id(code: str) -> UUID:
    return uuid5(REGISTRY_NAMESPACE, f"department\x1f{code.strip().upper()}")


def evaluation_id(ref: str) -> UUID:
    return uuid5(REGISTRY_NAMESPACE, f"evaluation\x1f{ref.strip()}")


def grade_for(score: Decimal) -> Grade:
    """优 ≥90, 良 ≥80, 中 ≥60, 差 <60 (each lower bound inclusive)."""
    if score >= 90:
        return Grade.EXCELLENT
    if score >= 80:
        return Grade.GOOD
    if score >= 60:
        return Grade.FAIR
    return Grade.POOR


def _email(value: str | None, what: str) -> str:
    text = optional_text(value, what, 254)
    if text and not EMAIL.match(text):
        raise ValidationError(f"{what} {text!r} is not an e-mail address.")
    return text


class Department(Aggregate):
    """A budget department or unit that must rectify; its code is its natural key."""

    TOPIC = "lastmile:Department"

    if TYPE_CHECKING:  # set by Registered.apply; real annotations would make a dataclass
        code: str
        name: str
        contact_email: str
        head_email: str

    class Event(Aggregate.Event):
        actor: str
        role: str

    class Registered(Event, Aggregate.Created):
        TOPIC = "lastmile:Department.Registered"
        code: str
        name: str
        contact_email: str
        head_email: str

        def apply(self, aggregate: Any) -> None:
            aggregate.code = self.code
            aggregate.name = self.name
            aggregate.contact_email = self.contact_email
            aggregate.head_email = self.head_email

    # Aggregate.Created would otherwise be re-declared here without a stable topic.
    Created = Registered

    @staticmethod
    def create_id(code: str) -> UUID:
        return department_id(code)

    @classmethod
    def register(
        cls,
        actor: Actor,
        at: datetime,
        code: str,
        name: str,
        contact_email: str | None = None,
        head_email: str | None = None,
    ) -> Department:
        """Register a department under its code (e.g. SLJ for 县水利局)."""
        code = code.strip().upper()
        if not DEPARTMENT_CODE.match(code):
            raise ValidationError(
                f"Department code {code!r} must be 1-32 letters, digits, '-' or '_'."
            )
        return cls._create(
            cls.Registered,
            timestamp=at,
            actor=actor.user_id,
            role=actor.role.value,
            code=code,
            name=required_text(name, "The department name", 200),
            contact_email=_email(contact_email, "The contact e-mail"),
            head_email=_email(head_email, "The head's e-mail"),
        )


class Evaluation(Aggregate):
    """One performance evaluation with its score and grade; its ref is its natural key."""

    TOPIC = "lastmile:Evaluation"

    if TYPE_CHECKING:  # set by Recorded.apply; real annotations would make a dataclass
        ref: str
        title: str
        year: int
        object_type: ObjectType
        department: str
        budget_amount: Decimal
        score: Decimal
        grade: Grade

    class Event(Aggregate.Event):
        actor: str
        role: str

    class Recorded(Event, Aggregate.Created):
        TOPIC = "lastmile:Evaluation.Recorded"
        ref: str
        title: str
        year: int
        object_type: str
        department: str
        budget_amount: Decimal
        score: Decimal
        grade: str

        def apply(self, aggregate: Any) -> None:
            for name in ("ref", "title", "year", "department", "budget_amount", "score"):
                setattr(aggregate, name, getattr(self, name))
            aggregate.object_type = ObjectType(self.object_type)
            aggregate.grade = Grade(self.grade)

    # Aggregate.Created would otherwise be re-declared here without a stable topic.
    Created = Recorded

    @staticmethod
    def create_id(ref: str) -> UUID:
        return evaluation_id(ref)

    @classmethod
    def record(
        cls,
        actor: Actor,
        at: datetime,
        *,
        ref: str,
        title: str,
        year: int,
        object_type: str,
        department: str,
        budget_amount: Decimal,
        score: Decimal,
    ) -> Evaluation:
        """Record an evaluation; its grade follows from the score."""
        if not 2000 <= year <= 2100:
            raise ValidationError(f"The evaluation year {year} is not plausible (2000-2100).")
        if not 0 <= score <= 100:
            raise ValidationError(f"The score must be between 0 and 100, not {score}.")
        if budget_amount < 0:
            raise ValidationError(f"The budget amount cannot be negative ({budget_amount}).")
        try:
            kind = ObjectType(object_type)
        except ValueError:
            choices = ", ".join(t.value for t in ObjectType)
            raise ValidationError(f"Object type {object_type!r} is not one of {choices}.") from None
        return cls._create(
            cls.Recorded,
            timestamp=at,
            actor=actor.user_id,
            role=actor.role.value,
            ref=required_text(ref, "The evaluation number", 100),
            title=required_text(title, "The evaluation title", 500),
            year=year,
            object_type=kind.value,
            department=department.strip().upper(),
            budget_amount=budget_amount,
            score=score,
            grade=grade_for(score).value,
        )
