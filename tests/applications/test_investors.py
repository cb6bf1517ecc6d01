"""Only certified money counts (DOMAIN.md, AMED certified-VC programme): other investors may
take part in the round without making an application ineligible; the lead VC must be
certified; the trace says for every investor whether and why its money counted."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask

from grants.accounts.certified_vcs import service as certifications
from grants.applications import service as applications
from grants.applications.checks import CoInvestmentData
from grants.applications.models import Application
from grants.core.actors import SYSTEM
from grants.core.identity import OrgKind
from grants.extensions import db
from grants.rules import Trace
from tests.support.applications import TODAY, ApplicationWorld, ready_application
from tests.support.factories import make_org
from tests.support.programs import make_certified_vc

LEAD = 1_000_000_001  # a third of the eligible cost, and above the lead VC's minimum


def _declare(world: ApplicationWorld, *others: tuple[int, int], lead: int | None = None) -> None:
    items = [CoInvestmentData(lead or world.vc.id, LEAD, True)]
    items += [CoInvestmentData(org_id, amount, False) for org_id, amount in others]
    applications.set_co_investments(world.applicant, world.application.id, items)


def _submitted(world: ApplicationWorld) -> tuple[Trace, dict[str, dict[str, object]]]:
    applications.submit(world.applicant, world.application.id, TODAY)
    application = db.session.get(Application, world.application.id)
    assert application is not None and application.eligibility_trace is not None
    trace = Trace.from_dict(application.eligibility_trace)
    row = next(r for r in trace.rows if r.rule_id == "lead_vc_certified")
    return trace, {i["name"]: i for i in row.compared["investors"]}


def _outcome(trace: Trace, rule_id: str) -> str:
    return next(row.outcome for row in trace.rows if row.rule_id == rule_id)


def test_a_lapsed_vc_takes_part_without_counting(app: Flask) -> None:
    world = ready_application()
    lapsed = make_certified_vc()
    certifications.revoke_certification(SYSTEM, lapsed.id, TODAY - timedelta(days=30))
    _declare(world, (lapsed.organization_id, 500_000_000))
    trace, investors = _submitted(world)
    assert trace.ok
    entry = investors[lapsed.organization.name]
    assert entry["standing"] == "revoked" and entry["since"] == "2026-04-01"
    share = next(r for r in trace.rows if r.rule_id == "vc_share_min")
    assert share.compared["actual"] == LEAD  # the lapsed VC's 5億円 is not counted


def test_a_never_certified_investor_and_a_corporate_are_listed_not_counted(app: Flask) -> None:
    world = ready_application()
    vc, corporate = make_org(OrgKind.vc, name="未認定VC"), make_org(OrgKind.company, name="製薬")
    _declare(world, (vc.id, 300_000_000), (corporate.id, 200_000_000))
    trace, investors = _submitted(world)
    assert trace.ok
    assert investors["未認定VC"]["standing"] == investors["製薬"]["standing"] == "never"
    assert investors[world.vc.name]["standing"] == "certified"
    row = next(r for r in trace.rows if r.rule_id == "lead_vc_certified")
    assert "製薬（2億円、算入しない: 認定VCではない）" in row.message["ja"]
    assert "製薬 (¥200,000,000, not counted: not a certified VC)" in row.message["en"]


def test_a_lead_vc_that_is_not_certified_makes_the_application_ineligible(app: Flask) -> None:
    world = ready_application()
    uncertified = make_org(OrgKind.vc)
    _declare(world, (world.vc.id, 500_000_000), lead=uncertified.id)
    trace, investors = _submitted(world)
    assert not trace.ok
    assert _outcome(trace, "lead_vc_certified") == "fail"
    assert _outcome(trace, "lead_vc_min") == "fail"  # its money does not count either
    assert investors[uncertified.name]["lead"] is True


def test_a_certification_from_the_day_after_submission_does_not_count(app: Flask) -> None:
    world = ready_application()
    tomorrow = TODAY + timedelta(days=1)
    late = make_certified_vc(certified_on=tomorrow).organization
    _declare(world, lead=late.id)
    trace, investors = _submitted(world)
    assert _outcome(trace, "lead_vc_certified") == "fail"
    assert investors[late.name] == {
        "name": late.name,
        "amount": LEAD,
        "lead": True,
        "standing": "not_yet",
        "since": tomorrow.isoformat(),
    }


def test_the_trace_for_a_certification_that_starts_on_the_submission_day_counts(
    app: Flask,
) -> None:
    world = ready_application()
    same_day = make_certified_vc(certified_on=date(2026, 5, 1)).organization
    _declare(world, lead=same_day.id)
    trace, _investors = _submitted(world)
    assert trace.ok
