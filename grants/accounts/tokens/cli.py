"""flask grants create-token."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.accounts.second_factor.rules import SecondFactorPolicy, StepUp
from grants.accounts.tokens import service as tokens
from grants.core.actors import SYSTEM
from grants.core.cli import clear_errors, grants_cli
from grants.core.models import utcnow
from grants.extensions import db


@grants_cli.command("create-token")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'accounting export'.")
def create_token(email: str, name: str) -> None:
    """Create a personal API token; it is printed once, on the last line."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email}.")
    with clear_errors():
        step_up = StepUp(SecondFactorPolicy.of(current_app.config), None, utcnow())
        token, secret = tokens.create_token(SYSTEM, user, name, step_up=step_up)
    click.echo(f"Token {token.prefix}… for {user.email} ({user.role}). Keep it secret:")
    click.echo(secret)
