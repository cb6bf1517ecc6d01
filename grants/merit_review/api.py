"""A programme's merit review settings (officers). The rubric itself is the rule set
document's `rubric` section (the rule set resources)."""

from __future__ import annotations

from typing import Any

from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import ErrorSchema
from grants.core.permissions import Action, Subject, require
from grants.extensions import db
from grants.merit_review import service as merit
from grants.merit_review.forms import settings_data
from grants.merit_review.schemas import MeritSettingsSchema
from grants.programs.models import Program

blp = ApiBlueprint(
    "api_merit_review",
    __name__,
    url_prefix="/api/v1",
    description="Merit review: a programme's settings (officers).",
)


@blp.get("/programs/<int:program_id>/merit-review/settings")
@blp.response(200, MeritSettingsSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such programme.")
def get_settings(program_id: int) -> dict[str, Any]:
    """Panel size, days to score, aggregation, normalisation and the disagreement spread."""
    require(Action.manage_programs, Subject(role=api_actor().role))
    return settings_data(db.get_or_404(Program, program_id))


@blp.put("/programs/<int:program_id>/merit-review/settings")
@blp.arguments(MeritSettingsSchema)
@blp.response(200, MeritSettingsSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such programme.")
@blp.alt_response(422, schema=ErrorSchema, description="A setting out of range (which).")
def put_settings(data: dict[str, Any], program_id: int) -> dict[str, Any]:
    program = merit.set_settings(api_actor(), program_id, merit.SettingsData(**data))
    return settings_data(program)
