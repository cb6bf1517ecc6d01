"""Use cases for applicants: drafts, milestone plans, co-investments, submission, withdrawal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select

from grants.accounts.queries import active_officers
from grants.applications.checks import (
    APPLICATION_FIELDS,
    ApplicationData,
    CoInvestmentData,
    CriterionData,
    MilestoneData,
    application_errors,
    co_investment_errors,
    plan_errors,
)
from grants.applications.models import Application, CoInvestment, PlannedMilestone
from grants.applications.queries import eligibility, subject, tranche_mismatch
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.calendar import Day
from grants.core.db import use_case
from grants.core.errors import NotAllowed, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_
from grants.core.states import ApplicationState, transition
from grants.core.text import figure
from grants.extensions import db
from grants.programs.models import Program
from grants.rulesets import service as rulesets

# ---- drafts ------------------------------------------------------------------------------


@use_case
def create_draft(actor: Actor, data: ApplicationData) -> Application:
    require(Action.create_application, Subject(role=actor.role))
    if actor.organization_id is None:
        raise NotAllowed(N_("Only members of an organization can apply."))
    data = _normalized(data)
    _check_data(data)
    application = Application(
        organization_id=actor.organization_id,
        created_by_id=actor.id,
        state=ApplicationState.draft,
        **_values(data),
    )
    db.session.add(application)
    audit.record(actor, "application.create", application, after=snapshot(application))
    db.session.commit()
    return application


@use_case
def update_draft(actor: Actor, application_id: int, data: ApplicationData) -> Application:
    application = locked(application_id)
    require(Action.edit_application, subject(actor, application))
    data = _normalized(data)
    _check_data(data)
    before = snapshot(application)
    for key, value in _values(data).items():
        setattr(application, key, value)
    application.updated_at = utcnow()
    audit.record(actor, "application.update", application, before, snapshot(application))
    db.session.commit()
    return application


@use_case
def replace_plan(
    actor: Actor, application_id: int, milestones: Sequence[MilestoneData]
) -> Application:
    """Replace the whole milestone plan, numbered 1..n in the order given."""
    application = locked(application_id)
    require(Action.edit_application, subject(actor, application))
    milestones = [_stripped_milestone(m) for m in milestones]
    errors = plan_errors(milestones, application.project_start, application.project_end)
    if errors:
        raise RuleViolation(N_("The milestone plan could not be saved."), errors)
    before = plan_snapshot(application)
    application.plan.clear()
    db.session.flush()  # delete the old rows before their sequence numbers are reused
    for sequence, milestone in enumerate(milestones, start=1):
        application.plan.append(
            PlannedMilestone(
                sequence=sequence,
                title=milestone.title,
                criteria=[
                    {"metric": c.metric, "target": c.target, "unit": c.unit}
                    for c in milestone.criteria
                ],
                due_date=milestone.due_date,
                tranche_amount=milestone.tranche_amount,
            )
        )
    application.updated_at = utcnow()
    audit.record(actor, "application.replace_plan", application, before, plan_snapshot(application))
    db.session.commit()
    return application


@use_case
def set_co_investments(
    actor: Actor, application_id: int, items: Sequence[CoInvestmentData]
) -> Application:
    """Replace the declared co-investments (certified VCs and any other investors)."""
    application = locked(application_id)
    require(Action.edit_application, subject(actor, application))
    errors = co_investment_errors(items, application.organization_id)
    if errors:
        raise RuleViolation(N_("The co-investments could not be saved."), errors)
    before = co_investment_snapshot(application)
    application.co_investments.clear()
    db.session.flush()  # the (application, VC) pairs may be declared again
    for item in items:
        application.co_investments.append(
            CoInvestment(
                vc_organization_id=item.vc_organization_id,
                committed_amount=item.committed_amount,
                is_lead=bool(item.is_lead),
            )
        )
    application.updated_at = utcnow()
    after = co_investment_snapshot(application)
    audit.record(actor, "application.set_co_investments", application, before, after)
    db.session.commit()
    return application


# ---- submission and withdrawal ------------------------------------------------------------


@use_case
def submit(actor: Actor, application_id: int, today: date) -> Application:
    """Submit a draft: pin the rule set in force today and store its eligibility trace."""
    application = locked(application_id)
    require(Action.submit_application, subject(actor, application))
    program = application.program
    if not program.application_opens <= today <= program.application_closes:
        raise RuleViolation(
            N_(
                "Applications to this programme are accepted from %(opens)s to %(closes)s.",
                opens=Day(program.application_opens),
                closes=Day(program.application_closes),
            )
        )
    _check_ready(application)
    ruleset = rulesets.in_force(program.id, today)
    if ruleset is None:
        raise RuleViolation(
            N_("No published rule set of this programme is in force yet. Try again later.")
        )
    trace = eligibility(application, ruleset, today)
    application.state = transition(application.state, ApplicationState.submitted)
    application.ruleset_id = ruleset.id
    application.eligibility_trace = trace.to_dict()
    application.submitted_on = today
    application.updated_at = utcnow()
    after = {
        "state": str(application.state),
        "submitted_on": today.isoformat(),
        "ruleset_id": ruleset.id,
        "ruleset_version": ruleset.version,
        "eligible": trace.ok,
        "blocking": [row.rule_id for row in trace.blocking],
    }
    audit.record(actor, "application.submit", application, {"state": "draft"}, after)
    notify.record(
        actor,
        active_officers(),
        AlertKind.application_submitted,
        SubjectType.application,
        application.id,
        today=today,
    )
    db.session.commit()
    return application


@use_case
def withdraw(actor: Actor, application_id: int) -> Application:
    application = locked(application_id)
    require(Action.withdraw_application, subject(actor, application))
    before = {"state": str(application.state)}
    application.state = transition(application.state, ApplicationState.withdrawn)
    application.updated_at = utcnow()
    audit.record(actor, "application.withdraw", application, before, {"state": "withdrawn"})
    db.session.commit()
    return application


def _check_ready(application: Application) -> None:
    """What may have drifted since the pieces were saved, and what only a whole plan shows."""
    errors = application_errors(_data_of(application), application.program)
    plan = [_stored_milestone(m) for m in application.plan]
    errors.update(plan_errors(plan, application.project_start, application.project_end))
    if not plan:
        errors.setdefault("milestones", []).append(N_("Add at least one milestone."))
    elif (total := sum(m.tranche_amount for m in application.plan)) != (
        application.requested_subsidy
    ):
        errors.setdefault("milestones", []).append(tranche_mismatch(total, application))
    if errors:
        raise RuleViolation(N_("The application cannot be submitted yet."), errors)


# ---- eligibility traces -------------------------------------------------------------------


# ---- reading --------------------------------------------------------------------------------


# ---- helpers ---------------------------------------------------------------------------------


def locked(application_id: int) -> Application:
    """The application, row-locked and re-read, so that concurrent use cases serialise."""
    query = (
        select(Application)
        .where(Application.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    application = db.session.scalar(query)
    if application is None:
        raise NotFound(N_("Not found."))
    return application


def _check_data(data: ApplicationData) -> None:
    program = db.session.get(Program, data.program_id) if _is_id(data.program_id) else None
    errors = application_errors(data, program)
    if errors:
        raise RuleViolation(N_("The application could not be saved."), errors)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _normalized(data: ApplicationData) -> ApplicationData:
    return replace(data, title=(data.title or "").strip())


def _values(data: ApplicationData) -> dict[str, Any]:
    return {name: getattr(data, name) for name in APPLICATION_FIELDS}


def _data_of(application: Application) -> ApplicationData:
    return ApplicationData(**{name: getattr(application, name) for name in APPLICATION_FIELDS})


def _stripped_milestone(milestone: MilestoneData) -> MilestoneData:
    """Trimmed, and a criterion's target as a figure in plain characters ("≦１０" is "≦10")."""
    return replace(
        milestone,
        title=(milestone.title or "").strip(),
        criteria=tuple(
            CriterionData((c.metric or "").strip(), figure(c.target or ""), (c.unit or "").strip())
            for c in milestone.criteria
        ),
    )


def _stored_milestone(milestone: PlannedMilestone) -> MilestoneData:
    return MilestoneData(
        title=milestone.title,
        criteria=tuple(
            CriterionData(c.get("metric", ""), c.get("target", ""), c.get("unit", ""))
            for c in milestone.criteria
        ),
        due_date=milestone.due_date,
        tranche_amount=milestone.tranche_amount,
    )


def snapshot(application: Application) -> dict[str, Any]:
    values = _values(_data_of(application))
    for key in ("project_start", "project_end"):
        values[key] = values[key].isoformat()
    return {**values, "state": str(application.state)}


def plan_snapshot(application: Application) -> dict[str, Any]:
    return {
        "milestones": [
            {
                "sequence": m.sequence,
                "title": m.title,
                "due_date": m.due_date.isoformat(),
                "tranche_amount": m.tranche_amount,
                "criteria": len(m.criteria),
            }
            for m in application.plan
        ]
    }


def co_investment_snapshot(application: Application) -> dict[str, Any]:
    return {
        "co_investments": [
            {
                "vc_organization_id": ci.vc_organization_id,
                "committed_amount": ci.committed_amount,
                "is_lead": ci.is_lead,
            }
            for ci in application.co_investments
        ]
    }
