"""Departments and evaluations: grades, validation and deterministic ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.errors import ValidationError
from domain.registry import (
    Department,
    Evaluation,
    department_id,
    evaluation_id,
    grade_for,
)
from domain.values import Actor, Grade, ObjectType, Role
from tests.domain.builders import at

ADMIN = Actor("admin", Role.ADMIN)
EVALUATOR = Actor("eva.li", Role.EVALUATOR)
NOW = at("2025-09-20 10:00")


def record(**overrides: Any) -> Evaluation:
    fields: dict[str, Any] = {
        "ref": "LX-2025-PJ-001",
        "title": "2025 年农田水利项目绩效评价",
        "year": 2025,
        "object_type": "project",
        "department": "slj",
        "budget_amount": Decimal("1200000.00"),
        "score": Decimal("78.5"),
    }
    fields.update(overrides)
    return Evaluation.record(EVALUATOR, NOW, **fields)


# -- grades -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", Grade.EXCELLENT),
        ("90", Grade.EXCELLENT),
        ("89.99", Grade.GOOD),
        ("80", Grade.GOOD),
        ("79.99", Grade.FAIR),
        ("60", Grade.FAIR),
        ("59.99", Grade.POOR),
        ("0", Grade.POOR),
    ],
)
def test_grade_follows_the_score_with_inclusive_lower_bounds(score: str, grade: Grade) -> None:
    assert grade_for(Decimal(score)) is grade
    assert record(score=Decimal(score)).grade is grade


# -- evaluations --------------------------------------------------------------------------


def test_record_evaluation_keeps_its_fields_and_who_recorded_it() -> None:
    evaluation = record(ref=" LX-2025-PJ-001 ", title=" 评价 ")

    (event,) = evaluation.collect_events()

    assert isinstance(event, Evaluation.Recorded)
    assert (event.actor, event.role, event.timestamp) == ("eva.li", "evaluator", NOW)
    assert (evaluation.ref, evaluation.title) == ("LX-2025-PJ-001", "评价")
    assert evaluation.department == "SLJ"
    assert evaluation.object_type is ObjectType.PROJECT
    assert (evaluation.year, evaluation.score) == (2025, Decimal("78.5"))
    assert evaluation.budget_amount == Decimal("1200000.00")
    assert evaluation.grade is Grade.FAIR


@pytest.mark.parametrize("object_type", [t.value for t in ObjectType])
def test_record_evaluation_accepts_each_object_type(object_type: str) -> None:
    assert record(object_type=object_type).object_type.value == object_type


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"score": Decimal("-0.01")}, "score must be between 0 and 100, not -0.01"),
        ({"score": Decimal("100.01")}, "score must be between 0 and 100, not 100.01"),
        ({"object_type": "bridge"}, "Object type 'bridge' is not one of project, department"),
        ({"object_type": "项目"}, "Object type '项目' is not one of"),
        ({"year": 1999}, "year 1999 is not plausible"),
        ({"year": 2101}, "year 2101 is not plausible"),
        ({"budget_amount": Decimal("-1")}, "budget amount cannot be negative \\(-1\\)"),
        ({"ref": "  "}, "evaluation number is required"),
        ({"title": ""}, "evaluation title is required"),
    ],
)
def test_record_evaluation_refuses_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        record(**overrides)


def test_evaluation_id_is_deterministic_from_its_ref() -> None:
    assert record().id == evaluation_id("LX-2025-PJ-001") == evaluation_id(" LX-2025-PJ-001 ")
    assert evaluation_id("LX-2025-PJ-002") != evaluation_id("LX-2025-PJ-001")


# -- departments --------------------------------------------------------------------------


def test_register_department_normalises_its_code() -> None:
    department = Department.register(
        ADMIN, NOW, " slj ", " 县水利局 ", "slj@lx.gov.cn", "head@lx.gov.cn"
    )

    (event,) = department.collect_events()

    assert isinstance(event, Department.Registered)
    assert (event.actor, event.role, event.timestamp) == ("admin", "admin", NOW)
    assert (department.code, department.name) == ("SLJ", "县水利局")
    assert (department.contact_email, department.head_email) == ("slj@lx.gov.cn", "head@lx.gov.cn")


@pytest.mark.parametrize("code", ["SLJ", "slj-2", "A_1", "X" * 32])
def test_register_department_accepts_codes_of_letters_digits_dash_and_underscore(code: str) -> None:
    assert Department.register(ADMIN, NOW, code, "单位").code == code.upper()


@pytest.mark.parametrize("code", ["", "  ", "水利局", "SL J", "SLJ/1", "X" * 33])
def test_register_department_refuses_a_bad_code(code: str) -> None:
    with pytest.raises(ValidationError, match="must be 1-32 letters, digits"):
        Department.register(ADMIN, NOW, code, "单位")


def test_register_department_needs_a_name() -> None:
    with pytest.raises(ValidationError, match="department name is required"):
        Department.register(ADMIN, NOW, "SLJ", " ")


@pytest.mark.parametrize("email", [None, "", "  "])
def test_register_department_allows_missing_e_mail_addresses(email: str | None) -> None:
    department = Department.register(ADMIN, NOW, "SLJ", "县水利局", email, email)

    assert (department.contact_email, department.head_email) == ("", "")


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@c.cn", "@lx.gov.cn"])
@pytest.mark.parametrize("which", ["contact", "head"])
def test_register_department_refuses_a_malformed_e_mail(which: str, email: str) -> None:
    contact, head = (email, None) if which == "contact" else (None, email)
    label = "contact e-mail" if which == "contact" else "head's e-mail"

    with pytest.raises(ValidationError, match=f"{label} '{email}' is not an e-mail address"):
        Department.register(ADMIN, NOW, "SLJ", "县水利局", contact, head)


def test_department_id_is_deterministic_from_its_code_whatever_the_case() -> None:
    department = Department.register(ADMIN, NOW, "slj", "县水利局")

    assert department.id == department_id("SLJ") == department_id(" slj ")
    assert department_id("CZJ") != department.id
    # Departments and evaluations live in separate id spaces.
    assert department_id("X") != evaluation_id("X")
