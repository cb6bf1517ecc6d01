"""The tranche gates read the investors' certifications on the release date: the lead VC's
always (the AMED preset), certified money's share only where a rule set asks for it."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from grants.accounts.certified_vcs import service as certifications
from grants.accounts.certified_vcs.models import VcCertification
from grants.applications.models import CoInvestment
from grants.awards.facts import tranche_facts
from grants.core.actors import SYSTEM
from grants.extensions import db
from grants.rules import Phase, amed_certified_vc, compile_ruleset, evaluate
from tests.support.grants import GrantWorld, make_grant
from tests.support.programs import make_certified_vc

RELEASE = date(2026, 10, 15)
SHARE_AT_RELEASE = {
    "id": "certified_share_at_release",
    "phase": "tranche_gates",
    "type": "min_ratio",
    "severity": "block",
    "params": {"numerator": "vc_committed_total", "denominator": "eligible_cost", "ratio": "1/3"},
    "applies_when": {},
    "relaxations": [],
    "label": {"ja": "支払日に認定VCの出資が1/3以上", "en": "Certified money covers 1/3 on release"},
}


def _two_investors(world: GrantWorld) -> VcCertification:
    """The lead VC alone commits less than a third; a second certified VC makes it up."""
    lead = db.session.query(CoInvestment).one()
    lead.committed_amount = 200_000_000  # eligible cost 900,000,000: a third is 300,000,000
    second = make_certified_vc()
    db.session.add(
        CoInvestment(
            application_id=lead.application_id,
            vc_organization_id=second.organization_id,
            committed_amount=150_000_000,
        )
    )
    db.session.commit()
    return second


def _outcomes(document: dict[str, Any], world: GrantWorld) -> dict[str, str]:
    facts = tranche_facts(world.milestones[0], RELEASE)
    trace = evaluate(compile_ruleset(document), Phase.TRANCHE_GATES, facts)
    return {row.rule_id: row.outcome for row in trace.rows}


def test_a_lapsed_investor_blocks_only_where_the_rule_set_asks_for_the_share(
    app: Flask,
) -> None:
    world = make_grant(preset="amed")
    second = _two_investors(world)
    asking = amed_certified_vc()
    asking["rules"].append(SHARE_AT_RELEASE)
    assert _outcomes(asking, world)["certified_share_at_release"] == "pass"
    certifications.revoke_certification(SYSTEM, second.id, date(2026, 10, 1))
    assert _outcomes(asking, world)["certified_share_at_release"] == "fail"
    preset = _outcomes(amed_certified_vc(), world)
    assert "certified_share_at_release" not in preset
    assert preset["lead_vc_certified_at_release"] == "pass"  # the lead is still certified
