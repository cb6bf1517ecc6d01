from itertools import combinations_with_replacement, permutations

import pytest

from grants.awards.rules import decide_round
from grants.core.states import MilestoneState, ReviewDecision

APPROVE = ReviewDecision.approve
CHANGES = ReviewDecision.request_changes
REJECT = ReviewDecision.reject


@pytest.mark.parametrize("quorum", [0, -1])
def test_quorum_below_one_is_refused(quorum: int) -> None:
    with pytest.raises(ValueError, match="quorum"):
        decide_round([APPROVE], quorum)


@pytest.mark.parametrize(
    ("decisions", "quorum", "expected"),
    [
        ([], 1, None),
        ([APPROVE], 1, MilestoneState.approved),
        ([APPROVE], 2, None),
        ([REJECT], 2, None),
        ([APPROVE, APPROVE], 2, MilestoneState.approved),
        ([APPROVE, CHANGES], 2, MilestoneState.changes_requested),
        ([CHANGES, REJECT], 2, MilestoneState.rejected),
        ([APPROVE, APPROVE, REJECT], 2, MilestoneState.rejected),
        ([APPROVE, APPROVE, APPROVE], 3, MilestoneState.approved),
        ([APPROVE, APPROVE], 3, None),
    ],
)
def test_rounds(
    decisions: list[ReviewDecision], quorum: int, expected: MilestoneState | None
) -> None:
    assert decide_round(decisions, quorum) is expected


def test_every_round_up_to_four_reviewers() -> None:
    for size in range(5):
        for decisions in combinations_with_replacement(ReviewDecision, size):
            for quorum in range(1, 5):
                outcomes = {decide_round(list(p), quorum) for p in permutations(decisions)}
                assert len(outcomes) == 1, "the order of decisions must not matter"
                assert outcomes.pop() is _expected(list(decisions), quorum)


def _expected(decisions: list[ReviewDecision], quorum: int) -> MilestoneState | None:
    if len(decisions) < quorum:
        return None
    if decisions.count(APPROVE) == len(decisions):
        return MilestoneState.approved
    return MilestoneState.rejected if REJECT in decisions else MilestoneState.changes_requested
