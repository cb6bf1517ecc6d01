"""What terminating a grant would do, and whether the actor may terminate it now."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from grants.awards.models import Grant, Milestone
from grants.awards.queries import grant_subject, may_now, released_ids
from grants.core.actors import Actor
from grants.core.permissions import Action
from grants.core.states import MilestoneState


@dataclass(frozen=True)
class TerminationPlan:
    """What a termination would do: the milestones to cancel and the yen back per fiscal year."""

    cancelled: list[Milestone]
    returned: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.returned.values())


@dataclass(frozen=True)
class TerminationView:
    grant: Grant
    plan: TerminationPlan
    may_terminate: bool  # an officer, and the grant can still become terminated


def termination_view(actor: Actor, grant: Grant) -> TerminationView:
    may_terminate = may_now(Action.terminate_grant, grant_subject(actor, grant))
    return TerminationView(grant, plan(grant), may_terminate)


def plan(grant: Grant) -> TerminationPlan:
    """Every milestone that is neither cancelled nor released is cancelled; read-only."""
    return plan_for(grant.milestones, released_ids(grant.id))


def plan_for(milestones: Iterable[Milestone], released: set[int]) -> TerminationPlan:
    cancelled = [
        m for m in milestones if m.state != MilestoneState.cancelled and m.id not in released
    ]
    returned: dict[int, int] = defaultdict(int)
    for milestone in cancelled:
        returned[milestone.fiscal_year] += milestone.tranche_amount
    return TerminationPlan(cancelled, dict(sorted(returned.items())))
