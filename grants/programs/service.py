"""Use cases for funding programmes and their fiscal-year budget pools."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grants.core import audit
from grants.core.actors import Actor, SystemActor
from grants.core.calendar import Day, FiscalYear, fiscal_years
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.money import YEN_MAX
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.extensions import db
from grants.programs.models import RELEASE_APPROVAL_THRESHOLD, BudgetPool, Program
from grants.rules import MODALITIES, THEMES

# At most 30, so that grant numbers (CODE-0001) fit their 40-character column.
CODE_PATTERN = re.compile(r"[A-Z0-9-]{2,30}")
NAME_MAX = 200
FISCAL_YEAR_MIN = 2000
FISCAL_YEAR_MAX = 2100


@dataclass(frozen=True)
class ProgramData:
    code: str
    name_ja: str
    name_en: str
    application_opens: date
    application_closes: date
    end_date: date
    themes: tuple[str, ...] | list[str]
    modalities: tuple[str, ...] | list[str]
    reviewers_anonymous: bool = True
    # Separation of duties in releases (README, "Separation of duties").
    separate_award_and_release: bool = True
    release_approval_threshold: int = RELEASE_APPROVAL_THRESHOLD


@use_case
def create_program(actor: Actor, data: ProgramData) -> Program:
    _require(actor)
    data = _normalized(data)
    _check_program(data, None)
    program = Program(**_values(data))
    db.session.add(program)
    audit.record(actor, "program.create", program, after=program_snapshot(program))
    _commit(N_("Another programme was saved with this code at the same time."))
    return program


@use_case
def update_program(actor: Actor, program_id: int, data: ProgramData) -> Program:
    _require(actor)
    program = _get_program(program_id)
    data = _normalized(data)
    _check_program(data, program_id)
    before = program_snapshot(program)
    for key, value in _values(data).items():
        setattr(program, key, value)
    audit.record(actor, "program.update", program, before, program_snapshot(program))
    _commit(N_("Another programme was saved with this code at the same time."))
    return program


@use_case
def set_appropriation(
    actor: Actor, program_id: int, fiscal_year: int, appropriation: int
) -> BudgetPool:
    """Create or change the appropriation of a programme's budget pool for one fiscal year."""
    _require(actor)
    program = _get_program(program_id)
    _check_pool_input(program, fiscal_year, appropriation)
    pool = db.session.scalar(
        select(BudgetPool)
        .where(BudgetPool.program_id == program_id, BudgetPool.fiscal_year == fiscal_year)
        .with_for_update()
    )
    if pool is None:
        pool = BudgetPool(program_id=program_id, fiscal_year=fiscal_year, committed=0, released=0)
        db.session.add(pool)
        before = None
    else:
        _check_not_below_use(pool, appropriation)
        before = pool_snapshot(pool)
    pool.appropriation = appropriation
    audit.record(actor, "budget_pool.set_appropriation", pool, before, pool_snapshot(pool))
    _commit(N_("The budget pool was changed at the same time. Reload and try again."))
    return pool


def _require(actor: Actor) -> None:
    # The system (demo data, command line) sets programmes up although its role is admin.
    if not isinstance(actor, SystemActor):
        require(Action.manage_programs, Subject(role=actor.role))


def _get_program(program_id: int) -> Program:
    program = db.session.get(Program, program_id)
    if program is None:
        raise NotFound(N_("Not found."))
    return program


def _normalized(data: ProgramData) -> ProgramData:
    return replace(
        data,
        code=data.code.strip().upper(),
        name_ja=data.name_ja.strip(),
        name_en=data.name_en.strip(),
        themes=tuple(dict.fromkeys(data.themes)),
        modalities=tuple(dict.fromkeys(data.modalities)),
    )


def _values(data: ProgramData) -> dict[str, Any]:
    return {
        "code": data.code,
        "name_ja": data.name_ja,
        "name_en": data.name_en,
        "application_opens": data.application_opens,
        "application_closes": data.application_closes,
        "end_date": data.end_date,
        "themes": list(data.themes),
        "modalities": list(data.modalities),
        "reviewers_anonymous": data.reviewers_anonymous,
        "separate_award_and_release": data.separate_award_and_release,
        "release_approval_threshold": data.release_approval_threshold,
    }


def _check_program(data: ProgramData, program_id: int | None) -> None:
    errors: dict[str, list[Problem]] = {}
    if message := _code_error(data.code, program_id):
        errors["code"] = [message]
    for field in ("name_ja", "name_en"):
        if message := _name_error(getattr(data, field)):
            errors[field] = [message]
    if data.application_closes < data.application_opens:
        errors["application_closes"] = [N_("Applications must close on or after they open.")]
    if data.end_date < data.application_closes:
        errors["end_date"] = [N_("The programme must end on or after applications close.")]
    if message := _subset_error(data.themes, THEMES, N_("Choose at least one theme.")):
        errors["themes"] = [message]
    if message := _subset_error(data.modalities, MODALITIES, N_("Choose at least one modality.")):
        errors["modalities"] = [message]
    if message := _yen_error(data.release_approval_threshold):
        errors["release_approval_threshold"] = [message]
    if errors:
        raise RuleViolation(N_("The programme could not be saved."), errors)


def _code_error(code: str, program_id: int | None) -> Problem | None:
    if not code:
        return N_("A code is required.")
    if not CODE_PATTERN.fullmatch(code):
        return N_("A code has 2 to 30 characters: letters A-Z, digits and hyphens.")
    query = select(func.count()).where(func.upper(Program.code) == code)
    if program_id is not None:
        query = query.where(Program.id != program_id)
    if db.session.scalar(query):
        return N_("Another programme has this code.")
    return None


def _name_error(name: str) -> Problem | None:
    if not name:
        return N_("A name is required.")
    if len(name) > NAME_MAX:
        return N_("At most %(n)d characters.", n=NAME_MAX)
    return None


def _subset_error(
    chosen: tuple[str, ...] | list[str], allowed: tuple[str, ...], empty: Problem
) -> Problem | None:
    if not chosen:
        return empty
    if not set(chosen) <= set(allowed):
        return N_("Choose only from the listed values.")
    return None


def _yen_error(amount: int) -> Problem | None:
    if not _is_int(amount) or amount < 0:
        return N_("Enter a whole number of yen, zero or more.")
    if amount > YEN_MAX:
        return N_("This amount is too large.")
    return None


def _check_pool_input(program: Program, fiscal_year: int, appropriation: int) -> None:
    errors: dict[str, list[Problem]] = {}
    if not _is_int(fiscal_year) or not FISCAL_YEAR_MIN <= fiscal_year <= FISCAL_YEAR_MAX:
        errors["fiscal_year"] = [
            N_(
                "Enter a fiscal year from %(low)d to %(high)d.",
                low=FISCAL_YEAR_MIN,
                high=FISCAL_YEAR_MAX,
            )
        ]
    elif message := _outside_period(program, fiscal_year):
        errors["fiscal_year"] = [message]
    if message := _yen_error(appropriation):
        errors["appropriation"] = [message]
    if errors:
        raise RuleViolation(N_("The appropriation could not be set."), errors)


def _outside_period(program: Program, year: int) -> Problem | None:
    """A pool funds the programme's own fiscal years: from the one its applications open in
    to the one it ends in (no milestone can fall due later)."""
    period = fiscal_years(program.application_opens, program.end_date)
    if year in period:
        return None
    return N_(
        "%(year)s is outside the programme's period: %(first)s to %(last)s "
        "(applications open on %(opens)s, the programme ends on %(end)s).",
        year=FiscalYear(year),
        first=FiscalYear(period.start),
        last=FiscalYear(period.stop - 1),
        opens=Day(program.application_opens),
        end=Day(program.end_date),
    )


def _check_not_below_use(pool: BudgetPool, appropriation: int) -> None:
    in_use = pool.committed + pool.net_released
    if appropriation < in_use:
        message = N_(
            "The appropriation cannot be lower than the amount already committed and released "
            "(%(amount)s yen).",
            amount=f"{in_use:,}",
        )
        raise RuleViolation(N_("The appropriation could not be set."), {"appropriation": [message]})


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _commit(race_message: Problem) -> None:
    """Commit; a unique key taken by a concurrent transaction is a conflict, not a crash."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(race_message) from None


def program_snapshot(program: Program) -> dict[str, Any]:
    return {
        "code": program.code,
        "name_ja": program.name_ja,
        "name_en": program.name_en,
        "application_opens": program.application_opens.isoformat(),
        "application_closes": program.application_closes.isoformat(),
        "end_date": program.end_date.isoformat(),
        "themes": ",".join(program.themes),
        "modalities": ",".join(program.modalities),
        "reviewers_anonymous": program.reviewers_anonymous,
        "separate_award_and_release": program.separate_award_and_release,
        "release_approval_threshold": program.release_approval_threshold,
    }


def pool_snapshot(pool: BudgetPool) -> dict[str, Any]:
    return {
        "program_id": pool.program_id,
        "fiscal_year": pool.fiscal_year,
        "appropriation": pool.appropriation,
        "committed": pool.committed,
        "released": pool.released,
    }


def lock_pools(program_id: int, years: Any) -> dict[int, BudgetPool]:
    """The programme's pools for `years`, row-locked and re-read in fiscal-year order."""
    wanted = sorted(set(years))
    if not wanted:
        return {}
    query = (
        select(BudgetPool)
        .where(BudgetPool.program_id == program_id, BudgetPool.fiscal_year.in_(wanted))
        .order_by(BudgetPool.fiscal_year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {pool.fiscal_year: pool for pool in db.session.scalars(query)}


def pool_numbers(pool: BudgetPool) -> dict[str, int]:
    return {
        "fiscal_year": pool.fiscal_year,
        "appropriation": pool.appropriation,
        "committed": pool.committed,
        "released": pool.released,
    }
