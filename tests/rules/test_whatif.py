"""What-if comparison of traces under the published and a draft rule set."""

from __future__ import annotations

from typing import Any

from grants.rules import (
    Change,
    CompiledRuleSet,
    amed_certified_vc,
    compare_traces,
    compile_ruleset,
    evaluate,
    summarise,
)


def _draft_with_lead_minimum(amount: int) -> CompiledRuleSet:
    document = amed_certified_vc()
    [lead] = [rule for rule in document["rules"] if rule["id"] == "lead_vc_min"]
    lead["params"]["amount"] = amount
    return compile_ruleset(document)


def test_lowering_the_lead_minimum_makes_an_application_eligible(
    amed: CompiledRuleSet, amed_application: dict[str, Any]
) -> None:
    amed_application["lead_vc_committed"] = 500_000_000
    before = evaluate(amed, "eligibility", amed_application)
    after = evaluate(_draft_with_lead_minimum(100_000_000), "eligibility", amed_application)
    assert compare_traces(before, after) is Change.NEWLY_ELIGIBLE
    assert compare_traces(after, before) is Change.NEWLY_BLOCKED
    assert compare_traces(before, before) is Change.UNCHANGED


def test_blocked_by_other_rules(amed: CompiledRuleSet, amed_application: dict[str, Any]) -> None:
    before = evaluate(amed, "eligibility", {**amed_application, "listed": True})
    after = evaluate(amed, "eligibility", {**amed_application, "rd_base_in_japan": False})
    assert compare_traces(before, after) is Change.CHANGED_BLOCKERS


def test_new_warnings(amed: CompiledRuleSet, amed_application: dict[str, Any]) -> None:
    before = evaluate(amed, "eligibility", amed_application)
    bigger = {"eligible_cost": 12_000_000_000, "vc_committed_total": 4_000_000_000}
    after = evaluate(amed, "eligibility", {**amed_application, **bigger})
    assert compare_traces(before, after) is Change.CHANGED_WARNINGS


def test_without_a_previous_trace_the_outcome_is_new(
    amed: CompiledRuleSet, amed_application: dict[str, Any]
) -> None:
    assert (
        compare_traces(None, evaluate(amed, "eligibility", amed_application))
        is Change.NEWLY_ELIGIBLE
    )
    assert compare_traces(None, evaluate(amed, "eligibility", {})) is Change.NEWLY_BLOCKED


def test_summarise_counts_every_kind(
    amed: CompiledRuleSet, amed_application: dict[str, Any]
) -> None:
    eligible = evaluate(amed, "eligibility", amed_application)
    blocked = evaluate(amed, "eligibility", {})
    counts = summarise(
        [(blocked, eligible), (eligible, eligible), (None, blocked), (blocked, eligible)]
    )
    assert counts == {
        Change.NEWLY_ELIGIBLE: 2,
        Change.NEWLY_BLOCKED: 1,
        Change.CHANGED_BLOCKERS: 0,
        Change.CHANGED_WARNINGS: 0,
        Change.UNCHANGED: 1,
    }
    assert summarise([]) == dict.fromkeys(Change, 0)
