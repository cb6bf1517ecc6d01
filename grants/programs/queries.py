"""Reading programmes: the filter choices, a programme's pools by fiscal year."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from grants.core import audit_marks
from grants.core.actors import Actor
from grants.core.errors import NotFound
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
from grants.extensions import db
from grants.programs.models import BudgetPool, Program


def all_programmes() -> list[Program]:
    """Every programme by code: the choices of the officers' programme filters."""
    return list(db.session.scalars(select(Program).order_by(Program.code)))


def fiscal_years() -> list[int]:
    """The fiscal years of every budget pool, newest first: the lists' fiscal-year filter
    (kept while the data stands still)."""
    return audit_marks.kept("fiscal_years", None, _fiscal_years)


def _fiscal_years() -> list[int]:
    query = select(BudgetPool.fiscal_year).distinct().order_by(BudgetPool.fiscal_year.desc())
    return list(db.session.scalars(query))


def pools_for(actor: Actor, program_id: int) -> list[BudgetPool]:
    """The programme's pools by fiscal year, for those who read the portfolio."""
    require(Action.view_portfolio, Subject(role=actor.role))
    if db.session.get(Program, program_id) is None:
        raise NotFound(N_("Not found."))
    return pools_by_year(program_id)


def pools_by_year(program_id: int) -> list[BudgetPool]:
    query = select(BudgetPool).where(BudgetPool.program_id == program_id)
    return list(db.session.scalars(query.order_by(BudgetPool.fiscal_year)))


@dataclass(frozen=True)
class BudgetRow:
    program_id: int
    program_code: str
    program_name_ja: str
    program_name_en: str
    fiscal_year: int
    appropriation: int
    committed: int
    released: int  # paid out of the pool
    returned: int  # advances above their final amounts, returned or set off

    @property
    def net_released(self) -> int:
        return self.released - self.returned

    @property
    def available(self) -> int:
        return self.appropriation - self.committed - self.net_released

    def program(self, locale: str) -> str:
        return self.program_name_en if locale == "en" else self.program_name_ja


def budget_by_year(program_id: int | None = None) -> list[BudgetRow]:
    """Every budget pool per programme and fiscal year (kept while the audit log stands still)."""
    return audit_marks.kept("budget", program_id, lambda: _budget_by_year(program_id))


def _budget_by_year(program_id: int | None) -> list[BudgetRow]:
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
            BudgetPool.returned,
        )
        .join(BudgetPool, BudgetPool.program_id == Program.id)
        .order_by(Program.code, BudgetPool.fiscal_year)
    )
    if program_id is not None:
        query = query.where(Program.id == program_id)
    return [BudgetRow(*row) for row in db.session.execute(query)]
