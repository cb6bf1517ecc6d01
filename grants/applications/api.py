"""Applications before the award: drafts, milestone plans, co-investments, submission.

Field errors are keyed by dotted path ("milestones.0.due_date"): see grants.core.http.api.
An applicant never learns that another organisation's application exists: every
/applications/<id> operation answers 404 for it, as for an id that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _

from grants.accounts.certified_vcs import service as certifications
from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.models import Organization
from grants.applications import queries as application_queries
from grants.applications import service as applications
from grants.applications.checks import (
    ApplicationData,
    CoInvestmentData,
    CriterionData,
    MilestoneData,
    certified_vcs_select,
)
from grants.applications.models import Application
from grants.applications.queries import unrevealed_application
from grants.applications.schemas import (
    APPLICATION_LIST_ARGS,
    ApplicationInSchema,
    ApplicationSchema,
    ApplicationSummarySchema,
    CertifiedVcSchema,
    CoInvestmentsInSchema,
    EligibilitySchema,
    PlanInSchema,
)
from grants.core.http import schemas as common
from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import PageArgs, listed, page_schema, paginate
from grants.core.states import ApplicationState
from grants.rules import Trace
from grants.rulesets.models import RuleSet

blp = ApiBlueprint(
    "api_applications",
    __name__,
    url_prefix="/api/v1",
    description="Applications: drafts, milestone plans, co-investments, submission, "
    "eligibility; the certified VC registry. Field errors are keyed by dotted path "
    '("milestones.0.due_date").',
)


# ---- input ---------------------------------------------------------------------------------


# ---- output --------------------------------------------------------------------------------


ApplicationPageSchema = page_schema(ApplicationSummarySchema)


# ---- helpers -------------------------------------------------------------------------------


def visible(application_id: int) -> Application:
    """The application with its plan, if the caller may see it (404 for another's)."""
    return unrevealed_application(api_actor(), application_id)


def _milestones(data: dict[str, Any]) -> list[MilestoneData]:
    return [
        MilestoneData(
            title=item["title"],
            criteria=tuple(CriterionData(**criterion) for criterion in item["criteria"]),
            due_date=item["due_date"],
            tranche_amount=item["tranche_amount"],
        )
        for item in data["milestones"]
    ]


def _registry_entry(org: Organization, history: list[VcCertification], on: date) -> dict[str, Any]:
    status = certifications.status_from(history, on)
    covering = [c for c in history if certifications.covers(c, on)]
    shown = (covering or history or [None])[0]  # history: newest first
    return {
        "id": org.id,
        "name": org.name,
        "name_en": org.name_en,
        "status": status,
        "certified_today": status == certifications.CERTIFIED,
        "certified_on": shown.certified_on if shown else None,
        "expires_on": shown.expires_on if shown else None,
        "revoked_on": shown.revoked_on if shown else None,
    }


# ---- views ---------------------------------------------------------------------------------


@blp.get("/applications")
@blp.arguments(APPLICATION_LIST_ARGS.schema, location="query")
@blp.response(200, ApplicationPageSchema)
def list_applications(args: dict[str, Any]) -> dict[str, Any]:
    """An applicant's organisation's applications, or all of them (officers): newest first
    unless `sort` says otherwise.

    Filters: `status` (the application state), `program_id` (the programme's id),
    `fiscal_year` (of the submission) and `q` (in the title and the organisation's names).
    """
    asked = APPLICATION_LIST_ARGS.query(args)
    return listed(application_queries.application_list(api_actor(), asked))


@blp.post("/applications")
@blp.arguments(ApplicationInSchema)
@blp.response(201, ApplicationSchema)
def create_application(data: dict[str, Any]) -> Application:
    """Start a draft for the caller's organisation (applicants)."""
    return applications.create_draft(api_actor(), ApplicationData(**data))


@blp.get("/applications/<int:application_id>")
@blp.response(200, ApplicationSchema)
def get_application(application_id: int) -> Application:
    """The application with its plan, co-investments, state and stored eligibility trace."""
    return visible(application_id)


@blp.put("/applications/<int:application_id>")
@blp.arguments(ApplicationInSchema)
@blp.response(200, ApplicationSchema)
def update_application(data: dict[str, Any], application_id: int) -> Application:
    """Replace a draft's fields; any other state answers 409."""
    visible(application_id)
    return applications.update_draft(api_actor(), application_id, ApplicationData(**data))


@blp.put("/applications/<int:application_id>/plan")
@blp.arguments(PlanInSchema)
@blp.response(200, ApplicationSchema)
def replace_plan(data: dict[str, Any], application_id: int) -> Application:
    """Replace the whole milestone plan of a draft, numbered 1..n in the order given."""
    visible(application_id)
    return applications.replace_plan(api_actor(), application_id, _milestones(data))


@blp.put("/applications/<int:application_id>/co-investments")
@blp.arguments(CoInvestmentsInSchema)
@blp.response(200, ApplicationSchema)
def replace_co_investments(data: dict[str, Any], application_id: int) -> Application:
    """Replace the declared certified-VC co-investments of a draft (at most one lead)."""
    visible(application_id)
    items = [CoInvestmentData(**item) for item in data["co_investments"]]
    return applications.set_co_investments(api_actor(), application_id, items)


@blp.post("/applications/<int:application_id>/submit")
@blp.response(200, ApplicationSchema)
def submit_application(application_id: int) -> Application:
    """Submit a draft: the rule set in force today is pinned and its trace stored.

    A submitted application may still fail the eligibility rules: see `eligible` and
    `eligibility_trace`. Missing pieces answer 422; submitting twice 409.
    """
    visible(application_id)
    return applications.submit(api_actor(), application_id, common.today())


@blp.post("/applications/<int:application_id>/withdraw")
@blp.response(200, ApplicationSchema)
def withdraw_application(application_id: int) -> Application:
    """Withdraw a draft or a submitted application; later states answer 409."""
    visible(application_id)
    return applications.withdraw(api_actor(), application_id)


@blp.get("/applications/<int:application_id>/eligibility")
@blp.response(200, EligibilitySchema)
def eligibility(application_id: int) -> dict[str, Any]:
    """The stored eligibility trace once submitted; for a draft, a live preview."""
    application = visible(application_id)
    if (stored := application_queries.stored_trace(application)) is not None:
        return _eligibility(application, "stored", application.ruleset, stored)
    if application.state != ApplicationState.draft:
        message = _("The application was not submitted, so it was never evaluated.")
        return _eligibility(application, "none", reason="not_submitted", message=message)
    found = application_queries.preview_with_ruleset(application, common.today())
    if found is None:
        message = _("No published rule set of this programme is in force yet.")
        return _eligibility(application, "none", reason="no_ruleset_in_force", message=message)
    return _eligibility(application, "preview", *found)


def _eligibility(
    application: Application,
    source: str,
    ruleset: RuleSet | None = None,
    trace: Trace | None = None,
    reason: str | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    return {
        "application_id": application.id,
        "source": source,
        "ruleset_id": ruleset.id if ruleset is not None else None,
        "ruleset_version": ruleset.version if ruleset is not None else None,
        "trace": trace.to_dict() if trace is not None else None,
        "reason": reason,
        "message": message,
    }


@blp.get("/certified-vcs")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(CertifiedVcSchema))
def list_certified_vcs(args: dict[str, Any]) -> dict[str, Any]:
    """The 認定VC registry, by name, with each VC's certification status today."""
    page = paginate(certified_vcs_select(), args)
    history = certifications.history_by_org(org.id for org in page["items"])
    on = common.today()
    page["items"] = [_registry_entry(org, history[org.id], on) for org in page["items"]]
    return page
