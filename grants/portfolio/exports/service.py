"""CSV exports for accounting: disbursements, milestone status and the grants' money,
streamed row by row.

Each export is one SELECT over joined tables (plus one lookup when a programme is
named), read in batches (`yield_per`: a server-side cursor on PostgreSQL), so memory
and the number of statements stay flat whatever the size. The header row is in the
language it is asked in; the values are raw (integer yen, ISO 8601 dates and Tokyo times,
machine state values next to a translated label) so that spreadsheets can compute.

The file is UTF-8 with a byte order mark (spreadsheet programs then read Japanese
text correctly) and CRLF line endings. Text cells that a spreadsheet would read as a
formula get a leading apostrophe (CSV formula injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select

from grants.accounts.models import Organization, User
from grants.awards.models import Disbursement, Grant, Milestone
from grants.awards.rules import GrantMoney
from grants.core.actors import Actor
from grants.core.calendar import TOKYO
from grants.core.db import ID_MAX
from grants.core.errors import RuleViolation
from grants.core.i18n import translate
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
from grants.core.progress import Progress
from grants.core.states import GrantState, MilestoneState, label
from grants.core.text import Cell, neutralise
from grants.extensions import db
from grants.programs.models import Program
from grants.programs.service import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN

BOM = "\ufeff"
BATCH = 500
Row = tuple[Cell, ...]


@dataclass(frozen=True)
class Filters:
    program_id: int | None = None
    fiscal_year: int | None = None


@dataclass(frozen=True)
class Export:
    """A header and a lazy row generator: nothing is read until the rows are consumed;
    closing it early closes the database cursor."""

    filename: str
    header: tuple[str, ...]
    rows: Generator[Row, None, None]

    def chunks(self) -> Iterator[bytes]:
        return encode_csv(self.header, self.rows)


def disbursements(
    actor: Actor, filters: Filters, locale: str, progress: Progress | None = None
) -> Export:
    """Every released tranche: who released how much from which fiscal year, and when.

    The header row in `locale`; `progress` hears (rows read, rows in total) after each
    batch while the rows are read."""
    program = check(actor, filters)
    query = _filtered(_disbursement_query(), filters, Disbursement.fiscal_year)
    header = _header(
        N_("Grant number"),
        N_("Programme code"),
        N_("Organization"),
        N_("Milestone no."),
        N_("Milestone title"),
        N_("Fiscal year"),
        N_("Amount (yen)"),
        N_("Released at"),
        N_("Released by"),
        N_("Released by (e-mail)"),
        locale=locale,
    )
    rows = _stream(query, _disbursement_row, progress)
    return Export(_filename("disbursements", program, filters), header, rows)


def grant_money(
    actor: Actor, filters: Filters, locale: str, progress: Progress | None = None
) -> Export:
    """Every grant with its award, what was released and what may still be (the grant page's
    and the API's figure, awards.rules), a fiscal year naming the grants with a milestone in it.

    `locale` and `progress` as for disbursements()."""
    program = check(actor, filters)
    query = _grant_query()
    if filters.program_id is not None:
        query = query.where(Grant.program_id == filters.program_id)
    if filters.fiscal_year is not None:
        in_year = select(Milestone.grant_id).where(Milestone.fiscal_year == filters.fiscal_year)
        query = query.where(Grant.id.in_(in_year))
    header = _header(
        N_("Grant number"),
        N_("Programme code"),
        N_("Organization"),
        N_("Status"),
        N_("Status label"),
        N_("Award amount (yen)"),
        N_("Released (yen)"),
        N_("Remaining (yen)"),
        locale=locale,
    )
    labels = {state: label(state, locale) for state in GrantState}
    rows = _stream(query, lambda row: _grant_row(row, labels), progress)
    return Export(_filename("grants", program, filters), header, rows)


def _filtered(query: Select[Any], filters: Filters, fiscal_year: Any) -> Select[Any]:
    if filters.program_id is not None:
        query = query.where(Grant.program_id == filters.program_id)
    if filters.fiscal_year is not None:
        query = query.where(fiscal_year == filters.fiscal_year)
    return query


def milestone_status(
    actor: Actor, filters: Filters, locale: str, progress: Progress | None = None
) -> Export:
    """Every milestone with its state, due date, tranche and whether it was paid out.

    `locale` and `progress` as for disbursements()."""
    program = check(actor, filters)
    query = _filtered(_milestone_query(), filters, Milestone.fiscal_year)
    header = _header(
        N_("Grant number"),
        N_("Programme code"),
        N_("Organization"),
        N_("Milestone no."),
        N_("Milestone title"),
        N_("Status"),
        N_("Status label"),
        N_("Due date"),
        N_("Tranche (yen)"),
        N_("Fiscal year"),
        N_("Overdue since"),
        N_("Released on"),
        N_("Decided at"),
        locale=locale,
    )
    labels = {state: label(state, locale) for state in MilestoneState}
    rows = _stream(query, lambda row: _milestone_row(row, labels), progress)
    return Export(_filename("milestones", program, filters), header, rows)


def _header(*columns: str, locale: str) -> tuple[str, ...]:
    return tuple(translate(column, locale) for column in columns)


def encode_csv(header: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """UTF-8 with BOM, CRLF, quoted where needed; flushed every BATCH rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    buffer.write(BOM)
    writer.writerow([neutralise(cell) for cell in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell) for cell in row])
        if count % BATCH == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def check(actor: Actor, filters: Filters) -> Program | None:
    """Officers and admins only; the filters must name a programme and a sensible year."""
    require(Action.view_portfolio, Subject(role=actor.role))
    errors: dict[str, list[str]] = {}
    year = filters.fiscal_year
    if year is not None and not FISCAL_YEAR_MIN <= year <= FISCAL_YEAR_MAX:
        errors["fiscal_year"] = [
            N_(
                "Enter a fiscal year between %(low)d and %(high)d.",
                low=FISCAL_YEAR_MIN,
                high=FISCAL_YEAR_MAX,
            )
        ]
    program = None
    if filters.program_id is not None:
        if 0 < filters.program_id <= ID_MAX:
            program = db.session.get(Program, filters.program_id)
        if program is None:
            errors["program_id"] = [N_("Choose an existing programme.")]
    if errors:
        raise RuleViolation(N_("Check the export filters."), errors)
    return program


def _filename(kind: str, program: Program | None, filters: Filters) -> str:
    # Programme codes are [A-Z0-9-] only, so the name stays plain ASCII.
    parts = [kind]
    if program is not None:
        parts.append(program.code)
    if filters.fiscal_year is not None:
        parts.append(str(filters.fiscal_year))
    return "-".join(parts) + ".csv"


def _stream(
    query: Select[Any], convert: Callable[[Any], Row], progress: Progress | None = None
) -> Generator[Row, None, None]:
    """Rows read in batches (on PostgreSQL through a server-side cursor) and converted;
    the cursor is closed however the generator ends. With `progress`, one COUNT first,
    then (rows read, total) after each batch."""
    total = 0
    if progress is not None:
        counted = select(func.count()).select_from(query.order_by(None).subquery())
        total = db.session.scalar(counted) or 0
        progress(0, total)
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    done = 0
    try:
        for batch in result.partitions():
            for row in batch:
                yield convert(row)
            done += len(batch)
            if progress is not None:
                progress(done, total)
    finally:
        result.close()


def _disbursement_query() -> Select[Any]:
    return (
        select(
            Grant.number,
            Program.code,
            Organization.name,
            Milestone.sequence,
            Milestone.title,
            Disbursement.fiscal_year,
            Disbursement.amount,
            Disbursement.released_at,
            User.name,
            User.email,
        )
        .select_from(Disbursement)
        .join(Milestone, Milestone.id == Disbursement.milestone_id)
        .join(Grant, Grant.id == Disbursement.grant_id)
        .join(Program, Program.id == Grant.program_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .join(User, User.id == Disbursement.released_by_id)
        .order_by(Disbursement.released_at, Disbursement.id)
    )


def _milestone_query() -> Select[Any]:
    return (
        select(
            Grant.number,
            Program.code,
            Organization.name,
            Milestone.sequence,
            Milestone.title,
            Milestone.state,
            Milestone.due_date,
            Milestone.tranche_amount,
            Milestone.fiscal_year,
            Milestone.overdue_since,
            Disbursement.released_at,
            Milestone.decided_at,
        )
        .select_from(Milestone)
        .join(Grant, Grant.id == Milestone.grant_id)
        .join(Program, Program.id == Grant.program_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .outerjoin(Disbursement, Disbursement.milestone_id == Milestone.id)
        .order_by(Program.code, Grant.number, Milestone.sequence, Milestone.id)
    )


def _grant_query() -> Select[Any]:
    released = (
        select(func.coalesce(func.sum(Disbursement.amount), 0))
        .where(Disbursement.grant_id == Grant.id)
        .scalar_subquery()
    )
    return (
        select(
            Grant.number,
            Program.code,
            Organization.name,
            Grant.state,
            Grant.award_amount,
            released,
        )
        .join(Program, Program.id == Grant.program_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .order_by(Program.code, Grant.number, Grant.id)
    )


def _grant_row(row: Any, labels: dict[GrantState, str]) -> Row:
    number, code, organization, state, award, released = row
    state = GrantState(state)
    money = GrantMoney(int(award), int(released), state)
    return (
        number,
        code,
        organization,
        state.value,
        labels[state],
        money.award,
        money.released,
        money.remaining,
    )


def _disbursement_row(row: Any) -> Row:
    number, code, organization, sequence, title, year, amount, at, name, email = row
    return (
        number,
        code,
        organization,
        sequence,
        title,
        year,
        int(amount),
        tokyo_timestamp(at),
        name,
        email,
    )


def _milestone_row(row: Any, labels: dict[MilestoneState, str]) -> Row:
    number, code, organization, sequence, title, state, due, tranche = row[:8]
    year, overdue_since, released_at, decided_at = row[8:]
    state = MilestoneState(state)
    return (
        number,
        code,
        organization,
        sequence,
        title,
        state.value,
        labels[state],
        iso_date(due),
        int(tranche),
        year,
        iso_date(overdue_since),
        iso_date(released_at.astimezone(TOKYO).date()) if released_at else None,
        tokyo_timestamp(decided_at),
    )


def tokyo_timestamp(value: datetime | None) -> str | None:
    """2026-11-25T14:03:00+09:00: ISO 8601 in Tokyo time, to the second."""
    return None if value is None else value.astimezone(TOKYO).isoformat(timespec="seconds")


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


# An export use case: who asks, with which filters (web and API downloads take one).
Build = Callable[[Actor, Filters, str], Export]
