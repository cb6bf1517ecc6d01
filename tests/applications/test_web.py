"""Applicant pages: list, draft form, plan and co-investment FieldLists, submit, withdraw."""

from __future__ import annotations

import inspect
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from wtforms import Form

from grants.applications import service as applications
from grants.applications import web as applications_web
from grants.applications.models import Application, CoInvestment, PlannedMilestone
from grants.core.http.forms import SubForm
from grants.core.identity import Locale, OrgKind, Role
from grants.core.models import AuditEvent
from grants.core.states import ApplicationState
from grants.extensions import db
from tests.support.applications import TODAY, make_applicant, ready_application
from tests.support.factories import make_org, make_user
from tests.support.grants import make_program
from tests.support.matrix import REVIEWERS, WHO, refused, statuses
from tests.support.programs import make_certified_vc
from tests.support.web import edge_modules, login, login_english, post_form

FORM = {
    "title": "抗菌薬候補の開発",
    "theme": "amr",
    "modality": "drug",
    "stage": "non_clinical",
    "eligible_cost": "600,000,000",
    "indirect_cost": "60,000,000",
    "requested_subsidy": "４００,０００,０００",  # full-width digits are accepted too
    "project_start": "2026-06-01",
    "project_end": "2029-03-31",
}
PLAN = {
    "milestones-0-title": "Lead optimisation",
    "milestones-0-due_date": "2026-12-31",
    "milestones-0-tranche_amount": "100,000,000",
    "milestones-0-criteria-0-metric": "IC50",
    "milestones-0-criteria-0-target": "<= 10",
    "milestones-0-criteria-0-unit": "nM",
    "milestones-1-title": "Candidate nominated",
    "milestones-1-due_date": "2027-09-30",
    "milestones-1-tranche_amount": "300000000",
    "milestones-1-criteria-0-metric": "Efficacy",
    "milestones-1-criteria-0-target": "50",
    "milestones-1-criteria-0-unit": "%",
    "milestones-1-criteria-1-metric": "",
    "milestones-1-criteria-1-target": "",
    "milestones-1-criteria-1-unit": "",
    # an empty row offered by "add milestone": ignored
    "milestones-2-title": "",
    "milestones-2-due_date": "",
    "milestones-2-tranche_amount": "",
    "milestones-2-criteria-0-metric": "",
}


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(applications_web, "_today", lambda: TODAY)


def routes(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("applications."):
            path = "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/"))
            found += [(m, path) for m in sorted((rule.methods or set()) & {"GET", "POST"})]
    return found


def _request(client: FlaskClient, method: str, path: str, data: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    return client.get(path) if method == "GET" else post_form(client, path, data or {})


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _field_error(page: str, field_id: str) -> str:
    match = re.search(
        rf'<ul class="errors" id="{re.escape(field_id)}-error">(.*?)</ul>', page, re.S
    )
    assert match, f"no error beside {field_id}"
    return match.group(1)


def test_every_route_is_enumerated(app: Flask) -> None:
    assert set(routes(app)) == {
        ("GET", "/applications"),
        ("GET", "/applications/new"),
        ("POST", "/applications/new"),
        ("GET", "/applications/1"),
        ("GET", "/applications/1/edit"),
        ("POST", "/applications/1/edit"),
        ("GET", "/applications/1/plan"),
        ("POST", "/applications/1/plan"),
        ("GET", "/applications/1/co-investments"),
        ("POST", "/applications/1/co-investments"),
        ("POST", "/applications/1/submit"),
        ("GET", "/applications/1/withdraw"),
        ("POST", "/applications/1/withdraw"),
    }


def test_anonymous_is_sent_to_login(app: Flask, client: FlaskClient) -> None:
    for method, path in routes(app):
        response = _request(client, method, path)
        assert response.status_code == 302, (method, path)
        assert "/login" in response.headers["Location"]


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    """Every route for everyone but the owner (whose own flows the tests below drive)."""
    world = ready_application()
    assert world.application.id == 1
    paths = sorted(routes(app))
    own_list = [("GET", "/applications"), ("GET", "/applications/new")]
    events = _events_of_application(1)
    table = statuses(
        client,
        world,
        paths,
        lambda method, path: FORM | PLAN | {"program_id": "1"},
        who=tuple(w for w in WHO if w != "grantee"),
    )
    # Another organization's applicant: their own list and a draft of their own, nothing
    # of this application.
    other = table["applicant_other_org"]
    assert {route: other.pop(route) for route in own_list} == dict.fromkeys(own_list, 200)
    assert other.pop(("POST", "/applications/new")) == 302
    assert set(other.values()) == {403}
    refused(table, *REVIEWERS, "admin")
    officer = table["officer"]
    assert officer.pop(("GET", "/applications/1")) == 200  # officers read applications
    assert officer.pop(("GET", "/applications")) == 200  # ... and list every one
    assert set(officer.values()) == {403}
    db.session.expire_all()
    application = db.session.get(Application, 1)
    assert application is not None and application.state == ApplicationState.draft
    assert application.title == "抗菌薬候補の開発"
    assert db.session.query(Application).count() == 2  # the other applicant's own draft
    assert _events_of_application(1) == events  # nothing was written about it


def _events_of_application(application_id: int) -> int:
    query = db.session.query(AuditEvent).filter(
        AuditEvent.action.startswith("application."),
        AuditEvent.object_id == str(application_id),
    )
    return query.count()


def test_missing_and_foreign_ids(client: FlaskClient) -> None:
    world = ready_application()
    login(client, world.applicant.email)
    assert client.get("/applications/999").status_code == 404
    assert post_form(client, "/applications/999/submit", {}).status_code == 404
    assert client.get("/applications/abc").status_code == 404


def test_csrf_token_is_required(client: FlaskClient) -> None:
    world = ready_application()
    login(client, world.applicant.email)
    application_id = world.application.id
    for path in ("/applications/new", f"/applications/{application_id}/submit"):
        assert client.post(path, data=FORM).status_code == 400
    assert client.post(f"/applications/{application_id}/plan", data=PLAN).status_code == 400
    db.session.expire_all()
    assert db.session.query(Application).count() == 1
    assert world.application.state == ApplicationState.draft


def test_nav_links_by_role(client: FlaskClient) -> None:
    login(client, make_applicant().email)
    page = _page(client.get("/"))
    assert 'href="/applications"' in page and 'href="/officer/screening"' not in page
    post_form(client, "/logout", {})
    login(client, make_user(Role.admin).email)
    page = _page(client.get("/"))
    assert 'href="/applications"' not in page and 'href="/officer/screening"' not in page


# ---- drafts -----------------------------------------------------------------------------------


def test_applicant_creates_a_draft(client: FlaskClient) -> None:
    program, _ = make_program("AMED-W", "amed")
    db.session.commit()
    applicant = make_applicant()
    login(client, applicant.email)
    page = _page(client.get("/applications/new"))  # the only open programme: chosen
    assert f'<option selected value="{program.id}">' in page and 'for="eligible_cost"' in page
    response = post_form(client, "/applications/new", FORM | {"program_id": str(program.id)})
    assert response.status_code == 302
    application = db.session.query(Application).one()
    assert response.headers["Location"].endswith(f"/applications/{application.id}")
    assert application.eligible_cost == 600_000_000
    assert application.requested_subsidy == 400_000_000
    assert application.organization_id == applicant.organization_id
    assert db.session.query(AuditEvent).filter_by(action="application.create").count() == 1
    index = _page(client.get("/applications"))
    assert "抗菌薬候補の開発" in index and "6億円" in index and "下書き" in index


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"theme": "other"}, "theme", "Choose one of the programme&#39;s themes."),
        ({"eligible_cost": "12abc"}, "eligible_cost", "Enter a whole number of yen"),
        ({"eligible_cost": ""}, "eligible_cost", "This field is required."),
        ({"requested_subsidy": "700,000,000"}, "requested_subsidy", "cannot exceed"),
        ({"project_end": "2031-10-01"}, "project_end", "programme&#39;s end date"),
        ({"project_end": "31/10/2030"}, "project_end", "Not a valid date"),
        ({"stage": "bogus"}, "stage", "Not a valid choice"),
        ({"program_id": "abc"}, "program_id", "could not coerce"),
        ({"program_id": ""}, "program_id", "Choose a programme."),
    ],
)
def test_invalid_draft_is_shown_again_with_the_message_beside_the_field(
    client: FlaskClient, changes: dict[str, str], field: str, message: str
) -> None:
    program, _ = make_program("AMED-W", "amed")
    db.session.commit()
    user = make_user(Role.applicant, make_org(OrgKind.startup), locale=Locale.en)
    login(client, user.email)
    response = post_form(
        client, "/applications/new", FORM | {"program_id": str(program.id)} | changes
    )
    assert response.status_code == 422
    assert message in _field_error(_page(response), field)
    assert db.session.query(Application).count() == 0


def _options(page: str, select_id: str) -> list[str]:
    match = re.search(rf'<select[^>]* id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select {select_id}"
    return re.findall(r'<option[^>]* value="([^"]*)"', match.group(1))


def _two_programmes() -> tuple[int, int]:
    """A programme taking drugs and regenerative medicine only, and one taking everything."""
    narrow, _ = make_program("AMED-VC-T", "amed")
    narrow.themes = ["rare_disease", "amr", "other"]
    narrow.modalities = ["drug", "regenerative"]
    wide, _ = make_program("MS-T", "milestone")
    db.session.commit()
    return narrow.id, wide.id


def test_a_new_application_starts_with_the_programme(client: FlaskClient) -> None:
    narrow, wide = _two_programmes()
    login(client, make_applicant().email)
    for path in ("/applications/new", "/applications/new?program_id=987654"):
        response = client.get(path)
        page = _page(response)
        assert response.status_code == 200 and 'id="eligible_cost"' not in page
        for program_id in (narrow, wide):
            assert f'href="/applications/new?program_id={program_id}"' in page
        assert "<li>再生医療</li>" in page and "<li>医療機器</li>" in page  # labelled


def test_the_form_offers_only_the_programmes_themes_and_modalities(client: FlaskClient) -> None:
    narrow, wide = _two_programmes()
    login_english(client, make_applicant())
    page = _page(client.get(f"/applications/new?program_id={narrow}"))
    assert f'<option selected value="{narrow}">' in page
    assert _options(page, "modality") == ["drug", "regenerative"]
    assert _options(page, "theme") == ["rare_disease", "amr", "other"]
    assert "Medical devices<" not in page
    assert len(_options(page, "stage")) > 2  # stages are not limited by programmes
    page = _page(client.get(f"/applications/new?program_id={wide}"))
    assert _options(page, "modality") == ["drug", "regenerative", "device", "samd"]
    # the service still refuses what the programme does not accept, beside the field
    form = FORM | {"program_id": str(narrow), "modality": "device"}
    response = post_form(client, f"/applications/new?program_id={narrow}", form)
    assert response.status_code == 422
    assert "Choose one of the programme&#39;s modalities." in _field_error(
        _page(response), "modality"
    )
    assert _options(_page(response), "modality") == ["drug", "regenerative", "device"]
    assert db.session.query(Application).count() == 0
    form |= {"modality": "regenerative"}
    assert post_form(client, f"/applications/new?program_id={narrow}", form).status_code == 302


def test_editing_a_draft_offers_its_programmes_choices_and_keeps_its_own(
    client: FlaskClient,
) -> None:
    world = ready_application()
    world.program.modalities = ["drug", "regenerative"]
    world.program.themes = ["rare_disease"]  # the draft's "amr" no longer accepted
    db.session.commit()
    login(client, world.applicant.email)
    page = _page(client.get(f"/applications/{world.application.id}/edit"))
    assert _options(page, "modality") == ["drug", "regenerative"]
    assert _options(page, "theme") == ["rare_disease", "amr"]
    assert '<option selected value="amr">' in page  # shown as saved, not silently changed


def test_owner_edits_a_draft(client: FlaskClient) -> None:
    world = ready_application("milestone")
    login_english(client, world.applicant)
    path = f"/applications/{world.application.id}/edit"
    page = _page(client.get(path))
    assert 'value="600,000,000"' in page and 'value="2029-03-31"' in page
    form = FORM | {"program_id": str(world.program.id), "title": "Renamed"}
    assert post_form(client, path, form).status_code == 302
    db.session.refresh(world.application)
    assert world.application.title == "Renamed"
    response = post_form(client, path, form | {"indirect_cost": "600,000,001"})
    assert response.status_code == 422 and "indirect cost" in _field_error(
        _page(response), "indirect_cost"
    )


# ---- the plan ---------------------------------------------------------------------------------


def test_plan_form_adds_rows_without_saving(client: FlaskClient) -> None:
    world = ready_application()
    login(client, world.applicant.email)
    path = f"/applications/{world.application.id}/plan"
    page = _page(client.get(path))
    assert 'name="milestones-2-title"' in page and 'name="milestones-3-title"' not in page
    assert 'name="milestones-2-criteria-0-metric"' in page
    assert 'for="milestones-0-criteria-0-unit"' in page
    response = post_form(client, path, PLAN | {"add_milestone": "1"})
    page = _page(response)
    assert response.status_code == 200
    assert 'name="milestones-3-title"' in page and 'value="Lead optimisation"' in page
    response = post_form(client, path, PLAN | {"add_criterion": "milestones-0"})
    page = _page(response)
    assert 'name="milestones-0-criteria-1-metric"' in page
    assert 'name="milestones-1-criteria-2-metric"' not in page
    db.session.expire_all()
    assert [m.tranche_amount for m in world.application.plan] == [6 * 10**8, 8 * 10**8, 10**9]


def test_plan_is_saved_ignoring_empty_rows(client: FlaskClient) -> None:
    world = ready_application("milestone")
    login(client, world.applicant.email)
    path = f"/applications/{world.application.id}/plan"
    response = post_form(client, path, PLAN)
    assert response.status_code == 302
    plan = db.session.query(PlannedMilestone).order_by(PlannedMilestone.sequence).all()
    assert [(m.sequence, m.title, m.tranche_amount) for m in plan] == [
        (1, "Lead optimisation", 100_000_000),
        (2, "Candidate nominated", 300_000_000),
    ]
    assert plan[1].criteria == [{"metric": "Efficacy", "target": "50", "unit": "%"}]
    assert db.session.query(AuditEvent).filter_by(action="application.replace_plan").count() == 2


def test_plan_errors_land_beside_the_rows_on_the_page(client: FlaskClient) -> None:
    world = ready_application()
    login(client, make_user(Role.applicant, world.org, locale=Locale.en).email)
    path = f"/applications/{world.application.id}/plan"
    blank_first = {  # the first row is left empty, so the service sees the rows shifted
        "milestones-0-title": "",
        "milestones-0-due_date": "",
        "milestones-0-tranche_amount": "",
        "milestones-0-criteria-0-metric": "",
        "milestones-1-title": "Second",
        "milestones-1-due_date": "2027-09-30",
        "milestones-1-tranche_amount": "1",
        "milestones-1-criteria-0-metric": "",
        "milestones-1-criteria-1-metric": "IC50",
        "milestones-1-criteria-1-target": "",
        "milestones-1-criteria-1-unit": "nM",
        "milestones-2-title": "Third",
        "milestones-2-due_date": "2027-01-01",
        "milestones-2-tranche_amount": "abc",
        "milestones-2-criteria-0-metric": "Yield",
        "milestones-2-criteria-0-target": "90",
        "milestones-2-criteria-0-unit": "%",
    }
    response = post_form(client, path, blank_first)
    assert response.status_code == 422  # WTForms catches the amount first
    assert "whole number of yen" in _field_error(_page(response), "milestones-2-tranche_amount")
    response = post_form(client, path, blank_first | {"milestones-2-tranche_amount": "5"})
    page = _page(response)
    assert response.status_code == 422
    assert "Required." in _field_error(page, "milestones-1-criteria-1-target")
    assert "after the one before" in _field_error(page, "milestones-2-due_date")
    db.session.expire_all()
    assert len(world.application.plan) == 3


@pytest.mark.parametrize(
    ("locale", "refusal"),
    [
        (Locale.ja, "期日は事業期間内（2026年6月1日～2029年3月31日）である必要があります。"),
        (Locale.en, "The due date must be within the project period (1 Jun 2026 to 31 Mar 2029)."),
    ],
)
def test_a_plan_refusal_is_said_beside_its_row_in_the_users_language(
    client: FlaskClient, locale: Locale, refusal: str
) -> None:
    world = ready_application()
    login(client, make_user(Role.applicant, world.org, locale=locale).email)
    late_second = {  # the service sees it as milestones.0: the blank first row is left out
        "milestones-0-title": "",
        "milestones-0-criteria-0-metric": "",
        "milestones-1-title": "Late",
        "milestones-1-due_date": "2029-04-01",
        "milestones-1-tranche_amount": "2,400,000,000",
        "milestones-1-criteria-0-metric": "IC50",
        "milestones-1-criteria-0-target": "10",
        "milestones-1-criteria-0-unit": "nM",
    }
    response = post_form(client, f"/applications/{world.application.id}/plan", late_second)
    assert response.status_code == 422
    assert refusal in _field_error(_page(response), "milestones-1-due_date")


def test_plan_warns_when_tranches_do_not_add_up(client: FlaskClient) -> None:
    world = ready_application(tranches=(600_000_000, 800_000_000, 999_999_999))
    login(client, world.applicant.email)
    for path in (
        f"/applications/{world.application.id}",
        f"/applications/{world.application.id}/plan",
    ):
        page = _page(client.get(path))
        assert "plan-warning" in page
        assert "トランシェの合計は23億9,999万9,999円ですが、申請補助金額は24億円です。" in page


def test_no_plan_warning_once_the_application_is_withdrawn(client: FlaskClient) -> None:
    world = ready_application(tranches=(600_000_000, 800_000_000, 999_999_999))
    login(client, world.applicant.email)
    path = f"/applications/{world.application.id}"
    assert "plan-warning" in _page(client.get(path))
    assert post_form(client, f"{path}/withdraw", {"confirm": "y"}).status_code == 302
    page = _page(client.get(path))
    assert "取り下げ" in page and "plan-warning" not in page and "トランシェの合計" not in page


# ---- co-investments ---------------------------------------------------------------------------


def test_co_investments_form(client: FlaskClient) -> None:
    world = ready_application()
    make_org(OrgKind.vc, name="未認定キャピタル")
    second = make_certified_vc(make_org(OrgKind.vc, name="第二キャピタル")).organization
    login_english(client, world.applicant)
    path = f"/applications/{world.application.id}/co-investments"
    page = _page(client.get(path))
    # Every other organisation may invest; the registry's VCs come first, named so.
    assert "第二キャピタル (certified VC)" in page and ">未認定キャピタル</option>" in page
    assert 'name="co_investments-1-vc_organization_id"' in page  # an empty row to fill
    response = post_form(client, path, {"add_row": "1", "co_investments-0-committed_amount": "1"})
    assert 'name="co_investments-1-committed_amount"' in _page(response)
    rows = {
        "co_investments-0-vc_organization_id": str(world.vc.id),
        "co_investments-0-committed_amount": "900,000,000",
        "co_investments-0-is_lead": "y",
        "co_investments-1-vc_organization_id": str(second.id),
        "co_investments-1-committed_amount": "200,000,000",
        "co_investments-2-vc_organization_id": "",
        "co_investments-2-committed_amount": "",
    }
    assert post_form(client, path, rows).status_code == 302
    stored = db.session.query(CoInvestment).order_by(CoInvestment.committed_amount).all()
    assert [(c.vc_organization_id, c.committed_amount, c.is_lead) for c in stored] == [
        (second.id, 200_000_000, False),
        (world.vc.id, 900_000_000, True),
    ]
    response = post_form(client, path, rows | {"co_investments-1-is_lead": "y"})
    assert response.status_code == 422 and "at most one lead" in _page(response)
    own = str(world.application.organization_id)
    bad = rows | {"co_investments-1-vc_organization_id": own}
    response = post_form(client, path, bad)
    assert response.status_code == 422  # the applicant is not among the choices
    assert "Not a valid choice" in _field_error(
        _page(response), "co_investments-1-vc_organization_id"
    )
    assert db.session.query(CoInvestment).count() == 2


# ---- show, submit, withdraw -------------------------------------------------------------------


def test_draft_page_previews_the_trace_with_the_relaxation(client: FlaskClient) -> None:
    world = ready_application(
        eligible_cost=1_200_000_000,
        requested_subsidy=800_000_000,
        tranches=(200_000_000, 300_000_000, 300_000_000),
        lead=500_000_000,
    )
    user = make_user(Role.applicant, world.org, locale=Locale.en)
    login(client, user.email)
    page = _page(client.get(f"/applications/{world.application.id}"))
    assert "Preview" in page and "trace-verdict" in page
    row = re.search(
        r'<tr class="trace-row trace-pass" data-rule="lead_vc_min">(.*?)</tr>', page, re.S
    )
    assert row is not None
    assert "From call 6: ¥100M for non-clinical stages" in row.group(1)
    assert "¥500,000,000" in row.group(1) and "¥100,000,000" in row.group(1)
    assert "Lead VC commitment: ¥500,000,000 (minimum ¥100,000,000)" in row.group(1)
    assert "Lead optimisation" not in page and "Milestone 1" in page and "¥1,200,000,000" in page


def test_submit_stores_and_shows_the_failing_row(client: FlaskClient) -> None:
    world = ready_application(
        stage="phase1",
        eligible_cost=1_200_000_000,
        requested_subsidy=800_000_000,
        tranches=(200_000_000, 300_000_000, 300_000_000),
        lead=500_000_000,
    )
    login(client, world.applicant.email)  # Japanese
    path = f"/applications/{world.application.id}"
    response = post_form(client, f"{path}/submit", {})
    assert response.status_code == 302 and response.headers["Location"].endswith("#trace")
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.submitted
    assert world.application.submitted_on == TODAY
    page = _page(client.get(path))
    assert '<div class="alert alert-warning" role="status">' in page  # the "not eligible" flash
    row = re.search(
        r'<tr class="trace-row trace-fail" data-rule="lead_vc_min">(.*?)</tr>', page, re.S
    )
    assert row is not None and "5億円" in row.group(1) and "10億円" in row.group(1)
    assert "リードVC出資額: 5億円(下限 10億円)" in row.group(1)
    assert 'action="/applications/1/submit"' not in page  # submitted: no second submit
    assert db.session.query(AuditEvent).filter_by(action="application.submit").count() == 1


def test_submit_errors_are_shown_with_422(client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    world = ready_application(tranches=(600_000_000, 800_000_000, 999_999_999))
    user = make_user(Role.applicant, world.org, locale=Locale.en)
    login(client, user.email)
    path = f"/applications/{world.application.id}/submit"
    response = post_form(client, path, {})
    assert response.status_code == 422
    assert (
        "Milestone plan: The tranches add up to ¥2,399,999,999 but the requested subsidy is "
        "¥2,400,000,000." in _page(response)
    )
    monkeypatch.setattr(applications_web, "_today", lambda: date(2027, 4, 1))
    response = post_form(client, path, {})
    assert response.status_code == 422 and "accepted from 1 Apr 2026 to 31 Mar 2027" in _page(
        response
    )
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.draft


def test_submit_errors_are_said_in_japanese(client: FlaskClient) -> None:
    world = ready_application(tranches=(600_000_000, 800_000_000, 999_999_999))
    login(client, world.applicant.email)
    response = post_form(client, f"/applications/{world.application.id}/submit", {})
    page = _page(response)
    assert response.status_code == 422 and "この応募はまだ提出できません。" in page
    assert (
        "マイルストーン計画: トランシェの合計は23億9,999万9,999円ですが、"
        "申請補助金額は24億円です。" in page
    )


def test_the_page_offers_what_the_reader_may_do_now(client: FlaskClient) -> None:
    world = ready_application()
    path = f"/applications/{world.application.id}"
    links = (f"{path}/edit", f"{path}/plan", f"{path}/co-investments", f"{path}/submit")
    login(client, world.applicant.email)
    page = _page(client.get(path))
    assert all(link in page for link in links) and f"{path}/withdraw" in page
    applications.submit(world.applicant, world.application.id, TODAY)
    page = _page(client.get(path))
    assert not any(link in page for link in links) and f"{path}/withdraw" in page


def test_withdrawing_asks_to_confirm_first(client: FlaskClient) -> None:
    world = ready_application()
    login_english(client, world.applicant)
    path = f"/applications/{world.application.id}"
    page = _page(client.get(path))
    # a link to the confirmation, set apart from the submit button, not a one-click form
    assert f'<a class="button-danger" href="{path}/withdraw">Withdraw application</a>' in page
    assert f'action="{path}/withdraw"' not in page
    response = client.get(f"{path}/withdraw")
    page = _page(response)
    assert response.status_code == 200 and "This cannot be undone." in page
    assert re.search(r'<input[^>]*id="confirm"[^>]*type="checkbox"', page)
    assert 'for="confirm"' in page and '<button type="submit" class="button-danger">' in page
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.draft


@pytest.mark.parametrize("sent", [{}, {"confirm": ""}, {"confirm": "false"}])
def test_a_withdrawal_without_the_confirmation_changes_nothing(
    client: FlaskClient, sent: dict[str, str]
) -> None:
    world = ready_application()
    login(client, world.applicant.email)  # Japanese
    path = f"/applications/{world.application.id}/withdraw"
    response = post_form(client, path, sent)
    assert response.status_code == 422
    assert "チェックを入れて" in _field_error(_page(response), "confirm")
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.draft
    assert db.session.query(AuditEvent).filter_by(action="application.withdraw").count() == 0


def test_only_the_owner_may_open_the_confirmation(client: FlaskClient) -> None:
    world = ready_application()
    path = f"/applications/{world.application.id}/withdraw"
    for user in (make_applicant(), make_user(Role.officer)):
        login(client, user.email)
        assert client.get(path).status_code == 403
        assert post_form(client, path, {"confirm": "y"}).status_code == 403
        post_form(client, "/logout", {})
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.draft


def test_withdraw_and_then_nothing_is_editable(client: FlaskClient) -> None:
    world = ready_application()
    login(client, world.applicant.email)
    path = f"/applications/{world.application.id}"
    assert post_form(client, f"{path}/withdraw", {"confirm": "y"}).status_code == 302
    db.session.refresh(world.application)
    assert world.application.state == ApplicationState.withdrawn
    assert client.get(f"{path}/edit").status_code == 409
    assert post_form(client, f"{path}/submit", {}).status_code == 409
    assert client.get(f"{path}/withdraw").status_code == 409
    assert post_form(client, f"{path}/withdraw", {"confirm": "y"}).status_code == 409
    assert db.session.query(AuditEvent).filter_by(action="application.withdraw").count() == 1


# ---- what Japanese users type -----------------------------------------------------------------


def test_a_plan_typed_in_full_width_is_stored_in_plain_figures(client: FlaskClient) -> None:
    world = ready_application("milestone")
    login(client, world.applicant.email)
    path = f"/applications/{world.application.id}/plan"
    typed = PLAN | {
        "milestones-0-due_date": "２０２６／１２／３１",
        "milestones-0-tranche_amount": "1億",
        "milestones-1-due_date": "2027/09/30",
        "milestones-1-tranche_amount": "3億円",
        "milestones-1-criteria-0-target": "０",
        "milestones-1-criteria-0-unit": "件",
        "milestones-0-criteria-0-target": "≦ １０",
    }
    assert post_form(client, path, typed).status_code == 302
    plan = db.session.query(PlannedMilestone).order_by(PlannedMilestone.sequence).all()
    assert [(m.due_date, m.tranche_amount) for m in plan] == [
        (date(2026, 12, 31), 100_000_000),
        (date(2027, 9, 30), 300_000_000),
    ]
    assert plan[0].criteria == [{"metric": "IC50", "target": "≦ 10", "unit": "nM"}]
    assert plan[1].criteria == [{"metric": "Efficacy", "target": "0", "unit": "件"}]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"milestones-0-title": "a\x00b"}, "milestones-0-title", "制御文字（U+0000）"),
        ({"milestones-0-criteria-0-target": "1\x07"}, "milestones-0-criteria-0-target", "U+0007"),
        ({"milestones-0-criteria-0-unit": "n\nM"}, "milestones-0-criteria-0-unit", "改行やタブ"),
        ({"milestones-0-tranche_amount": "1,0,0"}, "milestones-0-tranche_amount", "円単位の整数"),
    ],
)
def test_a_plan_row_that_cannot_be_stored_is_explained_beside_it(
    client: FlaskClient, changes: dict[str, str], field: str, message: str
) -> None:
    world = ready_application("milestone")
    login(client, world.applicant.email)
    before = [m.title for m in world.application.plan]
    response = post_form(client, f"/applications/{world.application.id}/plan", PLAN | changes)
    assert response.status_code == 422
    assert message in _field_error(_page(response), field)
    db.session.expire_all()
    assert [m.title for m in world.application.plan] == before


@pytest.mark.parametrize("title", ["a\x00b", "抗菌薬\x1b[0m", "del\x7f", "two\nlines"])
def test_an_application_title_with_control_characters_is_refused(
    client: FlaskClient, title: str
) -> None:
    program, _ = make_program("AMED-W", "amed")
    db.session.commit()
    login(client, make_applicant().email)
    form = FORM | {"program_id": str(program.id), "title": title}
    response = post_form(client, "/applications/new", form)
    assert response.status_code == 422
    assert "title-error" in _page(response)
    assert db.session.query(Application).count() == 0


def test_application_amounts_and_dates_as_typed(client: FlaskClient) -> None:
    program, _ = make_program("AMED-W", "amed")
    db.session.commit()
    login(client, make_applicant().email)
    typed = FORM | {
        "program_id": str(program.id),
        "eligible_cost": "6億円",
        "indirect_cost": "6,000万",
        "requested_subsidy": "¥400,000,000",
        "project_start": "２０２６／０６／０１",
    }
    assert post_form(client, "/applications/new", typed).status_code == 302
    application = db.session.query(Application).one()
    assert (application.eligible_cost, application.indirect_cost) == (6 * 10**8, 6 * 10**7)
    assert application.requested_subsidy == 4 * 10**8
    assert application.project_start == date(2026, 6, 1)


# ---- WTForms' own messages in repeated rows -------------------------------------------------


def test_repeated_rows_give_wtforms_messages_in_japanese(client: FlaskClient) -> None:
    world = ready_application()
    login(client, world.applicant.email)  # Japanese
    plan = PLAN | {
        "milestones-0-criteria-0-metric": "長" * 201,
        "milestones-1-due_date": "30/09/2027",
    }
    response = post_form(client, f"/applications/{world.application.id}/plan", plan)
    page = _page(response)
    assert response.status_code == 422
    assert "200 文字を超えることはできません" in _field_error(
        page, "milestones-0-criteria-0-metric"
    )
    assert "無効な日付型です。" in _field_error(page, "milestones-1-due_date")
    assert "Field cannot be longer" not in page and "Not a valid date value" not in page
    path = f"/applications/{world.application.id}/co-investments"
    rows = {
        "co_investments-0-vc_organization_id": "abc",
        "co_investments-0-committed_amount": "1",
        "co_investments-1-vc_organization_id": "987654",
        "co_investments-1-committed_amount": "1",
    }
    page = _page(post_form(client, path, rows))
    assert "無効な選択: 型変換できません。" in _field_error(
        page, "co_investments-0-vc_organization_id"
    )
    assert "選択肢が正しくありません。" in _field_error(page, "co_investments-1-vc_organization_id")
    assert "Not a valid choice" not in page and "could not coerce" not in page


def test_every_row_form_of_the_web_forms_is_a_subform() -> None:
    """A wtforms.Form that is not a FlaskForm is a repeated row: without SubForm's Meta its
    messages would stay English on Japanese pages."""
    rows = set()
    for module in edge_modules():
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Form) and not issubclass(cls, FlaskForm) and cls is not Form:
                rows.add(cls)
    assert {c.__name__ for c in rows} >= {"CriterionForm", "MilestoneForm", "CoInvestmentRowForm"}
    assert all(issubclass(c, SubForm) for c in rows), [
        c for c in rows if not issubclass(c, SubForm)
    ]
