"""The rebuild's baseline: raw bulk inserts of the rows it produced, in the same database.

After the rebuild, the final rows of rm_findings, rm_finding_versions and rm_trail are copied
into scratch tables of the same shape (columns, types, keys, indexes) with one SQLAlchemy Core
`executemany` INSERT per table and one transaction per window of `window` log positions, as
the runner commits one transaction per batch of that many events. Only the inserts and
commits are timed: the reads of each window are not. Events/s of the baseline is the
rebuild's event count over that time, so the ratio is how close the rebuild comes to just
writing its output.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, select, text
from sqlalchemy.sql.elements import quoted_name

from adapters.projections.tables import finding_versions, findings, trail

SOURCES = (findings, finding_versions, trail)
PREFIX = "bench_"


@dataclass(frozen=True)
class Baseline:
    """Rows bulk-inserted per table, the transactions used, and the time they took."""

    rows: dict[str, int]
    transactions: int
    seconds: float

    def events_per_s(self, events: int) -> float:
        return events / self.seconds if self.seconds else 0.0


def bulk_insert_baseline(engine: Engine, window: int, last_position: int) -> Baseline:
    """Copy the read-model rows into scratch tables window by window; time the inserts only."""
    rows = {table.name: 0 for table in SOURCES}
    seconds, transactions = 0.0, 0
    with scratch_tables(engine) as scratch, position_indexes(engine):
        for low in range(0, last_position, window):
            batch = read_window(engine, low, low + window)
            seconds += insert_window(engine, scratch, batch)
            transactions += 1
            for name, found in batch.items():
                rows[name] += len(found)
    return Baseline(rows, transactions, seconds)


def read_window(engine: Engine, low: int, high: int) -> dict[str, list[dict[str, Any]]]:
    """Each table's rows whose position is in (low, high]."""
    with engine.connect() as connection:
        return {table.name: _rows(connection, table, low, high) for table in SOURCES}


def insert_window(engine: Engine, scratch: dict[str, Table], batch: dict[str, list[Any]]) -> float:
    """One transaction, one executemany INSERT per table; returns the seconds it took."""
    started = time.perf_counter()
    with engine.begin() as connection:
        for name, rows in batch.items():
            if rows:
                connection.execute(scratch[name].insert(), rows)
    return time.perf_counter() - started


@contextmanager
def scratch_tables(engine: Engine) -> Iterator[dict[str, Table]]:
    """Empty copies of the source tables, with their keys and (renamed) indexes; dropped after."""
    metadata = MetaData()
    scratch = {table.name: _copy(table, metadata) for table in SOURCES}
    metadata.create_all(engine)
    try:
        yield scratch
    finally:
        metadata.drop_all(engine)


@contextmanager
def position_indexes(engine: Engine) -> Iterator[None]:
    """Indexes on position so windows are read by range, not by scanning; dropped after.

    Created only after the report timings, so those see the schema the application has,
    and as plain DDL, so the application's Table objects never learn of them.
    """
    names = {f"{PREFIX}{table.name}_position": table.name for table in (findings, finding_versions)}
    with engine.begin() as connection:
        for name, table in names.items():
            connection.execute(text(f"CREATE INDEX {name} ON {table} (position)"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for name in names:
                connection.execute(text(f"DROP INDEX {name}"))


def _copy(table: Table, metadata: MetaData) -> Table:
    copy = table.to_metadata(metadata, name=f"{PREFIX}{table.name}")
    for index in copy.indexes:
        index.name = quoted_name(f"{PREFIX}{index.name}", None)
    return copy


def _rows(connection: Connection, table: Table, low: int, high: int) -> list[dict[str, Any]]:
    query = select(table).where(table.c.position > low, table.c.position <= high)
    return [dict(row._mapping) for row in connection.execute(query)]
