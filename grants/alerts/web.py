"""Alerts inbox, calendar feed settings, the private .ics feed and the admin mail outbox."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, user_logged_out
from werkzeug.wrappers import Response as BaseResponse

from grants.alerts.calendar import service as calendar_feed
from grants.alerts.inbox import queries as inbox_queries
from grants.alerts.inbox import service as alerts
from grants.alerts.inbox import texts
from grants.alerts.models import Alert
from grants.core.alert_kinds import AlertKind, kind_label
from grants.core.http.access import actor, requires
from grants.core.http.filters import current_locale
from grants.core.http.listing import ListView, list_params, list_query, page_number
from grants.core.models import utcnow
from grants.core.permissions import Action
from grants.programs import queries as programme_queries

bp = Blueprint("alerts", __name__)

# The new calendar address, kept in the session between the POST that creates it and the
# one GET that shows it (then gone: only its hash is stored anywhere else); not shown
# after NEW_FEED_SECONDS, nor once its owner signs out.
NEW_FEED_KEY = "new_calendar_feed"
NEW_FEED_SECONDS = 600


@user_logged_out.connect
def _forget_new_feed(_sender: Any, **_extra: Any) -> None:
    session.pop(NEW_FEED_KEY, None)


@bp.app_context_processor
def _header_count() -> dict[str, Any]:
    return {"unread_alerts": _unread_alerts}


def _unread_alerts() -> int:
    """The header's count. Never the reason a page fails (error pages render it too)."""
    if not current_user.is_authenticated:
        return 0
    return inbox_queries.header_count(actor())


def alert_url(alert: Alert, external: bool = False) -> str | None:
    """The page of the alert's subject for the signed-in recipient (alerts.subject_link)."""
    link = texts.subject_link(alert, actor().role)
    if link is None:
        return None
    return url_for(link.endpoint, **link.values, _external=external)


def milestone_url(grant_id: int, milestone_id: int) -> str:
    """A milestone's section of its grant page, as an absolute address (calendar events)."""
    anchor = texts.milestone_anchor(milestone_id)
    return url_for("grant_page.show", grant_id=grant_id, _anchor=anchor, _external=True)


@bp.get("/alerts")
@login_required
def inbox() -> str:
    programs = programme_queries.all_programmes()
    asked = list_query(inbox_queries.ALERTS, programs)
    page = inbox_queries.alert_list(actor(), asked)
    locale = current_locale()
    view = ListView(
        inbox_queries.ALERTS,
        asked,
        page,
        states=[(inbox_queries.UNREAD, _("Unread")), (inbox_queries.READ, _("Read"))],
        kinds=[(str(kind), kind_label(kind, locale)) for kind in AlertKind],
        programs=programs,
    )
    return render_template(
        "alerts/inbox.html",
        view=view,
        page=page,
        describe=texts.describe,
        kind_label=kind_label,
        alert_url=alert_url,
        settled=inbox_queries.settled_ids(actor(), page.items),
        unread=inbox_queries.unread_count(actor()),
    )


@bp.post("/alerts/<int:alert_id>/read")
@login_required
def mark_read(alert_id: int) -> BaseResponse:
    alerts.mark_read(actor(), alert_id, utcnow())
    return redirect(url_for("alerts.inbox", **list_params(request.form)))


@bp.post("/alerts/read-all")
@login_required
def mark_all_read() -> BaseResponse:
    count = alerts.mark_all_read(actor(), utcnow())
    flash(
        ngettext("%(num)d alert marked as read.", "%(num)d alerts marked as read.", count),
        "success",
    )
    return redirect(url_for("alerts.inbox"))


@bp.get("/settings/calendar")
@login_required
def calendar_settings() -> str | BaseResponse:
    new = session.pop(NEW_FEED_KEY, None)
    fresh = isinstance(new, dict) and utcnow().timestamp() - new.get("at", 0) < NEW_FEED_SECONDS
    if not (fresh and new.get("user_id") == actor().id):
        return _calendar_page(None)
    response = make_response(_calendar_page(str(new["url"])))
    response.headers["Cache-Control"] = "no-store"  # the secret: not kept in any cache
    return response


@bp.post("/settings/calendar")
@login_required
def calendar_create() -> BaseResponse:
    """Create (or replace) the address, then redirect (POST-redirect-GET): reloading the page
    that shows it must not replace it again. The next GET shows it once; the database keeps
    just a hash of the token."""
    token = calendar_feed.create_token(actor())
    feed_url = url_for("alerts.calendar_feed", token=token, _external=True)
    session[NEW_FEED_KEY] = {"user_id": actor().id, "url": feed_url, "at": utcnow().timestamp()}
    return redirect(url_for("alerts.calendar_settings", _anchor="new-feed"), code=303)


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
    body = calendar_feed.feed(token, utcnow(), milestone_url)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="milestones.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/admin/outbox")
@requires(Action.view_admin)
def outbox() -> str:
    user = actor()
    page = inbox_queries.outbox_page(user, page_number())
    pending = inbox_queries.pending_count(user)
    return render_template("alerts/outbox.html", page=page, pending=pending)
