"""The `lastmile` command."""

from __future__ import annotations

import dataclasses
import getpass
import json
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn
from uuid import UUID

import typer
import uvicorn
from eventsourcing.persistence import PersistenceError
from rich.console import Console
from rich.progress import Progress
from rich.table import Column, Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from adapters.bootstrap import Lastmile, bootstrap, system_clock
from adapters.demo import DEMO_PASSWORD, USERS, ScriptClock, load_demo
from adapters.migrations.durable import MigrationError, SchemaBehindError
from adapters.migrations.upgrade import migrate, pending
from adapters.projections.linkage import budget_linkage
from adapters.projections.moments import Moment
from adapters.projections.queries import LedgerFilter
from adapters.reports.builders import (
    accountability_report,
    ledger_report,
    linkage_report,
    scorecard_report,
)
from adapters.reports.model import Report
from adapters.reports.render import FORMATS, render
from adapters.settings import Settings, SettingsError, load_settings
from adapters.worker.lock import WorkerLockError, worker_lock
from adapters.worker.logs import structured_logging
from adapters.worker.mail import MailJobs
from adapters.worker.scan import ScanReport, scan
from adapters.worker.service import WorkerService
from api.app import create_app
from domain.application import Clock
from domain.calendar import CHINA_TZ
from domain.errors import DomainError, StoreError
from domain.policies import PolicyError
from domain.values import Actor, Role


class ReportKind(StrEnum):
    LEDGER = "ledger"
    DEPARTMENTS = "departments"
    ACCOUNTABILITY = "accountability"
    BUDGET_LINKAGE = "budget-linkage"


cli = typer.Typer(help="Lastmile (整改通): rectification of budget performance findings.")
department_cli = typer.Typer(help="Departments (整改责任单位).")
user_cli = typer.Typer(help="Users and their API tokens.")
finding_cli = typer.Typer(help="Look at one finding.")
cli.add_typer(department_cli, name="department")
cli.add_typer(user_cli, name="user")
cli.add_typer(finding_cli, name="finding")
out = Console()
err = Console(stderr=True, soft_wrap=True)  # error lines stay whole, for people and grep


def operator() -> Actor:
    """Commands typed at the server act as an administrator named after the OS user."""
    return Actor(f"cli:{getpass.getuser()}", Role.ADMIN)


@contextmanager
def system(clock: Clock = system_clock) -> Iterator[Lastmile]:
    """Build Lastmile from the environment; turn known errors into one clear line."""
    try:
        settings = load_settings()
        lastmile = bootstrap(settings, clock)
    except (SettingsError, PolicyError, SchemaBehindError, MigrationError) as error:
        _fail(str(error), code=2)
    except (SQLAlchemyError, PersistenceError) as error:
        where = make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)
        _fail(f"Cannot open the database at {where}: {_first_line(error)}", code=2)
    try:
        yield lastmile
    except DomainError as error:
        _fail(str(error), code=1)
    except StoreError as error:
        _fail(f"{error} — run `lastmile verify` and tell the administrator.", code=1)
    finally:
        lastmile.close()


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


@department_cli.command("add")
def department_add(
    code: str,
    name: str,
    contact_email: Annotated[str | None, typer.Option(help="整改联系人邮箱")] = None,
    head_email: Annotated[str | None, typer.Option(help="单位负责人邮箱")] = None,
) -> None:
    """Register a department, e.g. `lastmile department add SLJ 泸溪县水利局`."""
    with system() as lastmile:
        view = lastmile.app.register_department(operator(), code, name, contact_email, head_email)
    out.print_json(json.dumps({"id": str(view.id), "code": view.code, "name": view.name}))


@user_cli.command("add")
def user_add(
    name: str,
    role: Annotated[Role, typer.Option(help="evaluator | department | supervisor | admin")],
    department: Annotated[
        str | None, typer.Option(help="department code (department users)")
    ] = None,
    email: Annotated[str | None, typer.Option()] = None,
    password: Annotated[str | None, typer.Option(help="for the browser login")] = None,
) -> None:
    """Add a user and print one JSON object with its API token (shown only once)."""
    with system() as lastmile:
        if department:
            lastmile.app.department(department)
        new = lastmile.users.add(name, role, department, email, password)
    user = new.user
    print(
        json.dumps(
            {
                "name": user.name,
                "role": user.role.value,
                "department": user.department,
                "email": user.email,
                "token": new.token,
            },
            ensure_ascii=False,
        )
    )


@user_cli.command("token")
def user_token(name: str) -> None:
    """Issue another API token for a user and print it (shown only once)."""
    with system() as lastmile:
        token = lastmile.users.issue_token(name)
    print(json.dumps({"name": name, "token": token}, ensure_ascii=False))


@user_cli.command("revoke")
def user_revoke(name: str) -> None:
    """End a user's access: revoke every API token (running API servers refuse them within
    5 s) and end every browser session (at once)."""
    with system() as lastmile:
        revoked = lastmile.users.revoke_tokens(name)
    ended = {"name": name, "revoked": revoked.tokens, "sessions_ended": revoked.sessions}
    print(json.dumps(ended, ensure_ascii=False))


@cli.command()
def verify(
    expect: Annotated[
        list[str] | None,
        typer.Option(help="a head digest recorded earlier; the log must still contain it"),
    ] = None,
) -> None:
    """Walk the whole event log against its hash chain; exit 1 if anything was tampered with."""
    with system() as lastmile, Progress(console=err, transient=True) as progress:
        task = progress.add_task("Verifying the event log", total=None)
        report = lastmile.verify(lambda n: progress.update(task, completed=n), expect or ())
    for problem in report.problems:
        out.print(f"[red]TAMPERED[/red] {problem.message}")
    status = (
        "[green]intact[/green]" if report.ok else f"[red]{len(report.problems)} problem(s)[/red]"
    )
    out.print(f"{report.events_checked} events checked: {status}")
    out.print(f"head digest {report.head_digest} (event #{report.head_id})")
    out.print("Keep this digest somewhere else; `lastmile verify --expect` checks it later.")
    if not report.ok:
        raise typer.Exit(1)


@finding_cli.command("show")
def finding_show(
    finding: UUID,
    as_of: Annotated[
        datetime | None, typer.Option(help="ISO moment, e.g. 2025-10-01T12:00+08:00")
    ] = None,
) -> None:
    """Print a finding as it stood at a moment (default: now)."""
    with system() as lastmile:
        view = lastmile.app.finding(finding, _aware(as_of))
    fields = {k: str(v) for k, v in vars(view).items() if k not in ("evidence", "extensions")}
    out.print_json(json.dumps(fields, ensure_ascii=False))


@finding_cli.command("history")
def finding_history(finding: UUID) -> None:
    """Print a finding's whole trail: who did what, when."""
    with system() as lastmile:
        entries = lastmile.app.history(finding)
    table = Table("v", "time", "event", "actor", "role")
    for e in entries:
        table.add_row(
            str(e.version),
            e.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
            e.type,
            e.actor,
            e.role,
        )
    out.print(table)


@cli.command()
def worker() -> None:
    """Run projections, the reminder ladder and mail until stopped (SIGTERM or Ctrl-C).

    A second worker on the same database waits for the first one's lock, saying so.
    """
    stop = _stop_on_signals()
    with structured_logging(), system() as lastmile:
        try:
            with worker_lock(lastmile.settings, stop=stop) as held:
                service = WorkerService(lastmile, held)
                service.run(stop)
        except WorkerLockError as error:
            if stop.is_set():
                return  # stopped while waiting for the lock: nothing to clean up
            _fail(str(error), code=1)
    if service.lost_lock is not None:
        _fail(str(service.lost_lock), code=1)


def _stop_on_signals() -> threading.Event:
    """SIGTERM and Ctrl-C ask for a clean stop: running jobs finish, the lock is released."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


@cli.command()
def tick(
    now: Annotated[
        str | None,
        typer.Option(help="ISO moment that has passed, e.g. 2025-10-31T09:00 (China time)"),
    ] = None,
    wait: Annotated[
        float | None, typer.Option(help="seconds to wait for the worker lock (default: no limit)")
    ] = None,
) -> None:
    """Run the scheduler's scan once as of a moment, then derive and send due mail once."""
    moment = _past_moment(now)
    with structured_logging(), system(lambda: moment) as lastmile:
        try:
            with worker_lock(lastmile.settings, timeout=wait):
                report = scan(lastmile, moment)
                mail = _mail_once(lastmile.mail)
        except WorkerLockError as error:
            _fail(str(error), code=3)
    print(json.dumps(_tick_summary(report, mail), ensure_ascii=False, default=str))
    if report.failures:
        raise typer.Exit(1)


def _past_moment(text: str | None) -> datetime:
    if text is None:
        return system_clock()
    try:
        moment = _aware(datetime.fromisoformat(text))
    except ValueError:
        _fail(f"--now {text!r} is not an ISO date-time, e.g. 2025-10-31T09:00", code=2)
    assert moment is not None
    current = system_clock()
    if moment > current:
        _fail(
            f"--now {moment.isoformat()} is in the future (it is now "
            f"{current.astimezone(CHINA_TZ).isoformat(timespec='seconds')}); "
            "tick replays a moment that has passed, it cannot record events ahead of time.",
            code=2,
        )
    return moment


def _mail_once(mail: MailJobs | None) -> dict[str, Any] | None:
    if mail is None or mail.send is None:
        return None  # no SMTP server configured: mail stays in the outbox
    return {"derived": _plain(mail.derive()), "sent": _plain(mail.send())}


def _tick_summary(report: ScanReport, mail: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "as_of": report.moment.isoformat(),
        "projected": report.projected,
        "candidates": report.candidates,
        "due": report.due,
        "changed": report.changed,
        "events": report.events,
        "failures": [{"finding": str(f.finding), "error": f.error} for f in report.failures],
        "seconds": round(report.seconds, 3),
        "mail": mail,
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


@cli.command()
def rebuild() -> None:
    """Recreate every read model from the event log, batch by batch."""
    with system() as lastmile:
        total = lastmile.app.recorder.max_notification_id() or 0
        with Progress(console=err) as progress:
            task = progress.add_task("Rebuilding read models", total=total)
            applied = lastmile.projections.rebuild(
                lambda n: progress.update(task, completed=lastmile.projections.position())
            )
            progress.update(task, completed=total)
    out.print(f"{applied} events applied; read models are at position {total}.")


@cli.command()
def report(
    kind: Annotated[ReportKind, typer.Argument(help="which report")],
    output_format: Annotated[str, typer.Option("--format", help="json|csv|xlsx|html|pdf")] = "json",
    output: Annotated[Path | None, typer.Option(help="file to write (default: stdout)")] = None,
    as_of: Annotated[datetime | None, typer.Option(help="moment, e.g. 2025-10-01T12:00")] = None,
    department: Annotated[str | None, typer.Option(help="ledger: one department")] = None,
    status: Annotated[str | None, typer.Option(help="ledger: one status")] = None,
    evaluation: Annotated[str | None, typer.Option(help="ledger: one evaluation")] = None,
    overdue: Annotated[bool | None, typer.Option(help="ledger: only (not) overdue")] = None,
    since: Annotated[datetime | None, typer.Option(help="accountability: first day")] = None,
    until: Annotated[datetime | None, typer.Option(help="accountability: last day")] = None,
    by_person: Annotated[bool, typer.Option(help="accountability: per responsible person")] = False,
    year: Annotated[int | None, typer.Option(help="budget-linkage: the budget year")] = None,
) -> None:
    """Write a report as of a moment; it names the log digest it was built from."""
    if output_format not in FORMATS:
        _fail(f"Unknown format {output_format!r}; choose one of {', '.join(FORMATS)}.", code=2)
    if output is None and output_format in ("xlsx", "pdf"):
        _fail(f"A {output_format} report needs --output FILE.", code=2)
    with system() as lastmile:
        lastmile.projections.catch_up()
        moment = lastmile.read_models.moment(_aware(as_of) or system_clock())
        where = LedgerFilter(department, evaluation, status, overdue=overdue)
        period = (since, until, by_person)
        built = _build(lastmile, kind, moment, where, period, year or moment.day.year + 1)
        content = render(built, output_format, lastmile.settings.language)
    if output is None:
        sys.stdout.buffer.write(content)
    else:
        output.write_bytes(content)
        err.print(f"Wrote {output} (as of {moment.at.isoformat()}, digest {moment.digest[:16]}…)")


def _build(
    lastmile: Lastmile,
    kind: ReportKind,
    moment: Moment,
    where: LedgerFilter,
    period: tuple[datetime | None, datetime | None, bool],
    budget_year: int,
) -> Report:
    read = lastmile.read_models
    if kind is ReportKind.LEDGER:
        return ledger_report(read, moment, where)
    if kind is ReportKind.DEPARTMENTS:
        return scorecard_report(read, moment)
    if kind is ReportKind.BUDGET_LINKAGE:
        found = budget_linkage(read, lastmile.app, lastmile.linkage_policy, budget_year, moment)
        return linkage_report(found, budget_year, moment)
    since, until, by_person = period
    last = until.date() if until else moment.day
    first = since.date() if since else last.replace(day=1)
    return accountability_report(read, moment, first, last, by_person)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="take the client address and scheme from X-Forwarded-For/-Proto "
            "sent by a trusted proxy (--forwarded-allow-ips)",
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="comma-separated addresses or networks of the trusted proxies "
            "(default: $FORWARDED_ALLOW_IPS, else 127.0.0.1,::1)"
        ),
    ] = None,
    project: Annotated[
        bool,
        typer.Option(
            "--project/--no-project",
            help="keep the read models current from a child process; --no-project when "
            "`lastmile worker` does it anyway",
        ),
    ] = True,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="log a line per request (off: the reverse proxy logs requests, /metrics "
            "counts them)",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (and keep the read models current) until stopped."""
    try:
        settings = load_settings()
    except SettingsError as error:
        _fail(str(error), code=2)
    with system():  # a store that needs `lastmile migrate` is one clear line, not a traceback
        pass
    out.print(f"Lastmile API on http://{host}:{port}/  (OpenAPI: http://{host}:{port}/docs)")
    uvicorn.run(
        create_app(settings, project_in_background=project, projector="process"),
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
    )


@cli.command("migrate")
def migrate_store(
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="only say what is due, changing nothing; exit 1 when something is"
        ),
    ] = False,
) -> None:
    """Create or migrate every table this version needs, then say what was done; idempotent.

    Run it once per upgrade, with the worker and API processes stopped.
    """
    try:
        settings = load_settings()
    except SettingsError as error:
        _fail(str(error), code=2)
    try:
        if check:
            _check_migration(settings)
            return
        report = migrate(settings)
    except MigrationError as error:
        _fail(str(error), code=1)
    except (SQLAlchemyError, PersistenceError) as error:
        where = make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)
        _fail(f"Cannot migrate the database at {where}: {_first_line(error)}", code=2)
    for line in report.lines():
        print(line)


def _check_migration(settings: Settings) -> None:
    due = pending(settings)
    for line in due:
        print(line)
    if due:
        print("`lastmile migrate` is due.")
        raise typer.Exit(1)
    print("Nothing to do: the schema is current.")


@cli.command()
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve the app once loaded")
    ] = True,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Load the demo data set (once), print what it holds and who can sign in, then serve."""
    now = system_clock()
    clock = ScriptClock(now - timedelta(days=121))
    with system(clock) as lastmile:
        if lastmile.users.get("admin") is not None:
            out.print("The demo data is already loaded (delete the data directory to start over).")
        else:
            today = now.astimezone(CHINA_TZ).date()
            issued = load_demo(
                lastmile.app, clock, today, lambda n, r, d: _demo_user(lastmile, n, r, d)
            )
            clock.now = now
            _print_demo(lastmile, issued)
            lastmile.projections.catch_up()
        _print_logins(lastmile, f"http://{host}:{port}/")
    if serve_after:
        serve(host, port)


def _print_logins(lastmile: Lastmile, url: str) -> None:
    # Plain print throughout: names and URLs stay whole and copyable in any terminal width.
    print(f"\nOpen the web UI at {url}  (supervisor's dashboard: {url}dashboard)")
    print("Sign in as one of (role, user name, password):")
    for role in (Role.EVALUATOR, Role.DEPARTMENT, Role.SUPERVISOR, Role.ADMIN):
        name, _, department = next(user for user in USERS if user[1] is role)
        where = (
            f"  ({department}; every department has its own .jingban user)" if department else ""
        )
        print(f"  {role.value:<11} {name:<14} {DEMO_PASSWORD}{where}")
    out.print("\nOr call the API with a fresh token (Authorization: Bearer <token>):")
    for name, role, department in USERS:
        who = f"{role.value} {department or ''}"
        # Plain print: a token wrapped by the terminal table could not be copied whole.
        print(f"  {name:<14} {who:<16} {lastmile.users.issue_token(name)}")


def _demo_user(lastmile: Lastmile, name: str, role: Role, department: str | None) -> None:
    lastmile.users.add(name, role, department, f"{name}@luxi.example.gov.cn", DEMO_PASSWORD)


def _print_demo(lastmile: Lastmile, issued: dict[str, list[UUID]]) -> None:
    table = Table(
        "问题", "状态", "期限", "逾期", "督办", Column("id", overflow="fold"), title="Demo findings"
    )
    states: Counter[str] = Counter()
    for ids in issued.values():
        for finding in ids:
            v = lastmile.app.finding(finding)
            states[v.status] += 1
            table.add_row(
                f"{v.department}-{v.ref}",
                v.status,
                str(v.due_on),
                str(v.overdue_days or ""),
                str(v.escalation_level or ""),
                str(v.id),
            )
    out.print(table)
    out.print("By status: " + ", ".join(f"{k} {n}" for k, n in sorted(states.items())))
    out.print(f"Data directory: {lastmile.settings.data_dir.resolve()}")


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=CHINA_TZ)  # people type China time


from api.cli_import import import_ledger  # noqa: E402 -- registered beside its import

cli.command("import")(import_ledger)


def main() -> None:
    cli(prog_name="lastmile")


if __name__ == "__main__":
    main()
