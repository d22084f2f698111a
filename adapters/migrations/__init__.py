"""Schema migrations: Alembic for the durable tables, run by `lastmile migrate`.

What is migrated, and how:

- durable tables (users, tokens, sessions, login attempts, idempotency, evidence blobs on
  PostgreSQL, worker status, mail outbox and tracking): Alembic revisions in `versions/`.
  `schema.py` names their metadata; autogenerate compares only these tables.
- the event store (`lastmile_events`, `lastmile_events_chain`): eventsourcing creates it
  (CREATE_TABLE); its layout is the library's and the hash chain's, never altered here.
- read models (`rm_*`): disposable; a change bumps READ_MODEL_SCHEMA and they are dropped and
  rebuilt from the log (adapters/projections/runner.py), so they have no revisions.

Processes create missing tables at start-up, in their newest shape, which is right only on a
store at the head revision or a fresh one; so start-up first runs durable.check_at_start: it
stamps a fresh store at HEAD, upgrades an embedded SQLite store itself and refuses a
PostgreSQL store that is behind (the operator runs `lastmile migrate`, with every process
stopped). A store without `alembic_version` but with tables was made before migrations
existed; the baseline (r0001) adopts it, creating only the tables it lacks.

To write a revision: change the Table in its module, then, against a database at head,
    .venv/bin/python -c "from alembic import command; from adapters.migrations.durable import \\
      alembic_config; command.revision(alembic_config('sqlite:///var/lastmile.sqlite3'), \\
      'what changed', autogenerate=True, rev_id='r0002')"
review the file it wrote to `versions/` (then `make format`), set durable.HEAD to its id
and extend tests/adapters/test_migrations.py.
"""
