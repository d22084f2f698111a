"""Bad input over HTTP: each gets a clear 4xx problem naming what was wrong, and changes nothing.

Oversized and disallowed uploads are in tests/api/test_evidence.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from tests.api.conftest import Api, Who

F = "/api/v1/findings/{finding}"
NOTE_10K = "整" * 9_999 + "✅"  # 10,000 characters, the most a text field takes


def order(**changes: Any) -> dict[str, Any]:
    finding = {"ref": "1", "description": "资金闲置", "category": "过程/资金闲置沉淀",
               "class": "immediate"}  # fmt: skip
    return {
        "ref": "泸财绩〔2025〕88号",
        "evaluation": "LX-2025-PJ-001",
        "department": "SLJ",
        "findings": [{**finding, **changes.pop("finding", {})}],
        **changes,
    }


def evaluation(**changes: Any) -> dict[str, Any]:
    return {"ref": "LX-2025-PJ-100", "title": "项目支出绩效评价", "year": 2025,
            "object_type": "project", "department": "SLJ", "budget_amount": "100.00",
            "score": "80", **changes}  # fmt: skip


@dataclass(frozen=True)
class Bad:
    """One bad request, the status it must get, and words its `detail` must contain."""

    what: str
    method: str
    path: str
    status: int
    names: tuple[str, ...]
    who: Who = Who.SLJ
    request: dict[str, Any] = field(default_factory=dict)


def post(what: str, path: str, status: int, *names: str, who: Who = Who.SLJ, **request: Any) -> Bad:
    return Bad(what, "POST", path, status, names, who, request)


def get(what: str, path: str, status: int, *names: str, who: Who = Who.SLJ, **request: Any) -> Bad:
    return Bad(what, "GET", path, status, names, who, request)


# An answer's status, content type, the names its detail misses, and the status in its body
Outcome = tuple[int, str, list[str], object]
JSON = {"content-type": "application/json"}
E, S, A = Who.EVALUATOR, Who.SUPERVISOR, Who.ADMIN
PROGRESS, EXTENSION = F + "/progress", F + "/extension-requests"
BAD = (
    # Bodies that are not the JSON object asked for
    post("malformed JSON", PROGRESS, 422, "body", "not valid JSON",
         content=b'{"note": "x", ', headers=JSON),
    post("a JSON array", PROGRESS, 422, "body", json=["note", 40]),
    post("no body", PROGRESS, 422, "body", "required"),
    post("JSON sent as text/plain", PROGRESS, 422, "body",
         content=b'{"note": "x", "percent": 40}', headers={"content-type": "text/plain"}),
    # Wrong types
    post("percent as a word", PROGRESS, 422, "percent", "integer",
         json={"note": "x", "percent": "ten"}),
    post("percent with a fraction", PROGRESS, 422, "percent", json={"note": "x", "percent": 40.5}),
    post("note as null", PROGRESS, 422, "note", json={"note": None, "percent": 40}),
    post("level as a letter", F + "/escalations", 422, "level", who=S,
         json={"level": "x", "reason": "逾期"}),
    post("approved as a word", F + "/extension-requests/1/decision", 422, "approved", who=E,
         json={"approved": "maybe"}),
    post("budget as a word", "/api/v1/evaluations", 422, "budget_amount", who=E,
         json=evaluation(budget_amount="一百万")),
    # Unknown and missing fields
    post("an unknown field", PROGRESS, 422, "done", "not permitted",
         json={"note": "x", "percent": 40, "done": True}),
    post("an unknown field in a finding", "/api/v1/orders", 422, "findings.0.owner", who=E,
         json=order(finding={"owner": "张三"})),
    post("required fields missing", PROGRESS, 422, "note", "percent", "required", json={}),
    post("a finding without a class", "/api/v1/orders", 422, "findings.0.class", who=E,
         json=order(finding={"class": None})),
    # Dates in the wrong format
    *(post(f"date {d}", EXTENSION, 422, "new_due_on", json={"new_due_on": d, "reason": "汛期"})
      for d in ("2025/10/01", "01-10-2025", "2025-13-01", "2025-10-32", "下月底")),
    post("interview date 2025-9-1", F + "/interviews", 422, "held_on", who=S,
         json={"held_on": "2025-9-1", "note": "约谈"}),
    post("notice date 2025.09.25", "/api/v1/orders", 422, "issued_on", who=E,
         json=order(issued_on="2025.09.25")),
    # Values out of range
    post("10,001 characters", PROGRESS, 422, "note", "10000",
         json={"note": NOTE_10K + "字", "percent": 40}),
    post("percent 101", PROGRESS, 422, "percent", "100", json={"note": "x", "percent": 101}),
    post("percent -1", PROGRESS, 422, "percent", json={"note": "x", "percent": -1}),
    post("level 4", F + "/escalations", 422, "level", "3", who=S,
         json={"level": 4, "reason": "逾期"}),
    post("level 0", F + "/escalations", 422, "level", who=S, json={"level": 0, "reason": "逾期"}),
    post("score 100.5", "/api/v1/evaluations", 422, "score", who=E, json=evaluation(score="100.5")),
    post("year 1999", "/api/v1/evaluations", 422, "year", who=E, json=evaluation(year=1999)),
    post("object type bridge", "/api/v1/evaluations", 422, "object_type", who=E,
         json=evaluation(object_type="bridge")),
    post("class urgent", "/api/v1/orders", 422, "findings.0.class", who=E,
         json=order(finding={"class": "urgent"})),
    post("an order without findings", "/api/v1/orders", 422, "findings", who=E,
         json={**order(), "findings": []}),
    post("a department code in Chinese", "/api/v1/departments", 422, "code", who=A,
         json={"code": "水利局", "name": "县水利局"}),
    post("evidence that is not a digest", F + "/rectification", 422, "evidence.0",
         json={"measures": "已整改", "evidence": ["report.pdf"]}),
    post("no evidence listed", F + "/rectification", 422, "evidence",
         json={"measures": "已整改", "evidence": []}),
    post("extension request 0", F + "/extension-requests/0/decision", 422, "n", who=E,
         json={"approved": True}),
    post("an Idempotency-Key of 201 characters", PROGRESS, 422, "idempotency-key",
         json={"note": "x", "percent": 40}, headers={"Idempotency-Key": "k" * 201}),
    post("a body that is not UTF-8", PROGRESS, 422, "body", "UTF-8",
         content=b'{"note": "\xff", "percent": 40}', headers=JSON),
    # NUL: PostgreSQL text cannot hold it, so it is refused on every store alike
    post("a NUL in a note", PROGRESS, 422, "note", "NUL", json={"note": "a\x00b", "percent": 40}),
    post("a NUL in a finding's title", "/api/v1/orders", 422, "findings.0.title", "NUL", who=E,
         json=order(finding={"title": "\x00"})),
    post("a NUL in a user's e-mail", "/api/v1/users", 422, "email", "NUL", who=A,
         json={"name": "new.user", "role": "evaluator", "email": "a\x00@example.cn"}),
    get("a NUL in a query", "/api/v1/findings", 422, "q", "NUL", params={"q": "整改\x00"}),
    get("a NUL in a path", "/api/v1/evaluations/LX%00", 422, "ref", "NUL"),
    # Blank text where text is required: refused by the domain, in its words
    post("a blank reason", F + "/withdrawal", 422, "The reason for withdrawing is required",
         who=E, json={"reason": "   "}),
    post("a blank progress note", PROGRESS, 422, "The progress note is required",
         json={"note": " \n ", "percent": 40}),
    post("a blank responsible person", F + "/acknowledgement", 422, "responsible_person",
         json={"responsible_person": "   "}),
    # Ids and queries
    get("an unknown finding", f"/api/v1/findings/{uuid4()}", 404, "does not exist"),
    post("progress on an unknown finding", f"/api/v1/findings/{uuid4()}/progress", 404,
         "does not exist", json={"note": "x", "percent": 40}),
    get("a finding id that is not a UUID", "/api/v1/findings/12345", 422, "finding_id", "UUID"),
    get("as_of garbage", F, 422, "as_of", params={"as_of": "last tuesday"}),
    get("as_of garbage on the list", "/api/v1/findings", 422, "as_of", params={"as_of": "x"}),
    get("as_of a bare number", F, 422, "ISO 8601", params={"as_of": "-95"}),
    get("page 0", "/api/v1/findings", 422, "page", params={"page": 0}),
    get("size 501", "/api/v1/findings", 422, "size", params={"size": 501}),
    get("an unknown status", "/api/v1/findings", 422, "status", params={"status": "closed"}),
    get("an unknown report format", "/api/v1/reports/ledger", 422, "format",
        params={"format": "doc"}),
    get("an unknown evaluation", "/api/v1/evaluations/LX-1999-X", 404, "LX-1999-X"),
    # Orders naming what does not exist
    post("an order for an unknown department", "/api/v1/orders", 404, "Department NOPE", who=E,
         json=order(department="NOPE")),
    post("an order for an unknown evaluation", "/api/v1/orders", 404, "Evaluation LX-0", who=E,
         json=order(evaluation="LX-0")),
    post("an order dated in the future", "/api/v1/orders", 422, "2030-01-01", "future", who=E,
         json=order(issued_on="2030-01-01")),
)  # fmt: skip


def test_each_bad_request_gets_a_clear_problem_and_changes_nothing(api: Api) -> None:
    # Given a finding the department has signed for
    finding = api.finding("acknowledged")
    before = api.events()

    # When each bad request is sent
    actual: dict[str, Outcome] = {}
    expected: dict[str, Outcome] = {}
    for case in BAD:
        response = api.call(
            case.who, case.method, case.path.format(finding=finding.id), **case.request
        )
        problem = response.json()
        actual[case.what] = (
            response.status_code,
            response.headers["content-type"],
            [name for name in case.names if name not in str(problem.get("detail"))],
            problem.get("status"),
        )
        expected[case.what] = (case.status, "application/problem+json", [], case.status)

    # Then each got its problem, naming what was wrong, and the log is as it was
    assert actual == expected
    assert api.events() == before
    assert api.view(finding.id).version == finding.version


def test_an_order_issued_twice_is_409_and_recorded_once(api: Api) -> None:
    first = api.call(Who.EVALUATOR, "POST", "/api/v1/orders", json=order())
    assert first.status_code == 201
    before = api.events()

    again = api.call(Who.EVALUATOR, "POST", "/api/v1/orders", json=order())

    assert again.status_code == 409
    assert again.json()["code"] == "already-exists"
    assert "泸财绩〔2025〕88号" in again.json()["detail"]
    assert api.events() == before


def test_a_10000_character_note_is_accepted_and_kept_whole(api: Api) -> None:
    finding = api.finding("acknowledged")

    response = api.call(
        Who.SLJ, "POST", f"/api/v1/findings/{finding.id}/progress",
        json={"note": NOTE_10K, "percent": 40},
    )  # fmt: skip

    assert response.status_code == 200
    history = api.call(Who.SLJ, "GET", f"/api/v1/findings/{finding.id}/history").json()
    assert history[-1]["fields"]["note"] == NOTE_10K


def test_chinese_and_emoji_text_is_stored_exactly(api: Api) -> None:
    # Given an order whose text is Chinese with emoji
    text = "整改完成✅🎉 资金已全部拨付（100%）"
    issued = api.call(
        Who.EVALUATOR,
        "POST",
        "/api/v1/orders",
        json=order(finding={"title": "🏗️工程进度", "description": text}),
    )
    assert issued.status_code == 201
    finding = issued.json()["findings"][0]["id"]

    # When the department signs and reports in the same kind of text
    url = f"/api/v1/findings/{finding}"
    signed = api.call(
        Who.SLJ, "POST", f"{url}/acknowledgement",
        json={"responsible_person": "张三👷", "plan": text},
    )  # fmt: skip
    reported = api.call(Who.SLJ, "POST", f"{url}/progress", json={"note": text, "percent": 100})
    assert signed.status_code == reported.status_code == 200

    # Then every piece reads back exactly as sent
    read = api.call(Who.SLJ, "GET", url).json()
    assert (read["title"], read["description"]) == ("🏗️工程进度", text)
    assert read["responsible_person"] == "张三👷"
    history = {e["type"]: e["fields"] for e in api.call(Who.SLJ, "GET", f"{url}/history").json()}
    assert history["Acknowledged"]["plan"] == text
    assert history["ProgressReported"]["note"] == text
