"""The rebuild's baseline: raw SQL bulk inserts of the rows it produced, in the same database.

After the rebuild, the final rows of rm_findings, rm_finding_versions and rm_trail are copied
into scratch tables of the same shape (columns, types, keys, indexes) with one plain
`INSERT … VALUES (?, …)` per table run through the driver's `executemany`, and one
transaction per window of `window` log positions, as the runner commits one transaction per
batch of that many events. Rows are read and written in the database's own representation
(no SQLAlchemy type processing either way), and only the inserts and commits are timed.
The baseline's events/s is the rebuild's event count over that time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Engine, MetaData, Table, text
from sqlalchemy.sql.elements import quoted_name

from adapters.projections.tables import finding_versions, findings, trail

SOURCES = (findings, finding_versions, trail)
PREFIX = "bench_"
Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Baseline:
    """Rows bulk-inserted per table, the transactions used, and the time they took."""

    rows: dict[str, int]
    transactions: int
    seconds: float

    def events_per_s(self, events: int) -> float:
        return events / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Copy:
    """How to read one source table's window and write it into its scratch twin, as SQL."""

    table: str
    select: str
    insert: str


def bulk_insert_baseline(engine: Engine, window: int, last_position: int) -> Baseline:
    """Copy the read-model rows into scratch tables window by window; time the inserts only."""
    copies = [_copy_sql(engine, table) for table in SOURCES]
    rows = {table.name: 0 for table in SOURCES}
    seconds, transactions = 0.0, 0
    with scratch_tables(engine), position_indexes(engine):
        for low in range(0, last_position, window):
            batch = read_window(engine, copies, low, low + window)
            seconds += insert_window(engine, copies, batch)
            transactions += 1
            for copy, found in zip(copies, batch, strict=True):
                rows[copy.table] += len(found)
    return Baseline(rows, transactions, seconds)


def read_window(engine: Engine, copies: list[Copy], low: int, high: int) -> list[Rows]:
    """Each table's rows whose position is in (low, high], as the driver returns them."""
    with engine.connect() as connection:
        return [
            [tuple(r) for r in connection.exec_driver_sql(c.select, (low, high))] for c in copies
        ]


def insert_window(engine: Engine, copies: list[Copy], batch: list[Rows]) -> float:
    """One transaction, one executemany INSERT per table; returns the seconds it took."""
    started = time.perf_counter()
    with engine.begin() as connection:
        for copy, rows in zip(copies, batch, strict=True):
            if rows:
                connection.exec_driver_sql(copy.insert, rows)
    return time.perf_counter() - started


@contextmanager
def scratch_tables(engine: Engine) -> Iterator[None]:
    """Empty copies of the source tables, with their keys and (renamed) indexes; dropped after."""
    metadata = MetaData()
    for table in SOURCES:
        copy = table.to_metadata(metadata, name=f"{PREFIX}{table.name}")
        for index in copy.indexes:
            index.name = quoted_name(f"{PREFIX}{index.name}", None)
    metadata.create_all(engine)
    try:
        yield
    finally:
        metadata.drop_all(engine)


@contextmanager
def position_indexes(engine: Engine) -> Iterator[None]:
    """Indexes on position so windows are read by range, not by scanning; dropped after.

    Created only after the report timings, so those see the schema the application has,
    and as plain DDL, so the application's Table objects never learn of them.
    """
    names = {f"{PREFIX}{t.name}_position": t.name for t in (findings, finding_versions)}
    with engine.begin() as connection:
        for name, table in names.items():
            connection.execute(text(f"CREATE INDEX {name} ON {table} (position)"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for name in names:
                connection.execute(text(f"DROP INDEX {name}"))


def _copy_sql(engine: Engine, table: Table) -> Copy:
    """SELECT and INSERT in the driver's paramstyle; JSON read as its text on PostgreSQL."""
    quote = engine.dialect.identifier_preparer.quote
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    as_text = engine.dialect.name == "postgresql"
    names = [quote(c.name) for c in table.columns]
    read = [
        f"CAST({n} AS TEXT)" if as_text and isinstance(c.type, JSON) else n
        for n, c in zip(names, table.columns, strict=True)
    ]
    position = quote("position")
    select = (
        f"SELECT {', '.join(read)} FROM {table.name} "
        f"WHERE {position} > {mark} AND {position} <= {mark}"
    )
    insert = (
        f"INSERT INTO {PREFIX}{table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join([mark] * len(names))})"
    )
    return Copy(table.name, select, insert)
