"""Screening: the rules engine decides whether a submitted application is eligible."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

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


def screening_queue(program_id: int | None = None) -> list[Application]:
    """Applications waiting for an officer, oldest submission first."""
    return list(db.session.scalars(_queue(program_id)))


def queue_query(actor: Actor, program_id: int | None = None) -> Select[tuple[Application]]:
    """The screening queue as a statement, for paging (officers)."""
    require(Action.screen_application, Subject(role=actor.role))
    return _queue(program_id)


def _queue(program_id: int | None) -> Select[tuple[Application]]:
    query = (
        select(Application)
        .where(Application.state.in_(QUEUE_STATES))
        .options(joinedload(Application.organization), joinedload(Application.program))
        .order_by(Application.submitted_on, Application.id)
    )
    if program_id is not None:
        query = query.where(Application.program_id == program_id)
    return query


QUEUE_STATES = (
    ApplicationState.submitted,
    ApplicationState.screened_eligible,
    ApplicationState.screened_ineligible,
    ApplicationState.under_review,
)
