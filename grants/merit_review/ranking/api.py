"""A call's ranking (officers): the ranked applications with their scores, the funding line
against the budget pools, a what-if (another line, other amounts; writes nothing) and the
CSV export. Awards follow it: POST /applications/{id}/award asks a `departure_reason` for
an award below the line or passing over undecided applications ranked above."""

from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import Schema, fields, validate

from grants.core.errors import RuleViolation
from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.downloads import csv_response
from grants.core.http.filters import current_locale
from grants.core.http.i18n import localise
from grants.core.http.schemas import ErrorSchema, PageArgs, Yen, today
from grants.core.problems import N_, Problem
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.merit_review.ranking.export import ranking_csv
from grants.merit_review.ranking.queries import RankedApplication, Ranking, ranking, what_if
from grants.merit_review.rules import TIE_BREAK
from grants.merit_review.schemas import (
    MeritAggregateSchema,
    MeritPoolSchema,
    aggregate_data,
    pool_data,
)
from grants.programs.models import Program

blp = ApiBlueprint(
    "api_merit_ranking",
    __name__,
    url_prefix="/api/v1",
    description="Merit review: the ranked list and the funding line (officers).",
)

CSV_BODY = {"type": "string", "format": "binary"}


class MeritRankedSchema(Schema):
    rank = fields.Integer(allow_none=True, metadata={"description": "None: not scored yet."})
    application_id = fields.Integer(required=True)
    title = fields.String(required=True)
    organization = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": [str(s) for s in ApplicationState]})
    submitted_on = fields.Date(required=True)
    ruleset_version = fields.Integer(allow_none=True)
    written = fields.Nested(MeritAggregateSchema, allow_none=True)
    hearing = fields.Nested(MeritAggregateSchema, allow_none=True)
    shortlisted = fields.Boolean(required=True)
    award_amount = Yen(
        allow_none=True, metadata={"description": "Undecided: what the award rules give today."}
    )
    commitments = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        allow_none=True,
        metadata={"description": "Fiscal year -> yen the award would commit."},
    )
    refused = fields.Boolean(required=True, metadata={"description": "The award rules refuse it."})
    above_line = fields.Boolean(allow_none=True)
    departed = fields.Boolean(
        required=True, metadata={"description": "Awarded out of order, with a recorded reason."}
    )


class MeritRankingSchema(Schema):
    line = fields.Integer(
        allow_none=True,
        metadata={"description": "Undecided applications above the line (None: no rule set)."},
    )
    undecided = fields.List(
        fields.Integer(), required=True, metadata={"description": "Undecided, in ranking order."}
    )
    pools = fields.List(fields.Nested(MeritPoolSchema), required=True)
    tie_break = fields.String(required=True)
    rubric_versions = fields.Integer(required=True)
    items = fields.List(fields.Nested(MeritRankedSchema), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class MeritWhatIfSchema(Schema):
    line = fields.Integer(
        validate=validate.Range(min=0, max=1_000_000),
        metadata={"description": "Fund the first this many undecided applications."},
    )
    amounts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(validate=validate.Range(min=0)),
        load_default=dict,
        metadata={"description": "Application id -> a lower award amount to try (yen)."},
    )


class MeritWhatIfResultSchema(Schema):
    line = fields.Integer(required=True)
    natural_line = fields.Integer(
        required=True, metadata={"description": "Where the line falls at these amounts."}
    )
    pools = fields.List(fields.Nested(MeritPoolSchema), required=True)
    over = fields.Boolean(required=True, metadata={"description": "A pool is over-committed."})


@blp.get("/programs/<int:program_id>/ranking")
@blp.arguments(PageArgs, location="query")
@blp.response(200, MeritRankingSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such programme.")
def get_ranking(args: dict[str, Any], program_id: int) -> dict[str, Any]:
    """The ranked applications (then those not scored yet), a page at a time, with the line
    and the pools above it."""
    found = ranking(api_actor(), program_id, today())
    page, per_page = args["page"], args["per_page"]
    rows = found.rows[(page - 1) * per_page : page * per_page]
    return {
        "line": found.line,
        "undecided": list(found.undecided),
        "pools": [pool_data(pool) for pool in found.pools],
        "tie_break": localise(TIE_BREAK),
        "rubric_versions": found.rubric_versions,
        "items": [_row(row, found) for row in rows],
        "page": page,
        "per_page": per_page,
        "total": len(found.rows),
    }


@blp.post("/programs/<int:program_id>/ranking/what-if")
@blp.arguments(MeritWhatIfSchema)
@blp.response(200, MeritWhatIfResultSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such programme.")
@blp.alt_response(422, schema=ErrorSchema, description="A line or amount out of range (which).")
def try_line(data: dict[str, Any], program_id: int) -> dict[str, Any]:
    """The pools with another line or other award amounts; nothing is written."""
    found = ranking(api_actor(), program_id, today())
    amounts = _amounts(data["amounts"])
    result = what_if(found, data.get("line"), amounts)
    return {
        "line": result.line,
        "natural_line": result.natural_line,
        "pools": [pool_data(pool) for pool in result.pools],
        "over": result.over,
    }


@blp.get("/programs/<int:program_id>/ranking.csv")
@blp.response(200, CSV_BODY, content_type="text/csv", description="UTF-8 with a BOM, CRLF.")
@blp.alt_response(404, schema=ErrorSchema, description="No such programme.")
def export(program_id: int) -> Response:
    """The ranking as a CSV file, the header in the request's language."""
    program = db.get_or_404(Program, program_id)
    found = ranking(api_actor(), program.id, today())
    return csv_response(ranking_csv(found, program.code, current_locale()))


def _amounts(raw: dict[str, int]) -> dict[int, int]:
    found: dict[int, int] = {}
    errors: dict[str, list[Problem]] = {}
    for key, amount in raw.items():
        if key.isascii() and key.isdecimal() and len(key) <= 18:
            found[int(key)] = amount
        else:
            errors[f"amounts.{key}"] = [N_("Name an application by its id.")]
    if errors:
        raise RuleViolation(N_("The what-if could not be computed."), errors)
    return found


def _row(row: RankedApplication, found: Ranking) -> dict[str, Any]:
    counted = row.undecided and row.commitment is not None and found.line is not None
    return {
        "rank": row.rank,
        "application_id": row.application_id,
        "title": row.title,
        "organization": row.organization_name(current_locale()),
        "state": str(row.state),
        "submitted_on": row.submitted_on,
        "ruleset_version": row.ruleset_version,
        "written": aggregate_data(row.written),
        "hearing": aggregate_data(row.hearing),
        "shortlisted": row.shortlisted,
        "award_amount": row.award_amount if row.undecided else None,
        "commitments": (
            {str(k): v for k, v in row.commitment.by_year.items()} if row.commitment else None
        ),
        "refused": bool(row.refusals),
        "above_line": row.above_line if counted else None,
        "departed": row.departed,
    }
