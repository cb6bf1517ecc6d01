"""flask grants create-user."""

from __future__ import annotations

import click
from sqlalchemy import select

from grants.cli import grants_cli
from grants.cli.errors import clear_errors
from grants.domain.accounts import Locale, Role
from grants.extensions import db
from grants.models import Organization
from grants.services import accounts
from grants.services.actors import SYSTEM


@grants_cli.command("create-user")
@click.option("--email", required=True, help="Sign-in e-mail address (unique).")
@click.option("--name", required=True, help="Display name.")
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
        user = accounts.create_user(SYSTEM, data, password)
    click.echo(f"Created {user.role} account {user.email} (id {user.id}).")


def _organization_id(value: str) -> int:
    column = Organization.corporate_number if len(value) == 13 else Organization.id
    key: str | int = value if len(value) == 13 else int(value) if value.isdigit() else -1
    org_id = db.session.scalar(select(Organization.id).where(column == key))
    if org_id is None:
        raise click.ClickException(f"No organization with id or 法人番号 {value!r}.")
    return org_id
