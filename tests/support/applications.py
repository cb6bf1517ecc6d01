"""Applications ready to submit (or submitted, screened), built through the real services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import date

from grants.accounts.models import Organization, User
from grants.applications import service as applications
from grants.applications.checks import (
    ApplicationData,
    CoInvestmentData,
    CriterionData,
    MilestoneData,
)
from grants.applications.models import Application
from grants.applications.screening import service as screening
from grants.core.actors import SYSTEM
from grants.core.identity import OrgKind, Role
from grants.programs import service as programs
from grants.programs.models import Program
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet
from tests.support.factories import make_org, make_user
from tests.support.grants import make_program
from tests.support.programs import make_certified_vc

# Inside make_program's application window (2026-04-01 .. 2027-03-31), rule set v1 in force.
TODAY = date(2026, 5, 1)
CRITERION = CriterionData("IC50", "<= 10", "nM")

# AMED: eligible cost not divisible by 3; the request is above 2/3 of it, so the award is
# capped at floor(3,000,000,001 x 2/3) = 2,000,000,000 and the last tranche is cut.
AMED = {
    "eligible_cost": 3_000_000_001,
    "indirect_cost": 300_000_000,
    "requested_subsidy": 2_400_000_000,
    "tranches": (600_000_000, 800_000_000, 1_000_000_000),
    "lead": 1_000_000_001,
    "stage": "non_clinical",
}
# Milestone programme: the first (upfront) tranche is exactly 1/4 of the request.
MILESTONE = {
    "eligible_cost": 600_000_000,
    "indirect_cost": 60_000_000,
    "requested_subsidy": 400_000_000,
    "tranches": (100_000_000, 150_000_000, 150_000_000),
    "lead": 200_000_000,
    "stage": "non_clinical",
}
_codes = itertools.count(1)
DUE_DATES = (date(2026, 12, 31), date(2027, 9, 30), date(2028, 9, 30))


@dataclass
class ApplicationWorld:
    program: Program
    ruleset: RuleSet | None  # the version in force on TODAY
    org: Organization
    applicant: User
    vc: Organization
    application: Application


def application_data(program: Program, **values: object) -> ApplicationData:
    data = ApplicationData(
        program_id=program.id,
        title="抗菌薬候補の開発",
        theme="amr",
        modality="drug",
        stage="non_clinical",
        eligible_cost=600_000_000,
        indirect_cost=60_000_000,
        requested_subsidy=400_000_000,
        project_start=date(2026, 6, 1),
        project_end=date(2029, 3, 31),
    )
    return replace(data, **values)  # type: ignore[arg-type]


def milestones(
    tranches: tuple[int, ...], dues: tuple[date, ...] = DUE_DATES
) -> list[MilestoneData]:
    return [
        MilestoneData(f"Milestone {i}", (CRITERION,), due, amount)
        for i, (due, amount) in enumerate(zip(dues, tranches, strict=True), start=1)
    ]


def make_applicant(kind: OrgKind = OrgKind.startup) -> User:
    return make_user(Role.applicant, make_org(kind))


def ready_application(
    preset: str = "amed",
    code: str | None = None,
    applicant: User | None = None,
    program: Program | None = None,
    **overrides: object,
) -> ApplicationWorld:
    """A draft with a plan adding up to the request and a certified lead VC."""
    values = {**(AMED if preset == "amed" else MILESTONE), **overrides}
    ruleset = None
    if program is None:
        code = code or f"{'AMED' if preset == 'amed' else 'MS'}-{next(_codes)}"
        program, ruleset = make_program(code, preset)
    applicant = applicant or make_applicant()
    data = application_data(
        program,
        stage=values["stage"],
        eligible_cost=values["eligible_cost"],
        indirect_cost=values["indirect_cost"],
        requested_subsidy=values["requested_subsidy"],
    )
    application = applications.create_draft(applicant, data)
    applications.replace_plan(applicant, application.id, milestones(values["tranches"]))  # type: ignore[arg-type]
    vc = make_certified_vc().organization
    lead = CoInvestmentData(vc.id, values["lead"], True)  # type: ignore[arg-type]
    applications.set_co_investments(applicant, application.id, [lead])
    org = applicant.organization
    assert org is not None
    ruleset = ruleset or rulesets.in_force(program.id, TODAY)
    return ApplicationWorld(program, ruleset, org, applicant, vc, application)


def submitted_application(preset: str = "amed", **kwargs: object) -> ApplicationWorld:
    world = ready_application(preset, **kwargs)  # type: ignore[arg-type]
    applications.submit(world.applicant, world.application.id, TODAY)
    return world


def screened_application(preset: str = "amed", **kwargs: object) -> ApplicationWorld:
    world = submitted_application(preset, **kwargs)
    screening.screen(make_user(Role.officer), world.application.id, TODAY)
    return world


def make_pools(
    program: Program, years: tuple[int, ...] = (2026, 2027, 2028), appropriation: int = 10**10
) -> None:
    for year in years:
        programs.set_appropriation(SYSTEM, program.id, year, appropriation)
