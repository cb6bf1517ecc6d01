"""Officer pages: the tranches awaiting release, and releasing one after checking its gates
and its budget pool: by one officer, or prepared by one and approved by another."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.awards.models import Milestone, PreparedRelease
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.filters import yen
from grants.core.http.forms import Form
from grants.core.http.i18n import localise
from grants.core.http.listing import chosen, page_number
from grants.core.permissions import Action
from grants.extensions import db
from grants.programs import queries as programme_queries
from grants.releases import queries as release_queries
from grants.releases import service as releases

bp = Blueprint("releases", __name__, url_prefix="/officer/milestones")


class ReleaseForm(Form):
    """Only the CSRF token: the service makes sure there is at most one release."""


@bp.get("/awaiting-release")
@requires(Action.view_portfolio)
def queue() -> str:
    """Every approved tranche not released yet, oldest due first, by programme."""
    programs = programme_queries.all_programmes()
    program_id = chosen(programs, "program_id")
    return render_template(
        "releases/queue.html",
        programs=programs,
        program_id=program_id,
        page=release_queries.awaiting_release(program_id, page_number()),
        prepared=release_queries.prepared_waiting(program_id),
    )


@bp.get("/<int:milestone_id>/release")
@requires(Action.release_tranche)
def show(milestone_id: int) -> tuple[str, int]:
    milestone = db.get_or_404(Milestone, milestone_id)
    return _page(milestone, ReleaseForm())


@bp.post("/<int:milestone_id>/release")
@requires(Action.release_tranche)
def release(milestone_id: int) -> tuple[str, int] | Response:
    milestone = db.get_or_404(Milestone, milestone_id)
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            disbursement = releases.release(actor(), milestone_id, _today())
        except RuleViolation as error:
            # The message names every failing gate, or the fiscal year and the shortfall.
            form.form_errors.append(localise(error.message))
        else:
            return _released(milestone, disbursement.amount)
    return _page(db.get_or_404(Milestone, milestone_id), form)


@bp.post("/<int:milestone_id>/release/prepare")
@requires(Action.prepare_release)
def prepare(milestone_id: int) -> tuple[str, int] | Response:
    milestone = db.get_or_404(Milestone, milestone_id)
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            releases.prepare_release(actor(), milestone_id, _today())
        except RuleViolation as error:
            form.form_errors.append(localise(error.message))
        else:
            flash(
                _(
                    "The release of %(amount)s is prepared: it goes out when another officer "
                    "approves it.",
                    amount=yen(milestone.tranche_amount),
                ),
                "success",
            )
            return redirect(url_for(".show", milestone_id=milestone_id))
    return _page(db.get_or_404(Milestone, milestone_id), form)


@bp.post("/prepared-releases/<int:prepared_id>/approve")
@requires(Action.approve_release)
def approve(prepared_id: int) -> tuple[str, int] | Response:
    prepared = db.get_or_404(PreparedRelease, prepared_id)
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            disbursement = releases.approve_release(actor(), prepared_id, _today())
        except RuleViolation as error:
            form.form_errors.append(localise(error.message))
        else:
            return _released(prepared.milestone, disbursement.amount)
    return _page(db.get_or_404(Milestone, prepared.milestone_id), form)


@bp.post("/prepared-releases/<int:prepared_id>/cancel")
@requires(Action.cancel_release)
def cancel(prepared_id: int) -> Response:
    prepared = db.get_or_404(PreparedRelease, prepared_id)
    if ReleaseForm().validate_on_submit():
        releases.cancel_release(actor(), prepared_id)
        flash(_("The prepared release was cancelled."), "success")
    return redirect(url_for(".show", milestone_id=prepared.milestone_id))


def _released(milestone: Milestone, amount: int) -> Response:
    flash(_("The tranche of %(amount)s was released.", amount=yen(amount)), "success")
    return redirect(_after_release(milestone))


def _page(milestone: Milestone, form: ReleaseForm) -> tuple[str, int]:
    today = _today()
    view = release_queries.release_view(actor(), milestone, today)
    page = render_template("releases/show.html", view=view, form=form, today=today)
    return page, 422 if form.form_errors or any(f.errors for f in form) else 200


def _after_release(milestone: Milestone) -> str:
    return url_for(
        "grant_page.show", grant_id=milestone.grant_id, _anchor=f"milestone-{milestone.id}"
    )


def _today() -> date:
    return tokyo_today(datetime.now(UTC))
