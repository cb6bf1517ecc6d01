"""Recording notifications: an event's alerts, written in the transaction that makes the event.

A use case that hands work to someone, or tells them of a decision, calls `record` once per
event, after its own changes and its audit row and before it commits:

    audit.record(actor, "tranche.release", disbursement, before, after)
    notify.record(
        actor,
        grantee_members(grant.organization_id),  # a query of user ids (accounts.queries)
        AlertKind.tranche_released,
        SubjectType.disbursement,
        disbursement.id,
        today=today,
        grant_id=grant.id,
        milestone_id=milestone.id,
    )
    db.session.commit()

The alerts commit or roll back with the event: an event that fails leaves no alert, and an
event that happened always has them. They are ordinary alert rows (core.models.alert_table):
the inbox shows them, and the deliverer e-mails them in each recipient's language as that
recipient chose (alerts.delivery, alerts.digest, alerts.preferences).

Exactly once: one alert per (recipient, subject, kind, tier), whatever retries or reruns do,
by the table's unique key (INSERT ... ON CONFLICT DO NOTHING). So the subject must name the
event itself: the evidence submission of a round rather than the milestone, the amendment,
the disbursement. An event that can happen again to the same subject as a new event takes
another subject or another tier.

Recipients are a query of user ids (a `Select` of one column: set-based, one INSERT ...
SELECT whatever their number) or a few ids. The actor never receives their own event's
alert. Adding a kind: a member of AlertKind (core.alert_kinds) with its label, what the
inbox says of it and where it leads (alerts.inbox.queries), and the roles that receive it
(alerts.preferences.rules).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, column, literal, select, table

from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.db import insert_select_if_absent
from grants.core.models import alert_table, utcnow
from grants.extensions import db

A = alert_table
# Users by id, for recipients given as ids: only those that exist receive an alert.
_USERS = table("user_account", column("id"))
_COLUMNS = (
    "user_id",
    "subject_type",
    "subject_id",
    "kind",
    "tier",
    "grant_id",
    "milestone_id",
    "scan_date",
    "created_at",
    "email_attempts",
)
_UNIQUE = ("subject_id", "subject_type", "kind", "tier", "user_id")

Recipients = Select[Any] | Iterable[int]


def record(
    actor: Actor,
    recipients: Recipients,
    kind: AlertKind,
    subject_type: SubjectType,
    subject_id: int,
    *,
    today: date,
    tier: int = 0,
    grant_id: int | None = None,
    milestone_id: int | None = None,
) -> list[int]:
    """Add the alerts of one event to the current transaction (the caller commits); the
    ids of those created, none for a recipient who had this alert already.

    `recipients`: a query whose first column is a user id, or user ids. `today`: the day
    of the event (stored as the alert's scan_date). `tier`: 0 for an event (the scan's
    tiers count from 1)."""
    users = _users(recipients)
    recipient = users.c[0]
    rows = (
        select(
            recipient,
            literal(str(subject_type), A.c.subject_type.type),
            literal(subject_id, A.c.subject_id.type),
            literal(str(kind), A.c.kind.type),
            literal(tier, A.c.tier.type),
            literal(grant_id, A.c.grant_id.type),
            literal(milestone_id, A.c.milestone_id.type),
            literal(today, A.c.scan_date.type),
            literal(utcnow(), A.c.created_at.type),
            literal(0, A.c.email_attempts.type),
        )
        .distinct()
        .order_by(recipient)  # one order of the unique key's entries: no deadlock
    )
    if actor.id is not None:
        rows = rows.where(recipient != actor.id)
    statement = insert_select_if_absent(A, _COLUMNS, rows, _UNIQUE, ("id",))
    return list(db.session.scalars(statement))


def _users(recipients: Recipients) -> Any:
    if isinstance(recipients, Select):
        return recipients.subquery("recipients")
    ids = sorted(set(recipients))
    return select(_USERS.c.id).where(_USERS.c.id.in_(ids)).subquery("recipients")
