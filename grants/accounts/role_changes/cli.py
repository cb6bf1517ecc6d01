"""flask grants confirm-role-change: the second administrator of a one-administrator
installation is whoever runs the server."""

from __future__ import annotations

import click

from grants.accounts.role_changes import service as role_changes
from grants.core.cli import clear_errors, grants_cli


@grants_cli.command("confirm-role-change")
@click.argument("change_id", type=click.IntRange(min=1))
def confirm_role_change(change_id: int) -> None:
    """Confirm role change CHANGE_ID (shown on /admin/role-changes) when no other active
    administrator than the one who asked could confirm it on that page."""
    with clear_errors():
        change = role_changes.confirm_alone(change_id)
    click.echo(f"Confirmed: {change.user.email} is now an active {change.role}.")
