"""Reading conversations as an actor may: which thread a subject has, who takes part in it,
the messages the actor may read (an applicant never an internal one), the people told of a
new message, and the messages waiting for an applicant.

Who reads what (core.permissions, discuss and discuss_internally): shared messages, the
grantee's applicant users, the officers and, on a grant's threads (its milestones and
amendments), the grant's assigned reviewers without a conflict of interest; internal
messages, the same people but the grantee. An application has no reviewers: its internal
messages are the officers' alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from grants.accounts.models import User
from grants.accounts.queries import active_officers, organisation_applicants
from grants.applications.models import Application
from grants.applications.queries import subject as application_subject
from grants.awards.models import Amendment, Grant, Milestone
from grants.awards.queries import eligible_reviewer_ids, grant_subject, reviewer_names
from grants.conversations.models import Attachment, Message, ReadMarker, Thread
from grants.conversations.rules import ThreadKind
from grants.core.actors import Actor
from grants.core.errors import NotFound
from grants.core.identity import Role
from grants.core.permissions import Action, Subject, decide
from grants.core.problems import N_
from grants.extensions import db


@dataclass(frozen=True)
class Topic:
    """What a thread is about, loaded: its kind, the row's id, the grant (none for an
    application) and the organisation whose users are the grantee's side."""

    kind: ThreadKind
    subject_id: int
    organization_id: int
    grant: Grant | None = None
    milestone: Milestone | None = None
    application: Application | None = None
    amendment: Amendment | None = None


@dataclass(frozen=True)
class Access:
    """What the actor may do in a topic's thread."""

    reads_shared: bool
    reads_internal: bool

    @property
    def may_post(self) -> bool:
        return self.reads_shared


@dataclass(frozen=True)
class ThreadView:
    topic: Topic
    access: Access
    thread: Thread | None  # none before the first message
    messages: list[Message]  # the ones the actor may read, oldest first
    authors: dict[int, str]  # each author as the actor sees them (reviewers may be anonymous)

    def author(self, message: Message) -> str:
        return self.authors[message.author_id]


def topic_of(kind: str, subject_id: int) -> Topic:
    """The topic named by a kind and an id; NotFound for an unknown kind or row."""
    if kind == ThreadKind.application:
        application = db.session.get(Application, subject_id)
        if application is not None:
            return Topic(
                ThreadKind.application,
                subject_id,
                application.organization_id,
                application=application,
            )
    elif kind == ThreadKind.milestone:
        milestone = db.session.get(Milestone, subject_id)
        if milestone is not None:
            grant = milestone.grant
            return Topic(
                ThreadKind.milestone,
                subject_id,
                grant.organization_id,
                grant=grant,
                milestone=milestone,
            )
    elif kind == ThreadKind.amendment:
        amendment = db.session.get(Amendment, subject_id)
        if amendment is not None:
            grant = db.session.get(Grant, amendment.grant_id)
            assert grant is not None  # a foreign key
            return Topic(
                ThreadKind.amendment,
                subject_id,
                grant.organization_id,
                grant=grant,
                amendment=amendment,
            )
    raise NotFound(N_("Not found."))


def relation(actor: Actor, topic: Topic) -> Subject:
    """The actor's relation to the topic, for the permission table."""
    if topic.grant is not None:
        return grant_subject(actor, topic.grant)
    assert topic.application is not None
    return application_subject(actor, topic.application)


def access(actor: Actor, topic: Topic) -> Access:
    subject = relation(actor, topic)
    return Access(
        reads_shared=decide(Action.discuss, subject).allowed,
        reads_internal=decide(Action.discuss_internally, subject).allowed,
    )


def visible_topic(actor: Actor, kind: str, subject_id: int) -> tuple[Topic, Access]:
    """The topic and what the actor may do in its thread; NotFound when the actor may not
    take part (the subject's existence is not revealed)."""
    topic = topic_of(kind, subject_id)
    allowed = access(actor, topic)
    if not allowed.reads_shared:
        raise NotFound(N_("Not found."))
    return topic, allowed


def thread_of(kind: str, subject_id: int) -> Thread | None:
    query = select(Thread).where(Thread.subject_type == str(kind), Thread.subject_id == subject_id)
    return db.session.scalar(query)


def thread_view(actor: Actor, kind: str, subject_id: int, locale: str) -> ThreadView:
    topic, allowed = visible_topic(actor, kind, subject_id)
    thread = thread_of(topic.kind, topic.subject_id)
    messages: list[Message] = []
    if thread is not None:
        query = (
            readable(select(Message), allowed)
            .where(Message.thread_id == thread.id)
            .options(selectinload(Message.attachments), selectinload(Message.author))
            .order_by(Message.id)
        )
        messages = list(db.session.scalars(query))
    return ThreadView(topic, allowed, thread, messages, authors(actor, topic, messages, locale))


def authors(actor: Actor, topic: Topic, messages: list[Message], locale: str) -> dict[int, str]:
    """The messages' authors by name, but a reviewer as awards.queries.reviewer_names has the
    actor see them ("Reviewer 2" to an applicant when the programme hides their names)."""
    people = {m.author_id: m.author for m in messages}
    reviewers = [p.id for p in people.values() if p.role == Role.reviewer]
    if not reviewers or topic.grant is None:
        return {person_id: person.name for person_id, person in people.items()}
    names = reviewer_names(actor, topic.grant, locale, also=reviewers)
    return {
        person_id: names.label(person_id) if person.role == Role.reviewer else person.name
        for person_id, person in people.items()
    }


def readable(query: Select[tuple[Message]], allowed: Access) -> Select[tuple[Message]]:
    """`query` narrowed to the messages of a kind the actor may read."""
    return query if allowed.reads_internal else query.where(Message.internal.is_(False))


def visible_attachment(actor: Actor, attachment_id: int) -> Attachment:
    """An attachment of a message the actor may read; NotFound otherwise."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(N_("Not found."))
    thread = attachment.message.thread
    _topic, allowed = visible_topic(actor, thread.subject_type, thread.subject_id)
    if attachment.message.internal and not allowed.reads_internal:
        raise NotFound(N_("Not found."))
    return attachment


def visible_message(actor: Actor, message_id: int) -> Message:
    """A message the actor may read (where a notification of it leads); NotFound else."""
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound(N_("Not found."))
    thread = message.thread
    _topic, allowed = visible_topic(actor, thread.subject_type, thread.subject_id)
    if message.internal and not allowed.reads_internal:
        raise NotFound(N_("Not found."))
    return message


def staff_of(topic: Topic) -> set[int]:
    """The active officers and, on a grant's thread, its assigned, non-conflicted reviewers."""
    officers = set(db.session.scalars(active_officers()))
    if topic.grant is None:
        return officers
    return officers | eligible_reviewer_ids(topic.grant)


def recipients(topic: Topic, author: Actor, internal: bool) -> set[int] | Select[tuple[int]]:
    """Who is told of a new message (the author never is: core.notify): of an internal
    message, the thread's staff; of a shared one by the grantee, the officers and, on a
    milestone's thread, its reviewers; of a shared one by the staff, the grantee's users."""
    if internal:
        return staff_of(topic)
    if author.role == Role.applicant:
        if topic.kind == ThreadKind.milestone:
            return staff_of(topic)
        return set(db.session.scalars(active_officers()))
    return organisation_applicants(topic.organization_id)


@dataclass(frozen=True)
class Waiting:
    """A thread with shared staff messages the applicant has not read or answered."""

    thread: Thread
    messages: int
    since: datetime  # when the oldest of them was posted


def waiting_for(actor: Actor) -> list[Waiting]:
    """The threads of the applicant's organisation with shared messages by the staff newer
    than what the applicant last read and than the organisation's last post there, with how
    many such messages each; oldest waiting first. None for a user of another role."""
    if actor.role != Role.applicant or actor.organization_id is None or actor.id is None:
        return []
    author = User.__table__.alias("author")
    read = (
        select(ReadMarker.message_id)
        .where(ReadMarker.thread_id == Thread.id, ReadMarker.user_id == actor.id)
        .scalar_subquery()
    )
    mine = Message.__table__.alias("mine")
    colleague = User.__table__.alias("colleague")
    answered = (
        select(func.max(mine.c.id))
        .join(colleague, colleague.c.id == mine.c.author_id)
        .where(
            mine.c.thread_id == Thread.id,
            colleague.c.role == Role.applicant,
            colleague.c.organization_id == actor.organization_id,
        )
        .scalar_subquery()
    )
    query = (
        select(Thread, func.count(Message.id), func.min(Message.created_at))
        .join(Message, Message.thread_id == Thread.id)
        .join(author, author.c.id == Message.author_id)
        .where(
            Thread.organization_id == actor.organization_id,
            Message.internal.is_(False),
            author.c.role != Role.applicant,
            Message.id > func.coalesce(read, 0),
            Message.id > func.coalesce(answered, 0),
        )
        .group_by(Thread.id)
        .order_by(func.min(Message.id))
    )
    rows = db.session.execute(query).tuples()
    return [Waiting(thread, count, since) for thread, count, since in rows]


def waiting_count(actor: Actor) -> int:
    """How many messages wait for the applicant (waiting_for)."""
    return sum(item.messages for item in waiting_for(actor))
