"""The officer's portfolio: read-only, set-based queries (a fixed number, whatever the size).

The next open milestone of every grant comes from one window function; released
totals from one GROUP BY; a page of the portfolio is one COUNT and one SELECT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from math import ceil
from typing import Any

from sqlalchemy import Select, and_, case, func, select

from grants.domain.states import GrantState, MilestoneState
from grants.extensions import db
from grants.models import BudgetPool, Disbursement, Grant, Milestone, Organization, Program

PER_PAGE = 50
ACTIVE = (GrantState.active, GrantState.suspended)
# The milestones that still wait for the grantee or the reviewers.
OPEN = (MilestoneState.planned, MilestoneState.submitted, MilestoneState.changes_requested)
# Overdue only while the grantee still owes the evidence.
AWAITING_GRANTEE = (MilestoneState.planned, MilestoneState.changes_requested)


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
    overdue: bool
    days_overdue: int
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


@dataclass(frozen=True)
class Page:
    """A page of rows, shaped like Flask-SQLAlchemy's Pagination for the pager macro."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(ceil(self.total / self.per_page), 1) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


@dataclass(frozen=True)
class BudgetRow:
    program_id: int
    program_code: str
    program_name_ja: str
    program_name_en: str
    fiscal_year: int
    appropriation: int
    committed: int
    released: int

    @property
    def available(self) -> int:
        return self.appropriation - self.committed - self.released

    def program(self, locale: str) -> str:
        return self.program_name_en if locale == "en" else self.program_name_ja


def portfolio(
    today: date, program_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """Active and suspended grants, overdue first (most overdue first), then by next due date."""
    per_page = max(1, min(per_page, 500))
    page = max(page, 1)
    query = _portfolio_query(today, program_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    items = [_row(row, today) for row in rows]
    return Page(items, page, per_page, int(total))


def budget_by_year(program_id: int | None = None) -> list[BudgetRow]:
    """Every budget pool per programme and fiscal year, in one query."""
    query = (
        select(
            Program.id,
            Program.code,
            Program.name_ja,
            Program.name_en,
            BudgetPool.fiscal_year,
            BudgetPool.appropriation,
            BudgetPool.committed,
            BudgetPool.released,
        )
        .join(BudgetPool, BudgetPool.program_id == Program.id)
        .order_by(Program.code, BudgetPool.fiscal_year)
    )
    if program_id is not None:
        query = query.where(Program.id == program_id)
    return [BudgetRow(*row) for row in db.session.execute(query)]


def awaiting_release(program_id: int | None = None, limit: int = 50) -> list[Any]:
    """Approved milestones of active grants whose tranche is not released yet, oldest first."""
    query = (
        select(
            Milestone.id,
            Milestone.title,
            Milestone.tranche_amount,
            Milestone.fiscal_year,
            Milestone.decided_at,
            Grant.number,
        )
        .join(Grant, Grant.id == Milestone.grant_id)
        .outerjoin(Disbursement, Disbursement.milestone_id == Milestone.id)
        .where(
            Milestone.state == MilestoneState.approved,
            Grant.state == GrantState.active,
            Disbursement.id.is_(None),
        )
        .order_by(Milestone.due_date, Milestone.id)
        .limit(limit)
    )
    if program_id is not None:
        query = query.where(Grant.program_id == program_id)
    return list(db.session.execute(query))


def _portfolio_query(today: date, program_id: int | None) -> Select[Any]:
    ranked = (
        select(
            Milestone.grant_id.label("grant_id"),
            Milestone.id.label("milestone_id"),
            Milestone.title.label("title"),
            Milestone.due_date.label("due_date"),
            Milestone.state.label("state"),
            func.row_number()
            .over(partition_by=Milestone.grant_id, order_by=(Milestone.sequence, Milestone.id))
            .label("rank"),
        )
        .where(Milestone.state.in_(OPEN))
        .subquery("ranked")
    )
    released = (
        select(
            Disbursement.grant_id.label("grant_id"),
            func.sum(Disbursement.amount).label("released"),
        )
        .group_by(Disbursement.grant_id)
        .subquery("released")
    )
    overdue = case(
        (and_(ranked.c.due_date < today, ranked.c.state.in_(AWAITING_GRANTEE)), 1), else_=0
    )
    query = (
        select(
            Grant.id,
            Grant.number,
            Grant.state,
            Organization.name,
            Organization.name_en,
            Program.id,
            Program.code,
            Program.name_ja,
            Program.name_en,
            ranked.c.milestone_id,
            ranked.c.title,
            ranked.c.due_date,
            ranked.c.state,
            overdue.label("overdue"),
            func.coalesce(released.c.released, 0),
            Grant.award_amount,
        )
        .join(Organization, Organization.id == Grant.organization_id)
        .join(Program, Program.id == Grant.program_id)
        .outerjoin(ranked, and_(ranked.c.grant_id == Grant.id, ranked.c.rank == 1))
        .outerjoin(released, released.c.grant_id == Grant.id)
        .where(Grant.state.in_(ACTIVE))
        .order_by(
            overdue.desc(),
            ranked.c.due_date.is_(None),
            ranked.c.due_date,
            Grant.number,
            Grant.id,
        )
    )
    if program_id is not None:
        query = query.where(Grant.program_id == program_id)
    return query


def _row(row: Any, today: date) -> PortfolioRow:
    due = row[11]
    overdue = bool(row[13])
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
        milestone_due=due,
        milestone_state=MilestoneState(row[12]) if row[12] is not None else None,
        overdue=overdue,
        days_overdue=(today - due).days if overdue and due is not None else 0,
        released=int(row[14]),
        award=int(row[15]),
    )
