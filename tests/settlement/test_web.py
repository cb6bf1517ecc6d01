"""Settlement pages: the grantee files a report, errors beside the fields, two officers
settle it, the notices as PDFs (audited reads) and the ledger CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from flask import Flask
from flask.testing import FlaskClient

from grants.awards.models import Settlement
from grants.core.calendar import fiscal_year, tokyo_today
from grants.core.identity import OrgKind
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.settlement.models import ResultsReport
from grants.settlement.rules import ReportState
from tests.support.approvals import approve, invest, officer
from tests.support.grants import GrantWorld, make_grant
from tests.support.settlement import MAN, lines, settle_period
from tests.support.web import login, post_form

TODAY = tokyo_today(datetime.now(UTC))
LAST_FY = fiscal_year(TODAY) - 1


def _world() -> GrantWorld:
    """An AMED grant (精算払, per fiscal year) whose first milestone's fiscal year has ended."""
    world = make_grant(
        tranches=(100_000_000, 200_000_000), first_due=date(LAST_FY, 10, 1), preset="amed"
    )
    world.grantee.kind = OrgKind.university
    approve(world, world.milestones[0])
    invest(world, 300_000_000)
    return world


def _lines(*rows: tuple[str, str, str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for index, (category, description, amount) in enumerate(rows):
        data[f"lines-{index}-category"] = category
        data[f"lines-{index}-description"] = description
        data[f"lines-{index}-claimed"] = amount
    return data


def _file(client: FlaskClient, world: GrantWorld) -> ResultsReport:
    login(client, world.applicant.email)
    url = f"/grants/{world.grant.id}/settlement/fy{LAST_FY}"
    data = {
        **_lines(("equipment", "試薬", "5,000万"), ("personnel", "研究員", "4000万円")),
        "indirect_cost": "3,000万",
        "action": "submit",
    }
    response = post_form(client, url, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.query(ResultsReport).one()


def test_the_grantee_sees_the_periods_and_files_a_report(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, world.applicant.email)
    page = client.get(f"/grants/{world.grant.id}/settlement").get_data(as_text=True)
    assert "精算払" in page and f"{LAST_FY}年度" in page and "30%" in page
    assert client.get(f"/grants/{world.grant.id}/settlement/fy{LAST_FY}").status_code == 200
    post_form(client, "/logout", {})
    report = _file(client, world)
    assert report.state == ReportState.submitted
    assert [line.claimed for line in report.lines] == [50_000_000, 40_000_000]


def test_bad_lines_are_shown_beside_their_fields_and_nothing_is_saved(
    app: Flask, client: FlaskClient
) -> None:
    world = _world()
    login(client, world.applicant.email)
    url = f"/grants/{world.grant.id}/settlement/fy{LAST_FY}"
    # the form reads the amounts; the service checks the rows that were typed in
    unreadable = {**_lines(("equipment", "", ""), ("equipment", "Sushi", "-5")), "action": "save"}
    response = post_form(client, url, unreadable)
    assert response.status_code == 422
    assert 'id="lines-1-claimed-error"' in response.get_data(as_text=True)
    data = {
        **_lines(("equipment", "", ""), ("lunch", "Sushi", "5"), ("equipment", "Tips", "")),
        "action": "save",
    }
    response = post_form(client, url, data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="lines-1-category-error"' in page
    assert 'id="lines-2-claimed-error"' in page
    assert db.session.query(ResultsReport).count() == 0


def test_a_period_not_ended_is_refused(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, world.applicant.email)
    url = f"/grants/{world.grant.id}/settlement/fy{LAST_FY + 1}"
    response = post_form(client, url, {**_lines(("equipment", "x", "1")), "action": "save"})
    assert response.status_code == 422
    assert db.session.query(ResultsReport).count() == 0


def test_two_officers_settle_and_everyone_reads_the_notices(
    app: Flask, client: FlaskClient
) -> None:
    world = _world()
    report = _file(client, world)
    post_form(client, "/logout", {})
    inspector, confirmer = officer(), officer()
    login(client, inspector.email)
    assert client.get("/settlement").status_code == 200
    url = f"/settlement/reports/{report.id}"
    response = post_form(
        client,
        f"{url}/inspect",
        {
            "lines-0-accepted": "5,000万",
            "lines-1-accepted": "4,000万",
            "lines-0-reason": "",
            "lines-1-reason": "",
        },
    )
    assert response.status_code == 302
    assert post_form(client, f"{url}/confirm", {}).status_code == 403  # the inspector
    post_form(client, "/logout", {})
    login(client, confirmer.email)
    assert post_form(client, f"{url}/confirm", {}).status_code == 302
    settlement = db.session.query(Settlement).one()
    assert settlement.final_amount == 78_000_000
    page = client.get(url).get_data(as_text=True)
    assert "7,800万円" in page
    for lang in ("", "?lang=en"):
        pdf = client.get(f"/settlement/final-amounts/{settlement.id}/notice.pdf{lang}")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        assert pdf.mimetype == "application/pdf"
    ledger = client.get("/settlement/ledger.csv", buffered=True)
    rows = list(csv.reader(io.StringIO(ledger.data.decode("utf-8-sig"))))
    assert rows[1][4:8] == ["equipment", "物品費", "50000000", "50000000"]
    assert rows[-1][4] == "indirect" and rows[-1][7] == "27000000"
    post_form(client, "/logout", {})
    login(client, world.applicant.email)
    decision = client.get(f"/grants/{world.grant.id}/notices/decision.pdf")
    assert decision.status_code == 200 and decision.data.startswith(b"%PDF")
    reads = db.session.query(AuditEvent).filter_by(action="settlement.notice_read").count()
    assert reads == 3
    assert client.get("/settlement/ledger.csv").status_code == 403


def test_a_reviewer_and_another_grantee_get_no_notice(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, world.reviewers[0].email)
    assert client.get(f"/grants/{world.grant.id}/notices/decision.pdf").status_code == 403


def test_the_grantee_reads_what_the_fund_carried_over(app: Flask, client: FlaskClient) -> None:
    world = _world()
    login(client, world.applicant.email)
    claimed = [*lines(5_000 * MAN), *lines(4_000 * MAN, category="personnel")]
    confirmed = settle_period(world, f"fy{LAST_FY}", claimed, 3_000 * MAN, TODAY)
    assert confirmed.carried == 2_200 * MAN
    page = client.get(f"/grants/{world.grant.id}/settlement").get_data(as_text=True)
    row = page.split(f'id="period-fy{LAST_FY}"')[1].split("</tr>")[0]
    assert "うち2,200万円を次のマイルストーンに繰り越し" in row
