"""Secrets never reach a log, a message or a repr: passwords, tokens, session ids, keys.

Representative flows run with every logger at DEBUG, through both the test's capture and
the worker's JSON formatter, and every CLI line is read too.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.bootstrap import bootstrap
from adapters.settings import Settings, SettingsError, load_settings
from adapters.worker.logs import JsonFormatter
from api.app import create_app
from api.cli import cli
from api.ui.security import CSRF_FIELD
from domain.calendar import CHINA_TZ
from notifications.smtp_config import SmtpUrlError, parse_smtp_url
from notifications.tables import mail_outbox
from tests.api.conftest import Api, Who, start
from tests.conftest import ManualClock
from tests.security.conftest import FAST_HASHER, PASSWORD, browser, login_page_token
from tests.smtp import HOST, RecordingHandler, free_port
from tests.support.scenario import issue_order, register_basics

SECRET_KEY = "sk-LASTMILE-not-for-logs-7f3a9c"
DB_PASSWORD = "db-pw-Zq81!x"
SMTP_PASSWORD = "smtp-pw-Kd02?y"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Everything logged at DEBUG, also as the worker's JSON lines (returned)."""
    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def logged(caplog: pytest.LogCaptureFixture, stream: io.StringIO) -> str:
    # The test SMTP server's own log (aiosmtpd, "mail.log") is the test double's, not ours.
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    lines = [line for line in stream.getvalue().splitlines() if '"mail.log' not in line]
    text = "\n".join([*(f"{r.getMessage()} {r.exc_text or ''}" for r in ours), *lines])
    assert text, "nothing was logged: the capture is not working"
    return text


def test_settings_never_show_their_passwords_or_the_key() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"postgresql://lastmile:{DB_PASSWORD}@db.example.cn:5432/lastmile",
        smtp_url=f"smtp://mailer:{quote(SMTP_PASSWORD)}@mail.example.cn:587?starttls=1",
        secret_key=SECRET_KEY,
    )

    for shown in (repr(settings), str(settings), f"{settings!r}"):
        assert "db.example.cn" in shown  # the URLs are there, for diagnosis
        for secret in (DB_PASSWORD, SMTP_PASSWORD, quote(SMTP_PASSWORD), SECRET_KEY):
            assert secret not in shown
    config = parse_smtp_url(settings.smtp_url or "")
    assert config.password == SMTP_PASSWORD
    assert SMTP_PASSWORD not in f"{config} {config!r}"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LASTMILE_DATABASE_URL", f"mysql://lastmile:{DB_PASSWORD}@db.example.cn/lastmile"),
        ("LASTMILE_DATABASE_URL", f"//lastmile:{DB_PASSWORD}@db.example.cn/lastmile"),
        ("LASTMILE_SESSION_HOURS", DB_PASSWORD),  # a secret pasted into the wrong variable
    ],
)
def test_a_bad_setting_is_named_without_the_secret_in_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("LASTMILE_SECRET_KEY", SECRET_KEY)

    with pytest.raises(SettingsError) as raised:
        load_settings()
    with pytest.raises(ValueError, match="validation error") as direct:
        Settings(_env_file=None)  # type: ignore[call-arg]

    for message in (str(raised.value), str(direct.value)):
        assert variable.removeprefix("LASTMILE_").lower() in message.lower()
        assert DB_PASSWORD not in message
        assert SECRET_KEY not in message


def test_a_bad_smtp_url_is_named_without_its_password() -> None:
    # An unencoded "?" in the password: urlsplit reads the password's head as the port
    urls = [
        f"smtp://mailer:{SMTP_PASSWORD}@mail.example.cn:587",
        f"smtp://mailer:{quote(SMTP_PASSWORD)}@mail.example.cn:notaport",
        f"ftp://mailer:{quote(SMTP_PASSWORD)}@mail.example.cn",
        f"smtp://mailer:{quote(SMTP_PASSWORD)}@",
    ]
    for url in urls:
        with pytest.raises(SmtpUrlError) as raised:
            parse_smtp_url(url)
        for part in (SMTP_PASSWORD, quote(SMTP_PASSWORD), SMTP_PASSWORD.split("?")[0]):
            assert part not in str(raised.value), url


def test_the_cli_names_an_unreachable_database_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"postgresql://lastmile:{DB_PASSWORD}@127.0.0.1:1/lastmile"  # nothing listens on 1
    monkeypatch.setenv("LASTMILE_DATABASE_URL", url)
    monkeypatch.setenv("LASTMILE_SECRET_KEY", SECRET_KEY)

    result = CliRunner().invoke(cli, ["verify"])

    assert result.exit_code == 2, result.output
    assert "127.0.0.1" in result.output
    assert DB_PASSWORD not in result.output
    assert SECRET_KEY not in result.output


@pytest.fixture
def keyed(settings: Settings, clock: ManualClock) -> Iterator[Api]:
    """The app with a secret key configured, its people signing in with PASSWORD."""
    app = create_app(settings.model_copy(update={"secret_key": SECRET_KEY}), clock)
    with TestClient(app) as client:
        system = start(client)
        system.system.users.hasher = FAST_HASHER
        yield system


def test_sign_ins_and_token_calls_log_no_secret(
    keyed: Api, logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    api = keyed
    # An admin adds a user with a password and issues a token (both over the API)
    body = {"name": "slj.member", "role": "department", "department": "SLJ", "password": PASSWORD}
    assert api.call(Who.ADMIN, "POST", "/api/v1/users", json=body).status_code == 201
    issued = api.call(Who.ADMIN, "POST", "/api/v1/users/slj.member/tokens").json()["token"]
    # The user signs in (API and page), also mistyping, and calls with the token
    client = browser(api.client)
    wrong = {"name": "slj.member", "password": PASSWORD + "x"}
    assert client.post("/api/v1/session", json=wrong).status_code == 401
    right = client.post("/api/v1/session", json={"name": "slj.member", "password": PASSWORD})
    sessions = [right.cookies["lastmile_session"]]
    client = browser(api.client)
    token = login_page_token(client)
    page = client.post(
        "/login", data={CSRF_FIELD: token, "name": "slj.member", "password": PASSWORD}
    )
    sessions.append(page.cookies["lastmile_session"])
    headers = {"Authorization": f"Bearer {issued}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert browser(api.client, sessions[1]).get("/").status_code == 200
    api.call(Who.ADMIN, "DELETE", "/api/v1/users/slj.member/tokens")
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert browser(api.client, sessions[0]).delete("/api/v1/session").status_code == 204

    text = logged(caplog, logs)

    assert "slj.member" in text  # the actions were logged, by name
    for secret in (PASSWORD, issued, *sessions, *api.tokens.values(), SECRET_KEY):
        assert secret not in text


def test_mail_sent_with_an_smtp_password_logs_no_secret(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given mail waiting to go, and an SMTP server that wants a password
    system = bootstrap(settings, lambda: datetime(2025, 9, 26, 9, 0, tzinfo=CHINA_TZ))
    register_basics(system.app)
    issue_order(system.app, count=1)
    system.close()
    handler, port = RecordingHandler(), free_port()

    def authenticate(server: object, session: object, envelope: object, mechanism: str,
                     data: object) -> AuthResult:  # fmt: skip
        good = isinstance(data, LoginPassword) and data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=good)

    server = Controller(handler, hostname=HOST, port=port, auth_require_tls=False,
                        authenticator=authenticate)  # fmt: skip
    server.start()
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("LASTMILE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LASTMILE_SECRET_KEY", SECRET_KEY)
    outputs: list[str] = []
    errors: list[str] = []
    try:
        # When the worker's tick sends it, first with a wrong password, then the right one
        for password, now in (("wrong-" + SMTP_PASSWORD, "2025-09-26T10:00"),
                              (SMTP_PASSWORD, "2025-09-26T12:00")):  # fmt: skip
            url = f"smtp://mailer:{quote(password)}@{HOST}:{port}?timeout=3"
            monkeypatch.setenv("LASTMILE_SMTP_URL", url)
            result = CliRunner().invoke(cli, ["tick", "--now", now])
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
            errors += _mail_errors(settings)
    finally:
        server.stop()

    # Then the mail went out once the password was right
    assert handler.received
    summary = json.loads(outputs[-1].strip().splitlines()[-1])
    assert summary["mail"]["sent"]["sent"] > 0
    # And neither password nor the key is in any log line, the output, or the outbox's errors
    assert any(errors)  # the refused login left its reason
    text = "\n".join([logged(caplog, logs), *outputs, *errors])
    for secret in (SMTP_PASSWORD, quote(SMTP_PASSWORD), SECRET_KEY):
        assert secret not in text


def _mail_errors(settings: Settings) -> list[str]:
    """The outbox's recorded send errors."""
    system = bootstrap(settings)
    try:
        with system.read_models.engine.connect() as connection:
            query = select(mail_outbox.c.last_error).where(mail_outbox.c.last_error.is_not(None))
            return [str(error) for error in connection.execute(query).scalars()]
    finally:
        system.close()
