"""Properties over generated applications and tranches."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from grants.rules import (
    MODALITIES,
    STAGES,
    THEMES,
    Trace,
    VcCertification,
    amed_certified_vc,
    award_amount,
    compile_ruleset,
    evaluate,
    milestone_programme,
)
from grants.rules.codegen import RulePlan
from grants.rules.engine import rule_plan
from grants.rules.trace import Outcome

AMED = compile_ruleset(amed_certified_vc())
MILESTONE = compile_ruleset(milestone_programme())
PHASES = ("eligibility", "award", "tranche_gates")
APPLICATION_FACTS = {"stage", "listed", "eligible_cost", "lead_vc_committed", "investing_vcs"}
TRANCHE_FACTS = {"release_date", "paid_in_total", "pool_available", "eligible_approvals"}

yen = st.integers(0, 10**13)
days = st.dates(date(2020, 1, 1), date(2035, 12, 31))
vcs = st.lists(
    st.builds(
        VcCertification,
        name=st.text(min_size=1, max_size=8),
        certified_on=days,
        revoked_on=st.none() | days,
        expires_on=st.none() | days,
        is_lead=st.booleans(),
    ),
    max_size=3,
)
applications = st.fixed_dictionaries(
    {
        "stage": st.sampled_from(STAGES),
        "theme": st.sampled_from(THEMES),
        "modality": st.sampled_from(MODALITIES),
        "listed": st.booleans(),
        "rd_base_in_japan": st.booleans(),
        "milestones_all_measurable": st.booleans(),
        "eligible_cost": yen,
        "vc_committed_total": yen,
        "lead_vc_committed": yen,
        "requested_subsidy": yen,
        "upfront_tranche": yen,
        "project_end": days,
        "submitted_on": days,
        "investing_vcs": vcs,
    }
)
tranches = st.fixed_dictionaries(
    {
        "release_date": days,
        "investing_vcs": vcs,
        "tranche_amount": yen,
        "cumulative_subsidy": yen,
        "paid_in_total": yen,
        "pool_available": yen,
        "prior_milestones_total": st.integers(0, 10),
        "prior_milestones_approved": st.integers(0, 10),
        "eligible_approvals": st.integers(0, 5),
    }
)


def _outcomes(trace: Trace) -> dict[str, str]:
    return {row.rule_id: row.outcome for row in trace.rows}


def _never_worse(before: Trace, after: Trace) -> None:
    was, now = _outcomes(before), _outcomes(after)
    assert all(now[rule] == "pass" for rule, outcome in was.items() if outcome == "pass")
    assert after.ok or not before.ok


@given(
    applications,
    st.sampled_from(["vc_committed_total", "lead_vc_committed"]),
    st.integers(0, 10**13),
)
def test_raising_a_commitment_never_turns_a_pass_into_a_fail(
    facts: dict[str, Any], fact: str, more: int
) -> None:
    before = evaluate(AMED, "eligibility", facts)
    after = evaluate(AMED, "eligibility", {**facts, fact: facts[fact] + more})
    _never_worse(before, after)


@given(tranches, st.integers(0, 10**13))
def test_paying_in_more_never_turns_a_gate_pass_into_a_fail(
    facts: dict[str, Any], more: int
) -> None:
    before = evaluate(AMED, "tranche_gates", facts)
    after = evaluate(
        AMED, "tranche_gates", {**facts, "paid_in_total": facts["paid_in_total"] + more}
    )
    _never_worse(before, after)


@settings(max_examples=60)
@given(
    st.one_of(applications, tranches),
    st.sets(
        st.sampled_from(
            sorted(
                {
                    "stage",
                    "eligible_cost",
                    "investing_vcs",
                    "release_date",
                    "paid_in_total",
                    "listed",
                }
            )
        )
    ),
)
def test_every_row_has_ja_and_en_messages(facts: dict[str, Any], dropped: set[str]) -> None:
    facts = {name: value for name, value in facts.items() if name not in dropped}
    for compiled in (AMED, MILESTONE):
        for phase in PHASES:
            for row in evaluate(compiled, phase, facts).rows:
                assert set(row.message) == {"ja", "en"}
                assert row.message["ja"].strip() and row.message["en"].strip()


@given(applications)
def test_the_award_never_exceeds_the_request_or_two_thirds(facts: dict[str, Any]) -> None:
    amount, trace = award_amount(AMED, facts)
    assert 0 <= amount <= facts["requested_subsidy"]
    assert amount * 3 <= facts["eligible_cost"] * 2
    assert trace.ok is (amount == facts["requested_subsidy"])


@given(applications)
def test_traces_round_trip_through_json(facts: dict[str, Any]) -> None:
    trace = evaluate(AMED, "eligibility", facts)
    restored = Trace.from_dict(json.loads(json.dumps(trace.to_dict())))
    assert restored == trace
    assert restored.ok is trace.ok


def _reference(plan: RulePlan, facts: dict[str, Any]) -> tuple[Any, ...]:
    """What a rule's checkers say, one call each: the meaning the generated code keeps."""
    if plan.applies is not None and not plan.applies(facts):
        return (Outcome.SKIPPED, None, None)
    for matches, _variant, checker in plan.relaxations:
        if matches(facts):
            return checker(facts)
    return plan.base[1](facts)


def _plain(result: tuple[Any, ...]) -> tuple[Any, ...]:
    """A raw result with its variant as what it says (a new compile makes new closures)."""
    passed, raw, variant = result
    if variant is None:
        return passed, raw, None
    return passed, raw, (variant.params, variant.relaxation, variant.failed)


def _gated_and_warned(document: dict[str, Any]) -> dict[str, Any]:
    """The AMED preset with a condition on one rule and another rule a warning, so that
    every shape of generated code runs."""
    for rule in document["rules"]:
        if rule["id"] == "vc_share_min":
            rule["applies_when"] = {"stage": {"in": ["non_clinical", "phase1"]}}
        if rule["id"] == "unlisted":
            rule["severity"] = "warn"
    return document


GATED = _gated_and_warned(amed_certified_vc())


@settings(max_examples=300, deadline=None)
@given(
    application=applications,
    tranche=tranches,
    dropped=st.sets(st.sampled_from(sorted(APPLICATION_FACTS | TRANCHE_FACTS)), max_size=3),
)
def test_the_generated_phases_say_what_the_checkers_say(
    application: dict[str, Any], tranche: dict[str, Any], dropped: set[str]
) -> None:
    facts = {key: value for key, value in (application | tranche).items() if key not in dropped}
    for document in (amed_certified_vc(), milestone_programme(), GATED):
        compiled = compile_ruleset(document)
        for phase in PHASES:
            plans = [rule_plan(r) for r in compiled.document["rules"] if r["phase"] == phase]
            trace = evaluate(compiled, phase, facts)
            expected = [_reference(plan, facts) for plan in plans]
            assert list(map(_plain, trace._results)) == list(map(_plain, expected))
            assert trace.ok is all(row.outcome != "fail" for row in trace.rows)
