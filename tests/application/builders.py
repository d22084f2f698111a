"""Actors, moments, orders and a controllable clock for the application scenarios."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.application import LastmileApplication
from domain.calendar import CHINA_TZ
from domain.values import Actor, Role
from domain.views import FindingDraft, OrderDraft

EVALUATOR = Actor("eva.li", Role.EVALUATOR)
VERIFIER = Actor("zhou.verifier", Role.EVALUATOR)
CLERK = Actor("wang.clerk", Role.DEPARTMENT)
SUPERVISOR = Actor("sun.supervisor", Role.SUPERVISOR)
SCHEDULER = Actor("scheduler", Role.SYSTEM)
ORDER_REF = "泸财绩〔2025〕12号"
SHA_A = "a" * 64
SHA_B = "b" * 64


def at(text: str) -> datetime:
    """An aware moment in China time, e.g. at("2025-09-26 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


@dataclass
class Clock:
    """The application's clock; tests set or advance `now`."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> datetime:
        self.now = at(text)
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def draft(ref: str = "1", **overrides: object) -> FindingDraft:
    fields: dict[str, object] = {
        "ref": ref,
        "title": f"问题{ref}",
        "description": "项目资金执行率仅 42%，资金闲置沉淀。",
        "category": "过程/预算执行率低",
        "rectification_class": "立行立改",
        "requirement": "年底前执行率达到 90%。",
    }
    fields.update(overrides)
    return FindingDraft(**fields)  # type: ignore[arg-type]


def order(*findings: FindingDraft, ref: str = ORDER_REF, **overrides: object) -> OrderDraft:
    fields: dict[str, object] = {
        "ref": ref,
        "evaluation": "LX-2025-PJ-001",
        "department": "SLJ",
        "findings": findings or (draft(),),
    }
    fields.update(overrides)
    return OrderDraft(**fields)  # type: ignore[arg-type]


def attach(app: LastmileApplication, finding: UUID, sha256: str = SHA_A) -> None:
    app.attach_evidence(finding, CLERK, sha256, f"{sha256[:4]}.pdf", 1024, "application/pdf")
