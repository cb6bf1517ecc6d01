"""Tranche release: a milestone's money leaves its fiscal-year budget pool, exactly once.

Locks are always taken in the same order (grant, then milestone, then budget pools by
fiscal year) by every service that moves commitments, so concurrent releases,
amendments and terminations queue instead of deadlocking.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from grants.awards.facts import tranche_facts
from grants.awards.models import Disbursement, Grant, Milestone
from grants.awards.queries import get_milestone, require_on_grant
from grants.awards.service import lock_grant
from grants.core import audit
from grants.core.actors import Actor
from grants.core.calendar import fiscal_year_label
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.money import format_yen
from grants.core.permissions import Action
from grants.core.states import GrantState, MilestoneState, transition
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.programs.service import lock_pools, pool_numbers
from grants.rules import Phase, Trace, evaluate
from grants.rulesets import service as rulesets


def gate_trace(milestone: Milestone, release_date: date) -> Trace:
    """The tranche gates of the grant's pinned rule set, evaluated for `release_date`."""
    compiled = rulesets.compiled(milestone.grant.ruleset)
    return evaluate(compiled, Phase.TRANCHE_GATES, tranche_facts(milestone, release_date))


@use_case
def release(actor: Actor, milestone_id: int, today: date) -> Disbursement:
    """Release the tranche of an approved milestone of an active grant from its pool."""
    milestone = get_milestone(milestone_id)
    require_on_grant(Action.release_tranche, actor, milestone.grant, milestone)
    grant = lock_grant(milestone.grant_id)
    milestone = _lock_milestone(milestone_id)
    pool = lock_pools(grant.program_id, [milestone.fiscal_year]).get(milestone.fiscal_year)
    # First: a double click on the last tranche must say "released", not "grant completed".
    if is_released(milestone.id):
        raise Conflict(_("This tranche has already been released."))
    if grant.state != GrantState.active:
        raise Conflict(_("Tranches are released only for active grants."))
    if milestone.state != MilestoneState.approved:
        raise Conflict(_("Only an approved milestone's tranche can be released."))
    _check_gates(gate_trace(milestone, today))
    amount = milestone.tranche_amount
    if pool is None:
        raise RuleViolation(_no_pool_message(milestone.fiscal_year))
    _check_room(pool, amount)
    before = pool_numbers(pool)
    # A commitment that was never recorded (data from before the pools) cannot go negative.
    pool.committed = max(pool.committed - amount, 0)
    pool.released += amount
    milestone.released_at = utcnow()
    disbursement = Disbursement(
        milestone_id=milestone.id,
        grant_id=grant.id,
        budget_pool_id=pool.id,
        amount=amount,
        fiscal_year=milestone.fiscal_year,
        released_by_id=actor.id,
        released_at=milestone.released_at,
    )
    db.session.add(disbursement)
    _insert_or_conflict()
    completed = _complete_if_done(grant, milestone)
    after = pool_numbers(pool) | {"milestone_id": milestone.id, "amount": amount}
    audit.record(actor, "tranche.release", disbursement, before, after | {"completed": completed})
    db.session.commit()
    return disbursement


def pool_of(milestone: Milestone) -> BudgetPool | None:
    return db.session.scalar(
        select(BudgetPool).where(
            BudgetPool.program_id == milestone.grant.program_id,
            BudgetPool.fiscal_year == milestone.fiscal_year,
        )
    )


def is_released(milestone_id: int) -> bool:
    query = select(exists().where(Disbursement.milestone_id == milestone_id))
    return bool(db.session.scalar(query))


def _lock_milestone(milestone_id: int) -> Milestone:
    milestone = db.session.scalar(
        select(Milestone)
        .where(Milestone.id == milestone_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if milestone is None:
        raise NotFound(_("Not found."))
    return milestone


def _check_gates(trace: Trace) -> None:
    if trace.ok:
        return
    locale = _locale()
    messages = [_gate_message(row, locale) for row in trace.blocking]
    raise RuleViolation(
        _("The tranche cannot be released: %(reasons)s", reasons="; ".join(messages)),
        {"gates": messages},
    )


def _gate_message(row: Any, locale: str) -> str:
    label = (row.label or {}).get(locale) or row.rule_id
    return f"{label}: {row.message[locale]}"


def _check_room(pool: BudgetPool, amount: int) -> None:
    shortfall = pool.released + amount - pool.appropriation
    if shortfall > 0:
        locale = _locale()
        raise RuleViolation(
            _(
                "The %(year)s budget pool cannot cover this tranche: %(shortfall)s short "
                "(appropriation %(appropriation)s, already released %(released)s).",
                year=fiscal_year_label(pool.fiscal_year, locale),
                shortfall=format_yen(shortfall, locale),
                appropriation=format_yen(pool.appropriation, locale),
                released=format_yen(pool.released, locale),
            ),
            {"pool": [_("Not enough money left in this fiscal year's budget pool.")]},
        )


def _no_pool_message(year: int) -> str:
    return _(
        "There is no budget pool for %(year)s in this programme.",
        year=fiscal_year_label(year, _locale()),
    )


def _complete_if_done(grant: Grant, releasing: Milestone) -> bool:
    """The grant completes when every milestone is approved and released (this one now)."""
    # The grant row is locked, so no other release of this grant runs meanwhile.
    states = db.session.execute(
        select(Milestone.id, Milestone.state).where(Milestone.grant_id == grant.id)
    ).all()
    if not all(state == MilestoneState.approved for _id, state in states):
        return False
    released = set(
        db.session.scalars(
            select(Disbursement.milestone_id).where(Disbursement.grant_id == grant.id)
        )
    )
    if any(mid not in released and mid != releasing.id for mid, _state in states):
        return False
    grant.state = transition(grant.state, GrantState.completed)
    return True


def _insert_or_conflict() -> None:
    """The unique disbursement per milestone is the last line against a double release."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_("This tranche has already been released.")) from None


def _locale() -> str:
    return str(get_locale() or "ja")
