"""What an uploaded file really is: its media type sniffed from the content, never the name."""

from __future__ import annotations

import re
import struct
import unicodedata
import zipfile
from pathlib import PurePosixPath, PureWindowsPath
from typing import BinaryIO

import filetype  # type: ignore[import-untyped]

from domain.errors import ValidationError

DOC, XLS, PPT = "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"
OOXML = "application/vnd.openxmlformats-officedocument."
DOCX = OOXML + "wordprocessingml.document"
XLSX = OOXML + "spreadsheetml.sheet"
PPTX = OOXML + "presentationml.presentation"
ZIP = "application/zip"

# Media type → the file name extensions it goes by, the usual one first. WPS Office's own
# names (.wps .et .dps) are listed because its files are Word/Excel/PowerPoint inside.
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/tiff": (".tif", ".tiff"),
    "image/bmp": (".bmp",),
    DOCX: (".docx", ".dotx", ".wpsx"),
    XLSX: (".xlsx", ".xltx", ".etx"),
    PPTX: (".pptx", ".ppsx", ".potx", ".dpsx"),
    DOC: (".doc", ".dot", ".wps"),
    XLS: (".xls", ".xlt", ".et"),
    PPT: (".ppt", ".pps", ".pot", ".dps"),
    ZIP: (".zip",),
}
ALLOWED_IN_WORDS = (
    "PDF, images (JPEG, PNG, GIF, WebP, TIFF, BMP), Word, Excel and PowerPoint documents "
    "(.docx .xlsx .pptx and the older .doc .xls .ppt) and ZIP archives"
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a first entry, or an empty archive
OFFICE_PARTS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
OLE_STREAMS = (
    ("WordDocument", DOC),
    ("Workbook", XLS),
    ("Book", XLS),
    ("PowerPoint Document", PPT),
)
OLE_MACROS = frozenset({"Macros", "_VBA_PROJECT_CUR", "VBA"})
HEAD = 8192


class UnsupportedFileTypeError(ValidationError):
    """The content is not one of the accepted kinds of evidence; nothing was stored."""


def sniff(file: BinaryIO, declared_name: str = "") -> str:
    """The media type of a seekable file, judged by its bytes; refuses anything not allowed."""
    file.seek(0)
    head = file.read(HEAD)
    if head.startswith(OLE_MAGIC):
        return _office_97(file, declared_name)
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(file, declared_name)
    kind = filetype.guess(head)
    mime = str(kind.mime) if kind is not None else None
    if mime in ALLOWED:
        return mime
    found = f"a {kind.extension} file ({mime})" if kind is not None else _unknown(head)
    raise _refused(declared_name, f"it is {found}")


def display_name(declared: str | None, media_type: str) -> str:
    """A harmless name to show and offer on download: the last path part, printable, ≤255.

    It is never used as a path. When its extension does not fit the sniffed type the right
    one is added, so a ZIP called "x.jar" downloads as "x.jar.zip", not as a program.
    """
    name = _clean(declared)
    extensions = ALLOWED.get(media_type, ("",))
    if not name.lower().endswith(extensions):
        name = (name or "evidence") + extensions[0]
    stem, dot, extension = name.rpartition(".")
    return name if len(name) <= 255 else stem[: 254 - len(extension)] + dot + extension


def _clean(declared: str | None) -> str:
    """The last part of a client's path (either slash), without control or format characters."""
    raw = unicodedata.normalize("NFC", declared or "")
    last = PureWindowsPath(PurePosixPath(raw).name).name
    return "".join(c for c in last if unicodedata.category(c)[0] != "C").strip(" .")


def _zip_kind(file: BinaryIO, declared_name: str) -> str:
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _refused(
            declared_name, "it looks like a ZIP archive but is damaged or cut short"
        ) from None
    if "[Content_Types].xml" not in names:
        return ZIP
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _macros(declared_name)
    return next(
        (mime for prefix, mime in OFFICE_PARTS if any(n.startswith(prefix) for n in names)), ZIP
    )


def _office_97(file: BinaryIO, declared_name: str) -> str:
    try:
        names = ole_entry_names(file)
    except (struct.error, ValueError):
        raise _refused(
            declared_name, "it looks like an Office 97-2003 file but is damaged"
        ) from None
    if names & OLE_MACROS:
        raise _macros(declared_name)
    if "EncryptedPackage" in names:
        raise _refused(
            declared_name, "it is a password-protected Office file; remove the password first"
        )
    for stream, mime in OLE_STREAMS:
        if stream in names:
            return mime
    raise _refused(
        declared_name,
        "it is a Microsoft compound file but not a Word, Excel or PowerPoint document "
        "(perhaps an installer or a saved e-mail)",
    )


def ole_entry_names(file: BinaryIO) -> set[str]:
    """The names of the streams and storages in an OLE2 compound file (Office 97-2003)."""
    file.seek(0)
    header = file.read(512)
    (shift,) = struct.unpack_from("<H", header, 30)
    fat_count, dir_start = struct.unpack_from("<II", header, 44)
    difat_start, difat_count = struct.unpack_from("<II", header, 68)
    if shift not in (9, 12):
        raise ValueError("not an OLE2 sector size")
    size = 1 << shift
    sectors = file.seek(0, 2) // size  # bounds every loop below, whatever the header claims

    def sector(n: int) -> bytes:
        file.seek((n + 1) * size)
        data = file.read(size)
        if len(data) != size:
            raise ValueError("sector past the end of the file")
        return data

    def entries(n: int) -> tuple[int, ...]:
        return struct.unpack(f"<{size // 4}I", sector(n))

    fat_sectors = list(struct.unpack_from("<109I", header, 76))
    for _ in range(min(difat_count, sectors)):
        *more, difat_start = entries(difat_start)
        fat_sectors += more
    fat = [entry for n in fat_sectors[: min(fat_count, sectors)] for entry in entries(n)]
    names: set[str] = set()
    seen: set[int] = set()
    n = dir_start
    while n < len(fat) and n not in seen:  # follow the directory's chain, once round at most
        seen.add(n)
        block = sector(n)
        for offset in range(0, size, 128):
            length, kind = struct.unpack_from("<HB", block, offset + 64)
            if kind in (1, 2) and 2 <= length <= 64:  # a storage or a stream
                names.add(block[offset : offset + length - 2].decode("utf-16-le", "replace"))
        n = fat[n]
    return names


def _unknown(head: bytes) -> str:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "not a kind of file we recognise"
    if "\x00" in text:
        return "not a kind of file we recognise"
    if re.search(r"<\s*(!doctype|html|script|svg)", text, re.IGNORECASE):
        return "a web page (HTML or SVG)"
    return "plain text"


def _macros(declared_name: str) -> UnsupportedFileTypeError:
    return _refused(
        declared_name,
        "it contains macros; save it as a document without macros (.docx, .xlsx, .pptx)",
    )


def _refused(declared_name: str, why: str) -> UnsupportedFileTypeError:
    name = f"“{_clean(declared_name)[:100]}”" if _clean(declared_name) else "This file"
    return UnsupportedFileTypeError(
        f"{name} cannot be kept as evidence: {why}. Accepted: {ALLOWED_IN_WORDS}."
    )
