"""Screening: the rules engine decides whether a submitted application is eligible."""

from __future__ import annotations

from datetime import date

from grants.accounts.queries import organisation_applicants
from grants.applications.models import Application
from grants.applications.queries import stored_trace
from grants.applications.service import locked
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.db import use_case
from grants.core.models import utcnow
from grants.core.permissions import Action, Subject, require
from grants.core.states import ApplicationState, transition
from grants.extensions import db


@use_case
def screen(actor: Actor, application_id: int, today: date) -> Application:
    """Submitted -> screened eligible or ineligible, as the stored eligibility trace says."""
    require(Action.screen_application, Subject(role=actor.role))
    application = locked(application_id)
    trace = stored_trace(application)
    eligible = trace is not None and trace.ok
    target = (
        ApplicationState.screened_eligible if eligible else ApplicationState.screened_ineligible
    )
    before = {"state": str(application.state)}
    application.state = transition(application.state, target)
    application.updated_at = utcnow()
    after = {
        "state": str(target),
        "blocking": [row.rule_id for row in trace.blocking] if trace else [],
    }
    audit.record(actor, "application.screen", application, before, after)
    notify.record(
        actor,
        organisation_applicants(application.organization_id),
        AlertKind.application_screened,
        SubjectType.application,
        application.id,
        today=today,
    )
    db.session.commit()
    return application
