"""Department scorecards, with every metric defined as PRODUCT.md §6 writes it.

A finding is *due* at a moment when its current deadline has passed or it is verified;
withdrawn findings count nowhere. Rates are None when their denominator is 0.

The latest scorecard adds what the moment makes of the open rows to the sums the projection
keeps of everything else (sums.py), so it reads the open rows only; a past moment's scorecard
sums every row version valid then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import cache
from operator import add
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Date,
    FromClause,
    Integer,
    Subquery,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    union_all,
)

from adapters.projections.moments import Moment, findings_at
from adapters.projections.tables import SCORECARD_COUNTERS, findings, scorecard_sums

TOTAL = "全部"
OPEN = ("issued", "acknowledged")  # the department holds these: they can be overdue
OPEN_OR_SUBMITTED = (*OPEN, "rectified")  # not verified, not withdrawn: the moment matters
SumsRow = Sequence[Any]  # (department, rectification_class, *TERMS)
TERMS = (
    "issued", "due", "verified", "verified_on_time", "verified_on_time_original",
    "acknowledged_on_time", "acknowledgement_due", "overdue", "ageing_1_10", "ageing_11_30",
    "ageing_over_30", "rectification_days", *SCORECARD_COUNTERS, "amount_recovered",
    "rules_improved", "overdue_days_department", "overdue_days_evaluator",
)  # fmt: skip


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


def _count(condition: ColumnElement[bool]) -> Any:
    return func.sum(_flag(condition))


def _later(a: Any, b: Any) -> Any:
    """The larger of two columns, portably (SQLite has no GREATEST)."""
    return case((a > b, a), else_=b)


def _running(f: Any, today: Any) -> tuple[Any, Any]:
    """Overdue working days each holder is still running up on `today`, a working-day number."""
    since_due = today - _later(f.due_wdn, f.held_since_wdn)
    department = case((and_(f.holder == "department", since_due > 0), since_due), else_=0)
    since_review_due = today - _later(f.verify_due_wdn, f.held_since_wdn)
    evaluator = case(
        (and_(f.holder == "evaluator", since_review_due > 0), since_review_due), else_=0
    )
    return department, evaluator


def _lateness(overdue: Any, days: Any) -> dict[str, Any]:
    """逾期数 and its ageing buckets, from whether each row is overdue and by how many days."""
    return {
        "overdue": _count(overdue),
        "ageing_1_10": _count(and_(overdue, days >= 1, days <= 10)),
        "ageing_11_30": _count(and_(overdue, days >= 11, days <= 30)),
        "ageing_over_30": _count(and_(overdue, days > 30)),
    }


def _scan_sums(connection: Connection, rows: FromClause, moment: Moment) -> list[SumsRow]:
    """Every term from every row of `rows` as the moment sees them: a past moment's path."""
    f = rows.c
    t = moment.day
    verified = f.status == "verified"
    department_running, evaluator_running = _running(f, moment.day_number)
    terms = {
        "issued": func.count(),
        "due": _count(or_(verified, f.due_on < t)),
        "verified": _count(verified),
        "verified_on_time": _count(and_(verified, f.verified_on <= f.due_on)),
        "verified_on_time_original": _count(and_(verified, f.verified_on <= f.original_due_on)),
        "acknowledged_on_time": _count(f.acknowledged_on <= f.acknowledge_due_on),
        "acknowledgement_due": _count(
            or_(f.acknowledge_due_on < t, f.acknowledged_at.is_not(None))
        ),
        **_lateness(
            and_(f.status.in_(OPEN), f.due_on < t), f.department_overdue_days + department_running
        ),
        "rectification_days": func.sum(case((verified, f.rectification_days), else_=0)),
        **{name: func.sum(f[name]) for name in SCORECARD_COUNTERS},
        "amount_recovered": func.sum(case((verified, f.amount_recovered), else_=0)),
        "rules_improved": func.sum(case((verified, f.rules_improved), else_=0)),
        "overdue_days_department": func.sum(
            f.earlier_cycles_overdue_days + f.department_overdue_days + department_running
        ),
        "overdue_days_evaluator": func.sum(f.evaluator_overdue_days + evaluator_running),
    }
    query = (
        select(f.department, f.rectification_class, *_labelled(terms))
        .where(f.status != "withdrawn")
        .group_by(f.department, f.rectification_class)
    )
    return list(connection.execute(query).all())


def _kept_and_open_sums(connection: Connection, moment: Moment) -> list[SumsRow]:
    """The latest path: the kept moment-free sums, plus what the moment adds to open rows."""
    moment_values = {"day": moment.day, "today": moment.day_number}
    return list(connection.execute(_latest_query(), moment_values).all())


@cache
def _latest_query() -> CompoundSelect[Any]:
    """One statement, so both parts read the same snapshot even while the projection commits.

    Built once, with the moment as parameters: building it anew took a fifth of its time.
    """
    o = _open_rows(bindparam("day", type_=Date()), bindparam("today", type_=Integer())).c
    running = {
        "due": func.sum(o.due),
        "acknowledgement_due": func.sum(o.acknowledgement_due),
        **_lateness(o.overdue == 1, o.overdue_days),
        "overdue_days_department": func.sum(o.department_running),
        "overdue_days_evaluator": func.sum(o.evaluator_running),
    }
    kept = scorecard_sums.c
    return union_all(
        select(kept.department, kept.rectification_class, *_labelled({c.name: c for c in kept})),
        select(o.department, o.rectification_class, *_labelled(running)).group_by(
            o.department, o.rectification_class
        ),
    )


def _open_rows(day: Any, today: Any) -> Subquery:
    """What the moment makes of each open row (not verified, not withdrawn), worked out once."""
    f = findings.c
    department_running, evaluator_running = _running(f, today)
    return (
        select(
            f.department,
            f.rectification_class,
            _flag(f.due_on < day).label("due"),
            _flag(and_(f.acknowledged_at.is_(None), f.acknowledge_due_on < day)).label(
                "acknowledgement_due"
            ),
            _flag(and_(f.status.in_(OPEN), f.due_on < day)).label("overdue"),
            (f.department_overdue_days + department_running).label("overdue_days"),
            department_running.label("department_running"),
            evaluator_running.label("evaluator_running"),
        )
        .where(f.status.in_(OPEN_OR_SUBMITTED))
        # OFFSET keeps the subquery from being merged into the sums, which would work the
        # expressions out again in every sum that uses them (about twice as slow on both stores).
        .offset(0)
        .subquery("open_rows")
    )


def _labelled(terms: Mapping[str, Any]) -> list[Any]:
    """Every term in TERMS order, 0 for one `terms` has not got (UNION ALL needs them all)."""
    return [(terms[name] if name in terms else literal_column("0")).label(name) for name in TERMS]


def _sums(connection: Connection, moment: Moment) -> list[SumsRow]:
    if moment.latest:
        return _kept_and_open_sums(connection, moment)
    return _scan_sums(connection, findings_at(moment), moment)


def scorecard_rows(
    connection: Connection, moment: Moment, names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One row per department (all classes) and per department × class, then the total."""
    return _scorecard_from(_sums(connection, moment), names)


def _scorecard_from(sums_rows: Iterable[SumsRow], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The scorecard rows from sums per department × class (a group may come in parts)."""
    groups: dict[tuple[str, str | None], list[Any]] = {}
    for department, kind, *terms in sums_rows:
        _add_into(groups, (department, kind), [value or 0 for value in terms])  # SUM of none: NULL
    for (department, _), values in list(groups.items()):
        _add_into(groups, (department, None), values)
        _add_into(groups, (TOTAL, None), values)
    ordered = sorted(groups, key=lambda k: (k[0] == TOTAL, k[0], k[1] or ""))
    return [
        _row(department, kind, dict(zip(TERMS, groups[(department, kind)], strict=True)), names)
        for department, kind in ordered
    ]


def _add_into(groups: dict[tuple[str, str | None], list[Any]], key: Any, values: list[Any]) -> None:
    into = groups.get(key)
    groups[key] = values if into is None else list(map(add, into, values))


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
