"""Officer use cases: screening, awarding (amount, tranches, pools), rejecting, the queue."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import event

from grants.applications import service as applications
from grants.applications.models import Application
from grants.applications.screening import service as screening
from grants.applications.screening.queries import SCREENING, screening_list
from grants.awards import service as awards
from grants.awards.models import Grant, Milestone
from grants.awards.service import reduced_tranches
from grants.core.audit import verify_chain
from grants.core.errors import Conflict, NotAllowed, RuleViolation
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.core.states import ApplicationState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool
from grants.rulesets import service as rulesets
from tests.support.applications import (
    TODAY,
    make_pools,
    ready_application,
    screened_application,
    submitted_application,
)
from tests.support.factories import make_user
from tests.support.i18n import said
from tests.support.races import at_once
from tests.support.rulesets import rule


def _actions() -> list[str]:
    return [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]


def _committed(program_id: int) -> dict[int, int]:
    pools = db.session.query(BudgetPool).filter_by(program_id=program_id)
    return {pool.fiscal_year: pool.committed for pool in pools}


def _nothing_awarded(application: Application, state: ApplicationState) -> None:
    db.session.expire_all()
    assert db.session.query(Grant).count() == 0 and db.session.query(Milestone).count() == 0
    assert application.state == state
    assert "grant.award" not in _actions() and "application.award" not in _actions()


# ---- screening --------------------------------------------------------------------------------


def test_screening_follows_the_stored_trace(app: Flask) -> None:
    officer = make_user(Role.officer)
    eligible = submitted_application()
    ineligible = submitted_application(stage="discovery")  # not an AMED-eligible stage
    assert (
        screening.screen(officer, eligible.application.id, date(2026, 6, 1)).state
        == "screened_eligible"
    )
    assert (
        screening.screen(officer, ineligible.application.id, date(2026, 6, 1)).state
        == "screened_ineligible"
    )
    events = db.session.query(AuditEvent).filter_by(action="application.screen").all()
    assert [(e.before["state"], e.after["state"]) for e in events] == [
        ("submitted", "screened_eligible"),
        ("submitted", "screened_ineligible"),
    ]
    assert events[1].after["blocking"] == ["stage_eligible"]


def test_screening_is_officer_work_and_happens_once(app: Flask) -> None:
    world = submitted_application()
    for role in (Role.admin, Role.applicant, Role.reviewer):
        with pytest.raises(NotAllowed):
            screening.screen(make_user(role), world.application.id, date(2026, 6, 1))
    officer = make_user(Role.officer)
    screening.screen(officer, world.application.id, date(2026, 6, 1))
    with pytest.raises(Conflict):
        screening.screen(officer, world.application.id, date(2026, 6, 1))
    draft = ready_application()
    with pytest.raises(Conflict):
        screening.screen(officer, draft.application.id, date(2026, 6, 1))


# ---- award ------------------------------------------------------------------------------------


def test_award_caps_at_two_thirds_rounded_down_and_cuts_the_last_tranche(app: Flask) -> None:
    world = screened_application()
    make_pools(world.program)
    officer = make_user(Role.officer)
    grant = awards.award(officer, world.application.id, TODAY)
    # floor(3,000,000,001 x 2/3) = floor(2,000,000,000.67): rounded down, never up.
    assert grant.award_amount == 2_000_000_000
    assert grant.number == f"{world.program.code}-0001"
    assert grant.ruleset_id == world.ruleset.id  # type: ignore[union-attr]
    assert grant.state == "active" and grant.awarded_by_id == officer.id
    assert grant.award_trace is not None and grant.award_trace["phase"] == "award"
    milestones = grant.milestones
    assert [(m.sequence, m.tranche_amount, m.fiscal_year) for m in milestones] == [
        (1, 600_000_000, 2026),
        (2, 800_000_000, 2027),
        (3, 600_000_000, 2028),
    ]
    assert all(m.state == MilestoneState.planned and m.round == 0 for m in milestones)
    assert milestones[0].criteria == [{"metric": "IC50", "target": "<= 10", "unit": "nM"}]
    assert milestones[2].due_date == date(2028, 9, 30)
    assert _committed(world.program.id) == {2026: 600_000_000, 2027: 800_000_000, 2028: 600_000_000}
    assert world.application.state == ApplicationState.awarded
    grant_event = db.session.query(AuditEvent).filter_by(action="grant.award").one()
    assert grant_event.object_id == str(grant.id)
    assert grant_event.after["award_amount"] == 2_000_000_000
    assert grant_event.after["tranches_reduced"]["planned"] == [6 * 10**8, 8 * 10**8, 10**9]
    assert grant_event.after["tranches_reduced"]["awarded"] == [6 * 10**8, 8 * 10**8, 6 * 10**8]
    assert grant_event.after["pools_committed"] == {
        "2026": 600_000_000,
        "2027": 800_000_000,
        "2028": 600_000_000,
    }
    app_event = db.session.query(AuditEvent).filter_by(action="application.award").one()
    assert app_event.before == {"state": "screened_eligible"}


def test_award_without_a_cut_keeps_the_plan(app: Flask) -> None:
    world = screened_application("milestone")
    make_pools(world.program)
    grant = awards.award(make_user(Role.officer), world.application.id, TODAY)
    assert grant.award_amount == 400_000_000
    assert [m.tranche_amount for m in grant.milestones] == [100_000_000, 150_000_000, 150_000_000]
    event_after = db.session.query(AuditEvent).filter_by(action="grant.award").one().after
    assert "tranches_reduced" not in event_after


def test_award_pins_the_version_in_force_on_the_award_day(app: Flask) -> None:
    world = screened_application()
    make_pools(world.program)
    officer = make_user(Role.officer)
    document = rulesets.preset_document("amed_certified_vc")
    rule(document, "subsidy_rate_max")["params"]["ratio"] = "1/2"
    draft = rulesets.create_draft(officer, world.program.id, "v2", document)
    v2 = rulesets.publish(officer, draft.id, date(2026, 6, 1), TODAY)
    grant = awards.award(officer, world.application.id, date(2026, 7, 1))
    assert grant.ruleset_id == v2.id
    assert grant.award_amount == 1_500_000_000  # floor(3,000,000,001 / 2)
    assert [m.tranche_amount for m in grant.milestones] == [600_000_000, 800_000_000, 100_000_000]
    assert world.application.ruleset_id == world.ruleset.id  # type: ignore[union-attr]


def test_cut_never_goes_below_zero() -> None:
    assert reduced_tranches([100, 200, 300], 250) == [100, 150, 0]
    assert reduced_tranches([100, 200, 300], 50) == [50, 0, 0]
    assert reduced_tranches([100, 200, 300], 600) == [100, 200, 300]
    assert reduced_tranches([], 0) == []


def test_award_refused_when_a_pool_lacks_room(app: Flask) -> None:
    world = screened_application()
    make_pools(world.program, (2026, 2027))
    make_pools(world.program, (2028,), appropriation=500_000_000)
    with pytest.raises(RuleViolation) as caught:
        awards.award(make_user(Role.officer), world.application.id, TODAY)
    assert caught.value.fields == {"budget": ["FY2028: the budget pool is 100,000,000 yen short."]}
    _nothing_awarded(world.application, ApplicationState.screened_eligible)
    assert _committed(world.program.id) == {2026: 0, 2027: 0, 2028: 0}


def test_award_counts_what_is_already_committed_and_released(app: Flask) -> None:
    world = screened_application()
    make_pools(world.program, (2026, 2027, 2028), appropriation=1_000_000_000)
    pool = db.session.query(BudgetPool).filter_by(fiscal_year=2027).one()
    pool.committed, pool.released = 150_000_000, 100_000_000
    db.session.commit()
    with pytest.raises(RuleViolation) as caught:
        awards.award(make_user(Role.officer), world.application.id, TODAY)
    assert caught.value.fields["budget"] == ["FY2027: the budget pool is 50,000,000 yen short."]
    _nothing_awarded(world.application, ApplicationState.screened_eligible)


def test_award_refused_without_a_pool_for_a_fiscal_year(app: Flask) -> None:
    world = screened_application()
    make_pools(world.program, (2026,))
    with pytest.raises(RuleViolation) as caught:
        awards.award(make_user(Role.officer), world.application.id, TODAY)
    assert caught.value.fields["budget"] == [
        "FY2027: there is no budget pool; 800,000,000 yen are needed.",
        "FY2028: there is no budget pool; 600,000,000 yen are needed.",
    ]
    _nothing_awarded(world.application, ApplicationState.screened_eligible)
    assert _committed(world.program.id) == {2026: 0}


def test_double_award_is_a_conflict_and_numbers_count_up(app: Flask) -> None:
    world = screened_application()
    make_pools(world.program)
    officer = make_user(Role.officer)
    awards.award(officer, world.application.id, TODAY)
    with pytest.raises(Conflict):
        awards.award(officer, world.application.id, TODAY)
    assert db.session.query(Grant).count() == 1
    second = submitted_application(program=world.program)
    screening.screen(officer, second.application.id, date(2026, 6, 1))
    grant = awards.award(officer, second.application.id, TODAY)
    assert grant.number == f"{world.program.code}-0002"


def test_award_is_refused_to_admins_and_others(app: Flask) -> None:
    world = screened_application()
    make_pools(world.program)
    for role in (Role.admin, Role.applicant, Role.reviewer):
        with pytest.raises(NotAllowed):
            awards.award(make_user(role), world.application.id, TODAY)
    _nothing_awarded(world.application, ApplicationState.screened_eligible)


def test_award_needs_an_eligible_screening(app: Flask) -> None:
    officer = make_user(Role.officer)
    submitted = submitted_application()
    make_pools(submitted.program)
    with pytest.raises(Conflict):
        awards.award(officer, submitted.application.id, TODAY)
    ineligible = submitted_application(stage="discovery")
    screening.screen(officer, ineligible.application.id, date(2026, 6, 1))
    with pytest.raises(Conflict):
        awards.award(officer, ineligible.application.id, TODAY)
    assert db.session.query(Grant).count() == 0


def test_award_without_a_rule_set_in_force(app: Flask) -> None:
    world = screened_application()
    make_pools(world.program)
    with pytest.raises(RuleViolation, match="No published rule set"):
        awards.award(make_user(Role.officer), world.application.id, date(2026, 3, 1))
    _nothing_awarded(world.application, ApplicationState.screened_eligible)


def test_award_refused_by_a_failing_rule_that_is_not_a_cap(app: Flask) -> None:
    # Upfront tranche above 1/4 of the request: the milestone programme's award rule blocks.
    world = screened_application("milestone", tranches=(200_000_000, 100_000_000, 100_000_000))
    make_pools(world.program)
    with pytest.raises(RuleViolation) as caught:
        awards.award(make_user(Role.officer), world.application.id, TODAY)
    assert list(caught.value.fields) == ["award"] and "初回トランシェ" in said(
        caught.value.fields["award"][0]
    )
    _nothing_awarded(world.application, ApplicationState.screened_eligible)
    preview = awards.preview_award(world.application, TODAY)
    assert preview is not None and preview.refusals == caught.value.fields["award"]
    assert said(copy.deepcopy(preview.refusals), "en") == said(preview.refusals, "en")


def test_preview_matches_the_award(app: Flask) -> None:
    world = screened_application()
    make_pools(world.program)
    preview = awards.preview_award(world.application, TODAY)
    assert preview is not None and preview.refusals == []
    assert preview.amount == 2_000_000_000
    assert preview.tranches == [600_000_000, 800_000_000, 600_000_000]
    assert "grant.award" not in _actions()


# ---- rejection --------------------------------------------------------------------------------


def test_reject_needs_a_reason_and_stores_it(app: Flask) -> None:
    world = screened_application()
    officer = make_user(Role.officer)
    with pytest.raises(RuleViolation) as caught:
        awards.reject(officer, world.application.id, "   ", date(2026, 6, 1))
    assert list(caught.value.fields) == ["reason"]
    db.session.expire_all()
    assert world.application.state == "screened_eligible"
    awards.reject(officer, world.application.id, " Budget priorities. ", date(2026, 6, 1))
    assert world.application.state == ApplicationState.rejected
    assert world.application.decision_reason == "Budget priorities."
    event_row = db.session.query(AuditEvent).filter_by(action="application.reject").one()
    assert event_row.after["decision_reason"] == "Budget priorities."


def test_reject_follows_the_transition_table(app: Flask) -> None:
    officer = make_user(Role.officer)
    ineligible = submitted_application(stage="discovery")
    screening.screen(officer, ineligible.application.id, date(2026, 6, 1))
    awards.reject(officer, ineligible.application.id, "Stage not eligible.", date(2026, 6, 1))
    assert ineligible.application.state == ApplicationState.rejected
    submitted = submitted_application()
    with pytest.raises(Conflict):  # submitted -> rejected is not in the table: screen first
        awards.reject(officer, submitted.application.id, "No.", date(2026, 6, 1))
    with pytest.raises(NotAllowed):
        awards.reject(make_user(Role.admin), submitted.application.id, "No.", date(2026, 6, 1))
    with pytest.raises(RuleViolation):
        awards.reject(officer, submitted.application.id, "x" * 2001, date(2026, 6, 1))


# ---- the queue --------------------------------------------------------------------------------


def test_queue_lists_waiting_applications_oldest_first(app: Flask) -> None:
    officer = make_user(Role.officer)
    late = ready_application()
    applications.submit(late.applicant, late.application.id, date(2026, 6, 1))
    early = submitted_application()
    screened = screened_application()
    ready_application()  # a draft: not in the queue
    withdrawn = submitted_application()
    applications.withdraw(withdrawn.applicant, withdrawn.application.id)
    rejected = screened_application()
    awards.reject(officer, rejected.application.id, "No.", date(2026, 6, 1))
    queue = screening_list(officer, SCREENING.query()).items
    assert [a.id for a in queue] == [
        early.application.id,
        screened.application.id,
        late.application.id,
    ]
    mine = SCREENING.query(program_id=early.program.id)
    assert [a.id for a in screening_list(officer, mine).items] == [early.application.id]


def test_queue_loads_organizations_and_programmes_in_constant_queries(app: Flask) -> None:
    officer = make_user(Role.officer)
    for _ in range(4):
        submitted_application()
    db.session.expire_all()
    assert officer.role == Role.officer  # loaded before counting
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        queue = screening_list(officer, SCREENING.query()).items
        names = [(a.organization.name, a.program.code) for a in queue]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(names) == 4
    # the count and the page, with their organisations and programmes
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


# ---- races (PostgreSQL: SQLite serialises whole transactions) ----------------------------------


def _award_all(app: Flask, jobs: list[tuple[int, int]]) -> list[object]:
    """award(officer_id, application_id) for every job at the same moment; results in order."""
    return at_once(
        app,
        lambda officer, application_id: awards.award(officer, application_id, TODAY).number,
        jobs,
    )


def _postgresql_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("Row-lock races need PostgreSQL. Run with GRANTS_TEST_DATABASE=postgresql.")


def test_racing_officers_award_an_application_once(app: Flask) -> None:
    _postgresql_only()
    world = screened_application()
    make_pools(world.program)
    officers = [make_user(Role.officer).id for _ in range(8)]
    application_id, program_id = world.application.id, world.program.id
    db.session.rollback()
    results = _award_all(app, [(officer, application_id) for officer in officers])
    winners = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, str)), results
    assert db.session.query(Grant).count() == 1
    assert _committed(program_id) == {2026: 600_000_000, 2027: 800_000_000, 2028: 600_000_000}
    assert verify_chain().ok


def test_racing_awards_number_grants_in_turn_and_never_overdraw(app: Flask) -> None:
    _postgresql_only()
    first = screened_application("milestone")
    others = [screened_application("milestone", program=first.program) for _ in range(5)]
    # Room in FY2028 for four 150M tranches: two of the six awards must be refused.
    make_pools(first.program, (2026, 2027))
    make_pools(first.program, (2028,), appropriation=600_000_000)
    jobs = [(make_user(Role.officer).id, w.application.id) for w in [first, *others]]
    program_id, code = first.program.id, first.program.code
    db.session.rollback()
    results = _award_all(app, jobs)
    numbers = sorted(r for r in results if isinstance(r, str))
    assert numbers == [f"{code}-{n:04d}" for n in range(1, 5)], results
    refused = [r for r in results if not isinstance(r, str)]
    assert len(refused) == 2 and all(isinstance(r, RuleViolation) for r in refused), results
    assert _committed(program_id)[2028] == 600_000_000
    assert verify_chain().ok
