from enum import StrEnum
from itertools import product

import pytest

from grants.core.identity import Role
from grants.core.states import (
    AmendmentKind,
    AmendmentState,
    ApplicationState,
    GrantState,
    MilestoneState,
    ReviewDecision,
    can_transition,
    label,
    no_go,
    still_to_release,
    waits_for_no_go,
)

# The allowed edges, written independently of the module's tables.
ALLOWED: dict[type[StrEnum], set[str]] = {
    ApplicationState: {
        "draft>submitted",
        "draft>withdrawn",
        "submitted>screened_eligible",
        "submitted>screened_ineligible",
        "submitted>withdrawn",
        "screened_eligible>under_review",
        "screened_eligible>rejected",
        "screened_eligible>awarded",
        "screened_ineligible>rejected",
        "under_review>awarded",
        "under_review>rejected",
    },
    GrantState: {
        "active>suspended",
        "active>completed",
        "active>terminated",
        "suspended>active",
        "suspended>terminated",
    },
    MilestoneState: {
        "planned>submitted",
        "planned>cancelled",
        "submitted>approved",
        "submitted>changes_requested",
        "submitted>rejected",
        "submitted>cancelled",
        "changes_requested>submitted",
        "changes_requested>cancelled",
        "approved>cancelled",
    },
    AmendmentState: {
        "requested>approved",
        "requested>declined",
        "requested>withdrawn",
    },
}

PAIRS = [
    pytest.param(
        current, target, f"{current}>{target}" in edges, id=f"{kind.__name__}:{current}>{target}"
    )
    for kind, edges in ALLOWED.items()
    for current, target in product(kind, repeat=2)
]

ALL_ENUMS = [
    Role,
    ApplicationState,
    GrantState,
    MilestoneState,
    ReviewDecision,
    AmendmentState,
    AmendmentKind,
]


def test_expected_edges_name_real_states() -> None:
    for kind, edges in ALLOWED.items():
        for edge in edges:
            current, target = edge.split(">")
            assert kind(current) and kind(target)


@pytest.mark.parametrize(("current", "target", "allowed"), PAIRS)
def test_transition_table(current: StrEnum, target: StrEnum, allowed: bool) -> None:
    assert can_transition(current, target) is allowed


def test_terminal_states_go_nowhere() -> None:
    for terminal in (MilestoneState.cancelled, GrantState.completed, GrantState.terminated):
        assert not any(can_transition(terminal, target) for target in type(terminal))


def test_an_approval_can_only_be_cancelled_by_a_termination_and_a_no_go_stays() -> None:
    def reachable(decided: MilestoneState) -> set[MilestoneState]:
        return {target for target in MilestoneState if can_transition(decided, target)}

    assert reachable(MilestoneState.approved) == {MilestoneState.cancelled}
    assert reachable(MilestoneState.rejected) == set()


def test_kinds_do_not_mix() -> None:
    # "submitted" -> "rejected" is a milestone edge; it must not leak into applications.
    assert can_transition(MilestoneState.submitted, MilestoneState.rejected)
    assert not can_transition(ApplicationState.submitted, ApplicationState.rejected)
    with pytest.raises(TypeError):
        can_transition(ApplicationState.submitted, MilestoneState.rejected)


def test_enums_without_lifecycle_have_no_transitions() -> None:
    with pytest.raises(TypeError):
        can_transition(Role.applicant, Role.admin)
    with pytest.raises(TypeError):
        can_transition(ReviewDecision.approve, ReviewDecision.reject)


@pytest.mark.parametrize("kind", ALL_ENUMS, ids=lambda kind: kind.__name__)
def test_every_member_has_both_labels(kind: type[StrEnum]) -> None:
    ja = [label(member, "ja") for member in kind]
    en = [label(member, "en") for member in kind]
    assert all(ja) and all(en)
    assert all(not text.isascii() for text in ja)
    assert all(a != b for a, b in zip(ja, en, strict=True))
    assert len(set(ja)) == len(ja) and len(set(en)) == len(en)


def test_label_examples() -> None:
    assert label(MilestoneState.changes_requested, "ja") == "修正依頼"
    assert label(MilestoneState.changes_requested, "en") == "Changes requested"
    assert label(ApplicationState.screened_eligible, "ja") == "要件審査: 適格"
    assert label(ApplicationState.screened_eligible, "en") == "Screened: eligible"


def test_labels_follow_the_enum_not_the_value() -> None:
    assert label(ApplicationState.rejected, "ja") != label(MilestoneState.rejected, "ja")


def test_unknown_locale_is_refused() -> None:
    with pytest.raises(ValueError):
        label(GrantState.active, "fr")


def test_nothing_is_still_to_release_once_a_grant_is_terminated() -> None:
    assert still_to_release(900, 300, GrantState.active) == 600
    assert still_to_release(900, 300, GrantState.suspended) == 600
    assert still_to_release(900, 300, GrantState.terminated) == 0
    assert still_to_release(900, 900, GrantState.completed) == 0
    assert still_to_release(900, 1000, GrantState.active) == 0  # never below nothing


def test_a_rejected_current_milestone_holds_the_later_ones() -> None:
    stages = [(1, "approved"), (2, "rejected"), (3, "planned"), (4, "changes_requested")]
    assert no_go(stages) == 2
    assert waits_for_no_go(3, "planned", stages) and waits_for_no_go(4, "changes_requested", stages)
    assert not waits_for_no_go(2, "rejected", stages)
    assert not waits_for_no_go(3, "submitted", stages)  # not awaiting evidence


def test_no_no_go_while_the_current_milestone_is_open_or_all_are_approved() -> None:
    assert no_go([(1, "approved"), (2, "submitted"), (3, "rejected")]) is None
    assert no_go([(1, "approved"), (2, "approved")]) is None
    assert not waits_for_no_go(3, "planned", [(1, "approved"), (2, "planned"), (3, "planned")])
