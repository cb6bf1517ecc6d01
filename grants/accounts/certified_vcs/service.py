"""Use cases for 認定VC: certifying venture-capital organisations and revoking certifications.

A certification covers the days from `certified_on` up to and including `expires_on`
(open-ended when None), and stops covering on `revoked_on` itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.certified_vcs.queries import may_revoke
from grants.accounts.certified_vcs.rules import CertificationLine, read_list
from grants.accounts.models import Organization
from grants.accounts.rules import corporate_number_error, normalize_corporate_number
from grants.accounts.service import corporate_number_message
from grants.core import audit
from grants.core.actors import Actor
from grants.core.audit import Named
from grants.core.calendar import Day
from grants.core.db import use_case
from grants.core.errors import Conflict, NotFound, RuleViolation
from grants.core.identity import OrgKind
from grants.core.permissions import Action, Subject, require
from grants.core.problems import N_, Problem, problem_of
from grants.extensions import db

NOTE_MAX = 500
CERTIFIED = "certified"
REVOKED = "revoked"
EXPIRED = "expired"
NOT_CERTIFIED = "not_certified"


@use_case
def certify_vc(
    actor: Actor,
    organization_id: int,
    certified_on: date,
    expires_on: date | None = None,
    note: str | None = None,
) -> VcCertification:
    require(Action.manage_certified_vcs, Subject(role=actor.role))
    note = (note or "").strip() or None
    _check_certification(organization_id, certified_on, expires_on, note)
    certification = VcCertification(
        organization_id=organization_id,
        certified_on=certified_on,
        expires_on=expires_on,
        note=note,
    )
    db.session.add(certification)
    audit.record(
        actor, "vc_certification.create", certification, after=certification_snapshot(certification)
    )
    db.session.commit()
    return certification


@use_case
def revoke_certification(
    actor: Actor, certification_id: int, revoked_on: date, note: str | None = None
) -> VcCertification:
    """Revoke from `revoked_on` on; the reason is appended to the certification's note."""
    require(Action.manage_certified_vcs, Subject(role=actor.role))
    certification = db.session.scalar(
        select(VcCertification).where(VcCertification.id == certification_id).with_for_update()
    )
    if certification is None:
        raise NotFound(N_("Not found."))
    if not may_revoke(certification):
        raise Conflict(N_("This certification has already been revoked."))
    combined = _combined_note(certification.note, note)
    _check_revocation(certification, revoked_on, combined)
    before = certification_snapshot(certification)
    certification.revoked_on = revoked_on
    certification.note = combined
    after = certification_snapshot(certification)
    audit.record(actor, "vc_certification.revoke", certification, before, after)
    db.session.commit()
    return certification


def vc_organizations() -> list[Organization]:
    query = select(Organization).where(Organization.kind == OrgKind.vc)
    return list(db.session.scalars(query.order_by(Organization.name)))


def history_by_org(org_ids: Iterable[int]) -> dict[int, list[VcCertification]]:
    """Each organisation's certifications, newest first."""
    found: dict[int, list[VcCertification]] = defaultdict(list)
    ids = set(org_ids)
    if ids:
        query = select(VcCertification).where(VcCertification.organization_id.in_(ids))
        order = (VcCertification.certified_on.desc(), VcCertification.id.desc())
        for certification in db.session.scalars(query.order_by(*order)):
            found[certification.organization_id].append(certification)
    return found


def certification_status(org: Organization, on: date) -> str:
    """One of "certified", "revoked", "expired", "not_certified" on the day `on`, for display."""
    return status_from(history_by_org([org.id])[org.id], on)


def status_from(certifications: Sequence[VcCertification], on: date) -> str:
    started = sorted(
        (c for c in certifications if c.certified_on <= on), key=lambda c: c.certified_on
    )
    if any(covers(c, on) for c in started):
        return CERTIFIED
    if not started:
        return NOT_CERTIFIED
    latest = started[-1]
    return REVOKED if latest.revoked_on is not None and latest.revoked_on <= on else EXPIRED


def covers(certification: VcCertification, on: date) -> bool:
    last = _last_day(certification)
    return certification.certified_on <= on and (last is None or on <= last)


def _last_day(certification: VcCertification) -> date | None:
    """The last day covered, None when open-ended; before `certified_on` when never in force."""
    ends = [certification.expires_on]
    if certification.revoked_on is not None:
        ends.append(certification.revoked_on - timedelta(days=1))
    known = [day for day in ends if day is not None]
    return min(known) if known else None


def _check_certification(
    organization_id: int, certified_on: date, expires_on: date | None, note: str | None
) -> None:
    errors: dict[str, list[Problem]] = {}
    # Locking the organisation serialises certifications of one VC (overlap check below).
    org = db.session.scalar(
        select(Organization).where(Organization.id == organization_id).with_for_update()
    )
    if org is None or org.kind != OrgKind.vc:
        errors["organization_id"] = [N_("Choose a venture-capital organization.")]
    if expires_on is not None and expires_on <= certified_on:
        errors["expires_on"] = [N_("A certification must expire after the day it starts.")]
    if note is not None and len(note) > NOTE_MAX:
        errors["note"] = [N_("At most %(n)d characters.", n=NOTE_MAX)]
    if not errors and (clash := _overlapping(organization_id, certified_on, expires_on)):
        errors["certified_on"] = [
            N_(
                "This period overlaps the certification that started on %(day)s.",
                day=Day(clash.certified_on),
            )
        ]
    if errors:
        raise RuleViolation(N_("The certification could not be saved."), errors)


def _overlapping(
    organization_id: int, certified_on: date, expires_on: date | None
) -> VcCertification | None:
    query = select(VcCertification).where(VcCertification.organization_id == organization_id)
    for existing in db.session.scalars(query):
        last = _last_day(existing)
        if last is not None and last < existing.certified_on:
            continue  # revoked on its first day: it never covered anything
        starts_before_end = expires_on is None or existing.certified_on <= expires_on
        ends_after_start = last is None or last >= certified_on
        if starts_before_end and ends_after_start:
            return existing
    return None


def _combined_note(existing: str | None, addition: str | None) -> str | None:
    addition = (addition or "").strip()
    parts = [part for part in (existing, addition) if part]
    return "\n".join(parts) or None


def _check_revocation(certification: VcCertification, revoked_on: date, note: str | None) -> None:
    errors: dict[str, list[Problem]] = {}
    if revoked_on < certification.certified_on:
        errors["revoked_on"] = [N_("A certification cannot be revoked before it starts.")]
    if note is not None and len(note) > NOTE_MAX:
        errors["note"] = [
            N_("The notes of a certification have at most %(n)d characters in all.", n=NOTE_MAX)
        ]
    if errors:
        raise RuleViolation(N_("The certification could not be revoked."), errors)


def certification_snapshot(certification: VcCertification) -> dict[str, Any]:
    return {
        "organization_id": certification.organization_id,
        "certified_on": certification.certified_on.isoformat(),
        "expires_on": _iso(certification.expires_on),
        "revoked_on": _iso(certification.revoked_on),
        "note": certification.note,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- importing a certified-VC list -------------------------------------------------------

CERTIFY = "certify"  # the line's certification is recorded
UNCHANGED = "unchanged"  # the same certification is on record already: nothing to do
REFUSED = "refused"  # the line is wrong (its problems say why): nothing is recorded


@dataclass(frozen=True)
class ImportedLine:
    """One line of a certified-VC list and what the import does with it."""

    line: CertificationLine
    organization: Organization | None
    outcome: str  # CERTIFY, UNCHANGED or REFUSED
    problems: dict[str, list[str]]


class ImportRefused(RuleViolation):
    """A line is wrong: nothing is recorded. Every line's outcome is in `lines`."""

    def __init__(self, message: str, fields: dict[str, list[str]], lines: list[ImportedLine]):
        super().__init__(message, fields)
        self.lines = lines


@use_case
def import_certifications(actor: Actor, data: bytes) -> list[ImportedLine]:
    """Record the certifications of a certified-VC list (rules.read_list), all or nothing:
    when any line is wrong (an unknown VC, a bad date, a period overlapping another) nothing
    is written and ImportRefused reports every line's outcome. A line whose certification is
    on record already changes nothing."""
    require(Action.manage_certified_vcs, Subject(role=actor.role))
    try:
        lines = read_list(data)
    except ValueError as error:
        message = problem_of(error)
        raise RuleViolation(message, {"file": [message]}) from None
    if not lines:
        message = N_("The file names the columns but lists no certification.")
        raise RuleViolation(message, {"file": [message]})
    organizations = _vcs_by_number(line.corporate_number for line in lines)
    history = history_by_org(org.id for org in organizations.values())
    imported = _outcomes(lines, organizations, history)
    refused = [item for item in imported if item.outcome == REFUSED]
    if refused:
        raise ImportRefused(
            N_(
                "Nothing was imported: %(num)d of %(total)d lines are wrong.",
                num=len(refused),
                total=len(imported),
            ),
            {
                f"lines.{item.line.number}.{column}": messages
                for item in refused
                for column, messages in item.problems.items()
            },
            imported,
        )
    _record(actor, imported)
    db.session.commit()
    return imported


def _vcs_by_number(numbers: Iterable[str]) -> dict[str, Organization]:
    """The organisations with these corporate numbers, locked in id order (as certify_vc
    locks one: concurrent certifications of a VC queue)."""
    wanted = {normalize_corporate_number(number) for number in numbers} - {""}
    if not wanted:
        return {}
    query = (
        select(Organization)
        .where(Organization.corporate_number.in_(wanted))
        .order_by(Organization.id)
        .with_for_update()
    )
    return {org.corporate_number or "": org for org in db.session.scalars(query)}


def _outcomes(
    lines: list[CertificationLine],
    organizations: dict[str, Organization],
    history: dict[int, list[VcCertification]],
) -> list[ImportedLine]:
    accepted: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    outcomes = []
    for line in lines:
        problems = {column: list(messages) for column, messages in line.problems.items()}
        org = _organization(line, organizations, problems)
        outcome = REFUSED
        if not problems and org is not None and line.certified_on is not None:
            outcome = _fit(line, history[org.id], accepted[org.id], problems)
        outcomes.append(ImportedLine(line, org, outcome, problems))
    return outcomes


def _organization(
    line: CertificationLine,
    organizations: dict[str, Organization],
    problems: dict[str, list[str]],
) -> Organization | None:
    number = normalize_corporate_number(line.corporate_number)
    if not number:
        problems.setdefault("corporate_number", []).append(N_("A corporate number is required."))
        return None
    if problem := corporate_number_error(number):
        problems.setdefault("corporate_number", []).append(corporate_number_message(problem))
        return None
    org = organizations.get(number)
    if org is None or org.kind != OrgKind.vc:
        problems.setdefault("corporate_number", []).append(
            N_("No venture-capital organization has this corporate number: add it first.")
        )
        return None
    return org


def _fit(
    line: CertificationLine,
    existing: list[VcCertification],
    accepted: list[tuple[date, date | None]],
    problems: dict[str, list[str]],
) -> str:
    """UNCHANGED for a certification on record already, CERTIFY when the period overlaps no
    other (on record, or on an earlier line of the file), REFUSED otherwise."""
    start, end = line.certified_on, line.expires_on
    assert start is not None  # read without a problem
    if any(
        c.certified_on == start and c.expires_on == end and c.revoked_on is None for c in existing
    ):
        return UNCHANGED
    periods = [(c.certified_on, _last_day(c)) for c in existing if _ever_covered(c)]
    for first, last in [*periods, *accepted]:
        if (end is None or first <= end) and (last is None or last >= start):
            problems.setdefault("certified_on", []).append(
                N_(
                    "This period overlaps the certification that started on %(day)s.",
                    day=Day(first),
                )
            )
            return REFUSED
    accepted.append((start, end))
    return CERTIFY


def _ever_covered(certification: VcCertification) -> bool:
    last = _last_day(certification)
    return last is None or last >= certification.certified_on


def _record(actor: Actor, imported: list[ImportedLine]) -> None:
    created = 0
    for item in imported:
        if item.outcome != CERTIFY or item.organization is None:
            continue
        assert item.line.certified_on is not None  # checked
        certification = VcCertification(
            organization_id=item.organization.id,
            certified_on=item.line.certified_on,
            expires_on=item.line.expires_on,
            note=item.line.note,
        )
        db.session.add(certification)
        after = certification_snapshot(certification) | {"line": item.line.number}
        audit.record(actor, "vc_certification.create", certification, after=after)
        created += 1
    summary = {"lines": len(imported), "certified": created, "unchanged": len(imported) - created}
    audit.record(
        actor, "vc_certification.import", Named("vc_certification", "import"), after=summary
    )
