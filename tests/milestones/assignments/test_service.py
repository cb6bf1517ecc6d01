"""Reviewer assignment with conflict-of-interest exclusion, and conflict declarations."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import event

from grants.accounts.models import User
from grants.awards import queries as grant_queries
from grants.awards.models import ConflictDeclaration, ReviewerAssignment
from grants.awards.queries import eligible_reviewer_ids
from grants.core.conflicts import ConflictReason
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState
from grants.extensions import db
from grants.milestones.assignments import queries as assignment_queries
from grants.milestones.assignments import service as assignments
from grants.rules.presets import milestone_programme
from tests.support.approvals import pin_version
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.i18n import raises_saying, said


def _assigned_ids(world: GrantWorld) -> set[int]:
    rows = db.session.query(ReviewerAssignment).filter_by(grant_id=world.grant.id)
    return {row.reviewer_id for row in rows}


def _conflicted_reviewer(world: GrantWorld, reason: ConflictReason) -> User:
    """A reviewer with exactly one conflict of interest with the world's grant."""
    if reason is ConflictReason.same_organization:
        return make_user(Role.reviewer, world.grantee)
    if reason is ConflictReason.investing_vc:
        return make_user(Role.reviewer, world.vc)
    reviewer = make_user(Role.reviewer, make_org(OrgKind.university))
    assignments.declare_conflict(reviewer, world.grantee.id, None, "共同研究者です")
    return reviewer


def test_officer_assigns_an_eligible_reviewer_with_an_audit_row(app: Flask) -> None:
    world = make_grant()
    officer = make_user(Role.officer)
    reviewer = make_user(Role.reviewer, make_org(OrgKind.university))
    assignment = assignments.assign_reviewer(officer, world.grant.id, reviewer.id, date(2026, 6, 1))
    assert assignment.assigned_by_id == officer.id
    assert reviewer.id in _assigned_ids(world)
    assert reviewer.id in eligible_reviewer_ids(world.grant)
    event_row = db.session.query(AuditEvent).filter_by(action="reviewer.assign").one()
    assert event_row.actor_id == officer.id
    assert event_row.after == {"grant_id": world.grant.id, "reviewer_id": reviewer.id}


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (ConflictReason.same_organization, "同一組織"),
        (ConflictReason.investing_vc, "出資VCの関係者"),
        (ConflictReason.declared, "自己申告の利益相反"),
    ],
)
def test_a_conflicted_reviewer_is_refused_with_the_reason_named(
    app: Flask, reason: ConflictReason, text: str
) -> None:
    world = make_grant()
    reviewer = _conflicted_reviewer(world, reason)
    with pytest.raises(RuleViolation) as caught:
        assignments.assign_reviewer(
            make_user(Role.officer), world.grant.id, reviewer.id, date(2026, 6, 1)
        )
    assert text in said(caught.value.message) and reviewer.name in said(caught.value.message)
    assert text in said(caught.value.fields["reviewer_id"][0])
    assert reviewer.id not in _assigned_ids(world)
    assert db.session.query(AuditEvent).filter_by(action="reviewer.assign").count() == 0


def test_a_declared_conflict_with_the_grant_itself_excludes_too(app: Flask) -> None:
    world = make_grant()
    reviewer = make_user(Role.reviewer)
    assignments.declare_conflict(reviewer, None, world.grant.id, "Advised the founders")
    with raises_saying(RuleViolation, "自己申告の利益相反"):
        assignments.assign_reviewer(
            make_user(Role.officer), world.grant.id, reviewer.id, date(2026, 6, 1)
        )


def test_candidates_list_unassigned_active_reviewers_with_their_reasons(app: Flask) -> None:
    world = make_grant()
    free = make_user(Role.reviewer, make_org(OrgKind.university))
    same = make_user(Role.reviewer, world.grantee)
    vc_person = make_user(Role.reviewer, world.vc)
    make_user(Role.reviewer, active=False)
    make_user(Role.officer)
    found = {user.id: reasons for user, reasons in assignment_queries.candidates(world.grant)}
    assert found == {
        free.id: [],
        same.id: [ConflictReason.same_organization],
        vc_person.id: [ConflictReason.investing_vc],
    }


def test_candidates_take_a_constant_number_of_queries(app: Flask) -> None:
    world = make_grant()

    def count() -> int:
        statements: list[str] = []

        def listener(*args: object) -> None:
            statements.append(str(args[2]))

        db.session.rollback()  # each count starts its own transaction
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            [u.organization for u, _ in assignment_queries.candidates(world.grant)]
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    make_user(Role.reviewer, make_org())
    few = count()
    for _ in range(6):
        make_user(Role.reviewer, make_org())
    assert count() == few


def test_assigned_shows_who_is_conflicted(app: Flask) -> None:
    world = make_grant()
    first, second = world.reviewers
    assignments.declare_conflict(first, world.vc.id, None, "Former partner at the VC")
    found = dict(grant_queries.assigned(world.grant))
    assert found[first] == [ConflictReason.declared] and found[second] == []


@pytest.mark.parametrize("kind", ["applicant", "officer", "inactive", "missing"])
def test_only_an_active_reviewer_can_be_assigned(app: Flask, kind: str) -> None:
    world = make_grant()
    user_id = {
        "applicant": lambda: make_user(Role.applicant).id,
        "officer": lambda: make_user(Role.officer).id,
        "inactive": lambda: make_user(Role.reviewer, active=False).id,
        "missing": lambda: 999_999,
    }[kind]()
    with pytest.raises(RuleViolation) as caught:
        assignments.assign_reviewer(
            make_user(Role.officer), world.grant.id, user_id, date(2026, 6, 1)
        )
    assert "reviewer_id" in caught.value.fields
    assert user_id not in _assigned_ids(world)


def test_assigning_twice_is_a_conflict(app: Flask) -> None:
    world = make_grant()
    with pytest.raises(Conflict):
        assignments.assign_reviewer(
            make_user(Role.officer), world.grant.id, world.reviewers[0].id, date(2026, 6, 1)
        )
    assert db.session.query(ReviewerAssignment).filter_by(grant_id=world.grant.id).count() == 2


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_only_officers_assign_and_unassign(app: Flask, role: Role) -> None:
    world = make_grant()
    reviewer = make_user(Role.reviewer)
    with pytest.raises(NotAllowed):
        assignments.assign_reviewer(make_user(role), world.grant.id, reviewer.id, date(2026, 6, 1))
    with pytest.raises(NotAllowed):
        assignments.unassign_reviewer(make_user(role), world.grant.id, world.reviewers[0].id)
    assert _assigned_ids(world) == {r.id for r in world.reviewers}


def test_officer_unassigns_a_reviewer_with_an_audit_row(app: Flask) -> None:
    world = make_grant()
    gone = world.reviewers[0]
    assignments.unassign_reviewer(make_user(Role.officer), world.grant.id, gone.id)
    assert _assigned_ids(world) == {world.reviewers[1].id}
    event_row = db.session.query(AuditEvent).filter_by(action="reviewer.unassign").one()
    assert event_row.before == {"grant_id": world.grant.id, "reviewer_id": gone.id}
    with pytest.raises(NotFound):
        assignments.unassign_reviewer(make_user(Role.officer), world.grant.id, gone.id)


def test_unknown_grant_is_not_found(app: Flask) -> None:
    reviewer = make_user(Role.reviewer)
    with pytest.raises(NotFound):
        assignments.assign_reviewer(make_user(Role.officer), 424242, reviewer.id, date(2026, 6, 1))


@pytest.mark.parametrize("state", [GrantState.terminated, GrantState.completed])
def test_reviewers_of_a_closed_grant_cannot_change(app: Flask, state: GrantState) -> None:
    world = make_grant()
    world.grant.state = state
    db.session.commit()
    reviewer = make_user(Role.reviewer)
    with pytest.raises(Conflict):
        assignments.assign_reviewer(
            make_user(Role.officer), world.grant.id, reviewer.id, date(2026, 6, 1)
        )
    with pytest.raises(Conflict):
        assignments.unassign_reviewer(
            make_user(Role.officer), world.grant.id, world.reviewers[0].id
        )


def test_a_declared_conflict_makes_an_assigned_reviewer_ineligible(app: Flask) -> None:
    world = make_grant()
    first, second = world.reviewers
    assert eligible_reviewer_ids(world.grant) == {first.id, second.id}
    declaration = assignments.declare_conflict(first, None, world.grant.id, "  株主です  ")
    assert declaration.note == "株主です" and declaration.reviewer_id == first.id
    assert eligible_reviewer_ids(world.grant) == {second.id}
    event_row = db.session.query(AuditEvent).filter_by(action="conflict.declare").one()
    assert event_row.actor_id == first.id and event_row.after["grant_id"] == world.grant.id


@pytest.mark.parametrize(
    ("org", "grant", "note", "field"),
    [
        (None, None, "note", "organization_id"),
        (424242, None, "note", "organization_id"),
        (None, 424242, "note", "grant_id"),
        ("grantee", None, "   ", "note"),
        ("grantee", None, "x" * 501, "note"),
    ],
)
def test_a_declaration_needs_a_known_party_and_a_note(
    app: Flask, org: object, grant: int | None, note: str, field: str
) -> None:
    world = make_grant()
    organization_id = world.grantee.id if org == "grantee" else org
    with pytest.raises(RuleViolation) as caught:
        assignments.declare_conflict(world.reviewers[0], organization_id, grant, note)  # type: ignore[arg-type]
    assert field in caught.value.fields
    assert db.session.query(ConflictDeclaration).count() == 0


@pytest.mark.parametrize("role", [Role.applicant, Role.officer, Role.admin])
def test_only_reviewers_declare_conflicts(app: Flask, role: Role) -> None:
    world = make_grant()
    with pytest.raises(NotAllowed):
        assignments.declare_conflict(make_user(role), world.grantee.id, None, "note")
    assert db.session.query(ConflictDeclaration).count() == 0


def test_declarations_of_lists_only_mine_newest_first(app: Flask) -> None:
    world = make_grant()
    me, other = world.reviewers
    first = assignments.declare_conflict(me, world.grantee.id, None, "one")
    second = assignments.declare_conflict(me, None, world.grant.id, "two")
    assignments.declare_conflict(other, world.vc.id, None, "not mine")
    assert [d.id for d in assignment_queries.declarations_of(me)] == [second.id, first.id]


# ---- a quorum that cannot be reached -------------------------------------------------------


def test_the_quorum_outlook_counts_eligible_reviewers_only(app: Flask) -> None:
    world = make_grant(reviewers=2)  # the preset's review quorum is 2
    outlook = grant_queries.quorum_outlook(world.grant)
    assert (outlook.quorum, outlook.eligible, outlook.reachable) == (2, 2, True)
    # A conflict declared after the assignment: still assigned, no longer counted.
    assignments.declare_conflict(world.reviewers[0], None, world.grant.id, "Advisor")
    outlook = grant_queries.quorum_outlook(world.grant)
    assert (outlook.eligible, outlook.reachable, outlook.missing) == (1, False, 1)
    # An inactive reviewer does not count either; a new eligible one restores the quorum.
    world.reviewers[1].active = False
    db.session.commit()
    assert grant_queries.quorum_outlook(world.grant).missing == 2
    officer = make_user(Role.officer)
    for _ in range(2):
        free = make_user(Role.reviewer, make_org(OrgKind.university))
        assignments.assign_reviewer(officer, world.grant.id, free.id, date(2026, 6, 1))
    assert grant_queries.quorum_outlook(world.grant).reachable


def test_the_quorum_follows_the_pinned_rule_set(app: Flask) -> None:
    world = make_grant(reviewers=2)
    document = milestone_programme()
    for rule in document["rules"]:
        if rule["type"] == "review_quorum":
            rule["params"]["min"] = 3
    pin_version(world, document, "v2, three reviewers")
    outlook = grant_queries.quorum_outlook(world.grant)
    assert (outlook.quorum, outlook.eligible, outlook.reachable) == (3, 2, False)


def test_a_withdrawn_declaration_makes_the_reviewer_eligible_again(app: Flask) -> None:
    world = make_grant()
    first, second = world.reviewers
    declaration = assignments.declare_conflict(first, None, world.grant.id, "株主です")
    assert eligible_reviewer_ids(world.grant) == {second.id}
    assignments.withdraw_conflict(first, declaration.id)
    assert eligible_reviewer_ids(world.grant) == {first.id, second.id}
    assert db.session.query(ConflictDeclaration).count() == 0
    event_row = db.session.query(AuditEvent).filter_by(action="conflict.withdraw").one()
    assert event_row.actor_id == first.id
    assert event_row.before == {
        "organization_id": None,
        "grant_id": world.grant.id,
        "note": "株主です",
    }


def test_only_its_reviewer_withdraws_a_declaration(app: Flask) -> None:
    world = make_grant()
    first, second = world.reviewers
    declaration = assignments.declare_conflict(first, world.grantee.id, None, "共同研究者です")
    with pytest.raises(NotFound):
        assignments.withdraw_conflict(second, declaration.id)
    with pytest.raises(NotFound):
        assignments.withdraw_conflict(first, declaration.id + 1)
    for role in (Role.applicant, Role.officer, Role.admin):
        with pytest.raises(NotAllowed):
            assignments.withdraw_conflict(make_user(role), declaration.id)
    assert db.session.query(ConflictDeclaration).count() == 1
