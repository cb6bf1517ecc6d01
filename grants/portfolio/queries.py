"""The officer's portfolio: read-only, set-based queries (a fixed number, whatever the size).

The portfolio lists the grants as grants.awards.listing does, opening on the active and
suspended ones in portfolio order: overdue first (most overdue first), then by the next
due date. That order, with at most a programme chosen, is read one page at a time from
the indexes (see portfolio.order: one COUNT and one SELECT, however many grants); any
other search, filter or sort is the grants list's. The health of every programme is in
portfolio.health. Budget figures are kept while the data stands still (core.audit_marks).
"""

from __future__ import annotations

from datetime import date

from grants.awards.listing.queries import GRANT_SORTS, GRANTS, grant_list
from grants.awards.models import Grant
from grants.core.actors import Actor
from grants.core.db import Page, bounded, page_within
from grants.core.lists import Direction, Listing, ListQuery
from grants.core.permissions import Action, Subject, require
from grants.core.states import GrantState
from grants.portfolio import order as portfolio_order

# The portfolio shows the oldest tranches awaiting release; the release queue has them all.
AWAITING_SHOWN = 10

# The columns the portfolio shows (the API sorts by the others too).
_SHOWN = ("priority", "number", "organization", "program", "next_due", "award")
PORTFOLIO = Listing(
    name="portfolio",
    sorts={key: GRANT_SORTS[key] for key in _SHOWN},
    default_sort="priority",
    tiebreak=Grant.id,
    states=tuple(GrantState),
    filters=GRANTS.filters,
)


def portfolio(actor: Actor, today: date, asked: ListQuery) -> Page:
    """A page of the grants (GrantRows) as asked; without a state asked for, the active and
    suspended ones. Overdue means flagged by the scan (milestone.overdue_since); `today`
    only counts the days."""
    require(Action.view_portfolio, Subject(role=actor.role))
    if not _in_portfolio_order(asked):
        return grant_list(actor, asked, today, running=True)
    page, per_page = bounded(asked.page, asked.per_page)
    total = portfolio_order.count(asked.program_id)
    page = page_within(page, total, per_page)
    rows = portfolio_order.page_rows(asked.program_id, (page - 1) * per_page, per_page, today)
    return Page(rows, page, per_page, total)


def _in_portfolio_order(asked: ListQuery) -> bool:
    """The portfolio as it opens, or one programme's: what the indexes serve directly."""
    plain = (asked.term, asked.state, asked.fiscal_year, asked.overdue) == ("", None, None, None)
    return plain and asked.sort == "priority" and asked.direction is Direction.asc
