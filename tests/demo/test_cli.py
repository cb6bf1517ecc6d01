"""flask grants demo: the demo world through the real services, pinned to a day, idempotent."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import Organization, User
from grants.alerts.models import Alert
from grants.applications.models import Application
from grants.applications.screening.queries import SCREENING, screening_list
from grants.awards.models import (
    Amendment,
    Disbursement,
    EvidenceFile,
    EvidenceSubmission,
    Grant,
    Investment,
    Milestone,
    Review,
    ReviewerAssignment,
    Settlement,
)
from grants.core.calendar import tokyo_today
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import AmendmentState, ApplicationState, GrantState, MilestoneState
from grants.demo import amed as demo_amed
from grants.demo import milestones as demo_milestones
from grants.demo import settlement as demo_settlement
from grants.demo.service import ACCOUNTS, load_demo
from grants.extensions import db
from grants.milestones.reviews.service import current_submission
from grants.portfolio import health as portfolio_health
from grants.programs.models import BudgetPool, Program
from grants.rulesets.models import RuleSet, RuleSetStatus
from grants.settlement.models import ResultsReport
from grants.settlement.rules import ReportState

TODAY = date(2026, 11, 25)
OKU = 100_000_000


def _demo(runner: FlaskCliRunner, today: date = TODAY) -> str:
    result = runner.invoke(args=["grants", "demo", "--today", today.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def _program(code: str) -> Program:
    return db.session.scalars(select(Program).where(Program.code == code)).one()


def _application(title: str) -> Application:
    return db.session.scalars(select(Application).where(Application.title == title)).one()


def _rows(application: Application) -> dict[str, dict]:  # type: ignore[type-arg]
    assert application.eligibility_trace is not None
    return {row["rule_id"]: row for row in application.eligibility_trace["rows"]}


def _user(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


def test_the_sign_in_line_names_where_the_app_is_served(app: Flask, runner: FlaskCliRunner) -> None:
    args = ["grants", "demo", "--today", TODAY.isoformat(), "--url", "http://10.0.0.7:8080/"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Sign in at http://10.0.0.7:8080/login with:" in result.output
    assert "Sign in at http://127.0.0.1:5000/login" in _demo(runner)  # make run's default


def test_the_demo_prints_a_summary_and_how_to_sign_in(app: Flask, runner: FlaskCliRunner) -> None:
    output = _demo(runner)
    assert "Demo data as of 2026-11-25" in output
    assert "AMED-VC-7: 6 applications" in output
    assert "MS-DARPA-1: 3 applications" in output and "1 overdue" in output
    for account in ACCOUNTS:
        assert account.email in output
    assert {Role(a.role) for a in ACCOUNTS} == set(Role)


def test_a_bad_today_is_refused(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["grants", "demo", "--today", "2026-13-01"])
    assert result.exit_code == 2
    assert db.session.scalar(select(func.count()).select_from(Program)) == 0


def test_amed_programme_rules_and_outcomes(app: Flask, runner: FlaskCliRunner) -> None:
    _demo(runner)
    program = _program("AMED-VC-7")
    ruleset = db.session.scalars(select(RuleSet).where(RuleSet.program_id == program.id)).one()
    assert ruleset.status == RuleSetStatus.published and ruleset.effective_from < TODAY
    assert {pool.fiscal_year for pool in program.budget_pools} >= {2026, 2027}
    vcs = db.session.scalars(select(Organization).where(Organization.kind == OrgKind.vc)).all()
    certified = {c.organization_id for c in db.session.scalars(select(VcCertification))}
    assert len(vcs) >= 3 and {vc.id for vc in vcs} <= certified

    apps = db.session.scalars(select(Application).where(Application.program_id == program.id))
    assert Counter(str(a.state) for a in apps) == {
        "draft": 1,
        "screened_ineligible": 1,
        "rejected": 1,
        "screened_eligible": 2,
        "awarded": 1,
    }
    for title in (demo_amed.FAIL_PHASE1, demo_amed.FAIL_PHASE2):
        application = _application(title)
        lead = _rows(application)["lead_vc_min"]
        assert application.stage in ("phase1", "phase2")
        assert lead["outcome"] == "fail" and lead["relaxation"] is None
        assert lead["compared"]["actual"] < 10 * OKU
        assert not application.eligibility_trace["ok"]  # type: ignore[index]
    assert _application(demo_amed.FAIL_PHASE2).state == ApplicationState.rejected
    for title in (demo_amed.RELAXED_AWARDED, demo_amed.RELAXED_WAITING):
        application = _application(title)
        lead = _rows(application)["lead_vc_min"]
        assert application.stage == "non_clinical"
        assert lead["outcome"] == "pass" and lead["relaxation"] is not None
        assert OKU <= lead["compared"]["actual"] < 10 * OKU
        assert application.eligibility_trace["ok"]  # type: ignore[index]
    large = _application(demo_amed.LARGE_WARNING)
    assert large.eligible_cost > 100 * OKU
    assert _rows(large)["project_size"]["outcome"] == "warn"
    assert large.state == ApplicationState.screened_eligible
    draft = _application(demo_amed.DRAFT)
    assert draft.state == ApplicationState.draft and draft.eligibility_trace is None
    # Officers find the screened ones with their traces in the screening queue.
    officer = _user("officer@example.jp")
    queue = screening_list(officer, SCREENING.query(program_id=program.id)).items
    queued = {a.title for a in queue}
    assert queued == {demo_amed.FAIL_PHASE1, demo_amed.RELAXED_WAITING, demo_amed.LARGE_WARNING}

    grant = db.session.scalars(select(Grant).where(Grant.program_id == program.id)).one()
    assert grant.application.title == demo_amed.RELAXED_AWARDED
    assert grant.number == "AMED-VC-7-0001" and grant.state == GrantState.active
    assert grant.award_amount == 10 * OKU
    assert grant.awarded_by_id == _user("officer@example.jp").id


def test_milestone_programme_has_every_state(app: Flask, runner: FlaskCliRunner) -> None:
    _demo(runner)
    program = _program("MS-DARPA-1")
    grants = db.session.scalars(select(Grant).where(Grant.program_id == program.id)).all()
    assert len(grants) == 3 and all(g.state == GrantState.active for g in grants)
    assert len({g.organization_id for g in grants}) == 3
    reviewers = {_user("reviewer@example.jp").id, _user("reviewer2@example.jp").id}
    for grant in grants:
        assigned = db.session.scalars(
            select(ReviewerAssignment.reviewer_id).where(ReviewerAssignment.grant_id == grant.id)
        )
        assert set(assigned) == reviewers
    milestones = [m for g in grants for m in g.milestones]
    released = set(db.session.scalars(select(Disbursement.milestone_id)))
    states = Counter(m.state for m in milestones)
    assert set(states) == {
        MilestoneState.planned,
        MilestoneState.submitted,
        MilestoneState.approved,
        MilestoneState.changes_requested,
        MilestoneState.rejected,
    }
    approved = [m for m in milestones if m.state == MilestoneState.approved]
    assert any(m.id in released for m in approved)
    assert any(m.id not in released for m in approved)  # waiting for the officer
    assert released <= {m.id for m in approved}
    submitted = next(m for m in milestones if m.state == MilestoneState.submitted)
    waiting = current_submission(submitted)
    assert waiting is not None and not _reviews_of(waiting.id)  # waiting for the reviewers
    rejected = [m for m in milestones if m.state == MilestoneState.rejected]
    assert len(rejected) == 1
    planned = [m for m in milestones if m.state == MilestoneState.planned]
    overdue = [m for m in planned if m.due_date < TODAY]
    assert len(overdue) == 1 and overdue[0].round == 0
    assert any(m.due_date > TODAY for m in planned)
    assert db.session.scalar(select(func.count()).select_from(Amendment)) == 1
    assert db.session.scalars(select(Amendment.state)).one() == AmendmentState.requested


def test_money_files_and_audit(app: Flask, runner: FlaskCliRunner) -> None:
    _demo(runner)
    officer, officer2 = _user("officer@example.jp"), _user("officer2@example.jp")
    for pool in db.session.scalars(select(BudgetPool)):
        assert 0 <= pool.released <= pool.appropriation
    disbursements = db.session.scalars(select(Disbursement)).all()
    assert len(disbursements) == 3
    # officer awarded the grants: the other officer releases (separation of duties)
    assert all(d.released_by_id == officer2.id for d in disbursements)
    verified = db.session.scalars(select(Investment).where(Investment.verified_at.is_not(None)))
    pairs = {(i.recorded_by_id, i.verified_by_id) for i in verified}
    assert pairs == {(officer.id, officer2.id)}  # separation of duties
    folder = Path(app.config["UPLOAD_FOLDER"])
    files = db.session.scalars(select(EvidenceFile)).all()
    assert files and all(f.content_type == "application/pdf" for f in files)
    for evidence_file in files:
        data = (folder / evidence_file.stored_name).read_bytes()
        assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
        assert hashlib.sha256(data).hexdigest() == evidence_file.sha256
    actions = Counter(db.session.scalars(select(AuditEvent.action)))
    expected = {
        "ruleset.publish", "application.submit", "application.screen", "grant.award",
        "milestone.submit_evidence", "review.decide", "milestone.decide", "tranche.release",
        "investment.record", "investment.verify", "vc_certification.create", "amendment.request",
    }  # fmt: skip
    assert expected <= set(actions)
    submitters = db.session.scalars(
        select(AuditEvent.actor_label).where(AuditEvent.action == "application.submit")
    )
    assert set(submitters) <= {a.email for a in ACCOUNTS if a.role == Role.applicant}
    result = runner.invoke(args=["grants", "audit-verify"])
    assert result.exit_code == 0 and "OK" in result.output


def test_running_again_adds_nothing(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in production: a scan rerun on the same day with nothing changed writes nothing.
    first = _demo(runner)
    folder = Path(app.config["UPLOAD_FOLDER"])
    before = (_row_counts(), len(list(folder.iterdir())))
    second = _demo(runner)
    # The same day: not a row more, the scan included (it is idempotent).
    assert (_row_counts(), len(list(folder.iterdir()))) == before
    assert first.splitlines()[1:] == second.splitlines()[1:]
    later = _demo(runner, TODAY + timedelta(days=1))  # e.g. `make run` again tomorrow
    assert "AMED-VC-7: 6 applications" in later
    # The next day adds no demo data; only that day's scan may add alerts and its audit row.
    counts, files = _row_counts(), len(list(folder.iterdir()))
    scans = Counter(db.session.scalars(select(AuditEvent.action)))["alerts.scan"]
    assert scans == 2 and counts["audit_event"] == before[0]["audit_event"] + 1
    assert counts["alert"] >= before[0]["alert"]
    kept = {"alert", "audit_event"}
    assert {k: v for k, v in counts.items() if k not in kept} == {
        k: v for k, v in before[0].items() if k not in kept
    }
    assert files == before[1]


@pytest.mark.parametrize("today", [date(2027, 3, 31), date(2027, 4, 1)])
def test_the_demo_loads_on_any_day(app: Flask, today: date) -> None:
    """Around a fiscal-year boundary too: the pools and the overdue milestone follow `today`."""
    summary = load_demo(today, app.config)
    assert any(line.startswith("MS-DARPA-1") and "1 overdue" in line for line in summary.lines)
    overdue = db.session.scalars(
        select(Milestone).where(
            Milestone.state == MilestoneState.planned, Milestone.due_date < today
        )
    ).all()
    assert len(overdue) == 1
    assert db.session.scalar(select(func.count()).select_from(Grant)) == 4


def test_the_story_keeps_its_dates_and_the_scan_has_run(app: Flask, runner: FlaskCliRunner) -> None:
    """Evidence, decisions and releases carry the story's days, not the day the demo was
    loaded: the portfolio sees milestones delivered on time, and the scan flagged the one
    that is overdue."""
    _demo(runner)
    program = _program(demo_milestones.CODE)
    health = {row.program_code: row for row in portfolio_health.health_by_programme(TODAY)}
    row = health[demo_milestones.CODE]
    assert row.due == 7 and row.rate is not None and row.rate > 0
    assert row.on_time == 6  # every delivered one; the overdue one has no evidence yet
    overdue = db.session.scalars(
        select(Milestone)
        .join(Grant, Grant.id == Milestone.grant_id)
        .where(
            Grant.program_id == program.id,
            Milestone.state == MilestoneState.planned,
            Milestone.due_date < TODAY,
        )
    ).one()
    assert overdue.overdue_since is not None and overdue.overdue_since <= TODAY
    assert db.session.scalar(select(func.count()).select_from(Alert)) > 0
    assert Counter(db.session.scalars(select(AuditEvent.action)))["alerts.scan"] == 1
    # Submissions, reviews, decisions and releases happened on the story's (past) days.
    submissions = db.session.scalars(select(EvidenceSubmission)).all()
    assert submissions and all(tokyo_today(s.submitted_at) < TODAY for s in submissions)
    assert all(tokyo_today(r.decided_at) < TODAY for r in db.session.scalars(select(Review)))
    for disbursement in db.session.scalars(select(Disbursement)):
        released = tokyo_today(disbursement.released_at)
        milestone = db.session.get(Milestone, disbursement.milestone_id)
        assert released < TODAY and milestone is not None
        assert milestone.decided_at is not None and tokyo_today(milestone.decided_at) < released
        assert tokyo_today(milestone.released_at) == released
    for grant in db.session.scalars(select(Grant)):
        assert tokyo_today(grant.awarded_at) < TODAY


def test_submissions_are_stored_rounds(app: Flask, runner: FlaskCliRunner) -> None:
    _demo(runner)
    program = _program(demo_milestones.CODE)
    query = (
        select(EvidenceSubmission)
        .join(Milestone, Milestone.id == EvidenceSubmission.milestone_id)
        .join(Grant, Grant.id == Milestone.grant_id)
        .where(Grant.program_id == program.id)
    )
    submissions = db.session.scalars(query).all()
    assert len(submissions) == 7
    assert all(s.files and s.measured[0]["value"] for s in submissions)


def _row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def _reviews_of(submission_id: int) -> list[Review]:
    query = select(Review).where(Review.submission_id == submission_id)
    return list(db.session.scalars(query))


def test_settlement_has_a_settled_period_an_advance_being_settled_and_a_return(
    app: Flask, runner: FlaskCliRunner
) -> None:
    _demo(runner)
    reports = {r.grant.application.title: r for r in db.session.scalars(select(ResultsReport))}
    assert len(reports) == 3
    settled = reports[demo_settlement.HEART_PUMP_TITLE]
    assert settled.state == ReportState.confirmed
    [final] = db.session.scalars(select(Settlement)).all()
    assert final.final_amount == final.decided == 80_000_000 and final.excess == 0
    being = reports[demo_settlement.BETA_LACTAMASE]
    assert being.state == ReportState.inspected
    assert being.inspected_by_id == _user("officer@example.jp").id  # officer2 confirms
    assert reports[demo_settlement.DMD_TITLE].state == ReportState.returned
