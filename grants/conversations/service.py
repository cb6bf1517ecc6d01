"""Conversation use cases: posting a message (with files), reading a thread, opening a file.

A message is never changed nor deleted: there is no use case for either. Each post is
audited and tells the other side of the thread (queries.recipients) through core.notify,
one alert per message and recipient. Files follow the evidence rules
(milestones.evidence.service) and are written in the upload folder the edges pass in, only
after everything validated, and removed again when the transaction fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import case, select

from grants.conversations.models import Attachment, Message, ReadMarker, Thread
from grants.conversations.queries import Topic, recipients, visible_attachment, visible_topic
from grants.conversations.rules import BODY_MAX
from grants.core import audit, notify
from grants.core.actors import Actor
from grants.core.alert_kinds import AlertKind, SubjectType
from grants.core.db import insert_for, use_case
from grants.core.errors import NotAllowed, NotFound, RuleViolation
from grants.core.models import utcnow
from grants.core.problems import N_, Problem
from grants.core.text import control_problem
from grants.extensions import db
from grants.milestones.evidence.service import (
    Upload,
    check_files,
    discard_files,
    stored_fields,
)


@use_case
def post_message(
    actor: Actor,
    kind: str,
    subject_id: int,
    body: str,
    internal: bool,
    files: Sequence[Upload],
    today: date,
    *,
    upload_folder: Path,
) -> Message:
    """Post a message on the thread of (kind, subject_id), making the thread on its first
    message; its files go to `upload_folder`."""
    topic, allowed = visible_topic(actor, kind, subject_id)
    if internal and not allowed.reads_internal:
        raise NotAllowed(N_("Only the programme's staff may write internal messages."))
    body = (body or "").strip()
    errors: dict[str, list[Problem]] = {}
    if problem := _body_problem(body):
        errors["body"] = [problem]
    checked, problems = check_files(files)
    if problems:
        errors["files"] = problems
    if errors:
        raise RuleViolation(N_("The message could not be posted."), errors)
    written: list[Path] = []
    folder = upload_folder.resolve()
    try:
        thread = _thread(topic)
        message = Message(thread_id=thread.id, author_id=actor.id, internal=internal, body=body)
        db.session.add(message)
        for item in checked:
            message.attachments.append(Attachment(**stored_fields(item, folder, written)))
        db.session.flush()
        _mark(actor, thread.id, message.id)
        after = {
            "thread": thread.id,
            "internal": internal,
            "length": len(body),
            "files": [a.sha256 for a in message.attachments],
        }
        audit.record(actor, "conversation.post", message, None, after)
        notify.record(
            actor,
            recipients(topic, actor, internal),
            AlertKind.message_posted,
            SubjectType.message,
            message.id,
            today=today,
            grant_id=topic.grant.id if topic.grant else None,
            milestone_id=topic.milestone.id if topic.milestone else None,
        )
        db.session.commit()
    except BaseException:
        discard_files(written)
        raise
    return message


@use_case
def mark_read(actor: Actor, thread_id: int, message_id: int) -> None:
    """Note that the actor has read the thread up to `message_id` (never back)."""
    thread = db.session.get(Thread, thread_id)
    if thread is None:
        raise NotFound(N_("Not found."))
    visible_topic(actor, thread.subject_type, thread.subject_id)
    _mark(actor, thread_id, message_id)
    db.session.commit()


@use_case
def open_attachment(actor: Actor, attachment_id: int, *, upload_folder: Path) -> Attachment:
    """An attachment the actor may read, its download audited; its file is in
    `upload_folder` under its stored name."""
    attachment = visible_attachment(actor, attachment_id)
    folder = upload_folder.resolve()
    path = folder / attachment.stored_name
    if path.parent != folder or not path.is_file():
        raise NotFound(N_("The file is missing from the store. Tell the programme office."))
    audit.record(actor, "conversation.download", attachment, None, {"sha256": attachment.sha256})
    db.session.commit()
    return attachment


def _body_problem(body: str) -> Problem | None:
    if not body:
        return N_("Write a message.")
    if len(body) > BODY_MAX:
        return N_("At most %(n)d characters.", n=BODY_MAX)
    return control_problem(body, multiline=True)


def _thread(topic: Topic) -> Thread:
    """The topic's thread, locked; made by the first message. Two first messages at once
    both land in the one thread: the second insert waits for the first and does nothing."""
    made = insert_for(Thread.__table__).values(
        subject_type=str(topic.kind),
        subject_id=topic.subject_id,
        grant_id=topic.grant.id if topic.grant else None,
        organization_id=topic.organization_id,
        created_at=utcnow(),
    )
    db.session.execute(made.on_conflict_do_nothing(index_elements=["subject_type", "subject_id"]))
    query = select(Thread).where(
        Thread.subject_type == str(topic.kind), Thread.subject_id == topic.subject_id
    )
    thread = db.session.scalar(query.with_for_update().execution_options(populate_existing=True))
    assert thread is not None  # inserted above, or by whoever came first
    return thread


def _mark(actor: Actor, thread_id: int, message_id: int) -> None:
    """One marker per user and thread that only moves forward, whatever runs at once (two
    tabs open on the thread): an upsert keeping the greater message id."""
    if actor.id is None:
        return
    table = ReadMarker.__table__
    statement = insert_for(table).values(
        user_id=actor.id, thread_id=thread_id, message_id=message_id
    )
    newer = statement.excluded.message_id
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "thread_id"],
        set_={"message_id": case((table.c.message_id > newer, table.c.message_id), else_=newer)},
    )
    db.session.execute(statement)
