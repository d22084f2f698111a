"""`migrate` on each real store: the schema the code declares, idempotent, adopting old stores."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, create_engine, inspect, text, update
from typer.testing import CliRunner

from adapters.bootstrap import bootstrap, records_url
from adapters.migrations.durable import (
    HEAD,
    SCRIPTS,
    MigrationError,
    SchemaBehindError,
    alembic_config,
)
from adapters.migrations.schema import include_name, target_metadata
from adapters.migrations.upgrade import migrate, pending
from adapters.projections.runner import SCHEMA
from adapters.projections.tables import READ_MODEL_SCHEMA, tracking
from adapters.projections.tables import metadata as read_model_metadata
from adapters.settings import Settings
from api.cli import cli
from domain.values import Role

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def records(settings: Settings) -> Iterator[Engine]:
    engine = create_engine(records_url(settings))
    yield engine
    engine.dispose()


def differences(connection: Connection) -> list[Any]:
    """What autogenerate would write: durable tables against their revisions, read models too."""
    dialect = connection.dialect.name
    durable = MigrationContext.configure(
        connection, opts={"include_name": include_name(dialect), "compare_type": True}
    )
    read_models = MigrationContext.configure(
        connection,
        opts={
            "include_name": lambda name, kind, _: kind != "table" or name in read_model_metadata,
            "compare_type": True,
        },
    )
    return [
        *compare_metadata(durable, merged(target_metadata(dialect))),
        *compare_metadata(read_models, read_model_metadata),
    ]


def merged(metadatas: list[MetaData]) -> MetaData:
    """One MetaData holding the durable tables (compare_metadata takes one)."""
    combined = MetaData()
    for metadata in metadatas:
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every table's columns and indexes, and the Alembic revision."""
    with engine.connect() as connection:
        found = inspect(connection)
        tables = {
            name: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(name)],
                sorted(i["name"] or "" for i in found.get_indexes(name)),
            )
            for name in found.get_table_names()
        }
        revision = MigrationContext.configure(connection).get_current_revision()
    return {"tables": tables, "revision": revision}


def test_migrate_builds_exactly_the_schema_the_code_declares(
    settings: Settings, records: Engine
) -> None:
    report = migrate(settings)

    assert report.revision == HEAD
    assert [line.split()[0] for line in report.applied] == ["r0001"]
    assert report.event_tables == ("lastmile_events", "lastmile_events_chain")
    assert report.read_models == "created"
    with records.connect() as connection:
        assert differences(connection) == []
    evidence_in_database = "lastmile_evidence" in report.created
    assert evidence_in_database is settings.uses_postgres


def test_the_comparison_notices_a_difference(settings: Settings, records: Engine) -> None:
    migrate(settings)
    with records.begin() as connection:
        connection.execute(text("DROP INDEX mail_outbox_finding"))
        connection.execute(text("DROP INDEX rm_trail_at"))

    with records.connect() as connection:
        found = differences(connection)

    assert sorted(diff[1].name for diff in found) == ["mail_outbox_finding", "rm_trail_at"]


def test_migrating_twice_changes_nothing(settings: Settings, records: Engine) -> None:
    migrate(settings)
    before = snapshot(records)

    again = migrate(settings)

    assert not again.changed
    assert (again.applied, again.created, again.event_tables) == ((), (), ())
    assert again.lines()[-1] == f"Nothing to do: the schema is at revision {HEAD} (head)."
    assert snapshot(records) == before


def test_a_store_made_before_migrations_is_stamped_and_keeps_its_rows(
    settings: Settings, records: Engine
) -> None:
    old = bootstrap(settings)  # start-up create_tables(), as every earlier version did
    old.users.add("slj.jingban", Role.EVALUATOR)
    old.close()
    with records.begin() as connection:  # a table that an older version did not have yet
        connection.execute(text("DROP TABLE worker_status"))
        connection.execute(text("DROP TABLE alembic_version"))  # they stamped nothing

    report = migrate(settings)

    assert report.adopted
    assert report.created == ("worker_status",)
    assert (report.revision, report.event_tables, report.read_models) == (HEAD, (), "kept")
    with records.connect() as connection:
        assert differences(connection) == []
    system = bootstrap(settings)
    assert system.users.get("slj.jingban") is not None
    system.close()
    assert not migrate(settings).changed


def test_read_models_built_under_another_schema_are_dropped_to_be_rebuilt(
    settings: Settings, records: Engine
) -> None:
    migrate(settings)
    with records.begin() as connection:
        connection.execute(
            update(tracking).where(tracking.c.projection == SCHEMA).values(position=1)
        )

    report = migrate(settings)

    assert (report.read_models, report.old_read_model_schema) == ("dropped", 1)
    assert f"schema 1 replaced by {READ_MODEL_SCHEMA}" in "\n".join(report.lines())
    assert not migrate(settings).changed


def test_a_store_migrated_by_a_newer_version_is_refused(
    settings: Settings, records: Engine
) -> None:
    migrate(settings)
    with records.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'r9999'"))

    with pytest.raises(MigrationError, match=r"r9999.*newer Lastmile"):
        migrate(settings)


def test_the_newest_revision_is_the_head_start_up_expects() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


def test_start_up_stamps_a_fresh_store_at_the_head(settings: Settings, records: Engine) -> None:
    bootstrap(settings).close()

    assert snapshot(records)["revision"] == HEAD
    assert not migrate(settings).applied


def test_start_up_refuses_a_postgresql_store_a_migration_behind(
    settings: Settings, records: Engine
) -> None:
    bootstrap(settings).close()
    with records.begin() as connection:  # as if this version had brought a new revision
        connection.execute(text("UPDATE alembic_version SET version_num = 'r0000'"))

    if settings.uses_postgres:
        with pytest.raises(SchemaBehindError, match=r"r0000.*lastmile migrate"):
            bootstrap(settings)
    else:  # the embedded store, on one machine, is brought up to date by start-up itself
        with pytest.raises(MigrationError, match="r0000"):  # (no such revision to start from)
            bootstrap(settings)


def test_start_up_adopts_an_embedded_store_made_before_migrations(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    bootstrap(settings).close()
    engine = create_engine(records_url(settings))
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(text("DROP TABLE worker_status"))

    bootstrap(settings).close()

    assert snapshot(engine)["revision"] == HEAD
    assert "worker_status" in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.postgres
def test_the_cli_names_the_migration_a_postgresql_store_needs(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(_env_file=None, database_url=postgres_url)  # type: ignore[call-arg]
    bootstrap(settings).close()
    engine = create_engine(records_url(settings))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'r0000'"))
    engine.dispose()
    monkeypatch.setenv("LASTMILE_DATABASE_URL", postgres_url)

    result = CliRunner().invoke(cli, ["verify"])

    assert result.exit_code == 2, result.output
    assert "r0000" in result.output
    assert "lastmile migrate" in result.output


def test_check_says_what_is_due_and_changes_nothing(settings: Settings, records: Engine) -> None:
    if not settings.uses_postgres:
        assert pending(settings) == [
            f"the store at {records.url} does not exist yet: migrate creates it"
        ]
        assert not settings.data_dir.exists()
    bootstrap(settings).close()
    with records.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            update(tracking).where(tracking.c.projection == SCHEMA).values(position=1)
        )
    before = snapshot(records)

    due = pending(settings)

    assert due == [
        f"durable tables: revision (none) → {HEAD}",
        f"read models: schema 1 → {READ_MODEL_SCHEMA}, rebuilt from the log",
    ]
    assert snapshot(records) == before
    migrate(settings)
    assert pending(settings) == []


def test_migrate_check_exits_1_while_a_migration_is_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(tmp_path / "var"))
    due = CliRunner().invoke(cli, ["migrate", "--check"])
    assert (due.exit_code, "does not exist yet" in due.output) == (1, True), due.output

    assert CliRunner().invoke(cli, ["migrate"]).exit_code == 0
    done = CliRunner().invoke(cli, ["migrate", "--check"])
    assert (done.exit_code, done.output) == (0, "Nothing to do: the schema is current.\n")


def test_the_migration_scripts_ship_in_the_wheel() -> None:
    """Every file beside env.py is a module of a package, or package data in pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = config["tool"]["setuptools"]["package-data"]["adapters.migrations"]
    for path in SCRIPTS.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        if path.suffix == ".py":
            assert (path.parent / "__init__.py").is_file(), path
        else:
            assert any(path.relative_to(SCRIPTS).match(pattern) for pattern in data), path
    assert {"env.py", "script.py.mako"} <= {path.name for path in SCRIPTS.iterdir()}
