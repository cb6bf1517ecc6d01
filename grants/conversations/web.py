"""Conversation pages: a thread with its form, a message's place in it, a file's download."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.conversations import service
from grants.conversations.forms import MessageForm
from grants.conversations.queries import Topic, thread_view, visible_message
from grants.conversations.rules import ThreadKind, linkify
from grants.core.calendar import tokyo_today
from grants.core.db import begin_writing
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import apply_errors, has_errors
from grants.core.http.i18n import select_locale
from grants.core.http.limits import accepts_uploads
from grants.core.identity import Role
from grants.core.permissions import Action

bp = Blueprint("conversations", __name__)


@bp.app_template_filter("linkify")
def _linkify(text: str) -> str:
    return linkify(text)


@bp.route("/conversations/<kind>/<int:subject_id>", methods=["GET", "POST"])
@accepts_uploads
@requires(Action.discuss)
def show(kind: str, subject_id: int) -> tuple[str, int] | Response:
    """A thread (`kind`: application, milestone or amendment; another is not found)."""
    view = thread_view(actor(), kind, subject_id, select_locale())
    form = MessageForm()
    if not view.access.reads_internal:
        del form.internal
    if form.validate_on_submit():
        uploads = [
            (upload.filename or "", upload.stream, upload.mimetype or "")
            for upload in request.files.getlist(form.files.name)
        ]
        internal = bool(form.internal.data) if view.access.reads_internal else False
        try:
            message = service.post_message(
                actor(),
                kind,
                subject_id,
                form.body.data or "",
                internal,
                uploads,
                tokyo_today(datetime.now(UTC)),
                upload_folder=_upload_folder(),
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("Your message was posted."), "success")
            return redirect(
                url_for(".show", kind=kind, subject_id=subject_id, _anchor=f"message-{message.id}")
            )
    elif request.method == "GET" and view.thread is not None and view.messages:
        begin_writing()
        service.mark_read(actor(), view.thread.id, view.messages[-1].id)
    failed = has_errors(form)
    page = render_template(
        "conversations/show.html",
        view=view,
        form=form,
        back=back_link(view.topic),
    )
    return page, 422 if failed else 200


def back_link(topic: Topic) -> str:
    """Where the thread's subject is shown."""
    if topic.kind == ThreadKind.application:
        staff = actor().role == Role.officer  # officers read applications on the award page
        endpoint = "awards.show" if staff else "applications.show"
        return url_for(endpoint, application_id=topic.subject_id)
    assert topic.grant is not None
    if topic.kind == ThreadKind.amendment:
        return url_for(
            "amendments.index", grant_id=topic.grant.id, _anchor=f"amendment-{topic.subject_id}"
        )
    return url_for(
        "grant_page.show", grant_id=topic.grant.id, _anchor=f"milestone-{topic.subject_id}"
    )


@bp.get("/conversations/messages/<int:message_id>")
@requires(Action.discuss)
def message(message_id: int) -> Response:
    """Where a notification of a message leads: the message in its thread."""
    found = visible_message(actor(), message_id)
    thread = found.thread
    return redirect(
        url_for(
            ".show",
            kind=thread.subject_type,
            subject_id=thread.subject_id,
            _anchor=f"message-{message_id}",
        )
    )


@bp.get("/conversations/files/<int:attachment_id>")
@requires(Action.discuss)
def download(attachment_id: int) -> Response:
    begin_writing()
    attachment = service.open_attachment(actor(), attachment_id, upload_folder=_upload_folder())
    path = _upload_folder().resolve() / attachment.stored_name
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
    )
    response.headers["Content-Type"] = attachment.content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])
