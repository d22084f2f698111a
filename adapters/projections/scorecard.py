"""Department scorecards, with every metric defined as PRODUCT.md §6 writes it.

A finding is *due* at a moment when its current deadline has passed or it is verified;
withdrawn findings count nowhere. Rates are None when their denominator is 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

from adapters.projections.moments import Moment, findings_at

TOTAL = "全部"
OPEN = ("issued", "acknowledged")


def _count(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _later(a: Any, b: Any) -> Any:
    """The larger of two columns, portably (SQLite has no GREATEST)."""
    return case((a > b, a), else_=b)


def _sums(connection: Connection, moment: Moment) -> list[Mapping[str, Any]]:
    f = findings_at(moment).c
    t, today = moment.day, moment.day_number
    verified = f.status == "verified"
    overdue = and_(f.status.in_(OPEN), f.due_on < t)
    since_due = today - _later(f.due_wdn, f.held_since_wdn)
    ongoing_department = case((and_(f.holder == "department", since_due > 0), since_due), else_=0)
    since_review_due = today - _later(f.verify_due_wdn, f.held_since_wdn)
    ongoing_evaluator = case(
        (and_(f.holder == "evaluator", since_review_due > 0), since_review_due), else_=0
    )
    overdue_days = f.department_overdue_days + ongoing_department
    query = (
        select(
            f.department,
            f.rectification_class,
            func.count().label("issued"),
            _count(or_(verified, f.due_on < t)).label("due"),
            _count(verified).label("verified"),
            _count(and_(verified, f.verified_on <= f.due_on)).label("verified_on_time"),
            _count(and_(verified, f.verified_on <= f.original_due_on)).label(
                "verified_on_time_original"
            ),
            _count(f.acknowledged_on <= f.acknowledge_due_on).label("acknowledged_on_time"),
            _count(or_(f.acknowledge_due_on < t, f.acknowledged_at.is_not(None))).label(
                "acknowledgement_due"
            ),
            _count(overdue).label("overdue"),
            _count(and_(overdue, overdue_days >= 1, overdue_days <= 10)).label("ageing_1_10"),
            _count(and_(overdue, overdue_days >= 11, overdue_days <= 30)).label("ageing_11_30"),
            _count(and_(overdue, overdue_days > 30)).label("ageing_over_30"),
            func.sum(case((verified, f.rectification_days), else_=0)).label("rectification_days"),
            func.sum(f.submissions).label("submissions"),
            func.sum(f.rejections).label("rejections"),
            func.sum(f.extensions_requested).label("extensions_requested"),
            func.sum(f.extensions_granted).label("extensions_granted"),
            func.sum(f.escalations_1).label("escalations_1"),
            func.sum(f.escalations_2).label("escalations_2"),
            func.sum(f.escalations_3).label("escalations_3"),
            func.sum(f.interviews).label("interviews"),
            func.sum(f.decisions).label("decisions"),
            func.sum(case((verified, f.amount_recovered), else_=0)).label("amount_recovered"),
            func.sum(case((verified, f.rules_improved), else_=0)).label("rules_improved"),
            func.sum(
                f.earlier_cycles_overdue_days + f.department_overdue_days + ongoing_department
            ).label("overdue_days_department"),
            func.sum(f.evaluator_overdue_days + ongoing_evaluator).label("overdue_days_evaluator"),
        )
        .where(f.status != "withdrawn")
        .group_by(f.department, f.rectification_class)
    )
    return [dict(row._mapping) for row in connection.execute(query)]


def scorecard_rows(
    connection: Connection, moment: Moment, names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One row per department (all classes) and per department × class, then the total."""
    groups: dict[tuple[str, str | None], dict[str, Any]] = defaultdict(dict)
    for sums in _sums(connection, moment):
        department, kind = sums["department"], sums["rectification_class"]
        for key in ((department, None), (department, kind), (TOTAL, None)):
            _accumulate(groups[key], sums)
    ordered = sorted(groups, key=lambda k: (k[0] == TOTAL, k[0], k[1] or ""))
    return [
        _row(department, kind, groups[(department, kind)], names) for department, kind in ordered
    ]


def _accumulate(into: dict[str, Any], sums: Mapping[str, Any]) -> None:
    for name, value in sums.items():
        if name not in ("department", "rectification_class"):
            into[name] = into.get(name, 0) + (value or 0)


def _rate(numerator: Any, denominator: Any) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _row(
    department: str, kind: str | None, s: Mapping[str, Any], names: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "department": department,
        "department_name": names.get(department, department if department != TOTAL else TOTAL),
        "class": kind,
        "issued": s["issued"],
        "due": s["due"],
        "verified": s["verified"],
        "verified_on_time": s["verified_on_time"],
        "verified_on_time_original": s["verified_on_time_original"],
        "rectification_rate": _rate(s["verified"], s["due"]),
        "on_time_rate": _rate(s["verified_on_time"], s["due"]),
        "on_time_rate_original": _rate(s["verified_on_time_original"], s["due"]),
        "closure_rate": _rate(s["verified"], s["issued"]),
        "acknowledged_on_time": s["acknowledged_on_time"],
        "acknowledgement_due": s["acknowledgement_due"],
        "acknowledgement_rate": _rate(s["acknowledged_on_time"], s["acknowledgement_due"]),
        "overdue": s["overdue"],
        "ageing": {
            "1-10": s["ageing_1_10"],
            "11-30": s["ageing_11_30"],
            ">30": s["ageing_over_30"],
        },
        "average_rectification_days": _rate(s["rectification_days"], s["verified"]),
        "submissions": s["submissions"],
        "rejections": s["rejections"],
        "rejection_rate": _rate(s["rejections"], s["submissions"]),
        "extensions_requested": s["extensions_requested"],
        "extensions_granted": s["extensions_granted"],
        "escalations": {str(n): s[f"escalations_{n}"] for n in (1, 2, 3)},
        "interviews": s["interviews"],
        "decisions": s["decisions"],
        "amount_recovered": Decimal(s["amount_recovered"]).quantize(Decimal("0.01")),
        "rules_improved": s["rules_improved"],
        "overdue_days_department": s["overdue_days_department"],
        "overdue_days_evaluator": s["overdue_days_evaluator"],
    }


def totals(rows: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next((r for r in rows if r["department"] == TOTAL), None)
