"""Ending a grant early: its unreleased tranches are cancelled and return to their pools."""

from __future__ import annotations

from datetime import date
from typing import Any

from grants.awards.models import Grant, Milestone
from grants.awards.queries import get_grant, grantee_and_reviewers, released_ids, require_on_grant
from grants.awards.service import lock_grant, lock_milestones
from grants.awards.termination.queries import plan_for
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.db import use_case
from grants.core.errors import RuleViolation
from grants.core.models import utcnow
from grants.core.permissions import Action
from grants.core.problems import N_
from grants.core.states import GrantState, MilestoneState, transition
from grants.extensions import db
from grants.programs.service import lock_pools, pool_numbers

REASON_MAX = 2000


@use_case
def terminate(actor: Actor, grant_id: int, reason: str, today: date) -> Grant:
    """End an active or suspended grant; one transaction, audited."""
    grant = get_grant(grant_id)
    require_on_grant(Action.terminate_grant, actor, grant)
    reason = (reason or "").strip()
    _check_reason(reason)
    grant = lock_grant(grant_id)
    before_state = grant.state
    grant.state = transition(grant.state, GrantState.terminated)
    todo = plan_for(lock_milestones(grant.id), released_ids(grant.id))
    pools = lock_pools(grant.program_id, todo.returned)
    pools_before = {str(year): pool_numbers(pool) for year, pool in pools.items()}
    cancelled = [_cancel(milestone) for milestone in todo.cancelled]
    for year, amount in todo.returned.items():
        if year in pools:  # no pool: the commitment was never recorded anywhere
            pools[year].committed = max(pools[year].committed - amount, 0)
    grant.terminated_at = utcnow()
    grant.termination_reason = reason
    before: dict[str, Any] = {"state": str(before_state), "pools": pools_before}
    after: dict[str, Any] = {
        "state": str(grant.state),
        "reason": reason,
        "on": today.isoformat(),
        "cancelled": cancelled,
        "returned": {str(year): amount for year, amount in todo.returned.items()},
        "pools": {str(year): pool_numbers(pool) for year, pool in pools.items()},
    }
    audit.record(actor, "grant.terminate", grant, before, after)
    notify.record(
        actor,
        grantee_and_reviewers(grant),
        AlertKind.grant_terminated,
        SubjectType.grant,
        grant.id,
        today=today,
        grant_id=grant.id,
    )
    db.session.commit()
    return grant


def _cancel(milestone: Milestone) -> dict[str, Any]:
    """Drop the milestone's tranche. A No-Go keeps its state, the outcome on record; any
    other milestone is cancelled, and no longer counts as overdue."""
    before = str(milestone.state)
    if milestone.state != MilestoneState.rejected:
        milestone.state = transition(milestone.state, MilestoneState.cancelled)
    milestone.overdue_since = None
    return {
        "milestone_id": milestone.id,
        "from": before,
        "fiscal_year": milestone.fiscal_year,
        "amount": milestone.tranche_amount,
    }


def _check_reason(reason: str) -> None:
    if not reason:
        message = N_("Give the reason for ending the grant.")
    elif len(reason) > REASON_MAX:
        message = N_("At most %(count)d characters.", count=REASON_MAX)
    else:
        return
    raise RuleViolation(message, {"reason": [message]})
