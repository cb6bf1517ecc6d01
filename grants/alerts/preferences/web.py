"""E-mail preferences: the settings page, and the page a signed link in an e-mail opens
(no sign-in: the link proves whose choice it is, for that one kind)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from grants.alerts.preferences import links, queries, service
from grants.alerts.preferences.forms import LinkForm, preferences_form
from grants.core.alert_kinds import kind_label
from grants.core.errors import RuleViolation
from grants.core.http.access import actor
from grants.core.http.forms import apply_errors
from grants.core.models import utcnow

bp = Blueprint("preferences", __name__, url_prefix="/settings/notifications")


@bp.route("", methods=["GET", "POST"])
@login_required
def index() -> tuple[str, int] | Response:
    preferences = queries.preferences_of(actor())
    form = preferences_form(tuple(p.kind for p in preferences))(
        data={str(p.kind): str(p.delivery) for p in preferences}
    )
    if form.validate_on_submit():
        chosen = {str(p.kind): form[str(p.kind)].data for p in preferences}
        try:
            service.set_preferences(actor(), chosen)
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("Your e-mail preferences were saved."), "success")
            return redirect(url_for("preferences.index"), code=303)
    page = render_template(
        "alerts/preferences/index.html",
        form=form,
        preferences=preferences,
        kind_label=kind_label,
    )
    return page, 422 if form.errors or form.form_errors else 200


@bp.route("/link/<token>", methods=["GET", "POST"])
def link(token: str) -> tuple[str, int] | Response:
    try:
        choice = links.read(token, current_app.config["SECRET_KEY"], _valid_for(), utcnow())
    except links.LinkExpired:
        return _refused(expired=True), 410
    except links.LinkRefused:
        return _refused(expired=False), 404
    person = queries.linked_person(choice.user_id)
    if person is None:
        return _refused(expired=False), 404
    preference = queries.preference_of(person, choice.kind)
    form = LinkForm(data={"delivery": str(preference.delivery)})
    if form.validate_on_submit():
        chosen = {str(choice.kind): str(form.delivery.data)}
        service.set_preferences(person, chosen, via_link=True)
        flash(_("Your choice was saved."), "success")
        return redirect(url_for("preferences.link", token=token), code=303)
    page = render_template(
        "alerts/preferences/link.html",
        form=form,
        kind=choice.kind,
        person=person,
        kind_label=kind_label,
    )
    return page, 422 if form.errors else 200


def _valid_for() -> timedelta:
    return timedelta(days=int(current_app.config["NOTIFICATION_LINK_DAYS"]))


def _refused(expired: bool) -> str:
    return render_template("alerts/preferences/link_refused.html", expired=expired)
