"""`lastmile tick` with an SMTP server: the scan's reminders go out as mail in the same run."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from typer.testing import CliRunner

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from api.cli import cli
from domain.calendar import CHINA_TZ
from tests.smtp import HOST, SmtpServer
from tests.support.scenario import issue_order, register_basics


def test_tick_derives_and_sends_the_mail_of_the_steps_it_recorded(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = bootstrap(settings, lambda: datetime(2025, 9, 26, 9, 0, tzinfo=CHINA_TZ))
    register_basics(system.app)  # the department's contact: slj@example.cn
    issue_order(system.app, count=1)
    system.close()
    server = SmtpServer().start()
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("LASTMILE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LASTMILE_SMTP_URL", f"smtp://{HOST}:{server.port}")
    try:
        result = CliRunner().invoke(cli, ["tick", "--now", "2025-12-01T10:00"])
    finally:
        server.stop()

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["events"] > 0
    assert summary["mail"]["derived"] > 0
    assert summary["mail"]["sent"]["sent"] > 0
    assert any("slj@example.cn" in m.recipients for m in server.handler.received)
