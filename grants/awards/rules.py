"""Outcome of a milestone review round from the eligible reviewers' decisions."""

from __future__ import annotations

from collections.abc import Sequence

from grants.core.states import MilestoneState, ReviewDecision


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
