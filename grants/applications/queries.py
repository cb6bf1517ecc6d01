"""What the reader of an application may do with it now, for its page and its API resource."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from grants.accounts.models import Organization
from grants.applications.checks import certified_vcs_query
from grants.applications.facts import application_facts, certifications_by_vc
from grants.applications.models import Application, CoInvestment
from grants.applications.screening.queries import may_screen
from grants.core.actors import Actor
from grants.core.errors import NotAllowed, NotFound
from grants.core.money import Amount
from grants.core.permissions import Action, Subject, decide, require
from grants.core.problems import N_, Problem
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.programs.models import Program
from grants.rules import Phase, Trace, evaluate
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet

# The applicant still edits, submits or withdraws the application: plan warnings apply.
WARNED_STATES = (ApplicationState.draft, ApplicationState.submitted)


@dataclass(frozen=True)
class ApplicationActions:
    may_edit: bool
    may_submit: bool
    may_withdraw: bool
    may_screen: bool


def application_actions(actor: Actor, application: Application) -> ApplicationActions:
    """The permission table's answers for this actor and the application as it stands."""
    relation = subject(actor, application)
    return ApplicationActions(
        may_edit=decide(Action.edit_application, relation).allowed,
        may_submit=decide(Action.submit_application, relation).allowed,
        may_withdraw=decide(Action.withdraw_application, relation).allowed,
        may_screen=may_screen(actor, application),
    )


def application_for(actor: Actor, application_id: int, action: Action) -> Application:
    """The application, when the actor may do `action` with it now: a page asks before it
    reads a form (NotAllowed for another's, Conflict for one past that state)."""
    application = get_application(actor, application_id)
    require(action, subject(actor, application))
    return application


def unrevealed_application(actor: Actor, application_id: int) -> Application:
    """The application, if the actor may see it; another organisation's is not revealed to
    an applicant (NotFound, as for an id that does not exist). A role that may not see
    applications at all is refused (NotAllowed)."""
    try:
        return get_application(actor, application_id)
    except NotAllowed:
        mine_only = Subject(role=actor.role, is_owner_org=True)
        if decide(Action.view_application, mine_only).allowed:
            raise NotFound(N_("Not found.")) from None
        raise


def tranche_mismatch(total: int, application: Application) -> Problem:
    return N_(
        "The tranches add up to %(total)s but the requested subsidy is %(requested)s.",
        total=Amount(total),
        requested=Amount(application.requested_subsidy),
    )


def preview_trace(application: Application, today: date) -> Trace | None:
    """Eligibility of the application as it stands, under the rule set in force `today`.

    Read-only; None when the programme has no published rule set in force yet.
    """
    found = preview_with_ruleset(application, today)
    return None if found is None else found[1]


def preview_with_ruleset(application: Application, today: date) -> tuple[RuleSet, Trace] | None:
    """The rule set in force `today` and the application's eligibility under it (read-only)."""
    ruleset = rulesets.in_force(application.program_id, today)
    return None if ruleset is None else (ruleset, eligibility(application, ruleset, today))


def stored_trace(application: Application) -> Trace | None:
    """The eligibility trace stored at submission, None for a draft."""
    stored = application.eligibility_trace
    return None if stored is None else Trace.from_dict(stored)


def eligibility(application: Application, ruleset: Any, today: date) -> Trace:
    certs = certifications_by_vc(ci.vc_organization_id for ci in application.co_investments)
    facts = application_facts(application, today, certs)
    return evaluate(rulesets.compiled(ruleset), Phase.ELIGIBILITY, facts)


def plan_warnings(application: Application) -> list[Problem]:
    """What would stop a submission although each piece was saved: shown on the page early,
    while the application is still the applicant's to edit or withdraw, not afterwards."""
    if application.state not in WARNED_STATES:
        return []
    total = sum(m.tranche_amount for m in application.plan)
    if application.plan and total != application.requested_subsidy:
        return [tranche_mismatch(total, application)]
    return []


def get_application(actor: Actor, application_id: int) -> Application:
    """The application with its plan and co-investments, if the actor may see it."""
    query = (
        select(Application)
        .where(Application.id == application_id)
        .options(
            selectinload(Application.plan),
            selectinload(Application.co_investments).joinedload(CoInvestment.vc),
        )
    )
    application = db.session.scalar(query)
    if application is None:
        raise NotFound(N_("Not found."))
    require(Action.view_application, subject(actor, application))
    return application


def visible_applications(
    actor: Actor, state: str | None = None, program_id: int | None = None
) -> Select[tuple[Application]]:
    """The applications the actor may see, newest first, as a statement for paging.

    A role that may view any application (officers) sees them all; a role that may view
    only its organisation's (applicants) sees those; any other role is refused.
    """
    query = (
        select(Application)
        .options(selectinload(Application.program), selectinload(Application.organization))
        .order_by(Application.created_at.desc(), Application.id.desc())
    )
    if not decide(Action.view_application, Subject(role=actor.role)).allowed:
        require(Action.view_application, Subject(role=actor.role, is_owner_org=True))
        query = query.where(Application.organization_id == actor.organization_id)
    if state is not None:
        query = query.where(Application.state == state)
    if program_id is not None:
        query = query.where(Application.program_id == program_id)
    return query


def my_applications(actor: Actor) -> list[Application]:
    require(Action.create_application, Subject(role=actor.role))
    if actor.organization_id is None:
        return []
    query = (
        select(Application)
        .where(Application.organization_id == actor.organization_id)
        .options(selectinload(Application.program))
        .order_by(Application.created_at.desc(), Application.id.desc())
    )
    return list(db.session.scalars(query))


def investors(application: Application) -> list[tuple[Organization, bool]]:
    """The organisations that may invest in `application` (every one but its own), each with
    whether it is in the certified-VC registry: registered VCs first, then by name."""
    registered = certified_vcs_query()
    query = (
        select(Organization, Organization.id.in_(registered))
        .where(Organization.id != application.organization_id)
        .order_by(Organization.id.not_in(registered), Organization.name, Organization.id)
    )
    return [(org, bool(certified)) for org, certified in db.session.execute(query)]


def open_programs(today: date, keep: int | None = None) -> list[Program]:
    """Programmes still taking applications (or about to), plus `keep` (a draft's own)."""
    query = select(Program).where(
        (Program.application_closes >= today) | (Program.id == (keep or -1))
    )
    return list(db.session.scalars(query.order_by(Program.application_closes, Program.code)))


def subject(actor: Actor, application: Application) -> Subject:
    owner = actor.organization_id is not None and actor.organization_id == (
        application.organization_id
    )
    return Subject(role=actor.role, is_owner_org=owner, state=str(application.state))
