"""Admin pages: users and organisations; forbidden to every other role."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from grants.accounts.models import Organization, User
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.factories import make_org, make_user, valid_corporate_number
from tests.support.web import login, post_form


def admin_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("accounts."):
            path = "/".join("1" if p.startswith("<") else p for p in rule.rule.split("/"))
            urls += [
                (method, path) for method in sorted(rule.methods or ()) if method in {"GET", "POST"}
            ]
    return urls


def test_admin_routes_are_enumerated(app: Flask) -> None:
    paths = {path for _, path in admin_urls(app)}
    assert {"/admin/users", "/admin/users/new", "/admin/users/1"} <= paths
    assert {"/admin/organizations", "/admin/organizations/new", "/admin/organizations/1"} <= paths


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.officer])
def test_every_admin_route_is_forbidden_to_other_roles(
    app: Flask, client: FlaskClient, role: Role
) -> None:
    make_org()
    login(client, make_user(role).email)
    for method, path in admin_urls(app):
        if method == "GET":
            response = client.get(path)
        else:
            response = post_form(client, path, {"name": "x", "email": "x@example.jp"})
        assert response.status_code == 403, (role, method, path)
    assert db.session.query(Organization).count() == 1


def test_anonymous_is_sent_to_login(app: Flask, client: FlaskClient) -> None:
    for method, path in admin_urls(app):
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_creates_and_edits_an_organization(client: FlaskClient) -> None:
    login(client, make_user(Role.admin).email)
    number = valid_corporate_number(987654)
    response = post_form(
        client,
        "/admin/organizations/new",
        {
            "name": "株式会社テスト",
            "kind": "startup",
            "corporate_number": number,
            "rd_base_in_japan": "y",
        },
    )
    assert response.status_code == 302
    org = db.session.query(Organization).filter_by(corporate_number=number).one()
    assert org.rd_base_in_japan and not org.listed
    response = post_form(
        client,
        f"/admin/organizations/{org.id}",
        {"name": "株式会社テスト2", "kind": "startup", "corporate_number": number, "listed": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.name == "株式会社テスト2" and org.listed
    actions = [e.action for e in db.session.query(AuditEvent).filter_by(object_type="organization")]
    assert actions == ["organization.create", "organization.update"]
    assert "株式会社テスト2" in client.get("/admin/organizations").get_data(as_text=True)


@pytest.mark.parametrize(
    ("number", "fragment"),
    [("1234567890123", "check digit"), ("12345", "13 digits"), ("12345678901ab", "13 digits")],
)
def test_bad_corporate_number_re_renders_with_a_field_message(
    client: FlaskClient, number: str, fragment: str
) -> None:
    login(client, make_user(Role.admin, locale="en").email)  # type: ignore[arg-type]
    response = post_form(
        client,
        "/admin/organizations/new",
        {"name": "X", "kind": "startup", "corporate_number": number},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="corporate_number-error"' in page and fragment in page
    assert db.session.query(Organization).count() == 0


def test_admin_creates_user_and_email_is_unique_case_insensitively(client: FlaskClient) -> None:
    org = make_org(OrgKind.startup)
    login(client, make_user(Role.admin, locale="en").email)  # type: ignore[arg-type]
    form = {
        "email": "New.User@Example.jp",
        "name": "New User",
        "role": "reviewer",
        "locale": "en",
        "organization_id": str(org.id),
        "active": "y",
    }
    assert post_form(client, "/admin/users/new", form).status_code == 302
    user = db.session.query(User).filter_by(email="new.user@example.jp").one()
    assert user.role == Role.reviewer and user.organization_id == org.id
    assert user.password_hash is None  # its owner sets it through the invitation
    again = post_form(client, "/admin/users/new", form | {"email": "NEW.USER@example.jp"})
    assert again.status_code == 422
    assert "Another account uses this e-mail address." in again.get_data(as_text=True)


def test_user_form_errors_do_not_half_write(client: FlaskClient) -> None:
    login(client, make_user(Role.admin).email)
    before = db.session.query(User).count()
    response = post_form(
        client,
        "/admin/users/new",
        {"email": "short@example.jp", "name": "", "role": "applicant", "locale": "ja",
         "organization_id": "0"},
    )  # fmt: skip
    assert response.status_code == 422
    assert db.session.query(User).count() == before


def test_an_administrator_never_chooses_a_password(client: FlaskClient) -> None:
    target = make_user(Role.applicant)
    login(client, make_user(Role.admin).email)
    assert 'type="password"' not in client.get("/admin/users/new").get_data(as_text=True)
    assert 'type="password"' not in client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    before = target.password_hash
    data = {"email": target.email, "name": target.name, "role": "applicant", "locale": "ja",
            "organization_id": "0", "active": "y", "password": "chosen-by-the-admin-1"}  # fmt: skip
    assert post_form(client, f"/admin/users/{target.id}", data).status_code == 302
    new = data | {"email": "new@example.jp"}
    assert post_form(client, "/admin/users/new", new).status_code == 302
    db.session.refresh(target)
    assert target.password_hash == before
    assert db.session.query(User).filter_by(email="new@example.jp").one().password_hash is None


def test_bad_choice_values_are_form_errors_not_500(client: FlaskClient) -> None:
    login(client, make_user(Role.admin).email)
    response = post_form(
        client,
        "/admin/users/new",
        {"email": "a@example.jp", "name": "A", "role": "superuser", "locale": "xx",
         "organization_id": "abc"},
    )  # fmt: skip
    assert response.status_code == 422


def test_admin_deactivates_a_user(client: FlaskClient) -> None:
    target = make_user(Role.applicant)
    login(client, make_user(Role.admin).email)
    response = post_form(
        client,
        f"/admin/users/{target.id}",
        {"email": target.email, "name": target.name, "role": "applicant", "locale": "ja",
         "organization_id": "0"},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.active is False
    event = db.session.query(AuditEvent).filter_by(action="user.update").one()
    assert event.before["active"] is True and event.after["active"] is False


def test_unknown_ids_are_404(client: FlaskClient) -> None:
    login(client, make_user(Role.admin).email)
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get("/admin/organizations/999999").status_code == 404


def test_user_search(client: FlaskClient) -> None:
    make_user(email="findme@example.jp")
    make_user(email="other@example.jp")
    login(client, make_user(Role.admin).email)
    page = client.get("/admin/users?q=findme").get_data(as_text=True)
    assert "findme@example.jp" in page and "other@example.jp" not in page
    full_width = client.get("/admin/users?q=ＦＩＮＤｍｅ").get_data(as_text=True)
    assert "findme@example.jp" in full_width  # read as addresses are stored


@pytest.mark.parametrize(
    "typed",
    [
        "７００００１２０５０００２",
        " 7000012050002 ",
        "7000-0120-50002",
        "７０００－０１２０－５０００２",
    ],
)
def test_a_corporate_number_is_read_as_typed(client: FlaskClient, typed: str) -> None:
    login(client, make_user(Role.admin).email)
    form = {"name": "国税庁", "kind": "other", "corporate_number": typed}
    response = post_form(client, "/admin/organizations/new", form)
    assert response.status_code == 302
    assert db.session.query(Organization).one().corporate_number == "7000012050002"


def test_a_corporate_number_taken_in_another_spelling_is_refused(client: FlaskClient) -> None:
    make_org(corporate_number="7000012050002")
    login(client, make_user(Role.admin).email)
    form = {"name": "別法人", "kind": "other", "corporate_number": "７０００-０１２０-５０００２"}
    response = post_form(client, "/admin/organizations/new", form)
    assert response.status_code == 422
    assert "この法人番号は別の組織に登録されています。" in response.get_data(as_text=True)
    assert db.session.query(Organization).count() == 1


@pytest.mark.parametrize(
    "email",
    ["@", "a\r\nBcc: x@y@example.jp", "a@b@example.jp", "hanako@localhost", "花子@example.jp"],
)
def test_an_implausible_e_mail_address_is_refused(client: FlaskClient, email: str) -> None:
    login(client, make_user(Role.admin).email)
    before = db.session.query(User).count()
    form = {
        "email": email,
        "name": "New User",
        "role": "reviewer",
        "locale": "ja",
        "organization_id": "0",
    }
    response = post_form(client, "/admin/users/new", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and "正しいメールアドレスを入力してください。" in page
    assert db.session.query(User).count() == before


@pytest.mark.parametrize(
    ("path", "form", "field"),
    [
        ("/admin/users/new", {"name": "a\x00b\x07c"}, "name"),
        ("/admin/users/new", {"name": "two\nlines"}, "name"),
        ("/admin/organizations/new", {"name_en": "\x1b[31m\x00"}, "name_en"),
        ("/admin/organizations/new", {"name": "株式会社\x7f"}, "name"),
    ],
)
def test_names_with_control_characters_are_refused_and_kept(
    client: FlaskClient, path: str, form: dict[str, str], field: str
) -> None:
    login(client, make_user(Role.admin).email)
    users, orgs = db.session.query(User).count(), db.session.query(Organization).count()
    base = {
        "email": "new@example.jp",
        "name": "New",
        "role": "reviewer",
        "locale": "ja",
        "organization_id": "0",
        "kind": "startup",
    }
    response = post_form(client, path, base | form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = page.split(f'id="{field}-error"', 1)[1].split("</ul>", 1)[0]
    assert "制御文字" in errors or "改行やタブ" in errors
    assert (db.session.query(User).count(), db.session.query(Organization).count()) == (users, orgs)


def test_a_search_with_control_characters_finds_what_it_would_without(
    client: FlaskClient,
) -> None:
    make_user(email="findme@example.jp")
    make_org(name="探索株式会社")
    login(client, make_user(Role.admin).email)
    users = client.get("/admin/users?q=find%00me%1b")
    assert users.status_code == 200 and "findme@example.jp" in users.get_data(as_text=True)
    orgs = client.get("/admin/organizations?q=%E6%8E%A2%E7%B4%A2%00")
    assert orgs.status_code == 200 and "探索株式会社" in orgs.get_data(as_text=True)


def test_a_page_past_the_end_lists_the_last_page(client: FlaskClient) -> None:
    make_user(email="listed@example.jp")
    make_org(name="掲載される機関")
    login(client, make_user(Role.admin).email)
    users = client.get("/admin/users?page=9").get_data(as_text=True)
    assert "listed@example.jp" in users
    organizations = client.get("/admin/organizations?page=9").get_data(as_text=True)
    assert "掲載される機関" in organizations


def _own_form(user: User, **changes: str) -> dict[str, str]:
    form = {"email": user.email, "name": user.name, "role": "admin", "locale": "en",
            "organization_id": "0", "active": "y"}  # fmt: skip
    return form | changes


def test_the_last_active_admin_is_refused_beside_the_field(client: FlaskClient) -> None:
    admin = make_user(Role.admin, locale="en")  # type: ignore[arg-type]
    login(client, admin.email)
    path = f"/admin/users/{admin.id}"
    demoted = post_form(client, path, _own_form(admin, role="officer"))
    assert demoted.status_code == 422
    page = demoted.get_data(as_text=True)
    assert 'id="role-error"' in page and "This is the only active administrator" in page
    deactivated = _own_form(admin)
    del deactivated["active"]
    response = post_form(client, path, deactivated)
    assert response.status_code == 422
    assert 'id="active-error"' in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert (admin.role, admin.active) == (Role.admin, True)


def test_the_user_form_names_organisations_in_the_users_language(client: FlaskClient) -> None:
    make_org(name="さくらバイオ株式会社", name_en="Sakura Bio")
    make_org(name="未来製薬")  # no English name: the Japanese one
    login(client, make_user(Role.admin, locale="en").email)  # type: ignore[arg-type]
    page = client.get("/admin/users/new").get_data(as_text=True)
    choices = page[page.index('id="organization_id"') :].split("</select>")[0]
    assert ">Sakura Bio</option>" in choices and "さくらバイオ" not in choices
    assert ">未来製薬</option>" in choices
    japanese = client.application.test_client()
    login(japanese, make_user(Role.admin).email)
    page = japanese.get("/admin/users/new").get_data(as_text=True)
    assert ">さくらバイオ株式会社</option>" in page


def test_user_search_takes_percent_and_underscore_literally(client: FlaskClient) -> None:
    make_user(email="plain@example.jp")
    make_user(email="under_score@example.jp")
    make_user(email="underXscore@example.jp")
    login(client, make_user(Role.admin).email)
    everyone = client.get("/admin/users?q=%25").get_data(as_text=True)
    assert "@example.jp" not in everyone  # nobody's e-mail or name has a %
    underscore = client.get("/admin/users?q=under_").get_data(as_text=True)
    assert "under_score@example.jp" in underscore and "underXscore@example.jp" not in underscore
    make_org(name="100%出資子会社")
    make_org(name="普通の会社")
    orgs = client.get("/admin/organizations?q=%25").get_data(as_text=True)
    assert "100%出資子会社" in orgs and "普通の会社" not in orgs
