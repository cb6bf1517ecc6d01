"""The jobs. Each renews the database lease first and does nothing without it.

Jobs only call services: alerts_scan.scan (one transaction, idempotent), mail.deliver
(one transaction per e-mail) and digest.send_digests (once a day per person, then one
transaction per e-mail). They are safe to run again at any time.

The one-off pass of `flask grants scan` (run_pass) scans without the lease: a scan is
safe beside a running scheduler (idempotent, serialised by an advisory lock on
PostgreSQL and by the single writer on SQLite, and the alerts' unique key rules out
duplicates). Its delivery still keeps to the lease: on SQLite it is what keeps deliverers
to one, so while another scheduler holds it, that scheduler e-mails the new alerts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Flask, current_app

from grants.alerts.delivery import service as mail
from grants.alerts.digest import service as digest
from grants.alerts.scan.service import ScanReport, scan
from grants.core import lease
from grants.core.actors import SYSTEM
from grants.core.calendar import tokyo_today
from grants.core.models import utcnow
from grants.core.scheduler import Job, hold_lease

log = logging.getLogger("grants.jobs")

# E-mails per delivery batch; the lease is renewed between batches.
DELIVERY_BATCH = 50


@dataclass
class PassReport:
    scan: ScanReport
    delivery: mail.DeliveryReport
    checked_at: datetime
    # The lease as this pass found it: another scheduler's (it delivers, this pass sent
    # nothing), an expired one (no scheduler renews it: this pass delivered), or None.
    lease_found: lease.LeaseState | None = None
    delivery_left_to: str | None = None


def scan_milestones(app: Flask, holder: str, today: date | None = None) -> ScanReport | None:
    """Job: one scan for today in Tokyo, then e-mail what it created at once (None when
    another scheduler holds the lease). deliver_alerts picks up the retries."""
    with app.app_context():
        if not hold_lease(holder):
            log.info("scan skipped: another scheduler holds the lease")
            return None
        report = scan(SYSTEM, today or tokyo_today(datetime.now(UTC)), current_app.config)
        log.info("scan %s created %d alerts %s", report.today, report.total, report.summary())
        if report.total:
            deliver_in_batches(holder)
        return report


def deliver_alerts(app: Flask, holder: str) -> mail.DeliveryReport | None:
    """Job: e-mail what is due, in batches, renewing the lease before each batch."""
    with app.app_context():
        return deliver_in_batches(holder)


def send_digests(
    app: Flask, holder: str, now: datetime | None = None
) -> digest.DigestReport | None:
    """Job: from the digest hour on, each person's digest of the day, e-mailed once (None
    when another scheduler holds the lease)."""
    with app.app_context():
        if not hold_lease(holder):
            log.info("digests skipped: another scheduler holds the lease")
            return None
        report = digest.send_digests(SYSTEM, now or utcnow(), current_app.config)
        if report.gathered or report.sent or report.failed:
            log.info(
                "digests of %s: %d gathered, %d e-mailed, %d failed",
                report.day,
                len(report.gathered),
                len(report.sent),
                len(report.failed),
            )
        return report


def deliver_in_batches(
    holder: str, backend: mail.Backend | None = None
) -> mail.DeliveryReport | None:
    total = mail.DeliveryReport()
    remaining = current_app.config["MAIL_BATCH_LIMIT"]
    while remaining > 0:
        if not hold_lease(holder):
            log.info("delivery stopped: another scheduler holds the lease")
            return total if total.sent or total.failed else None
        limit = min(DELIVERY_BATCH, remaining)
        batch = mail.deliver(SYSTEM, utcnow(), current_app.config, backend, limit=limit)
        total.sent += batch.sent
        total.failed += batch.failed
        done = len(batch.sent) + len(batch.failed)
        remaining -= done
        if batch.stopped_early or done < DELIVERY_BATCH:
            total.stopped_early = batch.stopped_early
            break
    if total.sent or total.failed:
        log.info("delivery: %d e-mailed, %d failed", len(total.sent), len(total.failed))
    return total


def run_pass(
    holder: str, today: date, backend: mail.Backend | None = None, whole: bool = False
) -> PassReport:
    """One scan, then one delivery (the CLI's `scan`). The scan needs no lease; the delivery
    runs under it, and is left to the scheduler that holds it, if another one does.
    `whole`: the scan reads everything (alerts.scan.service.scan)."""
    report = scan(SYSTEM, today, current_app.config, whole)
    now = utcnow()
    found = lease.state(lease.SCHEDULER)
    if not hold_lease(holder, now):
        held = lease.state(lease.SCHEDULER) or found
        who = held.holder if held else "another scheduler"
        return PassReport(report, mail.DeliveryReport(), now, held, who)
    try:
        delivery = deliver_in_batches(holder, backend) or mail.DeliveryReport()
    finally:
        lease.release(lease.SCHEDULER, holder, utcnow())
    return PassReport(report, delivery, now, found)


JOBS = (
    Job("scan_milestones", scan_milestones, "SCAN_INTERVAL_MINUTES"),
    Job("deliver_alerts", deliver_alerts, "DELIVER_INTERVAL_MINUTES"),
    Job("send_digests", send_digests, "DELIVER_INTERVAL_MINUTES"),
)
