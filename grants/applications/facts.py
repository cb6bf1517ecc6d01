"""The facts the eligibility rules read about an application."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from grants.accounts.certified_vcs.models import VcCertification
from grants.applications.models import Application
from grants.extensions import db
from grants.rules import VcCertification as CertificationFact
from grants.rules.facts import NEVER_CERTIFIED

Facts = dict[str, Any]


def certifications_by_vc(vc_ids: Iterable[int]) -> dict[int, list[VcCertification]]:
    ids = set(vc_ids)
    found: dict[int, list[VcCertification]] = defaultdict(list)
    if ids:
        query = select(VcCertification).where(VcCertification.organization_id.in_(ids))
        for cert in db.session.scalars(query.order_by(VcCertification.certified_on)):
            found[cert.organization_id].append(cert)
    return found


def certification_on(certs: Sequence[VcCertification], day: date) -> VcCertification | None:
    """The certification that covers `day` if any, else the most recent one started by then,
    else the first one to start later (certified only from then), else None."""
    started = [c for c in certs if c.certified_on <= day]
    covering = [c for c in started if _covers(c, day)]
    later = [c for c in certs if c.certified_on > day][:1]
    return (covering or started or later or [None])[-1]


def _covers(cert: VcCertification, day: date) -> bool:
    return (cert.revoked_on is None or cert.revoked_on > day) and (
        cert.expires_on is None or cert.expires_on >= day
    )


def application_facts(
    application: Application, on: date, certs: dict[int, list[VcCertification]]
) -> Facts:
    """Eligibility and award facts of `application` as of `on` (its submission date)."""
    investing = [_certification_fact(ci, on, certs) for ci in application.co_investments]
    certified = [
        ci for ci, fact in zip(application.co_investments, investing, strict=True)
        if fact.certified_at(on)
    ]  # fmt: skip
    lead = next((ci for ci in certified if ci.is_lead), None)
    plan = application.plan
    return {
        "theme": application.theme,
        "modality": application.modality,
        "stage": application.stage,
        "org_kind": str(application.organization.kind),
        "listed": application.organization.listed,
        "rd_base_in_japan": application.organization.rd_base_in_japan,
        "milestones_all_measurable": bool(plan) and all(_measurable(m.criteria) for m in plan),
        "eligible_cost": application.eligible_cost,
        "indirect_cost": application.indirect_cost,
        "direct_cost": application.eligible_cost - application.indirect_cost,
        "requested_subsidy": application.requested_subsidy,
        "vc_committed_total": sum(ci.committed_amount for ci in certified),
        "lead_vc_committed": lead.committed_amount if lead else 0,
        "tranche_total": sum(m.tranche_amount for m in plan),
        "upfront_tranche": plan[0].tranche_amount if plan else 0,
        "vc_count": len(application.co_investments),
        "milestone_count": len(plan),
        "project_start": application.project_start,
        "project_end": application.project_end,
        "submitted_on": on,
        "investing_vcs": investing,
    }


def _measurable(criteria: list[dict[str, str]]) -> bool:
    return bool(criteria) and all(
        str(c.get(key) or "").strip() for c in criteria for key in ("metric", "target", "unit")
    )


def _certification_fact(
    co_investment: Any, on: date, certs: dict[int, list[VcCertification]]
) -> CertificationFact:
    cert = certification_on(certs.get(co_investment.vc_organization_id, []), on)
    return CertificationFact(
        name=co_investment.vc.name,
        certified_on=cert.certified_on if cert else NEVER_CERTIFIED,
        revoked_on=cert.revoked_on if cert else None,
        expires_on=cert.expires_on if cert else None,
        is_lead=co_investment.is_lead,
        amount=co_investment.committed_amount,
    )
