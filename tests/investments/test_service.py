"""VC paid-in investments: recording, validation, verification by a second officer."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from grants.applications.models import CoInvestment
from grants.awards.facts import tranche_facts
from grants.awards.models import Investment
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import GrantState
from grants.extensions import db
from grants.investments import service as investments
from tests.support.factories import make_org, make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.i18n import said

TODAY = date(2026, 10, 15)


def _record(world: GrantWorld, actor=None, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "vc_organization_id": world.vc.id,
        "amount": 50_000_000,
        "paid_on": date(2026, 10, 1),
        "evidence": "  振込番号 20261001-0042 ",
    } | overrides
    return investments.record_investment(
        actor or make_user(Role.officer), world.grant.id, today=TODAY, **values
    )


def _errors(world: GrantWorld, **overrides) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleViolation) as caught:
        _record(world, **overrides)
    assert db.session.query(Investment).count() == 0
    return caught.value.fields


def test_officer_records_an_investment_with_an_audit_row(app: Flask) -> None:
    world = make_grant()
    officer = make_user(Role.officer)
    investment = _record(world, officer)
    assert investment.amount == 50_000_000 and investment.evidence == "振込番号 20261001-0042"
    assert investment.recorded_by_id == officer.id and investment.verified_at is None
    event = db.session.query(AuditEvent).filter_by(action="investment.record").one()
    assert event.actor_id == officer.id and event.after["amount"] == 50_000_000
    assert event.after["paid_on"] == "2026-10-01"


def test_an_unverified_investment_does_not_count_as_paid_in(app: Flask) -> None:
    world = make_grant()
    investment = _record(world)
    assert tranche_facts(world.milestones[0], TODAY)["paid_in_total"] == 0
    investments.verify_investment(make_user(Role.officer), investment.id, TODAY)
    assert tranche_facts(world.milestones[0], TODAY)["paid_in_total"] == 50_000_000


def test_a_second_officer_verifies(app: Flask) -> None:
    world = make_grant()
    investment = _record(world)
    verifier = make_user(Role.officer)
    investments.verify_investment(verifier, investment.id, TODAY)
    db.session.refresh(investment)
    assert investment.verified_by_id == verifier.id and investment.verified_at is not None
    event = db.session.query(AuditEvent).filter_by(action="investment.verify").one()
    assert event.before["verified_by_id"] is None and event.after["verified_by_id"] == verifier.id


def test_the_recording_officer_may_not_verify(app: Flask) -> None:
    world = make_grant()
    officer = make_user(Role.officer)
    investment = _record(world, officer)
    with pytest.raises(NotAllowed):
        investments.verify_investment(officer, investment.id, TODAY)
    db.session.refresh(investment)
    assert investment.verified_at is None
    assert db.session.query(AuditEvent).filter_by(action="investment.verify").count() == 0


def test_verifying_twice_is_a_conflict(app: Flask) -> None:
    world = make_grant()
    investment = _record(world)
    first = make_user(Role.officer)
    investments.verify_investment(first, investment.id, TODAY)
    with pytest.raises(Conflict):
        investments.verify_investment(make_user(Role.officer), investment.id, TODAY)
    db.session.refresh(investment)
    assert investment.verified_by_id == first.id


def test_unknown_investment_is_not_found(app: Flask) -> None:
    with pytest.raises(NotFound):
        investments.verify_investment(make_user(Role.officer), 404, TODAY)
    with pytest.raises(NotFound):
        investments.record_investment(make_user(Role.officer), 404, 1, 1, TODAY, "x", today=TODAY)


@pytest.mark.parametrize("role", [Role.admin, Role.applicant, Role.reviewer])
def test_only_officers_record_and_verify(app: Flask, role: Role) -> None:
    world = make_grant()
    with pytest.raises(NotAllowed):
        _record(world, make_user(role))
    with pytest.raises(NotAllowed):
        _record(world, world.applicant)
    investment = _record(world)
    with pytest.raises(NotAllowed):
        investments.verify_investment(make_user(role), investment.id, TODAY)
    assert db.session.query(Investment).count() == 1


def test_the_same_reference_twice_for_the_same_vc_and_grant_is_refused(app: Flask) -> None:
    world = make_grant()
    first = _record(world, evidence="X-1")
    for again in ("X-1", " x-1 ", "Ｘ－１"):  # the same reference typed differently
        with pytest.raises(RuleViolation) as caught:
            _record(world, evidence=again, amount=10_000_000)
        assert said(caught.value.fields) == {
            "evidence": [
                "このVCからの参照番号 X-1 の払込は記録済みです（2026年10月1日に5,000万円）。"
            ]
        }
    assert [i.id for i in db.session.query(Investment)] == [first.id]
    assert db.session.query(AuditEvent).filter_by(action="investment.record").count() == 1


def test_the_same_reference_for_another_vc_or_grant_is_another_payment(app: Flask) -> None:
    world = make_grant()
    other_vc = make_org(OrgKind.vc)
    db.session.add(
        CoInvestment(
            application=world.grant.application,
            vc=other_vc,
            committed_amount=1,
            is_lead=False,
        )
    )
    db.session.commit()
    _record(world, evidence="X-1")
    _record(world, evidence="X-1", vc_organization_id=other_vc.id)
    other = make_grant(code="OTHER")
    _record(other, evidence="X-1")
    assert db.session.query(Investment).count() == 3


def test_the_vc_must_be_a_co_investor_of_the_grant(app: Flask) -> None:
    world = make_grant()
    stranger = make_org(OrgKind.vc)
    assert "vc_organization_id" in _errors(world, vc_organization_id=stranger.id)


@pytest.mark.parametrize("amount", [0, -1, True, 1.5, "100", 10**16])
def test_the_amount_is_a_positive_whole_number_of_yen(app: Flask, amount: object) -> None:
    world = make_grant()
    assert "amount" in _errors(world, amount=amount)


def test_the_payment_date_is_not_in_the_future(app: Flask) -> None:
    world = make_grant()
    assert "paid_on" in _errors(world, paid_on=date(2026, 10, 16))
    assert "paid_on" in _errors(world, paid_on=None)
    assert _record(world, paid_on=TODAY).paid_on == TODAY


@pytest.mark.parametrize("evidence", ["", "   ", "x" * 501])
def test_evidence_is_required_and_bounded(app: Flask, evidence: str) -> None:
    world = make_grant()
    assert "evidence" in _errors(world, evidence=evidence)


def test_all_field_errors_at_once(app: Flask) -> None:
    world = make_grant()
    fields = _errors(world, vc_organization_id=0, amount=0, paid_on=None, evidence="")
    assert set(fields) == {"vc_organization_id", "amount", "paid_on", "evidence"}


@pytest.mark.parametrize("state", [GrantState.completed, GrantState.terminated])
def test_closed_grants_take_no_new_investments(app: Flask, state: GrantState) -> None:
    world = make_grant()
    world.grant.state = state
    db.session.commit()
    with pytest.raises(Conflict):
        _record(world)
    assert db.session.query(Investment).count() == 0


def test_an_investment_paid_after_today_cannot_be_verified(app: Flask) -> None:
    world = make_grant()
    investment = _record(world, paid_on=TODAY)
    with pytest.raises(Conflict):
        investments.verify_investment(make_user(Role.officer), investment.id, date(2026, 10, 14))
