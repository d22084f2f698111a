"""The deployment guide, units and nginx example name commands and settings that exist."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main
import uvicorn
from typer.testing import CliRunner

from adapters.settings import Settings
from api.cli import cli
from tests.api.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
GUIDE = ROOT / "docs" / "deploy.md"
ENV_FILE = ROOT / "deploy" / "systemd" / "lastmile.env.example"
NGINX = ROOT / "deploy" / "nginx" / "lastmile.conf"
PORT = "8001"  # what %i stands for in lastmile-api@8001


def parse(args: list[str]) -> dict[str, Any]:
    """Parse `lastmile ARGS…` as the CLI would, without running it; its options' values."""
    command = typer.main.get_command(cli)
    while isinstance(command, typer.core.TyperGroup):
        assert args, "a command group needs a subcommand"
        name, *args = args
        assert name in command.commands, f"lastmile has no command {name!r}"
        command = command.commands[name]
    options: dict[str, Any] = command.make_context("lastmile", list(args)).params
    return options


def unit(path: Path) -> configparser.ConfigParser:
    units = configparser.ConfigParser(strict=False, interpolation=None)
    units.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    units.read(path, encoding="utf-8")
    return units


def exec_args(line: str) -> list[str] | None:
    """The lastmile arguments of an ExecStart= command line, or None for another program."""
    words = shlex.split(line.lstrip("-@:+!").replace("%i", PORT))
    if not words or not words[0].endswith("/bin/lastmile"):
        return None
    return words[1:]


def guide_commands() -> list[list[str]]:
    """Every `lastmile …` command and ExecStart= line in the guide's sh and ini blocks."""
    commands, language = [], None
    text = GUIDE.read_text(encoding="utf-8").replace("\\\n", " ")  # continued lines
    for line in text.splitlines():
        if line.startswith("```"):
            language = None if language is not None else (line[3:] or "plain")
            continue
        if language not in ("sh", "ini"):
            continue
        if line.startswith("ExecStart="):
            args = exec_args(line.removeprefix("ExecStart="))
            if args is not None:
                commands.append(args)
        words = shlex.split(line, comments=True)
        if words[:1] == ["lastmile"]:
            commands.append(words[1:])
    return commands


def test_there_is_an_api_unit_and_a_worker_unit() -> None:
    assert [path.name for path in UNITS] == ["lastmile-api@.service", "lastmile-worker.service"]


@pytest.mark.parametrize("path", UNITS, ids=lambda path: path.name)
def test_each_unit_runs_a_lastmile_command_that_exists(path: Path) -> None:
    service = unit(path)["Service"]

    args = exec_args(service["ExecStart"])

    assert args is not None
    parse(args)
    assert service["EnvironmentFile"] == "/etc/lastmile/lastmile.env"
    assert service["User"] == "lastmile"


def test_the_api_unit_listens_where_nginx_sends_and_trusts_its_headers() -> None:
    args = exec_args(unit(ROOT / "deploy/systemd/lastmile-api@.service")["Service"]["ExecStart"])
    assert args is not None
    assert args[0] == "serve"

    options = parse(args)

    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == options["host"] == "127.0.0.1"
    nginx = NGINX.read_text(encoding="utf-8")
    assert f"server {options['host']}:{PORT} " in nginx
    proxied = nginx.count("proxy_pass http://lastmile_api;")
    assert proxied >= 1
    assert nginx.count("proxy_set_header X-Forwarded-For $remote_addr;") == proxied
    assert nginx.count("proxy_set_header X-Forwarded-Proto $scheme;") == proxied


def test_every_lastmile_command_in_the_guide_parses() -> None:
    commands = guide_commands()

    for args in commands:
        parse(args)
    assert {args[0] for args in commands} >= {"migrate", "serve", "verify"}
    assert ["verify", "--expect", "<digest>"] in commands


def test_the_environment_file_and_the_guide_name_every_setting() -> None:
    settings = {f"LASTMILE_{name.upper()}" for name in Settings.model_fields}
    example = ENV_FILE.read_text(encoding="utf-8")

    named = set(re.findall(r"^#?(LASTMILE_[A-Z_]+)=", example, flags=re.MULTILINE))

    assert named == settings
    guide = GUIDE.read_text(encoding="utf-8")
    assert sorted(name for name in settings if f"`{name}`" not in guide) == []


def test_serve_hands_the_proxy_options_to_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    runner = CliRunner()

    trusted = runner.invoke(cli, ["serve", "--port", PORT, "--forwarded-allow-ips", "10.0.0.5"])
    direct = runner.invoke(cli, ["serve", "--no-proxy-headers"])

    assert (trusted.exit_code, direct.exit_code) == (0, 0)
    assert calls[0]["proxy_headers"] is True
    assert (calls[0]["port"], calls[0]["forwarded_allow_ips"]) == (8001, "10.0.0.5")
    assert calls[1]["proxy_headers"] is False
    assert calls[1]["forwarded_allow_ips"] is None  # uvicorn's default: $FORWARDED_ALLOW_IPS


def test_migrate_says_what_it_did_and_then_that_there_is_nothing_to_do(run: Run) -> None:
    code, first = run("migrate")
    assert code == 0, first
    assert "applied r0001" in first
    assert "event store: created lastmile_events" in first

    code, second = run("migrate")

    assert code == 0, second
    assert "Nothing to do" in second
    assert "applied" not in second
