"""A grant mid-flight for tests of the post-award workflow.

Inserted straight into the tables (not through the award service) so that tests of
reviews, evidence, releases and amendments do not depend on the application flow. It
keeps the invariant the scan and the kept figures rely on, as any write through the
database layer does: the tables stamp their rows with the data generation themselves
(core.changes; tests/alerts/scan/test_every_writer.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import Organization, User
from grants.applications.models import Application, CoInvestment, PlannedMilestone
from grants.awards.models import Grant, Milestone, ReviewerAssignment
from grants.core.calendar import fiscal_year
from grants.core.identity import OrgKind, Role
from grants.core.models import utcnow
from grants.core.states import ApplicationState, GrantState, MilestoneState
from grants.extensions import db
from grants.programs.models import BudgetPool, Program
from grants.rules.presets import amed_certified_vc, milestone_programme
from grants.rulesets.models import RuleSet, RuleSetStatus
from tests.support.factories import make_org, make_user

CRITERIA = [{"metric": "IC50", "target": "<= 10", "unit": "nM"}]
# The world's programme lets one officer release a tranche of up to 10億円, so that tests of
# the post-award workflow release its 1-3億円 tranches in one step; the two-officer release
# above a threshold has its own tests (tests/releases/test_two_officers.py), which lower it.
ONE_OFFICER_RELEASES_UP_TO = 1_000_000_000


@dataclass
class GrantWorld:
    program: Program
    ruleset: RuleSet
    grantee: Organization
    applicant: User
    vc: Organization
    grant: Grant
    milestones: list[Milestone]
    reviewers: list[User] = field(default_factory=list)
    officer: User | None = None


def make_program(
    code: str = "MS-TEST", preset: str = "milestone", rubric: dict[str, Any] | None = None
) -> tuple[Program, RuleSet]:
    """A programme with rule set v1 published; `rubric`: its merit review's rubric."""
    program = Program(
        code=code,
        name_ja="テスト助成",
        name_en="Test programme",
        application_opens=date(2026, 4, 1),
        application_closes=date(2027, 3, 31),
        end_date=date(2031, 9, 30),
        themes=["rare_disease", "amr", "infectious_crisis", "unmet_device"],
        modalities=["drug", "regenerative", "device", "samd"],
        release_approval_threshold=ONE_OFFICER_RELEASES_UP_TO,
    )
    document = amed_certified_vc() if preset == "amed" else milestone_programme()
    if rubric is not None:
        document["rubric"] = rubric
    from grants.rules import validate_ruleset

    ruleset = RuleSet(
        program=program,
        title="v1",
        status=RuleSetStatus.published,
        version=1,
        effective_from=date(2026, 4, 1),
        document=validate_ruleset(document),
        published_at=utcnow(),
    )
    db.session.add_all([program, ruleset])
    db.session.flush()
    return program, ruleset


def make_grant(
    tranches: tuple[int, ...] = (100_000_000, 200_000_000, 300_000_000),
    first_due: date = date(2026, 9, 30),
    appropriation: int = 10_000_000_000,
    preset: str = "milestone",
    reviewers: int = 2,
    code: str = "MS-TEST",
) -> GrantWorld:
    """An active grant with planned milestones due every six months, pools and reviewers."""
    program, ruleset = make_program(code, preset)
    grantee = make_org(OrgKind.startup)
    vc = make_org(OrgKind.vc)
    applicant = make_user(Role.applicant, grantee)
    total = sum(tranches)
    application = Application(
        program=program,
        organization=grantee,
        title="抗菌薬候補の開発",
        theme="amr",
        modality="drug",
        stage="non_clinical",
        eligible_cost=total * 3 // 2,
        indirect_cost=total // 10,
        requested_subsidy=total,
        project_start=date(2026, 4, 1),
        project_end=date(2029, 3, 31),
        state=ApplicationState.awarded,
        submitted_on=date(2026, 5, 1),
        ruleset=ruleset,
    )
    db.session.add(application)
    db.session.add(
        CoInvestment(application=application, vc=vc, committed_amount=total, is_lead=True)
    )
    db.session.add(VcCertification(organization=vc, certified_on=date(2020, 1, 1)))
    grant = Grant(
        number=f"{code}-0001",
        application=application,
        program=program,
        organization=grantee,
        ruleset=ruleset,
        award_amount=total,
        state=GrantState.active,
    )
    db.session.add(grant)
    milestones = []
    for index, amount in enumerate(tranches, start=1):
        due = _add_months(first_due, 6 * (index - 1))
        plan = PlannedMilestone(
            application=application,
            sequence=index,
            title=f"Milestone {index}",
            criteria=CRITERIA,
            due_date=due,
            tranche_amount=amount,
        )
        milestone = Milestone(
            grant=grant,
            sequence=index,
            title=f"Milestone {index}",
            criteria=CRITERIA,
            due_date=due,
            tranche_amount=amount,
            fiscal_year=fiscal_year(due),
            state=MilestoneState.planned,
            round=0,
        )
        db.session.add_all([plan, milestone])
        milestones.append(milestone)
    _pools(program, milestones, appropriation)
    db.session.flush()
    reviewer_users = [make_user(Role.reviewer) for _ in range(reviewers)]
    db.session.add_all(
        ReviewerAssignment(grant_id=grant.id, reviewer_id=r.id) for r in reviewer_users
    )
    db.session.commit()
    return GrantWorld(program, ruleset, grantee, applicant, vc, grant, milestones, reviewer_users)


def _pools(program: Program, milestones: list[Milestone], appropriation: int) -> None:
    committed: dict[int, int] = {}
    for milestone in milestones:
        committed[milestone.fiscal_year] = committed.get(milestone.fiscal_year, 0) + (
            milestone.tranche_amount
        )
    for year, amount in committed.items():
        db.session.add(
            BudgetPool(
                program=program, fiscal_year=year, appropriation=appropriation, committed=amount
            )
        )


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)
