"""flask grants scan --today YYYY-MM-DD, and flask grants scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from sqlalchemy import select

from grants.cli import grants_cli
from grants.domain.calendar import tokyo_today
from grants.extensions import db
from grants.jobs.scheduler import run_blocking
from grants.jobs.tasks import PassReport, run_pass
from grants.models import Alert, User
from grants.services import lease
from grants.services.alerts_scan import ScanReport


@grants_cli.command("scan")
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Scan as of this date (YYYY-MM-DD); default: today in Tokyo.",
)
def scan_command(today: datetime | None) -> None:
    """Run one pass now: scan the milestones, then e-mail the alerts that are due."""
    day = today.date() if today else tokyo_today(datetime.now(UTC))
    holder = lease.new_holder("cli")
    report = run_pass(holder, day)
    if report is None:
        held = lease.current(lease.SCHEDULER, datetime.now(UTC))
        who = f" ({held.holder}, until {held.expires_at:%Y-%m-%d %H:%M} UTC)" if held else ""
        raise click.ClickException(
            f"Another scheduler holds the lease{who}; it runs the scan itself. Try again later."
        )
    _print(report)


@grants_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduled jobs in the foreground (one process; stops on SIGTERM)."""
    run_blocking(current_app._get_current_object())  # type: ignore[attr-defined]


def _print(report: PassReport) -> None:
    scan = report.scan
    if scan.unchanged:
        click.echo(
            f"Scan for {scan.today.isoformat()}: nothing changed since this day's last scan, "
            "so no alert is due."
        )
    else:
        _print_scan(scan)
    delivery = report.delivery
    click.echo(
        f"E-mail: {len(delivery.sent)} sent, {len(delivery.failed)} failed"
        + (" (server unreachable: retried later)" if delivery.stopped_early else "")
        + "."
    )


def _print_scan(scan: ScanReport) -> None:
    click.echo(
        f"Scan for {scan.today.isoformat()}: {scan.total} alerts created, "
        f"{scan.flagged} milestones flagged overdue, {scan.cleared} overdue flags cleared."
    )
    for kind, count in scan.created.items():
        click.echo(f"  {kind.value:<16} {count}")
    if scan.alert_ids:
        click.echo("Created:")
        rows = db.session.execute(
            select(Alert, User.email)
            .join(User, User.id == Alert.user_id)
            .where(Alert.id.in_(scan.alert_ids))
            .order_by(Alert.id)
        )
        for alert, email in rows:
            click.echo(
                f"  #{alert.id} {alert.kind.value} tier {alert.tier} -> {email} "
                f"({alert.subject_type} {alert.subject_id}, milestone {alert.milestone_id})"
            )
