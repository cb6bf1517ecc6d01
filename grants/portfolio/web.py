"""Officer page: the portfolio (overdue first), its health, and the budget by fiscal year."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, render_template
from flask_babel import get_locale
from markupsafe import Markup

from grants.core import audit_marks
from grants.core.calendar import tokyo_today
from grants.core.http.access import actor, requires
from grants.core.http.labels import state_choices
from grants.core.http.listing import ListView, list_query
from grants.core.permissions import Action
from grants.core.states import GrantState
from grants.portfolio import charts
from grants.portfolio import health as portfolio_health
from grants.portfolio import queries as portfolio
from grants.programs import queries as programme_queries
from grants.releases import queries as release_queries

bp = Blueprint("portfolio", __name__, url_prefix="/officer")


@bp.get("/portfolio")
@requires(Action.view_portfolio)
def index() -> str:
    today = tokyo_today(datetime.now(UTC))
    programs = programme_queries.all_programmes()
    asked = list_query(portfolio.PORTFOLIO, programs)
    program_id = asked.program_id
    locale = str(get_locale() or "ja")
    view = ListView(
        portfolio.PORTFOLIO,
        asked,
        portfolio.portfolio(actor(), today, asked),
        states=state_choices(GrantState),
        programs=programs,
        fiscal_years=programme_queries.fiscal_years(),
    )
    return render_template(
        "portfolio/index.html",
        today=today,
        view=view,
        program_id=program_id,
        awaiting=release_queries.awaiting_release(
            release_queries.RELEASES.query(program_id=program_id, per_page=portfolio.AWAITING_SHOWN)
        ),
        figures=audit_marks.kept(
            "portfolio.figures", (today, program_id, locale), lambda: _figures(today, program_id)
        ),
    )


def _figures(today: date, program_id: int | None) -> Markup:
    """The health and budget sections, whose charts cost more to draw than the figures
    cost to read: kept with the figures while the data stands still."""
    locale = str(get_locale() or "ja")
    budget = programme_queries.budget_by_year(program_id)
    health = portfolio_health.health_by_programme(today, program_id)
    return Markup(
        render_template(
            "portfolio/_figures.html",
            budget=budget,
            budget_chart=charts.budget_chart([_pool(row) for row in budget], locale),
            health=health,
            health_chart=charts.health_chart([_health(row) for row in health]),
            programme_names={row.program_code: row.program(locale) for row in health},
        )
    )


def _pool(row: programme_queries.BudgetRow) -> charts.PoolFigures:
    return charts.PoolFigures(
        row.program_code, row.fiscal_year, row.appropriation, row.committed, row.net_released
    )


def _health(row: portfolio_health.HealthRow) -> charts.ProgrammeHealth:
    return charts.ProgrammeHealth(row.program_code, row.due, row.on_time, row.overdue)
