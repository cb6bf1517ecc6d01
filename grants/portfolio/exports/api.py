"""CSV exports for accounting: the same files as the officer's web page, streamed.

The header row is in the request's language (Accept-Language, else the token owner's);
values are raw (integer yen, ISO 8601).
"""

from __future__ import annotations

from typing import Any

from flask import Response

from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.downloads import csv_response
from grants.core.http.filters import current_locale
from grants.core.http.schemas import ErrorSchema
from grants.portfolio.exports import service as exports
from grants.portfolio.exports.schemas import CSV_BODY, CSV_NOTE, ExportArgs
from grants.portfolio.exports.service import Build

blp = ApiBlueprint(
    "api_exports",
    __name__,
    url_prefix="/api/v1/exports",
    description="CSV exports for accounting (officers and administrators).",
)


@blp.get("/disbursements.csv")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, CSV_BODY, content_type="text/csv", description=CSV_NOTE)
@blp.alt_response(403, schema=ErrorSchema, description="Not an officer or administrator.")
@blp.alt_response(422, schema=ErrorSchema, description="Invalid filter (unknown programme).")
def disbursements(args: dict[str, Any]) -> Response:
    """Released tranches: grant, milestone, fiscal year, amount, released at and by."""
    return _download(exports.disbursements, args)


@blp.get("/milestones.csv")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, CSV_BODY, content_type="text/csv", description=CSV_NOTE)
@blp.alt_response(403, schema=ErrorSchema, description="Not an officer or administrator.")
@blp.alt_response(422, schema=ErrorSchema, description="Invalid filter (unknown programme).")
def milestones(args: dict[str, Any]) -> Response:
    """Every milestone: state (value and label), due date, tranche, overdue, released, decided."""
    return _download(exports.milestone_status, args)


@blp.get("/grants.csv")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, CSV_BODY, content_type="text/csv", description=CSV_NOTE)
@blp.alt_response(403, schema=ErrorSchema, description="Not an officer or administrator.")
@blp.alt_response(422, schema=ErrorSchema, description="Invalid filter (unknown programme).")
def grants(args: dict[str, Any]) -> Response:
    """Every grant: state (value and label), award, released and remaining yen."""
    return _download(exports.grant_money, args)


def _download(build: Build, args: dict[str, Any]) -> Response:
    actor = api_actor()
    filters = exports.Filters(args.get("program_id"), args.get("fiscal_year"))
    return csv_response(build(actor, filters, current_locale()))
