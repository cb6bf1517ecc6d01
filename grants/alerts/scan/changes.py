"""What the milestone scan must read again: the last scan, and what changed since, from
the audit log.

Every input of the scan (grants, milestones, evidence, reviews, reviewer assignments and
conflicts, amendments, releases, users' roles and organisations) is changed only by
services, and every service change appends an audit event naming its object. So once a
scan of day P has made every alert due that day, a scan of a later day needs, besides
what reached a tier after P (grants.domain.alerts.reached_after), only what the events
after P's scan name: the milestones they name, or every milestone of the grants
they name, read whole. An event whose object the scan cannot place makes the next scan
read everything, as does a scan with other settings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Select, case, func, or_, select

from grants.awards.models import (
    Amendment,
    ConflictDeclaration,
    Disbursement,
    EvidenceFile,
    EvidenceSubmission,
    Grant,
    Milestone,
    Review,
    ReviewerAssignment,
)
from grants.core.models import AuditEvent
from grants.extensions import db

SCAN_ACTION = "alerts.scan"
# Audited actions that change nothing the scan reads, whatever their object.
_READS_NOTHING = (SCAN_ACTION, "user.login", "user.sign_out", "user.set_locale")
# Objects whose changes cannot change which alerts are due (paid-in investments, budgets,
# programme details, rule sets: the scan reads only the published versions that grants
# pin, which never change; names of organisations; tokens and tasks).
_UNRELATED = frozenset(
    {
        "alert_scan",
        "api_token",
        "background_task",
        "budget_pool",
        "calendar_token",
        "idempotency_key",
        "investment",
        "organization",
        "program",
        "rule_set",
        "vc_certification",
    }
)

M = Milestone.__table__
RA = ReviewerAssignment.__table__
S = EvidenceSubmission.__table__
F = EvidenceFile.__table__


def _of_grants(grant_ids: Any) -> Select[Any]:
    return select(M.c.id).where(M.c.grant_id.in_(grant_ids))


def _by_milestone(table: Any, ids: Any) -> Select[Any]:
    """The milestones that rows of `table` (with a milestone_id) belong to."""
    return select(table.c.milestone_id).where(table.c.id.in_(ids))


def _by_reviewer(reviewer_ids: Any) -> Select[Any]:
    """The milestones of the grants a reviewer is assigned to: their conflicts and
    organisation decide whether they are chased there."""
    return _of_grants(select(RA.c.grant_id).where(RA.c.reviewer_id.in_(reviewer_ids)))


# For each object type that can change the alerts due, the milestones an event on it
# touches: its own, or every milestone of the grant it concerns.
_MILESTONES_OF: dict[str, Callable[[list[int]], Select[Any]]] = {
    "milestone": lambda ids: select(M.c.id).where(M.c.id.in_(ids)),
    "grant_award": _of_grants,
    "application": lambda ids: _of_grants(select(Grant.id).where(Grant.application_id.in_(ids))),
    "amendment": lambda ids: _of_grants(select(Amendment.grant_id).where(Amendment.id.in_(ids))),
    "reviewer_assignment": lambda ids: _of_grants(select(RA.c.grant_id).where(RA.c.id.in_(ids))),
    "disbursement": lambda ids: _by_milestone(Disbursement.__table__, ids),
    "evidence_submission": lambda ids: _by_milestone(S, ids),
    "review": lambda ids: _by_milestone(Review.__table__, ids),
    "evidence_file": lambda ids: _by_milestone(S, select(F.c.submission_id).where(F.c.id.in_(ids))),
    "conflict_declaration": lambda ids: _by_reviewer(
        select(ConflictDeclaration.reviewer_id).where(ConflictDeclaration.id.in_(ids))
    ),
    "user_account": _by_reviewer,
}


@dataclass(frozen=True)
class LastScan:
    """The latest scan (of which day, with which settings) and what was audited since: the
    (object type, object id) of every later event that can change data."""

    event_id: int
    day: date
    settings: Any
    objects_since: list[tuple[str, str]]


def last_scan() -> LastScan | None:
    """The latest scan's audit event and the events after it, in one statement (the scan's
    own index finds it; the others follow it in the primary key)."""
    rows = db.session.execute(_since_last_scan()).all()
    if not rows:
        return None
    scan, *later = rows
    settings = scan[3].get("settings") if isinstance(scan[3], dict) else None
    objects = [(object_type, object_id) for _id, object_type, object_id, _after in later]
    return LastScan(scan[0], date.fromisoformat(scan[2]), settings, objects)


@cache
def _since_last_scan() -> Select[Any]:
    """Built once: every scan and rerun reads it, and keying a new one costs more than it."""
    last = select(func.max(AuditEvent.id)).where(AuditEvent.action == SCAN_ACTION).scalar_subquery()
    return (
        select(
            AuditEvent.id,
            AuditEvent.object_type,
            AuditEvent.object_id,
            case((AuditEvent.id == last, AuditEvent.after)),
        )
        .where(
            AuditEvent.id >= last,
            or_(AuditEvent.id == last, AuditEvent.action.not_in(_READS_NOTHING)),
        )
        .order_by(AuditEvent.id)
    )


def changed_milestones(objects: list[tuple[str, str]]) -> frozenset[int] | None:
    """The milestones that events on these objects touch; None when one names an object
    that the scan cannot place on milestones."""
    ids: dict[str, set[int]] = defaultdict(set)
    for object_type, object_id in objects:
        if object_type in _UNRELATED:
            continue
        if object_type not in _MILESTONES_OF or not object_id.isdigit():
            return None
        ids[object_type].add(int(object_id))
    found: set[int] = set()
    for object_type, object_ids in ids.items():
        found.update(db.session.scalars(_MILESTONES_OF[object_type](sorted(object_ids))))
    return frozenset(found)
