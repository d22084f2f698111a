"""The scorecard's moment-free sums per department × class, changed in step with the ledger rows.

What a finding adds to its scorecard group splits in two. Its counters, the overdue days
already closed and, once verified, every one of its terms do not depend on the moment: they
are summed here, as each batch changes the rows. What does depend on the moment (due,
acknowledgement due, overdue, ageing, the overdue days still running) concerns open findings
only, and `scorecard.py` computes it from their rows at the moment it is asked for.

This rests on two facts the reducer keeps: a verified finding holds no clock (`holder` is
None), and it was acknowledged (`acknowledged_at` is set) — verify needs a submission, which
needs an acknowledgement, and a reopen keeps the first acknowledgement.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from adapters.projections.ledger import Row
from adapters.projections.tables import SCORECARD_COUNTERS, SUMMED_COUNTS, scorecard_sums

Group = tuple[str, str]  # (department, rectification_class)
CENT = Decimal("0.01")
_ZERO: dict[str, Any] = {**dict.fromkeys(SUMMED_COUNTS, 0), "amount_recovered": Decimal(0)}


def moment_free_terms(row: Row) -> dict[str, Any] | None:
    """What the row adds to its group whatever the moment; None: withdrawn, it counts nowhere."""
    if row["status"] == "withdrawn":
        return None
    verified = row["status"] == "verified"
    return {
        "issued": 1,
        "due": int(verified),  # an open finding's is the moment's
        "verified": int(verified),
        "verified_on_time": int(verified and _on_or_before(row["verified_on"], row["due_on"])),
        "verified_on_time_original": int(
            verified and _on_or_before(row["verified_on"], row["original_due_on"])
        ),
        "acknowledged_on_time": int(
            _on_or_before(row["acknowledged_on"], row["acknowledge_due_on"])
        ),
        # An unacknowledged finding's is the moment's: whether its deadline has passed.
        "acknowledgement_due": int(row["acknowledged_at"] is not None),
        "rectification_days": (row["rectification_days"] or 0) if verified else 0,
        **{name: row[name] for name in SCORECARD_COUNTERS},
        "rules_improved": row["rules_improved"] if verified else 0,
        # The days still running for the holder are the moment's.
        "overdue_days_department": (
            row["earlier_cycles_overdue_days"] + row["department_overdue_days"]
        ),
        "overdue_days_evaluator": row["evaluator_overdue_days"],
        # Cents as NUMERIC(18, 2) stores them, so a batch boundary never changes a sum.
        "amount_recovered": (
            Decimal(row["amount_recovered"]).quantize(CENT, ROUND_HALF_UP) if verified else 0
        ),
    }


class SumsChange:
    """How one batch changes each group's sums: its rows' terms after, less their terms before."""

    def __init__(self) -> None:
        self.groups: dict[Group, dict[str, Any]] = {}

    def add(self, rows: Iterable[Row], sign: int = 1) -> None:
        for row in rows:
            terms = moment_free_terms(row)
            if terms is None:
                continue
            key = (row["department"], row["rectification_class"])
            change = self.groups.setdefault(key, dict(_ZERO))
            for name, value in terms.items():
                change[name] += sign * value

    def remove(self, rows: Iterable[Row]) -> None:
        self.add(rows, sign=-1)

    def write(self, connection: Connection) -> None:
        """Apply the change to the stored sums; a group with no finding left loses its row.

        Rows are updated in place, never deleted and inserted again: on PostgreSQL such an
        update touches no index, so it can reuse its page (HOT) instead of growing the table.
        """
        changed = {key: change for key, change in self.groups.items() if any(change.values())}
        if not changed:
            return
        s = scorecard_sums.c
        query = select(scorecard_sums).where(s.department.in_({d for d, _ in changed}))
        stored = {
            (r.department, r.rectification_class): r._mapping for r in connection.execute(query)
        }
        new, kept, emptied = [], [], []
        for (department, kind), change in changed.items():
            before = stored.get((department, kind), _ZERO)
            sums = {name: before[name] + value for name, value in change.items()}
            at = {"b_department": department, "b_class": kind}
            if (department, kind) not in stored:
                new.append({"department": department, "rectification_class": kind, **sums})
            elif sums["issued"]:
                kept.append({**at, **sums})
            else:
                emptied.append(at)
        at_group = (
            s.department == bindparam("b_department"),
            s.rectification_class == bindparam("b_class"),
        )
        if new:
            connection.execute(scorecard_sums.insert(), new)
        if kept:
            connection.execute(update(scorecard_sums).where(*at_group), kept)
        if emptied:
            connection.execute(delete(scorecard_sums).where(*at_group), emptied)


def _on_or_before(day: Any, deadline: Any) -> bool:
    """SQL's `day <= deadline`, where a missing day is never on time."""
    return day is not None and deadline is not None and day <= deadline
