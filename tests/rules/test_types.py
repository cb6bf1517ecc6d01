"""Every rule type at its boundary: exactly on the line passes, one yen / one day off fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from grants.rules import TraceRow, VcCertification

EvaluateOne = Callable[..., TraceRow]

D = date
ONE_OF_STAGE = {"fact": "stage", "values": ["non_clinical", "phase1", "phase2", "exploratory"]}
LEAD_MIN = {"fact": "lead_vc_committed", "amount": 1_000_000_000}
SIZE_MAX = {"fact": "eligible_cost", "amount": 10_000_000_000}
VC_THIRD = {"numerator": "vc_committed_total", "denominator": "eligible_cost", "ratio": "1/3"}
SUBSIDY_TWO_THIRDS = {
    "numerator": "requested_subsidy",
    "denominator": "eligible_cost",
    "ratio": "2/3",
}
END_BY = {"fact": "project_end", "date": "2031-09-30"}
START_FROM = {"fact": "project_start", "date": "2026-04-01"}

CASES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("one_of", ONE_OF_STAGE, {"stage": "phase1"}, "pass"),
    ("one_of", ONE_OF_STAGE, {"stage": "discovery"}, "fail"),
    ("one_of", {"fact": "vc_count", "values": [2, 3]}, {"vc_count": 3}, "pass"),
    ("equals", {"fact": "listed", "value": False}, {"listed": False}, "pass"),
    ("equals", {"fact": "listed", "value": False}, {"listed": True}, "fail"),
    ("equals", {"fact": "theme", "value": "amr"}, {"theme": 5}, "fail"),
    ("min_amount", LEAD_MIN, {"lead_vc_committed": 1_000_000_000}, "pass"),
    ("min_amount", LEAD_MIN, {"lead_vc_committed": 999_999_999}, "fail"),
    ("min_amount", LEAD_MIN, {"lead_vc_committed": 10**13}, "pass"),
    ("max_amount", SIZE_MAX, {"eligible_cost": 10_000_000_000}, "pass"),
    ("max_amount", SIZE_MAX, {"eligible_cost": 10_000_000_001}, "fail"),
    ("max_amount", SIZE_MAX, {"eligible_cost": 0}, "pass"),
    # Exactly 1/3 passes; one yen less fails.
    ("min_ratio", VC_THIRD, {"vc_committed_total": 2 * 10**9, "eligible_cost": 6 * 10**9}, "pass"),
    (
        "min_ratio",
        VC_THIRD,
        {"vc_committed_total": 2 * 10**9 - 1, "eligible_cost": 6 * 10**9},
        "fail",
    ),
    # 1/3 of 100 yen is 33.33...: 34 is enough, 33 is not.
    ("min_ratio", VC_THIRD, {"vc_committed_total": 34, "eligible_cost": 100}, "pass"),
    ("min_ratio", VC_THIRD, {"vc_committed_total": 33, "eligible_cost": 100}, "fail"),
    # At 10^13 yen, 1/3 is 3,333,333,333,333.33...
    (
        "min_ratio",
        VC_THIRD,
        {"vc_committed_total": 3_333_333_333_334, "eligible_cost": 10**13},
        "pass",
    ),
    (
        "min_ratio",
        VC_THIRD,
        {"vc_committed_total": 3_333_333_333_333, "eligible_cost": 10**13},
        "fail",
    ),
    ("min_ratio", VC_THIRD, {"vc_committed_total": 0, "eligible_cost": 0}, "pass"),
    (
        "max_ratio",
        SUBSIDY_TWO_THIRDS,
        {"requested_subsidy": 4 * 10**9, "eligible_cost": 6 * 10**9},
        "pass",
    ),
    (
        "max_ratio",
        SUBSIDY_TWO_THIRDS,
        {"requested_subsidy": 4 * 10**9 + 1, "eligible_cost": 6 * 10**9},
        "fail",
    ),
    ("max_ratio", SUBSIDY_TWO_THIRDS, {"requested_subsidy": 66, "eligible_cost": 100}, "pass"),
    ("max_ratio", SUBSIDY_TWO_THIRDS, {"requested_subsidy": 67, "eligible_cost": 100}, "fail"),
    (
        "max_ratio",
        {**SUBSIDY_TWO_THIRDS, "ratio": "25%"},
        {"requested_subsidy": 25, "eligible_cost": 100},
        "pass",
    ),
    (
        "max_ratio",
        {**SUBSIDY_TWO_THIRDS, "ratio": "25%"},
        {"requested_subsidy": 26, "eligible_cost": 100},
        "fail",
    ),
    ("date_before", END_BY, {"project_end": D(2031, 9, 30)}, "pass"),
    ("date_before", END_BY, {"project_end": D(2031, 10, 1)}, "fail"),
    ("date_after", START_FROM, {"project_start": D(2026, 4, 1)}, "pass"),
    ("date_after", START_FROM, {"project_start": D(2026, 3, 31)}, "fail"),
    (
        "prior_milestones_approved",
        {},
        {"prior_milestones_total": 2, "prior_milestones_approved": 2},
        "pass",
    ),
    (
        "prior_milestones_approved",
        {},
        {"prior_milestones_total": 2, "prior_milestones_approved": 1},
        "fail",
    ),
    (
        "prior_milestones_approved",
        {},
        {"prior_milestones_total": 0, "prior_milestones_approved": 0},
        "pass",
    ),
    ("review_quorum", {"min": 2}, {"eligible_approvals": 2}, "pass"),
    ("review_quorum", {"min": 2}, {"eligible_approvals": 1, "eligible_reviewers": 3}, "fail"),
    ("within_budget_pool", {}, {"tranche_amount": 10**13, "pool_available": 10**13}, "pass"),
    ("within_budget_pool", {}, {"tranche_amount": 10**13 + 1, "pool_available": 10**13}, "fail"),
    (
        "pro_rata_paid_in",
        {"ratio": "1/2"},
        {"paid_in_total": 50, "cumulative_subsidy": 100},
        "pass",
    ),
    (
        "pro_rata_paid_in",
        {"ratio": "1/2"},
        {"paid_in_total": 49, "cumulative_subsidy": 100},
        "fail",
    ),
    # Half of 101 is 50.5: 50 yen paid in is not enough.
    (
        "pro_rata_paid_in",
        {"ratio": "1/2"},
        {"paid_in_total": 50, "cumulative_subsidy": 101},
        "fail",
    ),
    (
        "pro_rata_paid_in",
        {"ratio": "1/2"},
        {"paid_in_total": 51, "cumulative_subsidy": 101},
        "pass",
    ),
]


@pytest.mark.parametrize(("rule_type", "params", "facts", "outcome"), CASES)
def test_rule_type_boundaries(
    evaluate_one: EvaluateOne,
    rule_type: str,
    params: dict[str, Any],
    facts: dict[str, Any],
    outcome: str,
) -> None:
    assert evaluate_one(rule_type, params, facts).outcome == outcome


def test_min_ratio_reports_the_numbers_it_compared(evaluate_one: EvaluateOne) -> None:
    facts = {"vc_committed_total": 1_999_999_999, "eligible_cost": 6_000_000_000}
    row = evaluate_one("min_ratio", VC_THIRD, facts)
    assert row.compared == {
        "fact": "vc_committed_total",
        "base_fact": "eligible_cost",
        "actual": 1_999_999_999,
        "base": 6_000_000_000,
        "ratio": "1/3",
        "required": 2_000_000_000,
    }
    assert "19億9,999万9,999円" in row.message["ja"]
    assert "1/3" in row.message["ja"]
    assert "¥2,000,000,000" in row.message["en"]


def test_min_amount_reports_actual_and_required(evaluate_one: EvaluateOne) -> None:
    row = evaluate_one("min_amount", LEAD_MIN, {"lead_vc_committed": 999_999_999})
    assert row.compared == {
        "fact": "lead_vc_committed",
        "actual": 999_999_999,
        "required": 1_000_000_000,
    }
    assert row.message == {
        "ja": "リードVC出資額: 9億9,999万9,999円(下限 10億円)",
        "en": "Lead VC commitment: ¥999,999,999 (minimum ¥1,000,000,000)",
    }


def test_dates_are_compared_and_shown_per_locale(evaluate_one: EvaluateOne) -> None:
    row = evaluate_one("date_before", END_BY, {"project_end": D(2031, 10, 1)})
    assert row.compared == {"fact": "project_end", "actual": "2031-10-01", "latest": "2031-09-30"}
    assert row.message["ja"] == "事業終了日: 2031年10月1日(期限 2031年9月30日)"
    assert row.message["en"] == "Project end: 1 Oct 2031 (by 30 Sep 2031)"


def _vc(
    certified: date, revoked: date | None = None, expires: date | None = None, lead: bool = False
) -> VcCertification:
    return VcCertification("VC", certified, revoked_on=revoked, expires_on=expires, is_lead=lead)


RELEASE = D(2027, 5, 10)


@pytest.mark.parametrize(
    ("vc", "outcome"),
    [
        (_vc(RELEASE), "pass"),
        (_vc(D(2027, 5, 11)), "fail"),
        (_vc(D(2020, 1, 1), revoked=RELEASE), "fail"),
        (_vc(D(2020, 1, 1), revoked=D(2027, 5, 11)), "pass"),
        (_vc(D(2020, 1, 1), expires=RELEASE), "pass"),
        (_vc(D(2020, 1, 1), expires=D(2027, 5, 9)), "fail"),
    ],
)
def test_certified_on_the_release_date(
    evaluate_one: EvaluateOne, vc: VcCertification, outcome: str
) -> None:
    facts = {"release_date": RELEASE, "investing_vcs": [vc]}
    assert evaluate_one("certified_on", {}, facts, phase="tranche_gates").outcome == outcome


def test_certified_on_needs_at_least_one_vc(evaluate_one: EvaluateOne) -> None:
    facts = {"release_date": RELEASE, "investing_vcs": []}
    row = evaluate_one("certified_on", {}, facts, phase="tranche_gates")
    assert row.outcome == "fail"
    assert row.compared["total"] == 0


def test_certified_on_all_names_the_uncertified(evaluate_one: EvaluateOne) -> None:
    vcs = [
        VcCertification("Good VC", D(2020, 1, 1), is_lead=True),
        VcCertification("Revoked VC", D(2020, 1, 1), revoked_on=D(2027, 1, 1)),
    ]
    row = evaluate_one("certified_on", {}, {"release_date": RELEASE, "investing_vcs": vcs})
    assert row.outcome == "fail"
    assert row.compared == {
        "date": "2027-05-10",
        "who": "all",
        "total": 2,
        "certified": 1,
        "not_certified": "Revoked VC",
        "investors": [
            {"name": "Good VC", "amount": 0, "lead": True, "standing": "certified",
             "since": "2020-01-01"},
            {"name": "Revoked VC", "amount": 0, "lead": False, "standing": "revoked",
             "since": "2027-01-01"},
        ],
    }  # fmt: skip
    assert row.message["en"] == (
        "Investing VCs certified on 10 May 2027: 1 of 2; not certified: Revoked VC. Investors: "
        "Good VC (lead VC, ¥0, counted: certified from 1 Jan 2020); "
        "Revoked VC (¥0, not counted: certification revoked on 1 Jan 2027)"
    )
    assert "認定なし: Revoked VC" in row.message["ja"]
    assert "Revoked VC（0円、算入しない: 2027年1月1日に認定取消）" in row.message["ja"]


@pytest.mark.parametrize(
    ("lead", "other", "outcome"),
    [
        (_vc(D(2020, 1, 1), lead=True), _vc(D(2028, 1, 1)), "pass"),
        (_vc(D(2028, 1, 1), lead=True), _vc(D(2020, 1, 1)), "fail"),
        (None, _vc(D(2020, 1, 1)), "fail"),
    ],
)
def test_certified_on_lead_only_checks_the_lead(
    evaluate_one: EvaluateOne,
    lead: VcCertification | None,
    other: VcCertification,
    outcome: str,
) -> None:
    vcs = [vc for vc in (lead, other) if vc is not None]
    facts = {"submitted_on": RELEASE, "investing_vcs": vcs}
    params = {"date_fact": "submitted_on", "who": "lead"}
    assert evaluate_one("certified_on", params, facts).outcome == outcome


def test_review_quorum_shows_eligible_reviewers_when_known(evaluate_one: EvaluateOne) -> None:
    row = evaluate_one(
        "review_quorum", {"min": 2}, {"eligible_approvals": 1, "eligible_reviewers": 3}
    )
    assert row.compared == {"approvals": 1, "required": 2, "reviewers": 3}
    assert (
        row.message["en"] == "Approvals by eligible reviewers: 1 (quorum 2); 3 eligible reviewers"
    )


def test_warn_severity_turns_a_failure_into_a_warning(evaluate_one: EvaluateOne) -> None:
    facts = {"eligible_cost": 10_000_000_001}
    assert evaluate_one("max_amount", SIZE_MAX, facts, severity="warn").outcome == "warn"
    facts = {"eligible_cost": 10_000_000_000}
    assert evaluate_one("max_amount", SIZE_MAX, facts, severity="warn").outcome == "pass"
