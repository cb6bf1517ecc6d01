"""Lifecycle vocabulary: state enums, their allowed transitions and bilingual labels.

StrEnum members of different enums compare equal when their values match
(ApplicationState.submitted == MilestoneState.submitted), so every table here is
keyed by the enum class first and transitions refuse to mix kinds. `transition` is the
state change as the services make it: refused in words (a Problem) when not allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, NamedTuple, TypeVar

from grants.core.errors import Conflict
from grants.core.identity import Locale, Role
from grants.core.problems import N_, Problem

__all__ = [
    "AMENDMENT_TRANSITIONS",
    "APPLICATION_TRANSITIONS",
    "AWAITING_EVIDENCE",
    "GRANT_TRANSITIONS",
    "MILESTONE_TRANSITIONS",
    "AmendmentKind",
    "AmendmentState",
    "ApplicationState",
    "GrantState",
    "Label",
    "MilestoneState",
    "ReviewDecision",
    "Role",
    "awaits_earlier_milestone",
    "can_transition",
    "current_milestone",
    "label",
    "no_go",
    "still_to_release",
    "waits_for_no_go",
]

S = TypeVar("S", bound=StrEnum)


class ApplicationState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    screened_eligible = "screened_eligible"
    screened_ineligible = "screened_ineligible"
    under_review = "under_review"
    awarded = "awarded"
    rejected = "rejected"
    withdrawn = "withdrawn"


class GrantState(StrEnum):
    active = "active"
    suspended = "suspended"
    completed = "completed"
    terminated = "terminated"


class MilestoneState(StrEnum):
    planned = "planned"
    submitted = "submitted"
    approved = "approved"
    changes_requested = "changes_requested"
    rejected = "rejected"
    cancelled = "cancelled"


# Grants still under way (milestones can move), and milestones not decided yet.
RUNNING = (GrantState.active, GrantState.suspended)
UNDECIDED = (MilestoneState.planned, MilestoneState.submitted, MilestoneState.changes_requested)


class ReviewDecision(StrEnum):
    approve = "approve"
    request_changes = "request_changes"
    reject = "reject"


class AmendmentState(StrEnum):
    requested = "requested"
    approved = "approved"
    declined = "declined"
    withdrawn = "withdrawn"


class AmendmentKind(StrEnum):
    due_date = "due_date"
    resplit = "resplit"


_App = ApplicationState
_Mil = MilestoneState

APPLICATION_TRANSITIONS: Final[Mapping[ApplicationState, frozenset[ApplicationState]]] = {
    _App.draft: frozenset({_App.submitted, _App.withdrawn}),
    _App.submitted: frozenset({_App.screened_eligible, _App.screened_ineligible, _App.withdrawn}),
    _App.screened_eligible: frozenset({_App.under_review, _App.rejected, _App.awarded}),
    _App.screened_ineligible: frozenset({_App.rejected}),
    _App.under_review: frozenset({_App.awarded, _App.rejected}),
    _App.awarded: frozenset(),
    _App.rejected: frozenset(),
    _App.withdrawn: frozenset(),
}

GRANT_TRANSITIONS: Final[Mapping[GrantState, frozenset[GrantState]]] = {
    GrantState.active: frozenset(
        {GrantState.suspended, GrantState.completed, GrantState.terminated}
    ),
    GrantState.suspended: frozenset({GrantState.active, GrantState.terminated}),
    GrantState.completed: frozenset(),
    GrantState.terminated: frozenset(),
}

# The tranche release is a separate record (a disbursement), not a state. cancelled is
# reached only when the grant is terminated and its remaining tranches are dropped: from
# any open state and from approved while the tranche is still unreleased (termination
# before the release drops the money; the approval and its evidence stay on record). An
# approved milestone whose tranche WAS released is never cancelled: that needs the
# disbursement, which this table cannot see, so awards.termination.service enforces it.
MILESTONE_TRANSITIONS: Final[Mapping[MilestoneState, frozenset[MilestoneState]]] = {
    _Mil.planned: frozenset({_Mil.submitted, _Mil.cancelled}),
    _Mil.submitted: frozenset(
        {_Mil.approved, _Mil.changes_requested, _Mil.rejected, _Mil.cancelled}
    ),
    _Mil.changes_requested: frozenset({_Mil.submitted, _Mil.cancelled}),
    _Mil.approved: frozenset({_Mil.cancelled}),
    _Mil.rejected: frozenset(),  # the no-go stays on record, also after a termination
    _Mil.cancelled: frozenset(),
}

# A milestone awaits the grantee's evidence in these states (the first round, or another one):
# evidence is accepted, and reminders, the overdue flag and escalation apply.
AWAITING_EVIDENCE: Final = (_Mil.planned, _Mil.changes_requested)


def current_milestone(milestones: Iterable[tuple[int, str]]) -> int | None:
    """The sequence of a grant's current milestone, from its (sequence, state) pairs: the
    lowest-sequence milestone not approved yet (None once every milestone is approved).

    Milestones are staged: each is cleared (approved by the reviewers) before the next one
    is judged, as its tranche gate (prior_milestones_approved) demands before any later
    tranche is released. So evidence may be submitted for the current milestone only, and
    only while it awaits evidence (AWAITING_EVIDENCE: planned or changes_requested). While
    the current milestone's evidence is submitted and undecided, or after a no-go
    (rejected, which an officer may follow with termination), no milestone takes evidence;
    evidence for a later milestone waits until every earlier one is approved.
    """
    open_ones = [sequence for sequence, state in milestones if state != _Mil.approved]
    return min(open_ones, default=None)


def no_go(milestones: Iterable[tuple[int, str]]) -> int | None:
    """The current milestone's sequence when it was rejected (a no-go): it takes no more
    evidence, and no later one takes any, until an officer decides how the grant goes on."""
    stages = dict(milestones)
    current = current_milestone(stages.items())
    return current if current is not None and stages[current] == _Mil.rejected else None


def waits_for_no_go(sequence: int, state: str, milestones: Iterable[tuple[int, str]]) -> bool:
    """A milestone still awaiting evidence after a no-go: it waits on that decision."""
    held = no_go(milestones)
    return held is not None and sequence > held and state in AWAITING_EVIDENCE


def awaits_earlier_milestone(sequence: int, milestones: Iterable[tuple[int, str]]) -> bool:
    """Whether a milestone before `sequence` is not approved yet, so that the milestone at
    `sequence` is not the current one and takes no evidence (see current_milestone)."""
    current = current_milestone(milestones)
    return current is not None and current < sequence


AMENDMENT_TRANSITIONS: Final[Mapping[AmendmentState, frozenset[AmendmentState]]] = {
    AmendmentState.requested: frozenset(
        {AmendmentState.approved, AmendmentState.declined, AmendmentState.withdrawn}
    ),
    AmendmentState.approved: frozenset(),
    AmendmentState.declined: frozenset(),
    AmendmentState.withdrawn: frozenset(),
}

_TRANSITIONS: Final[Mapping[type[StrEnum], Mapping[Any, frozenset[Any]]]] = {
    ApplicationState: APPLICATION_TRANSITIONS,
    GrantState: GRANT_TRANSITIONS,
    MilestoneState: MILESTONE_TRANSITIONS,
    AmendmentState: AMENDMENT_TRANSITIONS,
}


def _table_of(registry: Mapping[type[StrEnum], Mapping[Any, Any]], member: StrEnum) -> Any:
    try:
        return registry[type(member)]
    except KeyError:
        raise TypeError(f"no entry for {type(member).__name__}") from None


def still_to_release(award: int, released: int, state: GrantState) -> int:
    """Yen of the award that may still be released: none once the grant has ended early
    (a termination cancels the rest and returns it to the pools)."""
    return 0 if state == GrantState.terminated else max(award - released, 0)


def can_transition(current: S, target: S) -> bool:
    """Whether `current` may move to `target`; both must be members of the same enum."""
    if type(target) is not type(current):
        raise TypeError(f"cannot compare {type(current).__name__} with {type(target).__name__}")
    return target in _table_of(_TRANSITIONS, current)[current]


class Label(NamedTuple):
    """A bilingual display text."""

    ja: str
    en: str

    def text(self, locale: str) -> str:
        """The text for `locale` ("ja" or "en"); any other locale raises ValueError."""
        return self.ja if Locale(locale) is Locale.ja else self.en


_LABELS: Final[Mapping[type[StrEnum], Mapping[Any, Label]]] = {
    Role: {
        Role.applicant: Label("申請者", "Applicant"),
        Role.reviewer: Label("評価者", "Reviewer"),
        Role.officer: Label("プログラムオフィサー", "Program officer"),
        Role.admin: Label("管理者", "Administrator"),
    },
    ApplicationState: {
        _App.draft: Label("下書き", "Draft"),
        _App.submitted: Label("提出済み", "Submitted"),
        _App.screened_eligible: Label("要件審査: 適格", "Screened: eligible"),
        _App.screened_ineligible: Label("要件審査: 不適格", "Screened: ineligible"),
        _App.under_review: Label("審査中", "Under review"),
        _App.awarded: Label("採択", "Awarded"),
        _App.rejected: Label("不採択", "Rejected"),
        _App.withdrawn: Label("取り下げ", "Withdrawn"),
    },
    GrantState: {
        GrantState.active: Label("実施中", "Active"),
        GrantState.suspended: Label("一時停止", "Suspended"),
        GrantState.completed: Label("完了", "Completed"),
        GrantState.terminated: Label("中止", "Terminated"),
    },
    MilestoneState: {
        _Mil.planned: Label("予定", "Planned"),
        _Mil.submitted: Label("提出済み", "Submitted"),
        _Mil.approved: Label("承認", "Approved"),
        _Mil.changes_requested: Label("修正依頼", "Changes requested"),
        _Mil.rejected: Label("不承認（No-Go）", "Rejected (no-go)"),
        _Mil.cancelled: Label("取消", "Cancelled"),
    },
    ReviewDecision: {
        ReviewDecision.approve: Label("承認", "Approve"),
        ReviewDecision.request_changes: Label("修正依頼", "Request changes"),
        ReviewDecision.reject: Label("不承認（No-Go）", "Reject (no-go)"),
    },
    AmendmentState: {
        AmendmentState.requested: Label("申請中", "Requested"),
        AmendmentState.approved: Label("承認", "Approved"),
        AmendmentState.declined: Label("却下", "Declined"),
        AmendmentState.withdrawn: Label("取り下げ", "Withdrawn"),
    },
    AmendmentKind: {
        AmendmentKind.due_date: Label("期日の変更", "Due date change"),
        AmendmentKind.resplit: Label("交付額の再配分", "Tranche re-split"),
    },
}


def label(member: StrEnum, locale: str) -> str:
    """Display text of an enum member of this module in `locale` ("ja" or "en")."""
    labels: Mapping[Any, Label] = _table_of(_LABELS, member)
    return labels[member].text(locale)


@dataclass(frozen=True)
class StateLabel:
    """A state in a message, named in the reader's language."""

    member: StrEnum

    def localised(self, locale: str) -> str:
        return label(self.member, locale)


def transition(current: S, target: S) -> S:
    """Return `target` when `current` may move to it, else refuse in words."""
    if can_transition(current, target):
        return target
    raise Conflict(refusal(current, target))


def refusal(current: StrEnum, target: StrEnum) -> Problem:
    subject, state = _subject(current), StateLabel(current)
    if current == target:
        return N_("This %(subject)s is already “%(state)s”.", subject=subject, state=state)
    return N_(
        "This %(subject)s is “%(state)s” and cannot become “%(target)s”.",
        subject=subject,
        state=state,
        target=StateLabel(target),
    )


def _subject(member: StrEnum) -> Problem:
    subjects = {
        ApplicationState: N_("application"),
        GrantState: N_("grant"),
        MilestoneState: N_("milestone"),
        AmendmentState: N_("amendment request"),
    }
    return subjects[type(member)]
