"""The notices as downloads: the grant decision and a period's final amount, in Japanese,
or in English with ?lang=en."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, request

from grants.core.calendar import tokyo_today
from grants.core.db import begin_writing
from grants.core.http.access import actor, requires
from grants.core.http.downloads import pdf_response
from grants.core.permissions import Action
from grants.settlement.documents import service as documents

bp = Blueprint("notices", __name__)


@bp.get("/grants/<int:grant_id>/notices/decision.pdf")
@requires(Action.view_grant)
def decision(grant_id: int) -> Response:
    begin_writing()  # the download is audited
    today = tokyo_today(datetime.now(UTC))
    document = documents.decision_notice(actor(), grant_id, language(), today)
    return pdf_response(document.data, document.filename)


@bp.get("/settlement/final-amounts/<int:settlement_id>/notice.pdf")
@requires(Action.view_grant)
def final_amount(settlement_id: int) -> Response:
    begin_writing()
    today = tokyo_today(datetime.now(UTC))
    document = documents.final_notice(actor(), settlement_id, language(), today)
    return pdf_response(document.data, document.filename)


def language() -> str:
    """Japanese, the notices' language; English on request (?lang=en)."""
    return "en" if request.args.get("lang") == "en" else "ja"
