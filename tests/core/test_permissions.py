from collections.abc import Callable
from dataclasses import replace
from itertools import product
from typing import Any

import pytest

from grants.core.errors import Conflict, DomainError, NotAllowed
from grants.core.identity import Role
from grants.core.permissions import (
    Action,
    Reason,
    Subject,
    decide,
    refused_state,
    require,
)
from grants.core.states import ApplicationState, GrantState, MilestoneState

A = Action
Spec = Callable[[Subject], bool]

STATES: list[str | None] = [
    None,
    *sorted(
        {str(state) for kind in (ApplicationState, GrantState, MilestoneState) for state in kind}
    ),
]


def always(_: Subject) -> bool:
    return True


def never(_: Subject) -> bool:
    return False


def own(*states: str) -> Spec:
    return lambda s: s.is_owner_org and (not states or s.state in states)


def assigned(s: Subject) -> bool:
    return s.is_assigned_reviewer


def assigned_clean(s: Subject) -> bool:
    return s.is_assigned_reviewer and not s.is_conflicted


# Who may do what, written as the brief states it; anything missing is refused.
ADMIN = {A.view_admin, A.manage_users, A.manage_organizations, A.manage_certified_vcs, A.view_audit}
OFFICER = {
    A.manage_programs,
    A.edit_ruleset,
    A.publish_ruleset,
    A.run_what_if,
    A.screen_application,
    A.award_application,
    A.reject_application,
    A.assign_reviewers,
    A.record_investment,
    A.decide_amendment,
    A.terminate_grant,
    A.view_portfolio,
    A.view_application,
    A.view_grant,
    A.download_evidence,
    A.discuss,
    A.discuss_internally,
    A.inspect_results_report,
    A.record_excess_return,
    A.view_merit_review,
    A.view_ranking,
}
SPEC: dict[tuple[Action, Role], Spec] = {
    **{(action, Role.admin): always for action in ADMIN | {A.view_portfolio}},
    **{(action, Role.officer): always for action in OFFICER},
    (A.release_tranche, Role.officer): lambda s: (
        releasable(s)
        and not s.is_awarding_officer
        and not s.needs_second_officer
        and not s.has_prepared_release
    ),
    # Subjects here never inspected a report: the two-person check is tested below.
    (A.confirm_final_amount, Role.officer): always,
    (A.file_results_report, Role.applicant): own(),
    # the awarding officer may prepare a release: another officer approves it
    (A.prepare_release, Role.officer): lambda s: releasable(s) and not s.has_prepared_release,
    (A.approve_release, Role.officer): lambda s: (
        releasable(s) and s.has_prepared_release and not s.is_awarding_officer and not s.is_preparer
    ),
    (A.cancel_release, Role.officer): lambda s: s.has_prepared_release and not s.is_released,
    (A.verify_investment, Role.officer): lambda s: not s.is_recorder,
    (A.confirm_role_change, Role.admin): lambda s: not s.is_requester and not s.is_own_account,
    (A.create_application, Role.applicant): always,
    (A.edit_application, Role.applicant): own("draft"),
    (A.submit_application, Role.applicant): own("draft"),
    (A.withdraw_application, Role.applicant): own("draft", "submitted"),
    (A.view_application, Role.applicant): own(),
    (A.view_grant, Role.applicant): own(),
    (A.submit_evidence, Role.applicant): own("planned", "changes_requested"),
    (A.request_amendment, Role.applicant): own(),
    (A.download_evidence, Role.applicant): own(),
    (A.review_milestone, Role.reviewer): lambda s: assigned_clean(s) and s.state == "submitted",
    (A.declare_conflict, Role.reviewer): always,
    (A.view_grant, Role.reviewer): assigned,
    (A.download_evidence, Role.reviewer): assigned_clean,
    # conversations: the grantee shares, the grant's clean reviewers also write internally
    (A.discuss, Role.applicant): own(),
    (A.discuss, Role.reviewer): assigned_clean,
    (A.discuss_internally, Role.reviewer): assigned_clean,
    (A.view_merit_review, Role.reviewer): assigned,
    (A.score_application, Role.reviewer): lambda s: assigned_clean(s) and s.state == "under_review",
    (A.view_feedback, Role.applicant): own("awarded", "rejected"),
}


def releasable(s: Subject) -> bool:
    """Approved, not out yet, of an active grant, by an officer who did not review it."""
    return (
        not s.is_reviewer_of_milestone
        and not s.is_released
        and s.grant_state == "active"
        and s.state == "approved"
    )


GRANT_STATES = [None, "active", "suspended"]
# The separations of duties, one at a time, and a prepared release with its preparer.
SEPARATIONS: list[dict[str, bool]] = [
    {},
    {"is_awarding_officer": True},
    {"needs_second_officer": True},
    {"has_prepared_release": True},
    {"has_prepared_release": True, "is_preparer": True},
    {"has_prepared_release": True, "is_awarding_officer": True},
    {"is_recorder": True},
    {"is_requester": True},
    {"is_own_account": True},
]


def subjects(role: Role) -> list[Subject]:
    """Every combination of relation flags, object state and grant state, for one role."""
    return [
        Subject(
            role,
            owner,
            assigned,
            conflicted,
            reviewed,
            state,
            grant_state=grant_state,
            is_released=released,
            **separations,
        )
        for owner, assigned, conflicted, reviewed, released in product((False, True), repeat=5)
        for state in STATES
        for grant_state in GRANT_STATES
        for separations in SEPARATIONS
    ]


@pytest.mark.parametrize(("action", "role"), list(product(Action, Role)))
def test_permission_matrix(action: Action, role: Role) -> None:
    spec = SPEC.get((action, role), never)
    for subject in subjects(role):
        decision = decide(action, subject)
        assert decision.allowed is spec(subject), subject
        assert (decision.reason is Reason.ok) is decision.allowed


@pytest.mark.parametrize("action", list(Action))
def test_every_action_is_allowed_to_someone(action: Action) -> None:
    assert any(key[0] is action for key in SPEC)


def _reason(action: Action, role: Role, **relation: Any) -> Reason:
    return decide(action, replace(Subject(role), **relation)).reason


def test_the_inspecting_officer_does_not_confirm_the_final_amount() -> None:
    assert _reason(A.confirm_final_amount, Role.officer, is_inspector=True) is (
        Reason.separation_of_duties
    )
    with pytest.raises(NotAllowed, match="another officer confirms"):
        require(A.confirm_final_amount, Subject(Role.officer, is_inspector=True))
    with pytest.raises(NotAllowed, match="Administrators do not handle money"):
        require(A.confirm_final_amount, Subject(Role.admin))


def test_reason_for_wrong_role() -> None:
    assert _reason(A.manage_users, Role.officer) is Reason.role
    assert _reason(A.review_milestone, Role.officer, state="submitted") is Reason.role


def test_owner_is_checked_before_state() -> None:
    assert _reason(A.edit_application, Role.applicant, state="submitted") is Reason.not_owner
    assert _reason(A.edit_application, Role.applicant, is_owner_org=True, state="submitted") is (
        Reason.state
    )


def test_reviewer_reasons() -> None:
    relation = {"is_assigned_reviewer": True, "state": "submitted"}
    assert _reason(A.review_milestone, Role.reviewer, **relation) is Reason.ok
    assert _reason(A.review_milestone, Role.reviewer, state="submitted") is Reason.not_assigned
    conflicted = {**relation, "is_conflicted": True}
    assert _reason(A.review_milestone, Role.reviewer, **conflicted) is Reason.conflicted
    assert _reason(A.download_evidence, Role.reviewer, **conflicted) is Reason.conflicted
    approved = {**relation, "state": "approved"}
    assert _reason(A.review_milestone, Role.reviewer, **approved) is Reason.state


def test_officer_who_reviewed_the_milestone_cannot_release() -> None:
    officer = Subject(Role.officer, state="approved", grant_state="active")
    assert decide(A.release_tranche, officer).allowed
    reviewer_officer = replace(officer, is_reviewer_of_milestone=True)
    assert decide(A.release_tranche, reviewer_officer).reason is Reason.separation_of_duties


def test_a_tranche_is_released_once_for_an_approved_milestone_of_an_active_grant() -> None:
    officer = Subject(Role.officer, state="approved", grant_state="active")
    released = replace(officer, is_released=True)
    assert _release_refusal(released) == (Conflict, "This tranche has already been released.")
    suspended = replace(officer, grant_state="suspended")
    assert _release_refusal(suspended) == (
        Conflict,
        "Tranches are released only for active grants.",
    )
    submitted = replace(officer, state="submitted")
    assert _release_refusal(submitted) == (
        Conflict,
        "Only an approved milestone's tranche can be released.",
    )
    # released first: the last tranche completes the grant, and a double click says so
    completed = replace(released, grant_state="completed")
    assert decide(A.release_tranche, completed).reason is Reason.released
    reviewed = replace(released, is_reviewer_of_milestone=True)
    assert _release_refusal(reviewed) == (
        NotAllowed,
        "You reviewed this milestone: another officer must do this.",
    )


def _release_refusal(subject: Subject) -> tuple[type[Exception], str]:
    with pytest.raises(DomainError) as caught:
        require(A.release_tranche, subject)
    return type(caught.value), caught.value.message


def test_a_decision_tells_the_states_refusals_from_the_actors() -> None:
    officer = Subject(Role.officer, state="submitted", grant_state="active")
    not_yet = decide(A.release_tranche, officer)
    assert not not_yet.state_allows and not_yet.actor_allowed
    reviewed = decide(A.release_tranche, replace(officer, is_reviewer_of_milestone=True))
    assert reviewed.reason is Reason.separation_of_duties
    assert not reviewed.state_allows and not reviewed.actor_allowed
    approved = replace(officer, state="approved", is_reviewer_of_milestone=True)
    assert decide(A.release_tranche, approved).state_allows
    assert not decide(A.release_tranche, approved).actor_allowed
    assert decide(A.release_tranche, replace(approved, is_reviewer_of_milestone=False)).allowed


@pytest.mark.parametrize(
    "action", [A.award_application, A.release_tranche, A.record_investment, A.verify_investment]
)
def test_admin_does_not_move_money(action: Action) -> None:
    assert _reason(action, Role.admin) is Reason.separation_of_duties


def test_the_refusing_state_is_named_as_a_member_of_its_own_enum() -> None:
    grantee = {"is_owner_org": True}
    ineligible = Subject(Role.applicant, state="screened_ineligible", **grantee)
    assert refused_state(A.edit_application, ineligible) is ApplicationState.screened_ineligible
    approved = Subject(Role.applicant, state="approved", **grantee)
    assert refused_state(A.submit_evidence, approved) is MilestoneState.approved
    assert (
        refused_state(A.edit_application, Subject(Role.applicant, state="draft", **grantee)) is None
    )
    assert refused_state(A.edit_application, Subject(Role.applicant, **grantee)) is None  # no state


APPROVED = Subject(Role.officer, state="approved", grant_state="active")


def test_the_awarding_officer_prepares_but_neither_releases_nor_approves() -> None:
    awarder = replace(APPROVED, is_awarding_officer=True)
    assert _release_refusal(awarder) == (
        NotAllowed,
        "You awarded this grant: another officer releases its tranches (separation of duties).",
    )
    assert decide(A.prepare_release, awarder).allowed
    prepared = replace(awarder, has_prepared_release=True)
    assert decide(A.approve_release, prepared).reason is Reason.awarding_officer
    assert decide(A.approve_release, replace(prepared, is_awarding_officer=False)).allowed


def test_above_the_threshold_one_prepares_and_another_approves() -> None:
    large = replace(APPROVED, needs_second_officer=True)
    assert _release_refusal(large) == (
        NotAllowed,
        "This tranche is above the programme's release threshold: one officer prepares its "
        "release and another officer approves it.",
    )
    assert decide(A.prepare_release, large).allowed
    prepared = replace(large, has_prepared_release=True)
    assert decide(A.prepare_release, prepared).reason is Reason.prepared  # one at a time
    by_me = replace(prepared, is_preparer=True)
    assert decide(A.approve_release, by_me).reason is Reason.preparer
    with pytest.raises(NotAllowed) as refused:
        require(A.approve_release, by_me)
    assert refused.value.message == (
        "You prepared this release: another officer must approve it (separation of duties)."
    )
    assert decide(A.approve_release, prepared).allowed
    assert decide(A.cancel_release, by_me).allowed and decide(A.cancel_release, prepared).allowed


def test_a_prepared_release_holds_back_a_release_by_one_officer() -> None:
    prepared = replace(APPROVED, has_prepared_release=True)
    with pytest.raises(Conflict) as refused:
        require(A.release_tranche, prepared)
    assert "prepared and waits for a second officer" in refused.value.message
    with pytest.raises(Conflict) as nothing:
        require(A.approve_release, APPROVED)
    assert nothing.value.message == "No release of this tranche waits for approval."
    released = replace(prepared, is_released=True)
    assert decide(A.approve_release, released).reason is Reason.released
    assert decide(A.cancel_release, released).reason is Reason.released


def test_a_second_administrator_confirms_a_role_change() -> None:
    admin = Subject(Role.admin)
    assert decide(A.confirm_role_change, admin).allowed
    assert decide(A.confirm_role_change, replace(admin, is_requester=True)).reason is (
        Reason.requester
    )
    assert decide(A.confirm_role_change, replace(admin, is_own_account=True)).reason is (
        Reason.own_account
    )
    assert _reason(A.confirm_role_change, Role.officer) is Reason.role
