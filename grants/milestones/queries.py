"""The list of milestones across grants, as each role may see them: an applicant their
organisation's, a reviewer those of the grants they are assigned to, officers and
administrators every one; searched, filtered and sorted, a page at a time (two
statements whatever the data)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager, defer

from grants.accounts.models import Organization
from grants.awards.models import Grant, Milestone
from grants.awards.queries import lists_every_grant, visible_grants
from grants.core.actors import Actor
from grants.core.db import Page
from grants.core.lists import (
    Filter,
    Listing,
    ListQuery,
    count_of,
    in_order,
    matching,
    page_by_id,
)
from grants.core.states import MilestoneState
from grants.extensions import db
from grants.programs.models import Program

MILESTONES = Listing(
    name="milestones",
    sorts={
        "due_date": (Milestone.due_date,),
        "grant": (Grant.number, Milestone.sequence),
        "title": (Milestone.title,),
        "organization": (Organization.name,),
        "state": (in_order(Milestone.state, MilestoneState),),
        "fiscal_year": (Milestone.fiscal_year,),
        "tranche_amount": (Milestone.tranche_amount,),
    },
    default_sort="due_date",
    tiebreak=Milestone.id,
    states=tuple(MilestoneState),
    filters=frozenset({Filter.search, Filter.program, Filter.fiscal_year, Filter.overdue}),
)


def milestone_list(actor: Actor, asked: ListQuery) -> Page:
    """A page of the milestones of the grants the actor may see, narrowed and sorted as
    asked. The fiscal year is the tranche's; overdue is the scan's flag; the search looks
    in the milestone's title, the grant's number and the organisation's names. The count
    and the page's ids join only what the filters and the sort read."""
    sort = asked.sort if asked.sort in MILESTONES.sorts else MILESTONES.default_sort
    needs_grant = asked.term or asked.program_id is not None or not lists_every_grant(actor)
    ids, counted = select(Milestone.id), select(Milestone.id)
    if needs_grant or sort in ("grant", "organization"):
        ids = ids.join(Grant, Grant.id == Milestone.grant_id)
    if needs_grant:
        counted = counted.join(Grant, Grant.id == Milestone.grant_id)
    if asked.term or sort == "organization":
        ids = ids.join(Organization, Organization.id == Grant.organization_id)
    if asked.term:
        counted = counted.join(Organization, Organization.id == Grant.organization_id)
    ids, counted = (visible_grants(actor, _narrowed(q, asked)) for q in (ids, counted))
    return page_by_id(ids, MILESTONES, asked, _milestones, count=lambda: count_of(counted))


def _milestones(ids: list[int]) -> dict[int, Milestone]:
    """The milestones with what the list shows of their grant, organisation and programme."""
    query = (
        select(Milestone)
        .join(Grant, Grant.id == Milestone.grant_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .join(Program, Program.id == Grant.program_id)
        .where(Milestone.id.in_(ids))
        .options(
            contains_eager(Milestone.grant).contains_eager(Grant.organization),
            contains_eager(Milestone.grant).contains_eager(Grant.program),
            contains_eager(Milestone.grant).defer(Grant.award_trace),
            defer(Milestone.criteria),
        )
    )
    return {milestone.id: milestone for milestone in db.session.scalars(query)}


def _narrowed(query: Select[Any], asked: ListQuery) -> Select[Any]:
    if asked.state is not None:
        query = query.where(Milestone.state == asked.state)
    if asked.program_id is not None:
        query = query.where(Grant.program_id == asked.program_id)
    if asked.fiscal_year is not None:
        query = query.where(Milestone.fiscal_year == asked.fiscal_year)
    if asked.overdue is not None:
        flagged = Milestone.overdue_since >= date.min  # IS NOT NULL, as a range on the index
        query = query.where(flagged if asked.overdue else Milestone.overdue_since.is_(None))
    if asked.term:
        names = (Milestone.title, Grant.number, Organization.name, Organization.name_en)
        query = query.where(matching(asked.term, *names))
    return query
