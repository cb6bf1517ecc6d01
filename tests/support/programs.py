"""Programmes, budget pools and certified VCs for tests, made through the real services."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

from grants.accounts.certified_vcs import service as certifications
from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import Organization
from grants.core.actors import SYSTEM
from grants.core.identity import OrgKind
from grants.programs import service as programs
from grants.programs.models import BudgetPool, Program
from tests.support.factories import make_org

_counter = itertools.count(1)


def program_data(**values: object) -> programs.ProgramData:
    data = programs.ProgramData(
        code=f"PRG-{next(_counter)}",
        name_ja="創薬ベンチャーエコシステム強化事業",
        name_en="Drug discovery venture ecosystem programme",
        application_opens=date(2026, 4, 1),
        application_closes=date(2026, 6, 30),
        end_date=date(2031, 9, 30),
        themes=("rare_disease", "amr"),
        modalities=("drug", "device"),
    )
    return replace(data, **values)  # type: ignore[arg-type]


def make_program(**values: object) -> Program:
    return programs.create_program(SYSTEM, program_data(**values))


def make_pool(
    program: Program | None = None, fiscal_year: int = 2026, appropriation: int = 10_000_000_000
) -> BudgetPool:
    program = program or make_program()
    return programs.set_appropriation(SYSTEM, program.id, fiscal_year, appropriation)


def make_certified_vc(
    org: Organization | None = None,
    certified_on: date = date(2020, 1, 1),
    expires_on: date | None = None,
    note: str | None = None,
) -> VcCertification:
    org = org or make_org(OrgKind.vc)
    return certifications.certify_vc(SYSTEM, org.id, certified_on, expires_on, note)
