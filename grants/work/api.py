"""My work: GET /api/v1/me/work, what the work page shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import url_for
from marshmallow import Schema, fields

from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import Yen
from grants.core.states import AmendmentKind
from grants.work import queries as work
from grants.work.queries import Entry, Section, Task

blp = ApiBlueprint("api_work", __name__, url_prefix="/api/v1", description="My work.")


class WorkEntrySchema(Schema):
    title = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "The item's page."})
    grant_number = fields.String(allow_none=True)
    organization_name = fields.String(allow_none=True)
    waiting_since = fields.String(
        allow_none=True,
        metadata={"description": "When it began to wait (a date or a UTC date-time)."},
    )
    due_date = fields.Date(allow_none=True)
    amount = Yen(allow_none=True)
    reviewers_missing = fields.Integer(allow_none=True)
    amendment_kind = fields.String(
        allow_none=True, metadata={"enum": [str(kind) for kind in AmendmentKind]}
    )


class WorkSectionSchema(Schema):
    task = fields.String(required=True, metadata={"enum": [str(task) for task in Task]})
    count = fields.Integer(required=True)
    items = fields.List(
        fields.Nested(WorkEntrySchema),
        required=True,
        metadata={"description": f"The first {work.SHOWN}, oldest or most urgent first."},
    )
    list_url = fields.String(allow_none=True, metadata={"description": "The whole list's page."})


class WorkSchema(Schema):
    total = fields.Integer(required=True)
    sections = fields.List(fields.Nested(WorkSectionSchema), required=True)


@blp.get("/me/work")
@blp.response(200, WorkSchema)
def my_work() -> dict[str, Any]:
    """What waits for me, by task of my role (officers: applications to screen, grants short
    of reviewers, amendment requests, investments to verify, tranches to release, overdue
    milestones; reviewers: evidence to review; applicants: evidence due, changes requested),
    each with its count and its first items, as the "My work" page shows them."""
    found = work.my_work(api_actor())
    return {"total": found.total, "sections": [_section(s) for s in found.sections]}


def _section(section: Section) -> dict[str, Any]:
    return {
        "task": str(section.task),
        "count": section.count,
        "items": [_entry(entry) for entry in section.entries],
        "list_url": None if section.more is None else _url(section.more),
    }


def _entry(entry: Entry) -> dict[str, Any]:
    return {
        "title": entry.title,
        "url": _url(entry.link),
        "grant_number": entry.grant_number,
        "organization_name": entry.organization,
        "waiting_since": _moment(entry.since),
        "due_date": entry.due,
        "amount": entry.amount,
        "reviewers_missing": entry.missing,
        "amendment_kind": None if entry.kind is None else str(entry.kind),
    }


def _moment(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _url(link: work.Link) -> str:
    return url_for(link.endpoint, **link.values)
