"""Officer page: the portfolio (overdue first) and the budget by fiscal year."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template, request
from sqlalchemy import select

from grants.domain.calendar import tokyo_today
from grants.domain.permissions import Action
from grants.extensions import db
from grants.models import Program
from grants.services import portfolio
from grants.web.access import requires

bp = Blueprint("portfolio", __name__, url_prefix="/officer")


@bp.get("/portfolio")
@requires(Action.view_portfolio)
def index() -> str:
    today = tokyo_today(datetime.now(UTC))
    programs = list(db.session.scalars(select(Program).order_by(Program.code)))
    program_id = request.args.get("program_id", type=int)
    if program_id not in {p.id for p in programs}:
        program_id = None
    page_number = max(request.args.get("page", 1, type=int) or 1, 1)
    return render_template(
        "portfolio/index.html",
        today=today,
        programs=programs,
        program_id=program_id,
        page=portfolio.portfolio(today, program_id, page_number),
        budget=portfolio.budget_by_year(program_id),
        awaiting=portfolio.awaiting_release(program_id),
    )
