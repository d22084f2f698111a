"""Every page route, enumerated from the app (pages are not in the OpenAPI schema).

Each needs a live session; a department user cannot see or act on another department's
finding; and every form POST refuses a missing or wrong CSRF token with a 403, changing
nothing. A page route added without a row in PARAMETERS (or PUBLIC) fails here.
"""

from __future__ import annotations

import itertools
import re
from uuid import UUID, uuid4

from fastapi import FastAPI

from api.authorization import may
from api.ui.commands import COMMANDS
from api.ui.security import CSRF_FIELD, csrf_token
from tests.api.conftest import Api, Who
from tests.security.conftest import browser, csrf_for, session_of, ui_routes

# Open without a session: the sign-in itself (tests/security/test_sessions.py).
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
# Values for every path parameter a page route has; `command` runs through each command.
PARAMETERS = {"finding_id", "command"}


def _app(api: Api) -> FastAPI:
    app = api.client.app
    assert isinstance(app, FastAPI)
    return app


def _urls(path: str, finding: UUID) -> list[str]:
    """The route's path filled in: once per command for a command route."""
    named = set(re.findall(r"{(\w+)", path))
    assert named <= PARAMETERS, f"{path}: add a value for {named - PARAMETERS} to PARAMETERS"
    commands = sorted(COMMANDS) if "command" in named else [""]
    return [path.format(finding_id=finding, command=command) for command in commands]


def _guarded(api: Api) -> list[tuple[str, str]]:
    return sorted(set(ui_routes(_app(api))) - PUBLIC)


def test_the_page_routes_are_found_and_none_is_in_the_schema(api: Api) -> None:
    routes = set(ui_routes(_app(api)))
    documented = set(_app(api).openapi()["paths"])

    assert {("GET", "/"), ("GET", "/findings/{finding_id}")} | PUBLIC <= routes
    assert {path for _, path in routes} & documented == set()
    assert not any(path.startswith("/api/") for _, path in routes)


def test_every_page_without_a_live_session_goes_to_the_login_form(api: Api) -> None:
    finding = api.finding().id
    expired = session_of(api, Who.SLJ)
    api.system.users.end_session(expired)
    for cookie in (None, "forged-session-id", expired):
        client = browser(api.client, cookie)
        before = api.events()
        for method, path in _guarded(api):
            for url in _urls(path, finding):
                if method == "GET":  # a form's address redirects to its page first: follow
                    answer = client.get(url, follow_redirects=True)
                    assert answer.history, (method, url, cookie)
                    assert answer.url.path == "/login", (method, url, cookie)
                    continue
                data = {CSRF_FIELD: "x", "responsible_person": "张三", "reason": "r"}
                answer = client.request(method, url, data=data)

                assert answer.status_code == 303, (method, url, cookie)
                assert answer.headers["location"].startswith("/login"), (method, url)
        assert api.events() == before


def test_a_department_user_cannot_see_or_act_on_another_departments_finding(api: Api) -> None:
    # Given SLJ's user signed in, and a JYJ finding every command could apply to in some state
    theirs = [api.finding(state, department="JYJ").id for state in ("issued", "rectified")]
    session = session_of(api, Who.SLJ)
    client = browser(api.client, session)
    fields = {CSRF_FIELD: csrf_for(api, session), "responsible_person": "张三", "note": "n",
              "percent": "50", "reason": "r", "measures": "m", "outcome": "accepted"}  # fmt: skip
    before = api.events()

    for finding in [*theirs, uuid4()]:
        for method, path in _guarded(api):
            if "{finding_id}" not in path:
                continue
            for url in _urls(path, finding):
                # When SLJ's user opens or posts to it (a GET of a form's address redirects)
                answer = client.request(method, url, data=fields if method == "POST" else None)
                if answer.status_code == 303 and method == "GET":
                    answer = client.get(answer.headers["location"])

                # Then it is the same 404 as a finding that does not exist, and nothing happens
                assert answer.status_code == 404, (method, url)
                assert str(finding) not in answer.text.replace(f"/findings/{finding}", "")
    assert api.events() == before


def test_a_department_users_pages_list_only_its_own_findings(api: Api) -> None:
    ours = api.finding()
    theirs = api.finding(department="JYJ")
    api.project()
    client = browser(api.client, session_of(api, Who.SLJ))

    for query in ("", "?department=JYJ", "?status=all&department=JYJ", "?q=预算"):
        page = client.get("/" + query)

        assert page.status_code == 200
        assert f"/findings/{ours.id}" in page.text
        assert str(theirs.id) not in page.text
        assert "县教育局" not in page.text


def _actor_for(url: str) -> Who:
    """Someone whose role may run the form's command: only the token can be what is wrong."""
    command = COMMANDS.get(url.rsplit("/", 1)[-1])
    if command is None:
        return Who.SLJ
    return next(
        who for who in (Who.SLJ, Who.EVALUATOR, Who.SUPERVISOR) if may(who.role, command.action)
    )


def test_every_form_post_refuses_a_bad_csrf_token_and_changes_nothing(api: Api) -> None:
    # Given a finding, and signed-in people who may run each of its commands
    finding = api.finding().id
    sessions = {who: session_of(api, who) for who in (Who.SLJ, Who.EVALUATOR, Who.SUPERVISOR)}
    other, settings = session_of(api, Who.JYJ), api.system.settings
    forgeries = {
        "missing": None,
        "empty": "",
        "wrong": "0" * 64,
        "another session's": csrf_for(api, other),
        "the login form's": csrf_token(settings, "login", other),
        "no session's": csrf_token(settings, "session", ""),
    }
    posts = [
        url for method, path in _guarded(api) if method == "POST" for url in _urls(path, finding)
    ]
    before = api.events()

    for url, (forgery, token) in itertools.product([*posts, "/logout"], forgeries.items()):
        # When a form is posted with a forged token
        session = sessions[_actor_for(url)]
        data = {"responsible_person": "张三", "plan": "p", "outcome": "accepted", "note": "n",
                "level": "1", "reason": "r", "percent": "50"}  # fmt: skip
        if token is not None:
            data[CSRF_FIELD] = token
        answer = browser(api.client, session).post(url, data=data)

        # Then it is refused as a forgery, and the session lives on (a forged logout ends nothing)
        assert answer.status_code == 403, (url, forgery, answer.status_code)
        assert api.system.users.by_session(session) is not None
    # And nothing was recorded
    assert api.events() == before


def test_the_right_csrf_token_lets_the_same_post_through(api: Api) -> None:
    # A control for the test above: the refusals are the token's doing, not the form's
    finding = api.finding().id
    session = session_of(api, Who.SLJ)
    data = {CSRF_FIELD: csrf_for(api, session), "responsible_person": "张三"}

    answer = browser(api.client, session).post(f"/findings/{finding}/acknowledge", data=data)

    assert answer.status_code == 303
    assert api.view(finding).status == "acknowledged"
