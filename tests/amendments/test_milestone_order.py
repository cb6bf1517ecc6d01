"""Staged milestones: evidence goes to the grant's current milestone only."""

from __future__ import annotations

import pytest

from grants.core.identity import Role
from grants.core.permissions import Action, Reason, Subject, decide
from grants.core.states import MilestoneState, awaits_earlier_milestone, current_milestone

P, S, A, C, R = "planned", "submitted", "approved", "changes_requested", "rejected"


@pytest.mark.parametrize(
    ("states", "current"),
    [
        ((P, P, P), 1),
        ((A, P, P), 2),
        ((A, C, P), 2),
        ((A, S, P), 2),  # under review: still the current one
        ((A, R, P), 2),  # a no-go stays current: nothing after it
        ((A, A, A), None),
        ((), None),
    ],
)
def test_the_current_milestone_is_the_first_not_approved(
    states: tuple[str, ...], current: int | None
) -> None:
    pairs = list(enumerate(states, start=1))
    assert current_milestone(pairs) == current
    assert current_milestone(reversed(pairs)) == current  # order of the pairs does not matter


def test_awaiting_an_earlier_milestone() -> None:
    pairs = [(1, A), (2, S), (3, P)]
    assert [awaits_earlier_milestone(n, pairs) for n in (1, 2, 3)] == [False, False, True]
    assert not awaits_earlier_milestone(1, [(1, P), (2, P)])
    assert awaits_earlier_milestone(2, [(1, P), (2, P)])
    assert awaits_earlier_milestone(3, [(1, A), (2, C), (3, P)])


def _grantee(state: str, earlier: bool) -> Subject:
    return Subject(Role.applicant, is_owner_org=True, state=state, awaits_earlier_milestone=earlier)


def test_evidence_for_a_later_milestone_is_refused_as_a_conflict() -> None:
    assert decide(Action.submit_evidence, _grantee(P, False)).allowed
    later = _grantee(P, True)
    assert decide(Action.submit_evidence, later).reason is Reason.not_current_milestone


def test_who_and_state_are_checked_before_the_order() -> None:
    stranger = Subject(Role.applicant, state=P, awaits_earlier_milestone=True)
    assert decide(Action.submit_evidence, stranger).reason is Reason.not_owner
    approved = _grantee(MilestoneState.approved, True)
    assert decide(Action.submit_evidence, approved).reason is Reason.state


def test_the_order_flag_concerns_evidence_only() -> None:
    reviewer = Subject(
        Role.reviewer, is_assigned_reviewer=True, state=S, awaits_earlier_milestone=True
    )
    assert decide(Action.review_milestone, reviewer).allowed
