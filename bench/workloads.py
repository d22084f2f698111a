"""The timed workloads: Lastmile commands, and raw saves of a same-sized event."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from adapters.bootstrap import Lastmile, bootstrap
from adapters.settings import Settings
from bench.baseline import RawBaseline, Tally, padded_note
from domain.values import Actor, Role
from domain.views import FindingDraft, OrderDraft

EVALUATOR = Actor("pingjia.li", Role.EVALUATOR)
DEPARTMENT_USER = Actor("slj.jingban", Role.DEPARTMENT)
NOTE = "已完成部分资金拨付，正在整理支付凭证并督促施工单位加快进度"
EVALUATION = "LX-2025-PJ-001"
DEPARTMENT = "SLJ"


class Workload(Protocol):
    """Something that performs n writes, round-robin over its aggregates."""

    def run(self, n: int) -> None: ...

    def stored_event_size(self) -> int: ...


@dataclass
class LastmileWorkload:
    """`report_progress` through the application: take, guard, save, extend the chain."""

    system: Lastmile
    findings: list[UUID]
    done: int = 0

    def run(self, n: int) -> None:
        app, findings = self.system.app, self.findings
        for i in range(self.done, self.done + n):
            app.report_progress(findings[i % len(findings)], DEPARTMENT_USER, NOTE, i % 101)
        self.done += n

    def stored_event_size(self) -> int:
        """Bytes of the last ProgressReported event as stored."""
        last = self.system.app.recorder.select_events(self.findings[0], desc=True, limit=1)[0]
        if not last.topic.endswith("ProgressReported"):
            raise RuntimeError(f"Expected a ProgressReported event last, found {last.topic}.")
        return len(last.state)

    def close(self) -> None:
        self.system.close()


@dataclass
class RawWorkload:
    """One event per `app.save()` on a Tally: the raw save, or with reload a read-modify-write.

    Without reload the event is triggered on the aggregate held in memory (no query);
    with reload each write first gets the aggregate from the store, as a command must.
    """

    app: RawBaseline
    tallies: list[Tally]
    note: str
    reload: bool = False
    done: int = 0

    def run(self, n: int) -> None:
        app, note = self.app, self.note
        for i in range(self.done, self.done + n):
            tally = self._tally(i)
            tally.note(DEPARTMENT_USER.user_id, DEPARTMENT_USER.role.value, note, i % 101)
            app.save(tally)
        self.done += n

    def stored_event_size(self) -> int:
        """Bytes of the last Noted event as stored."""
        last = self.app.recorder.select_events(self.tallies[0].id, desc=True, limit=1)[0]
        return len(last.state)

    def _tally(self, i: int) -> Tally:
        held = self.tallies[i % len(self.tallies)]
        if not self.reload:
            return held
        tally: Tally = self.app.repository.get(held.id)
        return tally


def open_lastmile(settings: Settings, findings: int) -> LastmileWorkload:
    """Bootstrap Lastmile, issue an order of acknowledged findings, report progress once each."""
    system = bootstrap(settings)
    app = system.app
    app.register_department(EVALUATOR, DEPARTMENT, "泸溪县水利局", "slj@example.cn")
    app.record_evaluation(
        EVALUATOR,
        ref=EVALUATION,
        title="2025年农村饮水安全巩固提升工程项目支出绩效评价",
        year=2025,
        object_type="project",
        department=DEPARTMENT,
        budget_amount=Decimal("12000000.00"),
        score=Decimal("78.5"),
    )
    ids = app.issue_order(EVALUATOR, _order(findings))
    for finding in ids:
        app.acknowledge(finding, DEPARTMENT_USER, "张建国", "按月报送整改进展")
    workload = LastmileWorkload(system, ids)
    workload.run(len(ids))
    return workload


def open_raw(app: RawBaseline, aggregates: int, event_size: int, *, reload: bool) -> RawWorkload:
    """Tallies of their own, saved once each, whose events are stored in event_size bytes."""
    tallies = [Tally() for _ in range(aggregates)]
    app.save(*tallies)
    workload = RawWorkload(app, tallies, padded_note(app, NOTE, event_size), reload)
    workload.run(aggregates)
    return workload


def _order(count: int) -> OrderDraft:
    drafts = [
        FindingDraft(
            str(n), "", f"问题{n}：预算执行率低", "过程/预算执行率低", "立行立改", "加快执行"
        )
        for n in range(1, count + 1)
    ]
    return OrderDraft("泸财绩〔2025〕12号", EVALUATION, DEPARTMENT, drafts)
