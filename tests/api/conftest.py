"""Shared API fixtures: the app on each store, one user per role, findings in any state."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from reportlab.pdfgen.canvas import Canvas
from typer.testing import CliRunner

from adapters.bootstrap import Lastmile
from adapters.settings import Settings
from api.app import create_app
from api.cli import cli
from domain.values import Actor, Role
from domain.views import FindingDraft, FindingView, OrderDraft
from tests.conftest import ManualClock

EVIDENCE = "e" * 64  # attached through the application; no file behind it
EVALUATIONS = {"SLJ": "LX-2025-PJ-001", "JYJ": "LX-2025-PJ-002"}
State = Literal[
    "issued",
    "acknowledged",
    "evidenced",
    "rectified",
    "verified",
    "extension-pending",
    "level-2",
    "level-3",
]


class Who(StrEnum):
    """The five people of the permission table."""

    EVALUATOR = "pingjia.li"
    SLJ = "slj.jingban"  # a department user of the findings' department
    JYJ = "jyj.jingban"  # a department user of another department
    SUPERVISOR = "jiandu.zhao"
    ADMIN = "guanli.chen"

    @property
    def role(self) -> Role:
        return {
            Who.EVALUATOR: Role.EVALUATOR,
            Who.SLJ: Role.DEPARTMENT,
            Who.JYJ: Role.DEPARTMENT,
            Who.SUPERVISOR: Role.SUPERVISOR,
            Who.ADMIN: Role.ADMIN,
        }[self]

    @property
    def department(self) -> str | None:
        return {Who.SLJ: "SLJ", Who.JYJ: "JYJ"}.get(self)

    @property
    def actor(self) -> Actor:
        return Actor(self.value, self.role)


def pdf(text: str = "rectification report") -> bytes:
    """A real, small PDF, so the upload's content sniffing accepts it."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=True)
    canvas.drawString(72, 720, text)
    canvas.save()
    return buffer.getvalue()


@dataclass
class Api:
    """A running app with a token per person, and findings put into any state."""

    client: TestClient
    tokens: dict[Who, str]
    orders: int = 0  # how many orders `finding` has issued, for fresh 文号

    @property
    def system(self) -> Lastmile:
        app = self.client.app
        assert isinstance(app, FastAPI)
        system: Lastmile = app.state.lastmile
        return system

    def headers(self, who: Who, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def call(self, who: Who, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        headers = {**self.headers(who), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def events(self) -> int:
        """How many events the log holds: a refused request must not change it."""
        return self.system.app.recorder.max_notification_id() or 0

    def project(self) -> None:
        """Bring the read models (lists, reports) up to the log."""
        self.system.projections.catch_up()

    def view(self, finding: UUID) -> FindingView:
        return self.system.app.finding(finding)

    def finding(self, state: State = "issued", department: str = "SLJ") -> FindingView:
        """A new finding (one order of one), driven through the application into `state`."""
        app, self.orders = self.system.app, self.orders + 1
        draft = FindingDraft("1", "", "预算执行率低", "过程/预算执行率低", "immediate", "加快执行")
        order = OrderDraft(
            f"泸财绩〔2025〕{self.orders}号", EVALUATIONS[department], department, [draft]
        )
        (finding,) = app.issue_order(Who.EVALUATOR.actor, order)
        staff = Actor(f"{department.lower()}.jingban", Role.DEPARTMENT)
        supervisor = Who.SUPERVISOR.actor
        if state in ("acknowledged", "evidenced", "rectified", "verified", "extension-pending"):
            app.acknowledge(finding, staff, "张三", "两周内完成")
        if state in ("evidenced", "rectified", "verified"):
            app.attach_evidence(finding, staff, EVIDENCE, "执行情况表.pdf", 1024, "application/pdf")
        if state in ("rectified", "verified"):
            app.submit_rectification(finding, staff, "已加快拨付", [EVIDENCE])
        if state == "verified":
            app.verify(finding, Who.EVALUATOR.actor, "资料齐全")
        if state == "extension-pending":
            later = app.finding(finding).due_on + timedelta(days=30)
            app.request_extension(finding, staff, later, "汛期施工受阻")
        if state in ("level-2", "level-3"):
            app.escalate(finding, supervisor, 2, "逾期未整改")
        if state == "level-3":
            app.escalate(finding, supervisor, 3, "约谈后仍未整改")
        return app.finding(finding)


def start(client: TestClient) -> Api:
    """Register both departments and their evaluations, and a user per person."""
    app = client.app
    assert isinstance(app, FastAPI)
    system: Lastmile = app.state.lastmile
    setup = Actor("setup", Role.ADMIN)
    system.app.register_department(setup, "SLJ", "县水利局", "slj@example.cn")
    system.app.register_department(setup, "JYJ", "县教育局", "jyj@example.cn")
    for department, ref in EVALUATIONS.items():
        system.app.record_evaluation(
            Who.EVALUATOR.actor,
            ref=ref,
            title=f"2025年{department}项目支出绩效评价",
            year=2025,
            object_type="project",
            department=department,
            budget_amount=Decimal("1200000.00"),
            score=Decimal("78.5"),
        )
    tokens = {who: system.users.add(who.value, who.role, who.department).token for who in Who}
    return Api(client, tokens)


@pytest.fixture
def api(settings: Settings, clock: ManualClock) -> Iterator[Api]:
    """The app on each store, its lifespan running; read models are projected on demand."""
    with TestClient(create_app(settings, clock, project_in_background=False)) as client:
        yield start(client)


Run = Callable[..., tuple[int, str]]


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke `lastmile ARGS…` in-process, with the test's store in the environment."""
    monkeypatch.setenv("LASTMILE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("LASTMILE_DATABASE_URL", settings.database_url)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args))
        return result.exit_code, result.output

    return invoke
