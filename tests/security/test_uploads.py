"""Uploads: hostile file names never reach a path, and a file is what its bytes say it is."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import Path

from adapters.settings import Settings
from api.ui.security import CSRF_FIELD
from tests.api.conftest import Api, Who, pdf
from tests.security.conftest import browser, csrf_for, session_of

HOSTILE_NAMES = [
    "../../xq7esc-1.pdf",
    "../../../../../../etc/passwd",
    "/etc/xq7esc-2.pdf",
    "..\\..\\..\\xq7esc-3.pdf",
    "C:\\Windows\\System32\\xq7esc-4.pdf",
    "\\\\server\\share\\xq7esc-5.pdf",
    "xq7esc-6\x00.pdf.exe",
    "%2e%2e%2fxq7esc-7.pdf",
    "invoice\u202efdp.exe",  # RIGHT-TO-LEFT OVERRIDE: shows as "invoiceexe.pdf"
    "report\u200b\u2066.pdf\u2069",
    "长" * 300 + ".pdf",  # past 255 characters
    "..",
    ".",
    "name\r\nContent-Type: text/html.pdf",
    '"; filename="evil.html',
]


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _harmless(name: str) -> None:
    assert 0 < len(name) <= 255
    assert not {"/", "\\", "\x00"} & set(name), name
    assert all(unicodedata.category(c)[0] != "C" for c in name), ascii(name)
    assert not name.startswith("."), name
    assert name.endswith(".pdf"), name


def _upload_by_page(api: Api, finding: str, name: str, content: bytes) -> int:
    session = session_of(api, Who.SLJ)
    answer = browser(api.client, session).post(
        f"/findings/{finding}/evidence",
        data={CSRF_FIELD: csrf_for(api, session)},
        files={"file": (name, content, "application/pdf")},
    )
    return answer.status_code


def test_hostile_file_names_write_nowhere_but_the_store_and_are_shown_harmless(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    # Given a finding to attach to, and the files that exist before
    finding = api.finding("acknowledged")
    url = f"/api/v1/findings/{finding.id}/evidence"
    store = settings.data_dir.resolve() / "evidence"
    before = _files(tmp_path)

    for n, name in enumerate(HOSTILE_NAMES):
        # When a PDF is uploaded under a hostile name, through the API and the page
        content = pdf(f"evidence {n}")
        answer = api.call(Who.SLJ, "POST", url, files={"file": (name, content, "application/pdf")})
        by_page = _upload_by_page(api, str(finding.id), name, pdf(f"page {n}"))

        # Then it is kept, under a harmless name
        assert answer.status_code == 201, (name, answer.text)
        assert by_page == 303, name
        _harmless(answer.json()["name"])

    # And every name on record is harmless, and is offered as such on download
    names = [e.name for e in api.view(finding.id).evidence]
    assert len(names) == 2 * len(HOSTILE_NAMES)
    for item in api.view(finding.id).evidence:
        _harmless(item.name)
        download = api.call(Who.SLJ, "GET", f"{url}/{item.sha256}")
        disposition = download.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="')
        assert disposition.count('"') == 2
        assert "/" not in disposition.split("filename*=")[0]

    # And no file was written but content-addressed ones in the store (none on PostgreSQL)
    new = _files(tmp_path) - before
    outside = {p for p in new if store not in p.parents and p.suffix not in (".sqlite3", "")}
    assert {p for p in new if "xq7esc" in p.name or p.name == "passwd"} == set()
    assert outside == set()
    stored = {p for p in new if store in p.parents}
    assert all(len(p.name) == 64 and p.parent.name == p.name[2:4] for p in stored)
    assert len(stored) == (0 if settings.uses_postgres else 2 * len(HOSTILE_NAMES))
    assert not any("xq7esc" in p.name for p in tmp_path.parent.iterdir())


def test_a_file_name_too_long_for_a_multipart_header_is_a_clean_refusal(api: Api) -> None:
    finding = api.finding("acknowledged")
    before = api.events()

    answer = api.call(
        Who.SLJ, "POST", f"/api/v1/findings/{finding.id}/evidence",
        files={"file": ("x" * 20_000 + ".pdf", pdf(), "application/pdf")},
    )  # fmt: skip

    assert answer.status_code in (400, 413, 422)
    assert answer.headers["content-type"] == "application/problem+json"
    assert api.events() == before


def _exe() -> bytes:
    header = bytearray(b"MZ" + b"\x90" * 58 + (64).to_bytes(4, "little"))
    return bytes(header) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SPOOFED = {
    "html as a pdf": ("report.pdf", HTML, "application/pdf"),
    "svg as a png": (
        "chart.png",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "image/png",
    ),
    "windows program as a pdf": ("report.pdf", _exe(), "application/pdf"),
    "shell script as a pdf": ("report.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf"),
    "html without an extension": ("page", b"<html><script>x</script>", "text/html"),
    "javascript": ("a.pdf", b"alert(1)//%PDF-1.4", "application/pdf"),
}


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_kept(
    api: Api, settings: Settings
) -> None:
    finding = api.finding("acknowledged")
    before = api.events()

    for case, (name, content, declared) in SPOOFED.items():
        answer = api.call(
            Who.SLJ, "POST", f"/api/v1/findings/{finding.id}/evidence",
            files={"file": (name, content, declared)},
        )  # fmt: skip

        assert answer.status_code == 415, (case, answer.text)
        assert answer.json()["code"] == "unsupported-type"
    assert api.events() == before
    assert api.view(finding.id).evidence == ()
    store = settings.data_dir / "evidence"
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))


# Accepted, but under the type the bytes show, and offered under a name that fits it.
DISGUISED = {
    "pdf declared as html": ("page.html", pdf(), "text/html", "application/pdf", "page.html.pdf"),
    "pdf with a script inside": (
        "x.pdf", pdf() + b"<script>alert(1)</script>", "text/html", "application/pdf", "x.pdf"),
    "zip named as a program": ("tool.exe", _zip({"a.txt": b"x"}), "application/x-msdownload",
                               "application/zip", "tool.exe.zip"),
    "zip named as a page": ("index.html", _zip({"index.html": HTML}), "text/html",
                            "application/zip", "index.html.zip"),
}  # fmt: skip


def test_a_file_is_served_as_its_sniffed_type_and_only_as_an_attachment(api: Api) -> None:
    finding = api.finding("acknowledged")
    url = f"/api/v1/findings/{finding.id}/evidence"

    for case, (name, content, declared, sniffed, shown) in DISGUISED.items():
        answer = api.call(Who.SLJ, "POST", url, files={"file": (name, content, declared)})
        assert answer.status_code == 201, (case, answer.text)
        assert (answer.json()["name"], answer.json()["media_type"]) == (shown, sniffed)

        download = api.call(Who.EVALUATOR, "GET", f"{url}/{answer.json()['sha256']}")
        assert download.status_code == 200
        assert download.content == content
        assert download.headers["content-type"] == sniffed
        disposition = download.headers["content-disposition"]
        assert disposition.startswith(f'attachment; filename="{shown}"')
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-security-policy"] == "sandbox"
