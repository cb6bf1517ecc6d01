"""The what-if report as the API answers it."""

from __future__ import annotations

from marshmallow import Schema, fields

from grants.core.http.schemas import TraceSchema


class WhatIfRowSchema(Schema):
    kind = fields.String(required=True, metadata={"enum": ["application", "grant"]})
    subject_id = fields.Integer(required=True)
    title = fields.String(required=True)
    organization = fields.String(required=True)
    state = fields.String(required=True)
    change = fields.String(required=True)
    before = fields.Nested(TraceSchema, allow_none=True)
    after = fields.Nested(TraceSchema, required=True)


class SettlementRowSchema(Schema):
    report_id = fields.Integer(required=True)
    title = fields.String(required=True)
    organization = fields.String(required=True)
    before = fields.Integer(
        required=True, metadata={"description": "The final amount by the pinned rules."}
    )
    after = fields.Integer(
        required=True, metadata={"description": "The final amount by the draft's rules."}
    )


class WhatIfSchema(Schema):
    in_force_version = fields.Integer(allow_none=True)
    summary = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    rows = fields.List(fields.Nested(WhatIfRowSchema), required=True)
    settlements = fields.List(
        fields.Nested(SettlementRowSchema),
        required=True,
        metadata={"description": "Results reports not settled yet: final amounts both ways."},
    )
