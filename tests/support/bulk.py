"""Many grants at once, bulk-inserted (executemany with explicit ids), for query counts and benches.

Milestones are laid out around `today`: past ones mostly approved and released, recent
ones submitted, sent back or overdue, future ones planned. One applicant organization
owns `own_grants` grants; one reviewer is assigned to `reviewed_grants` grants (and has
submitted milestones waiting in each); every grant also has two other reviewers and a
certified lead VC. Each role has a known e-mail address and the given password hash.
The executemany inserts stamp every row with the data generation (the columns' defaults,
core.changes), as the use cases' writes do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, text

from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import Organization, User
from grants.applications.models import Application, CoInvestment
from grants.awards.models import (
    Disbursement,
    EvidenceSubmission,
    Grant,
    Milestone,
    ReviewerAssignment,
)
from grants.core.calendar import fiscal_year
from grants.core.changes import GENERATION, moved
from grants.extensions import db
from grants.programs.models import BudgetPool, Program
from grants.rules import validate_ruleset
from grants.rules.presets import milestone_programme
from grants.rulesets.models import RuleSet

APPLICANT = "applicant@bulk.example.jp"
REVIEWER = "reviewer@bulk.example.jp"
OFFICER = "officer@bulk.example.jp"
OTHER_REVIEWERS = 30
HALF_YEAR = 182
_CHUNK = 5_000
_NOW = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
_MODELS: tuple[type[Any], ...] = (
    Program, RuleSet, BudgetPool, Organization, VcCertification, User, Application,
    CoInvestment, Grant, ReviewerAssignment, Milestone, EvidenceSubmission, Disbursement,
)  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    grants: int
    milestones_per_grant: int = 8
    own_grants: int = 5
    reviewed_grants: int = 20
    seed: int = 20260401


Rows = dict[str, list[dict[str, Any]]]


def populate(sizes: Sizes, today: date, password_hash: str) -> None:
    """Build and insert every row (committed; statistics refreshed on PostgreSQL)."""
    load(build(sizes, today, password_hash))


def build(sizes: Sizes, today: date, password_hash: str) -> Rows:
    rng = random.Random(sizes.seed)
    rows: Rows = {model.__tablename__: [] for model in _MODELS}
    rows["program"].append(_program())
    rows["rule_set"].append(_ruleset())
    span = sizes.milestones_per_grant * HALF_YEAR
    years = range(fiscal_year(today - timedelta(days=span)) - 1, fiscal_year(today) + 12)
    pools = {year: n for n, year in enumerate(years, start=1)}
    rows["budget_pool"] += [
        {"id": n, "program_id": 1, "fiscal_year": year, "appropriation": 10**15,
         "committed": 0, "released": 0}
        for year, n in pools.items()
    ]  # fmt: skip
    vc = _org(rows, "VC", "vc")
    rows["vc_certification"].append(
        {"id": 1, "organization_id": vc, "certified_on": date(2015, 4, 1), "created_at": _NOW}
    )
    own_org = _org(rows, "Applicant Co.", "startup")
    _user(rows, APPLICANT, "applicant", own_org, password_hash)
    officer = _user(rows, OFFICER, "officer", None, password_hash)
    reviewer = _user(rows, REVIEWER, "reviewer", None, password_hash)
    others = [
        _user(rows, f"reviewer{n}@bulk.example.jp", "reviewer", None, password_hash)
        for n in range(OTHER_REVIEWERS)
    ]
    step = max(sizes.grants // max(sizes.reviewed_grants, 1), 1)
    reviewed = set(range(1, sizes.grants + 1, step)[: sizes.reviewed_grants])
    org = own_org
    for grant_id in range(1, sizes.grants + 1):
        if grant_id > sizes.own_grants and (grant_id - sizes.own_grants) % 2 == 1:
            org = _org(rows, f"Grantee {grant_id}", "startup")
        start = today - timedelta(days=rng.randrange(-HALF_YEAR, span - HALF_YEAR))
        _grant(rows, grant_id, org, vc, start)
        panel = rng.sample(others, 2) + ([reviewer] if grant_id in reviewed else [])
        for reviewer_id in panel:
            rows["reviewer_assignment"].append(
                {"id": len(rows["reviewer_assignment"]) + 1, "grant_id": grant_id,
                 "reviewer_id": reviewer_id, "assigned_at": _NOW}
            )  # fmt: skip
        for sequence in range(1, sizes.milestones_per_grant + 1):
            due = start + timedelta(days=HALF_YEAR * (sequence - 1))
            waiting = grant_id in reviewed and sequence == 1
            _milestone(rows, rng, grant_id, sequence, due, today, pools, officer, waiting)
    _pending_applications(rows, sizes, own_org)
    return rows


def empty_tables() -> None:
    """Every table emptied, but for the data generation, which moves: emptying changes data
    like any writer, so that no figure kept before it is taken for one after it."""
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            if table is not GENERATION:
                conn.execute(table.delete())
        moved(conn)


def load(rows: Rows) -> None:
    for model in _MODELS:
        table, batch = model.__table__, rows[model.__tablename__]
        for start in range(0, len(batch), _CHUNK):
            db.session.execute(insert(table), batch[start : start + _CHUNK])
    if db.engine.dialect.name == "postgresql":
        for model in _MODELS:  # explicit ids were given: move the sequences past them
            name = model.__tablename__
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
                )
            )
    db.session.commit()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


# ---- rows -------------------------------------------------------------------------------------


def _program() -> dict[str, Any]:
    return {"id": 1, "code": "BULK", "name_ja": "一括", "name_en": "Bulk",
            "application_opens": date(2020, 4, 1), "application_closes": date(2040, 3, 31),
            "end_date": date(2045, 3, 31), "themes": ["amr"], "modalities": ["drug"],
            "created_at": _NOW}  # fmt: skip


def _ruleset() -> dict[str, Any]:
    return {"id": 1, "program_id": 1, "title": "v1", "status": "published", "version": 1,
            "effective_from": date(2020, 4, 1),
            "document": validate_ruleset(milestone_programme()),
            "created_at": _NOW, "updated_at": _NOW, "published_at": _NOW}  # fmt: skip


def _org(rows: Rows, name: str, kind: str) -> int:
    org_id = len(rows["organization"]) + 1
    rows["organization"].append(
        {"id": org_id, "name": f"{name} {org_id}", "kind": kind, "listed": False,
         "rd_base_in_japan": True, "created_at": _NOW}
    )  # fmt: skip
    return org_id


def _user(rows: Rows, email: str, role: str, org_id: int | None, password_hash: str) -> int:
    user_id = len(rows["user_account"]) + 1
    rows["user_account"].append(
        {"id": user_id, "email": email, "name": f"User {user_id}",
         "password_hash": password_hash, "role": role, "locale": "en", "active": True,
         "organization_id": org_id, "created_at": _NOW}
    )  # fmt: skip
    return user_id


def _application(rows: Rows, org_id: int, state: str, start: date, submitted: date | None) -> int:
    application_id = len(rows["application"]) + 1
    rows["application"].append(
        {"id": application_id, "program_id": 1, "organization_id": org_id,
         "title": f"Project {application_id}", "theme": "amr", "modality": "drug",
         "stage": "phase1", "eligible_cost": 12 * 10**8, "indirect_cost": 0,
         "requested_subsidy": 8 * 10**8, "project_start": start,
         "project_end": start + timedelta(days=5 * 365), "state": state,
         "submitted_on": submitted, "ruleset_id": 1, "created_at": _NOW, "updated_at": _NOW}
    )  # fmt: skip
    return application_id


def _grant(rows: Rows, grant_id: int, org_id: int, vc: int, start: date) -> None:
    application_id = _application(rows, org_id, "awarded", start, start - timedelta(days=60))
    rows["co_investment"].append(
        {"id": len(rows["co_investment"]) + 1, "application_id": application_id,
         "vc_organization_id": vc, "committed_amount": 8 * 10**8, "is_lead": True}
    )  # fmt: skip
    rows["grant_award"].append(
        {"id": grant_id, "number": f"BULK-{grant_id:06d}", "application_id": application_id,
         "program_id": 1, "organization_id": org_id, "ruleset_id": 1,
         "award_amount": 8 * 10**8, "state": "active" if grant_id % 20 else "suspended",
         "awarded_at": _NOW - timedelta(days=grant_id % 1000)}
    )  # fmt: skip


def _milestone(
    rows: Rows,
    rng: random.Random,
    grant_id: int,
    sequence: int,
    due: date,
    today: date,
    pools: dict[int, int],
    officer: int,
    waiting: bool,
) -> None:
    milestone_id = len(rows["milestone"]) + 1
    state, released = ("submitted", False) if waiting else _fate(rng, (today - due).days)
    decided = _instant(due + timedelta(days=20)) if state not in ("planned", "submitted") else None
    overdue = state in ("planned", "changes_requested") and (today - due).days > 7
    rows["milestone"].append(
        {"id": milestone_id, "grant_id": grant_id, "sequence": sequence,
         "title": f"Milestone {sequence}", "criteria": [], "due_date": due,
         "tranche_amount": 10**8, "fiscal_year": fiscal_year(due), "state": state,
         "round": 0 if state == "planned" else 1, "decided_at": decided,
         "released_at": decided if released else None,
         "overdue_since": due + timedelta(days=8) if overdue else None}
    )  # fmt: skip
    if state != "planned":
        rows["evidence_submission"].append(
            {"id": len(rows["evidence_submission"]) + 1, "milestone_id": milestone_id,
             "round": 1, "narrative": "-", "measured": [],
             "submitted_at": _instant(min(due, today) - timedelta(days=3))}
        )  # fmt: skip
    if released:
        rows["disbursement"].append(
            {"id": len(rows["disbursement"]) + 1, "milestone_id": milestone_id,
             "grant_id": grant_id, "budget_pool_id": pools[fiscal_year(due)],
             "amount": 10**8, "fiscal_year": fiscal_year(due), "released_by_id": officer,
             "released_at": decided}
        )  # fmt: skip


def _fate(rng: random.Random, age: int) -> tuple[str, bool]:
    """(state, released) of a milestone whose due date was `age` days ago."""
    if age < -30:
        return ("submitted", False) if rng.random() < 0.02 else ("planned", False)
    if age < 0:
        return rng.choices([("planned", False), ("submitted", False)], [85, 15])[0]
    if age < 90:
        return rng.choices(
            [("planned", False), ("changes_requested", False), ("submitted", False),
             ("approved", False), ("approved", True)],
            [15, 5, 30, 15, 35],
        )[0]  # fmt: skip
    return rng.choices(
        [("approved", True), ("approved", False), ("rejected", False), ("planned", False)],
        [93, 2, 2, 3],
    )[0]  # fmt: skip


def _pending_applications(rows: Rows, sizes: Sizes, own_org: int) -> None:
    """Applications in the screening queue (one per twenty grants) and a few of the applicant's."""
    start = date(2026, 10, 1)
    grantees = [org["id"] for org in rows["organization"][2:]] or [own_org]
    for n in range(sizes.grants // 20 + 1):
        state = ("submitted", "screened_eligible", "under_review")[n % 3]
        _application(rows, grantees[n % len(grantees)], state, start, start)
    for state in ("draft", "submitted", "rejected"):
        _application(rows, own_org, state, start, None if state == "draft" else start)


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(3, 0), tzinfo=UTC)
