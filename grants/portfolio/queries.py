"""The officer's portfolio: read-only, set-based queries (a fixed number, whatever the size).

A page of the portfolio is read from the indexes in portfolio order (see
portfolio.order: one COUNT and one SELECT, however many grants); the
health of every programme is in portfolio.health. Budget figures are kept
while the data stands still (core.audit_marks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from grants.awards.rules import GrantMoney
from grants.core.calendar import days_overdue
from grants.core.db import Page, bounded, page_within
from grants.core.states import GrantState, MilestoneState
from grants.portfolio import order as portfolio_order

PER_PAGE = 25
# The portfolio shows the oldest tranches awaiting release; the release queue has them all.
AWAITING_SHOWN = 10


@dataclass(frozen=True)
class PortfolioRow:
    grant_id: int
    number: str
    state: GrantState
    organization_name: str
    organization_name_en: str | None
    program_id: int
    program_code: str
    program_name_ja: str
    program_name_en: str
    milestone_id: int | None
    milestone_title: str | None
    milestone_due: date | None
    milestone_state: MilestoneState | None
    overdue_since: date | None  # the next milestone's overdue flag (set by the scan)
    days_overdue: int  # on the portfolio's day, the first overdue day counting as 1
    released: int
    award: int

    def organization(self, locale: str) -> str:
        return (
            self.organization_name_en
            if locale == "en" and self.organization_name_en
            else (self.organization_name)
        )

    def program(self, locale: str) -> str:
        return self.program_name_en if locale == "en" else self.program_name_ja

    @property
    def remaining(self) -> int:
        return GrantMoney(self.award, self.released, self.state).remaining

    @property
    def overdue(self) -> bool:
        return self.overdue_since is not None


def portfolio(
    today: date, program_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """Active and suspended grants, overdue first (most overdue first), then by next due date.

    Overdue means flagged by the scan (milestone.overdue_since); `today` only counts the days.
    """
    page, per_page = bounded(page, per_page)
    total = portfolio_order.count(program_id)
    page = page_within(page, total, per_page)
    rows = portfolio_order.page_rows(program_id, (page - 1) * per_page, per_page)
    items = [_row(row, today) for row in rows]
    return Page(items, page, per_page, total)


def _row(row: Any, today: date) -> PortfolioRow:
    since = row[16]  # set exactly for the overdue part (portfolio_order)
    return PortfolioRow(
        grant_id=row[0],
        number=row[1],
        state=GrantState(row[2]),
        organization_name=row[3],
        organization_name_en=row[4],
        program_id=row[5],
        program_code=row[6],
        program_name_ja=row[7],
        program_name_en=row[8],
        milestone_id=row[9],
        milestone_title=row[10],
        milestone_due=row[11],
        milestone_state=MilestoneState(row[12]) if row[12] is not None else None,
        overdue_since=since,
        days_overdue=days_overdue(since, today),
        released=int(row[14]),
        award=int(row[15]),
    )
