"""flask grants create-user."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from grants.accounts import service as accounts
from grants.accounts.models import Organization
from grants.accounts.rules import (
    CORPORATE_NUMBER_LENGTH,
    PasswordPolicy,
    normalize_corporate_number,
)
from grants.core.actors import SYSTEM
from grants.core.cli import clear_errors, grants_cli
from grants.core.db import ID_MAX
from grants.core.identity import Locale, Role
from grants.core.text import control_problem
from grants.extensions import db


@grants_cli.command("create-user")
@click.option("--email", required=True, help="Sign-in e-mail address (unique).")
@click.option("--name", required=True, help="Display name.", callback=lambda c, p, v: _line(v))
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--locale", type=click.Choice([x.value for x in Locale]), default="ja", show_default=True
)
@click.option("--organization", "organization", help="Organization id or 法人番号.")
@click.password_option(help="Password (prompted, hidden, when not given).")
def create_user(
    email: str, name: str, role: str, locale: str, organization: str | None, password: str
) -> None:
    """Create a user account."""
    with clear_errors():
        org_id = _organization_id(organization) if organization else None
        data = accounts.UserData(
            email=email, name=name, role=Role(role), locale=Locale(locale), organization_id=org_id
        )
        policy = PasswordPolicy.of(current_app.config)
        user = accounts.create_user(SYSTEM, data, password, policy=policy)
    click.echo(f"Created {user.role} account {user.email} (id {user.id}).")


def _line(value: str) -> str:
    """A name as the web and the API take it: no control or invisible character."""
    problem = control_problem(value)
    if problem is not None:
        raise click.BadParameter(str(problem), param_hint="--name")
    return value


def _organization_id(value: str) -> int:
    number = normalize_corporate_number(value)
    org_id = None
    if len(number) == CORPORATE_NUMBER_LENGTH:
        query = select(Organization.id).where(Organization.corporate_number == number)
        org_id = db.session.scalar(query)
    elif _is_id(number):
        org_id = db.session.scalar(select(Organization.id).where(Organization.id == int(number)))
    if org_id is None:
        raise click.ClickException(f"No organization with id or 法人番号 {value!r}.")
    return org_id


def _is_id(text: str) -> bool:
    """Digits of an id a column can hold (checked by length first: int() refuses thousands)."""
    return (
        text.isascii()
        and text.isdigit()
        and len(text) <= len(str(ID_MAX))
        and 1 <= int(text) <= ID_MAX
    )
