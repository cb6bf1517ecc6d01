"""flask grants audit-verify."""

from __future__ import annotations

import re

import click

from grants.core.audit import verify_chain
from grants.core.cli import grants_cli


@grants_cli.command("audit-verify")
@click.option(
    "--anchor",
    metavar="HASH",
    help="A head hash printed by an earlier run: it must still be in the log.",
)
def audit_verify(anchor: str | None) -> None:
    """Check the audit log's hash chain; exit 1 at the first broken row.

    Keep the printed head hash outside the database (a ticket, a signed note) and pass it
    as --anchor later: a chain alone cannot show that its newest rows were cut off."""
    if anchor is not None:
        anchor = anchor.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", anchor):
            raise click.BadParameter("a head hash is 64 hexadecimal digits", param_hint="--anchor")
    report = verify_chain(anchor)
    if report.ok:
        click.echo(f"OK: {report.checked} audit events verified. Head: {report.head}")
        return
    if report.reason == "anchor":
        click.echo(
            f"BROKEN: the anchor {anchor} is not in the log: the rows from there on were "
            f"removed or replaced ({report.checked} events verified up to {report.head}).",
            err=True,
        )
    else:
        click.echo(
            f"BROKEN: audit event {report.broken_id} does not match ({report.reason}); "
            f"{report.checked} events before it verified.",
            err=True,
        )
    raise SystemExit(1)
