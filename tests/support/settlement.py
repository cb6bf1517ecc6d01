"""Grants to settle: a results report filed, inspected and confirmed through the use cases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from grants.accounts.models import User
from grants.awards.models import Settlement
from grants.core.identity import OrgKind
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.settlement import service as settlement
from grants.settlement.inspection import service as inspection
from grants.settlement.inspection.service import LineDecision
from grants.settlement.models import ResultsReport
from grants.settlement.service import LineInput
from tests.support.approvals import officer
from tests.support.factories import uploads
from tests.support.grants import GrantWorld

MAN = 10_000  # 万円


def lines(*amounts: int, category: str = "equipment") -> list[LineInput]:
    return [LineInput(category, f"Line {i}", amount) for i, amount in enumerate(amounts, 1)]


def file_report(
    world: GrantWorld,
    period: str,
    claimed: list[LineInput],
    indirect: int,
    today: date,
) -> ResultsReport:
    report = settlement.save_report(
        world.applicant,
        world.grant.id,
        period,
        claimed,
        indirect,
        "",
        [],
        today,
        upload_folder=uploads(),
    )
    return settlement.submit_report(world.applicant, report.id, today)


def accept_all(report: ResultsReport, inspector: User, today: date) -> ResultsReport:
    decisions = [LineDecision(line.claimed, "") for line in report.lines]
    return inspection.inspect_report(inspector, report.id, decisions, today)


def settle_period(
    world: GrantWorld,
    period: str,
    claimed: list[LineInput],
    indirect: int,
    today: date,
    excess_method: str | None = None,
) -> Settlement:
    """File, inspect (every line accepted) and confirm by a second officer."""
    report = file_report(world, period, claimed, indirect, today)
    accept_all(report, officer(), today)
    return inspection.confirm_final_amount(officer(), report.id, excess_method, today)


def as_university(world: GrantWorld) -> None:
    world.grantee.kind = OrgKind.university
    db.session.commit()


def pool(world: GrantWorld, year: int) -> BudgetPool:
    db.session.expire_all()
    return db.session.scalars(
        select(BudgetPool).where(
            BudgetPool.program_id == world.program.id, BudgetPool.fiscal_year == year
        )
    ).one()
