"""portfolio.home.queries: the home page's read queries, with a fixed `today`."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from grants.awards.models import Disbursement
from grants.core.errors import DomainError, NotAllowed
from grants.core.identity import Role
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.milestones.evidence import service as evidence
from grants.portfolio.home import queries as dashboard
from grants.programs.models import BudgetPool
from tests.support.alerts import run_scan
from tests.support.approvals import approve
from tests.support.factories import make_user
from tests.support.grants import make_grant

# make_grant's milestones fall due on 2026-09-30, 2027-03-30 and 2027-09-30.
TODAY = date(2026, 10, 10)


def test_grant_summary_on_a_fixed_day(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    first = world.milestones[0]
    pool = db.session.query(BudgetPool).filter_by(fiscal_year=first.fiscal_year).one()
    db.session.add(
        Disbursement(
            milestone_id=first.id,
            grant_id=world.grant.id,
            budget_pool_id=pool.id,
            amount=first.tranche_amount,
            fiscal_year=first.fiscal_year,
            released_by_id=make_user(Role.officer).id,
        )
    )
    db.session.commit()
    mine = dashboard.applicant_dashboard(world.applicant, TODAY)
    [grant] = mine.grants
    assert (grant.award, grant.released, grant.remaining) == (600_000_000, 100_000_000, 500_000_000)
    assert [s.state for s in grant.steps] == [
        MilestoneState.approved,
        MilestoneState.planned,
        MilestoneState.planned,
    ]
    assert [s.released for s in grant.steps] == [True, False, False]
    assert grant.due_next is not None and grant.due_next.milestone_id == world.milestones[1].id
    assert grant.due_next.days_left == (date(2027, 3, 30) - TODAY).days
    assert grant.overdue_count == 0
    assert [a.application_id for a in mine.applications] == [world.grant.application_id]


def test_overdue_is_the_scan_s_flag_and_counts_days_from_it(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "ALERT_GRACE_DAYS", 5)
    world = make_grant()
    run_scan(date(2026, 10, 5))  # due 30 September + 5 days' grace: not overdue yet
    [grant] = dashboard.applicant_dashboard(world.applicant, TODAY).grants
    step = grant.steps[0]
    assert not step.overdue and step.days_overdue == 0 and step.days_left == -10
    run_scan(date(2026, 10, 6))  # the first overdue day
    [grant] = dashboard.applicant_dashboard(world.applicant, TODAY).grants
    step = grant.steps[0]
    assert step.overdue and step.overdue_since == date(2026, 10, 6)
    assert step.days_overdue == 5 and grant.due_next == step and grant.overdue_count == 1
    assert not grant.steps[1].overdue and grant.steps[1].days_overdue == 0


@pytest.mark.parametrize(
    ("states", "grant_state", "taking"),
    [
        (("planned", "planned", "planned"), "active", [True, False, False]),
        (("approved", "changes_requested", "planned"), "active", [False, True, False]),
        (("approved", "submitted", "planned"), "active", [False, False, False]),
        (("rejected", "planned", "planned"), "active", [False, False, False]),  # a no-go
        (("approved", "approved", "planned"), "suspended", [False, False, False]),
    ],
)
def test_the_steps_that_take_evidence_follow_the_evidence_rule(
    app: Flask, states: tuple[str, ...], grant_state: str, taking: list[bool]
) -> None:
    world = make_grant()
    for milestone, state in zip(world.milestones, states, strict=True):
        milestone.state = MilestoneState(state)
    world.grant.state = GrantState(grant_state)
    db.session.commit()
    [grant] = dashboard.applicant_dashboard(world.applicant, TODAY).grants
    assert [step.takes_evidence for step in grant.steps] == taking
    for milestone, takes in zip(world.milestones, taking, strict=True):
        # the same answer as the authoritative check the evidence form asks
        try:
            evidence.check_may_submit(world.applicant, milestone)
        except DomainError:
            assert not takes, milestone.sequence
        else:
            assert takes, milestone.sequence


def test_officer_summary_counts(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[1])
    world.milestones[2].overdue_since = TODAY
    db.session.commit()
    summary = dashboard.officer_summary(make_user(Role.officer))
    # milestone 1 is past due but not flagged (no scan has run): only milestone 3 counts
    assert summary == dashboard.OfficerSummary(0, 0, 1, 1)
    world.milestones[0].overdue_since = date(2026, 10, 1)
    db.session.commit()
    assert dashboard.officer_summary(make_user(Role.officer)).overdue_milestones == 2


def test_each_summary_belongs_to_its_role(app: Flask) -> None:
    world = make_grant()
    with pytest.raises(NotAllowed):
        dashboard.applicant_dashboard(make_user(Role.officer), TODAY)
    for role in (Role.applicant, Role.admin, Role.reviewer):
        with pytest.raises(NotAllowed):
            dashboard.officer_summary(make_user(role))
    with pytest.raises(NotAllowed):
        dashboard.reviewer_waiting(world.applicant)
    assert dashboard.reviewer_waiting(world.reviewers[0]) == 0
