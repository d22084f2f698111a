"""Evidence storage: sniffing, plain names, content addressing, on disk and in PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from adapters.bootstrap import Lastmile
from adapters.evidence import (
    EmptyFileError,
    FileEvidenceStore,
    FileTooLargeError,
    PostgresEvidenceStore,
    StoredFile,
)
from adapters.filetypes import (
    DOC,
    DOCX,
    OLE_MAGIC,
    PPT,
    PPTX,
    XLS,
    UnsupportedFileTypeError,
    display_name,
    sniff,
)
from adapters.settings import SettingsError, load_settings
from domain.errors import NotFoundError, ValidationError

END, FREE = 0xFFFFFFFE, 0xFFFFFFFF
BIG_PDF = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024 + 17)  # several chunks


def ole(*streams: str) -> bytes:
    """A minimal OLE2 compound file (Office 97-2003 container) holding these empty streams."""
    header = bytearray(512)
    header[:8] = OLE_MAGIC
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)  # version, 512-byte sectors
    struct.pack_into("<II", header, 44, 1, 1)  # one FAT sector; the directory at sector 1
    struct.pack_into("<IIIII", header, 56, 4096, END, 0, END, 0)  # no mini FAT, no DIFAT
    struct.pack_into("<109I", header, 76, 0, *[FREE] * 108)  # the FAT is sector 0
    fat = struct.pack("<128I", 0xFFFFFFFD, END, *[FREE] * 126)
    entries = [("Root Entry", 5), *((name, 2) for name in streams)]
    directory = b"".join(_entry(name, kind) for name, kind in entries).ljust(512, b"\0")
    return bytes(header) + fat + directory


def _entry(name: str, kind: int) -> bytes:
    encoded = name.encode("utf-16-le") + b"\0\0"
    return encoded.ljust(64, b"\0") + struct.pack("<HB", len(encoded), kind).ljust(64, b"\0")


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"II*\x00\x08\x00\x00\x00\x0c\x00", "image/tiff"),
        (b"BM" + b"\x00" * 30, "image/bmp"),
        (ole("WordDocument", "1Table"), DOC),
        (ole("Workbook"), XLS),
        (ole("PowerPoint Document", "Current User"), PPT),
        (zipped("[Content_Types].xml", "_rels/.rels", "word/document.xml"), DOCX),
        (zipped("[Content_Types].xml", "ppt/presentation.xml"), PPTX),
        (zipped("[Content_Types].xml", "Documents/1.fpage"), "application/zip"),
        (zipped("现场照片/1.jpg"), "application/zip"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_sniffs_each_accepted_kind_from_its_bytes(content: bytes, media_type: str) -> None:
    assert sniff(io.BytesIO(content), "whatever.bin") == media_type


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (ole("\u4840\u3f3f", "\x05SummaryInformation"), "installer"),
        (ole("WordDocument", "Macros"), "macros"),
        (ole("EncryptedPackage", "EncryptionInfo"), "password"),
        (OLE_MAGIC + b"\x00" * 100, "damaged"),
        (zipped("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), "macros"),
        (b"PK\x03\x04" + b"\x00" * 100, "damaged"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "elf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "web page"),
        ("序号,问题\n1,预算执行率低\n".encode(), "plain text"),
        (b"\x00\x01\x02\x03garbage", "not a kind of file we recognise"),
    ],
    ids=["msi", "doc-macros", "encrypted", "bad-ole", "docm", "bad-zip", "elf", "svg", "csv", "?"],
)
def test_refuses_other_kinds_saying_what_it_found(content: bytes, said: str) -> None:
    with pytest.raises(UnsupportedFileTypeError, match=said) as refused:
        sniff(io.BytesIO(content), "报告.pdf")
    assert "“报告.pdf” cannot be kept as evidence" in str(refused.value)
    assert "Accepted: PDF" in str(refused.value)


@pytest.mark.parametrize(
    ("declared", "media_type", "kept"),
    [
        ("整改报告.pdf", "application/pdf", "整改报告.pdf"),
        ("/var/tmp/../x.PDF", "application/pdf", "x.PDF"),
        ("..\\..\\boot.ini.jpg", "image/jpeg", "boot.ini.jpg"),
        ("scan.jpeg", "image/jpeg", "scan.jpeg"),
        ("表格.et", XLS, "表格.et"),  # WPS Office's own name for a spreadsheet
        ("setup.exe", "application/pdf", "setup.exe.pdf"),
        ("", "application/zip", "evidence.zip"),
        (None, DOCX, "evidence.docx"),
        (" . ", "image/png", "evidence.png"),
    ],
)
def test_display_name_is_a_plain_name_that_fits_the_type(
    declared: str | None, media_type: str, kept: str
) -> None:
    assert display_name(declared, media_type) == kept


def test_display_name_keeps_the_extension_when_it_cuts_to_255() -> None:
    name = display_name("文" * 400 + ".xlsx", "application/zip")
    assert len(name) == 255
    assert name.endswith("文.zip")  # the type's extension survives the cut


def test_a_file_round_trips_in_chunks_and_is_stored_once(lastmile: Lastmile) -> None:
    store = lastmile.evidence
    sha256 = hashlib.sha256(BIG_PDF).hexdigest()

    first = store.put(io.BytesIO(BIG_PDF), "big.pdf", len(BIG_PDF))
    again = store.put(io.BytesIO(BIG_PDF), "again.pdf", len(BIG_PDF))

    assert first == again == StoredFile(sha256, len(BIG_PDF), "application/pdf")
    assert store.info(sha256) == first
    chunks = list(store.open(sha256))
    assert len(chunks) > 1
    assert b"".join(chunks) == BIG_PDF


def test_the_filesystem_store_fans_out_by_digest_and_leaves_no_temporary_files(
    tmp_path: Path,
) -> None:
    store = FileEvidenceStore(tmp_path / "evidence")
    stored = store.put(io.BytesIO(b"%PDF-1.4\n"), "a.pdf", 100)
    with pytest.raises(UnsupportedFileTypeError):
        store.put(io.BytesIO(b"<html></html>"), "b.pdf", 100)
    with pytest.raises(FileTooLargeError):
        store.put(io.BytesIO(BIG_PDF), "c.pdf", 1000)

    files = [p.relative_to(store.root) for p in store.root.rglob("*") if p.is_file()]

    digest = stored.sha256
    assert [str(f) for f in files] == [f"{digest[:2]}/{digest[2:4]}/{digest}"]


@pytest.mark.postgres
def test_the_postgres_store_tolerates_a_concurrent_copy_of_the_same_file(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        store = PostgresEvidenceStore(engine)
        store.create_tables()
        stored = store.put(io.BytesIO(b"%PDF-1.4\n"), "a.pdf", 100)
        store._copy_in(stored, io.BytesIO(b"%PDF-1.4\n"))  # as a racing upload would
        assert b"".join(store.open(stored.sha256)) == b"%PDF-1.4\n"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("content", "limit", "error"),
    [(b"", 100, EmptyFileError), (b"%PDF-1.4\n" + b"x" * 100, 100, FileTooLargeError)],
    ids=["empty", "too-large"],
)
def test_refused_uploads_store_nothing(
    lastmile: Lastmile, content: bytes, limit: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        lastmile.evidence.put(io.BytesIO(content), "a.pdf", limit)
    with pytest.raises(NotFoundError):
        lastmile.evidence.info(hashlib.sha256(content).hexdigest())


@pytest.mark.parametrize("digest", ["../../../etc/passwd", "A" * 64, "a" * 63, "a" * 64 + "\n"])
def test_only_a_real_digest_is_ever_looked_up(lastmile: Lastmile, digest: str) -> None:
    with pytest.raises(ValidationError, match="not a SHA-256 digest"):
        lastmile.evidence.info(digest)
    with pytest.raises(ValidationError):
        lastmile.evidence.open(digest)


def test_an_unknown_digest_is_not_found(lastmile: Lastmile) -> None:
    with pytest.raises(NotFoundError):
        lastmile.evidence.open("0" * 64)


def test_the_size_limit_is_50_mb_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().evidence_max_bytes == 50 * 1024 * 1024
    monkeypatch.setenv("LASTMILE_EVIDENCE_MAX_BYTES", "1048576")
    assert load_settings().evidence_max_bytes == 1024 * 1024


@pytest.mark.parametrize("value", ["0", "-1", "50MB"])
def test_a_bad_size_limit_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LASTMILE_EVIDENCE_MAX_BYTES", value)
    with pytest.raises(SettingsError, match="LASTMILE_EVIDENCE_MAX_BYTES"):
        load_settings()
