"""A call under merit review at scale, bulk-inserted (executemany with explicit ids), for the
ranking's query counts and bench/ranking.py.

`applications` applications under review, each with a three-milestone plan (tranches in
three fiscal years) and a certified lead VC, scored by `reviewers` of a pool of reviewers
on the five criteria of AMED's rubric; budget pools that hold about half of them. The
executemany inserts stamp every row with the data generation (the columns' defaults,
core.changes), as the use cases' writes do.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import Organization, User
from grants.applications.models import Application, CoInvestment, PlannedMilestone
from grants.core.calendar import fiscal_year
from grants.extensions import db
from grants.merit_review.models import MeritAssignment, MeritScore
from grants.programs.models import BudgetPool, Program
from grants.rules import validate_ruleset
from grants.rules.presets import amed_rubric, milestone_programme
from grants.rulesets.models import RuleSet

OFFICER = "officer@merit.example.jp"
REVIEWER_POOL = 60
CRITERIA = ("fit", "significance", "plan", "team", "budget")
TRANCHES = (10**8, 15 * 10**7, 15 * 10**7)
_NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
_CHUNK = 5_000
_MODELS: tuple[type[Any], ...] = (
    Program, RuleSet, BudgetPool, Organization, VcCertification, User, Application,
    PlannedMilestone, CoInvestment, MeritAssignment, MeritScore,
)  # fmt: skip

Rows = dict[str, list[dict[str, Any]]]


def populate(
    applications: int, today: date, password_hash: str, reviewers: int = 3, seed: int = 17
) -> int:
    """Insert the call (committed, statistics refreshed); the programme's id."""
    rng = random.Random(seed)
    rows: Rows = {model.__tablename__: [] for model in _MODELS}
    document = {**milestone_programme(), "rubric": {**amed_rubric(), "hearing": None}}
    rows["program"].append(
        {"id": 1, "code": "MERIT", "name_ja": "審査", "name_en": "Merit",
         "application_opens": date(2020, 4, 1), "application_closes": date(2040, 3, 31),
         "end_date": date(2045, 3, 31), "themes": ["amr"], "modalities": ["drug"],
         "created_at": _NOW, "merit_panel_size": reviewers}
    )  # fmt: skip
    rows["rule_set"].append(
        {"id": 1, "program_id": 1, "title": "v1", "status": "published", "version": 1,
         "effective_from": date(2020, 4, 1), "document": validate_ruleset(document),
         "created_at": _NOW, "updated_at": _NOW, "published_at": _NOW}
    )  # fmt: skip
    dues = [date(today.year + n, 9, 30) for n in range(1, 4)]
    for n, due in enumerate(dues, start=1):
        room = applications * TRANCHES[n - 1] // 2
        rows["budget_pool"].append(
            {"id": n, "program_id": 1, "fiscal_year": fiscal_year(due),
             "appropriation": room, "committed": 0, "released": 0}
        )  # fmt: skip
    _org(rows, "VC", "vc")
    rows["vc_certification"].append(
        {"id": 1, "organization_id": 1, "certified_on": date(2015, 4, 1), "created_at": _NOW}
    )
    _user(rows, OFFICER, "officer", None, password_hash)
    pool = [
        _user(rows, f"reviewer{n}@merit.example.jp", "reviewer", None, password_hash)
        for n in range(REVIEWER_POOL)
    ]
    for application_id in range(1, applications + 1):
        org = _org(rows, f"Applicant {application_id}", "startup")
        _application(rows, application_id, org, dues, today)
        for reviewer_id in rng.sample(pool, reviewers):
            _sheet(rows, rng, application_id, reviewer_id, today)
    _load(rows)
    return 1


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


def _application(rows: Rows, application_id: int, org: int, dues: list[date], today: date) -> None:
    submitted = today - timedelta(days=60 + application_id % 30)
    rows["application"].append(
        {"id": application_id, "program_id": 1, "organization_id": org,
         "title": f"Project {application_id}", "theme": "amr", "modality": "drug",
         "stage": "non_clinical", "eligible_cost": 6 * 10**8, "indirect_cost": 6 * 10**7,
         "requested_subsidy": sum(TRANCHES), "project_start": today,
         "project_end": dues[-1] + timedelta(days=30), "state": "under_review",
         "submitted_on": submitted, "ruleset_id": 1, "created_at": _NOW,
         "updated_at": _NOW}
    )  # fmt: skip
    for sequence, (due, tranche) in enumerate(zip(dues, TRANCHES, strict=True), start=1):
        rows["planned_milestone"].append(
            {"id": len(rows["planned_milestone"]) + 1, "application_id": application_id,
             "sequence": sequence, "title": f"Milestone {sequence}",
             "criteria": [{"metric": "IC50", "target": "<= 10", "unit": "nM"}],
             "due_date": due, "tranche_amount": tranche}
        )  # fmt: skip
    rows["co_investment"].append(
        {"id": application_id, "application_id": application_id, "vc_organization_id": 1,
         "committed_amount": 2 * 10**8, "is_lead": True}
    )  # fmt: skip


def _sheet(rows: Rows, rng: random.Random, application_id: int, reviewer: int, today: date) -> None:
    assignment_id = len(rows["merit_assignment"]) + 1
    rows["merit_assignment"].append(
        {"id": assignment_id, "application_id": application_id, "reviewer_id": reviewer,
         "stage": "written", "due_on": today, "assigned_at": _NOW, "submitted_at": _NOW}
    )  # fmt: skip
    for criterion in CRITERIA:
        rows["merit_score"].append(
            {"id": len(rows["merit_score"]) + 1, "assignment_id": assignment_id,
             "criterion_id": criterion, "score": rng.randint(1, 5), "comment": "-"}
        )  # fmt: skip


def _load(rows: Rows) -> None:
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
