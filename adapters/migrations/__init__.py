"""Schema migrations: Alembic for the durable tables, run by `lastmile migrate`.

What is migrated, and how:

- durable tables (users, tokens, sessions, login attempts, idempotency, evidence blobs on
  PostgreSQL, worker status, mail outbox and tracking): Alembic revisions in `versions/`.
  `schema.py` names their metadata; autogenerate compares only these tables.
- the event store (`lastmile_events`, `lastmile_events_chain`): eventsourcing creates it
  (CREATE_TABLE); its layout is the library's and the hash chain's, never altered here.
- read models (`rm_*`): disposable; a change bumps READ_MODEL_SCHEMA and they are dropped and
  rebuilt from the log (adapters/projections/runner.py), so they have no revisions.

Processes still create missing tables at start-up, so the embedded SQLite store needs no
step; a store without `alembic_version` is adopted by the baseline (r0001), which creates
only the tables it lacks. A revision after the baseline must therefore tolerate a table that
start-up already created in its new shape (check with `sa.inspect(op.get_bind())`).

To write a revision: change the Table in its module, then, against a database at head,
    .venv/bin/python -c "from alembic import command; from adapters.migrations.upgrade import \\
      alembic_config; command.revision(alembic_config('sqlite:///var/lastmile.sqlite3'), \\
      'what changed', autogenerate=True, rev_id='r0002')"
review the file it wrote to `versions/` (then `make format`) and extend
tests/adapters/test_migrations.py.
"""
