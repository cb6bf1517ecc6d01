"""What a merit review alert says, where it leads, and when it is settled.

Its subject is a merit assignment (alerts.scan.merit_review): the reviewer is led to their
scoring page, the officers to the application's panel. It is settled once the reviewer has
submitted their scores, or the application has been decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from grants.alerts.models import Alert
from grants.alerts.rules import AlertKind, SubjectType
from grants.core.calendar import Day
from grants.core.identity import Role
from grants.core.problems import N_, Problem
from grants.extensions import db
from grants.merit_review.models import MeritAssignment
from grants.merit_review.queries import IN_REVIEW


def is_merit(alert: Alert) -> bool:
    return alert.subject_type == SubjectType.merit_assignment


def link(alert: Alert, role: Role | str) -> tuple[str, dict[str, Any]]:
    """The endpoint and values of the page where the recipient acts."""
    if Role(role) == Role.reviewer:
        return "merit_scores.show", {"assignment_id": alert.subject_id}
    return "merit_panels.assignment", {"assignment_id": alert.subject_id}


def description(alert: Alert) -> Problem:
    values = _values(alert)
    if alert.kind == AlertKind.merit_review_requested:
        return N_(
            'You are asked to review application "%(title)s" (%(program)s) by %(day)s.', **values
        )
    if alert.tier == 1:
        return N_('Your review of application "%(title)s" is due on %(day)s.', **values)
    if alert.tier == 2:
        return N_(
            'Your review of application "%(title)s" is overdue: it was due on %(day)s.', **values
        )
    return N_(
        'A reviewer of application "%(title)s" has not submitted the scores due on %(day)s.',
        **values,
    )


def advice(alert: Alert) -> Problem:
    if alert.tier == 3:
        return N_("Please follow the review up with the reviewer, or assign another one.")
    return N_("Please score every criterion of the rubric, with your comments, and submit.")


def settled(shown: Sequence[Alert]) -> set[int]:
    """The merit alerts among `shown` whose assignment was submitted or whose application
    was decided (one statement)."""
    ids = {alert.subject_id for alert in shown if is_merit(alert)}
    if not ids:
        return set()
    query = select(MeritAssignment).where(MeritAssignment.id.in_(ids))
    done = {
        a.id
        for a in db.session.scalars(query)
        if a.submitted_at is not None or a.application.state not in IN_REVIEW
    }
    return {alert.id for alert in shown if is_merit(alert) and alert.subject_id in done}


def _values(alert: Alert) -> dict[str, Any]:
    assignment = db.session.get(MeritAssignment, alert.subject_id)
    if assignment is None:  # not kept: an assignment is deleted only while open
        return {"title": "", "program": "", "day": ""}
    application = assignment.application
    return {
        "title": application.title,
        "program": application.program.code,
        "day": Day(assignment.due_on),
    }
