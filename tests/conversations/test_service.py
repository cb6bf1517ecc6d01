"""Posting and reading messages: who may read and write which, who is told, bad input,
attachments, and the messages waiting for an applicant."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.alerts.models import Alert
from grants.amendments import service as amendments
from grants.awards.models import Amendment
from grants.conversations import queries, service
from grants.conversations.models import Attachment, Message, ReadMarker, Thread
from grants.core.alert_kinds import AlertKind
from grants.core.errors import NotAllowed, NotFound, RuleViolation
from grants.core.models import AuditEvent
from grants.core.states import AmendmentKind
from grants.extensions import db
from grants.milestones.evidence.service import Upload
from tests.support.events import Cast, make_cast
from tests.support.factories import uploads

TODAY = date(2026, 10, 1)
PDF = b"%PDF-1.4 test"


def post(
    actor: User,
    kind: str,
    subject_id: int,
    body: str = "Question?",
    internal: bool = False,
    files: Sequence[Upload] = (),
) -> Message:
    return service.post_message(
        actor, kind, subject_id, body, internal, list(files), TODAY, upload_folder=uploads()
    )


def told(message: Message) -> set[int]:
    query = select(Alert.user_id).where(
        Alert.kind == AlertKind.message_posted, Alert.subject_id == message.id
    )
    return set(db.session.scalars(query))


@pytest.fixture
def cast(app: Flask) -> Cast:
    return make_cast()


def test_shared_and_internal_messages_reach_only_their_readers(cast: Cast) -> None:
    milestone = cast.world.milestones[0].id
    note = post(cast.officer, "milestone", milestone, "Internal: check the figures", internal=True)
    question = post(cast.officer, "milestone", milestone, "Shared: which assay?")
    for reader in (cast.officer, cast.other_officer, *cast.world.reviewers):
        ids = [m.id for m in queries.thread_view(reader, "milestone", milestone, "en").messages]
        assert ids == [note.id, question.id]
    for applicant in (cast.world.applicant, cast.colleague):
        ids = [m.id for m in queries.thread_view(applicant, "milestone", milestone, "en").messages]
        assert ids == [question.id]
    for outsider in (cast.conflicted, cast.unassigned):
        with pytest.raises(NotFound):
            queries.thread_view(outsider, "milestone", milestone, "en")


def test_the_other_side_of_the_thread_is_told_once_per_message(cast: Cast) -> None:
    milestone = cast.world.milestones[0].id
    grantee = {cast.world.applicant.id, cast.colleague.id}
    staff = cast.officers | cast.eligible
    note = post(cast.officer, "milestone", milestone, internal=True)
    assert told(note) == staff - {cast.officer.id}
    question = post(cast.officer, "milestone", milestone)
    assert told(question) == grantee
    answer = post(cast.world.applicant, "milestone", milestone, "Answer")
    assert told(answer) == staff
    reviewer_note = post(cast.world.reviewers[0], "milestone", milestone, internal=True)
    assert told(reviewer_note) == staff - {cast.world.reviewers[0].id}
    application = cast.world.grant.application_id
    asked = post(cast.world.applicant, "application", application)
    assert told(asked) == cast.officers  # no reviewers on an application's thread
    counted = select(func.count()).select_from(Alert).where(Alert.kind == AlertKind.message_posted)
    assert db.session.scalar(counted) == sum(
        len(told(m)) for m in (note, question, answer, reviewer_note, asked)
    )


def test_applicants_and_outsiders_cannot_write_internal_notes(cast: Cast) -> None:
    milestone = cast.world.milestones[0].id
    with pytest.raises(NotAllowed):
        post(cast.world.applicant, "milestone", milestone, internal=True)
    with pytest.raises(NotFound):
        post(cast.conflicted, "milestone", milestone)
    with pytest.raises(NotFound):
        post(cast.world.reviewers[0], "application", cast.world.grant.application_id)
    with pytest.raises(NotFound):
        post(cast.officer, "grant", cast.world.grant.id)
    with pytest.raises(NotFound):
        post(cast.officer, "milestone", 999_999)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


@pytest.mark.parametrize(
    ("body", "files"),
    [
        ("", []),
        ("   ", []),
        ("x" * 10_001, []),
        ("bell\x07", []),
        ("hidden\u202ereversed", []),
        ("fine", [("evil.exe", io.BytesIO(b"MZ"), "application/octet-stream")]),
        ("fine", [("fake.pdf", io.BytesIO(b"not a pdf"), "application/pdf")]),
    ],
)
def test_bad_input_is_refused_and_nothing_is_kept(
    cast: Cast, body: str, files: list[Upload]
) -> None:
    before = set(uploads().iterdir()) if uploads().exists() else set()
    with pytest.raises(RuleViolation):
        post(cast.world.applicant, "milestone", cast.world.milestones[0].id, body, files=files)
    for model in (Thread, Message, Attachment, AuditEvent):
        audited = select(func.count()).select_from(model)
        if model is AuditEvent:
            audited = audited.where(AuditEvent.action == "conversation.post")
        assert db.session.scalar(audited) == 0
    assert (set(uploads().iterdir()) if uploads().exists() else set()) == before


def test_posts_are_audited_and_attachments_readable_only_by_the_messages_readers(
    cast: Cast,
) -> None:
    milestone = cast.world.milestones[0].id
    note = post(
        cast.officer,
        "milestone",
        milestone,
        internal=True,
        files=[("memo.pdf", io.BytesIO(PDF), "application/pdf")],
    )
    shared = post(
        cast.world.applicant,
        "milestone",
        milestone,
        files=[("data.csv", io.BytesIO(b"a,b\n=1+1,2\n"), "text/csv")],
    )
    [memo], [data] = note.attachments, shared.attachments
    assert data.has_formulas and (uploads() / memo.stored_name).read_bytes() == PDF
    with pytest.raises(NotFound):
        service.open_attachment(cast.world.applicant, memo.id, upload_folder=uploads())
    with pytest.raises(NotFound):
        service.open_attachment(cast.unassigned, data.id, upload_folder=uploads())
    assert service.open_attachment(cast.world.reviewers[0], memo.id, upload_folder=uploads())
    assert service.open_attachment(cast.colleague, data.id, upload_folder=uploads())
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("conversation.%"))
    )
    assert sorted(actions) == sorted(["conversation.post"] * 2 + ["conversation.download"] * 2)


def test_an_amendments_thread_has_the_grants_staff(cast: Cast) -> None:
    world = cast.world
    amendments.request_amendment(
        world.applicant,
        world.grant.id,
        AmendmentKind.due_date,
        world.milestones[0].id,
        world.milestones[0].due_date + timedelta(days=30),
        None,
        "Delay",
        TODAY,
    )
    amendment = db.session.scalar(select(Amendment))
    assert amendment is not None
    asked = post(world.applicant, "amendment", amendment.id)
    assert told(asked) == cast.officers
    note = post(cast.officer, "amendment", amendment.id, internal=True)
    assert told(note) == (cast.officers | cast.eligible) - {cast.officer.id}
    assert queries.thread_view(world.applicant, "amendment", amendment.id, "en").messages == [asked]


def test_messages_wait_for_the_applicant_until_read_or_answered(cast: Cast) -> None:
    applicant, milestone = cast.world.applicant, cast.world.milestones[0].id
    post(cast.officer, "milestone", milestone, internal=True)
    assert queries.waiting_count(applicant) == 0  # internal: never theirs
    first = post(cast.officer, "milestone", milestone)
    post(cast.world.reviewers[0], "milestone", milestone)
    assert queries.waiting_count(applicant) == 2
    assert queries.waiting_count(cast.officer) == 0
    service.mark_read(applicant, first.thread_id, first.id)
    assert queries.waiting_count(applicant) == 1
    post(cast.colleague, "milestone", milestone, "Answered")  # a colleague answered
    assert queries.waiting_count(applicant) == 0
    post(cast.officer, "milestone", milestone)
    [waiting] = queries.waiting_for(applicant)
    assert waiting.thread.id == first.thread_id and waiting.messages == 1


def test_a_read_marker_never_moves_back(cast: Cast) -> None:
    milestone = cast.world.milestones[0].id
    first = post(cast.officer, "milestone", milestone)
    second = post(cast.officer, "milestone", milestone)
    applicant = cast.world.applicant
    service.mark_read(applicant, second.thread_id, second.id)
    service.mark_read(applicant, first.thread_id, first.id)  # an older tab, loaded later
    marker = db.session.get(ReadMarker, (applicant.id, first.thread_id))
    assert marker is not None and marker.message_id == second.id
    with pytest.raises(NotFound):
        service.mark_read(cast.unassigned, first.thread_id, second.id)
