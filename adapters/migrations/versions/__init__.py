"""Alembic revisions of the durable tables, oldest first (r0001_baseline is today's schema)."""
