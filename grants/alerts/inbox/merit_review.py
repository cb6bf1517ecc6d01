"""What a merit review alert says and when it is settled.

Its subject is a merit assignment (alerts.scan.merit_review), loaded with the alert
(texts.SUBJECT_LOADS). It is settled once the reviewer has submitted their scores, or the
application has been decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grants.alerts.models import Alert
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.calendar import Day
from grants.core.problems import N_, Problem
from grants.merit_review.queries import IN_REVIEW


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
    was decided (or whose assignment is gone: one is deleted only while open)."""
    found = set()
    for alert in shown:
        if alert.subject_type != SubjectType.merit_assignment:
            continue
        assignment = alert.merit_assignment
        if (
            assignment is None
            or assignment.submitted_at is not None
            or assignment.application.state not in IN_REVIEW
        ):
            found.add(alert.id)
    return found


def _values(alert: Alert) -> dict[str, Any]:
    assignment = alert.merit_assignment
    if assignment is None:  # not kept: an assignment is deleted only while open
        return {"title": "", "program": "", "day": ""}
    application = assignment.application
    return {
        "title": application.title,
        "program": application.program.code,
        "day": Day(assignment.due_on),
    }
