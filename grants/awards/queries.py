"""Reading grants as an actor may: loading, the actor's relation for the permission table,
visibility, reviewer eligibility, and what the grant page and services ask of its record.

Visibility: the grants the caller may see; others answer 404, so that their existence is
not revealed, except to officers and admins (who list every grant) who get 403 when the
permission table refuses them an action on a grant. Reviewer eligibility: the conflict of
interest exclusions per grant (grants.core.conflicts decides).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import selectinload

from grants.accounts.models import ConflictDeclaration, User
from grants.applications.models import CoInvestment
from grants.awards.models import (
    Amendment,
    Disbursement,
    Grant,
    Investment,
    Milestone,
    PreparedRelease,
    Review,
    ReviewerAssignment,
    Settlement,
)
from grants.awards.rules import GrantMoney, PreparedReleaseState, grant_allows, quorum_of
from grants.core.actors import Actor
from grants.core.conflicts import ConflictReason, GrantParties, conflict_reasons
from grants.core.errors import NotAllowed, NotFound
from grants.core.i18n import translate
from grants.core.identity import Role
from grants.core.permissions import Action, Reason, Subject, decide, require
from grants.core.problems import N_
from grants.core.states import AmendmentState, GrantState, awaits_earlier_milestone
from grants.extensions import db
from grants.merit_review.queries import candidates


def get_grant(grant_id: int) -> Grant:
    grant = db.session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(N_("Not found."))
    return grant


def get_milestone(milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound(N_("Not found."))
    return milestone


def grant_subject(
    actor: Actor,
    grant: Grant,
    milestone: Milestone | None = None,
    state: str | None = None,
    released: bool = False,
) -> Subject:
    """The actor's relation to `grant` (and to `milestone`, whose state is used by default;
    `released`: its tranche is out already, which only the disbursement rows tell)."""
    assigned = _is_assigned(actor, grant)
    return Subject(
        role=actor.role,
        is_owner_org=actor.organization_id is not None
        and actor.organization_id == grant.organization_id,
        is_assigned_reviewer=assigned,
        is_conflicted=assigned and bool(reviewer_conflicts(grant, [actor])[actor.id]),
        is_reviewer_of_milestone=milestone is not None
        and (assigned or _has_reviewed(actor, milestone)),
        state=state if state is not None else (str(milestone.state) if milestone else None),
        grant_state=str(grant.state),
        is_released=released,
    )


def require_on_grant(
    action: Action,
    actor: Actor,
    grant: Grant,
    milestone: Milestone | None = None,
    state: str | None = None,
) -> None:
    """Raise NotAllowed (or Conflict for a state refusal) unless `actor` may do `action`."""
    require(action, grant_subject(actor, grant, milestone, state))


def _is_assigned(actor: Actor, grant: Grant) -> bool:
    if actor.id is None:
        return False
    query = select(
        exists().where(
            ReviewerAssignment.grant_id == grant.id, ReviewerAssignment.reviewer_id == actor.id
        )
    )
    return bool(db.session.scalar(query))


def _has_reviewed(actor: Actor, milestone: Milestone) -> bool:
    """Separation of duties also covers someone who reviewed it before a change of role."""
    if actor.id is None:
        return False
    query = select(
        exists().where(Review.milestone_id == milestone.id, Review.reviewer_id == actor.id)
    )
    return bool(db.session.scalar(query))


def grant_parties(grant: Grant) -> GrantParties:
    vc_ids = frozenset(ci.vc_organization_id for ci in grant.application.co_investments)
    return GrantParties(grant.id, grant.organization_id, vc_ids)


def assigned_reviewers(grant: Grant) -> list[User]:
    query = (
        select(User)
        .join(ReviewerAssignment, ReviewerAssignment.reviewer_id == User.id)
        .where(ReviewerAssignment.grant_id == grant.id)
        .order_by(User.name)
    )
    return list(db.session.scalars(query))


def reviewer_conflicts(grant: Grant, users: Iterable[User]) -> dict[int, list[ConflictReason]]:
    """Each user's conflict reasons with `grant` (an empty list when none)."""
    parties = grant_parties(grant)
    return {c.user_id: conflict_reasons(c, parties) for c in candidates(users)}


def conflict_clause(reviewer_id: Any, organization_id: Any) -> ColumnElement[bool]:
    """Whether a reviewer has a conflict of interest with the grant of the row (Grant's
    columns), in SQL, for lists and counts over many grants at once: the reviewer (their
    id and organisation, columns or plain values) belongs to the grantee or to one of its
    investing VCs, or declared a conflict with the grant or one of those organisations.
    The same reasons as core.conflicts.conflict_reasons (tests compare both)."""
    vcs = select(CoInvestment.vc_organization_id).where(
        CoInvestment.application_id == Grant.application_id
    )
    declared = (
        select(ConflictDeclaration.id)
        .where(
            ConflictDeclaration.reviewer_id == reviewer_id,
            or_(
                ConflictDeclaration.grant_id == Grant.id,
                ConflictDeclaration.organization_id == Grant.organization_id,
                ConflictDeclaration.organization_id.in_(vcs),
            ),
        )
        .exists()
    )
    if organization_id is None:
        return declared
    org = literal(organization_id) if isinstance(organization_id, int) else organization_id
    belongs = and_(org.is_not(None), or_(org == Grant.organization_id, org.in_(vcs)))
    return or_(belongs, declared)


def grantee_and_reviewers(grant: Grant) -> Select[tuple[int]]:
    """The grantee's active applicant users and the grant's assigned, active reviewers."""
    assigned = select(ReviewerAssignment.reviewer_id).where(ReviewerAssignment.grant_id == grant.id)
    return select(User.id).where(
        User.active == true(),
        or_(
            and_(User.role == Role.applicant, User.organization_id == grant.organization_id),
            and_(User.role == Role.reviewer, User.id.in_(assigned)),
        ),
    )


def eligible_reviewer_ids(grant: Grant) -> set[int]:
    """Assigned, active reviewers with no conflict of interest with `grant`."""
    reviewers = [u for u in assigned_reviewers(grant) if u.active]
    conflicts = reviewer_conflicts(grant, reviewers)
    return {user_id for user_id, reasons in conflicts.items() if not reasons}


def lists_every_grant(user: User) -> bool:
    """Officers and admins see the whole portfolio."""
    return decide(Action.view_portfolio, Subject(role=user.role)).allowed


def visible_grants(user: User, query: Select[tuple[Grant]]) -> Select[tuple[Grant]]:
    """`query` narrowed to the grants `user` may see (the set form of view_grant)."""
    if lists_every_grant(user):
        return query
    if user.role == Role.applicant and user.organization_id is not None:
        return query.where(Grant.organization_id == user.organization_id)
    if user.role == Role.reviewer:
        mine = select(ReviewerAssignment.grant_id).where(ReviewerAssignment.reviewer_id == user.id)
        return query.where(Grant.id.in_(mine))
    return query.where(false())


def visible_grant(user: User, grant_id: int) -> tuple[Grant, Subject]:
    """The grant and the caller's relation to it; NotFound when the caller may not see it."""
    grant = get_grant(grant_id)
    subject = grant_subject(user, grant)
    if not decide(Action.view_grant, subject).allowed:
        if lists_every_grant(user):
            raise NotAllowed(N_("You may not open this grant."))
        raise NotFound(N_("Not found."))
    return grant, subject


def visible_milestone(user: User, milestone_id: int) -> tuple[Milestone, Subject]:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound(N_("Not found."))
    grant, _subject = visible_grant(user, milestone.grant_id)
    return milestone, grant_subject(user, grant, milestone)


def visible_investment(user: User, investment_id: int) -> Investment:
    investment = db.session.get(Investment, investment_id)
    if investment is None:
        raise NotFound(N_("Not found."))
    visible_grant(user, investment.grant_id)
    return investment


def visible_amendment(user: User, amendment_id: int) -> Amendment:
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None:
        raise NotFound(N_("Not found."))
    visible_grant(user, amendment.grant_id)
    return amendment


def require_role(user: User, action: Action) -> None:
    """The web's role gate: refuse a role that never performs `action` (the service decides
    the rest)."""
    reason = decide(action, Subject(role=user.role)).reason
    if reason in (Reason.role, Reason.separation_of_duties):
        raise NotAllowed(N_("Your role may not do this."))


def pending_for_grant(grant_id: int) -> list[Amendment]:
    """The grant's requests still waiting for an officer's decision, oldest first."""
    query = select(Amendment).where(
        Amendment.grant_id == grant_id, Amendment.state == AmendmentState.requested
    )
    return list(db.session.scalars(query.order_by(Amendment.requested_at, Amendment.id)))


Reviewed = list[tuple[User, list[ConflictReason]]]


def assigned(grant: Grant) -> Reviewed:
    """The grant's assigned reviewers with their conflict reasons (empty when eligible)."""
    query = (
        select(User)
        .join(ReviewerAssignment, ReviewerAssignment.reviewer_id == User.id)
        .where(ReviewerAssignment.grant_id == grant.id)
        .options(selectinload(User.organization))
        .order_by(User.name, User.id)
    )
    reviewers = list(db.session.scalars(query))
    found = reviewer_conflicts(grant, reviewers)
    return [(user, found[user.id]) for user in reviewers]


@dataclass(frozen=True)
class QuorumOutlook:
    """Whether a review round of the grant can ever close with the reviewers assigned now."""

    quorum: int  # the pinned rule set's review quorum (reviews.quorum_of)
    eligible: int  # assigned, active reviewers without a conflict of interest

    @property
    def reachable(self) -> bool:
        return self.eligible >= self.quorum

    @property
    def missing(self) -> int:
        return max(self.quorum - self.eligible, 0)


def quorum_outlook(grant: Grant) -> QuorumOutlook:
    """The grant's review quorum against its eligible reviewers: with fewer eligible reviewers
    than the quorum (conflicted ones do not count), no round can ever be decided."""
    quorum = quorum_of(grant.ruleset.document)
    return QuorumOutlook(quorum, len(eligible_reviewer_ids(grant)))


def may_now(action: Action, subject: Subject) -> bool:
    """Whether the actor may do `action` on the subject's grant now: the permission table
    says who, awards.rules.GRANT_STATES in which states of the grant."""
    return decide(action, subject).allowed and grant_allows(action, subject.grant_state or "")


def takes_evidence(
    subject: Subject, grant_state: str, sequence: int, stages: Sequence[tuple[int, str]]
) -> bool:
    """Whether the milestone at `sequence` takes evidence from `subject` now, by the rule
    check_may_submit enforces: for pages that decide whether to link to the form.

    `subject` holds the milestone's state; `stages` are the grant's (sequence, state) pairs.
    """
    relation = replace(_evidence_subject(subject, sequence, stages), grant_state=grant_state)
    return may_now(Action.submit_evidence, relation)


def _evidence_subject(
    subject: Subject, sequence: int, stages: Sequence[tuple[int, str]]
) -> Subject:
    return replace(subject, awaits_earlier_milestone=awaits_earlier_milestone(sequence, stages))


def stages_of(milestones: Sequence[Milestone]) -> list[tuple[int, str]]:
    """A grant's milestones as the (sequence, state) pairs the staging rules read."""
    return [(m.sequence, str(m.state)) for m in milestones]


def released_ids(grant_id: int) -> set[int]:
    """The ids of the grant's milestones whose tranche is released."""
    query = select(Disbursement.milestone_id).where(Disbursement.grant_id == grant_id)
    return set(db.session.scalars(query))


def disbursement_of(milestone_id: int) -> Disbursement | None:
    return db.session.scalar(select(Disbursement).where(Disbursement.milestone_id == milestone_id))


@dataclass(frozen=True)
class ReviewerNames:
    """How one viewer sees a grant's reviewers: `label` is what every page, JSON answer,
    e-mail and thread shows for a reviewer, and `shown_id` their id (None when hidden)."""

    anonymous: bool
    labels: Mapping[int, str]

    def label(self, reviewer_id: int) -> str:
        return self.labels.get(reviewer_id, "")

    def shown_id(self, reviewer_id: int) -> int | None:
        return None if self.anonymous else reviewer_id


def reviewer_names(
    viewer: Actor, grant: Grant, locale: str, also: Iterable[int] = ()
) -> ReviewerNames:
    """The one rule for naming reviewers. Staff (officers, reviewers, admins) see names; so
    do applicants of a programme with anonymity off. Otherwise an applicant sees "Reviewer
    1", "Reviewer 2" ...: the grant's assigned reviewers numbered in the order they were
    assigned, then former ones who reviewed a milestone in the order of their first review,
    then `also` (reviewers known elsewhere, as a thread's authors) in the order given; the
    same numbers on every page and in every output."""
    order: list[int] = list(
        db.session.scalars(
            select(ReviewerAssignment.reviewer_id)
            .where(ReviewerAssignment.grant_id == grant.id)
            .order_by(ReviewerAssignment.assigned_at, ReviewerAssignment.id)
        )
    )
    first_reviews = (
        select(Review.reviewer_id, func.min(Review.id).label("first"))
        .join(Milestone, Milestone.id == Review.milestone_id)
        .where(Milestone.grant_id == grant.id)
        .group_by(Review.reviewer_id)
        .subquery()
    )
    reviewed = db.session.scalars(
        select(first_reviews.c.reviewer_id).order_by(first_reviews.c.first)
    )
    for reviewer_id in [*reviewed, *also]:
        if reviewer_id not in order:
            order.append(reviewer_id)
    anonymous = viewer.role == Role.applicant and grant.program.reviewers_anonymous
    if anonymous:
        labels = {
            reviewer_id: translate(N_("Reviewer %(n)d", n=number), locale)
            for number, reviewer_id in enumerate(order, start=1)
        }
    else:
        users = db.session.execute(select(User.id, User.name).where(User.id.in_(order)))
        labels = {user_id: name for user_id, name in users.tuples()}
    return ReviewerNames(anonymous, labels)


def grant_money(rows: Iterable[tuple[int, int, int, GrantState]]) -> dict[int, GrantMoney]:
    """Each grant's money from (grant id, award, paid, state), with what its final amounts
    returned, still owe and cut (one query): the one calculation (awards.rules.GrantMoney)."""
    found = list(rows)
    ids = [row[0] for row in found]
    sums: dict[int, tuple[int, int, int]] = {}
    if ids:
        query = select(Grant.id, *settled_sums(Grant.id)).where(Grant.id.in_(ids))
        sums = {
            row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in db.session.execute(query)
        }
    return {
        grant_id: GrantMoney(
            int(award), int(paid), GrantState(state), *sums.get(grant_id, (0, 0, 0))
        )
        for grant_id, award, paid, state in found
    }


def settled_sums(grant_id: Any) -> tuple[Any, Any, Any]:
    """For the grant `grant_id` (a column), what its final amounts returned, still owe and
    cut (GrantMoney's returned, owed and forgone), as scalar subqueries."""
    settled = Settlement.__table__.c
    received = settled.returned_on.is_not(None)
    pending_return = and_(settled.excess_method == "returned", ~received)
    pending_set_off = and_(
        settled.excess_method == "set_off", settled.set_off_disbursement_id.is_(None)
    )
    owed = or_(pending_return, pending_set_off)
    return (
        _total(case((received, settled.excess), else_=0), grant_id),
        _total(case((owed, settled.excess), else_=0), grant_id),
        _total(settled.decided - settled.final_amount - settled.carried, grant_id),
    )


def _total(expression: Any, grant_id: Any) -> Any:
    settled = Settlement.__table__.c
    return (
        select(func.coalesce(func.sum(expression), 0))
        .where(settled.grant_id == grant_id)
        .scalar_subquery()
    )


def release_relation(
    actor: Actor,
    grant: Grant,
    milestone: Milestone,
    subject: Subject,
    pending: PreparedRelease | None,
) -> Subject:
    """`subject` (the actor's relation to the milestone) with the separations of duties of
    releasing its tranche, as the grant's programme sets them: the actor awarded the grant,
    the tranche is above the release threshold, a prepared release of it waits (`pending`)
    and the actor prepared it."""
    program = grant.program
    return replace(
        subject,
        is_awarding_officer=program.separate_award_and_release
        and actor.id is not None
        and grant.awarded_by_id == actor.id,
        needs_second_officer=milestone.tranche_amount > program.release_approval_threshold,
        is_preparer=pending is not None and pending.prepared_by_id == actor.id,
        has_prepared_release=pending is not None,
    )


def pending_release(milestone_id: int, lock: bool = False) -> PreparedRelease | None:
    """The prepared release of the milestone's tranche waiting for approval (row-locked when
    `lock`), if any."""
    query = select(PreparedRelease).where(
        PreparedRelease.milestone_id == milestone_id,
        PreparedRelease.state == PreparedReleaseState.pending,
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def pending_releases(grant_id: int) -> dict[int, PreparedRelease]:
    """The grant's prepared releases waiting for approval, by milestone id."""
    query = select(PreparedRelease).where(
        PreparedRelease.grant_id == grant_id,
        PreparedRelease.state == PreparedReleaseState.pending,
    )
    return {prepared.milestone_id: prepared for prepared in db.session.scalars(query)}
