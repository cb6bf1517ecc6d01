"""Builders for rules-engine tests: one-rule rule sets, and a passing AMED application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from grants.rules import (
    CompiledRuleSet,
    TraceRow,
    VcCertification,
    amed_certified_vc,
    compile_ruleset,
    evaluate,
)

OneRule = Callable[..., CompiledRuleSet]
EvaluateOne = Callable[..., TraceRow]


@pytest.fixture
def one_rule() -> OneRule:
    """one_rule(type, params, phase="eligibility", **rule_keys) -> a compiled one-rule set."""

    def build(
        rule_type: str, params: dict[str, Any], phase: str = "eligibility", **keys: Any
    ) -> CompiledRuleSet:
        rule = {"id": "r", "phase": phase, "type": rule_type, "params": params, **keys}
        return compile_ruleset({"rules": [rule]})

    return build


@pytest.fixture
def evaluate_one(one_rule: OneRule) -> EvaluateOne:
    """evaluate_one(type, params, facts, **rule_keys) -> the single trace row."""

    def run(rule_type: str, params: dict[str, Any], facts: dict[str, Any], **keys: Any) -> TraceRow:
        phase = keys.pop("phase", "eligibility")
        compiled = one_rule(rule_type, params, phase, **keys)
        [row] = evaluate(compiled, phase, facts).rows
        return row

    return run


@pytest.fixture(scope="session")
def amed() -> CompiledRuleSet:
    return compile_ruleset(amed_certified_vc())


@pytest.fixture
def amed_application() -> dict[str, Any]:
    """Application facts that pass every AMED eligibility rule, exactly at the boundaries."""
    return {
        "stage": "phase1",
        "modality": "drug",
        "listed": False,
        "rd_base_in_japan": True,
        "eligible_cost": 6_000_000_000,
        "vc_committed_total": 2_000_000_000,
        "lead_vc_committed": 1_000_000_000,
        "requested_subsidy": 4_000_000_000,
        "project_end": date(2031, 9, 30),
        "submitted_on": date(2026, 6, 1),
        "investing_vcs": [
            VcCertification("Lead VC", date(2022, 4, 1), is_lead=True),
            VcCertification("Second VC", date(2026, 6, 1)),
        ],
    }


@pytest.fixture
def tranche_facts() -> dict[str, Any]:
    """Facts that pass every AMED tranche gate."""
    return {
        "release_date": date(2027, 5, 10),
        "investing_vcs": [VcCertification("Lead VC", date(2022, 4, 1), is_lead=True)],
        "tranche_amount": 500_000_000,
        "cumulative_subsidy": 1_000_000_000,
        "paid_in_total": 500_000_000,
        "pool_available": 500_000_000,
        "prior_milestones_total": 2,
        "prior_milestones_approved": 2,
        "eligible_approvals": 2,
        "eligible_reviewers": 3,
    }
