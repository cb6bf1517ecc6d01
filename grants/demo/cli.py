"""flask grants demo [--today YYYY-MM-DD]."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app

from grants.core.calendar import tokyo_today
from grants.core.cli import clear_errors, grants_cli
from grants.demo.service import DEMO_PASSWORD, DEMO_TOTP_SECRET, load_demo, needs_second_factor


@grants_cli.command("demo")
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Lay the demo's dates out around this day (YYYY-MM-DD); default: today in Tokyo.",
)
@click.option(
    "--url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the app is served, for the sign-in line (make run passes its HOST and PORT).",
)
def demo(today: datetime | None, url: str) -> None:
    """Load demo organisations, accounts and programmes (safe to run again)."""
    day = today.date() if today else tokyo_today(datetime.now(UTC))
    with clear_errors():
        loaded = load_demo(day, current_app.config)
    click.echo(f"Demo data as of {day.isoformat()}:")
    for line in loaded.lines:
        click.echo(f"  {line}")
    click.echo(f"Sign in at {url.rstrip('/')}/login with:")
    for account in loaded.accounts:
        click.echo(f"  {account.role.value:<10} {account.email:<24} password: {DEMO_PASSWORD}")
    if any(needs_second_factor(account, current_app.config) for account in loaded.accounts):
        click.echo(
            "Officers and the administrator then give a second factor: add this key to an "
            f"authenticator app: {DEMO_TOTP_SECRET}\n(or print the current code: python -c "
            f"\"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\")"
        )
