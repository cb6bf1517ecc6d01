"""Reviewer assignment with conflict-of-interest exclusion, and reviewers' own declarations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from grants.accounts.models import ConflictDeclaration, Organization, User
from grants.awards.models import Grant, ReviewerAssignment
from grants.awards.queries import get_grant, reviewer_conflicts
from grants.awards.rules import grant_allows
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.conflicts import Reasons
from grants.core.db import use_case
from grants.core.errors import Conflict, DomainError, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.extensions import db

NOTE_MAX = 500
# The most grants one bulk assignment may name.
BULK_MAX = 100


@dataclass(frozen=True)
class Outcome:
    """What became of one grant of a bulk assignment: assigned, or refused and why."""

    grant_id: int
    assignment: ReviewerAssignment | None = None
    refusal: DomainError | None = None

    @property
    def assigned(self) -> bool:
        return self.assignment is not None


def assign_each(
    actor: Actor, grant_ids: Sequence[int], reviewer_id: int, today: date
) -> list[Outcome]:
    """Assign one reviewer to several grants, each as its own `assign_reviewer` (its own
    transaction, every check made for that grant), in the order given, once per grant: one
    refusal (a conflict, an assignment already there, a closed grant) stops only its own
    grant. Each grant's outcome, in that order."""
    chosen = list(dict.fromkeys(grant_ids))
    if not chosen or len(chosen) > BULK_MAX:
        message = N_("Choose from 1 to %(n)d grants.", n=BULK_MAX)
        raise RuleViolation(message, {"grant_ids": [message]})
    outcomes = []
    for grant_id in chosen:
        try:
            assignment = assign_reviewer(actor, grant_id, reviewer_id, today)
            outcomes.append(Outcome(grant_id, assignment))
        except DomainError as refusal:
            outcomes.append(Outcome(grant_id, refusal=refusal))
    return outcomes


@use_case
def assign_reviewer(
    actor: Actor, grant_id: int, reviewer_id: int, today: date
) -> ReviewerAssignment:
    """Assign an active, non-conflicted reviewer; a conflicted one is refused with the reasons."""
    require(Action.assign_reviewers, Subject(role=actor.role))
    grant = _open_grant(grant_id)
    reviewer = _reviewer(reviewer_id)
    if reasons := reviewer_conflicts(grant, [reviewer])[reviewer.id]:
        message = N_(
            "%(name)s has a conflict of interest with this grant: %(reasons)s.",
            name=reviewer.name,
            reasons=Reasons(tuple(reasons)),
        )
        raise RuleViolation(message, {"reviewer_id": [message]})
    if _assignment(grant.id, reviewer.id) is not None:
        raise Conflict(N_("This reviewer is already assigned to the grant."))
    assignment = ReviewerAssignment(
        grant_id=grant.id, reviewer_id=reviewer.id, assigned_by_id=actor.id
    )
    db.session.add(assignment)
    after = {"grant_id": grant.id, "reviewer_id": reviewer.id}
    audit.record(actor, "reviewer.assign", assignment, after=after)
    notify.record(
        actor,
        [reviewer.id],
        AlertKind.reviewer_assigned,
        SubjectType.reviewer_assignment,
        assignment.id,
        today=today,
        grant_id=grant.id,
    )
    _commit(N_("This reviewer was assigned at the same time. Reload the page."))
    return assignment


@use_case
def unassign_reviewer(actor: Actor, grant_id: int, reviewer_id: int) -> None:
    require(Action.assign_reviewers, Subject(role=actor.role))
    grant = _open_grant(grant_id)
    assignment = _assignment(grant.id, reviewer_id)
    if assignment is None:
        raise NotFound(N_("This reviewer is not assigned to the grant."))
    before = {"grant_id": grant.id, "reviewer_id": reviewer_id}
    audit.record(actor, "reviewer.unassign", assignment, before=before)
    db.session.delete(assignment)
    _commit(N_("The assignment was changed at the same time. Reload the page."))


@use_case
def declare_conflict(
    actor: Actor, organization_id: int | None, grant_id: int | None, note: str
) -> ConflictDeclaration:
    """A reviewer declares a conflict with an organization and/or a grant."""
    require(Action.declare_conflict, Subject(role=actor.role))
    note = (note or "").strip()
    errors: dict[str, list[Problem]] = {}
    if organization_id is None and grant_id is None:
        errors["organization_id"] = [N_("Choose an organization or a grant.")]
    if organization_id is not None and db.session.get(Organization, organization_id) is None:
        errors["organization_id"] = [N_("Choose an organization from the list.")]
    if grant_id is not None and db.session.get(Grant, grant_id) is None:
        errors["grant_id"] = [N_("Choose a grant from the list.")]
    if not note:
        errors["note"] = [N_("Describe the conflict.")]
    elif len(note) > NOTE_MAX:
        errors["note"] = [N_("At most %(n)d characters.", n=NOTE_MAX)]
    if errors:
        raise RuleViolation(N_("The declaration could not be saved."), errors)
    declaration = ConflictDeclaration(
        reviewer_id=actor.id, organization_id=organization_id, grant_id=grant_id, note=note
    )
    db.session.add(declaration)
    after = {"organization_id": organization_id, "grant_id": grant_id, "note": note}
    audit.record(actor, "conflict.declare", declaration, after=after)
    db.session.commit()
    return declaration


@use_case
def withdraw_conflict(actor: Actor, declaration_id: int) -> None:
    """A reviewer withdraws a declaration of theirs (made by mistake, or the tie ended).

    The row goes (the audit event keeps what it said), and the reviewer's own row is
    stamped changed: the milestone scan then reads again the grants they are assigned to,
    where they may now have to be chased (core.changes cannot see a deleted row)."""
    require(Action.declare_conflict, Subject(role=actor.role))
    declaration = db.session.get(ConflictDeclaration, declaration_id)
    if declaration is None or declaration.reviewer_id != actor.id:
        raise NotFound(N_("There is no such declaration of yours."))
    before = {
        "organization_id": declaration.organization_id,
        "grant_id": declaration.grant_id,
        "application_id": declaration.application_id,
        "note": declaration.note,
    }
    audit.record(actor, "conflict.withdraw", declaration, before=before)
    db.session.delete(declaration)
    db.session.execute(update(User).where(User.id == actor.id).values(role=User.role))
    db.session.commit()


def _open_grant(grant_id: int) -> Grant:
    grant = get_grant(grant_id)
    if not grant_allows(Action.assign_reviewers, grant.state):
        raise Conflict(N_("Reviewers cannot be changed on a closed grant."))
    return grant


def _reviewer(reviewer_id: int) -> User:
    user = db.session.get(User, reviewer_id)
    if user is None or user.role != Role.reviewer or not user.active:
        message = N_("Choose an active user with the reviewer role.")
        raise RuleViolation(message, {"reviewer_id": [message]})
    return user


def _assignment(grant_id: int, reviewer_id: int) -> ReviewerAssignment | None:
    query = select(ReviewerAssignment).where(
        ReviewerAssignment.grant_id == grant_id, ReviewerAssignment.reviewer_id == reviewer_id
    )
    return db.session.scalar(query)


def _commit(race_message: Problem) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(race_message) from None
