"""The list of grants: who sees which, searched, filtered and sorted, a page at a time.

Each row is a grant with its organisation, programme, released money and its next
milestone (the open one with the lowest sequence: what the grantee or the reviewers work
on now, and whose overdue flag, set by the scan, makes the grant overdue). A page costs
three statements whatever the data: the count, the page's ids in the asked order, and
their details. The officers' portfolio opens in its own order (overdue first), which
grants.portfolio.order reads from the indexes; it shows its rows with `with_details`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import aliased

from grants.accounts.models import Organization
from grants.applications.models import Application
from grants.awards.models import Disbursement, Grant, Milestone
from grants.awards.queries import lists_every_grant, settled_sums, visible_grants
from grants.awards.rules import GrantMoney
from grants.core import audit_marks
from grants.core.actors import Actor
from grants.core.calendar import days_overdue
from grants.core.db import Page, rare
from grants.core.lists import (
    Filter,
    Listing,
    ListQuery,
    count_of,
    in_order,
    matching,
    outer,
    page_by_id,
)
from grants.core.states import RUNNING, UNDECIDED, GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import Program

# A grant's next milestone, joined beside the milestones its filters read.
NEXT = aliased(Milestone, name="next_milestone")
# The milestones that no longer wait for the grantee or the reviewers.
CLOSED = tuple(state for state in MilestoneState if state not in UNDECIDED)


def next_open_id() -> Any:
    """The id of the grant's next milestone (None when none is open), for the row's grant."""
    return (
        select(Milestone.id)
        .where(Milestone.grant_id == Grant.id, Milestone.state.in_(UNDECIDED))
        .order_by(Milestone.sequence)
        .limit(1)
        .correlate(Grant)
        .scalar_subquery()
    )


# Overdue first (most overdue first), then by the next due date, then grants with nothing
# open: the portfolio's order (grants.portfolio.order reads it from the indexes).
_PART = case((NEXT.overdue_since.is_not(None), 0), (NEXT.id.is_not(None), 1), else_=2)
GRANT_SORTS: dict[str, tuple[Any, ...]] = {
    "priority": (
        _PART,
        func.coalesce(NEXT.overdue_since, NEXT.due_date),
        outer(NEXT.due_date),
        Grant.number,
    ),
    "number": (Grant.number,),
    "title": (Application.title,),
    "organization": (Organization.name,),
    "program": (Program.code,),
    "state": (in_order(Grant.state, GrantState),),
    "next_due": (outer(NEXT.due_date),),
    "award": (Grant.award_amount,),
    "awarded": (Grant.awarded_at,),
}
# The sorts that read the next milestone of every grant listed, not only of the page's.
_BY_NEXT = frozenset({"priority", "next_due"})

GRANTS = Listing(
    name="grants",
    sorts=GRANT_SORTS,
    default_sort="number",
    tiebreak=Grant.id,
    states=tuple(GrantState),
    filters=frozenset({Filter.search, Filter.program, Filter.fiscal_year, Filter.overdue}),
)


@dataclass(frozen=True)
class GrantRow:
    grant_id: int
    number: str
    title: str
    state: GrantState
    organization_id: int
    organization_name: str
    organization_name_en: str | None
    program_id: int
    program_code: str
    program_name_ja: str
    program_name_en: str
    award: int
    paid: int  # what the tranches paid
    returned: int  # what final amounts returned, still owe and cut (settlement)
    owed: int
    forgone: int
    milestone_id: int | None  # the next milestone (None when none is open)
    milestone_sequence: int | None
    milestone_title: str | None
    milestone_due: date | None
    milestone_state: MilestoneState | None
    overdue_since: date | None  # the next milestone's overdue flag (set by the scan)
    days_overdue: int  # on the list's day, the first overdue day counting as 1

    def organization(self, locale: str) -> str:
        return (
            self.organization_name_en
            if locale == "en" and self.organization_name_en
            else (self.organization_name)
        )

    def program(self, locale: str) -> str:
        return self.program_name_en if locale == "en" else self.program_name_ja

    @property
    def overdue(self) -> bool:
        return self.overdue_since is not None

    @property
    def money(self) -> GrantMoney:
        return GrantMoney(self.award, self.paid, self.state, self.returned, self.owed, self.forgone)

    @property
    def released(self) -> int:
        return self.money.released

    @property
    def remaining(self) -> int:
        return self.money.remaining


def grant_list(actor: Actor, asked: ListQuery, today: date, running: bool = False) -> Page:
    """A page of the grants the actor may see (their organisation's for applicants, their
    assigned ones for reviewers, every one for officers and admins), narrowed and sorted as
    asked; `running`: without a state asked for, only active and suspended ones (the
    portfolio's). The fiscal year is any of the grant's milestones'; the search looks in
    the number, the title and the organisation's names; overdue is the next milestone's
    flag."""
    sort = asked.sort if asked.sort in GRANTS.sorts else GRANTS.default_sort
    query = _searchable(select(Grant.id), asked.term)
    counted = _searchable(select(Grant.id), asked.term)  # joins only what the filters read
    if sort == "organization" and not asked.term:
        query = query.join(Organization, Organization.id == Grant.organization_id)
    if sort == "title" and not asked.term:
        query = query.join(Application, Application.id == Grant.application_id)
    if sort == "program":
        query = query.join(Program, Program.id == Grant.program_id)
    if asked.overdue:
        # the next milestone is the flagged one: read from the overdue index, per milestone
        query = query.join(NEXT, _NEXT_FLAGGED)
        counted = counted.join(NEXT, _NEXT_FLAGGED)
    elif sort in _BY_NEXT:
        query = query.outerjoin(NEXT, NEXT.id == next_open_id())
    query, counted = (visible_grants(actor, narrowed(q, asked, running)) for q in (query, counted))

    def load(ids: list[int]) -> dict[int, GrantRow]:
        return {row.grant_id: row for row in rows_of(_for_ids(ids), today)}

    return page_by_id(
        query, GRANTS, asked, load, count=lambda: _count(actor, asked, running, counted)
    )


def _count(actor: Actor, asked: ListQuery, running: bool, counted: Select[Any]) -> int:
    """How many grants are listed; without a search, kept while the data stands still (every
    table the filters read stamps the data generation; an organisation's name does not)."""
    if asked.term:
        return count_of(counted)
    scope = None if lists_every_grant(actor) else (actor.role, actor.organization_id, actor.id)
    key = (scope, asked.filters(), running)
    return audit_marks.kept("grants_count", key, lambda: count_of(counted))


def _searchable(query: Select[Any], term: str) -> Select[Any]:
    """`query` with what a search reads: the application's title, the organisation's names."""
    if not term:
        return query
    return query.join(Organization, Organization.id == Grant.organization_id).join(
        Application, Application.id == Grant.application_id
    )


def narrowed(query: Select[Any], asked: ListQuery, running: bool) -> Select[Any]:
    states = (asked.state,) if asked.state is not None else (RUNNING if running else ())
    if states:
        query = query.where(Grant.state.in_(states))
    if asked.program_id is not None:
        query = query.where(Grant.program_id == asked.program_id)
    if asked.fiscal_year is not None:
        in_year = select(Milestone.grant_id).where(Milestone.fiscal_year == asked.fiscal_year)
        query = query.where(Grant.id.in_(in_year))
    if asked.overdue is False:  # (overdue ones: grant_list joins their flagged milestone)
        overdue = select(Milestone.grant_id).where(*flagged_next(Milestone))
        query = query.where(~Grant.id.in_(overdue))
    if asked.term:
        names = (Grant.number, Application.title, Organization.name, Organization.name_en)
        query = query.where(matching(asked.term, *names))
    return query


def flagged_next(milestone: Any) -> tuple[Any, ...]:
    """`milestone` (the class or an alias) is its grant's next open milestone and the scan
    flagged it overdue: the conditions, read from the overdue index."""
    earlier = Milestone.__table__.alias("earlier")
    is_next = ~(
        select(earlier.c.id)
        .where(
            earlier.c.grant_id == milestone.grant_id,
            earlier.c.sequence < milestone.sequence,
            earlier.c.state.in_(UNDECIDED),
        )
        .exists()
    )
    # IS NOT NULL, as a range on the index, which few milestones are in
    flagged = rare(milestone.overdue_since >= date.min)
    return (flagged, milestone.state.not_in(CLOSED), is_next)


# The grant's next milestone, flagged overdue: built once, as every overdue list joins it.
_NEXT_FLAGGED = and_(NEXT.grant_id == Grant.id, *flagged_next(NEXT))


def _for_ids(ids: list[int]) -> Select[Any]:
    page = (
        select(Grant.id.label("grant_id"), next_open_id().label("milestone_id"))
        .where(Grant.id.in_(ids))
        .subquery("page")
    )
    return with_details(page)


def with_details(page: Any) -> Select[Any]:
    """The grants of `page` (a subquery with grant_id and milestone_id, the next milestone's
    id) with everything a GrantRow shows: one statement, the money sums read per grant."""
    paid = (
        select(func.coalesce(func.sum(Disbursement.amount), 0))
        .where(Disbursement.grant_id == page.c.grant_id)
        .scalar_subquery()
    )
    returned, owed, forgone = settled_sums(page.c.grant_id)
    return (
        select(
            page.c.grant_id,
            Grant.number,
            Application.title,
            Grant.state,
            Grant.organization_id,
            Organization.name.label("organization_name"),
            Organization.name_en.label("organization_name_en"),
            Program.id.label("program_id"),
            Program.code.label("program_code"),
            Program.name_ja.label("program_name_ja"),
            Program.name_en.label("program_name_en"),
            Grant.award_amount.label("award"),
            paid.label("paid"),
            returned.label("returned"),
            owed.label("owed"),
            forgone.label("forgone"),
            page.c.milestone_id,
            Milestone.sequence.label("milestone_sequence"),
            Milestone.title.label("milestone_title"),
            Milestone.due_date.label("milestone_due"),
            Milestone.state.label("milestone_state"),
            Milestone.overdue_since,
        )
        .select_from(page)
        .join(Grant, Grant.id == page.c.grant_id)
        .join(Application, Application.id == Grant.application_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .join(Program, Program.id == Grant.program_id)
        .outerjoin(Milestone, Milestone.id == page.c.milestone_id)
    )


def rows_of(
    query: Select[Any], today: date, params: dict[str, Any] | None = None
) -> list[GrantRow]:
    """The GrantRows of a with_details statement (run with `params`), in its order."""
    return [_row(row, today) for row in db.session.execute(query, params or {}).mappings()]


def _row(values: Any, today: date) -> GrantRow:
    state = values["milestone_state"]
    return GrantRow(
        grant_id=values["grant_id"],
        number=values["number"],
        title=values["title"],
        state=GrantState(values["state"]),
        organization_id=values["organization_id"],
        organization_name=values["organization_name"],
        organization_name_en=values["organization_name_en"],
        program_id=values["program_id"],
        program_code=values["program_code"],
        program_name_ja=values["program_name_ja"],
        program_name_en=values["program_name_en"],
        award=int(values["award"]),
        paid=int(values["paid"] or 0),
        returned=int(values["returned"] or 0),
        owed=int(values["owed"] or 0),
        forgone=int(values["forgone"] or 0),
        milestone_id=values["milestone_id"],
        milestone_sequence=values["milestone_sequence"],
        milestone_title=values["milestone_title"],
        milestone_due=values["milestone_due"],
        milestone_state=MilestoneState(state) if state is not None else None,
        overdue_since=values["overdue_since"],
        days_overdue=days_overdue(values["overdue_since"], today),
    )
