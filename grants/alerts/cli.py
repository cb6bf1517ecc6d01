"""flask grants scan --today YYYY-MM-DD, and flask grants scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    found = report.lease_found
    if report.delivery_left_to is not None:
        renewal = f" ({_renewal(found, report.checked_at)})" if found else ""
        click.echo(
            f"E-mail: none sent by this pass: {report.delivery_left_to} holds the "
            f"scheduler lease{renewal} and sends them."
        )
        return
    click.echo(_no_scheduler(found, report.checked_at))
    delivery = report.delivery
    click.echo(
        f"E-mail: {len(delivery.sent)} sent, {len(delivery.failed)} failed"
        + (" (server unreachable: retried later)" if delivery.stopped_early else "")
        + "."
    )


def _renewal(found: lease.LeaseState, now: datetime) -> str:
    """When the holder last renewed the lease, until when it holds, and whether it is late."""
    config = current_app.config
    renewed = found.expires_at - timedelta(seconds=config["SCHEDULER_LEASE_SECONDS"])
    text = (
        f"renewed {_ago(now - renewed)} ago, valid until {_utc(found.expires_at)}; "
        f"another scheduler takes over if it lapses"
    )
    heartbeat = timedelta(seconds=config["SCHEDULER_HEARTBEAT_SECONDS"])
    if now - renewed > 2 * heartbeat:
        text += f"; LATE: renewed every {_ago(heartbeat)}, its holder may be stuck or dead"
    return text


def _no_scheduler(found: lease.LeaseState | None, now: datetime) -> str:
    """What the lease says about the schedulers, once this pass delivered itself."""
    if found is None:
        return "Scheduler lease: never taken: no scheduler has run on this database."
    if found.expired(now):
        return (
            f"Scheduler lease: no scheduler holds it: the last holder, {found.holder}, "
            f"stopped renewing it and it expired at {_utc(found.expires_at)} "
            f"({_ago(now - found.expires_at)} ago): no scheduler is running."
        )
    return f"Scheduler lease: held by this pass's own holder {found.holder}."


def _ago(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


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
