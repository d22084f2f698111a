"""Typed settings, read once from the environment (or a .env file) and validated at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")
URL_FIELDS = frozenset({"database_url", "smtp_url"})  # may carry user:password@


class SettingsError(ValueError):
    """A setting has a bad value; the message names the variable."""


class Settings(BaseSettings):
    """Everything Lastmile reads from its environment (PRODUCT.md §7)."""

    # hide_input_in_errors: a bad URL's password must not reach an error message or a log.
    model_config = SettingsConfigDict(
        env_prefix="LASTMILE_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    data_dir: Path = Path("./var")
    database_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "lastmile@localhost"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(default="", repr=False)
    language: Literal["zh-CN", "en"] = "zh-CN"
    policy: Path | None = None
    projection_batch_size: int = Field(default=1000, ge=1, le=100_000)
    evidence_max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)  # per uploaded file
    session_hours: int = Field(default=8, ge=1, le=24 * 30)
    login_attempts: int = Field(default=5, ge=1, le=1000)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # The worker (docs/worker.md). Fractions are allowed so tests can scan every few seconds.
    scan_minutes: float = Field(default=15, gt=0, le=24 * 60)
    mail_derive_seconds: float = Field(default=15, gt=0, le=3600)
    mail_send_seconds: float = Field(default=30, gt=0, le=3600)
    # The first retry after a 4xx or an unreachable server; it doubles up to an hour.
    mail_retry_seconds: float = Field(default=60, gt=0, le=3600)
    digest_time: time | None = time(8, 30)  # China time; empty: no daily digest

    @field_validator("digest_time", mode="before")
    @classmethod
    def _digest_time(cls, value: Any) -> Any:
        if value is None or isinstance(value, time):
            return value
        text = str(value).strip()
        if not text:
            return None
        hours, _, minutes = text.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError(f"must be a time of day like 08:30 (China time), not {text!r}")
        if int(hours) > 23 or int(minutes) > 59:
            raise ValueError(f"{text!r} is not a time of day")
        return time(int(hours), int(minutes))

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        scheme = urlsplit(value).scheme
        if scheme not in POSTGRES_SCHEMES:
            raise ValueError(
                "must be a PostgreSQL URL (postgresql://user@host:port/db), "
                f"not {scheme or redacted(value)!r}; leave it unset for the embedded SQLite store"
            )
        return value

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no policy file at {value}")
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """repr() and str() show the URLs without their passwords (secret_key not at all)."""
        for name, value in super().__repr_args__():
            yield name, redacted(value) if name in URL_FIELDS and value else value

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def psycopg_url(self) -> str | None:
        """The PostgreSQL URL as psycopg (libpq) takes it; None for the embedded store."""
        if self.database_url is None:
            return None
        return self.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)

    @property
    def sqlalchemy_url(self) -> str:
        """The event store's SQLAlchemy URL, with the psycopg 3 driver for PostgreSQL."""
        if self.database_url is None:
            return f"sqlite:///{self.data_dir.resolve() / 'events.sqlite3'}"
        scheme, rest = self.database_url.split("://", 1)
        return (
            f"postgresql+psycopg://{rest}" if scheme != "postgresql+psycopg" else self.database_url
        )


def redacted(url: str) -> str:
    """The URL with the password of its user part replaced by ***, for messages and logs."""
    scheme, sep, rest = url.partition("//")
    if not sep:
        scheme, rest = "", url
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{host}"


def load_settings() -> Settings:
    """Read and validate settings; a bad value raises SettingsError naming its variable."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"LASTMILE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        raise SettingsError(f"Bad configuration: {problems}") from None
