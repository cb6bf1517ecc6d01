"""The scan's INSERT ... SELECT statements, one per audience and subject, built per shape.

Each statement inserts the alert rows that are due and do not exist yet, ON CONFLICT DO
NOTHING on the unique key. Due-date tiers of one audience share a statement: a small
derived table of tiers (kind, tier, first and last due date) is joined to the
milestones, so one pass over the milestone index serves every tier. Before the unique
key decides, a cheap NOT EXISTS skips subjects that already had the alert in that
audience: a rerun does one index probe per candidate and tier, not one per recipient,
and someone who joins later (a new officer) does not receive the backlog.

The statements of a shape (alerts.scan.passes) are built once per process, with
bound parameters for everything else: building and keying them anew costs more than
running them on a quiet day.
"""

from __future__ import annotations

from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    bindparam,
    exists,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.expression import BindParameter, ColumnElement, FromClause, Select

from grants.accounts.models import User
from grants.alerts import rules
from grants.alerts.models import Alert
from grants.alerts.rules import Audience
from grants.alerts.scan.passes import EARLIEST, LATEST, Reads, Shape
from grants.applications.models import CoInvestment
from grants.awards.models import (
    ConflictDeclaration,
    Disbursement,
    EvidenceSubmission,
    Grant,
    Milestone,
    Review,
    ReviewerAssignment,
)
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.db import insert_select_if_absent
from grants.core.identity import Role
from grants.core.models import UTCDateTime
from grants.core.states import GrantState, MilestoneState

A = Alert.__table__
M = Milestone.__table__
G = Grant.__table__
U = User.__table__
S = EvidenceSubmission.__table__
RA = ReviewerAssignment.__table__
R = Review.__table__
D = Disbursement.__table__
CI = CoInvestment.__table__
CD = ConflictDeclaration.__table__

ALERT_COLUMNS = (
    "user_id",
    "subject_type",
    "subject_id",
    "kind",
    "tier",
    "grant_id",
    "milestone_id",
    "scan_date",
    "created_at",
    "email_attempts",
)
_UNIQUE = ("subject_id", "subject_type", "kind", "tier", "user_id")
_STAFF = {Audience.officers: "officers", Audience.admins: "admins", Audience.reviewer: "reviewers"}


@cache
def inserts(shape: Shape) -> tuple[insert_select_if_absent, ...]:
    """Every INSERT of a pass of this shape, in the order their alerts should be numbered;
    each returns the new alerts' (id, kind)."""
    return tuple(
        insert_select_if_absent(A, ALERT_COLUMNS, rows, _UNIQUE, ("id", "kind"))
        for rows in _selects(shape)
    )


def _selects(shape: Shape) -> list[Select[Any]]:
    found = []
    for audience in (Audience.grantee, Audience.officers, Audience.admins):
        mine = [(p, k, t) for p, (k, t, a) in enumerate(shape.tiers) if a is audience]
        if mine and (audience is Audience.grantee or audience in shape.staffed):
            found.append(_milestone_tiers(shape, audience, mine))
    found += [_review_waiting_reviewer(shape, new) for new in _new_waits(shape)]
    if Audience.officers in shape.staffed:
        found += [_review_waiting_officers(shape, new) for new in _new_waits(shape)]
        found.append(_tranche_waiting(shape))
    return found


def _param(name: str, type_: Any = None) -> BindParameter[Any]:
    return bindparam(name, type_=type_)


def _ids(name: str) -> BindParameter[Any]:
    return bindparam(name, expanding=True)


def pass_grants() -> ColumnElement[bool]:
    """The grants G of a pass: active, on its rule sets."""
    return and_(G.c.state == GrantState.active, G.c.ruleset_id.in_(_ids("ruleset_ids")))


def changed_milestones() -> ColumnElement[bool]:
    """Milestone M is one of the pass's changed milestones."""
    return M.c.id.in_(_ids("milestone_ids"))


def grant_filter(shape: Shape) -> ColumnElement[bool]:
    """The grants of the pass, and their milestones M: the changed ones only, by key, so
    that the planners start from the list."""
    if shape.reads is Reads.changed:
        return and_(pass_grants(), changed_milestones())
    return pass_grants()


def _row(
    user_id: ColumnElement[Any],
    subject_type: SubjectType,
    subject_id: ColumnElement[Any],
    kind: ColumnElement[Any],
    tier: ColumnElement[Any],
) -> list[ColumnElement[Any]]:
    """The values of an alert row, labelled as ALERT_COLUMNS."""
    values = [
        user_id,
        literal(str(subject_type), String()),
        subject_id,
        kind,
        tier,
        G.c.id,
        M.c.id,
        _param("today", Date()),
        _param("now", UTCDateTime()),
        literal(0, Integer()),
    ]
    return [value.label(column) for value, column in zip(values, ALERT_COLUMNS, strict=True)]


def _kind(kind: AlertKind) -> ColumnElement[Any]:
    return literal(str(kind), String())  # typed: PostgreSQL sees one type at every use


def _recipients(audience: Audience, users: FromClause = U) -> ColumnElement[bool]:
    """The ON clause joining the recipients of `audience` (grant G in scope). Staff by role
    rather than by their ids, which SQLite would make the outer loop, reading the
    milestones once per recipient."""
    if audience is Audience.grantee:
        return and_(
            users.c.organization_id == G.c.organization_id,
            users.c.active == true(),
            users.c.role == Role.applicant,
        )
    return and_(users.c.role == rules.STAFF_ROLES[audience], users.c.active == true())


def _among(audience: Audience) -> ColumnElement[bool]:
    """Alerts of `audience`, told apart by recipient where kinds are shared (overdue)."""
    if audience is Audience.grantee:
        return and_(A.c.user_id.not_in(_ids("officers")), A.c.user_id.not_in(_ids("admins")))
    return A.c.user_id.in_(_ids(_STAFF[audience]))


def _first_time(
    subject_type: SubjectType,
    subject_id: ColumnElement[Any],
    kind: ColumnElement[Any],
    tier: ColumnElement[Any],
    among: ColumnElement[bool],
) -> ColumnElement[bool]:
    """The subject never had this alert in this audience: skipped cheaply on reruns."""
    return ~exists().where(
        A.c.subject_id == subject_id,
        A.c.subject_type == str(subject_type),
        A.c.kind == kind,
        A.c.tier == tier,
        among,
    ).correlate_except(A)


def _milestone_tiers(
    shape: Shape, audience: Audience, tiers: list[tuple[int, AlertKind, int]]
) -> Select[Any]:
    """due_soon / overdue / escalation tiers of one audience: one branch per tier, each
    with its own due-date range, which the planners see (a derived table of ranges
    joined to the milestones would hide them), in tier order."""
    branches = []
    for position, kind, tier in tiers:
        kind_, tier_ = _kind(kind), literal(tier, Integer())
        values = _row(U.c.id, SubjectType.milestone, M.c.id, kind_, tier_)
        first, last = (
            _param(f"first_due_{position}", Date()),
            _param(f"last_due_{position}", Date()),
        )
        branches.append(
            select(*values, literal(position, Integer()).label("position"))
            .select_from(M.join(G, G.c.id == M.c.grant_id).join(U, _recipients(audience)))
            .where(
                grant_filter(shape),
                M.c.state.in_(rules.AWAITING_EVIDENCE),
                M.c.due_date.between(first, last),
                _first_time(SubjectType.milestone, M.c.id, kind_, tier_, _among(audience)),
            )
        )
    rows = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery("due")
    ordered = (rows.c.position, rows.c.milestone_id, rows.c.user_id)
    return select(*(rows.c[column] for column in ALERT_COLUMNS)).order_by(*ordered)


def _tranche_waiting(shape: Shape) -> Select[Any]:
    """Approved, unreleased, decided between tranche_since and tranche_before."""
    kind, tier = _kind(AlertKind.tranche_waiting), literal(1, Integer())
    values = _row(U.c.id, SubjectType.milestone, M.c.id, kind, tier)
    among = _among(Audience.officers)
    # The disbursement row (one per milestone at most), looked up per candidate: as NOT
    # EXISTS, PostgreSQL would rather hash every disbursement ever made.
    disbursement = select(D.c.id).where(D.c.milestone_id == M.c.id).scalar_subquery()
    return (
        select(*values)
        .select_from(M.join(G, G.c.id == M.c.grant_id).join(U, _recipients(Audience.officers)))
        .where(
            grant_filter(shape),
            M.c.state == MilestoneState.approved,
            # released_at picks the candidates from the index; the disbursement row, the
            # record itself, has the last word
            M.c.released_at.is_(None),
            M.c.decided_at >= _param("tranche_since", UTCDateTime()),
            M.c.decided_at < _param("tranche_before", UTCDateTime()),
            disbursement.is_(None),
            _first_time(SubjectType.milestone, M.c.id, kind, tier, among),
        )
        .order_by(M.c.id, U.c.id)
    )


# --- reviews left waiting ------------------------------------------------------------------


class NewWait(Enum):
    """Which waits a pass with `since` reads: those that reached the cut-off after it."""

    submitted = "the submission came after the earlier cut-off"
    assigned = "the reviewer was assigned after it, to an older submission"


def _new_waits(shape: Shape) -> list[NewWait | None]:
    return list(NewWait) if shape.reads is Reads.since else [None]


def _submitted(shape: Shape, tier: int, new: NewWait | None) -> ColumnElement[bool]:
    """Milestones whose evidence awaits review: the candidates. Reading everything, from
    the (state, due_date) index: the always-true range on due_date is for SQLite, whose
    planner knows only the average number of milestones per state and would otherwise
    start from every active grant or every submission ever made; bounded on both sides,
    it looks narrow. Reading what is new, from the submissions or assignments since."""
    submitted = M.c.state == MilestoneState.submitted
    not_before = _param(f"review_not_before_{tier}", UTCDateTime())
    if new is NewWait.submitted:
        return and_(submitted, S.c.submitted_at >= not_before)
    if new is NewWait.assigned:
        return and_(submitted, S.c.submitted_at < not_before, RA.c.assigned_at >= not_before)
    if shape.reads is Reads.changed:
        return submitted
    return and_(submitted, M.c.due_date.between(EARLIEST, LATEST))


def _latest_submission() -> ColumnElement[bool]:
    return and_(S.c.milestone_id == M.c.id, S.c.round == M.c.round)


def _waiting_reviewer(tier: int) -> ColumnElement[bool]:
    """Reviewer U (assignment RA to grant G), eligible, has not decided submission S, and has
    been waiting since before the tier's cut-off (the later of assignment and submission)."""
    before = _param(f"review_before_{tier}", UTCDateTime())
    vc_orgs = (
        select(CI.c.vc_organization_id)
        .where(CI.c.application_id == G.c.application_id)
        .correlate_except(CI)
    )
    return and_(
        RA.c.reviewer_id.in_(_ids("reviewers")),
        RA.c.assigned_at < before,
        S.c.submitted_at < before,
        ~exists().where(R.c.submission_id == S.c.id, R.c.reviewer_id == U.c.id).correlate_except(R),
        or_(U.c.organization_id.is_(None), U.c.organization_id != G.c.organization_id),
        ~exists()
        .where(
            CI.c.application_id == G.c.application_id,
            CI.c.vc_organization_id == U.c.organization_id,
        )
        .correlate_except(CI),
        ~exists()
        .where(
            CD.c.reviewer_id == U.c.id,
            or_(
                CD.c.grant_id == G.c.id,
                CD.c.organization_id == G.c.organization_id,
                CD.c.organization_id.in_(vc_orgs.scalar_subquery()),
            ),
        )
        .correlate_except(CD),
    )


def _review_waiting_reviewer(shape: Shape, new: NewWait | None) -> Select[Any]:
    """Tier 1, to each waiting reviewer: checked per reviewer (one may be assigned later)."""
    kind, tier = _kind(AlertKind.review_waiting), literal(1, Integer())
    values = _row(U.c.id, SubjectType.evidence_submission, S.c.id, kind, tier)
    source = (
        M.join(G, G.c.id == M.c.grant_id)
        .join(S, _latest_submission())
        .join(RA, RA.c.grant_id == G.c.id)
        .join(U, U.c.id == RA.c.reviewer_id)
    )
    mine = A.c.user_id == U.c.id
    return (
        select(*values)
        .select_from(source)
        .where(
            grant_filter(shape),
            _submitted(shape, 1, new),
            _first_time(SubjectType.evidence_submission, S.c.id, kind, tier, mine),
            _waiting_reviewer(1),
        )
        .order_by(S.c.id, U.c.id)
    )


def _review_waiting_officers(shape: Shape, new: NewWait | None) -> Select[Any]:
    """Tier 2, to the officers, once a reviewer has been waiting twice as long."""
    officer = U.alias("officer")
    kind, tier = _kind(AlertKind.review_waiting), literal(2, Integer())
    values = _row(officer.c.id, SubjectType.evidence_submission, S.c.id, kind, tier)
    source = M.join(G, G.c.id == M.c.grant_id).join(S, _latest_submission())
    conditions = [
        grant_filter(shape),
        _submitted(shape, 2, new),
        # implied by the waiting reviewer, but filters first
        S.c.submitted_at < _param("review_before_2", UTCDateTime()),
        _first_time(SubjectType.evidence_submission, S.c.id, kind, tier, _among(Audience.officers)),
    ]
    if new is NewWait.assigned:  # the new assignment leads the read: its reviewer waits
        source = source.join(RA, RA.c.grant_id == G.c.id).join(U, U.c.id == RA.c.reviewer_id)
        conditions.append(_waiting_reviewer(2))
    else:
        waiting = (
            select(RA.c.id)
            .select_from(RA.join(U, U.c.id == RA.c.reviewer_id))
            .where(RA.c.grant_id == G.c.id, _waiting_reviewer(2))
            .correlate_except(RA, U)
        )
        conditions.append(waiting.exists())
    source = source.join(officer, _recipients(Audience.officers, officer))
    query = select(*values).select_from(source).where(*conditions)
    query = query.order_by(S.c.id, officer.c.id)
    return query.distinct() if new is NewWait.assigned else query
