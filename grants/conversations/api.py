"""Conversations: the messages of an application's, a milestone's or an amendment's thread
that the caller may read, posting one (multipart, with files), downloading a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, send_file
from flask_smorest.fields import Upload
from marshmallow import Schema, fields
from werkzeug.wrappers import Response

from grants.conversations import service
from grants.conversations.models import Message
from grants.conversations.queries import authors, thread_view
from grants.conversations.rules import BODY_MAX, ThreadKind
from grants.core.db import begin_writing
from grants.core.errors import NotAllowed
from grants.core.http.api import ApiBlueprint, Text, api_actor
from grants.core.http.i18n import select_locale
from grants.core.http.limits import accepts_uploads
from grants.core.http.schemas import ErrorSchema, today
from grants.core.problems import N_
from grants.milestones.evidence.service import FILES_MAX

blp = ApiBlueprint(
    "api_conversations",
    __name__,
    url_prefix="/api/v1",
    description="Conversations on applications, milestones and amendments. Applicants see "
    "shared messages only; internal ones are for the officers and the grant's reviewers.",
)


class MessageAttachmentSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="original_name")
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    has_formulas = fields.Boolean(required=True)


class ConversationMessageSchema(Schema):
    id = fields.Integer(required=True)
    author = fields.String(required=True, metadata={"description": "Who wrote it."})
    internal = fields.Boolean(required=True)
    body = fields.String(required=True, metadata={"description": "Plain text."})
    created_at = fields.DateTime(required=True)
    attachments = fields.List(fields.Nested(MessageAttachmentSchema), required=True)


class MessageFormSchema(Schema):
    body = Text(
        multiline=True,
        required=True,
        metadata={"description": f"Plain text; at most {BODY_MAX} characters."},
    )
    internal = fields.Boolean(
        load_default=False, metadata={"description": "Officers and reviewers only."}
    )


class MessageFilesSchema(Schema):
    files = fields.List(
        Upload(),
        load_default=list,
        metadata={
            "description": f"PDF, PNG, JPEG, CSV, XLSX or DOCX; at most {FILES_MAX} files, "
            "checked by extension and content (the evidence rules)."
        },
    )


class MessageUploadSchema(MessageFormSchema, MessageFilesSchema):
    """The whole multipart/form-data body (form fields and files), for the documentation."""


_MULTIPART_DOC = {
    "parameters": [],
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": MessageUploadSchema}},
    },
}


def _message_data(message: Message, author: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "author": author,
        "internal": message.internal,
        "body": message.body,
        "created_at": message.created_at,
        "attachments": message.attachments,
    }


def _list(kind: ThreadKind, subject_id: int) -> list[dict[str, Any]]:
    view = thread_view(api_actor(), kind, subject_id, select_locale())
    return [_message_data(m, view.author(m)) for m in view.messages]


def _post(kind: ThreadKind, subject_id: int, form: dict[str, Any], files: dict[str, Any]) -> Any:
    actor = api_actor()
    view = thread_view(actor, kind, subject_id, select_locale())
    if form["internal"] and not view.access.reads_internal:
        raise NotAllowed(N_("Only the programme's staff may write internal messages."))
    uploads = [(f.filename or "", f.stream, f.mimetype or "") for f in files["files"]]
    message = service.post_message(
        actor,
        kind,
        subject_id,
        form["body"],
        form["internal"],
        uploads,
        today(),
        upload_folder=_upload_folder(),
    )
    return _message_data(message, authors(actor, view.topic, [message], select_locale())[actor.id])


_LISTED = {"description": "No such subject, or not the caller's to discuss."}


@blp.get("/applications/<int:application_id>/messages")
@blp.response(200, ConversationMessageSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, **_LISTED)
def application_messages(application_id: int) -> Any:
    """The application's messages the caller may read, oldest first."""
    return _list(ThreadKind.application, application_id)


@blp.post("/applications/<int:application_id>/messages")
@accepts_uploads
@blp.arguments(MessageFormSchema, location="form")
@blp.arguments(MessageFilesSchema, location="files")
@blp.doc(**_MULTIPART_DOC)
@blp.response(201, ConversationMessageSchema)
@blp.alt_response(404, schema=ErrorSchema, **_LISTED)
def post_application_message(
    form: dict[str, Any], files: dict[str, Any], application_id: int
) -> Any:
    """Post a message on the application's thread (the applicant; the officers)."""
    return _post(ThreadKind.application, application_id, form, files)


@blp.get("/milestones/<int:milestone_id>/messages")
@blp.response(200, ConversationMessageSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, **_LISTED)
def milestone_messages(milestone_id: int) -> Any:
    """The milestone's messages the caller may read, oldest first."""
    return _list(ThreadKind.milestone, milestone_id)


@blp.post("/milestones/<int:milestone_id>/messages")
@accepts_uploads
@blp.arguments(MessageFormSchema, location="form")
@blp.arguments(MessageFilesSchema, location="files")
@blp.doc(**_MULTIPART_DOC)
@blp.response(201, ConversationMessageSchema)
@blp.alt_response(404, schema=ErrorSchema, **_LISTED)
def post_milestone_message(form: dict[str, Any], files: dict[str, Any], milestone_id: int) -> Any:
    """Post a message on the milestone's thread (the grantee, officers, its reviewers)."""
    return _post(ThreadKind.milestone, milestone_id, form, files)


@blp.get("/amendments/<int:amendment_id>/messages")
@blp.response(200, ConversationMessageSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, **_LISTED)
def amendment_messages(amendment_id: int) -> Any:
    """The amendment request's messages the caller may read, oldest first."""
    return _list(ThreadKind.amendment, amendment_id)


@blp.post("/amendments/<int:amendment_id>/messages")
@accepts_uploads
@blp.arguments(MessageFormSchema, location="form")
@blp.arguments(MessageFilesSchema, location="files")
@blp.doc(**_MULTIPART_DOC)
@blp.response(201, ConversationMessageSchema)
@blp.alt_response(404, schema=ErrorSchema, **_LISTED)
def post_amendment_message(form: dict[str, Any], files: dict[str, Any], amendment_id: int) -> Any:
    """Post a message on the amendment request's thread (the grantee, officers, reviewers)."""
    return _post(ThreadKind.amendment, amendment_id, form, files)


@blp.get("/message-files/<int:attachment_id>")
@blp.response(
    200, description="The file, as an attachment.", content_type="application/octet-stream"
)
@blp.alt_response(404, schema=ErrorSchema, description="No such file, or not the caller's to read.")
def download(attachment_id: int) -> Response:
    """Download a message's file (whoever may read the message); the download is audited."""
    begin_writing()
    attachment = service.open_attachment(api_actor(), attachment_id, upload_folder=_upload_folder())
    path = _upload_folder().resolve() / attachment.stored_name
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])
