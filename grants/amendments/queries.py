"""A grant's amendment requests as its page shows them, and what the actor may do with them;
the requests across grants (the officers' list of what waits for a decision)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from grants.accounts.models import Organization
from grants.awards.models import Amendment, Grant, Milestone
from grants.awards.queries import grant_subject, may_now, released_ids, visible_grants
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
from grants.core.permissions import Action, decide
from grants.core.states import AWAITING_EVIDENCE, AmendmentKind, AmendmentState, can_transition
from grants.extensions import db

AMENDMENTS = Listing(
    name="amendments",
    sorts={
        "requested": (Amendment.requested_at,),
        "decided": (Amendment.decided_at,),
        "grant": (Grant.number,),
        "organization": (Organization.name,),
        "kind": (in_order(Amendment.kind, AmendmentKind),),
        "state": (in_order(Amendment.state, AmendmentState),),
    },
    default_sort="requested",
    tiebreak=Amendment.id,
    states=tuple(AmendmentState),
    kinds=tuple(AmendmentKind),
    filters=frozenset({Filter.search, Filter.program}),
)


def amendment_list(actor: Actor, asked: ListQuery) -> Page:
    """A page of (amendment, grant number, organisation name and English name, milestone
    sequence and title) of the grants the actor may see, oldest request first unless asked
    otherwise; the search looks in the grant's number, the reason and the organisation's
    names."""
    sort = asked.sort if asked.sort in AMENDMENTS.sorts else AMENDMENTS.default_sort
    ids = select(Amendment.id).join(Grant, Grant.id == Amendment.grant_id)
    counted = select(Amendment.id).join(Grant, Grant.id == Amendment.grant_id)
    if asked.term or sort == "organization":
        ids = ids.join(Organization, Organization.id == Grant.organization_id)
    if asked.term:
        counted = counted.join(Organization, Organization.id == Grant.organization_id)
    ids, counted = (visible_grants(actor, _narrowed(q, asked)) for q in (ids, counted))
    return page_by_id(ids, AMENDMENTS, asked, _rows, count=lambda: count_of(counted))


def _rows(amendment_ids: list[int]) -> dict[int, Any]:
    query = (
        select(
            Amendment,
            Grant.number,
            Organization.name,
            Organization.name_en,
            Milestone.sequence,
            Milestone.title,
        )
        .join(Grant, Grant.id == Amendment.grant_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .outerjoin(Milestone, Milestone.id == Amendment.milestone_id)
        .where(Amendment.id.in_(amendment_ids))
    )
    return {row[0].id: row for row in db.session.execute(query)}


def _narrowed(query: Select[Any], asked: ListQuery) -> Select[Any]:
    if asked.state is not None:
        query = query.where(Amendment.state == asked.state)
    if asked.kind is not None:
        query = query.where(Amendment.kind == asked.kind)
    if asked.program_id is not None:
        query = query.where(Grant.program_id == asked.program_id)
    if asked.term:
        names = (Grant.number, Amendment.reason, Organization.name, Organization.name_en)
        query = query.where(matching(asked.term, *names))
    return query


@dataclass(frozen=True)
class AmendmentsView:
    grant: Grant
    rows: list[Amendment]  # newest first
    open_ones: list[Milestone]  # whose due date or tranche may still change
    may_request: bool  # the grantee, on an active grant with an open milestone
    decidable: frozenset[int]  # the requests the actor may decide now
    withdrawable: frozenset[int]  # the actor's own requests still waiting for a decision


def amendments_view(actor: Actor, grant: Grant) -> AmendmentsView:
    subject = grant_subject(actor, grant)
    rows = for_grant(grant.id)
    open_ones = open_milestones(grant)
    decides = decide(Action.decide_amendment, subject).allowed
    asks = decide(Action.request_amendment, subject).allowed
    return AmendmentsView(
        grant=grant,
        rows=rows,
        open_ones=open_ones,
        may_request=may_now(Action.request_amendment, subject) and bool(open_ones),
        decidable=frozenset(
            row.id for row in rows if decides and can_transition(row.state, AmendmentState.approved)
        ),
        withdrawable=frozenset(
            row.id
            for row in rows
            if asks
            and row.requested_by_id == actor.id
            and can_transition(row.state, AmendmentState.withdrawn)
        ),
    )


def for_grant(grant_id: int) -> list[Amendment]:
    query = select(Amendment).where(Amendment.grant_id == grant_id)
    return list(db.session.scalars(query.order_by(Amendment.requested_at.desc(), Amendment.id)))


def open_milestones(grant: Grant) -> list[Milestone]:
    """Milestones whose date or tranche may still change: open and not released."""
    released = released_ids(grant.id)
    return [m for m in grant.milestones if m.state in AWAITING_EVIDENCE and m.id not in released]
