"""The portfolio's order, read one page at a time from the indexes instead of ranking every grant.

A grant's place depends on its next open milestone (the open one with the lowest
sequence): grants whose next milestone is overdue come first, most overdue first (the
earliest overdue_since); then the others by that milestone's due date; then grants
without an open milestone; ties by grant number. A milestone is overdue iff the scan
flagged it (milestone.overdue_since is set: due date + grace + 1, the grace being the
grant's rule set's), so neither the page nor the order depends on "today".

Ranking all grants to show a page of them reads every milestone. Instead, each part is
read in its own order from a milestone index, at most `offset + limit` rows of each: the
flagged next milestones by overdue_since (the overdue_since index's order), and the
unflagged ones of each open state (planned, sent back, submitted) by due date (the order
of (state, due_date) in an index); SQL merges them. Grants without an open milestone
are read (by number) only when those do not fill the page. A page costs a few short index
range scans, in one SELECT; the total is one COUNT.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    bindparam,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    union_all,
)

from grants.awards.listing.queries import CLOSED, GrantRow, rows_of, with_details
from grants.awards.models import Grant, Milestone
from grants.core import audit_marks
from grants.core.states import RUNNING, UNDECIDED
from grants.extensions import db

# The three parts of the portfolio, in order.
OVERDUE, SCHEDULED, UNSCHEDULED = 0, 1, 2

__all__ = ["count", "page_rows"]


def count(program_id: int | None) -> int:
    """How many grants the portfolio lists (active and suspended ones; kept while the audit
    log stands still)."""
    return audit_marks.kept("portfolio_count", program_id, lambda: _count(program_id))


def _count(program_id: int | None) -> int:
    query = select(func.count()).select_from(Grant).where(*_grant_filter(program_id))
    return int(db.session.scalar(query) or 0)


def page_rows(program_id: int | None, offset: int, limit: int, today: date) -> list[GrantRow]:
    """Rows `offset`..`offset + limit` of the portfolio, in portfolio order, in one statement
    (each a grant with its next milestone, None when none is open, seen on `today`)."""
    params: dict[str, Any] = {"wanted": offset + limit, "offset": offset, "limit": limit}
    if program_id is not None:
        params["program_id"] = program_id
    return rows_of(_page(program_id is not None), today, params)


def _grant_filter(program_id: int | None) -> list[Any]:
    conditions: list[Any] = [Grant.state.in_(RUNNING)]
    if program_id is not None:
        conditions.append(Grant.program_id == program_id)
    return conditions


def _grant_filter_param(filtered: bool) -> list[Any]:
    by_programme = [Grant.program_id == _value("program_id", Integer)] if filtered else []
    return _grant_filter(None) + by_programme


def _is_next_open() -> Any:
    """No open milestone of the same grant comes before this one."""
    earlier = Milestone.__table__.alias()
    return ~exists().where(
        earlier.c.grant_id == Milestone.grant_id,
        earlier.c.sequence < Milestone.sequence,
        earlier.c.state.in_(UNDECIDED),
    )


def _value(name: str, type_: Any) -> Any:
    """A parameter written into the statement's text when it runs: each day, page and
    filter is then a statement without parameters, which PostgreSQL plans once per
    connection (its plans for a parameter, made anew each time, cost more than the
    index reads they plan)."""
    return bindparam(name, type_=type_, literal_execute=True)


@cache
def _page(filtered: bool) -> Select[Any]:
    """The page's statement, built once: parameters wanted (offset + limit), offset, limit
    and, when `filtered`, program_id."""
    scheduled = _scheduled(filtered).cte("scheduled")
    everything = union_all(
        select(*scheduled.c), select(*_unscheduled(filtered, scheduled).c)
    ).subquery("everything")
    page = (
        select(*everything.c)
        .order_by(*_order(everything))
        .limit(_value("limit", Integer))
        .offset(_value("offset", Integer))
        .subquery("page")
    )
    return with_details(page).order_by(*_order(page))


def _order(rows: Any) -> tuple[Any, ...]:
    """Portfolio order: the part, then its date (overdue_since for the overdue part, the
    due date for the others), the due date, the grant number and id."""
    c = rows.c
    return (c.bucket, c.sort_date, c.due_date, c.number, c.grant_id)


def _scheduled(filtered: bool) -> Select[Any]:
    """The first `wanted` grants that have an open milestone, in portfolio order."""
    wanted = _value("wanted", Integer)
    # The unflagged next milestones of each open state, in the order of the (state,
    # due_date) part of an index: the portfolio's order within the part. A range on any
    # due date all the same, so that SQLite reads the index in due order.
    parts = [
        select(
            *select(
                Milestone.grant_id.label("grant_id"),
                Grant.number.label("number"),
                Milestone.id.label("milestone_id"),
                Milestone.due_date.label("due_date"),
                Milestone.due_date.label("sort_date"),
                literal(SCHEDULED).label("bucket"),
            )
            .join(Grant, Grant.id == Milestone.grant_id)
            .where(
                Milestone.state == state,
                Milestone.due_date >= date.min,
                Milestone.overdue_since.is_(None),
                _is_next_open(),
                *_grant_filter_param(filtered),
            )
            .order_by(Milestone.due_date, Grant.number, Grant.id)
            .limit(wanted)
            .subquery()
            .c
        )
        for state in UNDECIDED
    ]
    merged = union_all(select(*_flagged(filtered).c), *parts).subquery("merged")
    return select(*merged.c).order_by(*_order(merged)).limit(wanted)


def _flagged(filtered: bool) -> Any:
    """The first `wanted` grants whose next milestone is flagged overdue, most overdue
    (earliest overdue_since) first, read in that order from the overdue_since index.

    The milestone is the only table the planners can start from (the grant is an EXISTS
    and a scalar subquery), and "not closed" is a condition no index answers, so that
    they read the few flagged milestones rather than every open one or every grant.
    """
    number = select(Grant.number).where(Grant.id == Milestone.grant_id).scalar_subquery()
    in_portfolio = exists().where(Grant.id == Milestone.grant_id, *_grant_filter_param(filtered))
    return (
        select(
            Milestone.grant_id.label("grant_id"),
            number.label("number"),
            Milestone.id.label("milestone_id"),
            Milestone.due_date.label("due_date"),
            Milestone.overdue_since.label("sort_date"),
            literal(OVERDUE).label("bucket"),
        )
        .where(
            Milestone.overdue_since >= date.min,  # IS NOT NULL, as a range on the index
            Milestone.state.not_in(CLOSED),
            _is_next_open(),
            in_portfolio,
        )
        .order_by(Milestone.overdue_since, Milestone.due_date, number, Milestone.grant_id)
        .limit(_value("wanted", Integer))
        .subquery("flagged")
    )


def _unscheduled(filtered: bool, scheduled: Any) -> Any:
    """The first grants without an open milestone, as many as `scheduled` leaves room for.

    The room is the LIMIT itself, so that a full page never starts reading grants.
    """
    has_open = exists().where(Milestone.grant_id == Grant.id, Milestone.state.in_(UNDECIDED))
    taken = select(func.count()).select_from(scheduled).scalar_subquery()
    return (
        select(
            Grant.id.label("grant_id"),
            Grant.number.label("number"),
            cast(null(), Milestone.id.type).label("milestone_id"),
            cast(null(), Date).label("due_date"),
            cast(null(), Date).label("sort_date"),
            literal(UNSCHEDULED).label("bucket"),
        )
        .where(~has_open, *_grant_filter_param(filtered))
        .order_by(Grant.number, Grant.id)
        .limit(_value("wanted", Integer) - taken)
        .subquery("unscheduled")
    )
