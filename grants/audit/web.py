"""Administrators' page of the audit log: filters, pages, and the CSV file."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from grants.audit import queries as audit_queries
from grants.audit import service as audit_log
from grants.audit.forms import AuditFilterForm
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.downloads import csv_response
from grants.core.http.filters import current_locale
from grants.core.http.forms import apply_errors
from grants.core.http.listing import page_number
from grants.core.permissions import Action

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.get("")
@requires(Action.view_audit)
def index() -> tuple[str, int]:
    form = AuditFilterForm(formdata=request.args)
    page = None
    if form.validate():
        try:
            page = audit_queries.events_page(
                actor(), form.filters(), page_number(), audit_queries.PER_PAGE
            )
        except RuleViolation as error:
            apply_errors(form, error)
    status = 200 if page is not None else 422
    return _page(form, page), status


@bp.get("/audit-log.csv")
@requires(Action.view_audit)
def download() -> Response | tuple[str, int]:
    form = AuditFilterForm(formdata=request.args)
    if form.validate():
        try:
            return csv_response(audit_log.export_events(actor(), form.filters(), current_locale()))
        except RuleViolation as error:
            apply_errors(form, error)
    return _page(form, None), 422


def _page(form: AuditFilterForm, page: Any) -> str:
    return render_template(
        "audit/index.html", form=form, page=page, args=form.query_args(), as_json=as_json
    )


def as_json(value: dict[str, Any] | None) -> str:
    """A snapshot as people read it: keys in order, Japanese as written."""
    return (
        "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    )
