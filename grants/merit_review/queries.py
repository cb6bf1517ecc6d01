"""Merit review's shared reads: an application's rubric and programme settings, reviewers'
conflicts of interest with it, and what the actor may do with it.

Conflicts (grants.core.conflicts decides): a reviewer of the applicant organisation, of an
organisation investing in the application (any co-investor, certified or not), or who
declared a conflict with either organisation or with the application itself. Declarations
are the reviewers' own (accounts.models.ConflictDeclaration); one against an application
holds for its merit review, one against an organisation for everything it takes part in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from fractions import Fraction

from sqlalchemy import exists, select

from grants.accounts.models import ConflictDeclaration, User
from grants.applications.models import Application
from grants.core.actors import Actor, Person, SystemActor
from grants.core.conflicts import ApplicationParties, Candidate, ConflictReason, conflict_reasons
from grants.core.errors import NotAllowed, NotFound
from grants.core.identity import Role
from grants.core.money import parse_ratio
from grants.core.permissions import Action, Subject, decide
from grants.core.problems import N_
from grants.extensions import db
from grants.merit_review.models import MeritAssignment
from grants.merit_review.rules import Aggregation, Normalisation, Settings
from grants.programs.models import Program
from grants.rules.rubric import Rubric, rubric_of

# The application states of the merit review: eligible and not decided yet.
IN_REVIEW = ("screened_eligible", "under_review")


def rubric_for(application: Application) -> Rubric | None:
    """The rubric of the rule set pinned at the application's submission (None: none)."""
    return rubric_of(application.ruleset.document) if application.ruleset else None


def settings_of(program: Program) -> Settings:
    """The programme's merit review settings as plain values."""
    return Settings(
        panel_size=program.merit_panel_size,
        review_days=program.merit_review_days,
        aggregation=Aggregation(program.merit_aggregation),
        normalisation=Normalisation(program.merit_normalisation),
        disagreement=_ratio(program.merit_disagreement),
    )


def _ratio(text: str) -> Fraction:
    try:
        return parse_ratio(text)
    except ValueError:  # stored by the settings use case, which checked it
        return Settings().disagreement


# --- conflicts ---------------------------------------------------------------------------


def candidates(users: Iterable[User | Person]) -> list[Candidate]:
    """The users as conflict candidates, with every declaration they made (one query)."""
    users = list(users)
    orgs: dict[int, set[int]] = defaultdict(set)
    grants: dict[int, set[int]] = defaultdict(set)
    applications: dict[int, set[int]] = defaultdict(set)
    ids = [user.id for user in users]
    if ids:
        query = select(ConflictDeclaration).where(ConflictDeclaration.reviewer_id.in_(ids))
        for declaration in db.session.scalars(query):
            who = declaration.reviewer_id
            for found, value in (
                (orgs, declaration.organization_id),
                (grants, declaration.grant_id),
                (applications, declaration.application_id),
            ):
                if value is not None:
                    found[who].add(value)
    return [
        Candidate(
            user.id,
            user.organization_id,
            frozenset(orgs[user.id]),
            frozenset(grants[user.id]),
            frozenset(applications[user.id]),
        )
        for user in users
    ]


def application_parties(application: Application) -> ApplicationParties:
    investors = frozenset(ci.vc_organization_id for ci in application.co_investments)
    return ApplicationParties(application.id, application.organization_id, investors)


def reviewer_conflicts(
    application: Application, users: Iterable[User | Person]
) -> dict[int, list[ConflictReason]]:
    """Each user's conflict reasons with the application (an empty list when none)."""
    parties = application_parties(application)
    return {c.user_id: conflict_reasons(c, parties) for c in candidates(users)}


def own_conflicts(actor: Actor, application: Application) -> list[ConflictReason]:
    """The actor's own conflict reasons with the application (none for the system)."""
    if isinstance(actor, SystemActor):
        return []
    return reviewer_conflicts(application, [actor])[actor.id]


# --- who may do what --------------------------------------------------------------------


def get_application(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None:
        raise NotFound(N_("Not found."))
    return application


def is_assigned(actor: Actor, application_id: int) -> bool:
    if actor.id is None:
        return False
    query = select(
        exists().where(
            MeritAssignment.application_id == application_id,
            MeritAssignment.reviewer_id == actor.id,
        )
    )
    return bool(db.session.scalar(query))


def application_subject(actor: Actor, application: Application) -> Subject:
    """The actor's relation to the application for the merit review's actions."""
    assigned = actor.role == Role.reviewer and is_assigned(actor, application.id)
    conflicted = assigned and bool(own_conflicts(actor, application))
    return Subject(
        role=actor.role,
        is_owner_org=actor.organization_id is not None
        and actor.organization_id == application.organization_id,
        is_assigned_reviewer=assigned,
        is_conflicted=conflicted,
        state=str(application.state),
    )


def visible_application(actor: Actor, application_id: int) -> tuple[Application, Subject]:
    """The application as its merit review shows it: officers see every one, a reviewer only
    those assigned to them (another answers 404, as one that does not exist)."""
    application = get_application(application_id)
    subject = application_subject(actor, application)
    if not decide(Action.view_merit_review, subject).allowed:
        if actor.role == Role.reviewer:
            raise NotFound(N_("Not found."))
        raise NotAllowed(N_("Your role does not allow this."))
    return application, subject
