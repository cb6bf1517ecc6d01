"""A grant's VC paid-in investments as the officers' page shows them, and what the actor
may do with them now."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select

from grants.accounts.models import Organization
from grants.awards.models import Grant, Investment
from grants.awards.queries import grant_subject, may_now
from grants.core.actors import Actor
from grants.core.permissions import Action, Subject, decide
from grants.extensions import db


@dataclass(frozen=True)
class InvestmentsView:
    grant: Grant
    rows: list[Investment]  # by payment date
    may_record: bool  # an officer, while the grant is open
    verifiable: frozenset[int]  # recorded by another officer and not verified yet

    @property
    def verified_total(self) -> int:
        return sum(i.amount for i in self.rows if i.verified_at is not None)

    @property
    def pending_total(self) -> int:
        return sum(i.amount for i in self.rows if i.verified_at is None)


def investments_view(actor: Actor, grant: Grant) -> InvestmentsView:
    subject = grant_subject(actor, grant)
    rows = for_grant(grant.id)
    return InvestmentsView(
        grant=grant,
        rows=rows,
        may_record=may_now(Action.record_investment, subject),
        verifiable=frozenset(
            i.id
            for i in rows
            if i.verified_at is None
            and decide(Action.verify_investment, _as_verifier(subject, actor, i)).allowed
        ),
    )


def verifier_subject(actor: Actor, grant: Grant, investment: Investment) -> Subject:
    """The actor's relation to `investment` for verifying it: not the one who recorded it."""
    return _as_verifier(grant_subject(actor, grant), actor, investment)


def _as_verifier(subject: Subject, actor: Actor, investment: Investment) -> Subject:
    return replace(subject, is_recorder=investment.recorded_by_id == actor.id)


def for_grant(grant_id: int) -> list[Investment]:
    query = select(Investment).where(Investment.grant_id == grant_id)
    return list(db.session.scalars(query.order_by(Investment.paid_on, Investment.id)))


def co_investors(grant: Grant) -> list[Organization]:
    """The VCs declared as co-investors in the grant's application, lead first."""
    rows = sorted(grant.application.co_investments, key=lambda ci: (not ci.is_lead, ci.vc.name))
    return [ci.vc for ci in rows]
