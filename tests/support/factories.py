"""Test data through the real services (so that audit rows exist too)."""

from __future__ import annotations

import itertools
from pathlib import Path

from flask import current_app

from grants.accounts import service as accounts
from grants.accounts.credentials import service as credentials
from grants.accounts.credentials.rules import LinkPurpose
from grants.accounts.models import Organization, User
from grants.accounts.rules import corporate_number_check_digit
from grants.core.actors import SYSTEM
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import utcnow
from grants.extensions import db

# Strong enough for the installation's rules (12 characters or more, hard to guess).
PASSWORD = "correct-horse-1"
_counter = itertools.count(1)


def valid_corporate_number(serial: int) -> str:
    base = f"{serial:012d}"
    return f"{corporate_number_check_digit(base)}{base}"


def make_org(
    kind: OrgKind = OrgKind.startup, name: str | None = None, **values: object
) -> Organization:
    n = next(_counter)
    data = accounts.OrganizationData(
        name=name or f"組織{n}",
        kind=kind,
        corporate_number=values.pop("corporate_number", valid_corporate_number(n)),  # type: ignore[arg-type]
        **values,  # type: ignore[arg-type]
    )
    return accounts.create_organization(SYSTEM, data)


def make_user(
    role: Role = Role.applicant,
    org: Organization | None = None,
    password: str = PASSWORD,
    active: bool = True,
    locale: Locale = Locale.ja,
    email: str | None = None,
    name: str | None = None,
) -> User:
    """A user who chose `password` through their invitation link, as a real one would."""
    n = next(_counter)
    data = accounts.UserData(
        email=email or f"user{n}@example.jp",
        name=name or f"User {n}",
        role=role,
        locale=locale,
        organization_id=org.id if org else None,
    )
    settings = current_app.config
    user, invitation = accounts.create_user(SYSTEM, data, now=utcnow(), settings=settings)
    secret = invitation.secret or ""
    credentials.set_password(secret, LinkPurpose.invitation, password, utcnow(), settings)
    if not active:  # straight into the table: no real account is made inactive with a password
        user.active = False
        db.session.commit()
    return user


def uploads() -> Path:
    """The test installation's upload folder, as the edges pass it to the evidence use cases."""
    return Path(current_app.config["UPLOAD_FOLDER"])
