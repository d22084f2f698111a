"""Read-model tables: disposable, rebuilt from the event log by `lastmile rebuild`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC: SQLite keeps no offset, and mixed offsets compare wrong."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing a naive datetime: {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = MetaData()
BIG = BigInteger().with_variant(Integer(), "sqlite")
MONEY = Numeric(18, 2)

tracking = Table(
    "rm_tracking",
    metadata,
    Column("projection", String(64), primary_key=True),
    Column("position", BIG, nullable=False),  # last notification id applied
    Column("event_at", UTCDateTime()),  # that event's time
)

departments = Table(
    "rm_departments",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("contact_email", String(254), nullable=False),
    Column("head_email", String(254), nullable=False),
    Column("registered_at", UTCDateTime(), nullable=False),
)

evaluations = Table(
    "rm_evaluations",
    metadata,
    Column("ref", String(100), primary_key=True),
    Column("title", String(500), nullable=False),
    Column("year", Integer, nullable=False),
    Column("object_type", String(16), nullable=False),
    Column("department", String(32), nullable=False),
    Column("budget_amount", MONEY, nullable=False),
    Column("score", Numeric(5, 2), nullable=False),
    Column("grade", String(2), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)


def _finding_columns(*, versioned: bool) -> list[Column[Any]]:
    """One ledger row (整改台账): the finding's state after one of its events."""
    return [
        Column("id", String(36), primary_key=True),
        Column("version", Integer, primary_key=versioned, nullable=False),
        Column("position", BIG, nullable=False),
        Column("changed_at", UTCDateTime(), nullable=False),
        Column("order_ref", String(100), nullable=False),
        Column("ref", String(50), nullable=False),
        Column("ref_sort", Integer, nullable=False),  # numeric part of ref, for 1, 2, … 10
        Column("evaluation", String(100), nullable=False),
        Column("department", String(32), nullable=False),
        Column("title", String(500), nullable=False),
        Column("description", Text, nullable=False),
        Column("category", String(100), nullable=False),
        Column("rectification_class", String(16), nullable=False),
        Column("requirement", Text, nullable=False),
        Column("responsible_person", String(200), nullable=False),
        Column("status", String(16), nullable=False),
        Column("cycle", Integer, nullable=False),
        Column("issued_on", Date, nullable=False),
        Column("issued_at", UTCDateTime(), nullable=False),
        Column("cycle_started_on", Date, nullable=False),
        Column("acknowledge_due_on", Date, nullable=False),
        Column("acknowledged_at", UTCDateTime()),
        Column("acknowledged_on", Date),
        Column("original_due_on", Date, nullable=False),
        Column("due_on", Date, nullable=False),
        Column("due_wdn", Integer, nullable=False),  # working-day number of due_on
        Column("submitted_at", UTCDateTime()),
        Column("verify_due_on", Date),
        Column("verify_due_wdn", Integer),
        Column("verified_at", UTCDateTime()),
        Column("verified_on", Date),
        Column("withdrawn_at", UTCDateTime()),
        Column("rectification_days", Integer),  # working days from cycle start to 销号
        Column("progress_percent", Integer, nullable=False),
        Column("evidence_count", Integer, nullable=False),
        Column("submissions", Integer, nullable=False),
        Column("rejections", Integer, nullable=False),
        Column("extensions_requested", Integer, nullable=False),
        Column("extensions_granted", Integer, nullable=False),
        Column("extensions_denied", Integer, nullable=False),
        Column("escalation_level", Integer, nullable=False),
        Column("escalations_1", Integer, nullable=False),
        Column("escalations_2", Integer, nullable=False),
        Column("escalations_3", Integer, nullable=False),
        Column("reminders", Integer, nullable=False),
        Column("interviews", Integer, nullable=False),
        Column("decisions", Integer, nullable=False),
        Column("amount_recovered", MONEY, nullable=False),
        Column("rules_improved", Integer, nullable=False),
        # Who holds the clock now, since when, and the overdue working days already
        # closed: department periods this cycle, earlier cycles, the evaluator's reviews.
        Column("holder", String(16)),
        Column("held_since_wdn", Integer),
        Column("department_periods", JSON, nullable=False),
        Column("department_overdue_days", Integer, nullable=False),
        Column("earlier_cycles_overdue_days", Integer, nullable=False),
        Column("evaluator_overdue_days", Integer, nullable=False),
        Column("ladder_keys", JSON, nullable=False),  # reminder keys recorded this cycle
    ]


# What the scorecard reads of the open (issued, acknowledged, rectified) rows: the terms that
# depend on the moment. Status first, so the query reads only the open rows' index entries.
OPEN_SCORECARD_COLUMNS = (
    "status", "department", "rectification_class", "due_on", "acknowledge_due_on",
    "acknowledged_at", "holder", "due_wdn", "held_since_wdn", "verify_due_wdn",
    "department_overdue_days",
)  # fmt: skip

findings = Table(
    "rm_findings",
    metadata,
    *_finding_columns(versioned=False),
    Index("rm_findings_ledger_order", "department", "order_ref", "ref_sort"),
    # The worker's scan ORs statuses: PostgreSQL combines this narrow index's bitmaps (with
    # only rm_findings_open it reads the whole table).
    Index("rm_findings_status", "status"),
    Index("rm_findings_evaluation", "evaluation"),
    # Covers the scorecard's query of the open rows (sums.py keeps the rest).
    Index("rm_findings_open", *OPEN_SCORECARD_COLUMNS),
)

finding_versions = Table(
    "rm_finding_versions",
    metadata,
    *_finding_columns(versioned=True),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_to", UTCDateTime()),  # None: still the finding's state
    Index("rm_finding_versions_valid", "valid_from", "valid_to"),
)

trail = Table(
    "rm_trail",
    metadata,
    Column("position", BIG, primary_key=True),
    Column("aggregate_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("type", String(40), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("department", String(32)),
    Column("order_ref", String(100)),
    Column("finding_ref", String(50)),
    Column("level", Integer),
    Column("text", Text, nullable=False),  # the reason, note or measures, as written
    Column("details", JSON, nullable=False),
    Index("rm_trail_aggregate", "aggregate_id", "version"),
    Index("rm_trail_department_at", "department", "at"),
    Index("rm_trail_at", "at"),
)

# Ledger counters the scorecard sums as they are, under the same names.
SCORECARD_COUNTERS = (
    "submissions", "rejections", "extensions_requested", "extensions_granted", "escalations_1",
    "escalations_2", "escalations_3", "interviews", "decisions",
)  # fmt: skip
SUMMED_COUNTS = (
    "issued", "due", "verified", "verified_on_time", "verified_on_time_original",
    "acknowledged_on_time", "acknowledgement_due", "rectification_days", *SCORECARD_COUNTERS,
    "rules_improved", "overdue_days_department", "overdue_days_evaluator",
)  # fmt: skip

# Per department × class, the scorecard terms that no longer depend on the moment: every term of
# a verified finding, and the moment-free part of an open one (counters, overdue days already
# closed). Kept by the projection in the batch's transaction (adapters/projections/sums.py);
# withdrawn findings count nowhere, and a group with no finding left has no row.
scorecard_sums = Table(
    "rm_scorecard_sums",
    metadata,
    Column("department", String(32), primary_key=True),
    Column("rectification_class", String(16), primary_key=True),
    *(Column(name, BIG, nullable=False) for name in SUMMED_COUNTS),
    Column("amount_recovered", MONEY, nullable=False),
)

READ_MODEL_TABLES = (departments, evaluations, findings, finding_versions, trail, scorecard_sums)
# Bump whenever a read-model table changes shape: a store built under another version has its
# read models dropped, recreated and rebuilt from the log at start-up (there are no migrations).
# 1: before versioning; 2: ladder_keys; 3: rm_scorecard_sums, rm_findings_open.
READ_MODEL_SCHEMA = 3
