"""Amendments: requests by the grantee, decisions by an officer, pools kept consistent."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from grants.amendments import service as amendments
from grants.awards.models import Amendment, Milestone
from grants.core.calendar import format_date, tokyo_today
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.core.states import AmendmentKind, AmendmentState, GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from tests.support.approvals import approve
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.i18n import said

TODAY = date(2026, 8, 1)


def _pools(world: GrantWorld) -> dict[int, tuple[int, int]]:
    db.session.expire_all()
    query = select(BudgetPool).where(BudgetPool.program_id == world.program.id)
    return {p.fiscal_year: (p.committed, p.released) for p in db.session.scalars(query)}


def _milestone(milestone_id: int) -> Milestone:
    db.session.expire_all()
    milestone = db.session.get(Milestone, milestone_id)
    assert milestone is not None
    return milestone


def _move(world: GrantWorld, index: int, new_due: date, today: date = TODAY) -> Amendment:
    return amendments.request_amendment(
        world.applicant,
        world.grant.id,
        AmendmentKind.due_date,
        world.milestones[index].id,
        new_due,
        None,
        "治験施設の準備に時間がかかるため",
        today,
    )


def _resplit(world: GrantWorld, split: dict[int, int], actor=None) -> Amendment:  # type: ignore[no-untyped-def]
    return amendments.request_amendment(
        actor or world.applicant,
        world.grant.id,
        "resplit",
        None,
        None,
        split,
        "Spending moves to the second stage.",
        TODAY,
    )


def _decide(amendment: Amendment, approve_it: bool = True, note: str = "", today=TODAY):  # type: ignore[no-untyped-def]
    return amendments.decide_amendment(
        make_user(Role.officer), amendment.id, approve_it, note, today
    )


def _request_errors(world: GrantWorld, locale: str = "ja", **kwargs) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    values = {
        "kind": "due_date",
        "milestone_id": world.milestones[min(1, len(world.milestones) - 1)].id,
        "new_due_date": date(2027, 4, 30),
        "new_split": None,
        "reason": "Because.",
    } | kwargs
    with pytest.raises(RuleViolation) as caught:
        amendments.request_amendment(world.applicant, world.grant.id, today=TODAY, **values)
    assert db.session.query(Amendment).count() == 0
    return said(caught.value.fields, locale)


def test_grantee_requests_a_new_due_date(app: Flask) -> None:
    world = make_grant()
    amendment = _move(world, 1, date(2027, 4, 30))
    assert amendment.state == AmendmentState.requested
    assert amendment.milestone_id == world.milestones[1].id
    assert amendment.requested_by_id == world.applicant.id
    event = db.session.query(AuditEvent).filter_by(action="amendment.request").one()
    assert event.after["new_due_date"] == "2027-04-30" and event.after["kind"] == "due_date"
    # Nothing changes before an officer decides.
    assert _milestone(world.milestones[1].id).due_date == date(2027, 3, 30)


def test_approval_moves_the_date_and_the_commitment_across_fiscal_years(app: Flask) -> None:
    world = make_grant()
    assert _pools(world) == {2026: (300_000_000, 0), 2027: (300_000_000, 0)}
    amendment = _move(world, 1, date(2027, 4, 30))
    _decide(amendment, note="OK")
    milestone = _milestone(world.milestones[1].id)
    assert milestone.due_date == date(2027, 4, 30) and milestone.fiscal_year == 2027
    assert _pools(world) == {2026: (100_000_000, 0), 2027: (500_000_000, 0)}
    amendment = db.session.get(Amendment, amendment.id)
    assert amendment.state == AmendmentState.approved and amendment.decision_note == "OK"
    key = str(world.milestones[1].id)
    assert amendment.snapshot["before"][key] == {
        "due_date": "2027-03-30",
        "fiscal_year": 2026,
        "tranche_amount": 200_000_000,
    }
    assert amendment.snapshot["after"][key]["fiscal_year"] == 2027
    event = db.session.query(AuditEvent).filter_by(action="amendment.approve").one()
    assert event.before["milestones"][key]["due_date"] == "2027-03-30"
    assert event.after["milestones"][key]["due_date"] == "2027-04-30"
    assert event.after["pools"]["2027"]["committed"] == 500_000_000


def test_a_move_within_the_fiscal_year_leaves_the_pools_alone(app: Flask) -> None:
    world = make_grant()
    world.milestones[0].overdue_since = date(2026, 10, 1)
    db.session.commit()
    amendment = _move(world, 0, date(2026, 12, 1), today=date(2026, 10, 20))
    _decide(amendment, today=date(2026, 10, 20))
    milestone = _milestone(world.milestones[0].id)
    assert milestone.due_date == date(2026, 12, 1) and milestone.overdue_since is None
    assert _pools(world) == {2026: (300_000_000, 0), 2027: (300_000_000, 0)}


def test_the_other_years_pool_must_exist(app: Flask) -> None:
    world = make_grant(tranches=(100_000_000,), first_due=date(2027, 3, 15))
    amendment = _move(world, 0, date(2027, 4, 15))
    with pytest.raises(RuleViolation) as caught:
        _decide(amendment)
    assert said(caught.value.fields["pools"]) == [
        "このプログラムには2027年度の予算枠がありません。"
    ]
    _nothing_decided(world, amendment, {2026: (100_000_000, 0)})


def test_the_other_years_pool_must_have_room(app: Flask) -> None:
    world = make_grant(appropriation=400_000_000)  # FY2027: 300M committed, 100M available
    amendment = _move(world, 1, date(2027, 4, 30))
    with pytest.raises(RuleViolation) as caught:
        _decide(amendment)
    assert "2027年度" in said(caught.value.fields["pools"][0])
    _nothing_decided(world, amendment, {2026: (300_000_000, 0), 2027: (300_000_000, 0)})


def _nothing_decided(
    world: GrantWorld, amendment: Amendment, pools: dict[int, tuple[int, int]]
) -> None:
    db.session.rollback()
    assert _pools(world) == pools
    stored = db.session.get(Amendment, amendment.id)
    assert stored.state == AmendmentState.requested and stored.snapshot is None
    assert [m.due_date for m in db.session.scalars(select(Milestone))] == [
        m.due_date for m in world.milestones
    ]
    assert db.session.query(AuditEvent).filter_by(action="amendment.approve").count() == 0


def test_a_date_past_the_programme_end_is_refused(app: Flask) -> None:
    world = make_grant(tranches=(100_000_000,), first_due=date(2031, 6, 30))
    fields = _request_errors(
        world, milestone_id=world.milestones[0].id, new_due_date=date(2031, 10, 1)
    )
    assert "2031年9月30日" in fields["new_due_date"][0]
    # Accepted when asked, refused when the programme end moved earlier in the meantime.
    amendment = _move(world, 0, date(2031, 9, 1))
    world.program.end_date = date(2031, 8, 31)
    db.session.commit()
    with pytest.raises(RuleViolation) as caught:
        _decide(amendment)
    assert "2031年8月31日" in said(caught.value.fields["new_due_date"][0])
    assert _milestone(world.milestones[0].id).due_date == date(2031, 6, 30)


def test_an_extension_beyond_the_rule_sets_maximum_is_refused(app: Flask) -> None:
    world = make_grant()  # milestone 2 due 2027-03-30; the preset allows 180 days
    fields = _request_errors(world, new_due_date=date(2027, 9, 27))  # 181 days
    assert "181" in fields["new_due_date"][0] and "180" in fields["new_due_date"][0]
    assert _move(world, 1, date(2027, 9, 26)).state == AmendmentState.requested  # 180 days
    # A request stored beyond the limit (e.g. by an older version) is refused at approval.
    stale = Amendment(
        grant_id=world.grant.id,
        milestone_id=world.milestones[1].id,
        kind=AmendmentKind.due_date,
        state=AmendmentState.requested,
        new_due_date=date(2027, 12, 1),
        reason="old",
    )
    db.session.add(stale)
    db.session.commit()
    with pytest.raises(RuleViolation) as caught:
        _decide(stale)
    assert "new_due_date" in caught.value.fields


def test_due_date_request_checks(app: Flask) -> None:
    world = make_grant()
    assert "new_due_date" in _request_errors(world, new_due_date=TODAY)
    assert "new_due_date" in _request_errors(world, new_due_date=None)
    assert "new_due_date" in _request_errors(world, new_due_date=date(2027, 3, 30))  # unchanged
    assert "milestone_id" in _request_errors(world, milestone_id=None)
    assert "reason" in _request_errors(world, reason="  ")
    assert "kind" in _request_errors(world, kind="extend")
    other = make_grant(code="OTHER")
    assert "milestone_id" in _request_errors(world, milestone_id=other.milestones[0].id)
    world.milestones[1].state = MilestoneState.submitted
    db.session.commit()
    assert "milestone_id" in _request_errors(world)


def test_a_resplit_keeps_the_total_and_moves_commitments(app: Flask) -> None:
    world = make_grant()
    m2, m3 = world.milestones[1].id, world.milestones[2].id
    amendment = _resplit(world, {m2: 250_000_000, m3: 250_000_000})
    assert amendment.new_split == {str(m2): 250_000_000, str(m3): 250_000_000}
    _decide(amendment)
    assert _milestone(m2).tranche_amount == 250_000_000
    assert _milestone(m3).tranche_amount == 250_000_000
    assert _pools(world) == {2026: (350_000_000, 0), 2027: (250_000_000, 0)}
    stored = db.session.get(Amendment, amendment.id)
    assert stored.snapshot["before"][str(m3)]["tranche_amount"] == 300_000_000


def test_resplit_request_checks(app: Flask) -> None:
    world = make_grant()
    m1, m2, m3 = (m.id for m in world.milestones)
    fields = _request_errors(world, kind="resplit", new_split={m2: 250_000_000, m3: 200_000_000})
    assert "5億円" in fields["new_split"][0]
    assert f"new_split.{m2}" in _request_errors(
        world, kind="resplit", new_split={m2: -1, m3: 500_000_001}
    )
    assert f"new_split.{m3}" in _request_errors(
        world, kind="resplit", new_split={m2: 500_000_000, m3: 0.0}
    )
    assert "new_split" in _request_errors(world, kind="resplit", new_split={})
    assert "new_split" in _request_errors(
        world, kind="resplit", new_split={m2: 200_000_000, m3: 300_000_000}
    )
    approve(world, world.milestones[0])  # approved: no longer open
    assert "new_split" in _request_errors(
        world, kind="resplit", new_split={m1: 50_000_000, m2: 250_000_000}
    )
    # Moving money to zero is allowed.
    assert _resplit(world, {m2: 0, m3: 500_000_000}).state == AmendmentState.requested


def test_a_resplit_whose_pool_cannot_take_more_is_refused(app: Flask) -> None:
    world = make_grant(appropriation=320_000_000)  # FY2026: 300M committed, 20M available
    m2, m3 = world.milestones[1].id, world.milestones[2].id
    amendment = _resplit(world, {m2: 250_000_000, m3: 250_000_000})
    with pytest.raises(RuleViolation):
        _decide(amendment)
    _nothing_decided(world, amendment, {2026: (300_000_000, 0), 2027: (300_000_000, 0)})


def test_a_resplit_touching_a_milestone_approved_since_is_a_conflict(app: Flask) -> None:
    world = make_grant()
    m1, m2 = world.milestones[0].id, world.milestones[1].id
    amendment = _resplit(world, {m1: 50_000_000, m2: 250_000_000})
    approve(world, world.milestones[0])
    with pytest.raises(Conflict):
        _decide(amendment)
    assert _milestone(m1).tranche_amount == 100_000_000


def test_decline_needs_a_note(app: Flask) -> None:
    world = make_grant()
    amendment = _move(world, 1, date(2027, 4, 30))
    with pytest.raises(RuleViolation) as caught:
        _decide(amendment, approve_it=False, note="  ")
    assert "note" in caught.value.fields
    assert db.session.get(Amendment, amendment.id).state == AmendmentState.requested
    _decide(amendment, approve_it=False, note="Not justified by the reports.")
    stored = db.session.get(Amendment, amendment.id)
    assert stored.state == AmendmentState.declined and stored.snapshot is None
    assert stored.decision_note == "Not justified by the reports."
    assert _milestone(world.milestones[1].id).due_date == date(2027, 3, 30)
    event = db.session.query(AuditEvent).filter_by(action="amendment.decline").one()
    assert event.after["note"] == "Not justified by the reports."


def test_a_decided_amendment_cannot_be_decided_again(app: Flask) -> None:
    world = make_grant()
    amendment = _move(world, 1, date(2027, 4, 30))
    _decide(amendment)
    with pytest.raises(Conflict):
        _decide(amendment)
    with pytest.raises(Conflict):
        _decide(amendment, approve_it=False, note="late")
    assert _pools(world) == {2026: (100_000_000, 0), 2027: (500_000_000, 0)}


def test_requester_withdraws_and_nobody_else(app: Flask) -> None:
    world = make_grant()
    amendment = _move(world, 1, date(2027, 4, 30))
    colleague = make_user(Role.applicant, world.grantee)
    with pytest.raises(NotAllowed):
        amendments.withdraw_amendment(colleague, amendment.id)
    with pytest.raises(NotAllowed):
        amendments.withdraw_amendment(make_user(Role.officer), amendment.id)
    amendments.withdraw_amendment(world.applicant, amendment.id)
    assert db.session.get(Amendment, amendment.id).state == AmendmentState.withdrawn
    assert db.session.query(AuditEvent).filter_by(action="amendment.withdraw").count() == 1
    with pytest.raises(Conflict):
        amendments.withdraw_amendment(world.applicant, amendment.id)
    with pytest.raises(Conflict):
        _decide(amendment)


def test_permissions(app: Flask) -> None:
    world = make_grant()
    other = make_grant(code="OTHER")
    for outsider in (other.applicant, make_user(Role.officer), make_user(Role.admin)):
        with pytest.raises(NotAllowed):
            _resplit(world, {world.milestones[1].id: 1}, actor=outsider)
    with pytest.raises(NotAllowed):
        amendments.request_amendment(
            world.reviewers[0], world.grant.id, "due_date", None, None, None, "x", TODAY
        )
    amendment = _move(world, 1, date(2027, 4, 30))
    for outsider in (world.applicant, world.reviewers[0], make_user(Role.admin)):
        with pytest.raises(NotAllowed):
            amendments.decide_amendment(outsider, amendment.id, True, "", TODAY)
    with pytest.raises(NotFound):
        amendments.decide_amendment(make_user(Role.officer), 999, True, "", TODAY)
    assert db.session.get(Amendment, amendment.id).state == AmendmentState.requested


@pytest.mark.parametrize("state", [GrantState.suspended, GrantState.terminated])
def test_only_active_grants_are_amended(app: Flask, state: GrantState) -> None:
    world = make_grant()
    amendment = _move(world, 1, date(2027, 4, 30))
    world.grant.state = state
    db.session.commit()
    with pytest.raises(Conflict):
        _move(world, 1, date(2027, 5, 30))
    with pytest.raises(Conflict):
        _decide(amendment)
    assert db.session.get(Amendment, amendment.id).state == AmendmentState.requested


# ---- milestones keep their order ---------------------------------------------------------


def test_a_new_due_date_stays_between_the_neighbouring_milestones(app: Flask) -> None:
    world = make_grant()  # due 2026-09-30, 2027-03-30, 2027-09-30
    first, second, _third = world.milestones
    for day in (date(2027, 3, 30), date(2027, 4, 30)):  # on or after milestone 2's date
        fields = _request_errors(world, milestone_id=first.id, new_due_date=day)
        assert "2027年3月30日" in fields["new_due_date"][0]  # milestone 2's due date
    for day in (date(2026, 9, 30), date(2026, 9, 1)):  # on or before milestone 1's date
        fields = _request_errors(world, milestone_id=second.id, new_due_date=day)
        assert "2026年9月30日" in fields["new_due_date"][0]  # milestone 1's
    fields = _request_errors(world, milestone_id=second.id, new_due_date=date(2027, 9, 30))
    assert "2027年9月30日" in fields["new_due_date"][0]
    # strictly between: accepted, and the last milestone has no next one to stay before
    assert _move(world, 1, date(2027, 9, 26)).state == AmendmentState.requested
    assert _move(world, 0, date(2027, 3, 29)).state == AmendmentState.requested
    assert _move(world, 2, date(2028, 3, 1)).state == AmendmentState.requested


def test_the_order_message_in_english(app: Flask) -> None:
    world = make_grant()
    fields = _request_errors(
        world, "en", milestone_id=world.milestones[0].id, new_due_date=date(2027, 4, 1)
    )
    assert fields["new_due_date"] == [
        "The new due date must be before the due date of milestone 2 (30 Mar 2027): "
        "milestones stay in their order."
    ]


def test_approval_rechecks_the_order_as_other_milestones_moved(app: Flask) -> None:
    world = make_grant()  # due 2026-09-30, 2027-03-30, 2027-09-30
    later_second = _move(world, 1, date(2027, 6, 30))  # fine: before milestone 3
    earlier_third = _move(world, 2, date(2027, 5, 31))  # fine while milestone 2 is in March
    assert _decide(later_second).state == AmendmentState.approved
    with pytest.raises(RuleViolation) as caught:
        _decide(earlier_third)
    assert "2027年6月30日" in said(caught.value.fields["new_due_date"][0])
    db.session.rollback()
    assert _milestone(world.milestones[2].id).due_date == date(2027, 9, 30)
    stored = db.session.get(Amendment, earlier_third.id)
    assert stored is not None and stored.state == AmendmentState.requested
    assert db.session.query(AuditEvent).filter_by(action="amendment.approve").count() == 1


# --- one pending request per milestone ----------------------------------------------------


def _refused(world: GrantWorld, locale: str = "ja", **values) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The fields of the RuleViolation as read in `locale`; no request was added, none
    changed."""
    before = {a.id: a.state for a in db.session.query(Amendment)}
    values = {"milestone_id": None, "new_due_date": None, "new_split": None} | values
    with pytest.raises(RuleViolation) as caught:
        amendments.request_amendment(
            world.applicant, world.grant.id, reason="Again.", today=TODAY, **values
        )
    db.session.rollback()
    assert {a.id: a.state for a in db.session.query(Amendment)} == before
    return said(caught.value.fields, locale)


def test_a_milestone_with_a_pending_request_takes_no_second_one(app: Flask) -> None:
    world = make_grant()
    second = world.milestones[1]
    first_request = _move(world, 1, date(2027, 4, 30))
    fields = _refused(
        world, "en", kind="due_date", milestone_id=second.id, new_due_date=date(2027, 5, 15)
    )
    day = format_date(tokyo_today(first_request.requested_at), "en")
    assert fields == {
        "milestone_id": [
            f"Milestone 2 already has an amendment request waiting for a decision (requested "
            f"on {day}). Wait for the decision, or withdraw that request first."
        ]
    }
    # another milestone is free
    assert _move(world, 2, date(2027, 10, 30)).state == AmendmentState.requested


def test_the_refusal_in_japanese_gives_the_request_day_as_a_japanese_date(app: Flask) -> None:
    world = make_grant()
    first_request = _move(world, 1, date(2027, 4, 30))
    fields = _refused(
        world, kind="due_date", milestone_id=world.milestones[1].id, new_due_date=date(2027, 5, 1)
    )
    day = format_date(tokyo_today(first_request.requested_at), "ja")
    assert fields["milestone_id"] == [
        f"マイルストーン 2 には、決定待ちの変更申請があります（{day}申請）。"
        "決定を待つか、先にその申請を取り下げてください。"
    ]
    assert not re.search(r"\d{4}-\d{2}-\d{2}", fields["milestone_id"][0])


@pytest.mark.parametrize("outcome", ["withdrawn", "declined", "approved"])
def test_once_decided_or_withdrawn_the_milestone_takes_a_new_request(
    app: Flask, outcome: str
) -> None:
    world = make_grant()
    first_request = _move(world, 1, date(2027, 4, 30))
    if outcome == "withdrawn":
        amendments.withdraw_amendment(world.applicant, first_request.id)
    else:
        _decide(first_request, approve_it=outcome == "approved", note="Decided.")
    assert _move(world, 1, date(2027, 6, 30)).state == AmendmentState.requested


def test_a_resplit_is_refused_for_each_milestone_with_a_pending_request(app: Flask) -> None:
    world = make_grant()  # tranches 100M, 200M, 300M
    m1, m2, m3 = (m.id for m in world.milestones)
    _move(world, 1, date(2027, 4, 30))  # milestone 2 pending
    fields = _refused(world, kind="resplit", new_split={m2: 250_000_000, m3: 250_000_000})
    assert set(fields) == {f"new_split.{m2}"} and "2" in fields[f"new_split.{m2}"][0]
    # a re-split leaving milestone 2's tranche as it is does not touch it
    _resplit(world, {m1: 50_000_000, m2: 200_000_000, m3: 350_000_000})
    fields = _refused(world, kind="resplit", new_split={m1: 60_000_000, m3: 340_000_000})
    assert set(fields) == {f"new_split.{m1}", f"new_split.{m3}"}


def test_a_due_date_request_is_refused_for_a_milestone_in_a_pending_resplit(app: Flask) -> None:
    world = make_grant()
    m2, m3 = world.milestones[1].id, world.milestones[2].id
    _resplit(world, {m2: 250_000_000, m3: 250_000_000})
    fields = _refused(world, kind="due_date", milestone_id=m3, new_due_date=date(2027, 10, 30))
    assert set(fields) == {"milestone_id"}
    assert _move(world, 0, date(2026, 10, 30)).state == AmendmentState.requested
