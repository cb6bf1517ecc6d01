"""Officer page: a call's ranked list, its funding line against the budget pools, a
what-if (another line, other amounts; nothing is written), the chart of the scores per
criterion and the CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from grants.core.calendar import tokyo_today
from grants.core.db import Page, page_within
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.downloads import csv_response
from grants.core.http.filters import current_locale
from grants.core.http.i18n import localise
from grants.core.http.listing import page_number
from grants.core.money import parse_yen
from grants.core.permissions import Action
from grants.core.problems import problem_of
from grants.core.text import figure
from grants.extensions import db
from grants.merit_review.ranking.charts import distribution_chart
from grants.merit_review.ranking.export import ranking_csv
from grants.merit_review.ranking.queries import Ranking, WhatIf, ranking, what_if
from grants.merit_review.rules import TIE_BREAK
from grants.programs.models import Program

bp = Blueprint("merit_ranking", __name__, url_prefix="/officer/programs")
PAGE_SIZE = 50
_AMOUNT = "amount-"


def _today() -> date:
    return tokyo_today(datetime.now(UTC))


@bp.get("/<int:program_id>/ranking")
@requires(Action.view_ranking)
def show(program_id: int) -> tuple[str, int]:
    program = db.get_or_404(Program, program_id)
    found = ranking(actor(), program.id, _today())
    line, amounts, errors = _what_if_input()
    tried: WhatIf | None = None
    if not errors and (line is not None or amounts):
        try:
            tried = what_if(found, line, amounts)
        except RuleViolation as error:
            errors = {key: list(value) for key, value in localise(error.fields).items()}
            if not errors:
                errors = {"": [localise(error.message)]}
    page = _page(found)
    distribution = found.distribution
    chart = (
        distribution_chart(distribution.stage, distribution.counts, current_locale())
        if distribution
        else None
    )
    html = render_template(
        "merit_review/ranking/show.html",
        program=program,
        ranking=found,
        page=page,
        tried=tried,
        line=tried.line if tried else found.line,
        line_before=_line_before(found, tried),
        pools=tried.pools if tried else found.pools,
        errors=errors,
        typed=_typed(),
        carried=_carried_amounts(page),
        above=set(found.undecided[: (tried.line if tried else found.line) or 0]),
        chart=chart,
        tie_break=localise(TIE_BREAK),
        what_if_args=_carried(),
    )
    return html, 422 if errors else 200


@bp.get("/<int:program_id>/ranking.csv")
@requires(Action.view_ranking)
def export(program_id: int) -> Response:
    program = db.get_or_404(Program, program_id)
    found = ranking(actor(), program.id, _today())
    return csv_response(ranking_csv(found, program.code, current_locale()))


def _page(found: Ranking) -> Page:
    """A page of the ranking's rows (the last one for a number past the end)."""
    number = page_within(page_number(), len(found.rows), PAGE_SIZE)
    start = (number - 1) * PAGE_SIZE
    return Page(list(found.rows[start : start + PAGE_SIZE]), number, PAGE_SIZE, len(found.rows))


def _line_before(found: Ranking, tried: WhatIf | None) -> int | None:
    """The undecided application the line is drawn above (None: below every one)."""
    line = tried.line if tried else found.line
    if line is None or line >= len(found.undecided):
        return None
    return found.undecided[line]


def _what_if_input() -> tuple[int | None, dict[int, int], dict[str, list[str]]]:
    """?line= and ?amount-<application id>= as typed (yen as people write them)."""
    errors: dict[str, list[str]] = {}
    line = None
    text = figure(request.args.get("line", "")).strip()
    if text:
        if text.isascii() and text.isdecimal() and len(text) <= 9:
            line = int(text)
        else:
            errors["line"] = [_("Enter a whole number of applications.")]
    amounts: dict[int, int] = {}
    for key, value in request.args.items():
        if not key.startswith(_AMOUNT) or not value.strip():
            continue
        application = key.removeprefix(_AMOUNT)
        if not (application.isascii() and application.isdecimal() and len(application) <= 18):
            continue
        try:
            amounts[int(application)] = parse_yen(value)
        except ValueError as error:
            errors[f"amounts.{application}"] = [localise(problem_of(error))]
    return line, amounts, errors


def _typed() -> dict[str, str]:
    """What the officer typed, to show it back in the form."""
    return {
        key: value
        for key, value in request.args.items()
        if key == "line" or key.startswith(_AMOUNT)
    }


def _carried_amounts(page: Page) -> dict[str, str]:
    """The amounts typed for applications on other pages, kept in the form as hidden fields."""
    here = {f"{_AMOUNT}{row.application_id}" for row in page.items}
    return {key: value for key, value in _typed().items() if key != "line" and key not in here}


def _carried() -> dict[str, Any]:
    """The what-if's arguments, for the pager's links."""
    return {key: value for key, value in request.args.items() if key != "page"}
