"""flask grants create-token."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.accounts.second_factor.rules import SecondFactorPolicy, StepUp
from grants.accounts.tokens import service as tokens
from grants.accounts.tokens.rules import DEFAULT_DAYS, TokenScope, default_expiry
from grants.core.actors import SYSTEM
from grants.core.calendar import tokyo_today
from grants.core.cli import clear_errors, grants_cli
from grants.core.models import utcnow
from grants.extensions import db


@grants_cli.command("create-token")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'accounting export'.")
@click.option(
    "--scope",
    type=click.Choice([str(scope) for scope in TokenScope]),
    default=str(TokenScope.read),
    show_default=True,
    help="read: GET requests only; read_write: every request.",
)
@click.option(
    "--expires-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help=f"The last day (Tokyo) it works, at most a year ahead [default: in {DEFAULT_DAYS} days].",
)
def create_token(email: str, name: str, scope: str, expires_on: datetime | None) -> None:
    """Create a personal API token; it is printed once, on the last line."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email}.")
    today = tokyo_today(datetime.now(UTC))
    last_day = expires_on.date() if expires_on else default_expiry(today)
    with clear_errors():
        step_up = StepUp(SecondFactorPolicy.of(current_app.config), None, utcnow())
        token, secret = tokens.create_token(
            SYSTEM, user, name, TokenScope(scope), last_day, today, step_up=step_up
        )
    click.echo(
        f"Token {token.prefix}… ({token.scope}, until {last_day}) for {user.email} "
        f"({user.role}). Keep it secret:"
    )
    click.echo(secret)
