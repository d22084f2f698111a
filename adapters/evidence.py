"""Evidence files (佐证材料), stored once per content under their SHA-256."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

import psycopg
from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    event,
    func,
    select,
)

from adapters.filetypes import UnsupportedFileTypeError, sniff
from adapters.projections.tables import UTCDateTime
from domain.errors import NotFoundError, ValidationError

__all__ = [
    "EmptyFileError",
    "EvidenceStore",
    "FileEvidenceStore",
    "FileTooLargeError",
    "PostgresEvidenceStore",
    "StoredFile",
    "UnsupportedFileTypeError",
]

CHUNK = 1024 * 1024
DIGEST = re.compile(r"[0-9a-f]{64}")
metadata = MetaData()
blobs = Table(
    "lastmile_evidence",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
# Kept uncompressed (the files mostly are compressed already), so reading a slice is cheap.
event.listen(
    blobs,
    "after_create",
    DDL(  # type: ignore[no-untyped-call]
        "ALTER TABLE lastmile_evidence ALTER COLUMN content SET STORAGE EXTERNAL"
    ).execute_if(dialect="postgresql"),
)


class EmptyFileError(ValidationError):
    """The upload has no content; nothing was stored."""


class FileTooLargeError(ValidationError):
    """The upload is over the size limit; nothing was stored."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str  # sniffed from the content, never taken from the client


class EvidenceStore(Protocol):
    """Where evidence files are kept: the data directory, or the records database."""

    def put(self, stream: BinaryIO, declared_name: str, limit: int) -> StoredFile:
        """Keep the stream's content (once per digest) if it is allowed and within limit."""
        ...

    def info(self, sha256: str) -> StoredFile:
        """The stored file's size and media type; NotFoundError when it is not here."""
        ...

    def open(self, sha256: str) -> Iterator[bytes]:
        """The content in chunks; NotFoundError (before the first chunk) when it is not here."""
        ...


class FileEvidenceStore:
    """Files under root/ab/cd/<sha256>; a file appears under its digest whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, stream: BinaryIO, declared_name: str, limit: int) -> StoredFile:
        self.root.mkdir(parents=True, exist_ok=True)
        # Same directory tree as the destination, so the rename below is atomic.
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".upload-", delete=False) as temp:
            try:
                stored = receive(stream, cast(BinaryIO, temp), declared_name, limit)
                temp.flush()
                os.fsync(temp.fileno())
            except BaseException:
                os.unlink(temp.name)
                raise
        target = self._path(stored.sha256)
        if target.exists():
            os.unlink(temp.name)
            return stored
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp.name, target)
        _fsync_directory(target.parent)
        return stored

    def info(self, sha256: str) -> StoredFile:
        path = self._existing(sha256)
        with path.open("rb") as file:
            return StoredFile(sha256, path.stat().st_size, sniff(file))

    def open(self, sha256: str) -> Iterator[bytes]:
        return _read_chunks(self._existing(sha256))

    def _path(self, sha256: str) -> Path:
        checked(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _existing(self, sha256: str) -> Path:
        path = self._path(sha256)
        if not path.is_file():
            raise _missing(sha256)
        return path


class PostgresEvidenceStore:
    """Blobs in the records database, so every API machine sees every file."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_tables(self) -> None:
        metadata.create_all(self.engine)

    def put(self, stream: BinaryIO, declared_name: str, limit: int) -> StoredFile:
        with tempfile.TemporaryFile() as temp:
            stored = receive(stream, temp, declared_name, limit)
            if not self._has(stored.sha256):
                temp.seek(0)
                self._copy_in(stored, temp)
        return stored

    def info(self, sha256: str) -> StoredFile:
        query = select(blobs.c.size, blobs.c.media_type).where(blobs.c.sha256 == checked(sha256))
        with self.engine.connect() as connection:
            row = connection.execute(query).one_or_none()
        if row is None:
            raise _missing(sha256)
        return StoredFile(sha256, row.size, row.media_type)

    def open(self, sha256: str) -> Iterator[bytes]:
        return self._slices(sha256, self.info(sha256).size)

    def _slices(self, sha256: str, size: int) -> Iterator[bytes]:
        for offset in range(0, size, CHUNK):
            piece = func.substring(blobs.c.content, offset + 1, CHUNK)
            with self.engine.connect() as connection:  # not held while the client reads
                chunk = connection.execute(select(piece).where(blobs.c.sha256 == sha256))
                data = bytes(chunk.scalar_one())
            yield data

    def _has(self, sha256: str) -> bool:
        query = select(blobs.c.sha256).where(blobs.c.sha256 == sha256)
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def _copy_in(self, stored: StoredFile, content: BinaryIO) -> None:
        """COPY the row in, its bytea as hex chunk by chunk: never the whole file in memory."""
        created = datetime.now(UTC).replace(tzinfo=None).isoformat()  # the column is UTC
        fields = f"{stored.sha256}\t{stored.size}\t{stored.media_type}\t{created}\t"
        sql = "COPY lastmile_evidence (sha256, size, media_type, created_at, content) FROM STDIN"
        pooled = self.engine.raw_connection()
        try:
            connection = cast("psycopg.Connection[Any]", pooled.driver_connection)
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                copy.write(fields.encode() + b"\\\\x")  # COPY text escapes bytea's \x as \\x
                while chunk := content.read(CHUNK):
                    copy.write(chunk.hex().encode())
                copy.write(b"\n")
            connection.commit()
        except psycopg.errors.UniqueViolation:
            connection.rollback()  # a concurrent upload of the same content got there first
        finally:
            pooled.close()


def receive(stream: BinaryIO, into: BinaryIO, declared_name: str, limit: int) -> StoredFile:
    """Copy stream into a seekable file, hashing as it goes; refuse empty, too large, or unknown."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        digest.update(chunk)
        into.write(chunk)
    if size == 0:
        raise EmptyFileError("The file is empty; choose the file again and re-upload it.")
    into.flush()
    return StoredFile(digest.hexdigest(), size, sniff(into, declared_name))


def checked(sha256: str) -> str:
    """The digest itself, or ValidationError: only 64 lowercase hex digits ever reach a path."""
    if not DIGEST.fullmatch(sha256):
        raise ValidationError(f"{sha256[:80]!r} is not a SHA-256 digest (64 lowercase hex digits).")
    return sha256


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _missing(sha256: str) -> NotFoundError:
    return NotFoundError(f"No stored file has the digest {sha256}.")


def too_large(limit: int) -> FileTooLargeError:
    size = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return FileTooLargeError(
        f"The file is larger than the limit of {size}; nothing was stored. "
        "Split it, or scan it at a lower resolution."
    )
