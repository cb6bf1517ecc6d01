"""Test data through the real services (so that audit rows exist too)."""

from __future__ import annotations

import itertools
from pathlib import Path

from flask import current_app

from grants.accounts import service as accounts
from grants.accounts.models import Organization, User
from grants.accounts.rules import PasswordPolicy, corporate_number_check_digit
from grants.core.actors import SYSTEM
from grants.core.identity import Locale, OrgKind, Role

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
) -> User:
    n = next(_counter)
    data = accounts.UserData(
        email=email or f"user{n}@example.jp",
        name=f"User {n}",
        role=role,
        locale=locale,
        organization_id=org.id if org else None,
        active=active,
    )
    return accounts.create_user(SYSTEM, data, password, policy=passwords())


def uploads() -> Path:
    """The test installation's upload folder, as the edges pass it to the evidence use cases."""
    return Path(current_app.config["UPLOAD_FOLDER"])


def passwords() -> PasswordPolicy:
    """The test installation's password settings, as the edges pass them."""
    return PasswordPolicy.of(current_app.config)
