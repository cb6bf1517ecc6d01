"""Use cases for officers before the award: screening, awarding (the grant), rejecting."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grants.accounts.queries import organisation_applicants
from grants.applications.award_terms import RuleRefusal, computed, refusals
from grants.applications.models import Application
from grants.applications.service import locked
from grants.awards.models import Grant, Milestone
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.calendar import fiscal_year
from grants.core.db import locked_row, use_case
from grants.core.errors import Conflict, RuleViolation
from grants.core.models import utcnow
from grants.core.money import Amount
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.core.states import ApplicationState, GrantState, MilestoneState, transition
from grants.extensions import db
from grants.merit_review.service import follow_ranking
from grants.programs.models import BudgetPool, Program
from grants.rules import Trace
from grants.rules.tranches import reduced_tranches
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet

REASON_MAX = 2000


@use_case
def reject(actor: Actor, application_id: int, reason: str, today: date) -> Application:
    require(Action.reject_application, Subject(role=actor.role))
    reason = (reason or "").strip()
    if not reason:
        message = N_("Give the reason for the decision.")
        raise RuleViolation(message, {"reason": [message]})
    if len(reason) > REASON_MAX:
        message = N_("At most %(n)d characters.", n=REASON_MAX)
        raise RuleViolation(message, {"reason": [message]})
    application = locked(application_id)
    before = {"state": str(application.state)}
    application.state = transition(application.state, ApplicationState.rejected)
    application.decision_reason = reason
    application.updated_at = utcnow()
    after = {"state": "rejected", "decision_reason": reason}
    audit.record(actor, "application.reject", application, before, after)
    notify.record(
        actor,
        organisation_applicants(application.organization_id),
        AlertKind.application_rejected,
        SubjectType.application,
        application.id,
        today=today,
    )
    db.session.commit()
    return application


# ---- award ----------------------------------------------------------------------------------


@use_case
def award(
    actor: Actor,
    application_id: int,
    today: date,
    departure_reason: str | None = None,
    amount: int | None = None,
) -> Grant:
    """Create the grant: subsidy from the rule set in force today, tranches committed to pools.

    `amount`: less than the award rules give (the tranches are cut from the last one
    backwards), as an officer may decide after a what-if on the ranking. Under merit review
    an award that departs from the ranking needs `departure_reason` (merit_review.service).
    """
    require(Action.award_application, Subject(role=actor.role))
    application = locked(application_id)
    transition(application.state, ApplicationState.awarded)  # refuse early: nothing computed
    ruleset = rulesets.in_force(application.program_id, today)
    if ruleset is None:
        raise RuleViolation(N_("No published rule set of this programme is in force today."))
    by_rules, trace = _subsidy(application, ruleset, today)
    amount = _chosen(amount, by_rules)
    planned = [m.tranche_amount for m in application.plan]
    tranches = reduced_tranches(planned, amount)
    amount = sum(tranches)
    years = [fiscal_year(m.due_date) for m in application.plan]
    needed = _needed(years, tranches)
    # The pools are locked before anything is written (a departure from the ranking is):
    # every award takes its locks in one order, so that two at once wait, never deadlock.
    locked_pools = _locked_pools(application.program_id, needed)
    ranking = follow_ranking(actor, application, today, departure_reason)
    pools = _commit_to_pools(locked_pools, needed)
    grant = Grant(
        number=_next_number(application),
        application_id=application.id,
        program_id=application.program_id,
        organization_id=application.organization_id,
        ruleset_id=ruleset.id,
        award_amount=amount,
        state=GrantState.active,
        awarded_by_id=actor.id,
        award_trace=trace.to_dict(),
    )
    db.session.add(grant)
    for planned_milestone, tranche, year in zip(application.plan, tranches, years, strict=True):
        grant.milestones.append(
            Milestone(
                sequence=planned_milestone.sequence,
                title=planned_milestone.title,
                criteria=list(planned_milestone.criteria),
                due_date=planned_milestone.due_date,
                tranche_amount=tranche,
                fiscal_year=year,
                state=MilestoneState.planned,
                round=0,
            )
        )
    before = {"state": str(application.state)}
    application.state = ApplicationState.awarded
    application.updated_at = utcnow()
    race = N_("This application or grant number was awarded at the same time. Reload the queue.")
    _flush(race)
    after = _award_after(application, grant, ruleset, planned, tranches, pools)
    if ranking is not None:
        after["ranking"] = ranking
    audit.record(actor, "grant.award", grant, None, after)
    audit.record(
        actor, "application.award", application, before, {"state": "awarded", "grant_id": grant.id}
    )
    notify.record(
        actor,
        organisation_applicants(application.organization_id),
        AlertKind.application_awarded,
        SubjectType.application,
        application.id,
        today=today,
        grant_id=grant.id,
    )
    _commit(race)
    return grant


@dataclass(frozen=True)
class AwardPreview:
    """What awarding today would give, for the officer's page (nothing is written)."""

    ruleset: RuleSet
    amount: int
    tranches: list[int]
    trace: Trace
    refusals: list[Problem | RuleRefusal]


def preview_award(application: Application, today: date) -> AwardPreview | None:
    """None when the programme has no rule set in force today."""
    ruleset = rulesets.in_force(application.program_id, today)
    if ruleset is None:
        return None
    amount, trace = computed(application, ruleset, today)
    refused = refusals(trace, amount)
    tranches = reduced_tranches([m.tranche_amount for m in application.plan], amount)
    return AwardPreview(ruleset, sum(tranches), tranches, trace, refused)


def _chosen(chosen: int | None, amount: int) -> int:
    """The rules' amount, or a lower one the officer chose (1 yen at least)."""
    if chosen is None:
        return amount
    if not 1 <= chosen <= amount:
        message = N_(
            "Give an amount from 1 to %(most)s yen, what the award rules give.", most=Amount(amount)
        )
        raise RuleViolation(message, {"amount": [message]})
    return chosen


def _subsidy(application: Application, ruleset: RuleSet, today: date) -> tuple[int, Trace]:
    """The amount by the award rules; a failing block rule that is not a cap refuses the award."""
    amount, trace = computed(application, ruleset, today)
    if refused := refusals(trace, amount):
        raise RuleViolation(N_("The award rules refuse this application."), {"award": refused})
    return amount, trace


def _needed(years: list[int], tranches: list[int]) -> dict[int, int]:
    """Each fiscal year's tranches (years without any left out)."""
    needed: dict[int, int] = defaultdict(int)
    for year, amount in zip(years, tranches, strict=True):
        if amount > 0:
            needed[year] += amount
    return needed


def _locked_pools(program_id: int, needed: dict[int, int]) -> dict[int, BudgetPool]:
    """The pools of the `needed` years, locked in the order of their years."""
    query = (
        select(BudgetPool)
        .where(BudgetPool.program_id == program_id, BudgetPool.fiscal_year.in_(list(needed)))
        .order_by(BudgetPool.fiscal_year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {pool.fiscal_year: pool for pool in db.session.scalars(query)}


def _commit_to_pools(pools: dict[int, BudgetPool], needed: dict[int, int]) -> dict[int, int]:
    """Add each fiscal year's tranches to its locked pool; refuse with every shortfall named."""
    problems = [_shortfall(year, pools.get(year), needed[year]) for year in sorted(needed)]
    if messages := [message for message in problems if message]:
        raise RuleViolation(
            N_("The budget pools cannot take these tranches."), {"budget": messages}
        )
    for year, amount in needed.items():
        pools[year].committed += amount
    return {year: pools[year].committed for year in sorted(needed)}


def _shortfall(year: int, pool: BudgetPool | None, amount: int) -> Problem | None:
    if pool is None:
        return N_(
            "FY%(year)d: there is no budget pool; %(amount)s yen are needed.",
            year=year,
            amount=f"{amount:,}",
        )
    short = pool.committed + pool.net_released + amount - pool.appropriation
    if short > 0:
        return N_(
            "FY%(year)d: the budget pool is %(short)s yen short.", year=year, short=f"{short:,}"
        )
    return None


def _next_number(application: Application) -> str:
    """The programme's next grant number; the programme row lock serialises numbering."""
    db.session.execute(
        select(Program.id).where(Program.id == application.program_id).with_for_update()
    )
    count = db.session.scalar(
        select(func.count()).select_from(Grant).where(Grant.program_id == application.program_id)
    )
    return f"{application.program.code}-{(count or 0) + 1:04d}"


def _award_after(
    application: Application,
    grant: Grant,
    ruleset: RuleSet,
    planned: list[int],
    tranches: list[int],
    pools: dict[int, int],
) -> dict[str, Any]:
    after: dict[str, Any] = {
        "number": grant.number,
        "application_id": application.id,
        "requested_subsidy": application.requested_subsidy,
        "award_amount": grant.award_amount,
        "ruleset_id": ruleset.id,
        "ruleset_version": ruleset.version,
        "tranches": tranches,
        "pools_committed": {str(year): committed for year, committed in pools.items()},
    }
    if tranches != planned:
        after["tranches_reduced"] = {
            "planned": planned,
            "awarded": tranches,
            "note": "reduced from the last milestone backwards to match the award amount",
        }
    return after


def _flush(race_message: Problem) -> None:
    """Flush the new grant; a number or application taken concurrently is a conflict."""
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(race_message) from None


def _commit(race_message: Problem) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(race_message) from None


def lock_grant(grant_id: int) -> Grant:
    """The grant, row-locked and re-read (first in the lock order)."""
    return locked_row(Grant, grant_id)


def lock_milestones(grant_id: int) -> list[Milestone]:
    """The grant's milestones, row-locked and re-read, in sequence order."""
    query = (
        select(Milestone)
        .where(Milestone.grant_id == grant_id)
        .order_by(Milestone.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return sorted(db.session.scalars(query), key=lambda m: m.sequence)
