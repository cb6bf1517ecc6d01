"""What the reader of an application may do with it now, for its page and its API resource."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager, selectinload

from grants.accounts.models import Organization
from grants.applications.checks import certified_vcs_query
from grants.applications.facts import application_facts, certifications_by_vc
from grants.applications.models import Application, CoInvestment
from grants.core.actors import Actor
from grants.core.db import Page
from grants.core.errors import NotAllowed, NotFound
from grants.core.lists import (
    Direction,
    Filter,
    Listing,
    ListQuery,
    count_of,
    in_fiscal_year,
    in_order,
    matching,
    page_of,
)
from grants.core.money import Amount
from grants.core.permissions import Action, Subject, decide, require
from grants.core.problems import N_, Problem
from grants.core.states import ApplicationState, can_transition
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


def may_screen(actor: Actor, application: Application) -> bool:
    """The actor's role screens, and the application waits for its screening (the screening
    queue, the decision page and the API alike)."""
    allowed = decide(Action.screen_application, Subject(role=actor.role)).allowed
    return allowed and can_transition(application.state, ApplicationState.screened_eligible)


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


# The columns every list of applications sorts by.
APPLICATION_SORTS = {
    "created": (Application.created_at,),
    "submitted_on": (Application.submitted_on,),
    "title": (Application.title,),
    "organization": (Organization.name,),
    "program": (Program.code,),
    "state": (in_order(Application.state, ApplicationState),),
    "requested_subsidy": (Application.requested_subsidy,),
}
APPLICATIONS = Listing(
    name="applications",
    sorts=APPLICATION_SORTS,
    default_sort="created",
    default_direction=Direction.desc,
    tiebreak=Application.id,
    states=tuple(ApplicationState),
    filters=frozenset({Filter.search, Filter.program, Filter.fiscal_year}),
)


def application_list(actor: Actor, asked: ListQuery) -> Page:
    """A page of the applications the actor may see (officers: all of them; applicants:
    their organisation's; any other role is refused), narrowed and sorted as asked."""
    shown, counted = listed_applications(), counted_applications(asked)
    if not lists_every_application(actor):
        require(Action.view_application, Subject(role=actor.role, is_owner_org=True))
        mine = Application.organization_id == (actor.organization_id or -1)
        shown, counted = shown.where(mine), counted.where(mine)
    counted = narrowed(counted, asked)
    return page_of(narrowed(shown, asked), APPLICATIONS, asked, count=lambda: count_of(counted))


def listed_applications() -> Select[tuple[Application]]:
    """Applications with their organisation and programme (which the lists show and sort by)."""
    return (
        select(Application)
        .join(Organization, Organization.id == Application.organization_id)
        .join(Program, Program.id == Application.program_id)
        .options(contains_eager(Application.organization), contains_eager(Application.program))
    )


def counted_applications(asked: ListQuery) -> Select[Any]:
    """Application ids, with the organisation joined only for a search: what a list's
    count reads."""
    query = select(Application.id)
    if asked.term:
        query = query.join(Organization, Organization.id == Application.organization_id)
    return query


def narrowed(query: Select[Any], asked: ListQuery) -> Select[Any]:
    """`query` (listed_applications) narrowed by the asked state, programme, fiscal year of
    the submission and search term (in the title and the organisation's names)."""
    if asked.state is not None:
        query = query.where(Application.state == asked.state)
    if asked.program_id is not None:
        query = query.where(Application.program_id == asked.program_id)
    if asked.fiscal_year is not None:
        query = query.where(in_fiscal_year(Application.submitted_on, asked.fiscal_year))
    if asked.term:
        names = (Application.title, Organization.name, Organization.name_en)
        query = query.where(matching(asked.term, *names))
    return query


def lists_every_application(actor: Actor) -> bool:
    """Officers see every application; applicants only their organisation's."""
    return decide(Action.view_application, Subject(role=actor.role)).allowed


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
