"""The set-based scan: time travel across a grant's life, exactly once, flags, audiences."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select, update

from grants.accounts.models import ConflictDeclaration, User
from grants.alerts.models import Alert
from grants.alerts.rules import due_tiers
from grants.alerts.scan.service import scan
from grants.awards.models import EvidenceSubmission, Milestone, Review, ReviewerAssignment
from grants.core.audit import verify_chain
from grants.core.errors import NotAllowed
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.rules import Schedule
from grants.rulesets.models import RuleSet
from tests.support.alerts import all_alerts, keys, run_scan, staff
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant

DUE = date(2026, 9, 30)  # make_grant's first milestone
DAY = timedelta(days=1)


@pytest.fixture
def world(app) -> GrantWorld:  # type: ignore[no-untyped-def]
    world = make_grant()
    world.officer = staff(Role.officer)
    return world


def _days(start: date, end: date) -> list[date]:
    return [start + DAY * n for n in range((end - start).days + 1)]


def _created_on(world: GrantWorld, start: date, end: date) -> dict[tuple, list[date]]:
    """Scan every day from start to end; when each (user, milestone, kind, tier) appeared."""
    seen: dict[tuple, list[date]] = defaultdict(list)
    for today in _days(start, end):
        for alert_id in run_scan(today).alert_ids:
            alert = db.session.get(Alert, alert_id)
            seen[(alert.user_id, alert.subject_id, str(alert.kind), alert.tier)].append(today)
    return seen


def test_a_grant_life_day_by_day_each_alert_once_on_its_day(world: GrantWorld) -> None:
    admin = staff(Role.admin)
    m1 = world.milestones[0].id
    applicant, officer = world.applicant.id, world.officer.id
    seen = _created_on(world, date(2026, 8, 1), date(2026, 11, 10))
    assert seen == {
        (applicant, m1, "due_soon", 1): [DUE - 30 * DAY],
        (applicant, m1, "due_soon", 2): [DUE - 7 * DAY],
        (applicant, m1, "overdue", 1): [DUE + DAY],
        (officer, m1, "overdue", 1): [DUE + DAY],
        (officer, m1, "escalation", 1): [DUE + 14 * DAY],
        (admin.id, m1, "escalation", 2): [DUE + 30 * DAY],
    }
    milestone = db.session.get(Milestone, m1)
    assert milestone.overdue_since == DUE + DAY
    escalations = [a for a in all_alerts() if str(a.kind) == "escalation"]
    assert [a.tier for a in escalations] == [1, 2]  # tier 1 was created first


def test_reruns_and_restarts_create_nothing_new(world: GrantWorld, app) -> None:  # type: ignore[no-untyped-def]
    staff(Role.admin)
    first = run_scan(DUE + 40 * DAY)
    assert first.total == 4  # overdue x2, escalation 1 and 2
    before = keys()
    assert run_scan(DUE + 40 * DAY).total == 0
    db.session.remove()  # a restarted process: new session, nothing cached
    with app.app_context():
        assert scan_total(DUE + 40 * DAY) == 0
        assert scan_total(DUE + 41 * DAY) == 0
    assert keys() == before


def scan_total(today: date) -> int:
    from grants.core.actors import SYSTEM

    return scan(SYSTEM, today, current_app.config).total


def test_jumping_past_every_tier_creates_them_in_order(world: GrantWorld) -> None:
    admin = staff(Role.admin)
    report = run_scan(DUE + 45 * DAY)
    assert [(a.user_id, str(a.kind), a.tier) for a in all_alerts()] == [
        (world.applicant.id, "overdue", 1),
        (world.officer.id, "overdue", 1),
        (world.officer.id, "escalation", 1),
        (admin.id, "escalation", 2),
    ]
    assert report.created["due_soon"] == 0  # stale reminders are not sent after the fact
    assert report.flagged == 1


def test_the_scan_writes_one_audit_row_per_run(world: GrantWorld) -> None:
    run_scan(DUE - 30 * DAY)
    run_scan(DUE - 30 * DAY, whole=True)  # a rerun that reads (one with nothing changed: none)
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "alerts.scan")))
    assert len(events) == 2
    assert events[0].actor_label == "system"
    assert events[0].object_type == "alert_scan"
    assert events[0].after["created"]["due_soon"] == 1
    assert events[1].after["created"]["due_soon"] == 0
    assert verify_chain().ok


def test_overdue_flag_is_cleared_on_submission_and_redated_when_the_due_date_moves(
    world: GrantWorld,
) -> None:
    milestone = world.milestones[0]
    run_scan(DUE + 3 * DAY)
    assert db.session.get(Milestone, milestone.id).overdue_since == DUE + DAY
    # An amendment moves the due date by a day: still overdue, since the new day.
    db.session.execute(
        update(Milestone).where(Milestone.id == milestone.id).values(due_date=DUE + DAY)
    )
    db.session.commit()
    run_scan(DUE + 3 * DAY)
    assert db.session.get(Milestone, milestone.id).overdue_since == DUE + 2 * DAY
    # ... then well into the future: no longer overdue.
    db.session.execute(
        update(Milestone).where(Milestone.id == milestone.id).values(due_date=DUE + 60 * DAY)
    )
    db.session.commit()
    report = run_scan(DUE + 3 * DAY)
    assert report.cleared == 1
    assert db.session.get(Milestone, milestone.id).overdue_since is None
    # Overdue again, then the evidence arrives: the flag goes.
    run_scan(DUE + 62 * DAY)
    assert db.session.get(Milestone, milestone.id).overdue_since == DUE + 61 * DAY
    db.session.execute(
        update(Milestone).where(Milestone.id == milestone.id).values(state=MilestoneState.submitted)
    )
    db.session.commit()
    run_scan(DUE + 63 * DAY)
    assert db.session.get(Milestone, milestone.id).overdue_since is None


def test_each_grant_uses_its_pinned_schedule(world: GrantWorld) -> None:
    other = make_grant(code="MS-OTHER")
    # The other programme's rule set: one reminder 10 days before, 5 days' grace.
    document = dict(other.ruleset.document)
    document["schedule"] = {**document["schedule"], "due_soon_days": [10], "grace_days": 5}
    db.session.execute(
        update(RuleSet).where(RuleSet.id == other.ruleset.id).values(document=document)
    )
    db.session.commit()
    assert run_scan(DUE - 10 * DAY).alert_ids  # the default programme's 30-day window
    mine = {(a.user_id, str(a.kind), a.tier) for a in all_alerts()}
    assert (other.applicant.id, "due_soon", 1) in mine
    assert (world.applicant.id, "due_soon", 1) in mine
    report = run_scan(DUE + 3 * DAY)
    assert report.created["overdue"] == 2  # only the default programme (no grace)
    assert run_scan(DUE + 6 * DAY).created["overdue"] == 2  # now the other one
    assert report.schedules == 2


def test_inactive_users_other_organisations_and_suspended_grants_get_nothing(
    world: GrantWorld,
) -> None:
    make_user(Role.applicant)  # another organisation's applicant
    colleague = make_user(Role.applicant, world.grantee)
    make_user(Role.officer, active=False)
    suspended = make_grant(code="MS-SUSP")
    suspended.grant.state = GrantState.suspended
    db.session.commit()
    run_scan(DUE - 30 * DAY)
    assert sorted(a.user_id for a in all_alerts()) == sorted([world.applicant.id, colleague.id])


def test_only_the_system_scans(world: GrantWorld) -> None:
    with pytest.raises(NotAllowed):
        scan(world.officer, DUE, current_app.config)
    assert all_alerts() == []


@pytest.mark.parametrize(
    ("shift", "state"),
    [(-45, "planned"), (-30, "planned"), (-12, "changes_requested"), (-7, "planned"),
     (0, "planned"), (1, "planned"), (9, "changes_requested"), (14, "planned"),
     (31, "planned"), (40, "submitted"), (-3, "approved")],
)  # fmt: skip
def test_the_sql_scan_agrees_with_the_domain_rules(app, shift: int, state: str) -> None:  # type: ignore[no-untyped-def]
    world = make_grant(tranches=(100_000_000,))
    admin = staff(Role.admin)
    officer = staff(Role.officer)
    world.milestones[0].state = MilestoneState(state)
    db.session.commit()
    today = DUE + shift * DAY
    run_scan(today)
    expected = set()
    for kind, tier in due_tiers(Schedule((30, 7), 0, (14, 30), 14, 14), today, DUE, state):
        audience = {
            "due_soon": [world.applicant.id],
            "overdue": [world.applicant.id, officer.id],
            "escalation": [officer.id] if tier == 1 else [admin.id],
        }[kind]
        expected |= {(user, str(kind), tier) for user in audience}
    assert {(a.user_id, str(a.kind), a.tier) for a in all_alerts()} == expected


# --- reviews and tranches left waiting -------------------------------------------------------


def _submit(world: GrantWorld, at: datetime, round_: int = 1) -> EvidenceSubmission:
    milestone = world.milestones[0]
    milestone.state = MilestoneState.submitted
    milestone.round = round_
    submission = EvidenceSubmission(
        milestone_id=milestone.id, round=round_, narrative="done", measured=[], submitted_at=at
    )
    db.session.add(submission)
    db.session.execute(
        update(ReviewerAssignment)
        .where(ReviewerAssignment.grant_id == world.grant.id)
        .values(assigned_at=datetime(2026, 5, 1, tzinfo=UTC))
    )
    db.session.commit()
    return submission


def test_review_waiting_reminds_the_reviewers_then_tells_the_officers(world: GrantWorld) -> None:
    first, second = world.reviewers
    submitted = datetime(2026, 9, 20, 3, 0, tzinfo=UTC)  # 20 Sep in Tokyo
    submission = _submit(world, submitted)
    assert run_scan(date(2026, 10, 3)).created["review_waiting"] == 0  # 13 days
    report = run_scan(date(2026, 10, 4))  # 14 days
    assert {(a.user_id, a.subject_id, a.tier) for a in all_alerts()} == {
        (first.id, submission.id, 1),
        (second.id, submission.id, 1),
    }
    assert report.created["review_waiting"] == 2
    db.session.add(
        Review(
            milestone_id=submission.milestone_id,
            submission_id=submission.id,
            reviewer_id=first.id,
            decision="approve",
            comment="ok",
        )
    )
    db.session.commit()
    assert run_scan(date(2026, 10, 17)).created["review_waiting"] == 0
    assert run_scan(date(2026, 10, 18)).created["review_waiting"] == 1  # 28 days: officers
    officer_alert = all_alerts()[-1]
    assert (officer_alert.user_id, officer_alert.tier) == (world.officer.id, 2)
    assert officer_alert.subject_type == "evidence_submission"


def test_a_later_assignment_restarts_the_wait(world: GrantWorld) -> None:
    submission = _submit(world, datetime(2026, 9, 20, 3, 0, tzinfo=UTC))
    late = make_user(Role.reviewer)
    db.session.add(
        ReviewerAssignment(
            grant_id=world.grant.id,
            reviewer_id=late.id,
            assigned_at=datetime(2026, 10, 1, 3, 0, tzinfo=UTC),
        )
    )
    db.session.commit()
    run_scan(date(2026, 10, 4))
    assert late.id not in {a.user_id for a in all_alerts()}
    run_scan(date(2026, 10, 15))
    assert (late.id, submission.id) in {(a.user_id, a.subject_id) for a in all_alerts()}


def test_conflicted_reviewers_are_not_chased(world: GrantWorld) -> None:
    insider = make_user(Role.reviewer, world.grantee)
    declared = make_user(Role.reviewer)
    investor = make_user(Role.reviewer, world.vc)
    for user in (insider, declared, investor):
        db.session.add(ReviewerAssignment(grant_id=world.grant.id, reviewer_id=user.id))
    db.session.add(ConflictDeclaration(reviewer_id=declared.id, grant_id=world.grant.id, note="x"))
    db.session.commit()
    _submit(world, datetime(2026, 9, 20, 3, 0, tzinfo=UTC))
    run_scan(date(2026, 10, 4))
    assert {a.user_id for a in all_alerts()} == {r.id for r in world.reviewers}


def test_a_new_round_is_a_new_subject(world: GrantWorld) -> None:
    _submit(world, datetime(2026, 9, 20, 3, 0, tzinfo=UTC))
    run_scan(date(2026, 10, 4))
    second_round = _submit(world, datetime(2026, 10, 10, 3, 0, tzinfo=UTC), round_=2)
    assert run_scan(date(2026, 10, 23)).created["review_waiting"] == 0
    assert run_scan(date(2026, 10, 24)).created["review_waiting"] == 2
    assert {a.subject_id for a in all_alerts()[-2:]} == {second_round.id}


def test_tranche_waiting_flags_approved_unreleased_milestones(world: GrantWorld) -> None:
    milestone = world.milestones[0]
    milestone.state = MilestoneState.approved
    milestone.decided_at = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
    db.session.commit()
    assert run_scan(date(2026, 10, 14)).created["tranche_waiting"] == 0
    report = run_scan(date(2026, 10, 15))
    assert report.created["tranche_waiting"] == 1
    assert keys()[-1] == (world.officer.id, "milestone", milestone.id, "tranche_waiting", 1)
    assert db.session.scalar(select(func.count(Alert.id))) == 1


def test_released_tranches_are_not_flagged(world: GrantWorld) -> None:
    from grants.awards.models import Disbursement
    from grants.programs.models import BudgetPool

    milestone = world.milestones[0]
    milestone.state = MilestoneState.approved
    milestone.decided_at = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
    pool = db.session.scalar(select(BudgetPool).where(BudgetPool.program_id == world.program.id))
    db.session.add(
        Disbursement(
            milestone_id=milestone.id,
            grant_id=world.grant.id,
            budget_pool_id=pool.id,
            amount=milestone.tranche_amount,
            fiscal_year=pool.fiscal_year,
            released_by_id=world.officer.id,
        )
    )
    db.session.commit()
    assert run_scan(date(2026, 11, 30)).created["tranche_waiting"] == 0
    assert db.session.scalar(select(func.count(User.id))) > 0


def test_someone_who_joins_later_gets_the_next_tiers_not_the_backlog(world: GrantWorld) -> None:
    run_scan(DUE + DAY)  # overdue: the applicant and the first officer
    newcomer = staff(Role.officer)
    assert run_scan(DUE + 2 * DAY).total == 0
    report = run_scan(DUE + 14 * DAY)  # escalation tier 1 goes to both officers
    assert {a.user_id for a in all_alerts() if str(a.kind) == "escalation"} == {
        world.officer.id,
        newcomer.id,
    }
    assert report.created["escalation"] == 2


def test_an_old_unreleased_approval_beyond_the_catch_up_period_is_not_flagged(
    world: GrantWorld,
) -> None:
    milestone = world.milestones[0]
    milestone.state = MilestoneState.approved
    milestone.decided_at = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    db.session.commit()
    # 14 days of waiting + 90 days of catch-up: flagged until 13 Jun, not after.
    assert run_scan(date(2026, 6, 14)).created["tranche_waiting"] == 0
    assert run_scan(date(2026, 6, 13)).created["tranche_waiting"] == 1
