"""Officers before the decision: the screening queue and screening.

Field errors are keyed by dotted path, as grants.core.http.api says.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from grants.applications.models import Application
from grants.applications.queries import may_screen
from grants.applications.schemas import ApplicationSchema, ApplicationSummarySchema
from grants.applications.screening import service as screening
from grants.applications.screening.queries import SCREENING, screening_list
from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import list_args, listed, page_schema, today

blp = ApiBlueprint(
    "api_screening",
    __name__,
    url_prefix="/api/v1",
    description="Screening of submitted applications (officers).",
)


QUEUE_ARGS = list_args(SCREENING, "ScreeningQueueArgs")


class QueuedApplicationSchema(ApplicationSummarySchema):
    may_screen = fields.Function(
        lambda application: may_screen(api_actor(), application),
        metadata={"type": "boolean", "description": "Whether the caller may screen it now."},
    )


@blp.get("/screening")
@blp.arguments(QUEUE_ARGS.schema, location="query")
@blp.response(200, page_schema(QueuedApplicationSchema))
def screening_queue(args: dict[str, Any]) -> dict[str, Any]:
    """Applications waiting for an officer, oldest submission first unless `sort` says
    otherwise; filters: `state`, `program_id`, `fiscal_year` (of the submission), `q`."""
    return listed(screening_list(api_actor(), QUEUE_ARGS.query(args)))


@blp.post("/applications/<int:application_id>/screen")
@blp.response(200, ApplicationSchema)
def screen(application_id: int) -> Application:
    """Submitted -> screened_eligible or screened_ineligible, as the stored trace says."""
    return screening.screen(api_actor(), application_id, today())
