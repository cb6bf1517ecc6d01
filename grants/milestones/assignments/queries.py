"""A grant's reviewers and the candidates for it, whether the actor may change them now, and
a reviewer's own conflict declarations; the active grants to assign reviewers to (those
whose eligible reviewers cannot make the quorum first), for several grants at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, exists, func, literal, select
from sqlalchemy.orm import selectinload

from grants.accounts.models import ConflictDeclaration, Organization, User
from grants.awards.listing.queries import NEXT, next_open_id
from grants.awards.models import Grant, ReviewerAssignment
from grants.awards.queries import (
    QuorumOutlook,
    Reviewed,
    assigned,
    conflict_clause,
    grant_subject,
    may_now,
    quorum_outlook,
    reviewer_conflicts,
)
from grants.awards.rules import DEFAULT_QUORUM, GRANT_STATES, quorum_of
from grants.core import audit_marks
from grants.core.actors import Actor
from grants.core.db import Page
from grants.core.identity import Role
from grants.core.lists import Filter, Listing, ListQuery, matching, page_of
from grants.core.permissions import Action, Subject, require
from grants.core.states import GrantState
from grants.extensions import db
from grants.programs.models import Program
from grants.rulesets.models import RuleSet

# The state filter of the grants to assign: those that cannot make their quorum.
SHORT = "short_of_reviewers"

ASSIGNABLE = Listing(
    name="assignable",
    sorts={
        "next_due": (NEXT.due_date,),
        "number": (Grant.number,),
        "organization": (Organization.name,),
        "program": (Program.code,),
    },
    default_sort="next_due",
    tiebreak=Grant.id,
    states=(SHORT,),
    filters=frozenset({Filter.search, Filter.program}),
)


@dataclass(frozen=True)
class AssignmentsView:
    grant: Grant
    assigned: Reviewed  # with their conflict reasons (empty when eligible)
    candidates: Reviewed
    quorum: QuorumOutlook
    may_assign: bool  # an officer, while the grant is open


def assignments_view(actor: Actor, grant: Grant) -> AssignmentsView:
    return AssignmentsView(
        grant=grant,
        assigned=assigned(grant),
        candidates=candidates(grant),
        quorum=quorum_outlook(grant),
        may_assign=may_now(Action.assign_reviewers, grant_subject(actor, grant)),
    )


def candidates(grant: Grant) -> Reviewed:
    """Active reviewers not yet assigned to `grant`, with their conflict reasons."""
    taken = select(ReviewerAssignment.reviewer_id).where(ReviewerAssignment.grant_id == grant.id)
    query = (
        select(User)
        .where(User.role == Role.reviewer, User.active.is_(True), User.id.not_in(taken))
        .options(selectinload(User.organization))
        .order_by(User.name, User.id)
    )
    users = list(db.session.scalars(query))
    found = reviewer_conflicts(grant, users)
    return [(user, found[user.id]) for user in users]


def declarations_of(actor: Actor) -> list[ConflictDeclaration]:
    query = (
        select(ConflictDeclaration)
        .where(ConflictDeclaration.reviewer_id == actor.id)
        .order_by(ConflictDeclaration.declared_at.desc(), ConflictDeclaration.id.desc())
    )
    return list(db.session.scalars(query))


# ---- grants short of reviewers, and several grants at once -------------------------------------


@dataclass(frozen=True)
class AssignableRow:
    """An active grant with an open milestone, and its eligible reviewers against its quorum."""

    grant_id: int
    number: str
    organization_name: str
    organization_name_en: str | None
    program_code: str
    milestone_id: int
    milestone_sequence: int
    milestone_title: str
    milestone_due: Any
    overdue_since: Any  # the next milestone's overdue flag (set by the scan)
    eligible: int
    quorum: int

    def organization(self, locale: str) -> str:
        if locale == "en" and self.organization_name_en:
            return self.organization_name_en
        return self.organization_name

    @property
    def short(self) -> bool:
        return self.eligible < self.quorum

    @property
    def missing(self) -> int:
        return max(self.quorum - self.eligible, 0)


def assignable_list(actor: Actor, asked: ListQuery) -> Page:
    """A page of the active grants with an open milestone (AssignableRows), next due first
    unless asked otherwise; state SHORT: only those whose eligible reviewers (assigned,
    active, without a conflict of interest) are fewer than their rule set's quorum, so that
    no review round could be decided."""
    require(Action.assign_reviewers, Subject(role=actor.role))
    query = _assignable(asked)
    if asked.state == SHORT:
        query = query.where(eligible_reviewers() < quorum_column())
    if asked.program_id is not None:
        query = query.where(Grant.program_id == asked.program_id)
    if asked.term:
        names = (Grant.number, Organization.name, Organization.name_en)
        query = query.where(matching(asked.term, *names))
    if asked.state == SHORT:
        count = audit_marks.kept("short_of_reviewers", asked.filters(), lambda: _count(query))
        if not count:  # as it mostly is: no grant read again for an empty page
            return Page([], 1, asked.per_page, 0)
        page = page_of(query, ASSIGNABLE, asked, count=lambda: count)
    else:
        page = page_of(query, ASSIGNABLE, asked)
    return Page([AssignableRow(*row) for row in page.items], page.page, page.per_page, page.total)


def short_of_reviewers_count() -> int:
    """How many active grants cannot make their quorum with the reviewers assigned now (kept
    while the data stands still: every row it reads stamps the data generation)."""
    asked = ASSIGNABLE.query(state=SHORT)

    def count() -> int:
        return _count(_assignable(asked).where(eligible_reviewers() < quorum_column()))

    return audit_marks.kept("short_of_reviewers", asked.filters(), count)


def _count(query: Select[Any]) -> int:
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int(db.session.scalar(counted) or 0)


def _assignable(asked: ListQuery) -> Select[Any]:
    return (
        select(
            Grant.id,
            Grant.number,
            Organization.name,
            Organization.name_en,
            Program.code,
            NEXT.id,
            NEXT.sequence,
            NEXT.title,
            NEXT.due_date,
            NEXT.overdue_since,
            eligible_reviewers(),
            quorum_column(),
        )
        .join(Organization, Organization.id == Grant.organization_id)
        .join(Program, Program.id == Grant.program_id)
        .join(NEXT, NEXT.id == next_open_id())
        .where(Grant.state == GrantState.active)
    )


def eligible_reviewers() -> Any:
    """The row's grant's eligible reviewers: assigned, active, without a conflict (as
    awards.queries.eligible_reviewer_ids counts them for one grant)."""
    return (
        select(func.count(ReviewerAssignment.id))
        .join(User, User.id == ReviewerAssignment.reviewer_id)
        .where(
            ReviewerAssignment.grant_id == Grant.id,
            User.active.is_(True),
            ~conflict_clause(User.id, User.organization_id),
        )
        .correlate(Grant)
        .scalar_subquery()
    )


def quorum_column() -> ColumnElement[int]:
    """The row's grant's review quorum (its pinned rule set's, awards.rules.quorum_of)."""
    quorums = audit_marks.kept("quorums", None, _quorums)
    if not quorums:
        return literal(DEFAULT_QUORUM)
    return case(quorums, value=Grant.ruleset_id, else_=DEFAULT_QUORUM)


def _quorums() -> dict[int, int]:
    """Each rule set that active grants pin, with its quorum (a handful of documents)."""
    pinned = select(Grant.ruleset_id).where(Grant.state == GrantState.active).distinct()
    query = select(RuleSet.id, RuleSet.document).where(RuleSet.id.in_(pinned))
    return {ruleset_id: quorum_of(document) for ruleset_id, document in db.session.execute(query)}


@dataclass(frozen=True)
class Prospect:
    """What assigning a reviewer to one grant would meet: a closed grant, an assignment
    already there, or a conflict of interest (the use case decides; this tells the page)."""

    grant_id: int
    number: str
    organization_name: str
    open: bool
    assigned: bool
    conflicted: bool

    @property
    def clear(self) -> bool:
        return self.open and not self.assigned and not self.conflicted


def prospects(reviewer: User, grant_ids: Sequence[int]) -> list[Prospect]:
    """For each grant named (by number), whether `reviewer` could be assigned now: one
    statement, for the confirmation of a bulk assignment."""
    taken = exists().where(
        ReviewerAssignment.grant_id == Grant.id, ReviewerAssignment.reviewer_id == reviewer.id
    )
    query = (
        select(
            Grant.id,
            Grant.number,
            Organization.name,
            Grant.state.in_(tuple(GRANT_STATES[Action.assign_reviewers])),
            taken,
            conflict_clause(reviewer.id, reviewer.organization_id),
        )
        .join(Organization, Organization.id == Grant.organization_id)
        .where(Grant.id.in_(grant_ids))
        .order_by(Grant.number, Grant.id)
    )
    return [Prospect(*row) for row in db.session.execute(query)]


def active_reviewer(user_id: int) -> User | None:
    """The user, if an active reviewer."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.role == Role.reviewer and user.active else None


def active_reviewers() -> list[User]:
    """Every active reviewer, by name: whom a bulk assignment may choose."""
    query = (
        select(User)
        .where(User.role == Role.reviewer, User.active.is_(True))
        .options(selectinload(User.organization))
        .order_by(User.name, User.id)
    )
    return list(db.session.scalars(query))


def grant_numbers(grant_ids: Sequence[int]) -> dict[int, str]:
    """The number of each grant named (those that exist)."""
    query = select(Grant.id, Grant.number).where(Grant.id.in_(grant_ids))
    return {grant_id: number for grant_id, number in db.session.execute(query)}
