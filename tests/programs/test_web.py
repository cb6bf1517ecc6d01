"""Officer pages for programmes and budget pools; forbidden to every other role."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from grants.core.http.labels import modality_labels, stage_labels, theme_labels
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.programs.models import BudgetPool, Program
from grants.rules import MODALITIES, STAGES, THEMES
from tests.support.factories import make_user
from tests.support.programs import make_pool, make_program
from tests.support.web import login, post_form

FORM = {
    "code": "amed-vc-7",
    "name_ja": "創薬ベンチャーエコシステム強化事業",
    "name_en": "Drug discovery venture ecosystem programme",
    "application_opens": "2026-04-01",
    "application_closes": "2026-06-30",
    "end_date": "2031-09-30",
    "themes": ["rare_disease", "amr"],
    "modalities": ["drug"],
    "separate_award_and_release": "y",
    "release_approval_threshold": "1億円",
}


def program_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("programs."):
            path = "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/"))
            methods = sorted((rule.methods or set()) & {"GET", "POST"})
            urls += [(method, path) for method in methods]
    return urls


def _officer(client: FlaskClient, locale: Locale = Locale.en) -> None:
    login(client, make_user(Role.officer, locale=locale).email)


def _switch_user(client: FlaskClient, role: Role, locale: Locale = Locale.en) -> None:
    post_form(client, "/logout", {})
    login(client, make_user(role, locale=locale).email)


def test_every_route_is_enumerated(app: Flask) -> None:
    assert set(program_urls(app)) == {
        ("GET", "/officer/programs"),
        ("GET", "/officer/programs/new"),
        ("POST", "/officer/programs/new"),
        ("GET", "/officer/programs/1"),
        ("GET", "/officer/programs/1/edit"),
        ("POST", "/officer/programs/1/edit"),
        ("POST", "/officer/programs/1/pools"),
    }


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.admin])
def test_every_route_is_forbidden_to_other_roles(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    program = make_program(code="KEEP")
    assert program.id == 1
    login(client, make_user(role).email)
    for method, path in program_urls(app):
        if method == "GET":
            response = client.get(path)
        else:
            response = post_form(client, path, FORM | {"fiscal_year": "2026", "appropriation": "1"})
        assert response.status_code == 403, (role, method, path)
    assert [p.code for p in db.session.query(Program)] == ["KEEP"]
    assert db.session.query(BudgetPool).count() == 0


def test_anonymous_is_sent_to_login(app: Flask, client: FlaskClient) -> None:
    for method, path in program_urls(app):
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_nav_link_only_for_officers(client: FlaskClient) -> None:
    login(client, make_user(Role.admin).email)
    assert "/officer/programs" not in client.get("/").get_data(as_text=True)
    _switch_user(client, Role.officer)
    assert "/officer/programs" in client.get("/").get_data(as_text=True)


def test_officer_creates_a_programme(client: FlaskClient) -> None:
    _officer(client)
    page = client.get("/officer/programs/new").get_data(as_text=True)
    assert (
        'type="checkbox"' in page and 'value="rare_disease"' in page and "R8.4.1" in page
    )  # a date field that takes 令和 dates too
    assert "Antimicrobial resistance (AMR)" in page and "Regenerative medicine" in page
    response = post_form(client, "/officer/programs/new", FORM)
    assert response.status_code == 302
    program = db.session.query(Program).one()
    assert response.headers["Location"].endswith(f"/officer/programs/{program.id}")
    assert program.code == "AMED-VC-7" and program.themes == ["rare_disease", "amr"]
    assert program.end_date == date(2031, 9, 30)
    assert db.session.query(AuditEvent).filter_by(action="program.create").count() == 1


def test_dates_are_read_in_the_japanese_eras_too(client: FlaskClient) -> None:
    _officer(client)
    typed = {"application_opens": "令和8年4月1日", "application_closes": "R8.6.30"}
    response = post_form(client, "/officer/programs/new", FORM | typed | {"end_date": "R13.9.30"})
    assert response.status_code == 302
    program = db.session.query(Program).one()
    assert (program.application_opens, program.application_closes) == (
        date(2026, 4, 1),
        date(2026, 6, 30),
    )
    assert program.end_date == date(2031, 9, 30)


def test_list_shows_names_in_the_current_locale(client: FlaskClient) -> None:
    make_program(code="LIST-1", name_ja="日本語の名前", name_en="English name")
    _officer(client, Locale.ja)
    page = client.get("/officer/programs").get_data(as_text=True)
    assert "LIST-1" in page and "日本語の名前" in page and "English name" not in page
    assert "2026年4月1日" in page and "2031年9月30日" in page
    _switch_user(client, Role.officer, Locale.en)
    page = client.get("/officer/programs").get_data(as_text=True)
    assert "English name" in page and "1 Apr 2026" in page and "30 Sep 2031" in page


def test_officer_edits_a_programme(client: FlaskClient) -> None:
    program = make_program(code="EDIT-1")
    _officer(client)
    page = client.get(f"/officer/programs/{program.id}/edit").get_data(as_text=True)
    assert 'value="EDIT-1"' in page and 'value="2031-09-30"' in page
    response = post_form(
        client, f"/officer/programs/{program.id}/edit", FORM | {"code": "EDIT-1", "themes": "other"}
    )
    assert response.status_code == 302
    db.session.refresh(program)
    assert program.themes == ["other"] and program.name_en == FORM["name_en"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": "A_B"}, "code", "2 to 30 characters"),
        ({"code": "DUP-1"}, "code", "Another programme has this code."),
        ({"code": "dup-1"}, "code", "Another programme has this code."),
        ({"application_opens": "2026-13-01"}, "application_opens", "Not a valid date"),
        ({"end_date": "soon"}, "end_date", "Not a valid date"),
        ({"application_closes": ""}, "application_closes", "required"),
        ({"application_closes": "2026-03-01"}, "application_closes", "close on or after"),
        ({"end_date": "2026-06-29"}, "end_date", "on or after applications close"),
        ({"themes": []}, "themes", "Choose at least one theme."),
        ({"themes": ["astrology"]}, "themes", "not a valid choice"),
        ({"modalities": []}, "modalities", "Choose at least one modality."),
    ],
)
def test_bad_programme_input_re_renders_with_field_messages(
    client: FlaskClient, changes: dict[str, object], field: str, message: str
) -> None:
    make_program(code="DUP-1")
    _officer(client)
    response = post_form(client, "/officer/programs/new", FORM | changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert db.session.query(Program).count() == 1
    assert db.session.query(AuditEvent).filter_by(action="program.create").count() == 1


def test_unknown_programme_is_404(client: FlaskClient) -> None:
    _officer(client)
    assert client.get("/officer/programs/999").status_code == 404
    assert client.get("/officer/programs/999/edit").status_code == 404
    response = post_form(
        client, "/officer/programs/999/pools", {"fiscal_year": "2026", "appropriation": "1"}
    )
    assert response.status_code == 404


def test_detail_page_shows_programme_and_pools_in_japanese(client: FlaskClient) -> None:
    program = make_program(code="SHOW-1", themes=["amr"], modalities=["samd"])
    make_pool(program, 2027, 2_500_000_000)
    make_pool(program, 2026, 1_000_000_000)
    _officer(client, Locale.ja)
    page = client.get(f"/officer/programs/{program.id}").get_data(as_text=True)
    assert "SHOW-1" in page and program.name_ja in page
    assert page.index("2026年度") < page.index("2027年度")
    assert "10億円" in page and "25億円" in page and "0円" in page
    assert 'name="appropriation"' in page and 'id="rulesets"' not in page


def test_detail_page_shows_money_in_english(client: FlaskClient) -> None:
    program = make_program(themes=["amr"], modalities=["samd"])
    make_pool(program, 2026, 1_000_000_000)
    _officer(client)
    page = client.get(f"/officer/programs/{program.id}").get_data(as_text=True)
    assert "FY2026" in page and "¥1,000,000,000" in page and "¥0" in page
    assert "Antimicrobial resistance (AMR)" in page and "Software as a medical device" in page


def test_officer_sets_an_appropriation_with_commas(client: FlaskClient) -> None:
    program = make_program()
    _officer(client)
    path = f"/officer/programs/{program.id}/pools"
    response = post_form(client, path, {"fiscal_year": "2026", "appropriation": "1,000,000,000"})
    assert response.status_code == 302
    assert (
        post_form(client, path, {"fiscal_year": "2026", "appropriation": " 2000 "}).status_code
        == 302
    )
    pool = db.session.query(BudgetPool).one()
    assert (pool.program_id, pool.fiscal_year, pool.appropriation) == (program.id, 2026, 2000)
    assert (
        db.session.query(AuditEvent).filter_by(action="budget_pool.set_appropriation").count() == 2
    )


@pytest.mark.parametrize(
    ("fiscal_year", "amount", "field", "message"),
    [
        ("2026", "abc", "appropriation", "whole number of yen"),
        ("2026", "-5", "appropriation", "whole number of yen"),
        ("2026", "1.5", "appropriation", "whole number of yen"),
        ("2026", "1e9", "appropriation", "whole number of yen"),
        ("2026", "", "appropriation", "required"),
        ("2026", "9" * 30, "appropriation", "too large"),
        ("abc", "100", "fiscal_year", "Not a valid integer"),
        ("1999", "100", "fiscal_year", "from 2000 to 2100"),
        ("99999999999999999999", "100", "fiscal_year", "from 2000 to 2100"),
    ],
)
def test_bad_appropriation_input_re_renders_with_field_messages(
    client: FlaskClient, fiscal_year: str, amount: str, field: str, message: str
) -> None:
    program = make_program()
    _officer(client)
    response = post_form(
        client,
        f"/officer/programs/{program.id}/pools",
        {"fiscal_year": fiscal_year, "appropriation": amount},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert db.session.query(BudgetPool).count() == 0


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("１，０００，０００", 1_000_000),
        ("10億", 1_000_000_000),
        ("1,000万円", 10_000_000),
        ("¥500,000,000", 500_000_000),
        ("７億円", 700_000_000),
        ("7億5,000万", 750_000_000),
        ("1.5億", 150_000_000),
        ("1,000兆", 10**15),
        ("一億五千万円", 150_000_000),
        ("1億5千万円", 150_000_000),
        ("150百万円", 150_000_000),
        ("１億５千万円", 150_000_000),
        ("15,000万円", 150_000_000),
    ],
)
def test_appropriations_are_read_as_japanese_users_type_them(
    client: FlaskClient, typed: str, amount: int
) -> None:
    program = make_program()
    _officer(client)
    path = f"/officer/programs/{program.id}/pools"
    response = post_form(client, path, {"fiscal_year": "２０２６", "appropriation": typed})
    assert response.status_code == 302
    pool = db.session.query(BudgetPool).one()
    assert (pool.fiscal_year, pool.appropriation) == (2026, amount)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1,0,0,0", "金額は円単位の整数で入力してください（例: 150,000,000、1億5千万、"),
        ("1.5", "円未満の端数があります。"),
        ("-1億", "金額は0以上の円単位の整数で入力してください。"),
        ("1,000兆1", "金額が大きすぎます。"),
        ("1000000000000000000000000", "金額が大きすぎます。"),
    ],
)
def test_a_refused_appropriation_is_explained_in_japanese_and_kept(
    client: FlaskClient, typed: str, message: str
) -> None:
    program = make_program()
    _officer(client, Locale.ja)
    path = f"/officer/programs/{program.id}/pools"
    response = post_form(client, path, {"fiscal_year": "2026", "appropriation": typed})
    assert response.status_code == 422
    page = unescape(response.get_data(as_text=True))
    errors = page.split('id="appropriation-error"', 1)[1].split("</ul>", 1)[0]
    assert message in errors
    assert f'value="{typed}"' in page
    assert db.session.query(BudgetPool).count() == 0


@pytest.mark.parametrize(
    "typed", ["2026/04/01", "２０２６／０４／０１", "２０２６-０４-０１", " 2026-4-1 "]
)
def test_programme_dates_are_read_with_slashes_and_full_width_digits(
    client: FlaskClient, typed: str
) -> None:
    _officer(client)
    response = post_form(client, "/officer/programs/new", FORM | {"application_opens": typed})
    assert response.status_code == 302
    assert db.session.query(Program).one().application_opens == date(2026, 4, 1)


def test_a_date_typed_with_slashes_is_shown_back_as_a_date_input_reads_it(
    client: FlaskClient,
) -> None:
    _officer(client)
    changes = {"application_opens": "2026/04/01", "code": "A_B"}
    response = post_form(client, "/officer/programs/new", FORM | changes)
    assert response.status_code == 422
    assert 'value="2026-04-01"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("name_ja", "事業\x00名"),
        ("name_en", "\x1b[31mRed"),
        ("name_en", "Bell\x07"),
        ("code", "AB\x7f"),
    ],
)
def test_programme_names_with_control_characters_are_refused(
    client: FlaskClient, field: str, text: str
) -> None:
    _officer(client, Locale.ja)
    response = post_form(client, "/officer/programs/new", FORM | {field: text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and "制御文字" in page
    assert db.session.query(Program).count() == 0


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("name_en", "Grant \u202eNOGEPA", "reverses the direction of what follows (U+202E)"),
        ("name_ja", "テスト\u2066事業\u2069", "reverses the direction of what follows (U+2066)"),
        ("name_en", "Sakura\u200bBio", "an invisible character (U+200B)"),
        ("code", "AB\ufeff", "an invisible character (U+FEFF)"),
        ("name_en", "A\u200dB", "an invisible character (U+200D)"),
        ("name_en", "one\u2028two", "Line breaks and tabs are not allowed here."),
    ],
)
def test_programme_names_that_disguise_themselves_are_refused(
    client: FlaskClient, field: str, text: str, message: str
) -> None:
    _officer(client, Locale.en)
    response = post_form(client, "/officer/programs/new", FORM | {field: text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert db.session.query(Program).count() == 0


def test_a_pool_after_the_programmes_end_is_refused_beside_the_year(client: FlaskClient) -> None:
    program = make_program(end_date=date(2029, 12, 1))
    _officer(client)
    path = f"/officer/programs/{program.id}/pools"
    response = post_form(client, path, {"fiscal_year": "2030", "appropriation": "0"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = page[page.index('id="fiscal_year-error"') :].split("</ul>")[0]
    assert "FY2030 is outside the programme&#39;s period: FY2026 to FY2029" in error
    assert "the programme ends on 1 Dec 2029" in error
    assert 'value="2030"' in page  # the input is kept
    assert db.session.query(BudgetPool).count() == 0


def test_a_pool_after_the_programmes_end_is_refused_in_japanese(client: FlaskClient) -> None:
    program = make_program(end_date=date(2029, 12, 1))
    _officer(client, Locale.ja)
    path = f"/officer/programs/{program.id}/pools"
    response = post_form(client, path, {"fiscal_year": "2030", "appropriation": "0"})
    page = response.get_data(as_text=True)
    error = page[page.index('id="fiscal_year-error"') :].split("</ul>")[0]
    assert "2030年度はプログラムの期間外です。対象は2026年度から2029年度までです" in error
    assert "プログラム終了 2029年12月1日" in error


def test_lowering_below_committed_and_released_is_refused(client: FlaskClient) -> None:
    pool = make_pool(appropriation=1_000_000)
    db.session.execute(
        update(BudgetPool).where(BudgetPool.id == pool.id).values(committed=600_000, released=100)
    )
    db.session.commit()
    _officer(client)
    response = post_form(
        client,
        f"/officer/programs/{pool.program_id}/pools",
        {"fiscal_year": "2026", "appropriation": "600,099"},
    )
    assert response.status_code == 422
    assert "600,100" in response.get_data(as_text=True)
    db.session.refresh(pool)
    assert pool.appropriation == 1_000_000


def test_vocabulary_labels_cover_every_code(app: Flask) -> None:
    with app.test_request_context():
        assert tuple(theme_labels()) == THEMES
        assert tuple(modality_labels()) == MODALITIES
        assert tuple(stage_labels()) == STAGES
        assert all(theme_labels().values()) and all(stage_labels().values())


def test_reviewer_anonymity_is_a_setting_of_the_programme_form(client: FlaskClient) -> None:
    _officer(client)
    page = client.get("/officer/programs/new").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*checked[^>]*name="reviewers_anonymous"|'
        r'<input[^>]*name="reviewers_anonymous"[^>]*checked',
        page,
    )
    assert post_form(client, "/officer/programs/new", FORM | {"reviewers_anonymous": "y"})
    program = db.session.query(Program).one()
    assert program.reviewers_anonymous is True
    edit = f"/officer/programs/{program.id}/edit"
    assert post_form(client, edit, FORM).status_code == 302  # the box left unticked
    db.session.refresh(program)
    assert program.reviewers_anonymous is False
    event = db.session.query(AuditEvent).filter_by(action="program.update").one()
    assert (
        event.before["reviewers_anonymous"] is True and event.after["reviewers_anonymous"] is False
    )
    assert "Anonymous reviewers" in client.get(f"/officer/programs/{program.id}").get_data(
        as_text=True
    )


def test_the_release_separations_are_set_on_the_form(app: Flask, client: FlaskClient) -> None:
    login(client, make_user(Role.officer, locale=Locale.en).email)
    form = client.get("/officer/programs/new").get_data(as_text=True)
    checkbox = re.search(r'<input[^>]*name="separate_award_and_release"[^>]*>', form)
    assert checkbox and "checked" in checkbox.group()  # on by default
    assert 'value="100,000,000"' in form
    response = post_form(
        client,
        "/officer/programs/new",
        {**FORM, "separate_award_and_release": "", "release_approval_threshold": "2億"},
    )
    assert response.status_code == 302
    program = db.session.scalars(select(Program)).one()
    assert program.separate_award_and_release is False
    assert program.release_approval_threshold == 200_000_000
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "¥200,000,000" in page and "Allowed" in page
    bad = post_form(
        client,
        f"/officer/programs/{program.id}/edit",
        {**FORM, "code": program.code, "release_approval_threshold": "-1"},
    )
    assert bad.status_code == 422
    db.session.refresh(program)
    assert program.release_approval_threshold == 200_000_000
