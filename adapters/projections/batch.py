"""Apply one batch of events to every read model, inside the caller's transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, bindparam, select, update

from adapters.projections.ledger import LedgerReducer, Row
from adapters.projections.sums import SumsChange
from adapters.projections.tables import departments, evaluations, finding_versions, findings, trail
from domain.findings import Finding
from domain.registry import Department, Evaluation

Positioned = tuple[int, Any]  # (notification id, domain event)
_TEXT_FIELDS = ("reason", "note", "measures", "decision", "plan")
_ENVELOPE = {
    "originator_id",
    "originator_version",
    "originator_topic",
    "timestamp",
    "actor",
    "role",
}


class BatchProjection:
    """Turns decoded events into read-model rows; the runner supplies order and transactions."""

    def __init__(self, reducer: LedgerReducer) -> None:
        self.reducer = reducer

    def apply(self, connection: Connection, batch: Sequence[Positioned]) -> None:
        rows = self._current_rows(connection, batch)
        sums = SumsChange()
        sums.remove(rows.values())  # before the reducer changes them in place
        versions = _Versions()
        for position, event in batch:
            if isinstance(event, Finding.Event):
                self._finding_event(rows, versions, position, event)
            elif isinstance(event, Department.Registered):
                connection.execute(departments.insert(), [_department(event)])
            elif isinstance(event, Evaluation.Recorded):
                connection.execute(evaluations.insert(), [_evaluation(event)])
        trail_rows = [_trail_row(position, event, rows) for position, event in batch]
        sums.add(rows.values())
        self._write(connection, rows, versions, trail_rows)
        sums.write(connection)

    def _finding_event(
        self, rows: dict[str, Row], versions: _Versions, position: int, event: Finding.Event
    ) -> None:
        key = str(event.originator_id)
        if isinstance(event, Finding.Issued):
            rows[key] = self.reducer.issued(event, position)
        else:
            versions.supersede(key, rows[key]["version"], event.timestamp)
            self.reducer.apply(rows[key], event, position)
        versions.add({**rows[key], "valid_from": event.timestamp, "valid_to": None})

    @staticmethod
    def _current_rows(connection: Connection, batch: Sequence[Positioned]) -> dict[str, Row]:
        wanted = {
            str(event.originator_id)
            for _, event in batch
            if isinstance(event, Finding.Event) and not isinstance(event, Finding.Issued)
        }
        if not wanted:
            return {}
        query = select(findings).where(findings.c.id.in_(wanted))
        return {row.id: dict(row._mapping) for row in connection.execute(query)}

    @staticmethod
    def _write(
        connection: Connection, rows: dict[str, Row], versions: _Versions, trail_rows: list[Row]
    ) -> None:
        if rows:
            connection.execute(findings.delete().where(findings.c.id.in_(list(rows))))
            connection.execute(findings.insert(), list(rows.values()))
        if versions.ended_before_batch:
            connection.execute(
                update(finding_versions)
                .where(finding_versions.c.id == bindparam("key"))
                .where(finding_versions.c.version == bindparam("old"))
                .values(valid_to=bindparam("until")),
                versions.ended_before_batch,
            )
        if versions.rows:
            connection.execute(finding_versions.insert(), versions.rows)
        if trail_rows:
            connection.execute(trail.insert(), trail_rows)


class _Versions:
    """The version rows a batch adds, and the stored ones it ends."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.ended_before_batch: list[Row] = []
        self._latest: dict[str, Row] = {}

    def supersede(self, key: str, version: int, at: datetime) -> None:
        """The finding's state at `version` stops being its state at `at`."""
        latest = self._latest.get(key)
        if latest is not None:
            latest["valid_to"] = at
        else:
            self.ended_before_batch.append({"key": key, "old": version, "until": at})

    def add(self, row: Row) -> None:
        self.rows.append(row)
        self._latest[row["id"]] = row


def _department(event: Department.Registered) -> Row:
    return {
        "code": event.code,
        "name": event.name,
        "contact_email": event.contact_email,
        "head_email": event.head_email,
        "registered_at": event.timestamp,
    }


def _evaluation(event: Evaluation.Recorded) -> Row:
    fields = ("ref", "title", "year", "object_type", "department", "budget_amount", "score")
    return {
        **{name: getattr(event, name) for name in fields},
        "grade": event.grade,
        "recorded_at": event.timestamp,
    }


def _trail_row(position: int, event: Any, rows: dict[str, Row]) -> Row:
    finding = rows.get(str(event.originator_id)) if isinstance(event, Finding.Event) else None
    details = {k: _plain(v) for k, v in vars(event).items() if k not in _ENVELOPE}
    return {
        "position": position,
        "aggregate_id": str(event.originator_id),
        "version": event.originator_version,
        "at": event.timestamp,
        "type": type(event).__name__,
        "actor": event.actor,
        "role": event.role,
        "department": finding["department"] if finding else getattr(event, "department", None),
        "order_ref": finding["order_ref"] if finding else None,
        "finding_ref": finding["ref"] if finding else None,
        "level": getattr(event, "level", None),
        "text": next((str(details[f]) for f in _TEXT_FIELDS if details.get(f)), ""),
        "details": details,
    }


def _plain(value: Any) -> Any:
    """Event values as JSON can hold them."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
