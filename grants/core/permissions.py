"""Who may do what, as a table: action -> role -> checks on the actor's relation to the object.

A role missing from an action's row is refused outright; otherwise the role's
checks run in order and the first failing one gives the reason. Services call `require`
(authoritative: it refuses in words); queries call `decide` to say what a page offers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from grants.core.errors import Conflict, NotAllowed
from grants.core.identity import Role
from grants.core.problems import N_, Problem
from grants.core.states import (
    AWAITING_EVIDENCE,
    ApplicationState,
    GrantState,
    MilestoneState,
    StateLabel,
)


class Action(StrEnum):
    view_admin = "view_admin"
    manage_users = "manage_users"
    manage_organizations = "manage_organizations"
    manage_certified_vcs = "manage_certified_vcs"
    manage_programs = "manage_programs"
    edit_ruleset = "edit_ruleset"
    publish_ruleset = "publish_ruleset"
    run_what_if = "run_what_if"
    create_application = "create_application"
    edit_application = "edit_application"
    submit_application = "submit_application"
    withdraw_application = "withdraw_application"
    view_application = "view_application"
    screen_application = "screen_application"
    award_application = "award_application"
    reject_application = "reject_application"
    assign_reviewers = "assign_reviewers"
    view_merit_review = "view_merit_review"
    score_application = "score_application"
    view_ranking = "view_ranking"
    view_feedback = "view_feedback"
    declare_conflict = "declare_conflict"
    submit_evidence = "submit_evidence"
    review_milestone = "review_milestone"
    release_tranche = "release_tranche"
    prepare_release = "prepare_release"
    approve_release = "approve_release"
    cancel_release = "cancel_release"
    record_investment = "record_investment"
    verify_investment = "verify_investment"
    request_amendment = "request_amendment"
    decide_amendment = "decide_amendment"
    terminate_grant = "terminate_grant"
    view_grant = "view_grant"
    view_portfolio = "view_portfolio"
    download_evidence = "download_evidence"
    view_audit = "view_audit"
    discuss = "discuss"
    discuss_internally = "discuss_internally"
    file_results_report = "file_results_report"
    inspect_results_report = "inspect_results_report"
    confirm_final_amount = "confirm_final_amount"
    record_excess_return = "record_excess_return"
    confirm_role_change = "confirm_role_change"


class Reason(StrEnum):
    ok = "ok"
    role = "role"
    not_owner = "not_owner"
    not_assigned = "not_assigned"
    conflicted = "conflicted"
    state = "state"
    separation_of_duties = "separation_of_duties"
    not_current_milestone = "not_current_milestone"
    released = "released"
    grant_state = "grant_state"
    awarding_officer = "awarding_officer"
    second_officer = "second_officer"
    preparer = "preparer"
    prepared = "prepared"
    not_prepared = "not_prepared"
    recorder = "recorder"
    requester = "requester"
    own_account = "own_account"


# Refusals by the object's state (whoever asks): Conflict, not NotAllowed.
_BY_STATE: Final = frozenset(
    {
        Reason.state,
        Reason.not_current_milestone,
        Reason.released,
        Reason.grant_state,
        Reason.prepared,
        Reason.not_prepared,
    }
)


@dataclass(frozen=True)
class Subject:
    """The actor's relation to the object, as plain values computed by the service.

    `state` is the state of the object the action touches (the milestone's for
    submit_evidence and review_milestone, the application's for edit/submit/withdraw).
    `awaits_earlier_milestone`: for submit_evidence, an earlier milestone of the grant is
    not approved yet (states.awaits_earlier_milestone), so this one is not the current one.
    `grant_state` is the state of the grant the object belongs to, and `is_released` says
    that the milestone's tranche is out already (release_tranche).

    Separations of duties (README, "Separation of duties"): `is_awarding_officer`, the actor
    awarded the grant and its programme keeps awarding and releasing apart;
    `needs_second_officer`, the tranche is above the programme's release threshold, so one
    officer prepares the release and another approves it; `is_preparer`, the actor prepared
    the release waiting for approval; `has_prepared_release`, a prepared release of the
    tranche waits for approval (no other release of it meanwhile); `is_recorder`, the actor
    recorded the investment to verify; `is_requester`, the actor asked for the role change
    to confirm; `is_own_account`, the role change is about the actor's own account.
    """

    role: Role
    is_owner_org: bool = False
    is_assigned_reviewer: bool = False
    is_conflicted: bool = False
    is_reviewer_of_milestone: bool = False
    state: str | None = None
    awaits_earlier_milestone: bool = False
    grant_state: str | None = None
    is_released: bool = False
    is_inspector: bool = False  # inspected the results report whose final amount this is
    is_awarding_officer: bool = False
    needs_second_officer: bool = False
    is_preparer: bool = False
    has_prepared_release: bool = False
    is_recorder: bool = False
    is_requester: bool = False
    is_own_account: bool = False


@dataclass(frozen=True)
class Decision:
    """`reason` is the first refusal in the table's order; `reasons` are all of them."""

    allowed: bool
    reason: Reason
    reasons: tuple[Reason, ...] = ()

    @property
    def state_allows(self) -> bool:
        """No check on the object's state refuses (a page says so apart from who asks)."""
        return not _BY_STATE.intersection(self.reasons)

    @property
    def actor_allowed(self) -> bool:
        """Only the object's state refuses, if anything: the actor's role and relation pass."""
        return _BY_STATE.issuperset(self.reasons)


Check = Callable[[Subject], Reason | None]


def _owner(subject: Subject) -> Reason | None:
    return None if subject.is_owner_org else Reason.not_owner


def _assigned(subject: Subject) -> Reason | None:
    return None if subject.is_assigned_reviewer else Reason.not_assigned


def _not_conflicted(subject: Subject) -> Reason | None:
    return Reason.conflicted if subject.is_conflicted else None


def _not_milestone_reviewer(subject: Subject) -> Reason | None:
    return Reason.separation_of_duties if subject.is_reviewer_of_milestone else None


def _current_milestone(subject: Subject) -> Reason | None:
    """Evidence goes to the grant's current milestone only (states.current_milestone)."""
    return Reason.not_current_milestone if subject.awaits_earlier_milestone else None


def _not_released(subject: Subject) -> Reason | None:
    return Reason.released if subject.is_released else None


def _not_inspector(subject: Subject) -> Reason | None:
    """The final amount needs two people: the inspecting officer does not confirm it."""
    return Reason.separation_of_duties if subject.is_inspector else None


def _not_awarding_officer(subject: Subject) -> Reason | None:
    return Reason.awarding_officer if subject.is_awarding_officer else None


def _one_officer_enough(subject: Subject) -> Reason | None:
    return Reason.second_officer if subject.needs_second_officer else None


def _not_preparer(subject: Subject) -> Reason | None:
    return Reason.preparer if subject.is_preparer else None


def _nothing_prepared(subject: Subject) -> Reason | None:
    return Reason.prepared if subject.has_prepared_release else None


def _something_prepared(subject: Subject) -> Reason | None:
    return None if subject.has_prepared_release else Reason.not_prepared


def _not_recorder(subject: Subject) -> Reason | None:
    return Reason.recorder if subject.is_recorder else None


def _not_requester(subject: Subject) -> Reason | None:
    return Reason.requester if subject.is_requester else None


def _not_own_account(subject: Subject) -> Reason | None:
    return Reason.own_account if subject.is_own_account else None


def _grant_active(subject: Subject) -> Reason | None:
    return None if subject.grant_state == GrantState.active else Reason.grant_state


@dataclass(frozen=True)
class _InState:
    """The check that the object is in one of `allowed` (members of one state enum)."""

    allowed: frozenset[StrEnum]

    def __call__(self, subject: Subject) -> Reason | None:
        return None if subject.state in self.allowed else Reason.state


def _in_state(*states: StrEnum) -> _InState:
    return _InState(frozenset(states))


Rule = Mapping[Role, tuple[Check, ...]]

_ADMIN: Final[Rule] = {Role.admin: ()}
_OFFICER: Final[Rule] = {Role.officer: ()}
_OWN: Final[tuple[Check, ...]] = (_owner,)

# Money moves are officer work; an admin is refused them as separation of duties.
_MONEY_ACTIONS: Final = frozenset(
    {
        Action.award_application,
        Action.release_tranche,
        Action.prepare_release,
        Action.approve_release,
        Action.cancel_release,
        Action.record_investment,
        Action.verify_investment,
        Action.inspect_results_report,
        Action.confirm_final_amount,
        Action.record_excess_return,
    }
)

_RULES: Final[Mapping[Action, Rule]] = {
    **dict.fromkeys(
        (
            Action.view_admin,
            Action.manage_users,
            Action.manage_organizations,
            Action.manage_certified_vcs,
            Action.view_audit,
        ),
        _ADMIN,
    ),
    **dict.fromkeys(
        (
            Action.manage_programs,
            Action.edit_ruleset,
            Action.publish_ruleset,
            Action.run_what_if,
            Action.screen_application,
            Action.award_application,
            Action.reject_application,
            Action.assign_reviewers,
            Action.record_investment,
            Action.decide_amendment,
            Action.terminate_grant,
            Action.inspect_results_report,
            Action.record_excess_return,
        ),
        _OFFICER,
    ),
    Action.confirm_final_amount: {Role.officer: (_not_inspector,)},
    Action.file_results_report: {Role.applicant: _OWN},
    Action.confirm_role_change: {Role.admin: (_not_requester, _not_own_account)},
    Action.verify_investment: {Role.officer: (_not_recorder,)},
    # The released check comes before the grant's: a double click on the last tranche,
    # which completes the grant, is told "released", not "the grant is not active".
    Action.release_tranche: {
        Role.officer: (
            _not_milestone_reviewer,
            _not_awarding_officer,
            _one_officer_enough,
            _not_released,
            _nothing_prepared,
            _grant_active,
            _in_state(MilestoneState.approved),
        ),
    },
    # Above the threshold one officer prepares (the awarding officer may) ...
    Action.prepare_release: {
        Role.officer: (
            _not_milestone_reviewer,
            _not_released,
            _nothing_prepared,
            _grant_active,
            _in_state(MilestoneState.approved),
        ),
    },
    # ... and another approves, which releases: every check of a release but the threshold.
    Action.approve_release: {
        Role.officer: (
            _not_milestone_reviewer,
            _not_awarding_officer,
            _not_preparer,
            _not_released,
            _something_prepared,
            _grant_active,
            _in_state(MilestoneState.approved),
        ),
    },
    # Any officer may withdraw (the preparer) or turn down (another) a prepared release.
    Action.cancel_release: {Role.officer: (_not_released, _something_prepared)},
    Action.view_portfolio: {Role.admin: (), Role.officer: ()},
    # Merit review: a reviewer reads and scores only the applications assigned to them;
    # the applicant reads the aggregated feedback once the application is decided.
    Action.view_merit_review: {Role.reviewer: (_assigned,), Role.officer: ()},
    Action.score_application: {
        Role.reviewer: (_assigned, _not_conflicted, _in_state(ApplicationState.under_review)),
    },
    Action.view_ranking: _OFFICER,
    Action.view_feedback: {
        Role.applicant: (_owner, _in_state(ApplicationState.awarded, ApplicationState.rejected)),
    },
    Action.create_application: {Role.applicant: ()},
    Action.edit_application: {Role.applicant: (_owner, _in_state(ApplicationState.draft))},
    Action.submit_application: {Role.applicant: (_owner, _in_state(ApplicationState.draft))},
    Action.withdraw_application: {
        Role.applicant: (_owner, _in_state(ApplicationState.draft, ApplicationState.submitted)),
    },
    Action.view_application: {Role.applicant: _OWN, Role.officer: ()},
    Action.submit_evidence: {
        Role.applicant: (
            _owner,
            _in_state(*AWAITING_EVIDENCE),
            _current_milestone,
        ),
    },
    Action.request_amendment: {Role.applicant: _OWN},
    Action.declare_conflict: {Role.reviewer: ()},
    Action.review_milestone: {
        Role.reviewer: (_assigned, _not_conflicted, _in_state(MilestoneState.submitted)),
    },
    Action.view_grant: {Role.applicant: _OWN, Role.reviewer: (_assigned,), Role.officer: ()},
    Action.download_evidence: {
        Role.applicant: _OWN,
        Role.reviewer: (_assigned, _not_conflicted),
        Role.officer: (),
    },
    # Conversations: reading a thread's messages of that kind is taking part in it.
    Action.discuss: {
        Role.applicant: _OWN,
        Role.reviewer: (_assigned, _not_conflicted),
        Role.officer: (),
    },
    Action.discuss_internally: {Role.reviewer: (_assigned, _not_conflicted), Role.officer: ()},
}


def decide(action: Action, subject: Subject) -> Decision:
    """Whether the subject's actor may do `action`, and the reason keys when not."""
    checks = _RULES[action].get(subject.role)
    if checks is None:
        reason = _role_refusal(action, subject.role)
        return Decision(False, reason, (reason,))
    reasons = tuple(reason for check in checks if (reason := check(subject)))
    if reasons:
        return Decision(False, reasons[0], reasons)
    return Decision(True, Reason.ok)


def refused_state(action: Action, subject: Subject) -> StrEnum | None:
    """The object's state, as a member of its enum, when it is what refuses `action`."""
    for check in _RULES[action].get(subject.role, ()):
        if isinstance(check, _InState) and check(subject):
            kind = type(next(iter(check.allowed)))
            return kind(subject.state) if subject.state in set(kind) else None
    return None


def _role_refusal(action: Action, role: Role) -> Reason:
    separated = role == Role.admin and action in _MONEY_ACTIONS
    return Reason.separation_of_duties if separated else Reason.role


def require(action: Action, subject: Subject) -> None:
    """Raise Conflict when the object's state refuses `action`, NotAllowed on any other
    refusal, with a message said in the reader's language where it is shown."""
    decision = decide(action, subject)
    if decision.allowed:
        return
    message = refusal(action, subject, decision.reason)
    raise (Conflict if decision.reason in _BY_STATE else NotAllowed)(message)


def refusal(action: Action, subject: Subject, reason: Reason) -> Problem:
    """What `require` says when `reason` refuses `action` (pages show it beside a button
    they leave out)."""
    return _ACTION_REFUSALS.get((action, reason)) or _refusal(action, subject, reason)


# Refusals that say more for one action than the reason's general words.
_RELEASES: Final = (Action.release_tranche, Action.prepare_release, Action.approve_release)
_ACTION_REFUSALS: Final[Mapping[tuple[Action, Reason], Problem]] = {
    **{
        (action, Reason.released): N_("This tranche has already been released.")
        for action in (*_RELEASES, Action.cancel_release)
    },
    **{
        (action, Reason.grant_state): N_("Tranches are released only for active grants.")
        for action in _RELEASES
    },
    **{
        (action, Reason.state): N_("Only an approved milestone's tranche can be released.")
        for action in _RELEASES
    },
    (Action.view_merit_review, Reason.not_assigned): N_(
        "You are not assigned to this application."
    ),
    (Action.score_application, Reason.not_assigned): N_(
        "You are not assigned to this application."
    ),
    (Action.score_application, Reason.conflicted): N_(
        "You have a conflict of interest with this application."
    ),
    (Action.score_application, Reason.state): N_(
        "Scores are taken only while the application is under review."
    ),
    (Action.view_feedback, Reason.state): N_(
        "The reviewers' feedback is given once the application has been decided."
    ),
}


def _refusal(action: Action, subject: Subject, reason: Reason) -> Problem:
    if reason is Reason.not_current_milestone:
        return N_("Evidence is accepted only for the grant's current milestone.")
    if reason is Reason.state:
        return _state_refusal(action, subject)
    if reason is Reason.separation_of_duties and subject.role != Role.admin:
        if action is Action.confirm_final_amount:
            return N_(
                "You inspected this results report: another officer confirms the final amount."
            )
        return N_("You reviewed this milestone: another officer must do this.")
    return _refusals()[reason]


def _state_refusal(action: Action, subject: Subject) -> Problem:
    state = refused_state(action, subject)
    if state is None:
        return N_("This cannot be done in its present state.")
    return N_("This cannot be done while it is “%(state)s”.", state=StateLabel(state))


def _refusals() -> dict[Reason, Problem]:
    return {
        Reason.role: N_("Your role does not allow this."),
        Reason.separation_of_duties: N_(
            "Administrators do not handle money: a program officer does this."
        ),
        Reason.not_owner: N_("This belongs to another organisation."),
        Reason.not_assigned: N_("You are not assigned to this grant."),
        Reason.conflicted: N_("You have a conflict of interest with this grant."),
        Reason.awarding_officer: N_(
            "You awarded this grant: another officer releases its tranches (separation of duties)."
        ),
        Reason.second_officer: N_(
            "This tranche is above the programme's release threshold: one officer prepares "
            "its release and another officer approves it."
        ),
        Reason.preparer: N_(
            "You prepared this release: another officer must approve it (separation of duties)."
        ),
        Reason.prepared: N_(
            "A release of this tranche is prepared and waits for a second officer: approve or "
            "cancel it."
        ),
        Reason.not_prepared: N_("No release of this tranche waits for approval."),
        Reason.recorder: N_(
            "Another officer must verify an investment you recorded (separation of duties)."
        ),
        Reason.requester: N_(
            "You asked for this role change: another administrator must confirm it."
        ),
        Reason.own_account: N_(
            "This role change is about your own account: another administrator must confirm it."
        ),
    }
