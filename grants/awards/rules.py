"""Outcome of a milestone review round from the eligible reviewers' decisions, and the grant
states in which each action on a grant can happen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from grants.core.permissions import Action
from grants.core.states import (
    GRANT_TRANSITIONS,
    RUNNING,
    GrantState,
    MilestoneState,
    ReviewDecision,
    still_to_release,
)

# The grant states in which an action on the grant's milestones, reviewers or money can
# happen: the use cases refuse the others with a Conflict in their own words, and pages offer
# the action only then. (release_tranche checks its grant in the permission table.)
_ACTIVE: Final = frozenset({GrantState.active})
GRANT_STATES: Final[Mapping[Action, frozenset[GrantState]]] = {
    Action.submit_evidence: _ACTIVE,
    Action.review_milestone: _ACTIVE,
    Action.request_amendment: _ACTIVE,
    Action.assign_reviewers: frozenset(RUNNING),
    Action.record_investment: frozenset(RUNNING),
    Action.terminate_grant: frozenset(
        state for state, targets in GRANT_TRANSITIONS.items() if GrantState.terminated in targets
    ),
}


def grant_allows(action: Action, grant_state: str) -> bool:
    """Whether a grant in `grant_state` takes `action` now (GRANT_STATES)."""
    return grant_state in GRANT_STATES[action]


def decide_round(decisions: Sequence[ReviewDecision], quorum: int) -> MilestoneState | None:
    """The milestone state a review round leads to, or None while the round is open.

    `decisions` are those of eligible (non-conflicted) reviewers only. The round
    stays open (None) until at least `quorum` decisions are in. Then a single
    no-go from the round is decisive: any reject -> rejected; otherwise any
    request_changes -> changes_requested; otherwise approved, so approval needs
    `quorum` approvals with no objection. A quorum below 1 raises ValueError.
    """
    if quorum < 1:
        raise ValueError(f"quorum must be at least 1, got {quorum}")
    if len(decisions) < quorum:
        return None
    if ReviewDecision.reject in decisions:
        return MilestoneState.rejected
    if ReviewDecision.request_changes in decisions:
        return MilestoneState.changes_requested
    return MilestoneState.approved


def quorum_of(document: dict[str, Any]) -> int:
    """The `min` of the rule set's review_quorum tranche gate (DEFAULT_QUORUM when absent)."""
    for rule in document.get("rules", []):
        if rule.get("phase") == "tranche_gates" and rule.get("type") == "review_quorum":
            return int(rule.get("params", {}).get("min", DEFAULT_QUORUM))
    return DEFAULT_QUORUM


DEFAULT_QUORUM = 2


@dataclass(frozen=True)
class GrantMoney:
    """A grant's money as every page, API answer and export shows it: the award, what was
    released, and what may still be released (nothing once the grant was terminated)."""

    award: int
    released: int
    state: GrantState

    @property
    def remaining(self) -> int:
        return still_to_release(self.award, self.released, self.state)
