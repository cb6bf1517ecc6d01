"""Portfolio health per programme: milestones due, delivered on time, overdue now.

The figures aggregate every milestone already due, which grows with the programme's
history, so they are kept per process while the data stands still (core.audit_marks), and
per day (what is due depends on the day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import Date, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from grants.awards.models import EvidenceSubmission, Grant, Milestone
from grants.core import audit_marks
from grants.core.states import RUNNING, MilestoneState
from grants.extensions import db
from grants.programs.models import Program


@dataclass(frozen=True)
class HealthRow:
    """How one programme keeps its dates: milestones due before today, how many of them were
    delivered (first evidence submitted, else decided) on or before their due date, and how
    many are overdue now (flagged by the scan) in grants still running."""

    program_id: int
    program_code: str
    program_name_ja: str
    program_name_en: str
    due: int
    on_time: int
    overdue: int

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.on_time, self.due) if self.due else None

    def program(self, locale: str) -> str:
        return self.program_name_en if locale == "en" else self.program_name_ja


def health_by_programme(today: date, program_id: int | None = None) -> list[HealthRow]:
    """Due, on-time and overdue milestone counts of every programme with grants."""
    return audit_marks.kept("health", (today, program_id), lambda: _computed(today, program_id))


def _computed(today: date, program_id: int | None) -> list[HealthRow]:
    """Every programme with grants: due, on-time and overdue milestone counts, in one query.

    Cancelled milestones (of terminated grants) are not counted; a delivery counts on time
    when its Tokyo date is not after the due date.
    """
    # Only milestones already due count, so the first submission is looked up for those alone.
    first_at = (
        select(func.min(EvidenceSubmission.submitted_at))
        .where(EvidenceSubmission.milestone_id == Milestone.id)
        .scalar_subquery()
    )
    delivered = tokyo_date(func.coalesce(first_at, Milestone.decided_at))
    was_due = Milestone.state != MilestoneState.cancelled
    # Overdue as every page shows it: flagged by the scan (after the grace period).
    overdue = and_(Grant.state.in_(RUNNING), Milestone.overdue_since >= date.min)
    query = (
        select(
            Program.id,
            Program.code,
            Program.name_ja,
            Program.name_en,
            _count(was_due),
            _count(and_(was_due, delivered <= Milestone.due_date)),
            _count(overdue),
        )
        .join(Grant, Grant.program_id == Program.id)
        .outerjoin(Milestone, and_(Milestone.grant_id == Grant.id, Milestone.due_date < today))
        .group_by(Program.id, Program.code, Program.name_ja, Program.name_en)
        .order_by(Program.code)
    )
    if program_id is not None:
        query = query.where(Program.id == program_id)
    return [
        HealthRow(row[0], row[1], row[2], row[3], int(row[4]), int(row[5]), int(row[6]))
        for row in db.session.execute(query)
    ]


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class tokyo_date(FunctionElement[Any]):  # noqa: N801  (reads like the SQL function it is)
    """The Asia/Tokyo calendar date of a UTC timestamp (Tokyo keeps no daylight saving)."""

    type = Date()
    inherit_cache = True


@compiles(tokyo_date, "postgresql")
def _tokyo_date_postgresql(element: tokyo_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('Asia/Tokyo', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(tokyo_date)
def _tokyo_date_sqlite(element: tokyo_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+9 hours')"
