"""The settlement ledger for accounting: one row per cost line (and the indirect cost) of
every confirmed final amount, with the period's rate, final amount, what was paid for it
and what came back (returned or set off). Raw values (integer yen, ISO dates, codes next
to labels); the header in the language asked for; cells neutralised (core.csvfile)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select

from grants.accounts.models import User
from grants.awards.models import Disbursement, Grant, Milestone, Settlement
from grants.core.csvfile import encode_csv
from grants.core.db import ID_MAX
from grants.core.errors import RuleViolation
from grants.core.i18n import translate
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
from grants.core.text import Cell
from grants.extensions import db
from grants.programs.models import Program
from grants.programs.service import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN
from grants.rules.settlement import ExcessMethod, period_key, ratio_text, settlement_rules
from grants.settlement.models import ResultsReport

Row = tuple[Cell, ...]
COLUMNS = (
    N_("Grant number"),
    N_("Programme code"),
    N_("Period"),
    N_("Fiscal year"),
    N_("Category"),
    N_("Category label"),
    N_("Claimed (yen)"),
    N_("Accepted (yen)"),
    N_("Subsidy rate"),
    N_("Final amount (yen)"),
    N_("Paid (yen)"),
    N_("Returned or set off (yen)"),
    N_("Returned or set off"),
)


@dataclass(frozen=True)
class Ledger:
    filename: str
    header: tuple[str, ...]
    rows: list[Row]

    def chunks(self) -> Iterator[bytes]:
        return encode_csv(self.header, self.rows)


def ledger(actor: User, program_id: int | None, fiscal_year: int | None, locale: str) -> Ledger:
    """The ledger of a programme (or all), of a fiscal year (or all), for the officers."""
    require(Action.view_portfolio, Subject(role=actor.role))
    program = _check(program_id, fiscal_year)
    query = (
        select(Settlement, Grant, Program.code)
        .join(Grant, Grant.id == Settlement.grant_id)
        .join(Program, Program.id == Grant.program_id)
        .order_by(Program.code, Grant.number, Settlement.fiscal_year, Settlement.period)
    )
    if program_id is not None:
        query = query.where(Grant.program_id == program_id)
    if fiscal_year is not None:
        query = query.where(Settlement.fiscal_year == fiscal_year)
    rows: list[Row] = []
    for settlement, grant, code in db.session.execute(query):
        rows += _rows(settlement, grant, code, locale)
    name = "-".join(
        ["settlement-ledger"]
        + ([program.code] if program else [])
        + ([str(fiscal_year)] if fiscal_year is not None else [])
    )
    header = tuple(str(translate(column, locale)) for column in COLUMNS)
    return Ledger(f"{name}.csv", header, rows)


def _rows(settlement: Settlement, grant: Grant, code: str, locale: str) -> list[Row]:
    rules = settlement_rules(grant.ruleset.document)
    report = db.session.scalar(
        select(ResultsReport).where(
            ResultsReport.grant_id == grant.id, ResultsReport.period == settlement.period
        )
    )
    labels = {c.code: c.label(locale) for c in rules.categories}
    indirect = next((f["amount"] for f in settlement.trace["figures"] if f["key"] == "indirect"), 0)
    lines = (
        []
        if report is None
        else [
            (line.category, labels.get(line.category, line.category), line.claimed, line.accepted)
            for line in report.lines
        ]
    )
    claimed_indirect = report.indirect_cost if report is not None else 0
    lines.append(
        ("indirect", str(translate(N_("Indirect cost"), locale)), claimed_indirect, indirect)
    )
    back = settlement.excess if _came_back(settlement) else 0
    method = settlement.excess_method or ""
    common = (
        settlement.final_amount,
        _paid(grant, settlement),
        back,
        method,
    )
    return [
        (
            grant.number,
            code,
            settlement.period,
            settlement.fiscal_year,
            category,
            label,
            claimed,
            accepted,
            ratio_text(rules.rate),
            *common,
        )
        for category, label, claimed, accepted in lines
    ]


def _came_back(settlement: Settlement) -> bool:
    if settlement.excess_method == ExcessMethod.returned:
        return settlement.returned_on is not None
    return settlement.set_off_disbursement_id is not None


def _paid(grant: Grant, settlement: Settlement) -> int:
    """What the period's tranches paid the grantee (set-offs of earlier periods included)."""
    kind = settlement_rules(grant.ruleset.document).period
    ids = [
        m.id
        for m in db.session.scalars(select(Milestone).where(Milestone.grant_id == grant.id))
        if period_key(kind, m.sequence, m.fiscal_year) == settlement.period
    ]
    total = db.session.scalar(
        select(func.coalesce(func.sum(Disbursement.amount + Disbursement.set_off), 0)).where(
            Disbursement.milestone_id.in_(ids)
        )
    )
    return int(total or 0)


def _check(program_id: int | None, fiscal_year: int | None) -> Program | None:
    errors: dict[str, list[str]] = {}
    if fiscal_year is not None and not FISCAL_YEAR_MIN <= fiscal_year <= FISCAL_YEAR_MAX:
        errors["fiscal_year"] = [
            N_(
                "Enter a fiscal year between %(low)d and %(high)d.",
                low=FISCAL_YEAR_MIN,
                high=FISCAL_YEAR_MAX,
            )
        ]
    program = None
    if program_id is not None:
        program = db.session.get(Program, program_id) if 0 < program_id <= ID_MAX else None
        if program is None:
            errors["program_id"] = [N_("Choose an existing programme.")]
    if errors:
        raise RuleViolation(N_("Check the export filters."), errors)
    return program
