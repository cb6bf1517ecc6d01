"""The settlement ledger as a CSV download for accounting (?program_id=, ?fiscal_year=)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from grants.core.http.access import actor, requires
from grants.core.http.downloads import csv_response
from grants.core.http.i18n import select_locale
from grants.core.permissions import Action
from grants.settlement.ledger import service as ledger

bp = Blueprint("ledger", __name__)


@bp.get("/settlement/ledger.csv")
@requires(Action.view_portfolio)
def download() -> Response:
    export = ledger.ledger(
        actor(),
        request.args.get("program_id", type=int),
        request.args.get("fiscal_year", type=int),
        select_locale(),
    )
    return csv_response(export)
