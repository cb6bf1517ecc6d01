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
from grants.core.states import AWAITING_EVIDENCE, ApplicationState, MilestoneState, StateLabel


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
    declare_conflict = "declare_conflict"
    submit_evidence = "submit_evidence"
    review_milestone = "review_milestone"
    release_tranche = "release_tranche"
    record_investment = "record_investment"
    verify_investment = "verify_investment"
    request_amendment = "request_amendment"
    decide_amendment = "decide_amendment"
    terminate_grant = "terminate_grant"
    view_grant = "view_grant"
    view_portfolio = "view_portfolio"
    download_evidence = "download_evidence"
    view_audit = "view_audit"


class Reason(StrEnum):
    ok = "ok"
    role = "role"
    not_owner = "not_owner"
    not_assigned = "not_assigned"
    conflicted = "conflicted"
    state = "state"
    separation_of_duties = "separation_of_duties"
    not_current_milestone = "not_current_milestone"


@dataclass(frozen=True)
class Subject:
    """The actor's relation to the object, as plain values computed by the service.

    `state` is the state of the object the action touches (the milestone's for
    submit_evidence and review_milestone, the application's for edit/submit/withdraw).
    `awaits_earlier_milestone`: for submit_evidence, an earlier milestone of the grant is
    not approved yet (states.awaits_earlier_milestone), so this one is not the current one.
    """

    role: Role
    is_owner_org: bool = False
    is_assigned_reviewer: bool = False
    is_conflicted: bool = False
    is_reviewer_of_milestone: bool = False
    state: str | None = None
    awaits_earlier_milestone: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason


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
        Action.record_investment,
        Action.verify_investment,
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
            Action.verify_investment,
            Action.decide_amendment,
            Action.terminate_grant,
        ),
        _OFFICER,
    ),
    Action.release_tranche: {Role.officer: (_not_milestone_reviewer,)},
    Action.view_portfolio: {Role.admin: (), Role.officer: ()},
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
}


def decide(action: Action, subject: Subject) -> Decision:
    """Whether the subject's actor may do `action`, and the reason key when not."""
    checks = _RULES[action].get(subject.role)
    if checks is None:
        return Decision(False, _role_refusal(action, subject.role))
    for check in checks:
        if reason := check(subject):
            return Decision(False, reason)
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
    if decision.reason is Reason.not_current_milestone:
        raise Conflict(N_("Evidence is accepted only for the grant's current milestone."))
    if decision.reason is Reason.state:
        raise Conflict(_state_refusal(action, subject))
    if decision.reason is Reason.separation_of_duties and subject.role != Role.admin:
        raise NotAllowed(N_("You reviewed this milestone: another officer must do this."))
    raise NotAllowed(_refusals()[decision.reason])


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
    }
