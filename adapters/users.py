"""Users and their API tokens: passwords hashed with Argon2, tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, Engine, ForeignKey, MetaData, String, Table, select, update
from sqlalchemy.exc import IntegrityError

from adapters.projections.tables import UTCDateTime
from adapters.sessions import LoginPolicy, SessionStore, session_hash, sessions_table
from domain.errors import AlreadyExistsError, NotFoundError, ValidationError
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


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Revoked:
    """What revoking a user's access ended."""

    tokens: int  # live API tokens revoked
    sessions: int  # browser sessions ended


TOKEN_CACHE_SECONDS = 5.0
TOKEN_CACHE_SIZE = 1024


class TokenCache:
    """Recently verified tokens for a few seconds, so a busy client is not a query per request.

    Only live tokens are kept, at most `size`, each for `ttl` seconds. A revocation through
    this process forgets the user's tokens at once; one made by another process (`lastmile
    user revoke`, a second server) takes effect here within `ttl` seconds.
    """

    def __init__(
        self,
        ttl: float = TOKEN_CACHE_SECONDS,
        size: int = TOKEN_CACHE_SIZE,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.size, self.now = ttl, size, now
        self._lock = threading.Lock()
        self._users: OrderedDict[str, tuple[User, float]] = OrderedDict()
        self._revocations = 0  # bumped by forget_user; a lookup begun before it is not kept

    def get(self, digest: str) -> User | None:
        with self._lock:
            kept = self._users.get(digest)
            if kept is None:
                return None
            if kept[1] <= self.now():
                del self._users[digest]
                return None
            return kept[0]

    def generation(self) -> int:
        """Read before querying the store; `put` keeps the answer only if still current."""
        with self._lock:
            return self._revocations

    def put(self, digest: str, user: User, generation: int) -> None:
        with self._lock:
            if generation != self._revocations or self.ttl <= 0:
                return  # a revocation ran while the store was read: that answer may be stale
            self._users[digest] = (user, self.now() + self.ttl)
            self._users.move_to_end(digest)
            while len(self._users) > self.size:
                self._users.popitem(last=False)

    def forget_user(self, name: str) -> None:
        with self._lock:
            self._revocations += 1
            for digest in [d for d, (user, _) in self._users.items() if user.name == name]:
                del self._users[digest]


class UserStore:
    """Who may act, with which role and for which department; their tokens and sessions."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = _utc_now,
        login: LoginPolicy = LoginPolicy(),  # noqa: B008 - frozen, so one shared default is safe
    ) -> None:
        self.engine, self.clock = engine, clock
        self.hasher = PasswordHasher()
        self.sessions = SessionStore(engine, clock, login)
        self.tokens = TokenCache()

    def create_tables(self) -> None:
        metadata.create_all(self.engine)
        self.sessions.create_tables()

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
        token, now = secrets.token_urlsafe(32), self.clock()
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

    def all(self) -> list[User]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(users_table).order_by(users_table.c.name)).all()
        return [_user(row) for row in rows]

    def issue_token(self, name: str) -> str:
        """A new API token for the user, shown once; earlier tokens keep working."""
        token = secrets.token_urlsafe(32)
        self._existing(name)
        with self.engine.begin() as connection:
            connection.execute(
                tokens_table.insert().values(
                    token_hash=token_hash(token), user_name=name, created_at=self.clock()
                )
            )
        return token

    def revoke_tokens(self, name: str) -> Revoked:
        """End the user's access: revoke every live token and end every browser session.

        At once in this process; other processes' token caches let go within
        TOKEN_CACHE_SECONDS (sessions are never cached).
        """
        self._existing(name)
        revoke = (
            update(tokens_table)
            .where(tokens_table.c.user_name == name, tokens_table.c.revoked_at.is_(None))
            .values(revoked_at=self.clock())
        )
        try:
            with self.engine.begin() as connection:
                tokens = connection.execute(revoke).rowcount
                sessions = self.sessions.end_all(connection, name)
        finally:
            self.tokens.forget_user(name)  # after the commit: no lookup can re-cache it
        return Revoked(tokens, sessions)

    def _existing(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise NotFoundError(f"User {name} does not exist.")
        return user

    def by_token(self, token: str) -> User | None:
        """The user of a live token; answered from the token cache when it was seen lately."""
        digest = token_hash(token)
        return self.tokens.get(digest) or self.by_token_digest(digest)

    def cached_by_token(self, token: str) -> User | None:
        """The token's user if the cache holds it, without touching the store."""
        return self.tokens.get(token_hash(token))

    def by_token_digest(self, digest: str) -> User | None:
        """The user of a live token, read from the store (and kept in the token cache)."""
        generation = self.tokens.generation()
        query = (
            select(users_table)
            .join(tokens_table, tokens_table.c.user_name == users_table.c.name)
            .where(tokens_table.c.token_hash == digest)
            .where(tokens_table.c.revoked_at.is_(None))
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        user = _user(row)
        self.tokens.put(digest, user, generation)
        return user

    def start_session(self, name: str, password: str, client: str = "unknown") -> str | None:
        """A browser session id when the password is right, else None.

        Raises LoginLockedError, without looking at the password, after too many failures
        for this name or from this client.
        """
        self.sessions.admit(name, client)
        with self.engine.connect() as connection:
            stored = connection.execute(
                select(users_table.c.password_hash).where(users_table.c.name == name)
            ).scalar_one_or_none()
        # Without a user or a password, check a dummy hash anyway: the answer then takes
        # as long as a real check and so does not tell which user names exist.
        matches = self._verify(stored or self._dummy_hash, password)
        if stored is None or not matches:
            return None
        if self.hasher.check_needs_rehash(stored):
            self._set_password_hash(name, self.hasher.hash(password))
        self.sessions.forget_failures(name)
        return self.sessions.start(name)

    def by_session(self, session_id: str) -> User | None:
        query = (
            select(users_table)
            .join(sessions_table, sessions_table.c.user_name == users_table.c.name)
            .where(sessions_table.c.id_hash == session_hash(session_id))
            .where(sessions_table.c.expires_at > self.clock())
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return _user(row) if row else None

    def end_session(self, session_id: str) -> None:
        self.sessions.end(session_id)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hasher.hash(secrets.token_urlsafe(32))

    def _set_password_hash(self, name: str, password_hash: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(users_table)
                .where(users_table.c.name == name)
                .values(password_hash=password_hash)
            )


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
