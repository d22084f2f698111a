"""Baseline: the durable tables as start-up created them before migrations existed.

A store made by those versions already has some or all of these tables and no
alembic_version: this revision then creates only the missing ones, so it is adopted
(stamped), its rows untouched. Evidence blobs are stored in the database on PostgreSQL only.

Revision ID: r0001
Revises:
Create Date: 2025-11-20
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision: str = "r0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime  # aware datetimes are stored as naive UTC (UTCDateTime)


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for name, create in TABLES:
        if name in POSTGRES_ONLY and bind.dialect.name != "postgresql":
            continue
        if name not in existing:
            create()


def downgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for name, _ in reversed(TABLES):
        if name in existing:
            op.drop_table(name)


def _users() -> None:
    op.create_table(
        "lastmile_users",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def _tokens() -> None:
    op.create_table(
        "lastmile_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("revoked_at", UTC_TIME(), nullable=True),
        sa.ForeignKeyConstraint(["user_name"], ["lastmile_users.name"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )


def _sessions() -> None:
    op.create_table(
        "lastmile_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("expires_at", UTC_TIME(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_lastmile_sessions_expires_at", "lastmile_sessions", ["expires_at"])
    op.create_index("ix_lastmile_sessions_user_name", "lastmile_sessions", ["user_name"])


def _login_attempts() -> None:
    op.create_table(
        "lastmile_login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_TIME(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    table = "lastmile_login_attempts"
    op.create_index("ix_lastmile_login_attempts_at", table, ["at"])
    op.create_index("ix_lastmile_login_attempts_client_at", table, ["client", "at"])
    op.create_index("ix_lastmile_login_attempts_user_at", table, ["user_name", "at"])


def _idempotency() -> None:
    op.create_table(
        "lastmile_idempotency",
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.PrimaryKeyConstraint("user_name", "key"),
    )


def _evidence() -> None:
    op.create_table(
        "lastmile_evidence",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    # Kept uncompressed (the files mostly are compressed already), so reading a slice is cheap.
    op.execute("ALTER TABLE lastmile_evidence ALTER COLUMN content SET STORAGE EXTERNAL")


def _worker_status() -> None:
    op.create_table(
        "worker_status",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_TIME(), nullable=False),
        sa.Column("stopped_at", UTC_TIME(), nullable=True),
        sa.Column("last_scan_at", UTC_TIME(), nullable=True),
        sa.Column("last_scan_seconds", sa.Float(), nullable=True),
        sa.Column("last_scan_events", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", UTC_TIME(), nullable=True),
        sa.Column("updated_at", UTC_TIME(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def _mail_tracking() -> None:
    op.create_table(
        "mail_tracking",
        sa.Column("processor", sa.String(length=64), nullable=False),
        sa.Column("position", BIG, nullable=False),
        sa.PrimaryKeyConstraint("processor"),
    )


def _mail_outbox() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("finding_id", sa.String(length=36), nullable=True),
        sa.Column("event_position", BIG, nullable=True),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("about", sa.String(length=100), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TIME(), nullable=False),
        sa.Column("claimed_at", UTC_TIME(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("sent_at", UTC_TIME(), nullable=True),
        sa.Column("failure_reported_at", UTC_TIME(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("mail_outbox_due", "mail_outbox", ["status", "next_attempt_at"])
    op.create_index("mail_outbox_finding", "mail_outbox", ["finding_id"])


# In creation order (tokens refer to users).
TABLES: tuple[tuple[str, Callable[[], None]], ...] = (
    ("lastmile_users", _users),
    ("lastmile_tokens", _tokens),
    ("lastmile_sessions", _sessions),
    ("lastmile_login_attempts", _login_attempts),
    ("lastmile_idempotency", _idempotency),
    ("lastmile_evidence", _evidence),
    ("worker_status", _worker_status),
    ("mail_tracking", _mail_tracking),
    ("mail_outbox", _mail_outbox),
)
POSTGRES_ONLY = frozenset({"lastmile_evidence"})
