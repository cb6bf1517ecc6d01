"""flask grants scan --today YYYY-MM-DD, and flask grants scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from sqlalchemy import select

from grants.accounts.models import User
from grants.alerts.jobs import PassReport, run_pass
from grants.alerts.models import Alert
from grants.alerts.scan.service import ScanReport
from grants.core import lease
from grants.core.calendar import tokyo_today
from grants.core.cli import grants_cli
from grants.core.scheduler import run_blocking
from grants.extensions import db


@grants_cli.command("scan")
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Scan as of this date (YYYY-MM-DD); default: today in Tokyo.",
)
@click.option(
    "--whole",
    is_flag=True,
    help="Read every milestone, not only what changed since the last scan (after data "
    "was repaired by hand in the database).",
)
def scan_command(today: datetime | None, whole: bool) -> None:
    """Run one pass now: scan the milestones, then e-mail the alerts that are due.

    Safe while a scheduler runs (`make run`, `flask grants scheduler`): the scan needs no
    lease, since it is idempotent, serialised by the database and never creates an alert
    twice. Only the e-mail waits for the lease: while another scheduler holds it, that
    scheduler sends the new alerts.
    """
    day = today.date() if today else tokyo_today(datetime.now(UTC))
    _print(run_pass(lease.new_holder("cli"), day, whole=whole))


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
    if report.delivery_left_to is not None:
        click.echo(
            f"E-mail: none sent by this pass: {report.delivery_left_to} holds the "
            "scheduler lease and sends them."
        )
        return
    delivery = report.delivery
    click.echo(
        f"E-mail: {len(delivery.sent)} sent, {len(delivery.failed)} failed"
        + (" (server unreachable: retried later)" if delivery.stopped_early else "")
        + "."
    )


def _count(number: int, noun: str) -> str:
    """ "1 alert", "2 alerts": the operator's output is English (like click's own)."""
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _print_scan(scan: ScanReport) -> None:
    click.echo(
        f"Scan for {scan.today.isoformat()}: {_count(scan.total, 'alert')} created, "
        f"{_count(scan.flagged, 'milestone')} flagged overdue, "
        f"{_count(scan.cleared, 'overdue flag')} cleared."
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
