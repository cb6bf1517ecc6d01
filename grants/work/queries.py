"""My work: what waits for the signed-in user, by role, counted and listed.

Officers: applications to screen, grants short of reviewers for their quorum, amendment
requests waiting, investments to verify (recorded by another officer), tranches ready to
release, overdue milestones. Reviewers: the evidence rounds waiting for their decision,
with their age. Applicants: the evidence due for their grants' current milestones, and
the milestones sent back with changes requested, and the staff's messages they have
neither read nor answered (conversations.queries.waiting_for).

`counts` is what the page header shows: one SELECT of counts, with the two figures that
read every grant kept while the data stands still. `my_work` lists the first entries of
each kind from the lists themselves (each entry links to its item, each section to its
whole list), so that the counts and the lists agree: a fixed number of statements per
role, whatever the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import SQLAlchemyError

from grants.accounts.models import Organization
from grants.amendments.queries import AMENDMENTS, amendment_list
from grants.applications.models import Application
from grants.applications.screening.queries import SCREENING, screening_list
from grants.awards.models import Amendment, Grant, Investment, Milestone
from grants.conversations.queries import Topic, topic_of, waiting_count, waiting_for
from grants.core.actors import Actor
from grants.core.identity import Role
from grants.core.states import AmendmentState, ApplicationState, GrantState, MilestoneState
from grants.extensions import db
from grants.milestones.assignments.queries import (
    ASSIGNABLE,
    SHORT,
    assignable_list,
    short_of_reviewers_count,
)
from grants.milestones.queries import MILESTONES, milestone_list
from grants.milestones.reviews.queries import REVIEW_QUEUE, review_list, waiting_reviews
from grants.releases.queries import RELEASES, awaiting_release, awaiting_totals

# The entries each section lists; its whole list is a link away.
SHOWN = 5


class Task(StrEnum):
    screen = "screen"
    reviewers = "reviewers"
    amendments = "amendments"
    investments = "investments"
    releases = "releases"
    overdue = "overdue"
    reviews = "reviews"
    evidence = "evidence"
    changes = "changes"
    messages = "messages"


TASKS: dict[Role, tuple[Task, ...]] = {
    Role.officer: (
        Task.screen,
        Task.reviewers,
        Task.amendments,
        Task.investments,
        Task.releases,
        Task.overdue,
    ),
    Role.reviewer: (Task.reviews,),
    Role.applicant: (Task.evidence, Task.changes, Task.messages),
    Role.admin: (),
}


@dataclass(frozen=True)
class Link:
    """A page: its endpoint and url_for values (the edges build the address)."""

    endpoint: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """One thing to do: what it is, since when it waits (or when it is due), its link."""

    title: str
    link: Link
    grant_number: str | None = None
    organization: str | None = None
    since: date | datetime | None = None  # when it began to wait
    due: date | None = None  # when it is due (evidence)
    amount: int | None = None  # yen (a tranche, an investment, a request)
    missing: int | None = None  # reviewers missing for the quorum
    kind: Any = None  # an amendment's kind


@dataclass(frozen=True)
class Section:
    task: Task
    count: int
    entries: list[Entry]
    more: Link | None  # the whole list


@dataclass(frozen=True)
class Work:
    sections: list[Section]

    @property
    def total(self) -> int:
        return sum(section.count for section in self.sections)


# ---- the header's counts -------------------------------------------------------------------


def counts(actor: Actor) -> dict[Task, int]:
    """How many of each task wait for the actor: one statement (the figures reading every
    grant kept while the data stands still)."""
    if actor.id is None:
        return {}
    tasks = TASKS.get(Role(actor.role), ())
    counted = {task: _COUNTED[task](actor) for task in tasks if task in _COUNTED}
    found: dict[Task, int] = {}
    if counted:
        row = db.session.execute(select(*(_count(query) for query in counted.values()))).one()
        found = dict(zip(counted, (int(value or 0) for value in row), strict=True))
    found |= {task: _OWN[task](actor) for task in tasks if task in _OWN}
    return found | {task: _KEPT[task]() for task in tasks if task in _KEPT}


def header_total(actor: Actor) -> int:
    """The header's count. Never the reason a page fails (error pages render it too): a
    database that fails here is rolled back and the count is 0."""
    try:
        return sum(counts(actor).values())
    except SQLAlchemyError:
        db.session.rollback()
        return 0


def _count(query: Select[Any]) -> Any:
    return select(func.count()).select_from(query.subquery()).scalar_subquery()


def _to_screen(_actor: Actor) -> Select[Any]:
    return select(Application.id).where(Application.state == ApplicationState.submitted)


def _amendments(_actor: Actor) -> Select[Any]:
    return select(Amendment.id).where(Amendment.state == AmendmentState.requested)


def _investments(actor: Actor) -> Select[Any]:
    """Recorded, not verified, and not by the actor (another officer verifies)."""
    return select(Investment.id).where(
        Investment.verified_at.is_(None), Investment.recorded_by_id != actor.id
    )


def _overdue(_actor: Actor) -> Select[Any]:
    """Milestones the scan flagged (as the milestones list filters them)."""
    return select(Milestone.id).where(Milestone.overdue_since >= date.min)


def _awaiting_evidence(actor: Actor, state: MilestoneState) -> Select[Any]:
    """The current milestones (every earlier one approved) in `state` of the actor's
    organisation's active grants: where evidence is due, or due again."""
    earlier = Milestone.__table__.alias("earlier")
    before = (
        select(earlier.c.id)
        .where(
            earlier.c.grant_id == Milestone.grant_id,
            earlier.c.sequence < Milestone.sequence,
            earlier.c.state != MilestoneState.approved,
        )
        .exists()
    )
    return (
        select(Milestone, Grant.number)
        .join(Grant, Grant.id == Milestone.grant_id)
        .where(
            Grant.organization_id == (actor.organization_id or -1),
            Grant.state == GrantState.active,
            Milestone.state == state,
            ~before,
        )
    )


_COUNTED: dict[Task, Callable[[Actor], Select[Any]]] = {
    Task.screen: _to_screen,
    Task.amendments: _amendments,
    Task.investments: _investments,
    Task.overdue: _overdue,
    Task.reviews: waiting_reviews,
    Task.evidence: lambda actor: _awaiting_evidence(actor, MilestoneState.planned),
    Task.changes: lambda actor: _awaiting_evidence(actor, MilestoneState.changes_requested),
}
# Counted by a statement of their own.
_OWN: dict[Task, Callable[[Actor], int]] = {Task.messages: waiting_count}
_KEPT: dict[Task, Callable[[], int]] = {
    Task.reviewers: short_of_reviewers_count,
    Task.releases: lambda: awaiting_totals(RELEASES.query())[0],
}


# ---- the page ------------------------------------------------------------------------------


def my_work(actor: Actor) -> Work:
    """Each task of the actor's role with how many wait and the first of them."""
    tasks = TASKS.get(Role(actor.role), ())
    return Work([_SECTIONS[task](actor) for task in tasks])


def _screen(actor: Actor) -> Section:
    asked = SCREENING.query(state=ApplicationState.submitted.value, per_page=SHOWN)
    page = screening_list(actor, asked)
    entries = [
        Entry(
            title=a.title,
            link=Link("awards.show", {"application_id": a.id}),
            organization=a.organization.name,
            since=a.submitted_on,
            amount=a.requested_subsidy,
        )
        for a in page.items
    ]
    more = Link("screening.queue", {"state": ApplicationState.submitted.value})
    return Section(Task.screen, page.total, entries, more)


def _reviewers(actor: Actor) -> Section:
    page = assignable_list(actor, ASSIGNABLE.query(state=SHORT, per_page=SHOWN))
    entries = [
        Entry(
            title=f"{row.milestone_sequence}. {row.milestone_title}",
            link=Link("assignments.edit", {"grant_id": row.grant_id}),
            grant_number=row.number,
            organization=row.organization_name,
            due=row.milestone_due,
            missing=row.missing,
        )
        for row in page.items
    ]
    return Section(
        Task.reviewers, page.total, entries, Link("assignments.assignable", {"state": SHORT})
    )


def _amendment_entries(actor: Actor) -> Section:
    asked = AMENDMENTS.query(state=AmendmentState.requested.value, per_page=SHOWN)
    page = amendment_list(actor, asked)
    entries = [
        Entry(
            title=f"{sequence}. {title}" if sequence else number,
            link=Link(
                "amendments.index",
                {"grant_id": amendment.grant_id, "_anchor": f"amendment-{amendment.id}"},
            ),
            grant_number=number,
            organization=name,
            since=amendment.requested_at,
            kind=amendment.kind,
        )
        for amendment, number, name, _name_en, sequence, title in page.items
    ]
    more = Link("amendments.requests", {"state": AmendmentState.requested.value})
    return Section(Task.amendments, page.total, entries, more)


def _investment_entries(actor: Actor) -> Section:
    query = (
        select(Investment, Grant.number, Organization.name)
        .join(Grant, Grant.id == Investment.grant_id)
        .join(Organization, Organization.id == Investment.vc_organization_id)
        .where(Investment.id.in_(_investments(actor)))
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(Investment.recorded_at, Investment.id).limit(SHOWN)
    ).all()
    entries = [
        Entry(
            title=vc_name,
            link=Link("investments.index", {"grant_id": investment.grant_id}),
            grant_number=number,
            since=investment.recorded_at,
            amount=investment.amount,
        )
        for investment, number, vc_name in rows
    ]
    return Section(Task.investments, int(total), entries, None)


def _release_entries(_actor: Actor) -> Section:
    page = awaiting_release(RELEASES.query(per_page=SHOWN))
    entries = [
        Entry(
            title=f"{row.sequence}. {row.title}",
            link=Link("releases.show", {"milestone_id": row.id}),
            grant_number=row.number,
            organization=row.organization_name,
            since=row.decided_at,
            amount=row.tranche_amount,
        )
        for row in page.items
    ]
    return Section(Task.releases, page.total, entries, Link("releases.queue"))


def _overdue_entries(actor: Actor) -> Section:
    asked = MILESTONES.query(overdue=True, per_page=SHOWN)  # oldest due first
    page = milestone_list(actor, asked)
    entries = [_milestone_entry(m, since=m.overdue_since) for m in page.items]
    return Section(Task.overdue, page.total, entries, Link("milestones.index", {"overdue": 1}))


def _review_entries(actor: Actor) -> Section:
    page = review_list(actor, REVIEW_QUEUE.query(per_page=SHOWN))
    entries = [
        Entry(
            title=f"{m.sequence}. {m.title}",
            link=Link("reviews.decide", {"milestone_id": m.id}),
            grant_number=m.grant.number,
            organization=m.grant.organization.name,
            since=submitted_at,
            due=m.due_date,
        )
        for m, submitted_at in page.items
    ]
    return Section(Task.reviews, page.total, entries, Link("reviews.queue"))


def _evidence_entries(actor: Actor, state: MilestoneState, task: Task) -> Section:
    query = _awaiting_evidence(actor, state)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(query.order_by(Milestone.due_date, Milestone.id).limit(SHOWN)).all()
    entries = [
        Entry(
            title=f"{m.sequence}. {m.title}",
            link=Link("evidence.new", {"milestone_id": m.id}),
            grant_number=number,
            due=m.due_date,
            since=m.overdue_since if state == MilestoneState.planned else m.decided_at,
            amount=m.tranche_amount,
        )
        for m, number in rows
    ]
    return Section(task, int(total), entries, Link("milestones.index", {"state": state.value}))


def _milestone_entry(m: Milestone, since: date | None) -> Entry:
    return Entry(
        title=f"{m.sequence}. {m.title}",
        link=Link("grant_page.show", {"grant_id": m.grant_id, "_anchor": f"milestone-{m.id}"}),
        grant_number=m.grant.number,
        organization=m.grant.organization.name,
        since=since,
        due=m.due_date,
    )


def _message_entries(actor: Actor) -> Section:
    """The threads whose staff messages wait for the applicant, oldest waiting first."""
    waiting = waiting_for(actor)
    entries = []
    for item in waiting[:SHOWN]:
        thread = item.thread
        topic = topic_of(thread.subject_type, thread.subject_id)
        entries.append(
            Entry(
                title=_thread_title(topic),
                link=Link(
                    "conversations.show",
                    {"kind": thread.subject_type, "subject_id": thread.subject_id},
                ),
                grant_number=topic.grant.number if topic.grant else None,
                since=item.since,
            )
        )
    return Section(Task.messages, sum(item.messages for item in waiting), entries, None)


def _thread_title(topic: Topic) -> str:
    if topic.application is not None:
        return topic.application.title
    if topic.amendment is not None and topic.amendment.milestone_id is not None:
        milestone = db.session.get(Milestone, topic.amendment.milestone_id)
        return f"{milestone.sequence}. {milestone.title}" if milestone else ""
    if topic.milestone is not None:
        return f"{topic.milestone.sequence}. {topic.milestone.title}"
    return topic.grant.number if topic.grant else ""


_SECTIONS: dict[Task, Callable[[Actor], Section]] = {
    Task.screen: _screen,
    Task.reviewers: _reviewers,
    Task.amendments: _amendment_entries,
    Task.investments: _investment_entries,
    Task.releases: _release_entries,
    Task.overdue: _overdue_entries,
    Task.reviews: _review_entries,
    Task.evidence: lambda actor: _evidence_entries(actor, MilestoneState.planned, Task.evidence),
    Task.changes: lambda actor: _evidence_entries(
        actor, MilestoneState.changes_requested, Task.changes
    ),
    Task.messages: _message_entries,
}
