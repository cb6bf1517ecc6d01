"""Admin page: role changes waiting for a second administrator, confirmed or refused."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.accounts.role_changes import queries as role_change_queries
from grants.accounts.role_changes import service as role_changes
from grants.core.http.access import actor, requires
from grants.core.http.forms import Form
from grants.core.http.listing import page_number
from grants.core.permissions import Action

bp = Blueprint("role_changes", __name__, url_prefix="/admin/role-changes")


class DecisionForm(Form):
    """Only the CSRF token: the use case checks who decides and that the change waits."""


@bp.get("")
@requires(Action.manage_users)
def index() -> str:
    page, rows = role_change_queries.changes_page(actor(), page_number())
    return render_template(
        "accounts/role_changes/index.html", page=page, rows=rows, form=DecisionForm()
    )


@bp.post("/<int:change_id>/confirm")
@requires(Action.confirm_role_change)
def confirm(change_id: int) -> Response:
    if DecisionForm().validate_on_submit():
        change = role_changes.confirm_role_change(actor(), change_id)
        flash(_("The role change of %(email)s is confirmed.", email=change.user.email), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:change_id>/refuse")
@requires(Action.manage_users)
def refuse(change_id: int) -> Response:
    if DecisionForm().validate_on_submit():
        change = role_changes.refuse_role_change(actor(), change_id)
        flash(_("The role change of %(email)s is refused.", email=change.user.email), "success")
    return redirect(url_for(".index"))
