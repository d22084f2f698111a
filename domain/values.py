"""Value types shared by the aggregates, the application and its views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import ValidationError


class Role(StrEnum):
    EVALUATOR = "evaluator"
    DEPARTMENT = "department"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"  # the scheduler: reminders and automatic escalations


class Status(StrEnum):
    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    RECTIFIED = "rectified"
    VERIFIED = "verified"
    WITHDRAWN = "withdrawn"


class RectificationClass(StrEnum):
    IMMEDIATE = "immediate"  # 立行立改
    PHASED = "phased"  # 分阶段整改
    LONG_TERM = "long_term"  # 持续整改


class ObjectType(StrEnum):
    PROJECT = "project"  # 项目支出
    DEPARTMENT = "department"  # 部门整体
    POLICY = "policy"  # 政策
    TRANSFER = "transfer"  # 转移支付


class Grade(StrEnum):
    EXCELLENT = "优"
    GOOD = "良"
    FAIR = "中"
    POOR = "差"


@dataclass(frozen=True)
class Actor:
    """Who performs a command, as recorded on every event."""

    user_id: str
    role: Role

    def __post_init__(self) -> None:
        if not self.user_id.strip():
            raise ValidationError("Every action must name the user who takes it.")


@dataclass(frozen=True)
class EvidenceItem:
    """One uploaded file (佐证材料), identified by its SHA-256."""

    sha256: str
    name: str
    size: int
    media_type: str
    attached_at: datetime
    cycle: int


def required_text(value: str, what: str, max_length: int = 10_000) -> str:
    """Return value stripped, or refuse it when blank or too long."""
    stripped = _no_nul(value, what).strip()
    if not stripped:
        raise ValidationError(f"{what} is required and may not be blank.")
    if len(stripped) > max_length:
        raise ValidationError(f"{what} is {len(stripped)} characters; at most {max_length}.")
    return stripped


def optional_text(value: str | None, what: str, max_length: int = 10_000) -> str:
    """Return value stripped ('' for None), refusing it when too long."""
    stripped = _no_nul(value or "", what).strip()
    if len(stripped) > max_length:
        raise ValidationError(f"{what} is {len(stripped)} characters; at most {max_length}.")
    return stripped


def _no_nul(value: str, what: str) -> str:
    # PostgreSQL text cannot hold NUL: the event would be stored but never projected.
    if "\x00" in value:
        raise ValidationError(f"{what} may not contain the NUL character.")
    return value
