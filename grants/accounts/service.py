"""Use cases for organisations and user accounts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from grants.accounts.credentials.rules import LinkPurpose, MailKind
from grants.accounts.credentials.service import CredentialMail, issue_link, revoke_links
from grants.accounts.models import Organization, User
from grants.accounts.queries import user_list
from grants.accounts.role_changes import service as role_changes
from grants.accounts.role_changes.rules import Access
from grants.accounts.rules import (
    corporate_number_error,
    is_valid_email,
    normalize_corporate_number,
    normalize_email,
)
from grants.core import audit
from grants.core.actors import Actor
from grants.core.audit import Named
from grants.core.db import Page, begin_writing, use_case
from grants.core.errors import NotFound, RuleViolation
from grants.core.identity import Locale, OrgKind, Role
from grants.core.lists import ListQuery
from grants.core.models import utcnow
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem
from grants.extensions import db

# Compared against when the e-mail is unknown, so that both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@dataclass(frozen=True)
class OrganizationData:
    name: str
    kind: OrgKind
    name_en: str | None = None
    corporate_number: str | None = None
    listed: bool = False
    rd_base_in_japan: bool = True


@dataclass(frozen=True)
class UserData:
    email: str
    name: str
    role: Role
    locale: Locale = Locale.ja
    organization_id: int | None = None
    active: bool = True


@use_case
def create_organization(actor: Actor, data: OrganizationData) -> Organization:
    require(Action.manage_organizations, Subject(role=actor.role))
    data = _normalized_organization(data)
    _check_organization(data, None)
    org = Organization(**asdict(data))
    db.session.add(org)
    audit.record(actor, "organization.create", org, after=organization_snapshot(org))
    db.session.commit()
    return org


@use_case
def update_organization(actor: Actor, org_id: int, data: OrganizationData) -> Organization:
    require(Action.manage_organizations, Subject(role=actor.role))
    org = _get(Organization, org_id)
    data = _normalized_organization(data)
    _check_organization(data, org_id)
    before = organization_snapshot(org)
    for key, value in asdict(data).items():
        setattr(org, key, value)
    audit.record(actor, "organization.update", org, before, organization_snapshot(org))
    db.session.commit()
    return org


@use_case
def create_user(
    actor: Actor, data: UserData, *, now: datetime, settings: Mapping[str, Any]
) -> tuple[User, CredentialMail]:
    """A new account without a password, and the invitation e-mail for the edge to send: its
    owner sets the password through the link (accounts.credentials). `settings`:
    INVITATION_HOURS. An active officer or administrator waits, inactive, for a second
    administrator to confirm the role (role_changes)."""
    require(Action.manage_users, Subject(role=actor.role))
    data = _normalized(data)
    _check_user(data, None)
    user = User(**asdict(data), password_hash=None)
    db.session.add(user)
    role_changes.hold(actor, user, None)  # an officer or administrator waits for a second one
    audit.record(actor, "user.create", user, after=user_snapshot(user))
    invitation = issue_link(actor, user, LinkPurpose.invitation, now, settings, MailKind.invitation)
    db.session.commit()
    return user, invitation


@use_case
def update_user(actor: Actor, user_id: int, data: UserData) -> User:
    """Change an account (never its password: that is its owner's). A new e-mail address
    ends the links e-mailed to the old one. Making it an active officer or administrator
    waits for a second administrator (role_changes): the account keeps its role and activity
    meanwhile."""
    require(Action.manage_users, Subject(role=actor.role))
    user = _get(User, user_id)
    data = _normalized(data)
    _check_user(data, user_id)
    _keep_an_administrator(user, data)
    before = user_snapshot(user)
    access = Access(user.role, user.active)
    moved = user.email != data.email
    for key, value in asdict(data).items():
        setattr(user, key, value)
    role_changes.hold(actor, user, access)  # a role given waits for a second administrator
    after = user_snapshot(user)
    if moved and (revoked := revoke_links(user, utcnow())):
        after["links_revoked"] = revoked
    audit.record(actor, "user.update", user, before, after)
    db.session.commit()
    return user


def _keep_an_administrator(user: User, data: UserData) -> None:
    """Someone must stay able to manage the accounts: the last active administrator keeps
    the role and stays active (a refusal, not a lock-out to be fixed in the database)."""
    if not (user.role == Role.admin and user.active):
        return
    if data.role == Role.admin and data.active:
        return
    # Locked, so that two administrators demoting each other at once cannot both succeed.
    admins = db.session.scalars(
        select(User.id).where(User.role == Role.admin, User.active.is_(True)).with_for_update()
    ).all()
    if set(admins) - {user.id}:
        return
    message = N_(
        "This is the only active administrator: make another account an active administrator first."
    )
    field = "role" if data.role != Role.admin else "active"
    raise RuleViolation(N_("The account could not be saved."), {field: [message]})


@use_case
def set_own_locale(actor: User, locale: Locale) -> None:
    """A signed-in user switches language; the choice is kept on the account."""
    if actor.locale == locale:
        return
    before = {"locale": str(actor.locale)}
    actor.locale = locale
    audit.record(actor, "user.set_locale", actor, before, {"locale": str(locale)})
    db.session.commit()


@use_case
def end_sessions(actor: User) -> None:
    """A user signs out: every session of theirs ends, a copied cookie included."""
    actor.session_version += 1
    audit.record(actor, "user.sign_out", actor)
    db.session.commit()


def check_password(email: str, password: str) -> User | None:
    """The active user with these credentials; None otherwise (in the same time), also
    for an account that has not set its password yet. It signs
    no one in: record_sign_in does, once any second factor was given too."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


@use_case
def record_sign_in(user: User, second_factor: str | None) -> None:
    """A user signed in (with `second_factor`, the way their second factor was given, if any)."""
    user.last_login_at = utcnow()
    audit.record(user, "user.login", user, after={"second_factor": second_factor})
    db.session.commit()


def _normalized(data: UserData) -> UserData:
    return UserData(**(asdict(data) | {"email": normalize_email(data.email)}))


def _normalized_organization(data: OrganizationData) -> OrganizationData:
    number = data.corporate_number
    return replace(data, corporate_number=normalize_corporate_number(number or "") or None)


def _check_organization(data: OrganizationData, org_id: int | None) -> None:
    errors: dict[str, list[Problem]] = {}
    if not data.name.strip():
        errors["name"] = [N_("A name is required.")]
    if data.corporate_number:
        problem = corporate_number_error(data.corporate_number)
        if problem:
            errors["corporate_number"] = [corporate_number_message(problem)]
        elif _taken(Organization.corporate_number, data.corporate_number, Organization.id, org_id):
            errors["corporate_number"] = [N_("Another organization has this corporate number.")]
    if errors:
        raise RuleViolation(N_("The organization could not be saved."), errors)


def corporate_number_message(problem: str) -> Problem:
    return {
        "length": N_("A corporate number has exactly 13 digits."),
        "digits": N_("A corporate number contains digits only."),
        "check_digit": N_("The check digit (first digit) of this corporate number is wrong."),
    }[problem]


def _check_user(data: UserData, user_id: int | None) -> None:
    errors: dict[str, list[Problem]] = {}
    if not is_valid_email(data.email):
        errors["email"] = [N_("Enter a valid e-mail address.")]
    elif _taken(User.email, data.email, User.id, user_id):
        errors["email"] = [N_("Another account uses this e-mail address.")]
    if not data.name.strip():
        errors["name"] = [N_("A name is required.")]
    if (
        data.organization_id is not None
        and db.session.get(Organization, data.organization_id) is None
    ):
        errors["organization_id"] = [N_("Choose an existing organization.")]
    if errors:
        raise RuleViolation(N_("The account could not be saved."), errors)


def _taken(column: Any, value: str, id_column: Any, own_id: int | None) -> bool:
    query = select(func.count()).where(column == value)
    if own_id is not None:
        query = query.where(id_column != own_id)
    return bool(db.session.scalar(query))


def _get(model: type[Any], object_id: int) -> Any:
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(N_("Not found."))
    return obj


def organization_snapshot(org: Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "name_en": org.name_en,
        "kind": str(org.kind),
        "corporate_number": org.corporate_number,
        "listed": org.listed,
        "rd_base_in_japan": org.rd_base_in_japan,
    }


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": str(user.role),
        "locale": str(user.locale),
        "organization_id": user.organization_id,
        "active": user.active,
    }


# --- administrators reading personal data: every read is audited -------------------------


@use_case
def list_users(actor: Actor, asked: ListQuery) -> Page:
    """A page of accounts as an administrator asked for it (state, role, search, sort); the
    audit log records who saw which accounts."""
    require(Action.manage_users, Subject(role=actor.role))
    begin_writing()  # the audit row is written in a GET request
    found = user_list(actor, asked)
    ids = [user.id for user in found.items]
    after = {"search": asked.term or None, "page": found.page, "user_ids": ids}
    audit.record(actor, "user.list", Named("user_account", "list"), after=after)
    db.session.commit()
    _reload(ids)
    return found


@use_case
def view_user(actor: Actor, user_id: int) -> User:
    """One account's details for an administrator; the audit log records the view."""
    require(Action.manage_users, Subject(role=actor.role))
    begin_writing()  # the audit row is written in a GET request
    user = _get(User, user_id)
    audit.record(actor, "user.view", user)
    db.session.commit()
    _reload([user.id])
    return user


def _reload(user_ids: list[int]) -> None:
    """The accounts read again in one statement (the commit expired them), with their
    organisations, for the page that shows them."""
    if user_ids:
        query = select(User).where(User.id.in_(user_ids)).options(selectinload(User.organization))
        db.session.scalars(query).all()


def user_data(user: User) -> UserData:
    """An account's editable fields as they are now."""
    return UserData(
        email=user.email,
        name=user.name,
        role=user.role,
        locale=user.locale,
        organization_id=user.organization_id,
        active=user.active,
    )


@use_case
def set_active(actor: Actor, user_id: int, active: bool) -> User:
    """Let an account sign in again, or stop it; re-activating an officer or administrator
    waits for a second administrator (role_changes), as update_user does."""
    user = _get(User, user_id)
    return update_user(actor, user_id, replace(user_data(user), active=active))
