"""The audit log as a CSV file: taking it is itself audited."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from grants.audit.queries import AuditFilters, check, events_rows
from grants.core import audit
from grants.core.actors import Actor
from grants.core.audit import Named
from grants.core.calendar import TOKYO
from grants.core.csvfile import encode_csv
from grants.core.db import begin_writing, use_case
from grants.core.i18n import translate
from grants.core.models import AuditEvent
from grants.core.problems import N_
from grants.core.text import Cell
from grants.extensions import db

Row = tuple[Cell, ...]


@dataclass(frozen=True)
class AuditCsv:
    """The header and a lazy generator of rows: nothing is read until the rows are."""

    filename: str
    header: tuple[str, ...]
    rows: Generator[Row, None, None]

    def chunks(self) -> Iterator[bytes]:
        return encode_csv(self.header, self.rows)


@use_case
def export_events(actor: Actor, filters: AuditFilters, locale: str) -> AuditCsv:
    """The events matching `filters`, newest first, as a CSV file with its header in
    `locale`; the audit log records who took it with which filters."""
    check(actor, filters)
    begin_writing()  # the audit row is written in a GET request
    after = {
        "actor": filters.actor,
        "action": filters.action,
        "object_type": filters.object_type,
        "object_id": filters.object_id,
        "date_from": _iso(filters.date_from),
        "date_to": _iso(filters.date_to),
    }
    audit.record(actor, "audit_log.export", Named("audit_event", "csv"), after=after)
    db.session.commit()
    header = tuple(translate(column, locale) for column in _COLUMNS)
    return AuditCsv(_filename(filters), header, (_row(event) for event in events_rows(filters)))


_COLUMNS = (
    N_("No."),
    N_("Time (Japan)"),
    N_("Actor"),
    N_("Actor id"),
    N_("Action"),
    N_("Object type"),
    N_("Object id"),
    N_("Before"),
    N_("After"),
    N_("Hash"),
)


def _row(event: AuditEvent) -> Row:
    return (
        event.id,
        _tokyo(event.created_at),
        event.actor_label,
        event.actor_id,
        event.action,
        event.object_type,
        event.object_id,
        _json(event.before),
        _json(event.after),
        event.hash,
    )


def _tokyo(moment: datetime) -> str:
    return moment.astimezone(TOKYO).isoformat(timespec="seconds")


def _json(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _iso(day: Any) -> str | None:
    return None if day is None else day.isoformat()


def _filename(filters: AuditFilters) -> str:
    parts = ["audit-log"]
    if filters.date_from is not None:
        parts.append(filters.date_from.isoformat())
    if filters.date_to is not None:
        parts.append(filters.date_to.isoformat())
    return "-".join(parts) + ".csv"
