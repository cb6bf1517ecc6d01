"""flask grants create-user, flask grants password-link."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from grants.accounts import service as accounts
from grants.accounts.credentials import mail as credential_mail
from grants.accounts.credentials import service as credentials
from grants.accounts.credentials.service import CredentialMail
from grants.accounts.models import Organization, User
from grants.accounts.rules import (
    CORPORATE_NUMBER_LENGTH,
    normalize_corporate_number,
    normalize_email,
)
from grants.core.actors import SYSTEM
from grants.core.cli import clear_errors, grants_cli
from grants.core.db import ID_MAX
from grants.core.identity import Locale, Role
from grants.core.models import utcnow
from grants.core.text import control_problem
from grants.extensions import db

_PRINT_LINK = click.option(
    "--print-link", is_flag=True, help="Print the link instead of e-mailing it."
)


@grants_cli.command("create-user")
@click.option("--email", required=True, help="Sign-in e-mail address (unique).")
@click.option("--name", required=True, help="Display name.", callback=lambda c, p, v: _line(v))
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--locale", type=click.Choice([x.value for x in Locale]), default="ja", show_default=True
)
@click.option("--organization", "organization", help="Organization id or 法人番号.")
@_PRINT_LINK
def create_user(
    email: str, name: str, role: str, locale: str, organization: str | None, print_link: bool
) -> None:
    """Create a user account (the first administrator, say). Its owner sets the password
    through the invitation link, e-mailed or, with --print-link, printed."""
    with clear_errors():
        org_id = _organization_id(organization) if organization else None
        data = accounts.UserData(
            email=email, name=name, role=Role(role), locale=Locale(locale), organization_id=org_id
        )
        user, invitation = accounts.create_user(
            SYSTEM, data, now=utcnow(), settings=current_app.config
        )
    click.echo(f"Created {user.role} account {user.email} (id {user.id}).")
    _hand_over(invitation, print_link)


@grants_cli.command("password-link")
@click.option("--email", required=True, help="The account's e-mail address.")
@_PRINT_LINK
def password_link(email: str, print_link: bool) -> None:
    """Give an account a link to set its password: its invitation again while it has none,
    else a reset link (which signs it out everywhere). For the last administrator too."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email}.")
    with clear_errors():
        link = credentials.send_password_link(SYSTEM, user.id, utcnow(), current_app.config)
    _hand_over(link, print_link)


def _hand_over(link: CredentialMail, print_link: bool) -> None:
    """Print the link (whoever runs the command hands it over), or e-mail it."""
    if print_link:
        click.echo(f"Link to set the password (it works once, until {link.expires_at}):")
        click.echo(credential_mail.link_url(link, current_app.config))
        return
    if not credential_mail.send([link], current_app.config):
        raise click.ClickException(
            f"The link could not be e-mailed to {link.to}. Run `flask grants password-link "
            f"--email {link.to} --print-link` to print a new one instead."
        )
    click.echo(f"A link to set the password was e-mailed to {link.to}.")


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
