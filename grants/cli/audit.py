"""flask grants audit-verify."""

from __future__ import annotations

import click

from grants.cli import grants_cli
from grants.services.audit import verify_chain


@grants_cli.command("audit-verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exit 1 at the first broken row."""
    report = verify_chain()
    if report.ok:
        click.echo(f"OK: {report.checked} audit events verified.")
        return
    click.echo(
        f"BROKEN: audit event {report.broken_id} does not match ({report.reason}); "
        f"{report.checked} events before it verified.",
        err=True,
    )
    raise SystemExit(1)
