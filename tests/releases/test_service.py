"""Tranche release: gates, separation of duties, the budget pool, exactly one disbursement."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from grants.accounts.certified_vcs.models import VcCertification
from grants.awards.models import Disbursement, EvidenceSubmission, Investment, Review
from grants.core.actors import SYSTEM
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.releases import service as releases
from grants.rules import Outcome, Phase
from tests.support.approvals import approve, invest, officer, without_budget_gate
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.i18n import said

TODAY = date(2026, 10, 15)


def _pool(world: GrantWorld, year: int) -> BudgetPool:
    db.session.expire_all()
    return db.session.scalars(
        select(BudgetPool).where(
            BudgetPool.program_id == world.program.id, BudgetPool.fiscal_year == year
        )
    ).one()


def _nothing_released(world: GrantWorld) -> None:
    assert db.session.query(Disbursement).count() == 0
    assert _pool(world, 2026).released == 0
    assert db.session.query(AuditEvent).filter_by(action="tranche.release").count() == 0


def _refusal(world: GrantWorld, milestone_index: int = 0) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        releases.release(officer(), world.milestones[milestone_index].id, TODAY)
    _nothing_released(world)
    return caught.value


def test_officer_releases_an_approved_tranche_from_its_pool(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    actor = officer()
    disbursement = releases.release(actor, world.milestones[0].id, TODAY)
    assert disbursement.amount == 100_000_000 and disbursement.fiscal_year == 2026
    assert disbursement.released_by_id == actor.id and disbursement.grant_id == world.grant.id
    pool = _pool(world, 2026)
    assert disbursement.budget_pool_id == pool.id
    assert (pool.committed, pool.released) == (200_000_000, 100_000_000)
    assert _pool(world, 2027).committed == 300_000_000
    event = db.session.query(AuditEvent).filter_by(action="tranche.release").one()
    assert event.actor_id == actor.id and event.object_id == str(disbursement.id)
    assert event.before["released"] == 0 and event.after["released"] == 100_000_000
    assert event.after["completed"] is False
    assert db.session.get(type(world.grant), world.grant.id).state == GrantState.active
    milestone = db.session.get(type(world.milestones[0]), world.milestones[0].id)
    assert milestone.released_at == disbursement.released_at  # indexes "awaiting release"


def test_a_second_release_is_a_conflict_and_writes_nothing_more(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    releases.release(officer(), world.milestones[0].id, TODAY)
    with pytest.raises(Conflict) as caught:
        releases.release(officer(), world.milestones[0].id, TODAY)
    assert "already been released" in caught.value.message
    assert db.session.query(Disbursement).count() == 1
    assert _pool(world, 2026).released == 100_000_000


def test_the_unique_constraint_is_the_last_line(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    world = make_grant()
    approve(world, world.milestones[0])
    releases.release(officer(), world.milestones[0].id, TODAY)
    # Pretend the check in the service saw nothing (a race it lost): the insert must fail.
    monkeypatch.setattr(releases, "is_released", lambda _milestone_id: False)
    with pytest.raises(Conflict):
        releases.release(officer(), world.milestones[0].id, TODAY)
    assert db.session.query(Disbursement).count() == 1
    assert _pool(world, 2026).released == 100_000_000


@pytest.mark.parametrize(
    "state", [MilestoneState.planned, MilestoneState.submitted, MilestoneState.rejected]
)
def test_only_an_approved_milestone_is_released(app: Flask, state: MilestoneState) -> None:
    world = make_grant()
    world.milestones[0].state = state
    db.session.commit()
    with pytest.raises(Conflict):
        releases.release(officer(), world.milestones[0].id, TODAY)
    _nothing_released(world)


@pytest.mark.parametrize("state", [GrantState.suspended, GrantState.terminated])
def test_only_an_active_grant_gets_money(app: Flask, state: GrantState) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    world.grant.state = state
    db.session.commit()
    with pytest.raises(Conflict):
        releases.release(officer(), world.milestones[0].id, TODAY)
    _nothing_released(world)


def test_an_earlier_milestone_not_approved_blocks_the_release(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[1])
    error = _refusal(world, 1)
    assert "先行マイルストーンがすべて承認済み" in said(error.message)
    assert any("承認済みの先行マイルストーン: 1件中0件" in m for m in said(error.fields["gates"]))
    assert said(copy.deepcopy(error.fields)) == said(error.fields)  # a copy says the same


def test_a_review_quorum_not_reached_blocks_the_release(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[0], approvals=1)
    error = _refusal(world)
    assert "審査の定足数" in said(error.message) and "定足数 2名" in said(error.message)
    assert len(error.fields["gates"]) == 1


def test_approvals_of_an_earlier_round_do_not_count(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    world.milestones[0].round += 1  # a new submission round without reviews yet
    db.session.commit()
    error = _refusal(world)
    assert "審査の定足数" in said(error.message)


def test_a_vc_certification_revoked_before_the_release_date_blocks(app: Flask) -> None:
    world = make_grant(preset="amed")
    approve(world, world.milestones[0])
    invest(world, 50_000_000)
    certification = db.session.scalars(select(VcCertification)).one()
    certification.revoked_on = date(2026, 10, 1)
    db.session.commit()
    error = _refusal(world)
    assert "支払日にリードVCが認定VCであること" in said(error.message)
    assert len(error.fields["gates"]) == 1
    # Revoked only after the release date: the gate passes.
    certification.revoked_on = date(2026, 10, 16)
    db.session.commit()
    assert releases.release(officer(), world.milestones[0].id, TODAY).amount == 100_000_000


def test_amed_paid_in_below_half_of_the_cumulative_subsidy_blocks(app: Flask) -> None:
    world = make_grant(preset="amed")
    approve(world, world.milestones[0])
    invest(world, 49_999_999)
    # Recorded but not verified money does not count as paid in.
    recorder = make_user(Role.officer)
    db.session.add(
        Investment(
            grant_id=world.grant.id,
            vc_organization_id=world.vc.id,
            amount=100_000_000,
            paid_on=date(2026, 6, 1),
            evidence="unverified",
            recorded_by_id=recorder.id,
        )
    )
    db.session.commit()
    error = _refusal(world)
    assert "累計補助額に見合うVC出資の払込" in said(error.message)
    assert "5,000万円" in said(error.message)  # the required half of 1億円
    invest(world, 1)
    assert releases.release(officer(), world.milestones[0].id, TODAY).amount == 100_000_000


def test_gate_trace_lists_every_gate_of_the_pinned_rule_set(app: Flask) -> None:
    world = make_grant(preset="amed")
    approve(world, world.milestones[0])
    trace = releases.gate_trace(world.milestones[0], TODAY)
    assert trace.phase == Phase.TRANCHE_GATES
    assert [row.rule_id for row in trace.rows] == [
        "prior_milestones",
        "review_quorum",
        "lead_vc_certified_at_release",
        "paid_in_pro_rata",
        "budget_pool",
    ]
    outcomes = {row.rule_id: row.outcome for row in trace.rows}
    assert (
        outcomes["paid_in_pro_rata"] == Outcome.FAIL and outcomes["review_quorum"] == Outcome.PASS
    )


def test_an_officer_who_reviewed_the_milestone_may_not_release_it(app: Flask) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    reviewing_officer = officer()
    submission = db.session.scalars(select(EvidenceSubmission)).one()
    db.session.add(
        Review(
            milestone_id=world.milestones[0].id,
            submission_id=submission.id,
            reviewer_id=reviewing_officer.id,
            decision="approve",
            comment="Looked at it before moving to the programme office.",
        )
    )
    db.session.commit()
    with pytest.raises(NotAllowed) as caught:
        releases.release(reviewing_officer, world.milestones[0].id, TODAY)
    assert caught.value.message == "You reviewed this milestone: another officer must do this."
    _nothing_released(world)
    assert releases.release(officer(), world.milestones[0].id, TODAY).amount == 100_000_000


@pytest.mark.parametrize("role", [Role.admin, Role.reviewer, Role.applicant])
def test_other_roles_may_not_release(app: Flask, role: Role) -> None:
    world = make_grant()
    approve(world, world.milestones[0])
    with pytest.raises(NotAllowed):
        releases.release(make_user(role), world.milestones[0].id, TODAY)
    with pytest.raises(NotAllowed):
        releases.release(SYSTEM, world.milestones[0].id, TODAY)
    with pytest.raises(NotAllowed):
        releases.release(world.reviewers[0], world.milestones[0].id, TODAY)
    _nothing_released(world)


def test_an_unknown_milestone_is_not_found(app: Flask) -> None:
    with pytest.raises(NotFound):
        releases.release(make_user(Role.officer), 999, TODAY)


def test_the_pool_gate_blocks_a_tranche_the_pool_cannot_cover(app: Flask) -> None:
    world = make_grant(appropriation=250_000_000)  # FY2026 commits 300M
    approve(world, world.milestones[0])
    error = _refusal(world)
    assert "予算残額の範囲内" in said(error.message)


def test_the_pool_is_never_overdrawn_even_without_the_pool_gate(app: Flask) -> None:
    world = make_grant(tranches=(100_000_000, 200_000_000, 50_000_000), appropriation=250_000_000)
    without_budget_gate(world)
    approve(world, world.milestones[0], world.milestones[1])
    releases.release(officer(), world.milestones[0].id, TODAY)
    with pytest.raises(RuleViolation) as caught:
        releases.release(officer(), world.milestones[1].id, TODAY)
    message = said(caught.value.message)
    assert "2026年度の予算枠ではこのトランシェを賄えません" in message
    assert "5,000万円" in message and "年度年度" not in message
    assert caught.value.fields["pool"]
    pool = _pool(world, 2026)
    assert (pool.released, pool.committed) == (100_000_000, 200_000_000)
    assert db.session.query(Disbursement).count() == 1
    assert db.session.query(AuditEvent).filter_by(action="tranche.release").count() == 1


def test_the_overdraw_message_is_in_the_users_language(app: Flask) -> None:
    world = make_grant(tranches=(300_000_000,), appropriation=250_000_000)
    without_budget_gate(world)
    approve(world, world.milestones[0])
    with pytest.raises(RuleViolation) as caught:
        releases.release(officer(), world.milestones[0].id, TODAY)
    english = said(caught.value.message, "en")
    assert "FY2026" in english and "¥50,000,000 short" in english


def test_releasing_the_last_tranche_completes_the_grant(app: Flask) -> None:
    world = make_grant()
    approve(world, *world.milestones)
    for milestone in world.milestones[:2]:
        releases.release(officer(), milestone.id, TODAY)
        assert db.session.get(type(world.grant), world.grant.id).state == GrantState.active
    releases.release(officer(), world.milestones[2].id, date(2027, 10, 1))
    db.session.expire_all()
    assert db.session.get(type(world.grant), world.grant.id).state == GrantState.completed
    with pytest.raises(Conflict) as caught:  # a double click on the last tranche
        releases.release(officer(), world.milestones[2].id, date(2027, 10, 1))
    assert "already been released" in caught.value.message
    last = db.session.query(AuditEvent).filter_by(action="tranche.release")
    assert [e.after["completed"] for e in last.order_by(AuditEvent.id)] == [False, False, True]
    assert _pool(world, 2027).released == 300_000_000 and _pool(world, 2027).committed == 0
