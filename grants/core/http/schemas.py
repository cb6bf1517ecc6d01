"""What every API resource shares: yen fields, the Tokyo date, trace schemas, the JSON error
shape (flask-smorest documents every error response with it), and paginated lists
(?page=&per_page= in, {"items", "page", "per_page", "total"} out).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select

from grants.core.calendar import tokyo_today
from grants.core.db import MAX_PAGE
from grants.core.money import YEN_MAX
from grants.extensions import db


def Yen(**kwargs: object) -> fields.Integer:  # noqa: N802  (reads like a field class)
    """Integer yen: a JSON integer, never a float or a string, zero or more."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=YEN_MAX), **kwargs)


def today() -> date:
    return tokyo_today(datetime.now(UTC))


class MessageSchema(Schema):
    ja = fields.String(required=True)
    en = fields.String(required=True)


class TraceRowSchema(Schema):
    rule_id = fields.String(required=True)
    rule_type = fields.String(required=True)
    severity = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"enum": ["pass", "fail", "warn", "skipped"]})
    compared = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    relaxation = fields.Dict(allow_none=True)
    label = fields.Raw(allow_none=True)
    missing = fields.List(fields.String())
    message = fields.Nested(MessageSchema, required=True)


class TraceSchema(Schema):
    phase = fields.String(required=True)
    ok = fields.Boolean(required=True)
    rows = fields.List(fields.Nested(TraceRowSchema), required=True)


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "unprocessable_entity"})
    message = fields.String(required=True)
    fields = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata={"description": "Messages by field name (nested for nested input)."},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


PER_PAGE_MAX = 100


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=PER_PAGE_MAX))


def page_schema(item: type[Schema]) -> type[Schema]:
    """A list envelope named after its items, so the OpenAPI document reads well."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        },
        name=name,
    )


def paginate(query: Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    """One page of `query` (already ordered) and the total count: two statements."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total or 0}
