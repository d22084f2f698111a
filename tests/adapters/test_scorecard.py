"""Every scorecard metric, computed by hand for a small scripted history, on each store.

The history runs across the 2025 National Day holiday (1-8 Oct off; Sun 28 Sep and Sat
11 Oct worked) and includes an extension, a rejection, a reopen and a withdrawal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from adapters.bootstrap import Lastmile
from adapters.projections.queries import LedgerFilter
from adapters.projections.scorecard import TOTAL
from domain.calendar import CHINA_TZ
from domain.values import Actor, Role
from domain.views import FindingDraft, OrderDraft
from tests.conftest import ManualClock

EVALUATOR = Actor("pingjia.li", Role.EVALUATOR)
VERIFIER = Actor("pingjia.wang", Role.EVALUATOR)
SUPERVISOR = Actor("jiandu.zhao", Role.SUPERVISOR)
SLJ_CLERK = Actor("slj.jingban", Role.DEPARTMENT)
JYJ_CLERK = Actor("jyj.jingban", Role.DEPARTMENT)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


def _finding(ref: str, kind: str = "immediate") -> FindingDraft:
    return FindingDraft(ref, "", f"问题{ref}", "过程/预算执行率低", kind, "整改")


def _order(lastmile: Lastmile, ref: str, department: str, drafts: list[FindingDraft]) -> list[Any]:
    return lastmile.app.issue_order(EVALUATOR, OrderDraft(ref, "LX-1", department, drafts))


def _submit(lastmile: Lastmile, finding: Any, clerk: Actor, sha: str, **figures: Any) -> None:
    lastmile.app.attach_evidence(finding, clerk, sha * 64, "凭证.pdf", 10, "application/pdf")
    lastmile.app.submit_rectification(finding, clerk, "已整改", [sha * 64], **figures)


class Script:
    """Plays the history below on the store, up to a moment; it can be resumed later."""

    def __init__(self, lastmile: Lastmile, clock: ManualClock) -> None:
        self.clock = clock
        self.steps = _history(lastmile)
        self.next_moment: datetime | None = next(self.steps)

    def play(self, until: str | None = None) -> None:
        end = at(until) if until else None
        while self.next_moment is not None and (end is None or self.next_moment <= end):
            self.clock.now = self.next_moment
            self.next_moment = next(self.steps, None)
        self.clock.now = end or at("2025-12-01 12:00")


def script(lastmile: Lastmile, clock: ManualClock) -> None:
    Script(lastmile, clock).play()


def _history(lastmile: Lastmile) -> Iterator[datetime]:
    """Yields each moment, then acts at it. Immediate findings are due 2025-10-25 (Sat), rolled
    to Mon 10-27; all must be signed for by 09-29."""
    app = lastmile.app
    yield at("2025-09-25 09:00")
    app.register_department(EVALUATOR, "SLJ", "泸溪县水利局")
    app.register_department(EVALUATOR, "JYJ", "泸溪县教育局")
    app.record_evaluation(
        EVALUATOR, ref="LX-1", title="评价", year=2025, object_type="project",
        department="SLJ", budget_amount=Decimal("1000000"), score=Decimal("78"),
    )  # fmt: skip
    f1, f2, f3, f4, f5, f6 = _order(
        lastmile, "泸财绩〔2025〕12号", "SLJ", [_finding(str(n)) for n in range(1, 4)]
        + [_finding("4", "phased"), _finding("5"), _finding("6")],
    )  # fmt: skip
    (g1,) = _order(lastmile, "泸财绩〔2025〕13号", "JYJ", [_finding("1")])

    yield at("2025-09-26 10:00")  # signed on time: F1 F2 F3 F6 G1
    for finding in (f1, f2, f3, f6):
        app.acknowledge(finding, SLJ_CLERK, "张建国")
    app.acknowledge(g1, JYJ_CLERK, "李红梅")
    yield at("2025-10-09 10:00")  # signed late: F4; F5 never signs
    app.acknowledge(f4, SLJ_CLERK, "张建国")
    yield at("2025-10-14 10:00")
    _submit(lastmile, f6, SLJ_CLERK, "6", amount_recovered=Decimal("50.00"))
    yield at("2025-10-15 10:00")
    app.verify(f6, VERIFIER, "通过")
    yield at("2025-10-20 10:00")
    _submit(lastmile, f1, SLJ_CLERK, "1", amount_recovered=Decimal("100.00"))
    _submit(lastmile, f2, SLJ_CLERK, "2", rules_improved=2)
    _submit(lastmile, g1, JYJ_CLERK, "7")  # the evaluator must verify it by 11-10
    app.request_extension(f3, SLJ_CLERK, at("2025-11-28 00:00").date(), "需要招标")
    yield at("2025-10-21 10:00")
    app.decide_extension(f3, EVALUATOR, 1, approved=True, note="同意")
    yield at("2025-10-22 10:00")
    app.verify(f1, VERIFIER, "通过")
    yield at("2025-10-24 10:00")
    app.reject(f2, VERIFIER, "缺少凭证")
    yield at("2025-10-29 10:00")
    app.escalate(f5, SUPERVISOR, 1, "逾期未签收", "manual")
    yield at("2025-10-30 10:00")
    app.submit_rectification(f2, SLJ_CLERK, "补充凭证", ["2" * 64], rules_improved=2)
    yield at("2025-11-03 10:00")
    app.verify(f2, VERIFIER, "通过")
    yield at("2025-11-05 10:00")
    app.reopen(f6, EVALUATOR, "回头看发现反弹")  # new cycle due 12-05
    yield at("2025-11-10 10:00")
    app.withdraw(f4, EVALUATOR, "问题不成立")
    yield at("2025-11-20 10:00")
    _submit(lastmile, f3, SLJ_CLERK, "3")
    app.escalate(f5, SUPERVISOR, 2, "逾期10个工作日以上", "manual")
    yield at("2025-11-21 10:00")
    app.record_interview(f5, SUPERVISOR, at("2025-11-21 00:00").date(), "约谈分管负责人")
    yield at("2025-11-25 10:00")
    app.verify(f3, VERIFIER, "通过")


def _rows(lastmile: Lastmile, moment: str) -> dict[tuple[str, str | None], dict[str, Any]]:
    lastmile.projections.catch_up()
    card = lastmile.read_models.scorecard(lastmile.read_models.moment(at(moment)))
    return {(row["department"], row["class"]): row for row in card}


# wd(a, b] worked out on the calendar: 09-25→10-22 = 15, →11-03 = 23, →11-25 = 39;
# 10-27→12-01 = 25 (F5 overdue); 11-10→12-01 = 15 (G1 waiting for the evaluator).
EXPECTED_SLJ = {
    "issued": 5,  # F4 is withdrawn: it counts nowhere
    "due": 4,  # F1 F2 F3 verified, F5 past its deadline; F6's new deadline is 12-05
    "verified": 3,
    "verified_on_time": 2,  # F1 (10-22 ≤ 10-27), F3 (11-25 ≤ extended 11-28); F2 11-03 late
    "verified_on_time_original": 1,  # only F1 is within the original 10-27
    "rectification_rate": 0.75,
    "on_time_rate": 0.5,
    "on_time_rate_original": 0.25,
    "closure_rate": 0.6,
    "acknowledged_on_time": 4,  # F1 F2 F3 F6 on 09-26; F5 never
    "acknowledgement_due": 5,
    "acknowledgement_rate": 0.8,
    "overdue": 1,  # F5
    "ageing": {"1-10": 0, "11-30": 1, ">30": 0},  # F5: 25 working days
    "average_rectification_days": round((15 + 23 + 39) / 3, 4),
    "submissions": 5,  # F1, F2 twice, F3, F6 (first cycle)
    "rejections": 1,
    "rejection_rate": 0.2,
    "extensions_requested": 1,
    "extensions_granted": 1,
    "escalations": {"1": 1, "2": 1, "3": 0},
    "interviews": 1,
    "decisions": 0,
    "amount_recovered": Decimal("100.00"),  # F6's 50.00 was reopened, so not counted
    "rules_improved": 2,
    "overdue_days_department": 25 + 3,  # F5 25; F2 resubmitted 10-30: 28, 29, 30 Oct
    "overdue_days_evaluator": 0,
}


def test_every_metric_matches_the_hand_computed_value(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    script(lastmile, clock)

    rows = _rows(lastmile, "2025-12-01 12:00")

    slj = rows[("SLJ", None)]
    assert {key: slj[key] for key in EXPECTED_SLJ} == EXPECTED_SLJ
    assert rows[("SLJ", "immediate")]["issued"] == 5
    assert ("SLJ", "phased") not in rows  # its only finding was withdrawn
    jyj = rows[("JYJ", None)]
    assert (jyj["due"], jyj["verified"], jyj["overdue"]) == (1, 0, 0)  # waits for the evaluator
    assert jyj["overdue_days_evaluator"] == 15
    total = rows[(TOTAL, None)]
    assert (total["issued"], total["due"], total["verified"]) == (6, 5, 3)
    assert (total["rectification_rate"], total["on_time_rate"], total["closure_rate"]) == (
        0.6,
        0.4,
        0.5,
    )
    assert total["rejection_rate"] == round(1 / 6, 4)
    assert (total["overdue_days_department"], total["overdue_days_evaluator"]) == (28, 15)


def test_a_report_as_of_a_past_moment_equals_the_one_computed_then(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    # Given the reports computed live on 31 Oct, from the read models of that day
    history = Script(lastmile, clock)
    history.play(until="2025-10-31 12:00")
    lastmile.projections.catch_up()
    live = _reports(lastmile, at("2025-10-31 12:00"))

    # When November happens, and the reports are computed again as of 31 Oct
    history.play()
    lastmile.projections.catch_up()
    again = _reports(lastmile, at("2025-10-31 12:00"))

    # Then they are the same, down to the digest of the log they were built from
    assert again == live
    assert again["moment"].position < lastmile.read_models.moment(clock.now).position
    assert _reports(lastmile, clock.now) != live


def _reports(lastmile: Lastmile, moment: datetime) -> dict[str, Any]:
    read = lastmile.read_models
    frozen = read.moment(moment)
    ledger = read.ledger(frozen).rows
    trail = read.trail(ledger[0]["id"], frozen)
    since = at("2025-09-01 00:00").date()
    return {
        "moment": replace(frozen, latest=False),  # how it was computed may differ; not what
        "scorecard": read.scorecard(frozen),
        "ledger": ledger,
        "trail": trail,
        "accountability": read.accountability(frozen, since, frozen.day, by_person=True),
    }


@pytest.mark.parametrize("moment", ["2025-10-01 00:00", "2025-10-31 12:00", "2025-12-01 12:00"])
def test_the_ledger_agrees_with_the_findings_themselves(
    lastmile: Lastmile, clock: ManualClock, moment: str
) -> None:
    script(lastmile, clock)
    lastmile.projections.catch_up()

    ledger = lastmile.read_models.ledger(lastmile.read_models.moment(at(moment))).rows

    for row in ledger:
        view = lastmile.app.finding(row["id"], as_of=at(moment))
        assert (row["status"], row["due_on"], row["original_due_on"]) == (
            view.status,
            view.due_on,
            view.original_due_on,
        )
        assert (row["overdue"], row["overdue_days"]) == (view.overdue, view.overdue_days)
        assert (row["rejections"], row["escalation_level"]) == (
            view.rejections,
            view.escalation_level,
        )


def test_the_ledger_filters_and_pages(lastmile: Lastmile, clock: ManualClock) -> None:
    script(lastmile, clock)
    lastmile.projections.catch_up()
    read = lastmile.read_models
    moment = read.moment(at("2025-12-01 12:00"))

    def refs(where: LedgerFilter, page: int = 1, size: int = 50) -> list[str]:
        return [
            f"{r['department']}-{r['ref']}" for r in read.ledger(moment, where, page, size).rows
        ]

    assert refs(LedgerFilter()) == ["JYJ-1", *(f"SLJ-{n}" for n in range(1, 7))]
    assert refs(LedgerFilter(department="jyj")) == ["JYJ-1"]
    assert refs(LedgerFilter(status="verified")) == ["SLJ-1", "SLJ-2", "SLJ-3"]
    assert refs(LedgerFilter(overdue=True)) == ["SLJ-5"]
    assert refs(LedgerFilter(rectification_class="phased")) == ["SLJ-4"]
    assert refs(LedgerFilter(text="13号")) == ["JYJ-1"]
    assert refs(LedgerFilter(text="%")) == []  # a wildcard typed by a user is just a character
    assert refs(LedgerFilter(), page=2, size=3) == ["SLJ-3", "SLJ-4", "SLJ-5"]
    assert read.ledger(moment, LedgerFilter(), 1, 3).total == 7
    late = read.ledger(moment, LedgerFilter(overdue=True)).rows[0]
    assert (late["overdue_days"], late["evaluation_grade"], late["department_name"]) == (
        25,
        "中",
        "泸溪县水利局",
    )


def test_the_accountability_trail_counts_warnings_and_steps_in_the_period(
    lastmile: Lastmile, clock: ManualClock
) -> None:
    script(lastmile, clock)
    lastmile.projections.catch_up()
    read = lastmile.read_models
    moment = read.moment(at("2025-12-01 12:00"))

    november = read.accountability(
        moment, at("2025-11-01 00:00").date(), at("2025-11-30 00:00").date()
    )
    whole = read.accountability(
        moment, at("2025-09-01 00:00").date(), at("2025-11-30 00:00").date()
    )

    slj = {row["department"]: row for row in november}["SLJ"]
    # November: F5 escalated to level 2 and its head interviewed; nothing fell due
    assert (slj["findings"], slj["late"]) == (5, 0)
    assert (slj["escalations"], slj["interviews"], slj["rejections"]) == (
        {"1": 0, "2": 1, "3": 0},
        1,
        0,
    )
    slj = {row["department"]: row for row in whole}["SLJ"]
    # Since September: F2 (verified late) and F5 (never done) missed 10-27; one rejection
    assert (slj["late"], slj["rejections"], slj["escalations"]["1"]) == (2, 1, 1)
    finding_trail = read.trail(
        read.ledger(moment, LedgerFilter(overdue=True)).rows[0]["id"], moment
    )
    assert [(e["type"], e["actor"], e["level"]) for e in finding_trail] == [
        ("Issued", "pingjia.li", None),
        ("Escalated", "jiandu.zhao", 1),
        ("Escalated", "jiandu.zhao", 2),
        ("InterviewRecorded", "jiandu.zhao", None),
    ]
    assert finding_trail[1]["text"] == "逾期未签收"
