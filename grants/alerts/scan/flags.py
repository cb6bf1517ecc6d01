"""The overdue flag (milestone.overdue_since), kept in step by the scan.

Set-based UPDATEs, built once per shape like the scan's inserts and run with the pass's
parameters (alerts.scan.passes). A pass reading what reached a tier since the last
scan only flags; the due dates and states that would clear a flag change only in
changes, which the scan reads whole. The flag is the scan's own output, derived from what
it reads: its writes keep the rows' stamps (core.changes.kept_stamp), so that the next
scan does not take them for changes, and the scan moves the data generation for them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Update, and_, bindparam, exists, not_, or_, true, update
from sqlalchemy.sql.expression import ColumnElement

from grants.alerts import rules
from grants.alerts.scan.passes import EARLIEST, Pass, Reads
from grants.alerts.scan.statements import G, changed_milestones, pass_grants
from grants.awards.models import Milestone
from grants.core.changes import kept_stamp
from grants.core.db import add_days
from grants.extensions import db

M = Milestone.__table__


def clear_closed(milestone_ids: tuple[int, ...] | None) -> int:
    """A milestone that no longer awaits evidence (submitted, decided) is not overdue:
    every such milestone, or those among `milestone_ids`."""
    if milestone_ids == ():
        return 0
    parameters = {"milestone_ids": list(milestone_ids or ())}
    return _run(_clear_closed(milestone_ids is not None), parameters)


def clear_moved(one: Pass) -> int:
    """Its due date moved out of the overdue range (an approved amendment)."""
    if one.reads is Reads.since:
        return 0
    return _run(_clear_moved(one.reads), one.parameters())


def set_flags(one: Pass) -> int:
    """Flag overdue milestones once, with the day they became overdue (re-dated if it moved)."""
    return _run(_set(one.schedule.grace_days, one.reads), one.parameters())


def _run(statement: Update, parameters: dict[str, Any]) -> int:
    return int(db.session.execute(statement, parameters).rowcount)  # type: ignore[attr-defined]


def _flagged() -> ColumnElement[bool]:
    """overdue_since IS NOT NULL, written as a range so that SQLite uses the index too."""
    return M.c.overdue_since >= EARLIEST


def _of_the_pass(reads: Reads) -> ColumnElement[bool]:
    """The milestone's grant is in the pass. EXISTS rather than IN: the planners then
    drive the update from the milestone indexes (or the changed ones' keys), not from
    every active grant."""
    in_pass = exists().where(G.c.id == M.c.grant_id, pass_grants()).correlate_except(G)
    return and_(changed_milestones(), in_pass) if reads is Reads.changed else in_pass


@cache
def _clear_closed(changed: bool) -> Update:
    closed = and_(_flagged(), M.c.state.not_in(rules.AWAITING_EVIDENCE))
    return (
        update(M)
        .where(closed, changed_milestones() if changed else true())
        .values(overdue_since=None, **kept_stamp(M))
    )


@cache
def _clear_moved(reads: Reads) -> Update:
    last_due = bindparam("overdue_last")
    still = and_(M.c.state.in_(rules.AWAITING_EVIDENCE), M.c.due_date <= last_due)
    where = and_(_flagged(), _of_the_pass(reads), not_(still))
    return update(M).where(where).values(overdue_since=None, **kept_stamp(M))


@cache
def _set(grace_days: int, reads: Reads) -> Update:
    since = add_days(M.c.due_date, grace_days + 1)
    where = and_(
        M.c.state.in_(rules.AWAITING_EVIDENCE),
        M.c.due_date.between(bindparam("overdue_first"), bindparam("overdue_last")),
        or_(M.c.overdue_since.is_(None), M.c.overdue_since != since),
        _of_the_pass(reads),
    )
    return update(M).where(where).values(overdue_since=since, **kept_stamp(M))
