"""The demo's call under merit review (MR-DEVICE-1): a rubric, reviewers' scores, a funding
line; made through the use cases, so the audit log has every step."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from grants.alerts.models import Alert
from grants.applications.models import Application
from grants.core.models import AuditEvent
from grants.core.states import ApplicationState
from grants.demo import merit as demo_merit
from grants.demo.service import load_demo
from grants.extensions import db
from grants.merit_review.feedback.queries import feedback
from grants.merit_review.models import MeritAssignment
from grants.merit_review.ranking.queries import ranking_of
from grants.programs.models import Program
from grants.rules.rubric import rubric_of
from grants.rulesets.models import RuleSet

TODAY = date(2026, 11, 25)


def _application(title: str) -> Application:
    return db.session.scalars(select(Application).where(Application.title == title)).one()


@pytest.mark.parametrize("today", [TODAY, date(2027, 3, 31)])
def test_the_demo_call_is_ranked_with_a_funding_line(app: Flask, today: date) -> None:
    load_demo(today, app.config)
    program = db.session.scalars(select(Program).where(Program.code == demo_merit.CODE)).one()
    found = ranking_of(program.id, today)
    assert found.rubric is not None and found.rubric.hearing is None
    assert [c.weight for c in found.rubric.written.criteria] == [20, 25, 25, 15, 15]
    titles = [row.title for row in found.ranked]
    assert titles == [
        demo_merit.ECG,
        demo_merit.ENZYME,
        demo_merit.PATHOLOGY,
        demo_merit.COCHLEAR,
        demo_merit.AMR_CHIP,
    ]
    assert found.line == 3  # the pools hold three of the four undecided ones
    pathology = found.row(_application(demo_merit.PATHOLOGY).id)
    assert pathology is not None and pathology.disagreement
    document = db.session.scalars(select(RuleSet.document).where(RuleSet.program_id == program.id))
    assert rubric_of(document.one()) is not None  # published with the rule set


def test_the_demo_waits_for_a_reviewer_and_gives_feedback(app: Flask) -> None:
    load_demo(TODAY, app.config)
    open_ones = db.session.scalars(
        select(MeritAssignment).where(MeritAssignment.submitted_at.is_(None))
    ).all()
    assert [a.application.title for a in open_ones] == [demo_merit.COCHLEAR]
    alerts = Counter(
        str(a.kind)
        for a in db.session.scalars(select(Alert))
        if a.subject_type == "merit_assignment"
    )
    assert alerts == {"merit_review_requested": 1, "merit_review_due": 1}
    rejected = _application(demo_merit.AMR_CHIP)
    assert rejected.state == ApplicationState.rejected
    applicant = next(u for u in rejected.organization.users)
    (written,) = feedback(applicant, rejected.id).stages
    assert written.reviewers == 2
    actions = Counter(db.session.scalars(select(AuditEvent.action)))
    assert actions["merit.submit_scores"] == 9 and actions["merit.assign"] == 10
