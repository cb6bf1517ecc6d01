"""flask grants demo."""

from __future__ import annotations

import click

from grants.cli import grants_cli
from grants.cli.errors import clear_errors
from grants.services.demo import DEMO_PASSWORD, load_demo


@grants_cli.command("demo")
def demo() -> None:
    """Load demo organisations and one account per role (safe to run again)."""
    with clear_errors():
        demo_accounts = load_demo()
    click.echo("Demo data is loaded. Sign in at http://127.0.0.1:5000/login with:")
    for account in demo_accounts:
        click.echo(f"  {account.role.value:<10} {account.email:<24} password: {DEMO_PASSWORD}")
