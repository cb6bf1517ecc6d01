"""Reviewer sign-off: quorum of eligible reviewers, conflicts, rounds, the review queue."""

from __future__ import annotations

import copy
import threading
import time
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import event

from grants.accounts.models import User
from grants.awards.models import Milestone, Review, ReviewerAssignment
from grants.awards.rules import quorum_of
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState, ReviewDecision
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from grants.milestones.evidence import service as evidence
from grants.milestones.reviews import service as reviews
from grants.milestones.reviews.queries import REVIEW_QUEUE, review_list
from grants.rulesets.models import RuleSet, RuleSetStatus
from tests.support.approvals import sibling_grant
from tests.support.factories import make_user, uploads
from tests.support.grants import GrantWorld, make_grant

TODAY = date(2026, 10, 1)
APPROVE = ReviewDecision.approve
CHANGES = ReviewDecision.request_changes
REJECT = ReviewDecision.reject


def submitted(world: GrantWorld, index: int = 0) -> Milestone:
    milestone = world.milestones[index]
    evidence.submit_evidence(
        world.applicant, milestone.id, "Done.", {0: "8"}, [], TODAY, upload_folder=uploads()
    )
    return milestone


def state_of(milestone: Milestone) -> MilestoneState:
    db.session.refresh(milestone)
    return milestone.state


def test_one_approval_leaves_the_milestone_submitted(app: Flask) -> None:
    world = make_grant()
    milestone = submitted(world)
    review = reviews.decide(world.reviewers[0], milestone.id, APPROVE, "", TODAY)
    assert review.decision == APPROVE and review.comment == ""
    assert state_of(milestone) == MilestoneState.submitted and milestone.decided_at is None
    event_row = db.session.query(AuditEvent).filter_by(action="review.decide").one()
    assert event_row.actor_id == world.reviewers[0].id
    assert event_row.after == {"decision": "approve", "round": 1, "on": "2026-10-01"}
    assert db.session.query(AuditEvent).filter_by(action="milestone.decide").count() == 0


def test_two_approvals_approve_the_milestone(app: Flask) -> None:
    world = make_grant()
    milestone = submitted(world)
    reviews.decide(world.reviewers[0], milestone.id, APPROVE, "Criteria met.", TODAY)
    reviews.decide(world.reviewers[1], milestone.id, "approve", "同意します。", TODAY)
    assert state_of(milestone) == MilestoneState.approved
    assert milestone.decided_at is not None
    event_row = db.session.query(AuditEvent).filter_by(action="milestone.decide").one()
    assert event_row.before["state"] == "submitted" and event_row.after["state"] == "approved"


@pytest.mark.parametrize(
    ("decisions", "outcome"),
    [
        ((APPROVE, REJECT), MilestoneState.rejected),
        ((REJECT, APPROVE), MilestoneState.rejected),
        ((CHANGES, REJECT), MilestoneState.rejected),
        ((APPROVE, CHANGES), MilestoneState.changes_requested),
        ((CHANGES, CHANGES), MilestoneState.changes_requested),
    ],
)
def test_any_reject_rejects_and_any_request_changes_sends_it_back(
    app: Flask, decisions: tuple[ReviewDecision, ...], outcome: MilestoneState
) -> None:
    world = make_grant()
    milestone = submitted(world)
    for reviewer, decision in zip(world.reviewers, decisions, strict=True):
        reviews.decide(reviewer, milestone.id, decision, "Reason given.", TODAY)
    assert state_of(milestone) == outcome


def test_after_changes_requested_a_second_round_is_reviewed_afresh(app: Flask) -> None:
    world = make_grant()
    first, second = world.reviewers
    milestone = submitted(world)
    reviews.decide(first, milestone.id, CHANGES, "Add the raw data.", TODAY)
    reviews.decide(second, milestone.id, APPROVE, "", TODAY)
    assert state_of(milestone) == MilestoneState.changes_requested
    with pytest.raises(Conflict):  # no decision while the grantee reworks
        reviews.decide(first, milestone.id, APPROVE, "", TODAY)
    submission = evidence.submit_evidence(
        world.applicant,
        milestone.id,
        "Raw data attached.",
        {0: "7"},
        [],
        TODAY,
        upload_folder=uploads(),
    )
    assert submission.round == 2 and state_of(milestone) == MilestoneState.submitted
    reviews.decide(first, milestone.id, APPROVE, "", TODAY)
    assert state_of(milestone) == MilestoneState.submitted  # round 1 approvals do not count
    reviews.decide(second, milestone.id, APPROVE, "", TODAY)
    assert state_of(milestone) == MilestoneState.approved
    rounds = {
        (r.reviewer_id, r.decision)
        for r in db.session.query(Review).filter_by(submission_id=submission.id)
    }
    assert rounds == {(first.id, APPROVE), (second.id, APPROVE)}


def test_a_conflicted_reviewer_cannot_decide_and_is_not_counted(app: Flask) -> None:
    world = make_grant(reviewers=3)
    a, b, c = world.reviewers
    milestone = submitted(world)
    reviews.decide(c, milestone.id, APPROVE, "", TODAY)
    assignments.declare_conflict(c, world.grantee.id, None, "Shareholder")
    reviews.decide(a, milestone.id, APPROVE, "", TODAY)
    assert state_of(milestone) == MilestoneState.submitted  # c's approval no longer counts
    reviews.decide(b, milestone.id, APPROVE, "", TODAY)
    assert state_of(milestone) == MilestoneState.approved


def test_a_conflicted_reviewer_is_refused(app: Flask) -> None:
    world = make_grant()
    reviewer = world.reviewers[0]
    milestone = submitted(world)
    assignments.declare_conflict(reviewer, None, world.grant.id, "Advisor")
    with pytest.raises(NotAllowed):
        reviews.decide(reviewer, milestone.id, APPROVE, "", TODAY)
    assert db.session.query(Review).count() == 0


def test_a_reviewer_cannot_decide_twice(app: Flask) -> None:
    world = make_grant(reviewers=3)
    milestone = submitted(world)
    reviews.decide(world.reviewers[0], milestone.id, APPROVE, "", TODAY)
    with pytest.raises(Conflict):
        reviews.decide(world.reviewers[0], milestone.id, REJECT, "Changed my mind", TODAY)
    assert db.session.query(Review).count() == 1
    assert state_of(milestone) == MilestoneState.submitted


def test_a_lost_race_on_the_unique_review_is_a_conflict(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_grant()
    milestone = submitted(world)
    reviews.decide(world.reviewers[0], milestone.id, APPROVE, "", TODAY)
    monkeypatch.setattr(reviews, "_has_decided", lambda *args: False)
    with pytest.raises(Conflict):
        reviews.decide(world.reviewers[0], milestone.id, APPROVE, "", TODAY)
    assert db.session.query(Review).count() == 1


@pytest.mark.parametrize(
    ("decision", "comment", "field"),
    [
        (CHANGES, "   ", "comment"),
        (REJECT, "", "comment"),
        ("maybe", "hmm", "decision"),
        ("", "", "decision"),
        (APPROVE, "x" * (reviews.COMMENT_MAX + 1), "comment"),
    ],
)
def test_bad_input_is_refused(app: Flask, decision: str, comment: str, field: str) -> None:
    world = make_grant()
    milestone = submitted(world)
    with pytest.raises(RuleViolation) as caught:
        reviews.decide(world.reviewers[0], milestone.id, decision, comment, TODAY)
    assert field in caught.value.fields
    db.session.rollback()
    assert db.session.query(Review).count() == 0


@pytest.mark.parametrize("role", [Role.applicant, Role.officer, Role.admin, Role.reviewer])
def test_only_assigned_reviewers_decide(app: Flask, role: Role) -> None:
    world = make_grant()
    milestone = submitted(world)
    user = world.applicant if role == Role.applicant else make_user(role)
    with pytest.raises(NotAllowed):
        reviews.decide(user, milestone.id, APPROVE, "", TODAY)


def test_a_planned_milestone_cannot_be_reviewed(app: Flask) -> None:
    world = make_grant()
    with pytest.raises(Conflict):
        reviews.decide(world.reviewers[0], world.milestones[0].id, APPROVE, "", TODAY)
    with pytest.raises(NotFound):
        reviews.decide(world.reviewers[0], 999_999, APPROVE, "", TODAY)


def test_a_suspended_grant_cannot_be_reviewed(app: Flask) -> None:
    world = make_grant()
    milestone = submitted(world)
    world.grant.state = GrantState.suspended
    db.session.commit()
    with pytest.raises(Conflict):
        reviews.decide(world.reviewers[0], milestone.id, APPROVE, "", TODAY)


def _set_quorum(world: GrantWorld, count: int | None) -> None:
    document = copy.deepcopy(world.ruleset.document)
    rules = [r for r in document["rules"] if r["type"] != "review_quorum"]
    if count is not None:
        quorum = next(r for r in document["rules"] if r["type"] == "review_quorum")
        rules.append({**quorum, "params": {"min": count}})
    pinned = RuleSet(
        program_id=world.program.id,
        title="v2",
        status=RuleSetStatus.published,
        version=2,
        effective_from=date(2026, 4, 1),
        document={**document, "rules": rules},
    )
    db.session.add(pinned)
    world.grant.ruleset = pinned  # published versions are frozen: pin another one
    db.session.commit()


def test_the_quorum_comes_from_the_pinned_rule_set(app: Flask) -> None:
    world = make_grant(reviewers=3)
    _set_quorum(world, 3)
    milestone = submitted(world)
    reviews.decide(world.reviewers[0], milestone.id, APPROVE, "", TODAY)
    reviews.decide(world.reviewers[1], milestone.id, APPROVE, "", TODAY)
    assert state_of(milestone) == MilestoneState.submitted
    reviews.decide(world.reviewers[2], milestone.id, APPROVE, "", TODAY)
    assert state_of(milestone) == MilestoneState.approved


def test_a_quorum_of_one_decides_at_once(app: Flask) -> None:
    world = make_grant()
    _set_quorum(world, 1)
    milestone = submitted(world)
    reviews.decide(world.reviewers[0], milestone.id, CHANGES, "More data.", TODAY)
    assert state_of(milestone) == MilestoneState.changes_requested


def test_quorum_defaults_to_two() -> None:
    assert quorum_of({}) == 2
    assert quorum_of({"rules": [{"phase": "eligibility", "type": "equals"}]}) == 2
    gate = {"phase": "tranche_gates", "type": "review_quorum", "params": {"min": 4}}
    assert quorum_of({"rules": [gate]}) == 4


def test_without_a_quorum_rule_two_approvals_are_needed(app: Flask) -> None:
    world = make_grant()
    _set_quorum(world, None)
    milestone = submitted(world)
    reviews.decide(world.reviewers[0], milestone.id, APPROVE, "", TODAY)
    assert state_of(milestone) == MilestoneState.submitted
    reviews.decide(world.reviewers[1], milestone.id, APPROVE, "", TODAY)
    assert state_of(milestone) == MilestoneState.approved


def _queue(reviewer: User) -> list[Milestone]:
    """The reviewer's whole queue, oldest submission first."""
    return [m for m, _submitted in review_list(reviewer, REVIEW_QUEUE.query(per_page=100)).items]


def test_the_queue_lists_what_awaits_me_oldest_first(app: Flask) -> None:
    world = make_grant()
    me, other = world.reviewers
    # Three grants: evidence goes to a grant's current milestone only, one at a time.
    second = submitted(sibling_grant(world, "MS-TEST-0002"))
    first_done = submitted(world, 0)
    third = submitted(sibling_grant(world, "MS-TEST-0003"))
    assert _queue(me) == [second, first_done, third]
    reviews.decide(me, first_done.id, APPROVE, "", TODAY)
    assert _queue(me) == [second, third]
    assert _queue(other) == [second, first_done, third]
    entries = review_list(me, REVIEW_QUEUE.query()).items
    assert [m for m, _ in entries] == [second, third]
    assert entries[0][1] <= entries[1][1]


def test_the_queue_leaves_out_other_grants_conflicts_and_inactive_grants(app: Flask) -> None:
    world = make_grant()
    me = world.reviewers[0]
    other_world = make_grant(code="OTHER")
    submitted(other_world)  # I am not assigned there
    milestone = submitted(world)
    assert _queue(me) == [milestone]
    world.grant.state = GrantState.suspended
    db.session.commit()
    assert _queue(me) == []
    world.grant.state = GrantState.active
    db.session.commit()
    assignments.declare_conflict(me, world.vc.id, None, "LP of the fund")
    assert _queue(me) == []


def test_only_reviewers_have_a_queue(app: Flask) -> None:
    with pytest.raises(NotAllowed):
        _queue(make_user(Role.officer))


def test_the_queue_takes_a_constant_number_of_queries(app: Flask) -> None:
    reviewer = make_user(Role.reviewer)

    def add_grant(code: str) -> None:
        """Three grants with their current milestone submitted (one at a time per grant)."""
        world = make_grant(code=code)
        for grant in (world, *(sibling_grant(world, f"{code}-{n}") for n in (2, 3))):
            db.session.add(ReviewerAssignment(grant_id=grant.grant.id, reviewer_id=reviewer.id))
            db.session.commit()
            submitted(grant, 0)

    def count() -> int:
        statements: list[str] = []

        def listener(*args: object) -> None:
            statements.append(str(args[2]))

        db.session.rollback()  # each count starts its own transaction
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            for milestone in _queue(reviewer):
                _ = milestone.grant.organization.name, milestone.grant.program.code
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    add_grant("Q-1")
    few = count()
    add_grant("Q-2")
    add_grant("Q-3")
    assert len(_queue(reviewer)) == 9
    assert count() == few


def test_two_reviewers_deciding_at_once_settle_the_round_exactly_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The milestone row lock makes the second decision wait and count the first."""
    world = make_grant()
    milestone = submitted(world)
    ids = [r.id for r in world.reviewers]
    slow_count = reviews.eligible_reviewer_ids

    def slow(grant):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # both decisions are in flight at the same time
        return slow_count(grant)

    monkeypatch.setattr(reviews, "eligible_reviewer_ids", slow)
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def decide(reviewer_id: int) -> None:
        with app.app_context():
            try:
                reviewer = db.session.get(User, reviewer_id)
                db.session.rollback()
                barrier.wait(timeout=10)
                reviews.decide(reviewer, milestone_id, APPROVE, "", TODAY)
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    milestone_id = milestone.id
    db.session.rollback()  # SQLite: the test's own transaction would hold the write lock
    threads = [threading.Thread(target=decide, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert state_of(milestone) == MilestoneState.approved
    assert db.session.query(AuditEvent).filter_by(action="milestone.decide").count() == 1
