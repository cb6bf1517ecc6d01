"""Validation of an application's pieces, as field errors keyed by the use cases' own names.

Nested data is keyed by dotted path: "milestones.0.due_date",
"milestones.1.criteria.0.unit", "co_investments.2.committed_amount"; a key naming a whole
list ("milestones", "milestones.0.criteria", "co_investments") is about the list itself.
Messages are Problems, said in the reader's language where they are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, exists, select

from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import Organization
from grants.core.calendar import Day
from grants.core.identity import OrgKind
from grants.core.money import YEN_MAX
from grants.core.problems import N_, Problem
from grants.extensions import db
from grants.programs.models import Program
from grants.rules import STAGES

Errors = dict[str, list[Problem]]

TITLE_MAX = 300
CRITERION_PART_MAX = 200
MILESTONES_MAX = 30
CRITERIA_MAX = 10
CO_INVESTMENTS_MAX = 20
CRITERION_PARTS = ("metric", "target", "unit")


@dataclass(frozen=True)
class ApplicationData:
    program_id: int | None
    title: str
    theme: str
    modality: str
    stage: str
    eligible_cost: int | None
    indirect_cost: int | None
    requested_subsidy: int | None
    project_start: date | None
    project_end: date | None


APPLICATION_FIELDS = tuple(ApplicationData.__dataclass_fields__)


@dataclass(frozen=True)
class CriterionData:
    metric: str
    target: str
    unit: str


@dataclass(frozen=True)
class MilestoneData:
    title: str
    criteria: tuple[CriterionData, ...] | list[CriterionData]
    due_date: date | None
    tranche_amount: int | None


@dataclass(frozen=True)
class CoInvestmentData:
    vc_organization_id: int | None
    committed_amount: int | None
    is_lead: bool = False


def application_errors(data: ApplicationData, program: Program | None) -> Errors:
    errors: Errors = {}
    if program is None:
        errors["program_id"] = [N_("Choose a programme.")]
    if not data.title:
        errors["title"] = [N_("A title is required.")]
    elif len(data.title) > TITLE_MAX:
        errors["title"] = [N_("At most %(n)d characters.", n=TITLE_MAX)]
    if program is not None:
        if data.theme not in program.themes:
            errors["theme"] = [N_("Choose one of the programme's themes.")]
        if data.modality not in program.modalities:
            errors["modality"] = [N_("Choose one of the programme's modalities.")]
    if data.stage not in STAGES:
        errors["stage"] = [N_("Choose a development stage.")]
    for name in ("eligible_cost", "indirect_cost", "requested_subsidy"):
        if message := yen_error(getattr(data, name), allow_zero=True):
            errors[name] = [message]
    errors.update(_amount_relations(data))
    errors.update(_period_errors(data, program))
    return errors


def _amount_relations(data: ApplicationData) -> Errors:
    errors: Errors = {}
    eligible = data.eligible_cost
    if yen_error(eligible, allow_zero=True):
        return errors
    indirect, requested = data.indirect_cost, data.requested_subsidy
    if not yen_error(indirect, allow_zero=True) and indirect > eligible:  # type: ignore[operator]
        errors["indirect_cost"] = [N_("The indirect cost is part of the eligible cost.")]
    if not yen_error(requested, allow_zero=True) and requested > eligible:  # type: ignore[operator]
        errors["requested_subsidy"] = [N_("The subsidy cannot exceed the eligible cost.")]
    return errors


def _period_errors(data: ApplicationData, program: Program | None) -> Errors:
    errors: Errors = {}
    start, end = data.project_start, data.project_end
    if start is None:
        errors["project_start"] = [N_("Enter a date.")]
    if end is None:
        errors["project_end"] = [N_("Enter a date.")]
    elif start is not None and end < start:
        errors["project_end"] = [N_("The project must end on or after its start.")]
    elif program is not None and end > program.end_date:
        errors["project_end"] = [
            N_(
                "The project must end by the programme's end date (%(day)s).",
                day=Day(program.end_date),
            )
        ]
    return errors


def yen_error(value: Any, allow_zero: bool) -> Problem | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return N_("Enter a whole number of yen.")
    if allow_zero and value < 0:
        return N_("Enter zero or more.")
    if not allow_zero and value <= 0:
        return N_("Enter an amount above zero.")
    if value > YEN_MAX:
        return N_("This amount is too large.")
    return None


# ---- the milestone plan --------------------------------------------------------------------


def plan_errors(
    milestones: Sequence[MilestoneData], start: date, end: date, name: str = "milestones"
) -> Errors:
    """Titles, measurable criteria, strictly increasing due dates within start..end, tranches."""
    errors: Errors = {}
    if len(milestones) > MILESTONES_MAX:
        errors[name] = [N_("At most %(n)d milestones.", n=MILESTONES_MAX)]
        return errors
    previous: date | None = None
    for index, milestone in enumerate(milestones):
        prefix = f"{name}.{index}"
        if message := _text_error(milestone.title, TITLE_MAX):
            errors[f"{prefix}.title"] = [message]
        errors.update(_criteria_errors(milestone.criteria, f"{prefix}.criteria"))
        if message := _due_error(milestone.due_date, previous, start, end):
            errors[f"{prefix}.due_date"] = [message]
        if milestone.due_date is not None:
            previous = max(previous or milestone.due_date, milestone.due_date)
        if message := yen_error(milestone.tranche_amount, allow_zero=False):
            errors[f"{prefix}.tranche_amount"] = [message]
    return errors


def _criteria_errors(criteria: Sequence[CriterionData], name: str) -> Errors:
    if not criteria:
        return {name: [N_("Add at least one success criterion.")]}
    if len(criteria) > CRITERIA_MAX:
        return {name: [N_("At most %(n)d criteria per milestone.", n=CRITERIA_MAX)]}
    errors: Errors = {}
    for index, criterion in enumerate(criteria):
        for part in CRITERION_PARTS:
            if message := _text_error(getattr(criterion, part), CRITERION_PART_MAX):
                errors[f"{name}.{index}.{part}"] = [message]
    return errors


def _text_error(text: str, limit: int) -> Problem | None:
    if not text:
        return N_("Required.")
    if len(text) > limit:
        return N_("At most %(n)d characters.", n=limit)
    return None


def _due_error(due: date | None, previous: date | None, start: date, end: date) -> Problem | None:
    if due is None:
        return N_("Enter a due date.")
    if not start <= due <= end:
        return N_(
            "The due date must be within the project period (%(start)s to %(end)s).",
            start=Day(start),
            end=Day(end),
        )
    if previous is not None and due <= previous:
        return N_("Each milestone must be due after the one before it.")
    return None


# ---- co-investments -------------------------------------------------------------------------


def co_investment_errors(
    items: Sequence[CoInvestmentData], applicant_id: int, name: str = "co_investments"
) -> Errors:
    """Investors among the other organisations, each once, amounts above zero, at most one
    lead. Any organisation may invest: the eligibility rules count only the money of VCs
    certified on the day in question."""
    errors: Errors = {}
    if len(items) > CO_INVESTMENTS_MAX:
        return {name: [N_("At most %(n)d co-investments.", n=CO_INVESTMENTS_MAX)]}
    known = organisation_ids(item.vc_organization_id for item in items) - {applicant_id}
    seen: set[int] = set()
    for index, item in enumerate(items):
        prefix = f"{name}.{index}"
        vc = item.vc_organization_id
        if vc not in known:
            errors[f"{prefix}.vc_organization_id"] = [N_("Choose an investor from the list.")]
        elif vc in seen:
            errors[f"{prefix}.vc_organization_id"] = [N_("This investor is already listed.")]
        if vc is not None:
            seen.add(vc)
        if message := yen_error(item.committed_amount, allow_zero=False):
            errors[f"{prefix}.committed_amount"] = [message]
    if sum(bool(item.is_lead) for item in items) > 1:
        errors[name] = [N_("Mark at most one lead VC.")]
    return errors


def organisation_ids(candidates: Iterable[int | None]) -> set[int]:
    """Those of `candidates` that are organisations."""
    ids = {c for c in candidates if isinstance(c, int) and not isinstance(c, bool)}
    if not ids:
        return set()
    return set(db.session.scalars(select(Organization.id).where(Organization.id.in_(ids))))


def certified_vcs_query() -> Any:
    """Ids of the VC organisations with a certification record (the 認定VC registry)."""
    return select(Organization.id).where(
        Organization.kind == OrgKind.vc,
        exists().where(VcCertification.organization_id == Organization.id),
    )


def certified_vcs_select() -> Select[tuple[Organization]]:
    """The registry's organisations by name, as a statement (for paging)."""
    query = select(Organization).where(Organization.id.in_(certified_vcs_query()))
    return query.order_by(Organization.name, Organization.id)
