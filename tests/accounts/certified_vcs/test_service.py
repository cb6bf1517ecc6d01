"""認定VC certifications: certifying, overlap, revocation, status for display."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from grants.accounts.certified_vcs import service as certifications
from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.certified_vcs.service import certification_status
from grants.core.errors import Conflict, NotAllowed, NotFound, RuleViolation
from grants.core.identity import OrgKind, Role
from grants.core.models import AuditEvent
from grants.extensions import db
from tests.support.factories import make_org, make_user
from tests.support.i18n import said
from tests.support.programs import make_certified_vc

D = date


def _fields(call, *args: object) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleViolation) as caught:
        call(make_user(Role.admin), *args)
    return caught.value.fields


def test_admin_certifies_a_vc_and_an_audit_row_is_written(app: Flask) -> None:
    vc = make_org(OrgKind.vc)
    admin = make_user(Role.admin)
    cert = certifications.certify_vc(admin, vc.id, D(2024, 4, 1), D(2027, 3, 31), "  第3回公募 ")
    assert (cert.organization_id, cert.note, cert.revoked_on) == (vc.id, "第3回公募", None)
    event = db.session.query(AuditEvent).filter_by(action="vc_certification.create").one()
    assert event.actor_id == admin.id and event.object_id == str(cert.id)
    assert event.after == {
        "organization_id": vc.id,
        "certified_on": "2024-04-01",
        "expires_on": "2027-03-31",
        "revoked_on": None,
        "note": "第3回公募",
    }


@pytest.mark.parametrize("kind", [OrgKind.startup, OrgKind.university, OrgKind.company])
def test_only_vc_organisations_can_be_certified(app: Flask, kind: OrgKind) -> None:
    org = make_org(kind)
    assert list(_fields(certifications.certify_vc, org.id, D(2024, 1, 1))) == ["organization_id"]
    assert db.session.query(VcCertification).count() == 0


def test_unknown_organisation_is_a_field_error(app: Flask) -> None:
    assert "organization_id" in _fields(certifications.certify_vc, 999_999, D(2024, 1, 1))


@pytest.mark.parametrize("expires_on", [D(2024, 1, 1), D(2023, 12, 31)])
def test_expiry_must_come_after_the_start(app: Flask, expires_on: date) -> None:
    vc = make_org(OrgKind.vc)
    fields = _fields(certifications.certify_vc, vc.id, D(2024, 1, 1), expires_on)
    assert list(fields) == ["expires_on"]


def test_a_note_is_limited_to_500_characters(app: Flask) -> None:
    vc = make_org(OrgKind.vc)
    fields = _fields(certifications.certify_vc, vc.id, D(2024, 1, 1), None, "x" * 501)
    assert list(fields) == ["note"]
    assert make_certified_vc(vc, note="x" * 500).note == "x" * 500


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (D(2025, 1, 1), None),  # inside an open-ended certification
        (D(2019, 1, 1), None),  # open-ended, starting earlier
        (D(2019, 1, 1), D(2020, 1, 1)),  # ends on the day the existing one starts
    ],
)
def test_an_overlapping_certification_is_refused(app: Flask, start: date, end: date | None) -> None:
    existing = make_certified_vc(certified_on=D(2020, 1, 1))
    fields = _fields(certifications.certify_vc, existing.organization_id, start, end)
    assert list(fields) == ["certified_on"] and "2020年1月1日" in said(fields["certified_on"][0])
    assert db.session.query(VcCertification).count() == 1


def test_periods_that_do_not_overlap_are_accepted(app: Flask) -> None:
    first = make_certified_vc(certified_on=D(2020, 1, 1), expires_on=D(2022, 12, 31))
    vc = first.organization
    make_certified_vc(vc, certified_on=D(2023, 1, 1), expires_on=D(2024, 1, 1))
    make_certified_vc(vc, certified_on=D(2018, 1, 1), expires_on=D(2019, 12, 31))
    revoked = make_certified_vc(vc, certified_on=D(2025, 1, 1))
    certifications.revoke_certification(make_user(Role.admin), revoked.id, D(2025, 6, 1))
    # The revocation ends coverage on 2025-06-01 itself, so a new period may start that day.
    make_certified_vc(vc, certified_on=D(2025, 6, 1))
    assert db.session.query(VcCertification).count() == 5


def test_a_certification_of_another_vc_does_not_overlap(app: Flask) -> None:
    make_certified_vc(certified_on=D(2020, 1, 1))
    assert make_certified_vc(certified_on=D(2020, 1, 1)).id


def test_revocation_is_recorded_with_its_note(app: Flask) -> None:
    cert = make_certified_vc(certified_on=D(2020, 1, 1), note="認定")
    admin = make_user(Role.admin)
    certifications.revoke_certification(admin, cert.id, D(2025, 10, 1), "中間評価で取消")
    db.session.refresh(cert)
    assert cert.revoked_on == D(2025, 10, 1) and cert.note == "認定\n中間評価で取消"
    event = db.session.query(AuditEvent).filter_by(action="vc_certification.revoke").one()
    assert event.before["revoked_on"] is None and event.after["revoked_on"] == "2025-10-01"


def test_revoking_twice_is_a_conflict(app: Flask) -> None:
    cert = make_certified_vc(certified_on=D(2020, 1, 1))
    admin = make_user(Role.admin)
    certifications.revoke_certification(admin, cert.id, D(2025, 10, 1))
    with pytest.raises(Conflict):
        certifications.revoke_certification(admin, cert.id, D(2025, 11, 1))
    db.session.rollback()
    db.session.refresh(cert)
    assert cert.revoked_on == D(2025, 10, 1)


def test_revocation_before_the_start_is_refused(app: Flask) -> None:
    cert = make_certified_vc(certified_on=D(2020, 1, 1))
    fields = _fields(certifications.revoke_certification, cert.id, D(2019, 12, 31), None)
    assert list(fields) == ["revoked_on"]
    db.session.rollback()
    db.session.refresh(cert)
    assert cert.revoked_on is None
    certifications.revoke_certification(make_user(Role.admin), cert.id, D(2020, 1, 1))


def test_combined_notes_are_limited(app: Flask) -> None:
    cert = make_certified_vc(note="x" * 400)
    fields = _fields(certifications.revoke_certification, cert.id, D(2025, 1, 1), "y" * 100)
    assert list(fields) == ["note"]


def test_revoking_an_unknown_certification_is_not_found(app: Flask) -> None:
    with pytest.raises(NotFound):
        certifications.revoke_certification(make_user(Role.admin), 999_999, D(2025, 1, 1))


@pytest.mark.parametrize("role", [Role.applicant, Role.reviewer, Role.officer])
def test_other_roles_may_not_manage_certifications(app: Flask, role: Role) -> None:
    cert = make_certified_vc()
    user = make_user(role)
    with pytest.raises(NotAllowed):
        certifications.certify_vc(user, make_org(OrgKind.vc).id, D(2024, 1, 1))
    with pytest.raises(NotAllowed):
        certifications.revoke_certification(user, cert.id, D(2025, 1, 1))
    db.session.rollback()
    assert db.session.query(VcCertification).count() == 1
    assert db.session.get(VcCertification, cert.id).revoked_on is None


def test_status_on_a_day(app: Flask) -> None:
    vc = make_org(OrgKind.vc)
    assert certification_status(vc, D(2025, 1, 1)) == "not_certified"
    make_certified_vc(vc, certified_on=D(2020, 1, 1), expires_on=D(2022, 3, 31))
    assert certification_status(vc, D(2019, 12, 31)) == "not_certified"
    assert certification_status(vc, D(2020, 1, 1)) == "certified"
    assert certification_status(vc, D(2022, 3, 31)) == "certified"
    assert certification_status(vc, D(2022, 4, 1)) == "expired"
    second = make_certified_vc(vc, certified_on=D(2023, 1, 1))
    assert certification_status(vc, D(2022, 12, 31)) == "expired"
    assert certification_status(vc, D(2030, 1, 1)) == "certified"
    certifications.revoke_certification(make_user(Role.admin), second.id, D(2025, 10, 1))
    assert certification_status(vc, D(2025, 9, 30)) == "certified"
    assert certification_status(vc, D(2025, 10, 1)) == "revoked"


def test_vc_organizations_lists_only_vcs(app: Flask) -> None:
    vc = make_org(OrgKind.vc)
    make_org(OrgKind.startup)
    assert certifications.vc_organizations() == [vc]
