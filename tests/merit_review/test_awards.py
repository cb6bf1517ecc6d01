"""Awards follow the ranking: below the funding line, unranked, or passing over undecided
applications ranked above, an award needs a written reason, recorded and audited; two
officers awarding around the line at once never over-commit a pool."""

from __future__ import annotations

import pytest
from flask import Flask

from grants.applications.models import Application
from grants.awards import service as awards
from grants.awards.models import Grant
from grants.core.audit import verify_chain
from grants.core.errors import RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.merit_review.models import RankingDeparture
from grants.programs.models import BudgetPool
from tests.support.applications import TODAY
from tests.support.factories import make_user
from tests.support.merit import MeritWorld, assign, merit_world, scored
from tests.support.races import at_once


def _ranked_call(appropriation: int = 300_000_000) -> MeritWorld:
    """Three applications ranked 1, 2, 3; the pools hold two (FY2027 and FY2028: 150M each)."""
    world = merit_world(applications=3, appropriation=appropriation)
    for application_id, value in zip(world.applications, (5, 4, 3), strict=True):
        scored(world, application_id, world.reviewers[0], (value, value, value))
    return world


def _nothing_awarded(application_id: int) -> None:
    db.session.expire_all()
    assert db.session.query(Grant).count() == 0
    assert db.session.query(RankingDeparture).count() == 0
    assert db.session.get(Application, application_id).state == ApplicationState.under_review
    assert not db.session.query(AuditEvent).filter_by(action="grant.award").count()


def _award_audit() -> dict[str, object]:
    event = db.session.query(AuditEvent).filter_by(action="grant.award").order_by(AuditEvent.id)
    return event.all()[-1].after


def test_awarding_in_ranking_order_needs_no_reason(app: Flask) -> None:
    world = _ranked_call()
    first, second, _third = world.applications
    awards.award(world.officer, first, TODAY)
    awards.award(world.officer, second, TODAY)  # the one above it is decided now
    assert _award_audit()["ranking"] == {"rank": 2, "follows_ranking": True}
    assert db.session.query(RankingDeparture).count() == 0


def test_passing_over_a_higher_ranked_application_needs_a_reason(app: Flask) -> None:
    world = _ranked_call()
    first, second, _third = world.applications
    with pytest.raises(RuleViolation) as refused:
        awards.award(world.officer, second, TODAY)
    assert list(refused.value.fields) == ["departure_reason"]
    assert "(1)" in refused.value.fields["departure_reason"][0]
    _nothing_awarded(second)
    awards.award(world.officer, second, TODAY, departure_reason="政策上の優先領域")
    departure = db.session.query(RankingDeparture).one()
    assert (departure.rank, departure.below_line, departure.passed_over) == (2, False, [first])
    assert departure.decided_by_id == world.officer.id
    assert _award_audit()["ranking"]["departure_reason"] == "政策上の優先領域"  # type: ignore[index]
    assert verify_chain().ok


def test_awarding_below_the_line_needs_a_reason(app: Flask) -> None:
    world = _ranked_call()
    first, second, third = world.applications
    awards.award(world.officer, first, TODAY)
    awards.award(world.officer, second, TODAY)
    with pytest.raises(RuleViolation) as refused:
        awards.award(world.officer, third, TODAY)
    assert "below the funding line" in refused.value.fields["departure_reason"][0]
    with pytest.raises(RuleViolation) as refused:  # the reason is given; the pool is short
        awards.award(world.officer, third, TODAY, departure_reason="追加予算の見込み")
    assert "budget" in refused.value.fields
    assert db.session.query(RankingDeparture).count() == 0  # nothing of the refusal is kept


def test_an_unranked_application_needs_a_reason(app: Flask) -> None:
    world = merit_world(applications=2)
    first, second = world.applications
    scored(world, first, world.reviewers[0], (4, 4, 4))
    assign(world, second, world.reviewers[1])
    with pytest.raises(RuleViolation) as refused:
        awards.award(world.officer, second, TODAY, departure_reason=" ")
    assert "not ranked" in refused.value.fields["departure_reason"][0]
    awards.award(world.officer, second, TODAY, departure_reason="緊急性が高いため")
    departure = db.session.query(RankingDeparture).one()
    assert departure.rank is None and departure.below_line and departure.passed_over == [first]


def test_a_reason_too_long_or_with_control_characters_is_refused(app: Flask) -> None:
    world = _ranked_call()
    second = world.applications[1]
    for reason in ("x" * 2001, "理由\x1b"):
        with pytest.raises(RuleViolation) as refused:
            awards.award(world.officer, second, TODAY, departure_reason=reason)
        assert "departure_reason" in refused.value.fields
    _nothing_awarded(second)


def test_an_officer_may_award_less_than_the_rules_give(app: Flask) -> None:
    world = _ranked_call()
    first = world.applications[0]
    with pytest.raises(RuleViolation) as refused:
        awards.award(world.officer, first, TODAY, amount=400_000_001)
    assert list(refused.value.fields) == ["amount"]
    with pytest.raises(RuleViolation):
        awards.award(world.officer, first, TODAY, amount=0)
    _nothing_awarded(first)
    grant = awards.award(world.officer, first, TODAY, amount=250_000_000)
    assert grant.award_amount == 250_000_000
    assert [m.tranche_amount for m in grant.milestones] == [100_000_000, 150_000_000, 0]


def _postgresql_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Row-lock races need PostgreSQL. Run with GRANTS_TEST_DATABASE=postgresql.")


def test_officers_awarding_around_the_line_at_once_never_over_commit(app: Flask) -> None:
    """Ranks 2 and 3 awarded at the same moment (3 with a reason) when the pools hold one
    more: exactly one of them is awarded, the pools stay within their appropriation."""
    _postgresql_only()
    world = _ranked_call()
    first, second, third = world.applications
    awards.award(world.officer, first, TODAY)
    program_id = world.program.id
    officers = [make_user(Role.officer).id for _ in range(2)]
    db.session.rollback()

    def award(officer: object, job: tuple[int, str | None]) -> str:
        application_id, reason = job
        return awards.award(officer, application_id, TODAY, departure_reason=reason).number  # type: ignore[arg-type]

    results = at_once(
        app, award, [(officers[0], (second, None)), (officers[1], (third, "追加予算の見込み"))]
    )
    winners = [result for result in results if isinstance(result, str)]
    assert len(winners) == 1, results
    assert all(isinstance(r, RuleViolation) for r in results if not isinstance(r, str)), results
    db.session.expire_all()
    pools = db.session.query(BudgetPool).filter_by(program_id=program_id)
    assert all(pool.committed + pool.released <= pool.appropriation for pool in pools)
    assert db.session.query(Grant).count() == 2
    assert verify_chain().ok


def test_racing_officers_award_the_top_application_once(app: Flask) -> None:
    _postgresql_only()
    world = _ranked_call()
    first = world.applications[0]
    officers = [make_user(Role.officer).id for _ in range(4)]
    db.session.rollback()
    results = at_once(
        app,
        lambda officer, application_id: awards.award(officer, application_id, TODAY).number,
        [(officer, first) for officer in officers],
    )
    assert len([r for r in results if isinstance(r, str)]) == 1, results
    assert db.session.query(Grant).count() == 1
