"""Every use case that changes what the scan reads is seen by the next incremental scan.

The scan of a day is run first; then one use case changes something, and a rerun on the
same day reads only the milestones that the rows stamped since touch (what reached a tier
since that day is nothing on the same day). It must find what a scan reading everything
would: after it, a whole scan has nothing left to create, flag or clear.

The list follows what the scan's statements read (alerts/scan/statements.py, flags.py):
milestones, grants, evidence submissions, reviews, reviewer assignments, disbursements,
conflict declarations, users, co-investments and rule sets. The last test checks that
every table they read is stamped and read back by the changes query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.dialects import sqlite

from grants.accounts import service as accounts
from grants.accounts.models import User
from grants.alerts.scan import changes, flags, statements
from grants.alerts.scan.passes import Pass, Reads
from grants.alerts.scan.service import ScanReport
from grants.amendments import service as amendments
from grants.awards import service as awards
from grants.awards.models import EvidenceSubmission, Grant, Milestone, ReviewerAssignment
from grants.awards.termination import service as terminations
from grants.core import changes as changes_of_data
from grants.core.identity import Role
from grants.extensions import db
from grants.milestones.assignments import queries as assignment_queries
from grants.milestones.assignments import service as assignments
from grants.milestones.evidence import service as evidence
from grants.milestones.reviews import service as reviews
from grants.releases import service as releases
from grants.rules.engine import default_schedule
from tests.support.alerts import run_scan, staff
from tests.support.applications import make_pools, screened_application
from tests.support.approvals import approve
from tests.support.factories import make_user, uploads
from tests.support.grants import GrantWorld, make_grant

TODAY = date(2026, 10, 20)  # the first milestone (due 30 Sep) is overdue
SUBMITTED = date(2026, 9, 25)


@dataclass
class Expect:
    """What the rerun after the use case does: the milestones it reads (None: those of the
    grant), and what it creates, flags and clears."""

    changed: set[int] | None = None
    created: dict[str, int] = field(default_factory=dict)
    flagged: int = 0
    cleared: int = 0


Case = tuple[Callable[[GrantWorld], None], Callable[[GrantWorld], Expect]]


def _nothing(_world: GrantWorld) -> None:
    return None


def _first(world: GrantWorld) -> Milestone:
    return world.milestones[0]


def _submit(world: GrantWorld, day: date = SUBMITTED) -> None:
    evidence.submit_evidence(
        world.applicant, _first(world).id, "Done.", {0: "8"}, [], day, upload_folder=uploads()
    )


def _decide_all(world: GrantWorld, decision: str) -> None:
    for reviewer in world.reviewers:
        reviews.decide(reviewer, _first(world).id, decision, "Noted.", TODAY)


def _sent_back(world: GrantWorld) -> None:
    _submit(world)
    _decide_all(world, "request_changes")


def _submits(world: GrantWorld) -> Expect:
    _submit(world, TODAY)  # the overdue milestone's evidence, at last (its flag cleared too)
    return Expect({_first(world).id})


def _sends_back(world: GrantWorld) -> Expect:
    _decide_all(world, "request_changes")  # past its due date: overdue again
    return Expect({_first(world).id}, {"overdue": 2, "escalation": 1}, flagged=1)


def _approves(world: GrantWorld) -> Expect:
    _decide_all(world, "approve")
    return Expect({_first(world).id})


def _assigns(world: GrantWorld) -> Expect:
    assignments.assign_reviewer(_officer(world), world.grant.id, make_user(Role.reviewer).id, TODAY)
    return Expect()


def _unassigns(world: GrantWorld) -> Expect:
    assignments.unassign_reviewer(_officer(world), world.grant.id, world.reviewers[0].id)
    return Expect(set())  # fewer alerts can be due, never more: nothing to read


def _declares(world: GrantWorld) -> Expect:
    assignments.declare_conflict(world.reviewers[0], None, world.grant.id, "My former lab.")
    return Expect()


def _submitted_while_conflicted(world: GrantWorld) -> None:
    """Evidence waiting since 25 Sep (past the review-waiting reminder), one reviewer
    conflicted."""
    assignments.declare_conflict(world.reviewers[0], None, world.grant.id, "My former lab.")
    _submit(world)
    waiting_since = datetime(2026, 9, 25, 3, tzinfo=UTC)
    db.session.execute(update(EvidenceSubmission).values(submitted_at=waiting_since))
    db.session.execute(update(ReviewerAssignment).values(assigned_at=waiting_since))
    db.session.commit()


def _withdraws(world: GrantWorld) -> Expect:
    reviewer = world.reviewers[0]
    declaration = assignment_queries.declarations_of(reviewer)[0]
    assignments.withdraw_conflict(reviewer, declaration.id)
    # no longer conflicted: chased about the evidence waiting since 25 Sep, as a whole scan
    # would chase them, although the declaration's row is gone
    return Expect(created={"review_waiting": 1})


def _deactivates(world: GrantWorld) -> Expect:
    reviewer = world.reviewers[0]
    data = accounts.UserData(reviewer.email, reviewer.name, Role.reviewer, active=False)
    accounts.update_user(staff(Role.admin), reviewer.id, data)
    return Expect()


def _releases(world: GrantWorld) -> Expect:
    releases.release(_officer(world), _first(world).id, TODAY)
    return Expect({_first(world).id})


def _moves(world: GrantWorld) -> Expect:
    asked = amendments.request_amendment(
        world.applicant, world.grant.id, "due_date", _first(world).id,
        date(2026, 10, 25), None, "The animal study slipped.", TODAY,
    )  # fmt: skip
    amendments.decide_amendment(_officer(world), asked.id, True, "Agreed.", TODAY)
    # due in five days (no longer overdue): reminded, as a whole scan would
    return Expect({_first(world).id}, {"due_soon": 1})


def _terminates(world: GrantWorld) -> Expect:
    terminations.terminate(_officer(world), world.grant.id, "No-go at the review.", TODAY)
    return Expect()


def _officer(world: GrantWorld) -> User:
    if world.officer is None:
        world.officer = staff(Role.officer)
    return world.officer


CASES: dict[str, Case] = {
    "evidence submitted": (_nothing, _submits),
    "evidence resubmitted": (_sent_back, _submits),
    "review sends back": (_submit, _sends_back),
    "review approves": (_submit, _approves),
    "reviewer assigned": (_nothing, _assigns),
    "reviewer unassigned": (_nothing, _unassigns),
    "conflict declared": (_nothing, _declares),
    "conflict withdrawn": (_submitted_while_conflicted, _withdraws),
    "reviewer deactivated": (_nothing, _deactivates),
    "tranche released": (lambda world: approve(world, _first(world)), _releases),
    "due date amended": (_nothing, _moves),
    "grant terminated": (_nothing, _terminates),
}


def _whole_read_finds_nothing() -> None:
    whole = run_scan(TODAY, whole=True)
    assert (whole.total, whole.flagged, whole.cleared) == (0, 0, 0)


def _created(report: ScanReport) -> dict[str, int]:
    return {str(kind): count for kind, count in report.created.items() if count}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_next_scan_sees_what_each_use_case_changed(app: Flask, name: str) -> None:
    world = make_grant()
    _officer(world)
    staff(Role.admin)
    make_grant(code="OTHER")  # whose milestones nothing changes
    prepare, act = CASES[name]
    prepare(world)
    run_scan(TODAY)
    assert run_scan(TODAY).unchanged  # the same day, nothing changed: nothing read
    before = changes_of_data.current(db.session())
    expect = act(world)
    assert changes_of_data.current(db.session()) > before  # it moved the data generation
    rerun = run_scan(TODAY)
    grant = {milestone.id for milestone in world.milestones}
    assert rerun.unchanged == (expect.changed == set())
    assert rerun.changed == len(grant if expect.changed is None else expect.changed), name
    assert (_created(rerun), rerun.flagged, rerun.cleared) == (
        expect.created,
        expect.flagged,
        expect.cleared,
    ), name
    _whole_read_finds_nothing()


def test_the_next_scan_sees_an_award(app: Flask) -> None:
    """A new grant's milestones, due soon already when it is awarded."""
    application = screened_application()
    make_pools(application.program)
    today = date(2026, 12, 10)  # its first milestone is due on 31 Dec
    run_scan(today)
    grant = awards.award(staff(Role.officer), application.application.id, today)
    rerun = run_scan(today)
    milestones = db.session.scalars(select(Milestone.id).where(Milestone.grant_id == grant.id))
    assert rerun.changed == len(list(milestones))
    assert _created(rerun) == {"due_soon": 1}
    whole = run_scan(today, whole=True)
    assert (whole.total, whole.flagged, whole.cleared) == (0, 0, 0)


def test_factory_rows_are_stamped_like_any_other(app: Flask) -> None:
    """Test data written directly keeps the invariant the use cases keep: stamped rows."""
    before = changes_of_data.current(db.session())
    world = make_grant()
    after = changes_of_data.current(db.session())
    grant = db.session.get(Grant, world.grant.id)
    assert grant is not None and before < grant.changed_in <= after
    assert changes.changed_milestones(before) == {m.id for m in world.milestones}


def _tables(sql: str) -> set[str]:
    return set(re.findall(r"(?:FROM|JOIN|UPDATE)\s+(\w+)", sql))


def test_every_table_the_scan_reads_is_stamped_and_read_back(app: Flask) -> None:
    schedule = default_schedule(app.config)
    staffed = {audience: (1,) for audience in statements.rules.STAFF_ROLES}
    template = Pass(schedule, (1,), TODAY, datetime(2026, 10, 20, tzinfo=UTC), staffed, 90)
    read: set[str] = set()
    for one in (template, replace(template, since=date(2026, 10, 1))):
        for statement in statements.inserts(one.shape()):
            read |= _tables(str(statement.compile(dialect=sqlite.dialect())))
    for reads in Reads:
        read |= _tables(str(flags._set(0, reads).compile(dialect=sqlite.dialect())))
    read -= {"alert"}  # the scan's own output
    assert {"milestone", "grant_award", "user_account", "co_investment"} <= read
    tables = db.metadata.tables
    assert all("changed_in" in tables[name].c for name in read), read
    back = _tables(str(changes._changed().compile(dialect=sqlite.dialect())))
    assert read <= back, read - back
    assert "rule_set" in back  # the schedules the scan reads from the pinned versions
