"""Applicant use cases: drafts, plans, co-investments, submission, withdrawal, traces."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from flask import Flask

from grants.applications import queries as application_queries
from grants.applications import service as applications
from grants.applications.checks import CoInvestmentData, CriterionData, MilestoneData
from grants.applications.models import Application, CoInvestment, PlannedMilestone
from grants.applications.screening import service as screening
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.money import YEN_MAX
from grants.core.states import ApplicationState
from grants.extensions import db
from grants.rules import Outcome, Trace
from grants.rulesets import service as rulesets
from tests.support.applications import (
    CRITERION,
    TODAY,
    application_data,
    make_applicant,
    milestones,
    ready_application,
    submitted_application,
)
from tests.support.factories import make_org, make_user
from tests.support.grants import make_program
from tests.support.i18n import said
from tests.support.programs import make_certified_vc
from tests.support.programs import make_program as make_bare_program
from tests.support.rulesets import rule

# Small enough that a ¥500M lead VC meets the 1/3 share: only the lead minimum can fail.
SMALL = {
    "eligible_cost": 1_200_000_000,
    "indirect_cost": 100_000_000,
    "requested_subsidy": 800_000_000,
    "tranches": (200_000_000, 300_000_000, 300_000_000),
    "lead": 500_000_000,
}


def _actions() -> list[str]:
    return [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]


def _fields(call, *args) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleViolation) as caught:
        call(*args)
    return caught.value.fields


# ---- drafts -----------------------------------------------------------------------------------


def test_applicant_creates_a_draft_owned_by_their_organization(app: Flask) -> None:
    program, _ = make_program("AMED-T", "amed")
    applicant = make_applicant()
    application = applications.create_draft(
        applicant, application_data(program, title="  候補化合物の最適化  ")
    )
    assert application.state == ApplicationState.draft
    assert application.organization_id == applicant.organization_id
    assert application.created_by_id == applicant.id
    assert application.title == "候補化合物の最適化" and application.eligible_cost == 600_000_000
    event = db.session.query(AuditEvent).filter_by(action="application.create").one()
    assert event.actor_id == applicant.id and event.object_id == str(application.id)
    assert event.after["state"] == "draft" and event.after["project_end"] == "2029-03-31"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"program_id": 999_999}, "program_id"),
        ({"program_id": None}, "program_id"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"theme": "other"}, "theme"),  # a theme the programme does not offer
        ({"modality": "vaccine"}, "modality"),
        ({"stage": "preclinical"}, "stage"),
        ({"eligible_cost": -1}, "eligible_cost"),
        ({"eligible_cost": YEN_MAX + 1}, "eligible_cost"),
        ({"eligible_cost": True}, "eligible_cost"),
        ({"indirect_cost": 600_000_001}, "indirect_cost"),
        ({"requested_subsidy": 600_000_001}, "requested_subsidy"),
        ({"requested_subsidy": None}, "requested_subsidy"),
        ({"project_start": date(2029, 4, 1)}, "project_end"),
        ({"project_end": date(2031, 10, 1)}, "project_end"),
        ({"project_start": None}, "project_start"),
    ],
)
def test_invalid_drafts_name_the_field_and_write_nothing(
    app: Flask, changes: dict[str, object], field: str
) -> None:
    program, _ = make_program("AMED-T", "amed")
    applicant = make_applicant()
    data = replace(application_data(program), **changes)  # type: ignore[arg-type]
    errors = _fields(applications.create_draft, applicant, data)
    assert list(errors) == [field]
    assert db.session.query(Application).count() == 0
    assert "application.create" not in _actions()


def test_only_applicants_with_an_organization_create_drafts(app: Flask) -> None:
    program, _ = make_program("AMED-T", "amed")
    for user in (make_user(Role.officer), make_user(Role.admin), make_user(Role.reviewer)):
        with pytest.raises(NotAllowed):
            applications.create_draft(user, application_data(program))
    with pytest.raises(NotAllowed):
        applications.create_draft(make_user(Role.applicant), application_data(program))
    assert db.session.query(Application).count() == 0


def test_owner_updates_a_draft_with_before_and_after(app: Flask) -> None:
    world = ready_application()
    data = application_data(world.program, title="New title", requested_subsidy=500_000_000)
    applications.update_draft(world.applicant, world.application.id, data)
    db.session.refresh(world.application)
    assert world.application.title == "New title"
    assert world.application.requested_subsidy == 500_000_000
    event = db.session.query(AuditEvent).filter_by(action="application.update").one()
    assert event.before["title"] == "抗菌薬候補の開発" and event.after["title"] == "New title"


def test_another_organization_cannot_edit_and_a_submitted_one_is_frozen(app: Flask) -> None:
    world = ready_application()
    stranger = make_applicant()
    data = application_data(world.program, title="Hijacked")
    with pytest.raises(NotAllowed):
        applications.update_draft(stranger, world.application.id, data)
    with pytest.raises(NotAllowed):
        applications.replace_plan(stranger, world.application.id, [])
    applications.submit(world.applicant, world.application.id, TODAY)
    with pytest.raises(Conflict):
        applications.update_draft(world.applicant, world.application.id, data)
    with pytest.raises(Conflict):
        applications.set_co_investments(world.applicant, world.application.id, [])
    with pytest.raises(NotFound):
        applications.update_draft(world.applicant, 999_999, data)
    db.session.refresh(world.application)
    assert world.application.title != "Hijacked"


# ---- the milestone plan -----------------------------------------------------------------------


def test_plan_is_replaced_in_order_with_sequences_from_one(app: Flask) -> None:
    world = ready_application()
    plan = [
        MilestoneData(" Lead optimisation ", (CRITERION, CriterionData("hERG", ">30", "µM")),
                      date(2026, 10, 1), 100),
        MilestoneData("Candidate", (CRITERION,), date(2027, 4, 1), 200),
    ]  # fmt: skip
    applications.replace_plan(world.applicant, world.application.id, plan)
    stored = db.session.query(PlannedMilestone).order_by(PlannedMilestone.sequence).all()
    assert [(m.sequence, m.title, m.tranche_amount) for m in stored] == [
        (1, "Lead optimisation", 100),
        (2, "Candidate", 200),
    ]
    assert stored[0].criteria[1] == {"metric": "hERG", "target": ">30", "unit": "µM"}
    event = db.session.query(AuditEvent).filter_by(action="application.replace_plan").all()[-1]
    assert len(event.before["milestones"]) == 3 and len(event.after["milestones"]) == 2


def _plan_errors(plan: list[MilestoneData]) -> dict[str, list[str]]:
    world = ready_application()
    before = [(m.sequence, m.tranche_amount) for m in world.application.plan]
    errors = _fields(applications.replace_plan, world.applicant, world.application.id, plan)
    db.session.expire_all()
    assert [(m.sequence, m.tranche_amount) for m in world.application.plan] == before
    return errors


def test_plan_errors_are_keyed_by_row_and_field(app: Flask) -> None:
    good = milestones((1, 2, 3))
    plan = [
        replace(good[0], title=" "),
        replace(good[1], criteria=()),
        replace(good[2], criteria=(CriterionData("IC50", "<= 10", " "),), tranche_amount=0),
    ]
    assert _plan_errors(plan) == {
        "milestones.0.title": ["Required."],
        "milestones.1.criteria": ["Add at least one success criterion."],
        "milestones.2.criteria.0.unit": ["Required."],
        "milestones.2.tranche_amount": ["Enter an amount above zero."],
    }


def test_due_dates_increase_strictly_within_the_project(app: Flask) -> None:
    plan = milestones((1, 2, 3), (date(2027, 1, 1), date(2027, 1, 1), date(2029, 4, 1)))
    errors = _plan_errors(plan)
    assert set(errors) == {"milestones.1.due_date", "milestones.2.due_date"}
    assert "after the one before" in errors["milestones.1.due_date"][0]
    assert "project period" in errors["milestones.2.due_date"][0]
    plan = milestones((1,), (date(2026, 5, 31),))  # the project starts on 2026-06-01
    assert list(_plan_errors(plan)) == ["milestones.0.due_date"]


def test_plan_missing_values_are_errors_not_crashes(app: Flask) -> None:
    plan = [MilestoneData("M", (CRITERION,), None, None)]
    assert set(_plan_errors(plan)) == {"milestones.0.due_date", "milestones.0.tranche_amount"}


# ---- co-investments ---------------------------------------------------------------------------


def test_co_investments_are_replaced(app: Flask) -> None:
    world = ready_application()
    second = make_certified_vc().organization
    items = [
        CoInvestmentData(world.vc.id, 700_000_000, False),
        CoInvestmentData(second.id, 400_000_000, True),
    ]
    applications.set_co_investments(world.applicant, world.application.id, items)
    stored = db.session.query(CoInvestment).order_by(CoInvestment.committed_amount).all()
    assert [(c.vc_organization_id, c.committed_amount, c.is_lead) for c in stored] == [
        (second.id, 400_000_000, True),
        (world.vc.id, 700_000_000, False),
    ]
    assert "application.set_co_investments" in _actions()


def test_co_investment_errors(app: Flask) -> None:
    """Any other organisation may invest (issue 23): refused are the applicant itself, an
    unknown organisation, a zero amount, an investor listed twice and a second lead."""
    world = ready_application()
    second = make_certified_vc().organization
    items = [
        CoInvestmentData(world.application.organization_id, 1, False),
        CoInvestmentData(10**9, 1, False),
        CoInvestmentData(world.vc.id, 0, True),
        CoInvestmentData(world.vc.id, 5, False),
        CoInvestmentData(second.id, 5, True),
    ]
    errors = _fields(applications.set_co_investments, world.applicant, world.application.id, items)
    assert errors == {
        "co_investments.0.vc_organization_id": ["Choose an investor from the list."],
        "co_investments.1.vc_organization_id": ["Choose an investor from the list."],
        "co_investments.2.committed_amount": ["Enter an amount above zero."],
        "co_investments.3.vc_organization_id": ["This investor is already listed."],
        "co_investments": ["Mark at most one lead VC."],
    }
    db.session.expire_all()
    assert [c.committed_amount for c in world.application.co_investments] == [1_000_000_001]


def test_uncertified_investors_may_be_declared(app: Flask) -> None:
    world = ready_application()
    uncertified_vc, corporate = make_org(OrgKind.vc), make_org(OrgKind.company)
    items = [
        CoInvestmentData(world.vc.id, 1_000_000_001, True),
        CoInvestmentData(uncertified_vc.id, 300_000_000, False),
        CoInvestmentData(corporate.id, 200_000_000, False),
    ]
    applications.set_co_investments(world.applicant, world.application.id, items)
    db.session.expire_all()
    assert sorted(c.vc_organization_id for c in world.application.co_investments) == sorted(
        [world.vc.id, uncertified_vc.id, corporate.id]
    )


# ---- submission -------------------------------------------------------------------------------


def test_submission_pins_the_rule_set_and_stores_the_trace(app: Flask) -> None:
    world = ready_application()
    application = applications.submit(world.applicant, world.application.id, TODAY)
    assert application.state == ApplicationState.submitted
    assert application.submitted_on == TODAY and application.ruleset_id == world.ruleset.id
    trace = application_queries.stored_trace(application)
    assert trace is not None and trace.ok
    assert trace.to_dict() == application.eligibility_trace
    event = db.session.query(AuditEvent).filter_by(action="application.submit").one()
    assert event.after["eligible"] is True and event.after["ruleset_version"] == 1


@pytest.mark.parametrize("today", [date(2026, 3, 31), date(2027, 4, 1)])
def test_submission_outside_the_window_is_refused(app: Flask, today: date) -> None:
    world = ready_application()
    with pytest.raises(RuleViolation, match="accepted from 1 Apr 2026 to 31 Mar 2027"):
        applications.submit(world.applicant, world.application.id, today)
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.draft
    assert "application.submit" not in _actions()


def test_tranches_must_add_up_to_the_request(app: Flask) -> None:
    world = ready_application(tranches=(600_000_000, 800_000_000, 999_999_999))
    assert application_queries.plan_warnings(world.application) == [
        "The tranches add up to ¥2,399,999,999 but the requested subsidy is ¥2,400,000,000."
    ]
    errors = _fields(applications.submit, world.applicant, world.application.id, TODAY)
    assert list(errors) == ["milestones"] and "¥2,399,999,999" in errors["milestones"][0]
    assert said(application_queries.plan_warnings(world.application)) == [
        "トランシェの合計は23億9,999万9,999円ですが、申請補助金額は24億円です。"
    ]
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.draft


@pytest.mark.parametrize(
    ("state", "warned"),
    [
        (ApplicationState.draft, True),
        (ApplicationState.submitted, True),
        (ApplicationState.withdrawn, False),
        (ApplicationState.rejected, False),
        (ApplicationState.screened_ineligible, False),
    ],
)
def test_the_plan_warning_is_for_an_application_still_in_the_applicants_hands(
    app: Flask, state: ApplicationState, warned: bool
) -> None:
    world = ready_application(tranches=(600_000_000, 800_000_000, 999_999_999))
    world.application.state = state
    db.session.commit()
    assert bool(application_queries.plan_warnings(world.application)) is warned


@pytest.mark.parametrize(
    ("locale", "period", "programme_end"),
    [
        (
            "ja",
            "期日は事業期間内（2026年6月1日～2029年3月31日）である必要があります。",
            "事業はプログラムの終了日（2031年9月30日）までに終了する必要があります。",
        ),
        (
            "en",
            "The due date must be within the project period (1 Jun 2026 to 31 Mar 2029).",
            "The project must end by the programme's end date (30 Sep 2031).",
        ),
    ],
)
def test_dates_in_messages_are_written_in_the_users_language(
    app: Flask, locale: str, period: str, programme_end: str
) -> None:
    world = ready_application()
    late = [MilestoneData("Late", (CRITERION,), date(2029, 4, 1), 2_400_000_000)]
    errors = _fields(applications.replace_plan, world.applicant, world.application.id, late)
    assert said(errors["milestones.0.due_date"], locale) == [period]
    data = application_data(world.program, project_end=date(2031, 10, 1))
    errors = _fields(applications.update_draft, world.applicant, world.application.id, data)
    assert said(errors["project_end"], locale) == [programme_end]


def test_a_plan_is_required(app: Flask) -> None:
    world = ready_application()
    applications.replace_plan(world.applicant, world.application.id, [])
    errors = _fields(applications.submit, world.applicant, world.application.id, TODAY)
    assert errors == {"milestones": ["Add at least one milestone."]}


def test_without_a_published_rule_set_submission_is_refused(app: Flask) -> None:
    program = make_bare_program()  # no rule set at all
    world = ready_application(program=program)
    with pytest.raises(RuleViolation, match="No published rule set"):
        applications.submit(world.applicant, world.application.id, TODAY)
    assert application_queries.preview_trace(world.application, TODAY) is None


def test_plan_dates_are_checked_again_at_submission(app: Flask) -> None:
    world = ready_application("milestone")  # its amounts are application_data's
    data = application_data(world.program, project_end=date(2028, 3, 31))
    applications.update_draft(world.applicant, world.application.id, data)
    errors = _fields(applications.submit, world.applicant, world.application.id, TODAY)
    assert list(errors) == ["milestones.2.due_date"]


def test_amed_lead_vc_below_the_minimum_is_a_failing_row(app: Flask) -> None:
    world = submitted_application(stage="phase1", **SMALL)
    trace = application_queries.stored_trace(world.application)
    assert trace is not None and not trace.ok
    assert [row.rule_id for row in trace.blocking] == ["lead_vc_min"]
    row = trace.blocking[0]
    assert row.compared["actual"] == 500_000_000 and row.compared["required"] == 1_000_000_000
    assert row.relaxation is None
    assert "Lead VC commitment" in row.message["en"] and "リードVC出資額" in row.message["ja"]
    event = db.session.query(AuditEvent).filter_by(action="application.submit").one()
    assert event.after["eligible"] is False and event.after["blocking"] == ["lead_vc_min"]


def test_non_clinical_passes_through_the_relaxation(app: Flask) -> None:
    world = submitted_application(**SMALL)
    trace = application_queries.stored_trace(world.application)
    assert trace is not None and trace.ok
    row = next(r for r in trace.rows if r.rule_id == "lead_vc_min")
    assert row.outcome is Outcome.PASS and row.compared["required"] == 100_000_000
    assert row.relaxation is not None and row.relaxation.index == 0
    assert row.relaxation.label == {
        "ja": "第6回公募以降: 非臨床段階は1億円",
        "en": "From call 6: ¥100M for non-clinical stages",
    }


def test_submission_uses_the_version_in_force_then_and_keeps_it(app: Flask) -> None:
    world = submitted_application(**SMALL)
    stored = dict(world.application.eligibility_trace or {})
    officer = make_user(Role.officer)
    document = rulesets.preset_document("amed_certified_vc")
    rule(document, "lead_vc_min")["relaxations"] = []  # v2: no relaxation for non-clinical
    draft = rulesets.create_draft(officer, world.program.id, "v2", document)
    v2 = rulesets.publish(officer, draft.id, date(2026, 6, 1), TODAY)
    # Another draft submitted on the same day is still judged by v1...
    other = ready_application(program=world.program, **SMALL)
    applications.submit(other.applicant, other.application.id, TODAY)
    assert world.ruleset is not None and other.application.ruleset_id == world.ruleset.id
    assert application_queries.stored_trace(other.application).ok  # type: ignore[union-attr]
    # ...while after the effective date, the preview and a submission use v2.
    late = ready_application(program=world.program, **SMALL)
    preview = application_queries.preview_trace(late.application, date(2026, 6, 1))
    assert preview is not None and [r.rule_id for r in preview.blocking] == ["lead_vc_min"]
    applications.submit(late.applicant, late.application.id, date(2026, 6, 1))
    assert late.application.ruleset_id == v2.id
    db.session.expire_all()
    assert world.application.ruleset_id == world.ruleset.id
    assert world.application.eligibility_trace == stored


def test_preview_is_read_only(app: Flask) -> None:
    world = ready_application(stage="phase1", **SMALL)
    events = db.session.query(AuditEvent).count()
    trace = application_queries.preview_trace(world.application, TODAY)
    assert isinstance(trace, Trace) and "lead_vc_min" in [r.rule_id for r in trace.blocking]
    db.session.rollback()
    assert db.session.query(AuditEvent).count() == events
    assert world.application.state == ApplicationState.draft
    assert world.application.eligibility_trace is None
    assert application_queries.stored_trace(world.application) is None


# ---- withdrawal -------------------------------------------------------------------------------


def test_withdraw_from_draft_and_from_submitted(app: Flask) -> None:
    draft = ready_application()
    applications.withdraw(draft.applicant, draft.application.id)
    assert draft.application.state == ApplicationState.withdrawn
    submitted = submitted_application(code="AMED-2")
    applications.withdraw(submitted.applicant, submitted.application.id)
    assert submitted.application.state == ApplicationState.withdrawn
    events = db.session.query(AuditEvent).filter_by(action="application.withdraw").all()
    assert [e.before["state"] for e in events] == ["draft", "submitted"]


def test_withdraw_refused_to_others_and_after_screening(app: Flask) -> None:
    world = submitted_application()
    with pytest.raises(NotAllowed):
        applications.withdraw(make_applicant(), world.application.id)
    with pytest.raises(NotAllowed):
        applications.withdraw(make_user(Role.officer), world.application.id)
    screening.screen(make_user(Role.officer), world.application.id, date(2026, 6, 1))
    with pytest.raises(Conflict):
        applications.withdraw(world.applicant, world.application.id)
    assert world.application.state == ApplicationState.screened_eligible


def test_get_application_checks_visibility(app: Flask) -> None:
    world = ready_application()
    assert application_queries.get_application(world.applicant, world.application.id) is not None
    assert application_queries.get_application(make_user(Role.officer), world.application.id)
    for user in (make_applicant(), make_user(Role.reviewer), make_user(Role.admin)):
        with pytest.raises(NotAllowed):
            application_queries.get_application(user, world.application.id)
    with pytest.raises(NotFound):
        application_queries.get_application(world.applicant, 999_999)
    mine = application_queries.APPLICATIONS.query()
    assert application_queries.application_list(world.applicant, mine).items == [world.application]
    assert application_queries.application_list(make_applicant(), mine).items == []
