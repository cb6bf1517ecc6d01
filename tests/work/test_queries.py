"""My work, by role: what each task counts, what it lists first, where each entry leads,
and that the header's count is the page's."""

from __future__ import annotations

from typing import Any

from grants.accounts.models import User
from grants.conversations import service as conversations
from grants.core.identity import OrgKind, Role
from grants.milestones.assignments import service as assignments
from grants.work import queries as work
from grants.work.queries import Task
from tests.support.factories import make_org, make_user, uploads
from tests.support.work import TODAY, Office


def _by_task(user: User) -> dict[Task, work.Section]:
    return {section.task: section for section in work.my_work(user).sections}


def test_an_officer_has_one_of_each_task(office: Office) -> None:
    sections = _by_task(office.officer)
    assert list(sections) == list(work.TASKS[Role.officer])
    assert {task: s.count for task, s in sections.items()} == dict.fromkeys(sections, 1)
    assert work.counts(office.officer) == {task: 1 for task in sections}
    assert work.header_total(office.officer) == 6
    links = {
        task: (s.entries[0].link.endpoint, s.entries[0].link.values) for task, s in sections.items()
    }
    grant, short = office.world.grant, office.short.grant
    assert links[Task.releases] == (
        "releases.show",
        {"milestone_id": office.world.milestones[0].id},
    )
    assert links[Task.reviewers] == ("assignments.edit", {"grant_id": short.id})
    assert links[Task.amendments][0] == "amendments.index"
    assert links[Task.amendments][1]["grant_id"] == grant.id
    assert links[Task.investments] == ("investments.index", {"grant_id": grant.id})
    assert links[Task.overdue][1]["_anchor"] == f"milestone-{office.short.milestones[0].id}"
    assert links[Task.screen][0] == "awards.show"
    assert sections[Task.reviewers].entries[0].missing == 1
    assert sections[Task.investments].entries[0].amount == 10_000_000


def test_the_other_officer_verifies_the_first_ones_investment(office: Office) -> None:
    counts = work.counts(office.other_officer)
    assert counts[Task.investments] == 1
    recorded_by_me = _by_task(office.other_officer)[Task.investments].entries
    assert recorded_by_me[0].since is not None


def test_a_reviewer_sees_the_evidence_waiting_with_its_age(office: Office) -> None:
    reviewer = office.world.reviewers[1]
    sections = _by_task(reviewer)
    assert list(sections) == [Task.reviews]
    (entry,) = sections[Task.reviews].entries
    assert entry.link.endpoint == "reviews.decide"
    assert entry.link.values == {"milestone_id": office.world.milestones[1].id}
    assert entry.since is not None and entry.grant_number == "MS-TEST-0001"
    assert work.counts(reviewer) == {Task.reviews: 1}
    # a conflict of interest takes it out of the reviewer's work
    assignments.declare_conflict(reviewer, office.world.vc.id, None, "LP")
    assert work.counts(reviewer) == {Task.reviews: 0}


def test_an_applicant_sees_the_evidence_due_and_the_changes_asked(office: Office) -> None:
    applicant = office.world.applicant
    sections = _by_task(applicant)
    assert list(sections) == [Task.evidence, Task.changes, Task.messages]
    due = [e.link.values["milestone_id"] for e in sections[Task.evidence].entries]
    # the short grant's first milestone (overdue) is due; the first grant's current one
    # is under review and the third grant's was sent back
    assert due == [office.short.milestones[0].id]
    assert sections[Task.evidence].entries[0].since == office.short.milestones[0].overdue_since
    (changes,) = sections[Task.changes].entries
    assert changes.link == work.Link(
        "evidence.new", {"milestone_id": office.sent_back.milestones[0].id}
    )
    assert work.counts(applicant) == {Task.evidence: 1, Task.changes: 1, Task.messages: 0}
    # another organisation's applicant has nothing to do
    stranger = make_user(Role.applicant, make_org(OrgKind.startup))
    assert work.header_total(stranger) == 0


def test_an_administrator_has_no_tasks(office: Office) -> None:
    admin = make_user(Role.admin)
    assert work.my_work(admin).sections == [] and work.counts(admin) == {}


def test_an_applicant_sees_the_messages_waiting_until_read_or_answered(office: Office) -> None:
    applicant, milestone = office.world.applicant, office.world.milestones[0]
    first = post_message(office.officer, "milestone", milestone.id, "Please add the raw data.")
    post_message(office.officer, "milestone", milestone.id, "And the lab notes.")
    post_message(office.officer, "milestone", milestone.id, "Officers only.", internal=True)
    assert work.counts(applicant)[Task.messages] == 2  # the internal note is not theirs
    (entry,) = _by_task(applicant)[Task.messages].entries
    assert entry.link == work.Link(
        "conversations.show", {"kind": "milestone", "subject_id": milestone.id}
    )
    assert entry.title == f"{milestone.sequence}. {milestone.title}"
    assert entry.since == first.created_at and entry.grant_number == office.world.grant.number
    colleague = make_user(Role.applicant, office.world.grantee)
    post_message(colleague, "milestone", milestone.id, "Here they are.")  # answered
    assert work.counts(applicant)[Task.messages] == 0
    assert _by_task(applicant)[Task.messages].entries == []
    later = post_message(office.officer, "milestone", milestone.id, "Thank you.")
    assert work.counts(applicant)[Task.messages] == 1
    conversations.mark_read(applicant, later.thread_id, later.id)  # read
    assert work.counts(applicant)[Task.messages] == 0


def post_message(actor: User, kind: str, subject_id: int, body: str, internal: bool = False) -> Any:
    return conversations.post_message(
        actor, kind, subject_id, body, internal, [], TODAY, upload_folder=uploads()
    )
