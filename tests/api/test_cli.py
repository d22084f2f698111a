"""The lastmile command, run in-process against each real store."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from adapters.worker.lock import worker_lock
from domain.calendar import CHINA_TZ
from tests.api.conftest import Run
from tests.support.scenario import issue_order, register_basics


def test_department_add_registers_once(run: Run) -> None:
    code, output = run("department", "add", "SLJ", "泸溪县水利局", "--contact-email", "a@b.cn")
    assert code == 0
    assert json.loads(output)["name"] == "泸溪县水利局"

    code, output = run("department", "add", "SLJ", "泸溪县水利局")
    assert code == 1
    assert "already registered" in output


def test_user_add_prints_a_working_token(run: Run, settings: Settings) -> None:
    run("department", "add", "SLJ", "泸溪县水利局")

    code, output = run("user", "add", "slj.jingban", "--role", "department", "--department", "SLJ")

    assert code == 0
    printed = json.loads(output)
    assert (printed["role"], printed["department"]) == ("department", "SLJ")
    system = bootstrap(settings)
    user = system.users.by_token(printed["token"])
    system.close()
    assert user is not None
    assert user.name == "slj.jingban"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--role", "department"], "must name their department"),
        (["--role", "department", "--department", "NOPE"], "Department NOPE does not exist"),
        (["--role", "wizard"], "wizard"),
    ],
)
def test_user_add_refuses_bad_input(run: Run, args: list[str], complaint: str) -> None:
    code, output = run("user", "add", "someone", *args)

    assert code != 0
    assert complaint in output


def test_demo_loads_once_and_verify_reports_an_intact_log(run: Run) -> None:
    code, output = run("demo", "--no-serve")
    assert code == 0, output
    for status in ("issued", "acknowledged", "rectified", "verified", "withdrawn"):
        assert status in output

    code, output = run("demo", "--no-serve")
    assert code == 0
    assert "already loaded" in output

    code, output = run("verify")
    assert code == 0
    assert "intact" in output
    assert "head digest" in output


def test_a_bad_setting_stops_the_command_with_its_name(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LASTMILE_DATABASE_URL", "mysql://root@localhost/db")

    code, output = run("verify")

    assert code == 2
    assert "LASTMILE_DATABASE_URL" in output


def test_an_unreachable_database_is_named_without_its_password(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LASTMILE_DATABASE_URL", "postgresql://nobody:s3cret@127.0.0.1:1/none")

    code, output = run("verify")

    assert code == 2
    assert "Cannot open the database at postgresql+psycopg://nobody:***@127.0.0.1:1/none" in output
    assert "s3cret" not in output


def test_a_broken_policy_file_is_named(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('version = "x"\n', encoding="utf-8")
    monkeypatch.setenv("LASTMILE_POLICY", str(policy))

    code, output = run("verify")

    assert code == 2
    assert f"policy file {policy}" in output


def test_tick_scans_once_as_of_a_past_moment_and_repeats_nothing(
    run: Run, settings: Settings
) -> None:
    # Given findings long overdue at a past moment
    system = bootstrap(settings, lambda: datetime(2025, 9, 26, 9, 0, tzinfo=CHINA_TZ))
    register_basics(system.app)
    issue_order(system.app, count=2)
    system.close()

    # When tick runs twice as of that moment (naive: China time)
    code, output = run("tick", "--now", "2025-12-01T10:00")
    again_code, again = run("tick", "--now", "2025-12-01T10:00")

    # Then the first records the ladder's steps and the second nothing
    assert (code, again_code) == (0, 0), output
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["as_of"] == "2025-12-01T10:00:00+08:00"
    assert (summary["candidates"], summary["changed"], summary["failures"]) == (2, 2, [])
    assert summary["events"] >= 6  # per finding: unacknowledged, overdue, levels 1 and 2
    assert json.loads(again.strip().splitlines()[-1])["events"] == 0


@pytest.mark.parametrize(
    ("moment", "complaint"),
    [("2999-01-01T09:00", "is in the future"), ("next tuesday", "not an ISO date-time")],
)
def test_tick_refuses_a_moment_it_cannot_replay(run: Run, moment: str, complaint: str) -> None:
    code, output = run("tick", "--now", moment)

    assert code == 2
    assert complaint in output


def test_tick_waits_for_the_worker_lock(run: Run, settings: Settings) -> None:
    with worker_lock(settings):
        code, output = run("tick", "--wait", "0.5")

    assert code == 3
    assert "gave up waiting for the worker lock held by lastmile-worker" in output
