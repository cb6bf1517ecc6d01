"""What every resource module shares: yen fields, the Tokyo date, trace schemas."""

from __future__ import annotations

from datetime import UTC, date, datetime

from marshmallow import Schema, fields, validate

from grants.domain.calendar import tokyo_today
from grants.domain.money import YEN_MAX


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
