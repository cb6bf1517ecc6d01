"""Reads are audited: evidence downloads and previews, exports (streamed and prepared), and
administrators' looks at people's accounts."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.accounts.models import User
from grants.awards.models import EvidenceFile
from grants.core.identity import Role
from grants.core.models import AuditEvent
from grants.extensions import db
from grants.milestones.evidence import service as evidence
from grants.tasks.rules import TaskKind, TaskState
from tests.support.api import api_as
from tests.support.factories import make_user, uploads
from tests.support.grants import GrantWorld, make_grant
from tests.support.tasks import make_task, task_settings
from tests.support.web import login

CSV = '指標,値\r\n=HYPERLINK("x"),8\r\n'.encode()


@pytest.fixture
def world(app: Flask) -> GrantWorld:
    world = make_grant()
    evidence.submit_evidence(
        world.applicant,
        world.milestones[0].id,
        "IC50 reached 8 nM.",
        {0: "8"},
        [("結果.csv", io.BytesIO(CSV), "text/csv")],
        date(2026, 9, 1),
        upload_folder=uploads(),
    )
    return world


def _reads(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def _file_id() -> int:
    return db.session.scalars(select(EvidenceFile.id)).one()


def test_an_evidence_download_and_preview_are_audited(
    world: GrantWorld, client: FlaskClient
) -> None:
    officer = make_user(Role.officer)
    login(client, officer.email)
    file_id = _file_id()
    response = client.get(f"/evidence/files/{file_id}")
    assert response.status_code == 200 and response.data == CSV
    response.close()
    [download] = _reads("evidence_file.download")
    assert (download.actor_id, download.object_type, download.object_id) == (
        officer.id,
        "evidence_file",
        str(file_id),
    )
    assert download.after["name"] == "結果.csv"
    assert download.after["milestone_id"] == world.milestones[0].id
    assert client.get(f"/evidence/files/{file_id}/preview").status_code == 200
    [preview] = _reads("evidence_file.preview")
    assert preview.actor_id == officer.id


def test_the_api_download_is_audited_and_a_refused_one_is_not(
    world: GrantWorld, client: FlaskClient
) -> None:
    file_id = _file_id()
    stranger = api_as(client, Role.reviewer)  # not assigned to the grant
    assert stranger.get(f"/api/v1/evidence-files/{file_id}").status_code == 404
    assert _reads("evidence_file.download") == []
    reviewer = api_as(client, Role.officer)
    response = reviewer.get(f"/api/v1/evidence-files/{file_id}")
    assert response.status_code == 200
    response.close()
    assert [e.actor_id for e in _reads("evidence_file.download")] == [reviewer.user.id]


def test_streamed_exports_are_audited_with_their_filters(
    world: GrantWorld, client: FlaskClient
) -> None:
    officer = make_user(Role.officer)
    login(client, officer.email)
    # the streamed body is read inside the request, as a WSGI server does
    path = f"/officer/exports/milestones.csv?program_id={world.program.id}"
    response = client.get(path, buffered=True)
    assert response.status_code == 200 and world.grant.number in response.get_data(as_text=True)
    api = api_as(client, Role.admin)
    response = api.get("/api/v1/exports/disbursements.csv?fiscal_year=2026", buffered=True)
    assert response.status_code == 200 and response.get_data()
    web, by_api = _reads("export.download")
    assert (web.actor_id, web.object_type, web.object_id) == (officer.id, "export", "milestones")
    assert web.after["program_id"] == world.program.id
    assert (by_api.actor_id, by_api.object_id) == (api.user.id, "disbursements")
    assert by_api.after["fiscal_year"] == 2026
    refused = api_as(client, Role.applicant).get("/api/v1/exports/disbursements.csv")
    assert refused.status_code == 403
    assert len(_reads("export.download")) == 2


def test_a_prepared_export_is_audited_when_it_is_taken(app: Flask, client: FlaskClient) -> None:
    officer = make_user(Role.officer)
    folder = task_settings().result_folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prepared.csv").write_bytes(b"\xef\xbb\xbfa\r\n")
    task = make_task(
        officer,
        TaskKind.export_disbursements,
        TaskState.done,
        file_name="prepared.csv",
        result={"filename": "disbursements.csv"},
    )
    login(client, officer.email)
    response = client.get(f"/tasks/{task.id}/download")
    assert response.status_code == 200
    response.close()
    [taken] = _reads("background_task.download")
    assert (taken.actor_id, taken.object_type, taken.object_id) == (
        officer.id,
        "background_task",
        str(task.id),
    )
    assert taken.after["filename"] == "disbursements.csv"


def test_administrators_looks_at_accounts_are_audited(app: Flask, client: FlaskClient) -> None:
    admin = make_user(Role.admin)
    person = make_user(Role.applicant)
    login(client, admin.email)
    assert client.get("/admin/users?q=example").status_code == 200
    [listed] = _reads("user.list")
    assert listed.actor_id == admin.id and listed.after["search"] == "example"
    assert set(listed.after["user_ids"]) == {admin.id, person.id}
    assert client.get(f"/admin/users/{person.id}").status_code == 200
    [viewed] = _reads("user.view")
    assert (viewed.actor_id, viewed.object_type, viewed.object_id) == (
        admin.id,
        "user_account",
        str(person.id),
    )
    assert client.get("/admin/users/999999").status_code == 404
    assert len(_reads("user.view")) == 1


def test_the_account_list_reads_its_page_in_a_fixed_number_of_statements(
    app: Flask, client: FlaskClient
) -> None:
    from tests.support.queries import count_queries

    admin = make_user(Role.admin)
    login(client, admin.email)

    def statements() -> int:
        with count_queries() as sent:
            assert client.get("/admin/users").status_code == 200
        return len(sent)

    few = statements()
    for _ in range(12):
        make_user(Role.reviewer)
    assert statements() == few
    assert db.session.scalar(select(User.id).where(User.id == admin.id)) == admin.id
