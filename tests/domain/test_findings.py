"""The Finding aggregate's main path: issue, acknowledge, progress, evidence, submit, verify."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from domain.errors import TransitionError, ValidationError
from domain.findings import Finding, finding_id
from domain.values import Status
from tests.domain.builders import (
    ACKNOWLEDGE_DEADLINE,
    CLERK,
    DEADLINE,
    EVALUATOR,
    ISSUED_AT,
    SHA_A,
    SHA_B,
    SHA_C,
    STATES,
    VERIFIER,
    acknowledged,
    assert_refused,
    at,
    attach,
    events,
    issue,
    issued,
    recorded,
    rectified,
    submit,
)

# -- issue --------------------------------------------------------------------------------


def test_issue_records_the_order_fields_and_both_deadline_calculations() -> None:
    finding = issue()

    issued_event = recorded(finding, Finding.Issued, EVALUATOR, ISSUED_AT)
    assert issued_event.order_ref == "泸财绩〔2025〕12号"
    assert issued_event.deadline == DEADLINE
    assert issued_event.acknowledge_deadline == ACKNOWLEDGE_DEADLINE
    assert finding.version == 1
    assert finding.status is Status.ISSUED
    assert finding.issued_by == EVALUATOR.user_id
    assert finding.deadline == finding.original_deadline == DEADLINE
    assert (finding.cycle, finding.escalation_level, finding.rejections) == (1, 0, 0)


def test_finding_id_is_deterministic_from_order_number_and_finding_ref() -> None:
    finding = issue()

    assert finding.id == finding_id("泸财绩〔2025〕12号", "1")
    assert finding_id(" 泸财绩〔2025〕12号 ", " 1 ") == finding.id
    assert finding_id("泸财绩〔2025〕12号", "2") != finding.id
    assert finding_id("泸财绩〔2025〕13号", "1") != finding.id


# -- acknowledge --------------------------------------------------------------------------


def test_acknowledge_names_the_responsible_person_and_plan() -> None:
    finding = issued()

    # The department signs for the order.
    finding.acknowledge(CLERK, at("2025-09-26 10:00"), " 张三 ", "按月报送")

    event = recorded(finding, Finding.Acknowledged, CLERK, at("2025-09-26 10:00"))
    assert (event.responsible_person, event.plan) == ("张三", "按月报送")
    assert finding.status is Status.ACKNOWLEDGED
    assert finding.responsible_person == "张三"
    assert finding.acknowledged_at == at("2025-09-26 10:00")


@pytest.mark.parametrize("state", ["acknowledged", "rectified", "verified", "withdrawn"])
def test_acknowledge_is_refused_when_not_issued(state: str) -> None:
    finding = STATES[state]()

    assert_refused(
        finding,
        lambda f: f.acknowledge(CLERK, at("2025-10-20 10:00"), "张三", ""),
        TransitionError,
        f"Cannot acknowledge: the finding is {state}, it must be issued",
    )


def test_acknowledge_refuses_a_blank_responsible_person() -> None:
    assert_refused(
        issued(),
        lambda f: f.acknowledge(CLERK, at("2025-09-26 10:00"), "  ", ""),
        ValidationError,
        "responsible person is required",
    )


# -- progress -----------------------------------------------------------------------------


@pytest.mark.parametrize("percent", [0, 40, 100])
def test_report_progress_records_note_and_percent(percent: int) -> None:
    finding = acknowledged()

    finding.report_progress(CLERK, at("2025-10-09 10:00"), "已完成资金清理", percent)

    event = recorded(finding, Finding.ProgressReported, CLERK, at("2025-10-09 10:00"))
    assert (event.note, event.percent) == ("已完成资金清理", percent)
    assert finding.progress_percent == percent


@pytest.mark.parametrize("percent", [-1, 101, 1000])
def test_report_progress_refuses_a_percent_outside_0_to_100(percent: int) -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.report_progress(CLERK, at("2025-10-09 10:00"), "进展", percent),
        ValidationError,
        f"between 0 and 100 percent, not {percent}",
    )


def test_report_progress_refuses_a_blank_note() -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.report_progress(CLERK, at("2025-10-09 10:00"), "", 10),
        ValidationError,
        "progress note is required",
    )


@pytest.mark.parametrize("state", ["issued", "rectified", "verified", "withdrawn"])
def test_report_progress_is_refused_when_not_acknowledged(state: str) -> None:
    assert_refused(
        STATES[state](),
        lambda f: f.report_progress(CLERK, at("2025-10-20 10:00"), "进展", 50),
        TransitionError,
        f"Cannot report progress: the finding is {state}, it must be acknowledged",
    )


# -- evidence -----------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["issued", "acknowledged", "rectified"])
def test_attach_evidence_records_the_file_while_open(state: str) -> None:
    finding = STATES[state]()

    finding.attach_evidence(CLERK, at("2025-10-11 10:00"), SHA_B, "收回凭证.pdf", 2048, "a/pdf")

    event = recorded(finding, Finding.EvidenceAttached, CLERK, at("2025-10-11 10:00"))
    assert (event.sha256, event.name, event.size, event.media_type) == (
        SHA_B,
        "收回凭证.pdf",
        2048,
        "a/pdf",
    )
    assert finding.evidence[SHA_B].cycle == 1
    assert finding.evidence[SHA_B].attached_at == at("2025-10-11 10:00")


def test_attach_evidence_records_nothing_for_the_same_file_twice_in_one_cycle() -> None:
    finding = acknowledged()
    attach(finding, SHA_A)
    events(finding)
    version = finding.version

    # The same content again, even under another name, adds nothing to the trail.
    finding.attach_evidence(CLERK, at("2025-10-10 10:00"), SHA_A, "copy.pdf", 1, "a/pdf")

    assert finding.pending_events == []
    assert finding.version == version
    assert finding.evidence[SHA_A].name == "aaaa.pdf"


@pytest.mark.parametrize(
    "sha256",
    [
        "A" * 64,  # uppercase
        "a" * 63,  # too short
        "a" * 65,  # too long
        "g" * 64,  # not hex
        "",
    ],
)
def test_attach_evidence_refuses_a_malformed_sha256(sha256: str) -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.attach_evidence(CLERK, at("2025-10-09 10:00"), sha256, "x.pdf", 1, "a/pdf"),
        ValidationError,
        "is not a SHA-256 digest",
    )


@pytest.mark.parametrize(
    ("name", "size", "media_type", "message"),
    [
        ("x.pdf", -1, "a/pdf", "size cannot be negative"),
        (" ", 1, "a/pdf", "file name is required"),
        ("x.pdf", 1, "", "media type is required"),
    ],
)
def test_attach_evidence_refuses_bad_file_details(
    name: str, size: int, media_type: str, message: str
) -> None:
    assert_refused(
        acknowledged(),
        lambda f: f.attach_evidence(CLERK, at("2025-10-09"), SHA_B, name, size, media_type),
        ValidationError,
        message,
    )


@pytest.mark.parametrize("state", ["verified", "withdrawn"])
def test_attach_evidence_is_refused_when_closed(state: str) -> None:
    assert_refused(
        STATES[state](),
        lambda f: f.attach_evidence(CLERK, at("2025-10-20 10:00"), SHA_B, "x.pdf", 1, "a/pdf"),
        TransitionError,
        f"Cannot attach evidence: the finding is {state}",
    )


# -- submit -------------------------------------------------------------------------------


def test_submit_rectification_records_measures_outcomes_and_evidence() -> None:
    finding = acknowledged()
    attach(finding, SHA_A)
    attach(finding, SHA_B)
    events(finding)

    # A repeated sha256 in the list is recorded once, in the order given.
    finding.submit_rectification(
        CLERK, at("2025-10-10 10:00"), "收回资金", [SHA_B, SHA_A, SHA_B], Decimal("5.50"), 3
    )

    event = recorded(finding, Finding.Rectified, CLERK, at("2025-10-10 10:00"))
    assert event.measures == "收回资金"
    assert tuple(event.evidence) == (SHA_B, SHA_A)
    assert (event.amount_recovered, event.rules_improved) == (Decimal("5.50"), 3)
    assert finding.status is Status.RECTIFIED
    assert finding.submissions == 1
    assert finding.rectified_at == at("2025-10-10 10:00")


def test_submit_rectification_needs_at_least_one_evidence_item() -> None:
    finding = acknowledged()
    attach(finding, SHA_A)
    events(finding)

    assert_refused(
        finding,
        lambda f: submit(f, evidence=[]),
        ValidationError,
        "at least one evidence item",
    )


def test_submit_rectification_refuses_evidence_that_was_never_attached() -> None:
    finding = acknowledged()
    attach(finding, SHA_A)
    events(finding)

    error = assert_refused(
        finding,
        lambda f: submit(f, evidence=[SHA_A, SHA_C]),
        ValidationError,
        "Evidence not attached to this finding",
    )
    assert SHA_C in str(error)
    assert SHA_A not in str(error)


@pytest.mark.parametrize(
    ("amount", "rules"), [(Decimal("-0.01"), 0), (Decimal("0"), -1)], ids=["amount", "rules"]
)
def test_submit_rectification_refuses_negative_outcome_figures(amount: Decimal, rules: int) -> None:
    finding = acknowledged()
    attach(finding, SHA_A)
    events(finding)

    assert_refused(
        finding,
        lambda f: f.submit_rectification(CLERK, at("2025-10-10"), "措施", [SHA_A], amount, rules),
        ValidationError,
        "cannot be negative",
    )


def test_submit_rectification_refuses_blank_measures() -> None:
    finding = acknowledged()
    attach(finding, SHA_A)
    events(finding)

    assert_refused(
        finding,
        lambda f: f.submit_rectification(CLERK, at("2025-10-10"), " ", [SHA_A], Decimal(0), 0),
        ValidationError,
        "measures taken is required",
    )


@pytest.mark.parametrize("state", ["issued", "rectified", "verified", "withdrawn"])
def test_submit_rectification_is_refused_when_not_acknowledged(state: str) -> None:
    # The status is checked before the evidence list.
    assert_refused(
        STATES[state](),
        lambda f: submit(f, evidence=[SHA_A], when="2025-10-20"),
        TransitionError,
        f"Cannot submit a rectification: the finding is {state}, it must be acknowledged",
    )


# -- verify and reject --------------------------------------------------------------------


def test_verify_closes_the_finding() -> None:
    finding = rectified()

    finding.verify(VERIFIER, at("2025-10-15 10:00"), " 材料齐全 ")

    event = recorded(finding, Finding.Verified, VERIFIER, at("2025-10-15 10:00"))
    assert event.note == "材料齐全"
    assert finding.status is Status.VERIFIED
    assert finding.verified_at == at("2025-10-15 10:00")


def test_the_issuing_evaluator_may_verify() -> None:
    finding = rectified()

    finding.verify(EVALUATOR, at("2025-10-15 10:00"), "")

    assert finding.status is Status.VERIFIED


def test_reject_sends_the_finding_back_and_counts_rejections() -> None:
    finding = rectified()

    # First rejection.
    finding.reject(VERIFIER, at("2025-10-15 10:00"), "佐证材料不完整")
    event = recorded(finding, Finding.Rejected, VERIFIER, at("2025-10-15 10:00"))
    assert event.reason == "佐证材料不完整"
    assert finding.status is Status.ACKNOWLEDGED
    assert finding.rejections == 1

    # The department resubmits with the same evidence; the evaluator rejects again.
    submit(finding, when="2025-10-16")
    finding.reject(VERIFIER, at("2025-10-17 10:00"), "仍未收回资金")
    assert [type(e) for e in events(finding)] == [Finding.Rectified, Finding.Rejected]
    assert (finding.rejections, finding.submissions) == (2, 2)


def test_reject_needs_a_reason() -> None:
    assert_refused(
        rectified(),
        lambda f: f.reject(VERIFIER, at("2025-10-15 10:00"), "  "),
        ValidationError,
        "reason for sending it back is required",
    )


VERDICTS: dict[str, Callable[[Finding], object]] = {
    "verify": lambda f: f.verify(VERIFIER, at("2025-10-20 10:00"), "通过"),
    "reject": lambda f: f.reject(VERIFIER, at("2025-10-20 10:00"), "不通过"),
}


@pytest.mark.parametrize("verdict", VERDICTS)
@pytest.mark.parametrize("state", ["issued", "acknowledged", "verified", "withdrawn"])
def test_verify_and_reject_are_refused_when_not_rectified(verdict: str, state: str) -> None:
    assert_refused(
        STATES[state](),
        VERDICTS[verdict],
        TransitionError,
        f"Cannot {verdict}: the finding is {state}, it must be rectified",
    )
