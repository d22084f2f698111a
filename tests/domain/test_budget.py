"""Budget linkage: the rule table, the one suggestion per evaluation, and parsing the policy."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import pytest

from adapters.policy import load_linkage_policy
from domain.budget import (
    EvaluationFacts,
    FindingFact,
    LinkageAction,
    LinkagePolicy,
    cut_amount_for,
    cutoff_for,
    cutoff_moment,
    suggestion_for,
)
from domain.calendar import CHINA_TZ
from domain.errors import ValidationError
from domain.policies import PolicyError

POLICY = load_linkage_policy()
ORDER = "泸财绩〔2025〕12号"
NS = UUID(int=0)


def finding(ref: str, verified: bool = False, withdrawn: bool = False) -> FindingFact:
    return FindingFact(uuid5(NS, ref), ref, ORDER, verified, withdrawn)


def facts(grade: str = "良", *findings: FindingFact, **overrides: Any) -> EvaluationFacts:
    fields: dict[str, Any] = {
        "ref": "LX-2025-PJ-001",
        "title": "2025 年农田水利项目绩效评价",
        "department": "SLJ",
        "year": 2025,
        "grade": grade,
        "score": Decimal("85.0"),
        "budget_amount": Decimal("1234567.89"),
        "findings": findings,
    }
    fields.update(overrides)
    return EvaluationFacts(**fields)


# -- the packaged rule table --------------------------------------------------------------

HOLD = LinkageAction.HOLD_UNTIL_RECTIFIED


@pytest.mark.parametrize(
    ("grade", "unverified", "rule_id", "action", "cut_amount"),
    [
        # 1,234,567.89 × 10% = 123,456.789 → 123,456.79; × 100% is the whole budget
        ("优", False, "R-GRADE-优", LinkageAction.PRIORITISE, None),
        ("优", True, "R-UNVERIFIED", HOLD, "123456.79"),
        ("良", False, "R-GRADE-良", LinkageAction.MAINTAIN, None),
        ("良", True, "R-UNVERIFIED", HOLD, "123456.79"),
        ("中", False, "R-GRADE-中", LinkageAction.CUT, "123456.79"),
        ("中", True, "R-UNVERIFIED", HOLD, "123456.79"),
        ("差", False, "R-GRADE-差", LinkageAction.CANCEL, "1234567.89"),
        ("差", True, "R-GRADE-差", LinkageAction.CANCEL, "1234567.89"),
    ],
)
def test_suggestion_follows_the_rule_table(
    grade: str, unverified: bool, rule_id: str, action: LinkageAction, cut_amount: str | None
) -> None:
    findings = (finding("1", verified=not unverified),)
    suggestion = suggestion_for(facts(grade, *findings), 2026, POLICY)
    assert (suggestion.rule_id, suggestion.action) == (rule_id, action)
    assert suggestion.cut_amount == (Decimal(cut_amount) if cut_amount else None)
    assert suggestion.unverified == ((f"{ORDER} #1",) if unverified else ())


def test_cut_amount_rounds_half_up_to_the_cent() -> None:
    # 100.05 × 10% = 10.005: half up gives 10.01 (half even would give 10.00)
    assert cut_amount_for(Decimal("100.05"), Decimal("10")) == Decimal("10.01")
    assert cut_amount_for(Decimal("0.05"), Decimal("10")) == Decimal("0.01")
    assert cut_amount_for(Decimal("100.05"), None) is None


def test_suggestion_names_its_rule_policy_version_and_basis() -> None:
    suggestion = suggestion_for(facts("中"), 2026, POLICY)
    assert suggestion.policy_version == "2025.1"
    assert suggestion.text == "核减"
    assert suggestion.cut_percent == Decimal("10")
    assert "Lastmile 默认值，可调整" in suggestion.basis
    assert (suggestion.evaluation_ref, suggestion.department, suggestion.budget_year) == (
        "LX-2025-PJ-001",
        "SLJ",
        2026,
    )


def test_packaged_rules_say_where_they_are_lastmile_defaults() -> None:
    assert (POLICY.version, POLICY.cutoff, POLICY.evaluation_year_lag) == ("2025.1", (10, 31), 1)
    assert all("Lastmile 默认值，可调整" in r.basis for r in POLICY.rules)


# -- which findings count -----------------------------------------------------------------


def test_withdrawn_findings_count_nowhere() -> None:
    suggestion = suggestion_for(facts("良", finding("1", withdrawn=True)), 2026, POLICY)
    assert suggestion.rule_id == "R-GRADE-良"
    assert suggestion.finding_ids == ()
    assert suggestion.inputs["findings_withdrawn"] == f"{ORDER} #1"
    assert suggestion.inputs["findings_unverified_at_cutoff"] == "无"


def test_findings_already_decided_are_not_counted_again() -> None:
    one, two = finding("1"), finding("2")
    # Step 1: the only unverified finding is already covered by a cut this budget year.
    alone = suggestion_for(facts("良", one), 2026, POLICY, frozenset({one.id}))
    assert alone.rule_id == "R-GRADE-良"
    assert alone.finding_ids == ()
    # Step 2: another unverified finding still triggers the rule, and only it is listed.
    both = suggestion_for(facts("良", one, two), 2026, POLICY, frozenset({one.id}))
    assert both.rule_id == "R-UNVERIFIED"
    assert (both.finding_ids, both.unverified) == ((two.id,), (f"{ORDER} #2",))
    assert both.inputs["findings_already_decided"] == f"{ORDER} #1"


def test_inputs_contain_everything_the_rule_looked_at() -> None:
    evaluation = facts(
        "中", finding("1", verified=True), finding("2"), finding("3", withdrawn=True)
    )
    suggestion = suggestion_for(evaluation, 2026, POLICY)
    assert dict(suggestion.inputs) == {
        "budget_year": "2026",
        "cutoff": "2025-10-31",
        "evaluation_year": "2025",
        "evaluation_year_lag": "1",
        "grade": "中",
        "score": "85.0",
        "budget_amount": "1234567.89",
        "findings_withdrawn": f"{ORDER} #3",
        "findings_verified_by_cutoff": f"{ORDER} #1",
        "findings_already_decided": "无",
        "findings_unverified_at_cutoff": f"{ORDER} #2",
        "unverified_findings": "true",
        "rules_applying": "R-GRADE-中 (severity 30)、R-UNVERIFIED (severity 40)",
        "cut_formula": "budget_amount × cut_percent ÷ 100, ROUND_HALF_UP to 0.01",
    }


# -- severity -----------------------------------------------------------------------------


def test_the_most_severe_rule_wins_wherever_it_stands_in_the_table() -> None:
    reversed_table = replace(POLICY, rules=tuple(reversed(POLICY.rules)))
    suggestion = suggestion_for(facts("中", finding("1")), 2026, reversed_table)
    assert suggestion.rule_id == "R-UNVERIFIED"


def test_overlapping_rules_may_not_share_a_severity() -> None:
    data = valid()
    data["rules"][4]["severity"] = 30  # R-UNVERIFIED would tie with R-GRADE-中
    with pytest.raises(PolicyError, match=r"R-GRADE-中 and R-UNVERIFIED .* share severity 30"):
        LinkagePolicy.from_mapping(data)


def test_rules_that_never_meet_may_share_a_severity() -> None:
    data = valid()
    data["rules"][1]["severity"] = 10  # 优 and 良 never apply to the same evaluation
    assert LinkagePolicy.from_mapping(data).rules[1].severity == 10


# -- which evaluations, which cut-off -----------------------------------------------------


def test_cutoff_is_in_the_year_before_the_budget_year() -> None:
    assert cutoff_for(2026, POLICY) == date(2025, 10, 31)
    assert cutoff_moment(2026, POLICY) == datetime(2025, 10, 31, 23, 59, 59, 999999, CHINA_TZ)
    custom = LinkagePolicy.from_mapping({**valid(), "cutoff": "12-15"})
    assert cutoff_for(2030, custom) == date(2029, 12, 15)


def test_cutoff_and_lag_default_to_october_31_and_one_year() -> None:
    data = valid()
    del data["cutoff"], data["evaluation_year_lag"]
    policy = LinkagePolicy.from_mapping(data)
    assert (policy.cutoff, policy.evaluation_year_lag) == ((10, 31), 1)


def test_an_evaluation_feeds_only_the_budget_year_after_it() -> None:
    with pytest.raises(ValidationError, match="the 2027 budget takes evaluations of 2026"):
        suggestion_for(facts("良"), 2027, POLICY)


def test_an_unknown_grade_is_refused() -> None:
    with pytest.raises(ValidationError, match="grade 'A'"):
        suggestion_for(facts("A"), 2026, POLICY)


# -- parsing ------------------------------------------------------------------------------


def valid() -> dict[str, Any]:
    """The packaged table as a mapping, to break one key at a time."""
    rules = [
        {"id": "R-GRADE-优", "grade": "优", "action": "prioritise", "severity": 10},
        {"id": "R-GRADE-良", "grade": "良", "action": "maintain", "severity": 20},
        {"id": "R-GRADE-中", "grade": "中", "action": "cut", "cut_percent": 10, "severity": 30},
        {"id": "R-GRADE-差", "grade": "差", "action": "cancel", "cut_percent": 100, "severity": 50},
        {"id": "R-UNVERIFIED", "unverified_findings": True, "action": "hold_until_rectified"}
        | {"cut_percent": "10", "severity": 40},
    ]
    for rule in rules:
        rule.update(suggestion=f"suggestion {rule['id']}", basis=f"basis {rule['id']}")
    return copy.deepcopy(
        {"version": "t.1", "cutoff": "10-31", "evaluation_year_lag": 1, "rules": rules}
    )


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ((), {"verison": "x"}, r"budget_linkage\.verison: unknown key"),
        (("version",), " ", r"budget_linkage\.version: expected a non-empty string"),
        (("cutoff",), "10/31", r"budget_linkage\.cutoff: expected a month and day as MM-DD"),
        (("cutoff",), "02-29", r"budget_linkage\.cutoff: .* got '02-29'"),
        (("evaluation_year_lag",), True, r"budget_linkage\.evaluation_year_lag: expected"),
        (("rules",), [], r"budget_linkage\.rules: expected \[\[budget_linkage\.rules\]\]"),
        (("rules", 0, "serverity"), 1, r"rules #1 \(R-GRADE-优\)\.serverity: unknown key"),
        (("rules", 0, "id"), "R 1", r"rules #1\.id: expected 1-64 characters without spaces"),
        (("rules", 1, "grade"), "A", r"rules #2 \(R-GRADE-良\)\.grade: expected one of"),
        (("rules", 1, "action"), "freeze", r"rules #2 \(R-GRADE-良\)\.action: expected one of"),
        (("rules", 1, "cut_percent"), 5, r"\(R-GRADE-良\)\.cut_percent: action 'maintain' cuts"),
        (("rules", 2, "cut_percent"), 0, r"\(R-GRADE-中\)\.cut_percent: action 'cut' needs"),
        (("rules", 3, "cut_percent"), "101", r"\(R-GRADE-差\)\.cut_percent: .* got '101'"),
        (("rules", 3, "severity"), -1, r"\(R-GRADE-差\)\.severity: expected a whole number"),
        (("rules", 4, "unverified_findings"), "yes", r"\.unverified_findings: expected true"),
        (("rules", 4, "basis"), "", r"\(R-UNVERIFIED\)\.basis: expected a non-empty string"),
        (("rules", 4, "id"), "R-GRADE-优", r"rules: id 'R-GRADE-优' is used twice"),
    ],
)
def test_from_mapping_names_the_bad_key(path: tuple[Any, ...], value: Any, message: str) -> None:
    data = valid()
    if path:
        *parents, key = path
        target: Any = data
        for step in parents:
            target = target[step]
        target[key] = value
    else:
        data.update(value)
    with pytest.raises(PolicyError, match=message):
        LinkagePolicy.from_mapping(data)


def test_a_misspelt_rule_id_is_reported_as_the_unknown_key() -> None:
    data = valid()
    data["rules"][0]["idd"] = data["rules"][0].pop("id")
    with pytest.raises(PolicyError, match=r"budget_linkage\.rules #1\.idd: unknown key"):
        LinkagePolicy.from_mapping(data)


def test_every_grade_with_and_without_unverified_findings_needs_a_rule() -> None:
    data = valid()
    # Step 1: 优 only without unverified findings, and no rule for unverified findings.
    data["rules"][0]["unverified_findings"] = False
    del data["rules"][4]
    with pytest.raises(PolicyError, match="no rule applies to grade 优 with unverified findings"):
        LinkagePolicy.from_mapping(data)


def test_loader_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[budget_linkage]\nversion = "x"\ncutoff = "13-01"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"policy file {path}: budget_linkage\.cutoff"):
        load_linkage_policy(path)
    path.write_text('version = "x"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="budget_linkage: expected a section"):
        load_linkage_policy(path)
