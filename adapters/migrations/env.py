"""Alembic's environment for `lastmile migrate`: the durable tables, on the connection it passes.

Run through adapters.migrations.upgrade (which holds a connection and its transaction); a
developer writing a revision may instead give a URL (see adapters/migrations/__init__.py).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from adapters.migrations.schema import include_name, target_metadata


def run_migrations(connection: Connection) -> None:
    dialect = connection.dialect.name
    context.configure(
        connection=connection,
        target_metadata=target_metadata(dialect),
        include_name=include_name(dialect),
        compare_type=True,
        render_as_batch=dialect == "sqlite",  # SQLite alters a table by copying it
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("Lastmile migrations run against a database; --sql is not supported")
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        run_migrations(given)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        run_migrations(connection)
    engine.dispose()


main()
