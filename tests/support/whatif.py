"""A programme under the AMED preset with open applications and an active grant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from grants.accounts.models import Organization, User
from grants.applications.models import Application, CoInvestment, PlannedMilestone
from grants.core.identity import Role
from grants.core.states import ApplicationState
from grants.extensions import db
from tests.support.factories import make_user
from tests.support.grants import CRITERIA, GrantWorld, make_grant

TODAY = date(2026, 5, 15)


@dataclass
class WhatIfWorld:
    world: GrantWorld
    relaxed: Application  # non_clinical, lead VC 2億円: passes through the relaxation
    short: Application  # phase1, lead VC 2億円: fails the 10億円 minimum
    officer: User


def make_application(world: GrantWorld, stage: str, lead: int, title: str) -> Application:
    application = Application(
        program=world.program,
        organization=world.grantee,
        title=title,
        theme="rare_disease",
        modality="drug",
        stage=stage,
        eligible_cost=900_000_000,
        indirect_cost=90_000_000,
        requested_subsidy=600_000_000,
        project_start=date(2026, 6, 1),
        project_end=date(2029, 3, 31),
        state=ApplicationState.submitted,
        submitted_on=date(2026, 5, 1),
    )
    application.plan = [
        PlannedMilestone(
            sequence=1,
            title="GLP tox",
            criteria=CRITERIA,
            due_date=date(2027, 3, 31),
            tranche_amount=600_000_000,
        )
    ]
    application.co_investments = [_lead(world.vc, lead)]
    db.session.add(application)
    db.session.commit()
    return application


def _lead(vc: Organization, amount: int) -> CoInvestment:
    return CoInvestment(vc_organization_id=vc.id, committed_amount=amount, is_lead=True)


def make_whatif_world() -> WhatIfWorld:
    world = make_grant(preset="amed", code="AMED-WI")
    relaxed = make_application(world, "non_clinical", 300_000_000, "非臨床の候補")
    short = make_application(world, "phase1", 300_000_000, "第I相の候補")
    return WhatIfWorld(world, relaxed, short, make_user(Role.officer))
