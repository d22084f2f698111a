"""Who may do what over HTTP: every endpoint × every role, department isolation, and SoD.

The tables below are checked against the app's own OpenAPI schema: an endpoint added
without a row here fails `test_the_tables_cover_every_endpoint_of_the_schema`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from fastapi import FastAPI

from adapters.settings import Settings
from api.app import create_app
from domain.values import Actor, Role
from domain.views import FindingView
from tests.api.conftest import EVALUATIONS, EVIDENCE, Api, State, Who, pdf
from tests.conftest import ManualClock
from tests.support.ledgers import row, to_csv

Request = dict[str, Any]  # keyword arguments of TestClient.request: json=…, files=…
Cell = tuple[int, str | None, int]  # an answer's status, problem code, and events recorded


@dataclass(frozen=True)
class Write:
    """One write endpoint: who may call it, and a call that succeeds for them."""

    method: str
    path: str
    who: Who  # the one person (role) allowed; everyone else is refused
    status: int  # the allowed person's answer
    request: Callable[[FindingView | None], Request]
    state: State | None = None  # the finding's state the call needs; None: no finding in the path
    events: int = 1  # events the allowed call records

    def url(self, finding: FindingView | None) -> str:
        fields = {"finding_id": finding.id if finding else "", "n": 1, "name": "spare.user"}
        return self.path.format(**fields)


def body(**fields: Any) -> Callable[[FindingView | None], Request]:
    return lambda _: {"json": fields}


def extension(finding: FindingView | None) -> Request:
    assert finding is not None
    later = finding.due_on + timedelta(days=30)
    return {"json": {"new_due_on": later.isoformat(), "reason": "汛期施工受阻"}}


ORDER = {
    "ref": "泸财绩〔2025〕99号",
    "evaluation": "LX-2025-PJ-001",
    "department": "SLJ",
    "findings": [{"ref": "1", "description": "资金闲置", "category": "过程/资金闲置沉淀",
                  "class": "immediate"}],
}  # fmt: skip
# One finding on the evaluation on record, stated as recorded (tests/api/conftest.py).
LEDGER = to_csv(
    [row(1, order=97, 评价项目名称="2025年SLJ项目支出绩效评价", 整改责任单位="县水利局")]
)
F = "/api/v1/findings/{finding_id}"
E, D, S, A = Who.EVALUATOR, Who.SLJ, Who.SUPERVISOR, Who.ADMIN
WRITES = (
    Write("POST", "/api/v1/departments", A, 201, body(code="CZJ", name="县财政局")),
    Write("POST", "/api/v1/evaluations", E, 201, body(
        ref="LX-2025-PJ-009", title="部门整体支出绩效评价", year=2025, object_type="department",
        department="SLJ", budget_amount="500000.00", score="91")),
    Write("POST", "/api/v1/orders", E, 201, body(**ORDER)),
    Write("POST", "/api/v1/imports", E, 201, lambda _: {"files": {"file": ("台账.csv", LEDGER)}}),
    Write("POST", F + "/acknowledgement", D, 200, body(responsible_person="张三"), "issued"),
    Write("POST", F + "/progress", D, 200, body(note="已拨付60%", percent=60), "acknowledged"),
    Write("POST", F + "/evidence", D, 201,
          lambda _: {"files": {"file": ("整改报告.pdf", pdf(), "application/pdf")}},
          "acknowledged"),
    Write("POST", F + "/extension-requests", D, 201, extension, "acknowledged"),
    Write("POST", F + "/extension-requests/{n}/decision", E, 200, body(approved=True),
          "extension-pending"),
    Write("POST", F + "/rectification", D, 200, body(measures="已拨付", evidence=[EVIDENCE]),
          "evidenced"),
    Write("POST", F + "/verification", E, 200, body(outcome="accepted"), "rectified"),
    Write("POST", F + "/escalations", S, 200, body(level=1, reason="逾期"), "issued"),
    Write("POST", F + "/interviews", S, 200, body(held_on="2025-09-25", note="约谈局长"),
          "level-2"),
    Write("POST", F + "/accountability-decisions", S, 200, body(decision="通报批评"), "level-3"),
    Write("POST", F + "/reopening", E, 200, body(reason="回头看发现反弹"), "verified"),
    Write("POST", F + "/withdrawal", E, 200, body(reason="重复下达"), "issued"),
    Write("POST", "/api/v1/users", A, 201, body(name="new.user", role="evaluator"), events=0),
    Write("POST", "/api/v1/users/{name}/tokens", A, 201, body(), events=0),
    Write("DELETE", "/api/v1/users/{name}/tokens", A, 200, body(), events=0),
)  # fmt: skip

EVERYONE = dict.fromkeys(Who, 200)
ADMIN_ONLY = {who: 200 if who is A else 403 for who in Who}
OWN_DEPARTMENT = {who: 404 if who is Who.JYJ else 200 for who in Who}  # an SLJ finding
READS: dict[tuple[str, str], dict[Who, int]] = {
    ("GET", "/api/v1/departments"): EVERYONE,
    ("GET", "/api/v1/evaluations/{ref}"): EVERYONE,
    ("GET", "/api/v1/findings"): EVERYONE,
    ("GET", F): OWN_DEPARTMENT,
    ("GET", F + "/history"): OWN_DEPARTMENT,
    ("GET", F + "/evidence/{sha256}"): OWN_DEPARTMENT,
    ("GET", "/api/v1/reports/ledger"): EVERYONE,
    ("GET", "/api/v1/reports/departments"): EVERYONE,
    ("GET", "/api/v1/reports/accountability"): EVERYONE,
    ("GET", "/api/v1/reports/budget-linkage"): EVERYONE,
    ("GET", "/api/v1/integrity"): {who: 403 if who.role is Role.DEPARTMENT else 200 for who in Who},
    ("GET", "/api/v1/me"): EVERYONE,
    ("GET", "/api/v1/users"): ADMIN_ONLY,
    ("GET", "/api/v1/users/{name}"): ADMIN_ONLY,
    ("GET", "/api/v1/policy"): EVERYONE,
    ("GET", "/api/v1/calendar/{year}"): EVERYONE,
}
# Open to anyone: operators' probes and the browser's sign-in itself (tests/api/test_auth.py).
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("POST", "/api/v1/session"),
    ("DELETE", "/api/v1/session"),
}


def expected_refusal(write: Write, who: Who) -> tuple[int, str]:
    """Another department's finding is a 404 (ids leak nothing); a wrong role is a 403."""
    if write.state is not None and who is Who.JYJ:
        return 404, "not-found"
    return 403, "forbidden-role"


def test_the_tables_cover_every_endpoint_of_the_schema(tmp_path: Path) -> None:
    # The schema is the same on every store, and building it opens nothing
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    app: FastAPI = create_app(settings, ManualClock())
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }

    tabled = {(w.method, w.path) for w in WRITES} | set(READS) | PUBLIC

    assert documented - tabled == set(), "endpoints without a row in the permission tables"
    assert tabled - documented == set(), "rows for endpoints the app no longer has"


def test_each_write_is_allowed_to_its_role_only(api: Api) -> None:
    api.system.users.add("spare.user", Role.EVALUATOR)  # whose tokens the admin manages
    actual: dict[tuple[str, str], Cell] = {}
    expected: dict[tuple[str, str], Cell] = {}
    for write in WRITES:
        finding = api.finding(write.state) if write.state else None
        # Everyone else first: each refusal must leave the finding as it was for the next.
        for who in sorted(Who, key=lambda w: w is write.who):
            before = api.events()
            response = api.call(who, write.method, write.url(finding), **write.request(finding))
            code = response.json().get("code") if response.status_code >= 400 else None
            actual[write.path, who.name] = (response.status_code, code, api.events() - before)
            if who is write.who:
                expected[write.path, who.name] = (write.status, None, write.events)
            else:
                expected[write.path, who.name] = (*expected_refusal(write, who), 0)

    assert actual == expected


def test_each_read_answers_each_role_as_the_table_says(api: Api) -> None:
    # Given an SLJ finding with an uploaded file, and the read models up to date
    finding = api.finding("acknowledged")
    upload = api.call(Who.SLJ, "POST", f"{F.format(finding_id=finding.id)}/evidence",
                      files={"file": ("整改报告.pdf", pdf(), "application/pdf")})  # fmt: skip
    assert upload.status_code == 201
    api.project()
    params = {"finding_id": finding.id, "ref": "LX-2025-PJ-001", "name": Who.SLJ.value,
              "sha256": upload.json()["sha256"], "year": 2025}  # fmt: skip

    # When each person reads each resource
    actual = {
        (path, who.name): api.call(who, method, path.format(**params)).status_code
        for (method, path), table in READS.items()
        for who in table
    }

    # Then each answer is the table's
    expected = {
        (path, who.name): status for (_, path), t in READS.items() for who, status in t.items()
    }
    assert actual == expected


def test_a_department_user_lists_only_its_own_findings_whatever_it_asks(api: Api) -> None:
    # Given two SLJ findings and one JYJ finding in the read models
    ours = {str(api.finding().id), str(api.finding("acknowledged").id)}
    theirs = str(api.finding(department="JYJ").id)
    api.project()

    # When SLJ's user asks for JYJ's findings, it gets its own
    mine = api.call(Who.SLJ, "GET", "/api/v1/findings", params={"department": "JYJ"}).json()
    assert {row["id"] for row in mine["rows"]} == ours
    assert mine["total"] == 2

    # And an evaluator asking for JYJ gets JYJ's
    all_jyj = api.call(Who.EVALUATOR, "GET", "/api/v1/findings", params={"department": "JYJ"})
    assert [row["id"] for row in all_jyj.json()["rows"]] == [theirs]


def test_a_department_users_ledger_report_has_only_its_rows(api: Api) -> None:
    # Given findings of both departments
    api.finding()
    api.finding(department="JYJ")
    api.project()

    # When each department's user and a supervisor read the ledger report
    def departments(who: Who) -> list[str]:
        report = api.call(who, "GET", "/api/v1/reports/ledger", params={"department": "JYJ"})
        assert report.status_code == 200
        return sorted(row["department"] for row in report.json()["rows"])

    # Then a department user only sees its own, whatever it asks for
    assert departments(Who.SLJ) == ["SLJ"]
    assert departments(Who.JYJ) == ["JYJ"]
    assert departments(Who.SUPERVISOR) == ["JYJ"]


def test_another_departments_finding_reads_exactly_like_a_missing_one(api: Api) -> None:
    # Given a JYJ finding, and an id no finding has
    theirs, missing = api.finding(department="JYJ").id, uuid4()

    for path, query in itertools.product(
        (F, F + "/history"), ({}, {"as_of": "2025-09-26T10:00:00+08:00"})
    ):
        # When SLJ's user reads either
        answers = [
            api.call(Who.SLJ, "GET", path.format(finding_id=i), params=query)
            for i in (theirs, missing)
        ]

        # Then both are the same 404, word for word but the id: ids leak nothing
        assert [a.status_code for a in answers] == [404, 404]
        assert [a.headers["content-type"] for a in answers] == ["application/problem+json"] * 2
        theirs_said, missing_said = (a.json() for a in answers)
        assert theirs_said["detail"].replace(str(theirs), "?") == missing_said["detail"].replace(
            str(missing), "?"
        )
        assert {**theirs_said, "detail": ""} == {**missing_said, "detail": ""}


def test_a_department_user_may_not_verify(api: Api) -> None:
    finding = api.finding("rectified")

    response = api.call(
        Who.SLJ, "POST", f"/api/v1/findings/{finding.id}/verification", json={"outcome": "accepted"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden-role"
    assert "department" in response.json()["detail"]
    assert api.view(finding.id).status == "rectified"


def test_an_evaluator_who_acted_for_the_department_may_not_verify(api: Api) -> None:
    # Given the evaluator uploaded evidence for the department (through the application)
    finding = api.finding("acknowledged")
    api.system.app.attach_evidence(
        finding.id, Who.EVALUATOR.actor, EVIDENCE, "代传材料.pdf", 10, "application/pdf"
    )
    api.system.app.submit_rectification(
        finding.id, Actor("slj.jingban", Role.DEPARTMENT), "已整改", [EVIDENCE]
    )
    before = api.events()

    # When that evaluator tries to accept or send back the rectification
    for outcome in ("accepted", "rejected"):
        response = api.call(
            Who.EVALUATOR,
            "POST",
            f"/api/v1/findings/{finding.id}/verification",
            json={"outcome": outcome, "note": "核查"},
        )

        # Then it is a 403 that says why, and nothing is recorded
        assert response.status_code == 403
        problem = response.json()
        assert problem["code"] == "segregation-of-duties"
        assert "acted for the department" in problem["detail"]
        assert "another evaluator" in problem["detail"]
    assert api.events() == before

    # But another evaluator may
    other = api.system.users.add("pingjia.wang", Role.EVALUATOR).token
    accepted = api.client.post(
        f"/api/v1/findings/{finding.id}/verification",
        json={"outcome": "accepted"},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "verified"


def test_every_endpoint_but_the_public_ones_asks_for_a_token(api: Api) -> None:
    params = {"finding_id": api.finding().id, "ref": "LX-2025-PJ-001", "name": Who.SLJ.value,
              "sha256": EVIDENCE, "n": 1, "year": 2025}  # fmt: skip
    guarded = [*READS, *((w.method, w.path) for w in WRITES)]

    answers = {
        (method, path): api.client.request(method, path.format(**params))
        for method, path in guarded
    }

    assert {key: a.status_code for key, a in answers.items()} == dict.fromkeys(guarded, 401)
    assert {a.json()["code"] for a in answers.values()} == {"unauthenticated"}
    assert {a.headers["WWW-Authenticate"] for a in answers.values()} == {"Bearer"}


REPORTS = (
    "/api/v1/reports/ledger",
    "/api/v1/reports/departments",
    "/api/v1/reports/accountability?since=2025-01-01",
    "/api/v1/reports/accountability?since=2025-01-01&by_person=true",
    "/api/v1/reports/budget-linkage?year=2026",
)


def test_every_report_gives_a_department_user_only_its_own_rows(api: Api) -> None:
    # Given escalated, interviewed findings of both departments, and the read models current
    for department in ("SLJ", "JYJ"):
        finding = api.finding("level-2", department=department)
        api.system.app.record_interview(finding.id, S.actor, finding.due_on, "约谈局长")
    api.project()

    for path, who in itertools.product(REPORTS, (Who.SLJ, Who.JYJ, Who.SUPERVISOR)):
        # When each reads each report, asking for the other department as well
        glue = "&" if "?" in path else "?"
        answer = api.call(who, "GET", f"{path}{glue}department=JYJ")
        csv = api.call(who, "GET", f"{path}{glue}format=csv").content.decode("utf-8-sig")

        # Then a department user's rows are all its own, in every format
        assert answer.status_code == 200, (path, answer.text)
        departments = {row["department"] for row in answer.json()["rows"]}
        if who.department is None:  # a supervisor sees the department it asks for, or all
            assert "JYJ" in departments, path
            continue
        assert departments == {who.department}, (path, who)
        other = "JYJ" if who is Who.SLJ else "SLJ"
        assert other not in csv, (path, who)
        assert EVALUATIONS[other] not in csv, (path, who)


def test_a_department_user_naming_another_departments_ids_in_a_query_gets_nothing(
    api: Api,
) -> None:
    api.finding(department="JYJ")
    api.project()

    for path in ("/api/v1/findings", "/api/v1/reports/ledger"):
        answer = api.call(Who.SLJ, "GET", path, params={"evaluation": EVALUATIONS["JYJ"]})

        assert answer.status_code == 200
        assert answer.json()["rows"] == []


def test_every_finding_scoped_write_on_another_departments_finding_is_a_plain_404(
    api: Api,
) -> None:
    # Given SLJ's user, and for each write a JYJ finding in the state the write needs
    for write in WRITES:
        if write.state is None or write.who is not Who.SLJ:
            continue
        theirs = api.finding(write.state, department="JYJ")
        missing = replace(theirs, id=uuid4())
        before = api.events()

        # When SLJ's user makes the write on it, and on a finding that does not exist
        answers = [
            api.call(Who.SLJ, write.method, write.url(f), **write.request(theirs))
            for f in (theirs, missing)
        ]

        # Then both are the same 404, word for word but the id, and nothing is recorded
        assert [a.status_code for a in answers] == [404, 404], write.path
        said = [a.json()["detail"].replace(str(f.id), "?") for a, f in
                zip(answers, (theirs, missing), strict=True)]  # fmt: skip
        assert said[0] == said[1], write.path
        assert api.events() == before


def test_another_departments_evidence_reads_exactly_like_missing_evidence(api: Api) -> None:
    # Given a file JYJ uploaded to its own finding
    theirs = api.finding("acknowledged", department="JYJ")
    jyj = F.format(finding_id=theirs.id) + "/evidence"
    upload = api.call(Who.JYJ, "POST", jyj, files={"file": ("报告.pdf", pdf(), "application/pdf")})
    sha256 = upload.json()["sha256"]
    ours = api.finding("acknowledged")

    for query in ({}, {"as_of": "2025-09-26T10:00:00+08:00"}):
        # When SLJ's user asks for it, by JYJ's finding or by its own
        answers = [
            api.call(Who.SLJ, "GET", f"{path}/{sha256}", params=query)
            for path in (jyj, F.format(finding_id=ours.id) + "/evidence")
        ]

        # Then it is a 404 either way, and the file itself is never sent
        assert [a.status_code for a in answers] == [404, 404]
        assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
    assert api.call(Who.JYJ, "GET", f"{jyj}/{sha256}").status_code == 200
