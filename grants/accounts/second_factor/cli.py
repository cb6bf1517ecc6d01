"""flask grants reset-second-factor: the way back in for the last administrator."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from grants.accounts.models import User
from grants.accounts.rules import normalize_email
from grants.accounts.second_factor import service
from grants.core.actors import SYSTEM
from grants.core.cli import clear_errors, grants_cli
from grants.core.mail import MailError, backend_from_config
from grants.extensions import db


@grants_cli.command("reset-second-factor")
@click.argument("email")
def reset_second_factor(email: str) -> None:
    """Remove every second factor of the account EMAIL and sign it out everywhere; it sets
    up a new one at its next sign-in. The owner is told by e-mail."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email}.")
    with clear_errors():
        notice = service.reset(SYSTEM, user.id)
    click.echo(f"The second factor of {user.email} is reset; it sets up a new one at sign-in.")
    backend = backend_from_config(current_app.config)
    try:
        backend.send(notice)
    except MailError as error:
        click.echo(f"The e-mail to {user.email} could not be sent: {error}", err=True)
    finally:
        backend.close()
