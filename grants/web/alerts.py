"""Alerts inbox, calendar feed settings, the private .ics feed and the admin mail outbox."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from grants.domain.alerts import kind_label
from grants.domain.permissions import Action
from grants.extensions import db
from grants.models.base import utcnow
from grants.services import alerts, calendar_feed
from grants.web.access import actor, requires

bp = Blueprint("alerts", __name__)


@bp.app_context_processor
def _header_count() -> dict[str, Any]:
    return {"unread_alerts": _unread_alerts}


def _unread_alerts() -> int:
    """The header's count. Never the reason a page fails (error pages render it too)."""
    if not current_user.is_authenticated:
        return 0
    try:
        return alerts.unread_count(actor())
    except SQLAlchemyError:
        db.session.rollback()
        return 0


def grant_url(grant_id: int | None, external: bool = False) -> str | None:
    """The grant page of an alert's subject, if it has one."""
    if grant_id is None:
        return None
    return url_for("grant_pages.show", grant_id=grant_id, _external=external)


@bp.get("/alerts")
@login_required
def inbox() -> str:
    page = alerts.inbox_page(actor(), request.args.get("page", 1, type=int) or 1)
    return render_template(
        "alerts/inbox.html",
        page=page,
        describe=alerts.describe,
        kind_label=kind_label,
        grant_url=grant_url,
        unread=alerts.unread_count(actor()),
    )


@bp.post("/alerts/<int:alert_id>/read")
@login_required
def mark_read(alert_id: int) -> BaseResponse:
    alerts.mark_read(actor(), alert_id, utcnow())
    return redirect(url_for("alerts.inbox", page=request.form.get("page", 1, type=int) or 1))


@bp.post("/alerts/read-all")
@login_required
def mark_all_read() -> BaseResponse:
    count = alerts.mark_all_read(actor(), utcnow())
    flash(_("%(count)d alerts marked as read.", count=count), "success")
    return redirect(url_for("alerts.inbox"))


@bp.get("/settings/calendar")
@login_required
def calendar_settings() -> str:
    return _calendar_page(None)


@bp.post("/settings/calendar")
@login_required
def calendar_create() -> str:
    token = calendar_feed.create_token(actor())
    feed_url = url_for("alerts.calendar_feed", token=token, _external=True)
    # Shown on this response only: the database keeps just a hash of the token.
    return _calendar_page(feed_url)


@bp.post("/settings/calendar/revoke")
@login_required
def calendar_revoke() -> BaseResponse:
    if calendar_feed.revoke_token(actor()):
        flash(_("The calendar address was revoked. It no longer works."), "success")
    else:
        flash(_("There was no calendar address to revoke."), "info")
    return redirect(url_for("alerts.calendar_settings"))


def _calendar_page(feed_url: str | None) -> str:
    return render_template(
        "alerts/calendar.html", record=calendar_feed.current_token(actor()), feed_url=feed_url
    )


@bp.get("/calendar/<token>.ics", endpoint="calendar_feed")
def calendar_feed_view(token: str) -> Response:
    body = calendar_feed.feed(token, utcnow(), lambda grant_id: grant_url(grant_id, True))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="milestones.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/admin/outbox")
@requires(Action.view_admin)
def outbox() -> str:
    user = actor()
    page = alerts.outbox_page(user, request.args.get("page", 1, type=int) or 1)
    return render_template("alerts/outbox.html", page=page, pending=alerts.pending_count(user))
