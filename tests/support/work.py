"""My work's data: one of every officer's task, and a reviewer's and an applicant's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from grants.accounts.models import User
from grants.amendments import service as amendments
from grants.awards.models import ReviewerAssignment
from grants.core.identity import Role
from grants.core.states import MilestoneState
from grants.extensions import db
from grants.investments import service as investments
from grants.milestones.evidence import service as evidence
from tests.support.applications import screened_application, submitted_application
from tests.support.approvals import approve, sibling_grant
from tests.support.factories import make_user, uploads
from tests.support.grants import GrantWorld, make_grant

TODAY = date(2026, 10, 1)


@dataclass
class Office:
    world: GrantWorld
    officer: User
    other_officer: User
    short: GrantWorld  # one eligible reviewer for a quorum of two
    sent_back: GrantWorld  # its first milestone sent back with changes requested


def one_of_each() -> Office:
    """One of every officer's task, and a reviewer's and an applicant's."""
    world = make_grant()
    officer, other_officer = make_user(Role.officer), make_user(Role.officer)
    submitted_application()  # to screen
    screened_application()  # screened already: not to screen
    approve(world, world.milestones[0])  # a tranche ready to release
    # the second milestone's evidence waits for the reviewers
    evidence.submit_evidence(
        world.applicant, world.milestones[1].id, "Done.", {0: "8"}, [], TODAY,
        upload_folder=uploads(),
    )  # fmt: skip
    amendments.request_amendment(
        world.applicant, world.grant.id, "due_date", world.milestones[2].id,
        world.milestones[2].due_date + timedelta(days=30), None, "Delayed", TODAY,
    )  # fmt: skip
    for recorder in (other_officer, officer):  # only another officer's is mine to verify
        investments.record_investment(
            recorder,
            world.grant.id,
            world.vc.id,
            10_000_000,
            TODAY,
            f"Transfer {recorder.id}",
            TODAY,
        )
    short = sibling_grant(world, "MS-TEST-0002")
    db.session.query(ReviewerAssignment).filter_by(grant_id=short.grant.id).delete()
    db.session.add(ReviewerAssignment(grant_id=short.grant.id, reviewer_id=world.reviewers[0].id))
    short.milestones[0].overdue_since = TODAY - timedelta(days=3)  # flagged by the scan
    sent_back = sibling_grant(world, "MS-TEST-0003")
    sent_back.milestones[0].state = MilestoneState.changes_requested
    db.session.commit()
    return Office(world, officer, other_officer, short, sent_back)
