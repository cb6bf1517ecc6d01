"""The reviewer's queue (the milestones whose evidence waits for their decision), and an
evidence round as the reviewer's sign-off page shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import contains_eager, defer

from grants.accounts.models import Organization
from grants.awards.models import (
    EvidenceFile,
    EvidenceSubmission,
    Grant,
    Milestone,
    Review,
    ReviewerAssignment,
)
from grants.awards.queries import conflict_clause
from grants.core.actors import Actor
from grants.core.db import Page
from grants.core.errors import NotAllowed
from grants.core.identity import Role
from grants.core.lists import Filter, Listing, ListQuery, matching, page_of
from grants.core.problems import N_
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import Program

REVIEW_QUEUE = Listing(
    name="review_queue",
    sorts={
        "submitted": (EvidenceSubmission.submitted_at,),
        "due_date": (Milestone.due_date,),
        "grant": (Grant.number, Milestone.sequence),
        "title": (Milestone.title,),
        "organization": (Organization.name,),
    },
    default_sort="submitted",
    tiebreak=Milestone.id,
    filters=frozenset({Filter.search, Filter.program, Filter.fiscal_year}),
)


def review_list(actor: Actor, asked: ListQuery) -> Page:
    """A page of (milestone, when its evidence was submitted): the submitted milestones of
    active grants the actor is assigned to, without a conflict of interest, whose current
    round they have not decided yet; oldest submission first unless asked otherwise."""
    query = waiting_reviews(actor).options(
        # what the queue shows; the large JSON documents stay in the database
        contains_eager(Milestone.grant).contains_eager(Grant.organization),
        contains_eager(Milestone.grant).contains_eager(Grant.program),
        contains_eager(Milestone.grant).defer(Grant.award_trace),
        defer(Milestone.criteria),
    )
    if asked.program_id is not None:
        query = query.where(Grant.program_id == asked.program_id)
    if asked.fiscal_year is not None:
        query = query.where(Milestone.fiscal_year == asked.fiscal_year)
    if asked.term:
        names = (Milestone.title, Grant.number, Organization.name, Organization.name_en)
        query = query.where(matching(asked.term, *names))
    return page_of(query, REVIEW_QUEUE, asked)


def waiting_reviews(actor: Actor) -> Select[Any]:
    """(milestone, submitted_at) of every round waiting for the actor's decision (a
    reviewer's), with the grant, its organisation and programme joined."""
    if actor.role != Role.reviewer or actor.id is None:
        raise NotAllowed(N_("Only reviewers have a review queue."))
    decided = exists().where(
        Review.submission_id == EvidenceSubmission.id, Review.reviewer_id == actor.id
    )
    return (
        select(Milestone, EvidenceSubmission.submitted_at)
        .join(Grant, Grant.id == Milestone.grant_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .join(Program, Program.id == Grant.program_id)
        .join(
            ReviewerAssignment,
            and_(
                ReviewerAssignment.grant_id == Grant.id, ReviewerAssignment.reviewer_id == actor.id
            ),
        )
        .join(
            EvidenceSubmission,
            and_(
                EvidenceSubmission.milestone_id == Milestone.id,
                EvidenceSubmission.round == Milestone.round,
            ),
        )
        .where(
            Milestone.state == MilestoneState.submitted,
            Grant.state == GrantState.active,
            ~decided,
            ~conflict_clause(actor.id, actor.organization_id),
        )
    )


@dataclass(frozen=True)
class RoundView:
    submission: EvidenceSubmission
    files: list[EvidenceFile]
    mine: Review | None  # the actor's decision on this round, once made


def round_view(actor: Actor, submission: EvidenceSubmission) -> RoundView:
    mine = db.session.scalar(
        select(Review).where(Review.submission_id == submission.id, Review.reviewer_id == actor.id)
    )
    files = db.session.scalars(
        select(EvidenceFile)
        .where(EvidenceFile.submission_id == submission.id)
        .order_by(EvidenceFile.id)
    ).all()
    return RoundView(submission, list(files), mine)
