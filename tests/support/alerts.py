"""Helpers for alert tests: staff users, scanning as the system, reading alerts back."""

from __future__ import annotations

from collections import Counter
from datetime import date

from flask import current_app
from sqlalchemy import select

from grants.accounts.models import User
from grants.alerts.models import Alert
from grants.alerts.scan.service import ScanReport, scan
from grants.awards.models import Milestone
from grants.core.actors import SYSTEM
from grants.core.alert_kinds import AlertKind
from grants.core.identity import Locale, Role
from grants.extensions import db
from tests.support.factories import make_user


def staff(role: Role = Role.officer, locale: Locale = Locale.ja, email: str | None = None) -> User:
    return make_user(role, locale=locale, email=email)


def run_scan(today: date, whole: bool = False) -> ScanReport:
    report = scan(SYSTEM, today, current_app.config, whole)
    db.session.expire_all()
    return report


def all_alerts() -> list[Alert]:
    return list(db.session.scalars(select(Alert).order_by(Alert.id)))


def keys(alerts: list[Alert] | None = None) -> list[tuple[int, str, int, str, int]]:
    """(user, subject_type, subject_id, kind, tier) of every alert, in creation order."""
    rows = all_alerts() if alerts is None else alerts
    return [(a.user_id, a.subject_type, a.subject_id, str(a.kind), a.tier) for a in rows]


def count_by_kind() -> Counter[tuple[str, int]]:
    return Counter((str(a.kind), a.tier) for a in all_alerts())


def alert_row(user: User, kind: AlertKind, tier: int, milestone: Milestone, day: date) -> Alert:
    """An alert of a milestone as the scan of `day` writes it (its grant and milestone set)."""
    alert = Alert(
        user_id=user.id,
        subject_type="milestone",
        subject_id=milestone.id,
        kind=kind,
        tier=tier,
        grant_id=milestone.grant_id,
        milestone_id=milestone.id,
        scan_date=day,
    )
    db.session.add(alert)
    db.session.commit()
    return alert
