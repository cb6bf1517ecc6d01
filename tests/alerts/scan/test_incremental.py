"""A scan that reads only what changed since the last one misses nothing a whole read finds.

Day after day, grants change through the services (evidence, reviews, a late reviewer,
an amendment, a termination) and the scheduler scans, sometimes skipping days; after
every scan, a scan that reads everything must find nothing left to create or flag.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from flask import Flask, current_app
from sqlalchemy import select, text, update

from grants.accounts.models import Organization
from grants.alerts.scan.service import ScanReport
from grants.amendments import service as amendments
from grants.awards.models import EvidenceSubmission, Milestone, ReviewerAssignment
from grants.awards.termination import service as terminations
from grants.core import audit
from grants.core.actors import SYSTEM
from grants.core.calendar import TOKYO
from grants.core.identity import Role
from grants.core.states import MilestoneState
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from grants.milestones.evidence import service as evidence
from grants.milestones.reviews import service as reviews
from tests.support.alerts import all_alerts, run_scan, staff
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant

DAY = timedelta(days=1)


@pytest.fixture
def incremental(app: Flask) -> Flask:
    """The scan as in production (it is always incremental)."""
    return app


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=TOKYO).astimezone(UTC)


def _whole_read_finds_nothing(app: Flask, today: date) -> None:
    whole = run_scan(today, whole=True)
    assert (whole.total, whole.flagged, whole.cleared) == (0, 0, 0), today


class Story:
    """Two grants and what happens to them, each step done through a service on its day,
    with the times it records set to that day (the services stamp the real clock)."""

    def __init__(self) -> None:
        self.one = make_grant(first_due=date(2026, 9, 30))
        self.two = make_grant(first_due=date(2026, 10, 20), code="MS-TWO")
        self.three = make_grant(first_due=date(2026, 10, 5), code="MS-THREE")
        self.officer = staff(Role.officer)
        staff(Role.admin)
        self.steps: dict[date, Callable[[date], None]] = {  # one step a day at most
            date(2026, 9, 25): self.submit_first,
            date(2026, 10, 12): self.send_back_first,
            date(2026, 10, 15): self.assign_late_reviewer,
            date(2026, 10, 25): self.terminate_third,  # overdue: its flag goes
            date(2026, 11, 8): self.resubmit_first,
            date(2026, 11, 12): self.assign_late_reviewer,  # to evidence already waiting
            date(2026, 12, 10): self.approve_first,  # and nobody releases the tranche
            date(2026, 11, 5): self.move_second,
            date(2026, 12, 3): self.terminate_second,
        }

    def submit_first(self, today: date) -> None:
        self._submit(self.one, today)

    def resubmit_first(self, today: date) -> None:
        self._submit(self.one, today)

    def send_back_first(self, today: date) -> None:
        milestone = self.one.milestones[0]
        for reviewer in self.one.reviewers:
            reviews.decide(reviewer, milestone.id, "request_changes", "More data.", today)
        self._stamp(Milestone, milestone.id, "decided_at", today)
        assert db.session.get(Milestone, milestone.id).state == MilestoneState.changes_requested

    def approve_first(self, today: date) -> None:
        milestone = self.one.milestones[0]
        for reviewer in self.one.reviewers:
            reviews.decide(reviewer, milestone.id, "approve", "", today)
        self._stamp(Milestone, milestone.id, "decided_at", today)
        assert db.session.get(Milestone, milestone.id).state == MilestoneState.approved

    def assign_late_reviewer(self, today: date) -> None:
        late = make_user(Role.reviewer)
        assignment = assignments.assign_reviewer(self.officer, self.one.grant.id, late.id, today)
        self._stamp(ReviewerAssignment, assignment.id, "assigned_at", today)

    def move_second(self, today: date) -> None:
        milestone = self.two.milestones[0]
        asked = amendments.request_amendment(
            self.two.applicant, self.two.grant.id, "due_date", milestone.id,
            date(2026, 12, 20), None, "The animal study slipped.", today,
        )  # fmt: skip
        amendments.decide_amendment(self.officer, asked.id, True, "Agreed.", today)

    def terminate_second(self, today: date) -> None:
        terminations.terminate(self.officer, self.two.grant.id, "No-go at the review.", today)

    def terminate_third(self, today: date) -> None:
        assert db.session.get(Milestone, self.three.milestones[0].id).overdue_since is not None
        terminations.terminate(self.officer, self.three.grant.id, "Abandoned.", today)

    def _submit(self, world: GrantWorld, today: date) -> None:
        milestone = world.milestones[0]
        made = evidence.submit_evidence(
            world.applicant,
            milestone.id,
            "Done.",
            {0: "8"},
            [],
            today,
            upload_folder=Path(current_app.config["UPLOAD_FOLDER"]),
        )
        self._stamp(EvidenceSubmission, made.id, "submitted_at", today)

    @staticmethod
    def _stamp(model: type, row_id: int, column: str, today: date) -> None:
        db.session.execute(update(model).where(model.id == row_id).values({column: _noon(today)}))
        db.session.commit()


def _live(app: Flask, story: Story, days: list[date]) -> list[ScanReport]:
    reports = []
    for today in days:
        if today in story.steps:
            story.steps.pop(today)(today)
        reports.append(run_scan(today))
        _whole_read_finds_nothing(app, today)
    return reports


def _days(first: date, last: date, step: int = 1) -> list[date]:
    return [first + DAY * n for n in range(0, (last - first).days + 1, step)]


def test_scans_that_read_what_changed_miss_nothing_day_after_day(incremental: Flask) -> None:
    story = Story()
    reports = _live(incremental, story, _days(date(2026, 8, 20), date(2027, 1, 10)))
    assert reports[0].since is None  # the first scan reads everything
    assert all(report.since == today - DAY for report, today in zip(reports[1:], _days(
        date(2026, 8, 21), date(2027, 1, 10)), strict=True))  # fmt: skip
    kinds = {(str(alert.kind), alert.tier) for alert in all_alerts()}
    assert kinds >= {
        ("due_soon", 1), ("due_soon", 2), ("overdue", 1), ("escalation", 1),
        ("escalation", 2), ("review_waiting", 1), ("review_waiting", 2), ("tranche_waiting", 1),
    }  # fmt: skip


def test_an_outage_of_several_days_is_caught_up(incremental: Flask) -> None:
    story = Story()
    days = _days(date(2026, 8, 20), date(2026, 10, 1)) + _days(
        date(2026, 10, 6), date(2027, 1, 10), 9
    )
    reports = _live(incremental, story, days)
    assert reports[-1].since == days[-2]


def test_the_first_scan_and_one_after_other_settings_read_everything(incremental: Flask) -> None:
    make_grant()
    assert run_scan(date(2026, 9, 1)).since is None
    assert run_scan(date(2026, 9, 2)).since == date(2026, 9, 1)
    incremental.config["ALERT_GRACE_DAYS"] = 3
    try:
        assert run_scan(date(2026, 9, 3)).since is None
    finally:
        incremental.config["ALERT_GRACE_DAYS"] = 0


def test_a_scan_of_an_earlier_day_reads_everything(incremental: Flask) -> None:
    make_grant()
    run_scan(date(2026, 10, 20))
    assert run_scan(date(2026, 10, 1)).since is None


def test_a_repair_around_the_stamps_is_read_by_a_whole_scan(incremental: Flask) -> None:
    """Every write through the database layer stamps what it changes; SQL typed by hand
    does not, and `flask grants scan --whole` reads everything after it."""
    world = make_grant()
    run_scan(date(2026, 9, 1))
    organization = db.session.get(Organization, world.grantee.id)
    organization.name = "Renamed"
    audit.record(SYSTEM, "test.touch", organization)
    db.session.commit()
    assert run_scan(date(2026, 9, 2)).since == date(2026, 9, 1)  # organisations: unrelated
    milestone = world.milestones[0]
    db.session.execute(
        text("UPDATE milestone SET due_date = :day WHERE id = :id"),
        {"day": date(2026, 9, 5), "id": milestone.id},  # in the 7-day window since 29 Aug
    )
    db.session.commit()
    missed = run_scan(date(2026, 9, 3))
    assert (missed.changed, missed.total) == (0, 0)  # the hand-made change left no stamp
    repaired = run_scan(date(2026, 9, 3), whole=True)
    assert repaired.since is None and repaired.total > 0  # its due-soon alerts, at last


def test_a_change_reads_its_milestones_whole_on_the_same_day(incremental: Flask) -> None:
    world = make_grant()
    officer = staff(Role.officer)
    milestone = world.milestones[0]
    evidence.submit_evidence(
        world.applicant,
        milestone.id,
        "Done.",
        {0: "8"},
        [],
        date(2026, 9, 1),
        upload_folder=Path(current_app.config["UPLOAD_FOLDER"]),
    )
    run_scan(date(2026, 10, 5))
    for reviewer in world.reviewers:
        reviews.decide(reviewer, milestone.id, "request_changes", "More.", date(2026, 10, 5))
    report = run_scan(date(2026, 10, 5))  # sent back long after its due date: overdue at once
    assert report.since == date(2026, 10, 5) and report.changed == 1
    assert report.flagged == 1
    assert {(alert.user_id, str(alert.kind)) for alert in all_alerts()} >= {
        (world.applicant.id, "overdue"),
        (officer.id, "overdue"),
    }
    late = db.session.scalar(select(Milestone.overdue_since).where(Milestone.id == milestone.id))
    assert late == date(2026, 10, 1)
