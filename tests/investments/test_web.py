"""The investments page: record with validation, verify by a second officer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from grants.accounts.models import User
from grants.awards.models import Investment
from grants.core.calendar import tokyo_today
from grants.core.identity import Locale, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.grants import GrantWorld, make_grant
from tests.support.matrix import REVIEWERS, refused, routes, statuses, switch
from tests.support.web import login, post_form

TODAY = tokyo_today(datetime.now(UTC))


def _form(world: GrantWorld, **overrides: object) -> dict[str, object]:
    return {
        "vc_organization_id": str(world.vc.id),
        "amount": "50,000,000",
        "paid_on": TODAY.isoformat(),
        "evidence": "振込 0042",
    } | overrides


def _url(world: GrantWorld) -> str:
    return f"/officer/grants/{world.grant.id}/investments"


def _officer(client: FlaskClient) -> User:
    user = make_user(Role.officer, locale=Locale.en)
    login(client, user.email)
    return user


def test_every_route_is_enumerated(app: Flask) -> None:
    assert routes(app, "investments") == [
        ("GET", "/officer/grants/1/investments"),
        ("POST", "/officer/grants/1/investments"),
        ("POST", "/officer/investments/1/verify"),
    ]


def test_permission_matrix(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    recorder = make_user(Role.officer)
    db.session.add(
        Investment(
            grant_id=world.grant.id,
            vc_organization_id=world.vc.id,
            amount=1,
            paid_on=TODAY,
            evidence="x",
            recorded_by_id=recorder.id,
        )
    )
    db.session.commit()
    paths = routes(app, "investments")
    table = statuses(client, world, paths, lambda method, path: _form(world))
    refused(table, "applicant_other_org", "grantee", *REVIEWERS, "admin")
    assert table["officer"] == {paths[0]: 200, paths[1]: 302, paths[2]: 302}
    # Only the officer's own record and verification were written.
    assert db.session.query(Investment).count() == 2
    assert db.session.query(Investment).filter(Investment.verified_at.is_not(None)).count() == 1


def test_record_then_verify_by_another_officer(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    recorder = _officer(client)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Record a paid-in investment" in page and world.vc.name in page
    response = post_form(client, _url(world), _form(world))
    assert response.status_code == 302
    investment = db.session.query(Investment).one()
    assert investment.amount == 50_000_000 and investment.recorded_by_id == recorder.id
    page = client.get(_url(world)).get_data(as_text=True)
    assert "Awaiting another officer" in page and "¥50,000,000" in page
    # The recorder may not verify it.
    verify = f"/officer/investments/{investment.id}/verify"
    assert post_form(client, verify, {}).status_code == 403
    db.session.refresh(investment)
    assert investment.verified_at is None

    switch(client, make_user(Role.officer, locale=Locale.en))
    assert post_form(client, verify, {}).status_code == 302
    db.session.refresh(investment)
    assert investment.verified_at is not None
    page = client.get(_url(world)).get_data(as_text=True)
    assert 'id="verified-total">¥50,000,000' in page
    assert post_form(client, verify, {}).status_code == 409
    assert db.session.query(AuditEvent).filter_by(action="investment.verify").count() == 1


def test_bad_input_is_shown_beside_the_fields(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    _officer(client)
    cases = {
        "amount": {"amount": "five million"},
        "paid_on": {"paid_on": (TODAY + timedelta(days=1)).isoformat()},
        "evidence": {"evidence": ""},
    }
    for name, change in cases.items():
        response = post_form(client, _url(world), _form(world, **change))
        assert response.status_code == 422, name
        assert f'id="{name}-error"' in response.get_data(as_text=True), name
    other_vc = make_grant(code="OTHER").vc
    response = post_form(client, _url(world), _form(world, vc_organization_id=str(other_vc.id)))
    assert response.status_code == 422
    assert "Choose one of the grant" in response.get_data(as_text=True)
    response = post_form(client, _url(world), _form(world, vc_organization_id="abc"))
    assert response.status_code == 422
    assert post_form(client, _url(world), _form(world, amount="0")).status_code == 422
    assert db.session.query(Investment).count() == 0


def test_a_duplicate_reference_is_refused_beside_the_evidence(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant()
    _officer(client)
    assert post_form(client, _url(world), _form(world, evidence="X-1")).status_code == 302
    response = post_form(client, _url(world), _form(world, evidence="X-1", amount="1,000"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = page[page.index('id="evidence-error"') :].split("</ul>")[0]
    assert "A payment from this VC with the reference X-1 is already recorded" in error
    assert f"¥50,000,000 paid in on {TODAY.day} {TODAY.strftime('%b')} {TODAY.year}" in error
    assert 'value="1,000"' in page  # the input is kept
    assert db.session.query(Investment).count() == 1


def test_a_duplicate_reference_is_refused_in_japanese(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    assert post_form(client, _url(world), _form(world, evidence="X-1")).status_code == 302
    response = post_form(client, _url(world), _form(world, evidence="X-1", amount="1,000"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = page[page.index('id="evidence-error"') :].split("</ul>")[0]
    day = f"{TODAY.year}年{TODAY.month}月{TODAY.day}日"
    assert f"このVCからの参照番号 X-1 の払込は記録済みです（{day}に5,000万円）。" in error


def test_unknown_ids_are_404(app: Flask, client: FlaskClient) -> None:
    _officer(client)
    assert client.get("/officer/grants/999/investments").status_code == 404
    assert post_form(client, "/officer/investments/999/verify", {}).status_code == 404


def test_amounts_and_dates_are_read_as_typed(app: Flask, client: FlaskClient) -> None:
    world = make_grant()
    _officer(client)
    typed = TODAY.strftime("%Y/%m/%d").translate(
        str.maketrans("0123456789/", "０１２３４５６７８９／")
    )
    response = post_form(client, _url(world), _form(world, amount="5,000万円", paid_on=typed))
    assert response.status_code == 302
    investment = db.session.query(Investment).one()
    assert (investment.amount, investment.paid_on) == (50_000_000, TODAY)


def test_a_refused_amount_is_explained_in_japanese_and_kept(
    app: Flask, client: FlaskClient
) -> None:
    world = make_grant()
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    for typed, message in [("1,0,0,0", "円単位の整数"), ("2,000兆", "金額が大きすぎます。")]:
        response = post_form(client, _url(world), _form(world, amount=typed))
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in page.split('id="amount-error"', 1)[1].split("</ul>", 1)[0]
        assert f'value="{typed}"' in page
    response = post_form(client, _url(world), _form(world, evidence="振込\x1b0042"))
    assert response.status_code == 422 and "制御文字（U+001B）" in response.get_data(as_text=True)
    assert db.session.query(Investment).count() == 0
