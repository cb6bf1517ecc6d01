"""Applicant pages: my organization's applications, their plan, co-investments and submission."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.accounts.models import Organization
from grants.applications import queries as application_queries
from grants.applications import service as applications
from grants.applications.forms import (
    ApplicationForm,
    CoInvestmentsForm,
    PlanForm,
    WithdrawForm,
    co_investment_data,
    error_lines,
    plan_data,
)
from grants.applications.models import Application
from grants.applications.queries import APPLICATIONS, application_actions, application_for
from grants.core.calendar import format_date, tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import apply_errors, status
from grants.core.http.labels import modality_labels, stage_labels, state_choices, theme_labels
from grants.core.http.listing import ListView, list_query
from grants.core.money import format_yen
from grants.core.permissions import Action
from grants.core.states import ApplicationState
from grants.programs import queries as programme_queries
from grants.programs.models import Program
from grants.rules import Trace, TraceRow
from grants.rules.facts import FACTS, Kind
from grants.rules.messages import shown_as

bp = Blueprint("applications", __name__, url_prefix="/applications")


def _today() -> date:
    return tokyo_today(datetime.now(UTC))


def _locale() -> str:
    return str(get_locale() or "ja")


@bp.get("")
@requires(Action.view_application)
def index() -> str:
    """The applications the reader may see (their organisation's, or every one for
    officers), searched, filtered and sorted."""
    programs = programme_queries.all_programmes()
    asked = list_query(APPLICATIONS, programs)
    view = ListView(
        APPLICATIONS,
        asked,
        application_queries.application_list(actor(), asked),
        states=state_choices(ApplicationState),
        programs=programs,
        fiscal_years=programme_queries.fiscal_years(),
    )
    everyone = application_queries.lists_every_application(actor())
    return render_template("applications/index.html", view=view, everyone=everyone)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.create_application)
def new() -> tuple[str, int] | Response:
    """The programme first (from ?program_id=, or the only open one), so that the form offers
    only the themes and modalities that programme accepts."""
    programs = application_queries.open_programs(_today())
    chosen = _chosen_programme(programs, request.args.get("program_id"))
    if request.method == "GET" and chosen is None and len(programs) != 1:
        page = render_template(
            "applications/choose_programme.html",
            programs=programs,
            theme_labels=theme_labels(),
            modality_labels=modality_labels(),
        )
        return page, 200
    if request.method == "GET":
        form = ApplicationForm(programs=programs, locale=_locale(), data={"program_id": chosen})
    else:
        form = ApplicationForm(programs=programs, locale=_locale())
    if form.validate_on_submit():
        try:
            application = applications.create_draft(actor(), form.to_data())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The draft was created. Add the milestone plan next."), "success")
            return redirect(url_for("applications.show", application_id=application.id))
    return render_template("applications/form.html", form=form, application=None), status(form)


def _chosen_programme(programs: list[Program], asked: str | None) -> int | None:
    """The id of the open programme asked for, or of the only open one."""
    if len(programs) == 1 and not asked:
        return programs[0].id
    return next((p.id for p in programs if str(p.id) == asked), None)


@bp.get("/<int:application_id>")
@requires(Action.view_application)
def show(application_id: int) -> tuple[str, int]:
    application = application_queries.get_application(actor(), application_id)
    return _show(application)


def _show(application: Application, errors: RuleViolation | None = None) -> tuple[str, int]:
    stored = application_queries.stored_trace(application)
    preview = None
    if stored is None and application.state == "draft":
        preview = application_queries.preview_trace(application, _today())
    page = render_template(
        "applications/show.html",
        application=application,
        trace=stored or preview,
        is_preview=stored is None,
        warnings=application_queries.plan_warnings(application),
        errors=errors,
        error_lines=error_lines(errors) if errors else [],
        **asdict(application_actions(actor(), application)),
        theme_labels=theme_labels(),
        modality_labels=modality_labels(),
        stage_labels=stage_labels(),
    )
    return page, 422 if errors else 200


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@requires(Action.edit_application)
def edit(application_id: int) -> tuple[str, int] | Response:
    application = _editable(application_id)
    programs = application_queries.open_programs(_today(), keep=application.program_id)
    form = ApplicationForm(obj=application, programs=programs, locale=_locale())
    if form.validate_on_submit():
        try:
            applications.update_draft(actor(), application_id, form.to_data())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The application was saved."), "success")
            return redirect(url_for("applications.show", application_id=application_id))
    page = render_template("applications/form.html", form=form, application=application)
    return page, status(form)


@bp.route("/<int:application_id>/plan", methods=["GET", "POST"])
@requires(Action.edit_application)
def plan(application_id: int) -> tuple[str, int] | Response:
    application = _editable(application_id)
    if request.method == "GET":
        form = PlanForm(data=plan_data(application.plan))
    else:
        form = PlanForm()
        if "add_milestone" in request.form:
            form.add_milestone()
        elif "add_criterion" in request.form:
            form.add_criterion(request.form.get("add_criterion", ""))
        elif form.validate_on_submit():
            milestones, renames = form.to_plan()
            try:
                applications.replace_plan(actor(), application_id, milestones)
            except RuleViolation as error:
                apply_errors(form, error, renames)
            else:
                flash(_("The milestone plan was saved."), "success")
                return redirect(url_for("applications.show", application_id=application_id))
    warnings = application_queries.plan_warnings(application)
    page = render_template(
        "applications/plan.html", form=form, application=application, warnings=warnings
    )
    return page, status(form)


@bp.route("/<int:application_id>/co-investments", methods=["GET", "POST"])
@requires(Action.edit_application)
def co_investments(application_id: int) -> tuple[str, int] | Response:
    application = _editable(application_id)
    investors = [
        (org.id, _investor_label(org, certified))
        for org, certified in application_queries.investors(application)
    ]
    if request.method == "GET":
        form = CoInvestmentsForm(data=co_investment_data(application.co_investments))
    else:
        form = CoInvestmentsForm()
    if "add_row" in request.form:
        form.add_row()
    form.set_investors(investors)
    if "add_row" not in request.form and form.validate_on_submit():
        items, renames = form.to_items()
        try:
            applications.set_co_investments(actor(), application_id, items)
        except RuleViolation as error:
            apply_errors(form, error, renames)
        else:
            flash(_("The co-investments were saved."), "success")
            return redirect(url_for("applications.show", application_id=application_id))
    page = render_template("applications/co_investments.html", form=form, application=application)
    return page, status(form)


def _investor_label(org: Organization, certified: bool) -> str:
    name = org.display_name(_locale())
    return _("%(name)s (certified VC)", name=name) if certified else name


@bp.post("/<int:application_id>/submit")
@requires(Action.submit_application)
def submit(application_id: int) -> tuple[str, int] | Response:
    try:  # CSRFProtect has checked the token already
        application = applications.submit(actor(), application_id, _today())
    except RuleViolation as error:
        return _show(application_queries.get_application(actor(), application_id), error)
    trace = application_queries.stored_trace(application)
    if trace is not None and trace.ok:
        flash(_("The application was submitted. It meets the eligibility rules."), "success")
    else:
        flash(
            _("The application was submitted, but it does not meet the eligibility rules."),
            "warning",
        )
    return redirect(url_for("applications.show", application_id=application_id, _anchor="trace"))


@bp.route("/<int:application_id>/withdraw", methods=["GET", "POST"])
@requires(Action.withdraw_application)
def withdraw(application_id: int) -> tuple[str, int] | Response:
    """Confirm first (it cannot be undone), like a grant's termination: the page says what
    withdrawing means and the box must be ticked; a POST without it changes nothing."""
    application = application_for(actor(), application_id, Action.withdraw_application)
    form = WithdrawForm()
    if form.validate_on_submit():
        applications.withdraw(actor(), application_id)
        flash(_("The application was withdrawn."), "success")
        return redirect(url_for("applications.show", application_id=application_id))
    page = render_template("applications/withdraw.html", form=form, application=application)
    return page, status(form)


def _editable(application_id: int) -> Application:
    """The application, when the current user may edit it (403 another's, 409 not a draft)."""
    return application_for(actor(), application_id, Action.edit_application)


# ---- the eligibility trace, for templates/_macros/trace.html ---------------------------------

_ACTUAL = ("actual", "approvals", "certified", "approved")
_BOUND = ("required", "limit", "latest", "earliest", "allowed", "total")


@bp.app_template_global("trace_compared")
def trace_compared(row: TraceRow, locale: str) -> tuple[str, str]:
    """The two values a trace row compared, for display: (the actual one, the bound)."""
    actual = next((key for key in _ACTUAL if key in row.compared), None)
    bound = next((key for key in _BOUND if key in row.compared), None)
    return _display(row, actual, locale), _display(row, bound, locale)


def _display(row: TraceRow, key: str | None, locale: str) -> str:
    value = None if key is None else row.compared[key]
    if key is None or value is None or value == "":
        return "—"
    fact = row.compared.get("fact")
    kind = FACTS[fact].kind if fact in FACTS else None
    # Rule types comparing fixed facts (the budget gate) name no fact: their message says how.
    if (kind is Kind.YEN or shown_as(row.rule_type, key) == "yen") and isinstance(value, int):
        return format_yen(value, locale)
    if kind is Kind.DATE and isinstance(value, str):
        return format_date(date.fromisoformat(value), locale)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    labels = {**theme_labels(), **modality_labels(), **stage_labels()}
    if kind is Kind.TEXT and isinstance(value, str):
        return ", ".join(labels.get(part, part) for part in value.split(", "))
    return str(value)


@bp.app_template_global("trace_of")
def trace_of(stored: dict[str, Any] | None) -> Trace | None:
    return None if stored is None else Trace.from_dict(stored)
