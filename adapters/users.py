"""Users and their API tokens: passwords hashed with Argon2, tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy import Column, Engine, ForeignKey, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError

from adapters.projections.tables import UTCDateTime
from domain.errors import AlreadyExistsError, ValidationError
from domain.values import Role

USER_NAME = re.compile(r"^[\w.@-]{1,64}$")
metadata = MetaData()
users_table = Table(
    "lastmile_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("department", String(32)),
    Column("email", String(254)),
    Column("password_hash", String(255)),
    Column("created_at", UTCDateTime(), nullable=False),
)
tokens_table = Table(
    "lastmile_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(64), ForeignKey("lastmile_users.name"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    department: str | None
    email: str | None


@dataclass(frozen=True)
class NewUser:
    user: User
    token: str  # shown once; only its hash is stored


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    """Who may act, with which role and for which department."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.hasher = PasswordHasher()

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    def add(
        self,
        name: str,
        role: Role,
        department: str | None = None,
        email: str | None = None,
        password: str | None = None,
    ) -> NewUser:
        """Create a user with a first API token; department users must name their department."""
        user = _checked_user(name, role, department, email)
        token, now = secrets.token_urlsafe(32), datetime.now(UTC)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    users_table.insert().values(
                        name=user.name,
                        role=user.role.value,
                        department=user.department,
                        email=user.email,
                        password_hash=self.hasher.hash(password) if password else None,
                        created_at=now,
                    )
                )
                connection.execute(
                    tokens_table.insert().values(
                        token_hash=token_hash(token), user_name=user.name, created_at=now
                    )
                )
        except IntegrityError:
            raise AlreadyExistsError(f"User {user.name} already exists.") from None
        return NewUser(user, token)

    def get(self, name: str) -> User | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(users_table).where(users_table.c.name == name)).first()
        return _user(row) if row else None

    def by_token(self, token: str) -> User | None:
        query = (
            select(users_table)
            .join(tokens_table, tokens_table.c.user_name == users_table.c.name)
            .where(tokens_table.c.token_hash == token_hash(token))
            .where(tokens_table.c.revoked_at.is_(None))
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return _user(row) if row else None


def _checked_user(name: str, role: Role, department: str | None, email: str | None) -> User:
    if not USER_NAME.match(name):
        raise ValidationError(
            f"User name {name!r} must be 1-64 letters, digits, '.', '@', '-' or '_'."
        )
    if role is Role.DEPARTMENT and not department:
        raise ValidationError("A department user must name their department (--department).")
    if role is not Role.DEPARTMENT and department:
        raise ValidationError(f"Only department users belong to a department, not {role.value}.")
    if role is Role.SYSTEM:
        raise ValidationError("The system role is reserved for the scheduler.")
    return User(name, role, department.upper() if department else None, email or None)


def _user(row: object) -> User:
    return User(
        name=row.name,  # type: ignore[attr-defined]
        role=Role(row.role),  # type: ignore[attr-defined]
        department=row.department,  # type: ignore[attr-defined]
        email=row.email,  # type: ignore[attr-defined]
    )
