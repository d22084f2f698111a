"""The versioned budget-linkage rule table: grade × rectification at the cut-off → suggestion."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from itertools import combinations
from typing import Any

from domain.policies import PolicyError
from domain.values import Grade

SECTION = "budget_linkage"
_POLICY_KEYS = frozenset({"version", "cutoff", "evaluation_year_lag", "rules"})
_RULE_KEYS = frozenset(
    (
        "id",
        "grade",
        "unverified_findings",
        "suggestion",
        "action",
        "cut_percent",
        "severity",
        "basis",
    )
)
_CUTOFF = re.compile(r"^(\d{2})-(\d{2})$")
_RULE_ID = re.compile(r"^\S{1,64}$")


class LinkageAction(StrEnum):
    PRIORITISE = "prioritise"  # 优先保障
    MAINTAIN = "maintain"  # 据实保障·零增长
    CUT = "cut"  # 核减
    CANCEL = "cancel"  # 取消或暂停
    HOLD_UNTIL_RECTIFIED = "hold_until_rectified"  # 调减预算或整改到位后再予安排


# Actions that take money away: each needs the percentage its amount is computed from.
CUTTING = frozenset({LinkageAction.CUT, LinkageAction.CANCEL, LinkageAction.HOLD_UNTIL_RECTIFIED})


@dataclass(frozen=True)
class LinkageRule:
    """One row of the rule table; None for grade or unverified_findings means "either"."""

    id: str
    grade: str | None
    unverified_findings: bool | None
    suggestion: str
    action: LinkageAction
    cut_percent: Decimal | None
    severity: int  # when several rules apply, the highest wins
    basis: str

    def applies(self, grade: str, unverified: bool) -> bool:
        return self.grade in (None, grade) and self.unverified_findings in (None, unverified)

    def overlaps(self, other: LinkageRule) -> bool:
        """Whether some evaluation could meet both rules."""
        return (None in (self.grade, other.grade) or self.grade == other.grade) and (
            None in (self.unverified_findings, other.unverified_findings)
            or self.unverified_findings == other.unverified_findings
        )


@dataclass(frozen=True)
class LinkagePolicy:
    """The rule table with its version, the budget cut-off and which evaluations feed a year."""

    version: str
    rules: tuple[LinkageRule, ...]
    cutoff: tuple[int, int] = (10, 31)  # month, day, in the year before the budget year
    evaluation_year_lag: int = 1  # evaluations of year Y-1 feed budget year Y

    def __post_init__(self) -> None:
        # Checked here, not only in from_mapping, so no table can ever leave a case undecided.
        _check_unique_ids(self.rules)
        _check_no_ties(self.rules)
        _check_every_case_covered(self.rules)

    def rules_applying(self, grade: str, unverified: bool) -> tuple[LinkageRule, ...]:
        return tuple(r for r in self.rules if r.applies(grade, unverified))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> LinkagePolicy:
        """Parse the [budget_linkage] section; unknown keys are refused, not ignored."""
        _refuse_unknown(data, SECTION, _POLICY_KEYS)
        # In the order a reader meets the keys in the file, so the first error is the first key.
        return cls(
            version=_text(data, SECTION, "version"),
            cutoff=_cutoff(data.get("cutoff", "10-31")),
            evaluation_year_lag=_lag(data.get("evaluation_year_lag", 1)),
            rules=_rules(data.get("rules")),
        )


def _rules(rules: Any) -> tuple[LinkageRule, ...]:
    if not isinstance(rules, list) or not rules:
        raise PolicyError(f"{SECTION}.rules: expected [[{SECTION}.rules]] tables, got {rules!r}")
    return tuple(_rule(r, f"{SECTION}.rules #{n}") for n, r in enumerate(rules, 1))


def _rule(data: Any, where: str) -> LinkageRule:
    if not isinstance(data, Mapping):
        raise PolicyError(f"{where}: expected a table, got {data!r}")
    rule_id = data.get("id")
    if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
        _refuse_unknown(data, where, _RULE_KEYS)  # a misspelt "idd" is the likelier cause
        raise PolicyError(f"{where}.id: expected 1-64 characters without spaces, got {rule_id!r}")
    where = f"{where} ({rule_id})"
    _refuse_unknown(data, where, _RULE_KEYS)
    action = _action(data.get("action"), where)
    return LinkageRule(
        id=rule_id,
        grade=_grade(data.get("grade"), where),
        unverified_findings=_optional_bool(data.get("unverified_findings"), where),
        suggestion=_text(data, where, "suggestion"),
        action=action,
        cut_percent=_cut_percent(data.get("cut_percent"), action, where),
        severity=_severity(data.get("severity"), where),
        basis=_text(data, where, "basis"),
    )


def _refuse_unknown(data: Mapping[str, Any], where: str, known: frozenset[str]) -> None:
    # A misspelt "serverity" must be reported, not silently read as "no severity".
    unknown = sorted(set(data) - known)
    if unknown:
        raise PolicyError(f"{where}.{unknown[0]}: unknown key")


def _text(data: Mapping[str, Any], where: str, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}.{key}: expected a non-empty string, got {value!r}")
    return value.strip()


def _cutoff(value: Any) -> tuple[int, int]:
    match = _CUTOFF.match(value) if isinstance(value, str) else None
    try:
        # 2001 is not a leap year: a 02-29 cut-off would not exist in most years.
        cutoff = date(2001, int(match[1]), int(match[2])) if match else None
    except ValueError:
        cutoff = None
    if cutoff is None:
        raise PolicyError(f"{SECTION}.cutoff: expected a month and day as MM-DD, got {value!r}")
    return cutoff.month, cutoff.day


def _lag(value: Any) -> int:
    # bool is an int subclass; `evaluation_year_lag = true` is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise PolicyError(
            f"{SECTION}.evaluation_year_lag: expected a whole number of years from 1 to 5, "
            f"got {value!r}"
        )
    return value


def _action(value: Any, where: str) -> LinkageAction:
    try:
        return LinkageAction(value)
    except ValueError:
        choices = [a.value for a in LinkageAction]
        raise PolicyError(f"{where}.action: expected one of {choices}, got {value!r}") from None


def _grade(value: Any, where: str) -> str | None:
    grades = [g.value for g in Grade]
    if value is not None and value not in grades:
        raise PolicyError(f"{where}.grade: expected one of {grades} or no key, got {value!r}")
    return None if value is None else str(value)


def _optional_bool(value: Any, where: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise PolicyError(
            f"{where}.unverified_findings: expected true, false or no key, got {value!r}"
        )
    return value


def _severity(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(f"{where}.severity: expected a whole number ≥ 0, got {value!r}")
    return value


def _cut_percent(value: Any, action: LinkageAction, where: str) -> Decimal | None:
    if action not in CUTTING:
        if value is not None:
            raise PolicyError(f"{where}.cut_percent: action {action.value!r} cuts nothing; drop it")
        return None
    percent = _decimal(value)
    if percent is None or not 0 < percent <= 100:
        raise PolicyError(
            f"{where}.cut_percent: action {action.value!r} needs a percentage above 0 "
            f"and at most 100, got {value!r}"
        )
    return percent


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        # str() first: Decimal(0.1) would carry the float's binary error into the amounts.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _check_unique_ids(rules: tuple[LinkageRule, ...]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise PolicyError(f"{SECTION}.rules: id {rule.id!r} is used twice")
        seen.add(rule.id)


def _check_no_ties(rules: tuple[LinkageRule, ...]) -> None:
    # Two rules that can meet one evaluation must not tie, or "the most severe" is ambiguous.
    for a, b in combinations(rules, 2):
        if a.severity == b.severity and a.overlaps(b):
            raise PolicyError(
                f"{SECTION}.rules: {a.id} and {b.id} can apply to the same evaluation "
                f"and share severity {a.severity}; give one a higher severity"
            )


def _check_every_case_covered(rules: tuple[LinkageRule, ...]) -> None:
    for grade in Grade:
        for unverified in (False, True):
            if not any(r.applies(grade.value, unverified) for r in rules):
                state = "with" if unverified else "without"
                raise PolicyError(
                    f"{SECTION}.rules: no rule applies to grade {grade.value} {state} "
                    "unverified findings at the cut-off; every case needs one"
                )
