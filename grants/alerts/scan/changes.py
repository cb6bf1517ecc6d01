"""What the milestone scan must read again: the last scan, and what changed since.

Every row the scan's statements read carries the data generation it last changed in
(core.changes: the tables' own defaults stamp it, whoever writes). A scan notes the
generation it began at; a later scan then needs, besides what reached a tier after the
earlier scan's day (alerts.rules.reached_after), only the milestones that rows stamped
since touch: the milestones themselves, or every milestone of the grant a changed row
concerns, read whole. A row that is deleted (a reviewer unassigned) can only make fewer
alerts due, and the scan only adds alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, select, union

from grants.accounts.models import ConflictDeclaration, User
from grants.applications.models import CoInvestment
from grants.awards.models import (
    Disbursement,
    EvidenceSubmission,
    Grant,
    Milestone,
    Review,
    ReviewerAssignment,
)
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.rulesets.models import RuleSet

SCAN_ACTION = "alerts.scan"

M = Milestone.__table__
G = Grant.__table__
RA = ReviewerAssignment.__table__
S = EvidenceSubmission.__table__
R = Review.__table__
D = Disbursement.__table__
CD = ConflictDeclaration.__table__
CI = CoInvestment.__table__
U = User.__table__
RS = RuleSet.__table__
_GENERATION = bindparam("generation", type_=BigInteger())


@dataclass(frozen=True)
class LastScan:
    """The latest scan: of which day, with which settings, from which data generation."""

    day: date
    settings: Any
    generation: int | None


def last_scan() -> LastScan | None:
    """The latest scan's audit event (the scan's own index finds it)."""
    after = db.session.scalar(
        select(AuditEvent.after)
        .where(AuditEvent.action == SCAN_ACTION)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if not isinstance(after, dict):
        return None
    generation = after.get("generation")
    return LastScan(
        date.fromisoformat(after["today"]),
        after.get("settings"),
        generation if isinstance(generation, int) else None,
    )


def changed_milestones(generation: int) -> frozenset[int]:
    """The milestones that rows changed after `generation` touch."""
    return frozenset(db.session.scalars(_changed(), {"generation": generation}))


def _of_grants(grant_ids: Any) -> Select[Any]:
    return select(M.c.id).where(M.c.grant_id.in_(grant_ids))


def _by_reviewers(reviewer_ids: Any) -> Select[Any]:
    """The milestones of the grants these reviewers are assigned to: their conflicts,
    role and organisation decide whether they are chased there."""
    return _of_grants(select(RA.c.grant_id).where(RA.c.reviewer_id.in_(reviewer_ids)))


def _since(table: Any) -> Any:
    return table.c.changed_in > _GENERATION


@cache
def _changed() -> Any:
    """Built once: one statement, each branch read from its table's changed_in index."""
    return union(
        select(M.c.id).where(_since(M)),
        _of_grants(select(G.c.id).where(_since(G))),
        select(S.c.milestone_id).where(_since(S)),
        select(R.c.milestone_id).where(_since(R)),
        select(D.c.milestone_id).where(_since(D)),
        _of_grants(select(RA.c.grant_id).where(_since(RA))),
        _of_grants(
            select(G.c.id).where(
                G.c.application_id.in_(select(CI.c.application_id).where(_since(CI)))
            )
        ),
        _of_grants(select(G.c.id).where(G.c.ruleset_id.in_(select(RS.c.id).where(_since(RS))))),
        _by_reviewers(select(CD.c.reviewer_id).where(_since(CD))),
        _by_reviewers(select(U.c.id).where(_since(U))),
    )
