"""Officer pages: the tranches awaiting release, and releasing one after checking its gates
and its budget pool: by one officer, or prepared by one and approved by another."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.awards.models import Milestone, PreparedRelease
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.filters import yen
from grants.core.http.forms import Form
from grants.core.http.i18n import localise
from grants.core.http.listing import ListView, chosen_ids, list_query
from grants.core.permissions import Action
from grants.extensions import db
from grants.programs import queries as programme_queries
from grants.releases import queries as release_queries
from grants.releases import service as releases
from grants.releases.queries import RELEASES

bp = Blueprint("releases", __name__, url_prefix="/officer/milestones")


class ReleaseForm(Form):
    """Only the CSRF token: the service makes sure there is at most one release."""


@bp.get("/awaiting-release")
@requires(Action.view_portfolio)
def queue() -> str:
    """Every approved tranche not released yet, oldest due first unless sorted otherwise."""
    programs = programme_queries.all_programmes()
    asked = list_query(RELEASES, programs)
    view = ListView(
        RELEASES,
        asked,
        release_queries.awaiting_release(asked),
        programs=programs,
        fiscal_years=programme_queries.fiscal_years(),
    )
    prepared = release_queries.prepared_waiting(asked.program_id)
    return render_template("releases/queue.html", view=view, prepared=prepared)


@bp.get("/bulk-release")
@requires(Action.release_tranche)
def confirm_bulk() -> tuple[str, int] | Response:
    """Confirm the tranches ticked in the release queue: what each is and what they come
    to; nothing moves before the confirmation's POST."""
    chosen = chosen_ids(request.args.getlist("milestone_id"))
    if not chosen:
        flash(_("Tick the tranches to release first."), "warning")
        return redirect(url_for("releases.queue"))
    rows = release_queries.tranches(chosen[: releases.BULK_MAX])
    page = render_template(
        "releases/bulk_confirm.html",
        form=ReleaseForm(),
        rows=rows,
        ready=[row for row in rows if row.awaiting],
        too_many=len(chosen) > releases.BULK_MAX,
        bulk_max=releases.BULK_MAX,
    )
    return page, 200


@bp.post("/bulk-release")
@requires(Action.release_tranche)
def bulk_release() -> tuple[str, int] | Response:
    """Release each confirmed tranche as its own release (every gate checked on its own),
    and report each one's outcome."""
    form = ReleaseForm()
    chosen = chosen_ids(request.form.getlist("milestone_id"))
    if not form.validate_on_submit() or not chosen:
        flash(_("Tick the tranches to release first."), "warning")
        return redirect(url_for("releases.queue"))
    try:
        outcomes = releases.release_each(actor(), chosen, _today())
    except RuleViolation as error:  # more than a bulk release may name
        flash(localise(error.message), "error")
        return redirect(url_for("releases.queue"))
    rows = {row.id: row for row in release_queries.tranches(chosen)}
    page = render_template(
        "releases/bulk_result.html",
        results=[(outcome, rows.get(outcome.milestone_id)) for outcome in outcomes],
        released=sum(outcome.released for outcome in outcomes),
        amount=sum(o.disbursement.amount for o in outcomes if o.disbursement is not None),
    )
    return page, 200


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
