"""VC paid-in investments: recorded by one officer, verified by another.

Only verified investments count as paid in for the tranche gates (awards.facts).
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from sqlalchemy import select

from grants.accounts.queries import active_officers
from grants.awards.models import Grant, Investment
from grants.awards.queries import get_grant, require_on_grant
from grants.awards.rules import grant_allows
from grants.awards.service import lock_grant
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.calendar import Day
from grants.core.db import use_case
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.money import YEN_MAX, Amount
from grants.core.permissions import Action
from grants.core.problems import N_, Problem
from grants.extensions import db
from grants.investments.queries import co_investors

EVIDENCE_MAX = 500


@use_case
def record_investment(
    actor: Actor,
    grant_id: int,
    vc_organization_id: int,
    amount: int,
    paid_on: date | None,
    evidence: str,
    today: date,
) -> Investment:
    """Record money a co-investing VC has paid in; it counts once another officer verifies it."""
    grant = get_grant(grant_id)
    require_on_grant(Action.record_investment, actor, grant)
    if not grant_allows(Action.record_investment, grant.state):
        raise Conflict(N_("Investments are recorded only for active or suspended grants."))
    evidence = (evidence or "").strip()
    _check(grant, vc_organization_id, amount, paid_on, evidence, today)
    lock_grant(grant.id)  # two officers recording the same payment at once: one is refused
    _refuse_duplicate(grant.id, vc_organization_id, evidence)
    investment = Investment(
        grant_id=grant.id,
        vc_organization_id=vc_organization_id,
        amount=amount,
        paid_on=paid_on,
        evidence=evidence,
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
    )
    db.session.add(investment)
    audit.record(actor, "investment.record", investment, after=snapshot(investment))
    notify.record(
        actor,
        active_officers(),  # the others: the one who recorded it may not verify it
        AlertKind.investment_recorded,
        SubjectType.investment,
        investment.id,
        today=today,
        grant_id=grant.id,
    )
    db.session.commit()
    return investment


@use_case
def verify_investment(actor: Actor, investment_id: int, today: date) -> Investment:
    """Confirm a recorded investment against its evidence; the recorder may not verify it."""
    investment = _get(investment_id)
    grant = get_grant(investment.grant_id)
    require_on_grant(Action.verify_investment, actor, grant)
    investment = _lock(investment_id)
    if investment.verified_at is not None:
        raise Conflict(N_("This investment has already been verified."))
    if investment.recorded_by_id == actor.id:
        raise NotAllowed(
            N_("Another officer must verify an investment you recorded (separation of duties).")
        )
    if investment.paid_on > today:
        raise Conflict(N_("An investment cannot be verified before it is paid in."))
    before = snapshot(investment)
    investment.verified_by_id = actor.id
    investment.verified_at = utcnow()
    audit.record(actor, "investment.verify", investment, before, snapshot(investment))
    db.session.commit()
    return investment


def snapshot(investment: Investment) -> dict[str, Any]:
    return {
        "grant_id": investment.grant_id,
        "vc_organization_id": investment.vc_organization_id,
        "amount": investment.amount,
        "paid_on": investment.paid_on.isoformat(),
        "evidence": investment.evidence,
        "recorded_by_id": investment.recorded_by_id,
        "verified_by_id": investment.verified_by_id,
    }


def _check(
    grant: Grant,
    vc_organization_id: int,
    amount: int,
    paid_on: date | None,
    evidence: str,
    today: date,
) -> None:
    errors: dict[str, list[Problem]] = {}
    if vc_organization_id not in {vc.id for vc in co_investors(grant)}:
        errors["vc_organization_id"] = [N_("Choose one of the grant's co-investing VCs.")]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        errors["amount"] = [N_("Enter a whole number of yen greater than zero.")]
    elif amount > YEN_MAX:
        errors["amount"] = [N_("This amount is too large.")]
    if paid_on is None:
        errors["paid_on"] = [N_("Enter the date the money was paid in.")]
    elif paid_on > today:
        errors["paid_on"] = [N_("The payment date cannot be in the future.")]
    if not evidence:
        errors["evidence"] = [
            N_("Give a reference for the payment, e.g. the bank transfer number.")
        ]
    elif len(evidence) > EVIDENCE_MAX:
        errors["evidence"] = [N_("At most %(count)d characters.", count=EVIDENCE_MAX)]
    if errors:
        raise RuleViolation(N_("The investment could not be recorded."), errors)


def _refuse_duplicate(grant_id: int, vc_organization_id: int, evidence: str) -> None:
    """One payment is one reference: the same reference again for the same VC and grant is
    the same payment recorded twice, which would count its money twice."""
    query = select(Investment).where(
        Investment.grant_id == grant_id, Investment.vc_organization_id == vc_organization_id
    )
    wanted = _reference_key(evidence)
    for earlier in db.session.scalars(query.order_by(Investment.id)):
        if _reference_key(earlier.evidence) == wanted:
            message = N_(
                "A payment from this VC with the reference %(reference)s is already recorded "
                "(%(amount)s paid in on %(day)s).",
                reference=earlier.evidence,
                amount=Amount(earlier.amount),
                day=Day(earlier.paid_on),
            )
            raise RuleViolation(
                N_("The investment could not be recorded."), {"evidence": [message]}
            )


def _reference_key(evidence: str) -> str:
    """A reference as compared: full-width and case differences do not make another one."""
    return unicodedata.normalize("NFKC", evidence).strip().casefold()


def _get(investment_id: int) -> Investment:
    investment = db.session.get(Investment, investment_id)
    if investment is None:
        raise NotFound(N_("Not found."))
    return investment


def _lock(investment_id: int) -> Investment:
    """Re-read under a row lock: two officers verifying at once verify it once."""
    investment = db.session.scalar(
        select(Investment)
        .where(Investment.id == investment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if investment is None:
        raise NotFound(N_("Not found."))
    return investment
