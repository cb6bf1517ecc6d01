"""Evaluation: relaxations, applies_when, missing facts, award amounts, traces."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from grants.rules import (
    AppliedRelaxation,
    CompiledRuleSet,
    Outcome,
    Trace,
    TraceRow,
    amed_certified_vc,
    award_amount,
    compile_ruleset,
    evaluate,
    milestone_programme,
)
from grants.rules.conditions import compile_condition

EvaluateOne = Callable[..., TraceRow]
OneRule = Callable[..., CompiledRuleSet]

LEAD_MIN = {"fact": "lead_vc_committed", "amount": 1_000_000_000}
RELAXATIONS = [
    {
        "when": {"stage": {"in": ["non_clinical", "discovery"]}},
        "params": {"amount": 100_000_000},
        "label": {"ja": "非臨床", "en": "Non-clinical"},
    },
    {"when": {"modality": "drug"}, "params": {"amount": 500_000_000}},
]


@pytest.mark.parametrize(
    ("stage", "modality", "required", "relaxation"),
    [
        (
            "non_clinical",
            "drug",
            100_000_000,
            AppliedRelaxation(0, {"ja": "非臨床", "en": "Non-clinical"}),
        ),
        ("phase1", "drug", 500_000_000, AppliedRelaxation(1, None)),
        ("phase1", "device", 1_000_000_000, None),
    ],
)
def test_the_first_matching_relaxation_wins(
    evaluate_one: EvaluateOne,
    stage: str,
    modality: str,
    required: int,
    relaxation: AppliedRelaxation | None,
) -> None:
    facts = {"stage": stage, "modality": modality, "lead_vc_committed": 300_000_000}
    row = evaluate_one("min_amount", LEAD_MIN, facts, relaxations=RELAXATIONS)
    assert row.compared["required"] == required
    assert row.compared["fact"] == "lead_vc_committed"  # params not replaced are kept
    assert row.relaxation == relaxation
    assert row.outcome == ("pass" if required <= 300_000_000 else "fail")


def test_the_relaxation_is_named_in_the_message(evaluate_one: EvaluateOne) -> None:
    facts = {"stage": "non_clinical", "modality": "drug", "lead_vc_committed": 100_000_000}
    row = evaluate_one("min_amount", LEAD_MIN, facts, relaxations=RELAXATIONS)
    assert row.message["ja"].endswith("[緩和: 非臨床]")
    assert row.message["en"].endswith("[relaxation: Non-clinical]")
    facts["stage"] = "phase1"
    facts["lead_vc_committed"] = 500_000_000
    row = evaluate_one("min_amount", LEAD_MIN, facts, relaxations=RELAXATIONS)
    assert row.message["en"].endswith("[relaxation: #2]")


def test_the_amed_lead_vc_relaxation(amed: CompiledRuleSet, amed_application: dict) -> None:
    amed_application["lead_vc_committed"] = 100_000_000
    [lead] = [
        row
        for row in evaluate(amed, "eligibility", amed_application).rows
        if row.rule_id == "lead_vc_min"
    ]
    assert lead.outcome == "fail"
    amed_application["stage"] = "non_clinical"
    [lead] = [
        row
        for row in evaluate(amed, "eligibility", amed_application).rows
        if row.rule_id == "lead_vc_min"
    ]
    assert lead.outcome == "pass"
    assert lead.relaxation is not None and lead.relaxation.index == 0


@pytest.mark.parametrize(
    ("facts", "outcome"),
    [
        ({"modality": "drug", "eligible_cost": 1}, "pass"),
        ({"modality": "device", "eligible_cost": 1}, "skipped"),
        ({"eligible_cost": 1}, "skipped"),  # a missing fact never matches
    ],
)
def test_applies_when_skips_the_rule(
    evaluate_one: EvaluateOne, facts: dict[str, Any], outcome: str
) -> None:
    params = {"fact": "eligible_cost", "amount": 1}
    row = evaluate_one("min_amount", params, facts, applies_when={"modality": "drug"})
    assert row.outcome == outcome


def test_a_skipped_row_says_so(evaluate_one: EvaluateOne) -> None:
    row = evaluate_one("min_amount", LEAD_MIN, {}, applies_when={"modality": "drug"})
    assert (row.outcome, row.compared, row.missing) == ("skipped", {}, ())
    assert row.message == {
        "ja": "適用条件に該当しないため対象外",
        "en": "Not applicable: its conditions are not met",
    }


CONDITIONS = [
    ({"stage": "phase1"}, {"stage": "phase1"}, True),
    ({"stage": "phase1"}, {"stage": "phase2"}, False),
    ({"stage": {"in": ["phase1", "phase2"]}}, {"stage": "phase2"}, True),
    ({"stage": {"not_in": ["phase1"]}}, {"stage": "phase2"}, True),
    ({"stage": {"not_in": ["phase1"]}}, {"stage": "phase1"}, False),
    ({"stage": {"not_in": ["phase1"]}}, {}, False),
    ({"eligible_cost": {"gte": 100, "lte": 200}}, {"eligible_cost": 100}, True),
    ({"eligible_cost": {"gte": 100, "lte": 200}}, {"eligible_cost": 200}, True),
    ({"eligible_cost": {"gte": 100, "lte": 200}}, {"eligible_cost": 201}, False),
    ({"eligible_cost": {"gte": 100}}, {"eligible_cost": 99}, False),
    ({"submitted_on": {"gte": "2026-04-01"}}, {"submitted_on": date(2026, 4, 1)}, True),
    ({"submitted_on": {"lte": "2026-04-01"}}, {"submitted_on": date(2026, 4, 2)}, False),
    ({"project_end": "2031-09-30"}, {"project_end": date(2031, 9, 30)}, True),
    ({"stage": "phase1", "listed": False}, {"stage": "phase1", "listed": False}, True),
    ({"stage": "phase1", "listed": False}, {"stage": "phase1", "listed": True}, False),
    ({"stage": "phase1", "listed": False}, {"stage": "phase1"}, False),
    ({}, {}, True),
]


@pytest.mark.parametrize(("condition", "facts", "matches"), CONDITIONS)
def test_conditions(condition: dict[str, Any], facts: dict[str, Any], matches: bool) -> None:
    assert compile_condition(condition)(facts) is matches


def test_a_missing_fact_fails_with_a_message(evaluate_one: EvaluateOne) -> None:
    params = {"numerator": "vc_committed_total", "denominator": "eligible_cost", "ratio": "1/3"}
    row = evaluate_one("min_ratio", params, {"vc_committed_total": 5, "eligible_cost": None})
    assert row.outcome == "fail"
    assert row.missing == ("eligible_cost",)
    assert row.compared == {}
    assert row.message == {
        "ja": "判定に必要な情報がありません: 補助対象経費",
        "en": "Missing fact: Eligible cost",
    }


def test_a_missing_fact_blocks_even_a_warn_rule(evaluate_one: EvaluateOne) -> None:
    params = {"fact": "eligible_cost", "amount": 1}
    row = evaluate_one("max_amount", params, {}, severity="warn")
    assert row.outcome == "fail"


def test_missing_facts_in_a_whole_phase_never_raise(amed: CompiledRuleSet) -> None:
    for phase in ("eligibility", "award", "tranche_gates"):
        trace = evaluate(amed, phase, {})
        assert not trace.ok
        assert all(row.outcome == "fail" and row.missing for row in trace.rows)


def test_rows_follow_document_order_per_phase(amed: CompiledRuleSet) -> None:
    document = amed_certified_vc()
    for phase in ("eligibility", "award", "tranche_gates"):
        expected = [rule["id"] for rule in document["rules"] if rule["phase"] == phase]
        assert [row.rule_id for row in evaluate(amed, phase, {}).rows] == expected


def test_an_unknown_phase_is_refused(amed: CompiledRuleSet) -> None:
    with pytest.raises(ValueError, match="Unknown phase"):
        evaluate(amed, "payment", {})


def test_the_passing_application_is_eligible(amed: CompiledRuleSet, amed_application: dict) -> None:
    trace = evaluate(amed, "eligibility", amed_application)
    assert trace.ok, [row.message["en"] for row in trace.blocking]
    assert trace.blocking == [] and trace.warnings == []


def test_warnings_do_not_block(amed: CompiledRuleSet, amed_application: dict) -> None:
    amed_application |= {"eligible_cost": 12_000_000_000, "vc_committed_total": 4_000_000_000}
    trace = evaluate(amed, "eligibility", amed_application)
    assert trace.ok
    assert [row.rule_id for row in trace.warnings] == ["project_size"]


def test_blocking_lists_the_failures(amed: CompiledRuleSet, amed_application: dict) -> None:
    amed_application |= {"listed": True, "vc_committed_total": 1_999_999_999}
    trace = evaluate(amed, "eligibility", amed_application)
    assert not trace.ok
    assert [row.rule_id for row in trace.blocking] == ["unlisted", "vc_share_min"]


def test_tranche_gates_pass_and_fail(amed: CompiledRuleSet, tranche_facts: dict) -> None:
    assert evaluate(amed, "tranche_gates", tranche_facts).ok
    tranche_facts["paid_in_total"] -= 1
    tranche_facts["pool_available"] -= 1
    blocking = evaluate(amed, "tranche_gates", tranche_facts).blocking
    assert [row.rule_id for row in blocking] == ["paid_in_pro_rata", "budget_pool"]


@pytest.mark.parametrize(
    ("eligible", "requested", "amount"),
    [
        (100, 100, 66),  # 2/3 of 100 yen rounds down
        (100, 50, 50),
        (6_000_000_000, 4_100_000_000, 4_000_000_000),
        (10**13, 10**13, 6_666_666_666_666),
        (0, 10, 0),
    ],
)
def test_award_amount_is_capped_and_rounded_down(
    amed: CompiledRuleSet, eligible: int, requested: int, amount: int
) -> None:
    result, trace = award_amount(amed, {"eligible_cost": eligible, "requested_subsidy": requested})
    assert result == amount
    assert trace.ok is (requested <= amount)


@pytest.mark.parametrize("facts", [{"eligible_cost": 100}, {"requested_subsidy": 100}, {}])
def test_award_amount_is_zero_without_the_facts(amed: CompiledRuleSet, facts: dict) -> None:
    amount, trace = award_amount(amed, facts)
    assert amount == 0
    assert not trace.ok


def test_award_takes_the_tightest_bound_and_ignores_warnings(one_rule: OneRule) -> None:
    rules = [
        _award("cap", "max_amount", {"fact": "requested_subsidy", "amount": 70}),
        _award("rate", "max_ratio", _two_thirds()),
        _award("soft", "max_amount", {"fact": "requested_subsidy", "amount": 10}, severity="warn"),
        _award(
            "skipped",
            "max_amount",
            {"fact": "requested_subsidy", "amount": 1},
            applies_when={"stage": "pivotal"},
        ),
        _award("other", "max_amount", {"fact": "eligible_cost", "amount": 1}),
    ]
    compiled = compile_ruleset({"rules": rules})
    facts = {"eligible_cost": 90, "requested_subsidy": 100, "stage": "phase1"}
    amount, trace = award_amount(compiled, facts)
    assert amount == 60
    assert [row.outcome for row in trace.rows] == ["fail", "fail", "warn", "skipped", "fail"]


def test_award_uses_the_relaxed_bound(one_rule: OneRule) -> None:
    relaxed = {"when": {"stage": "phase1"}, "params": {"ratio": "1/2"}}
    compiled = one_rule("max_ratio", _two_thirds(), "award", relaxations=[relaxed])
    assert award_amount(compiled, {"eligible_cost": 90, "requested_subsidy": 90})[0] == 60
    facts = {"eligible_cost": 90, "requested_subsidy": 90, "stage": "phase1"}
    assert award_amount(compiled, facts)[0] == 45


def test_milestone_programme_awards_the_request() -> None:
    compiled = compile_ruleset(milestone_programme())
    amount, trace = award_amount(compiled, {"requested_subsidy": 800, "upfront_tranche": 200})
    assert (amount, trace.ok) == (800, True)
    amount, trace = award_amount(compiled, {"requested_subsidy": 800, "upfront_tranche": 201})
    assert (amount, trace.ok) == (800, False)


def _two_thirds() -> dict[str, Any]:
    return {"numerator": "requested_subsidy", "denominator": "eligible_cost", "ratio": "2/3"}


def _award(rule_id: str, rule_type: str, params: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {"id": rule_id, "phase": "award", "type": rule_type, "params": params, **keys}


def test_trace_round_trips_through_json(amed: CompiledRuleSet, amed_application: dict) -> None:
    amed_application |= {"stage": "non_clinical", "eligible_cost": 12_000_000_000, "listed": True}
    del amed_application["project_end"]
    trace = evaluate(amed, "eligibility", amed_application)
    stored = json.loads(json.dumps(trace.to_dict(), ensure_ascii=False))
    restored = Trace.from_dict(stored)
    assert restored == trace
    assert restored.to_dict() == stored
    assert restored.ok is trace.ok is stored["ok"] is False
    assert {row.outcome for row in restored.rows} == {"pass", "fail", "warn"}


def test_a_stored_trace_keeps_its_messages(amed: CompiledRuleSet, amed_application: dict) -> None:
    stored = evaluate(amed, "eligibility", amed_application).to_dict()
    stored["rows"][0]["message"] = {"ja": "当時の文言", "en": "Wording of the time"}
    assert Trace.from_dict(stored).rows[0].message["en"] == "Wording of the time"


def test_trace_rows_are_trace_rows(amed: CompiledRuleSet, amed_application: dict) -> None:
    row = evaluate(amed, "eligibility", amed_application).rows[0]
    assert isinstance(row, TraceRow)
    assert row.outcome is Outcome.PASS
    assert row.label == {"ja": "対象となる開発段階", "en": "Eligible development stage"}
