"""Evidence over HTTP: upload, content addressing, download, isolation, size and type refusals."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote
from uuid import UUID

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import func, select

from adapters.bootstrap import Lastmile
from adapters.evidence import FileEvidenceStore, blobs
from adapters.filetypes import DOCX, XLSX
from adapters.settings import Settings
from api.app import create_app
from domain.values import Role
from tests.conftest import ManualClock
from tests.support.scenario import EVALUATOR, issue_order, register_basics

PDF = "application/pdf"


@dataclass
class Office:
    """A running API with one issued order for 水利局 (SLJ) and a user of each kind."""

    client: TestClient
    lastmile: Lastmile
    findings: list[UUID]
    department: dict[str, str]
    other_department: dict[str, str]
    evaluator: dict[str, str]
    supervisor: dict[str, str]

    def upload(
        self,
        content: bytes,
        name: str = "整改情况说明.pdf",
        headers: dict[str, str] | None = None,
        finding: int = 0,
    ) -> tuple[int, dict[str, object]]:
        response = self.client.post(
            f"/api/v1/findings/{self.findings[finding]}/evidence",
            files={"file": (name, content, "application/octet-stream")},
            headers=self.department if headers is None else headers,
        )
        return response.status_code, response.json()

    def download(
        self, sha256: str, headers: dict[str, str] | None = None, finding: int = 0
    ) -> tuple[int, bytes, dict[str, str]]:
        response = self.client.get(
            f"/api/v1/findings/{self.findings[finding]}/evidence/{sha256}",
            headers=self.evaluator if headers is None else headers,
        )
        return response.status_code, response.content, dict(response.headers)

    def events(self) -> int:
        return self.lastmile.recorder.max_notification_id() or 0

    def stored(self) -> int:
        """How many files the evidence store holds."""
        store = self.lastmile.evidence
        if isinstance(store, FileEvidenceStore):
            return sum(1 for p in store.root.rglob("*") if p.is_file())
        with self.lastmile.records.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(blobs)).scalar_one())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def open_office(settings: Settings, clock: ManualClock) -> Iterator[Office]:
    with TestClient(create_app(settings, clock, project_in_background=False)) as client:
        assert isinstance(client.app, FastAPI)
        lastmile: Lastmile = client.app.state.lastmile
        register_basics(lastmile.app)
        lastmile.app.register_department(EVALUATOR, "JYJ", "泸溪县教育局", "jyj@example.cn")
        users = lastmile.users
        yield Office(
            client,
            lastmile,
            issue_order(lastmile.app),
            bearer(users.add("slj.jingban", Role.DEPARTMENT, "SLJ").token),
            bearer(users.add("jyj.jingban", Role.DEPARTMENT, "JYJ").token),
            bearer(users.add("pingjia.li", Role.EVALUATOR).token),
            bearer(users.add("jiandu.zhao", Role.SUPERVISOR).token),
        )


@pytest.fixture
def office(settings: Settings, clock: ManualClock) -> Iterator[Office]:
    with open_office(settings, clock) as office:
        yield office


def pdf(text: str = "整改完成情况") -> bytes:
    """A real, small PDF made by reportlab."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=True)
    canvas.drawString(72, 720, text.encode("ascii", "replace").decode())
    canvas.save()
    return buffer.getvalue()


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["序号", "整改措施"])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def docx() -> bytes:
    """The least a Word document needs: its content types, its relations, its body."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return buffer.getvalue()


def test_upload_stores_the_pdf_and_records_one_event(office: Office) -> None:
    content, before = pdf(), office.events()

    status, body = office.upload(content)

    assert status == 201
    assert body == {
        "sha256": hashlib.sha256(content).hexdigest(),
        "name": "整改情况说明.pdf",
        "size": len(content),
        "media_type": PDF,
    }
    assert office.events() == before + 1
    [event] = office.lastmile.app.history(office.findings[0])[-1:]
    assert event.type == "EvidenceAttached"
    assert office.stored() == 1


def test_the_same_file_twice_is_stored_once_and_attached_once(office: Office) -> None:
    content = pdf()
    _, first = office.upload(content)
    events = office.events()

    status, second = office.upload(content, name="copy.pdf")

    assert status == 201
    assert second == first  # the first name stands
    assert office.events() == events
    assert office.stored() == 1
    assert [e.sha256 for e in office.lastmile.app.finding(office.findings[0]).evidence] == [
        first["sha256"]
    ]


def test_the_same_file_on_two_findings_is_stored_once(office: Office) -> None:
    content = pdf()
    office.upload(content)
    status, _ = office.upload(content, finding=1)
    assert status == 201
    assert office.stored() == 1


def test_download_returns_the_same_bytes_with_safe_headers(office: Office) -> None:
    content = pdf()
    name = "水利局 整改报告（第1期）.pdf"
    _, body = office.upload(content, name=name)
    sha256 = str(body["sha256"])

    status, downloaded, headers = office.download(sha256)

    assert status == 200
    assert downloaded == content
    assert headers["content-type"] == PDF
    assert headers["content-length"] == str(len(content))
    assert headers["etag"] == f'"{sha256}"'
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in headers["content-disposition"]


def test_download_answers_304_when_the_etag_matches(office: Office) -> None:
    _, body = office.upload(pdf())
    sha256 = str(body["sha256"])
    status, content, _ = office.download(
        sha256, headers={**office.evaluator, "If-None-Match": f'"{sha256}"'}
    )
    assert (status, content) == (304, b"")


@pytest.mark.parametrize("reader", ["department", "evaluator", "supervisor"])
def test_whoever_may_read_the_finding_may_download(office: Office, reader: str) -> None:
    content = pdf()
    _, body = office.upload(content)
    status, downloaded, _ = office.download(str(body["sha256"]), getattr(office, reader))
    assert (status, downloaded) == (200, content)


def test_another_departments_user_gets_404_for_upload_and_download(office: Office) -> None:
    _, body = office.upload(pdf())
    before, stored = office.events(), office.stored()

    upload_status, problem = office.upload(pdf("other"), headers=office.other_department)
    download_status, _, _ = office.download(str(body["sha256"]), office.other_department)

    assert (upload_status, download_status) == (404, 404)
    assert problem["code"] == "not-found"
    assert (office.events(), office.stored()) == (before, stored)


def test_a_file_attached_to_another_finding_is_not_served_here(office: Office) -> None:
    _, body = office.upload(pdf(), finding=1)
    status, _, _ = office.download(str(body["sha256"]), finding=0)
    assert status == 404


def test_an_unknown_digest_is_404_and_a_malformed_one_422(office: Office) -> None:
    assert office.download("a" * 64)[0] == 404
    assert office.download("../../etc/passwd")[0] == 404  # no such route, never a path
    assert office.download("A" * 64)[0] == 422


def test_an_evaluator_may_not_upload(office: Office) -> None:
    before = office.events()
    status, problem = office.upload(pdf(), headers=office.evaluator)
    assert status == 403
    assert "upload evidence" in str(problem["detail"])
    assert (office.events(), office.stored()) == (before, 0)


def test_upload_without_a_token_is_401(office: Office) -> None:
    status, problem = office.upload(pdf(), headers={})
    assert status == 401
    assert problem["code"] == "unauthenticated"
    assert office.stored() == 0


def test_a_request_without_the_file_field_is_422(office: Office) -> None:
    before = office.events()
    response = office.client.post(
        f"/api/v1/findings/{office.findings[0]}/evidence",
        data={"note": "no file"},
        headers=office.department,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "file" in response.json()["detail"]
    assert office.events() == before


def test_an_empty_file_is_422(office: Office) -> None:
    before = office.events()
    status, problem = office.upload(b"")
    assert status == 422
    assert problem["code"] == "empty-file"
    assert (office.events(), office.stored()) == (before, 0)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "web page"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "exe"),
        (b"#!/bin/sh\nrm -rf /\n", "plain text"),
    ],
    ids=["html", "exe", "script"],
)
def test_a_disallowed_file_named_pdf_is_415(office: Office, content: bytes, said: str) -> None:
    before = office.events()

    status, problem = office.upload(content, name="x.pdf")

    assert status == 415
    assert problem["code"] == "unsupported-type"
    assert said in str(problem["detail"])
    assert "PDF" in str(problem["detail"])  # and what would be accepted
    assert (office.events(), office.stored()) == (before, 0)


@pytest.mark.parametrize(
    ("make", "name", "media_type"),
    [(docx, "整改方案.docx", DOCX), (xlsx, "台账.xlsx", XLSX)],
    ids=["docx", "xlsx"],
)
def test_office_documents_are_accepted_with_their_own_type(
    office: Office, make: Callable[[], bytes], name: str, media_type: str
) -> None:
    status, body = office.upload(make(), name=name)
    assert (status, body["media_type"], body["name"]) == (201, media_type, name)
    _, _, headers = office.download(str(body["sha256"]))
    assert headers["content-type"] == media_type


def test_a_plain_zip_is_accepted_and_keeps_a_zip_extension(office: Office) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("照片/1.txt", "现场照片")
    status, body = office.upload(buffer.getvalue(), name="run-me.jar")
    assert (status, body["media_type"], body["name"]) == (201, "application/zip", "run-me.jar.zip")


@pytest.mark.parametrize(
    ("declared", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\科员\\Desktop\\报告.pdf", "报告.pdf"),
        ("..", "evidence.pdf"),
        ("photo\u202egpj.pdf", "photogpj.pdf"),  # no right-to-left override to spoof with
        ("no-extension", "no-extension.pdf"),
        ("长" * 300 + ".pdf", "长" * 251 + ".pdf"),
    ],
)
def test_the_client_file_name_is_reduced_to_a_plain_name(
    office: Office, declared: str, kept: str
) -> None:
    status, body = office.upload(pdf(), name=declared)
    assert (status, body["name"]) == (201, kept)
    assert office.stored() == 1  # and only under its digest


def test_control_characters_in_the_raw_file_name_are_dropped(office: Office) -> None:
    # httpx percent-encodes such names, so the multipart body is written by hand.
    boundary, content = "lastmile-boundary", pdf()
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="bell\x07\x1b[31m\t报告.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = office.client.post(
        f"/api/v1/findings/{office.findings[0]}/evidence",
        content=body,
        headers={**office.department, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert (response.status_code, response.json()["name"]) == (201, "bell[31m报告.pdf")


def test_a_file_over_the_limit_is_413_and_nothing_is_stored(
    settings: Settings, clock: ManualClock
) -> None:
    small = settings.model_copy(update={"evidence_max_bytes": 2000})
    with open_office(small, clock) as office:
        before = office.events()

        status, problem = office.upload(pdf() + b"%" + b"x" * 2000)

        assert status == 413
        assert problem["code"] == "too-large"
        assert "2000 bytes" in str(problem["detail"])
        assert (office.events(), office.stored()) == (before, 0)
        assert office.upload(pdf())[0] == 201  # under the limit is fine


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    settings: Settings, clock: ManualClock
) -> None:
    small = settings.model_copy(update={"evidence_max_bytes": 2000})
    with open_office(small, clock) as office:
        status, problem = office.upload(pdf() + b"%" + b"x" * 200_000)
        assert (status, problem["code"]) == (413, "too-large")
        assert office.stored() == 0


def test_a_write_with_a_stale_if_match_is_412_and_attaches_nothing(office: Office) -> None:
    before = office.events()
    status, problem = office.upload(pdf(), headers={**office.department, "If-Match": '"99"'})
    assert (status, problem["code"]) == (412, "stale-version")
    assert office.events() == before


def test_a_chunked_body_is_stopped_once_it_grows_past_the_limit(
    settings: Settings, clock: ManualClock
) -> None:
    small = settings.model_copy(update={"evidence_max_bytes": 2000})
    boundary = "lastmile-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n'
    ).encode()

    def body() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield head + b"%PDF-1.4\n"
        for _ in range(100):
            yield b"x" * 10_000

    with open_office(small, clock) as office:
        response = office.client.post(
            f"/api/v1/findings/{office.findings[0]}/evidence",
            content=body(),
            headers={
                **office.department,
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        assert (response.status_code, response.json()["code"]) == (413, "too-large")
        assert office.stored() == 0
