"""The SELECTs behind the scan's INSERT ... SELECT statements, one per audience and subject.

Each statement selects the alert rows (columns in ALERT_COLUMNS order) that are due and
do not exist yet. Due-date tiers of one audience share a statement: a small derived
table of tiers (kind, tier, first and last due date) is joined to the milestones, so one
pass over the milestone index serves every tier. Before the unique key decides, a cheap
NOT EXISTS skips subjects that already had the alert in that audience: a rerun does one
index probe per candidate and tier, not one per recipient, and someone who joins later
(a new officer) does not receive the backlog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    exists,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.expression import ColumnElement, FromClause, Select

from grants.domain import alerts as rules
from grants.domain.accounts import Role
from grants.domain.alerts import AlertKind, Audience, SubjectType
from grants.domain.rules import Schedule
from grants.domain.states import GrantState, MilestoneState
from grants.models import (
    Alert,
    CoInvestment,
    ConflictDeclaration,
    Disbursement,
    EvidenceSubmission,
    Grant,
    Milestone,
    Review,
    ReviewerAssignment,
    User,
)
from grants.models.base import UTCDateTime

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
# "No lower bound" / "no upper bound" for a due date, in a form both databases compare.
EARLIEST = date(1, 1, 1)
LATEST = date(9999, 12, 31)


@dataclass(frozen=True)
class Pass:
    """One schedule's pass: the grants that use it, the day, the creation time, the staff."""

    schedule: Schedule
    ruleset_ids: tuple[int, ...]
    today: date
    now: datetime
    staff: Mapping[Audience, tuple[int, ...]]  # active officers, admins and reviewers
    catch_up_days: int

    def grant_filter(self) -> ColumnElement[bool]:
        """The grants of this pass."""
        return and_(G.c.state == GrantState.active, G.c.ruleset_id.in_(self.ruleset_ids))


@dataclass(frozen=True)
class Tier:
    kind: AlertKind
    tier: int
    first_due: date
    last_due: date


def statements(one: Pass) -> list[Select[Any]]:
    """Every statement of the pass, in the order their alerts should be numbered."""
    found = []
    for audience, tiers in _due_date_tiers(one).items():
        if tiers and (audience is Audience.grantee or one.staff[audience]):
            found.append(_milestone_tiers(one, audience, tiers))
    reviewer, officers = rules.review_waiting_cutoffs(one.schedule, one.today)
    found.append(_review_waiting_reviewer(one, reviewer))
    if one.staff[Audience.officers]:
        found.append(_review_waiting_officers(one, officers))
        found.append(_tranche_waiting(one))
    return found


def _due_date_tiers(one: Pass) -> dict[Audience, list[Tier]]:
    schedule, today = one.schedule, one.today
    overdue = Tier(AlertKind.overdue, 1, EARLIEST, rules.overdue_last_due(schedule, today))
    tiers: dict[Audience, list[Tier]] = {
        Audience.grantee: [
            Tier(AlertKind.due_soon, w.tier, w.first_due, w.last_due)
            for w in rules.due_soon_windows(schedule, today)
        ]
        + [overdue],
        Audience.officers: [overdue],
        Audience.admins: [],
    }
    for cutoff in rules.escalation_cutoffs(schedule, today):
        tier = Tier(AlertKind.escalation, cutoff.tier, EARLIEST, cutoff.last_due)
        tiers[cutoff.audience].append(tier)
    return tiers


def _row(
    one: Pass,
    user_id: ColumnElement[Any],
    subject_type: SubjectType,
    subject_id: ColumnElement[Any],
    kind: ColumnElement[Any],
    tier: ColumnElement[Any],
) -> list[ColumnElement[Any]]:
    return [
        user_id,
        literal(str(subject_type), String()),
        subject_id,
        kind,
        tier,
        G.c.id,
        M.c.id,
        literal(one.today, Date()),
        literal(one.now, UTCDateTime()),
        literal(0, Integer()),
    ]


def _kind(kind: AlertKind) -> ColumnElement[Any]:
    return literal(str(kind), String())  # typed: PostgreSQL sees one type at every use


def _tier_table(tiers: Sequence[Tier]) -> FromClause:
    rows = [
        select(
            literal(position, Integer()).label("position"),
            literal(str(t.kind), String()).label("kind"),
            literal(t.tier, Integer()).label("tier"),
            literal(t.first_due, Date()).label("first_due"),
            literal(t.last_due, Date()).label("last_due"),
        )
        for position, t in enumerate(tiers)
    ]
    return (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("tiers")


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


def _among(one: Pass, audience: Audience) -> ColumnElement[bool]:
    """Alerts of `audience`, told apart by recipient where kinds are shared (overdue)."""
    if audience is Audience.grantee:
        return A.c.user_id.not_in(one.staff[Audience.officers] + one.staff[Audience.admins])
    return A.c.user_id.in_(one.staff[audience])


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


def _milestone_tiers(one: Pass, audience: Audience, tiers: Sequence[Tier]) -> Select[Any]:
    """due_soon / overdue / escalation tiers of one audience, in one pass."""
    t = _tier_table(tiers)
    source = (
        M.join(G, G.c.id == M.c.grant_id)
        .join(t, M.c.due_date.between(t.c.first_due, t.c.last_due))
        .join(U, _recipients(audience))
    )
    values = _row(one, U.c.id, SubjectType.milestone, M.c.id, t.c.kind, t.c.tier)
    return (
        select(*values)
        .select_from(source)
        .where(
            one.grant_filter(),
            M.c.state.in_(rules.AWAITING_EVIDENCE),
            _first_time(SubjectType.milestone, M.c.id, t.c.kind, t.c.tier, _among(one, audience)),
        )
        .order_by(t.c.position, M.c.id, U.c.id)
    )


def _tranche_waiting(one: Pass) -> Select[Any]:
    """Approved, unreleased: only decisions within the catch-up period, as approved
    milestones pile up for ever (one approved long ago was flagged back then)."""
    cutoff = rules.tranche_waiting_cutoff(one.schedule, one.today)
    since = rules.waited_before(one.today, cutoff.days + one.catch_up_days + 1)
    kind, tier = _kind(AlertKind.tranche_waiting), literal(1, Integer())
    values = _row(one, U.c.id, SubjectType.milestone, M.c.id, kind, tier)
    among = _among(one, Audience.officers)
    # The disbursement row (one per milestone at most), looked up per candidate: as NOT
    # EXISTS, PostgreSQL would rather hash every disbursement ever made.
    disbursement = select(D.c.id).where(D.c.milestone_id == M.c.id).scalar_subquery()
    return (
        select(*values)
        .select_from(M.join(G, G.c.id == M.c.grant_id).join(U, _recipients(Audience.officers)))
        .where(
            one.grant_filter(),
            M.c.state == MilestoneState.approved,
            # released_at picks the candidates from the index; the disbursement row, the
            # record itself, has the last word
            M.c.released_at.is_(None),
            M.c.decided_at >= since,
            M.c.decided_at < cutoff.before,
            disbursement.is_(None),
            _first_time(SubjectType.milestone, M.c.id, kind, tier, among),
        )
        .order_by(M.c.id, U.c.id)
    )


# --- reviews left waiting ------------------------------------------------------------------


def _submitted() -> ColumnElement[bool]:
    """Milestones whose evidence awaits review: the candidates, read from the (state,
    due_date) index. The always-true range on due_date is for SQLite, whose planner knows
    only the average number of milestones per state and would otherwise start from every
    active grant or every submission ever made; bounded on both sides, it looks narrow."""
    return and_(M.c.state == MilestoneState.submitted, M.c.due_date.between(EARLIEST, LATEST))


def _latest_submission() -> ColumnElement[bool]:
    return and_(S.c.milestone_id == M.c.id, S.c.round == M.c.round)


def _waiting_reviewer(one: Pass, before: datetime) -> ColumnElement[bool]:
    """Reviewer U (assignment RA to grant G), eligible, has not decided submission S, and has
    been waiting since before `before` (the later of the assignment and the submission)."""
    vc_orgs = (
        select(CI.c.vc_organization_id)
        .where(CI.c.application_id == G.c.application_id)
        .correlate_except(CI)
    )
    return and_(
        RA.c.reviewer_id.in_(one.staff[Audience.reviewer]),
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


def _review_waiting_reviewer(one: Pass, cutoff: rules.WaitingCutoff) -> Select[Any]:
    """Tier 1, to each waiting reviewer: checked per reviewer (one may be assigned later)."""
    kind, tier = _kind(AlertKind.review_waiting), literal(1, Integer())
    values = _row(one, U.c.id, SubjectType.evidence_submission, S.c.id, kind, tier)
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
            one.grant_filter(),
            _submitted(),
            _first_time(SubjectType.evidence_submission, S.c.id, kind, tier, mine),
            _waiting_reviewer(one, cutoff.before),
        )
        .order_by(S.c.id, U.c.id)
    )


def _review_waiting_officers(one: Pass, cutoff: rules.WaitingCutoff) -> Select[Any]:
    """Tier 2, to the officers, once a reviewer has been waiting twice as long."""
    officer = U.alias("officer")
    kind, tier = _kind(AlertKind.review_waiting), literal(cutoff.tier, Integer())
    values = _row(one, officer.c.id, SubjectType.evidence_submission, S.c.id, kind, tier)
    source = (
        M.join(G, G.c.id == M.c.grant_id)
        .join(S, _latest_submission())
        .join(officer, _recipients(Audience.officers, officer))
    )
    waiting = (
        select(RA.c.id)
        .select_from(RA.join(U, U.c.id == RA.c.reviewer_id))
        .where(RA.c.grant_id == G.c.id, _waiting_reviewer(one, cutoff.before))
        .correlate_except(RA, U)
    )
    among = _among(one, Audience.officers)
    return (
        select(*values)
        .select_from(source)
        .where(
            one.grant_filter(),
            _submitted(),
            S.c.submitted_at < cutoff.before,  # implied by `waiting`: filters before it
            _first_time(SubjectType.evidence_submission, S.c.id, kind, tier, among),
            waiting.exists(),
        )
        .order_by(S.c.id, officer.c.id)
    )
