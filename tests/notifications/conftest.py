"""A Lastmile with people who have e-mail addresses, its outbox, and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

import pytest
from sqlalchemy import select

from adapters.bootstrap import Lastmile
from domain.values import Actor, Role
from domain.views import FindingDraft, OrderDraft
from notifications.compose import Composer
from notifications.directory import Directory
from notifications.outbox import MailDeriver
from notifications.relevance import ReminderRelevance
from notifications.sender import MailSender, RetryPolicy
from notifications.tables import OutboxRow, mail_outbox
from tests.conftest import ManualClock
from tests.smtp import SmtpServer

ORDER = "泸财绩〔2025〕12号"
EVALUATOR = Actor("pingjia.li", Role.EVALUATOR)
OTHER_EVALUATOR = Actor("pingjia.wang", Role.EVALUATOR)
SUPERVISOR = Actor("jiandu.zhao", Role.SUPERVISOR)
CLERK = Actor("slj.jingban", Role.DEPARTMENT)
SYSTEM = Actor("scheduler", Role.SYSTEM)
RESPONSIBLE = "张建国"
CONTACT = "slj-contact@example.cn"
HEAD = "slj-head@example.cn"
EVALUATOR_MAIL = "li@czj.example.cn"
SUPERVISOR_MAIL = "zhao@jw.example.cn"
CLERK_MAIL = "jingban@slj.example.cn"
RESPONSIBLE_MAIL = "zhangjianguo@slj.example.cn"
EVIDENCE = "e" * 64


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@dataclass
class Mail:
    """The mail parts of one Lastmile, wired as the worker wires them."""

    lastmile: Lastmile
    clock: ManualClock
    directory: Directory
    composer: Composer
    deriver: MailDeriver
    failures: list[OutboxRow] = field(default_factory=list)

    def sender(self, server: SmtpServer, retry: RetryPolicy | None = None) -> MailSender:
        return MailSender(
            self.lastmile.records,
            server.config(),
            self.clock,
            self.failures.append,
            mail_from="lastmile@czj.example.cn",
            relevance=ReminderRelevance(self.lastmile.app),
            retry=retry or RetryPolicy(),
        )

    def rows(self) -> list[OutboxRow]:
        """Every outbox row, oldest event first."""
        query = select(mail_outbox).order_by(mail_outbox.c.event_position, mail_outbox.c.id)
        with self.lastmile.records.connect() as connection:
            return [OutboxRow.from_row(row) for row in connection.execute(query)]

    def addressed(self) -> list[tuple[str, str]]:
        """(template, recipient) of every row, in a stable order."""
        return sorted((row.template, row.recipient) for row in self.rows())

    def issue(self, count: int = 1) -> list[UUID]:
        drafts = [
            FindingDraft(
                str(n),
                f"预算执行率低（问题{n}）",
                "资金拨付滞后",
                "过程/预算执行率低",
                "immediate",
                "加快预算执行",
            )
            for n in range(1, count + 1)
        ]
        return self.lastmile.app.issue_order(
            EVALUATOR, OrderDraft(ORDER, "LX-2025-PJ-001", "SLJ", drafts)
        )

    def submit(self, finding: UUID) -> None:
        app = self.lastmile.app
        app.attach_evidence(finding, CLERK, EVIDENCE, "执行情况表.pdf", 1024, "application/pdf")
        app.submit_rectification(finding, CLERK, "已加快拨付", [EVIDENCE])


def make_mail(lastmile: Lastmile, clock: ManualClock, language: str = "zh-CN") -> Mail:
    app, users = lastmile.app, lastmile.users
    app.register_department(EVALUATOR, "SLJ", "泸溪县水利局", CONTACT, HEAD)
    app.record_evaluation(
        EVALUATOR,
        ref="LX-2025-PJ-001",
        title="2025年农村饮水安全巩固提升工程项目支出绩效评价",
        year=2025,
        object_type="project",
        department="SLJ",
        budget_amount=Decimal("12000000.00"),
        score=Decimal("78.5"),
    )
    users.add(EVALUATOR.user_id, Role.EVALUATOR, email=EVALUATOR_MAIL)
    users.add(OTHER_EVALUATOR.user_id, Role.EVALUATOR)
    users.add(SUPERVISOR.user_id, Role.SUPERVISOR, email=SUPERVISOR_MAIL)
    users.add("jiandu.qian", Role.SUPERVISOR)  # no e-mail: nobody to write to
    users.add(CLERK.user_id, Role.DEPARTMENT, "SLJ", email=CLERK_MAIL)
    users.add(RESPONSIBLE, Role.DEPARTMENT, "SLJ", email=RESPONSIBLE_MAIL)
    directory = Directory(app, users)
    composer = Composer(language, lastmile.settings.base_url)
    deriver = MailDeriver(app, lastmile.records, directory, composer, clock=clock)
    deriver.create_tables()
    return Mail(lastmile, clock, directory, composer, deriver)


@pytest.fixture
def mail(lastmile: Lastmile, clock: ManualClock) -> Mail:
    return make_mail(lastmile, clock)
