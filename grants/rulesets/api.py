"""Rule set versions: drafts, documents, publishing, what-if."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from grants.core.http.api import ApiBlueprint, ForCaller, api_actor
from grants.core.http.filters import current_locale
from grants.core.http.schemas import today
from grants.core.problems import N_
from grants.extensions import db
from grants.programs.models import Program
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet
from grants.rulesets.queries import ruleset_actions, visible_ruleset, visible_rulesets

blp = ApiBlueprint("api_rulesets", __name__, url_prefix="/api/v1", description="Rule set versions.")

_DOCUMENT = (
    "A rule set document: `rules`, and optional `schedule` and `amendments` sections. Each "
    "`schedule` key (due_soon_days, grace_days, escalation_days, review_waiting_days, "
    "tranche_waiting_days) is an override; a key left out means the installation's default."
)


class RuleSetActionsSchema(Schema):
    edit = fields.Boolean(required=True, metadata={"description": "Its rules and settings."})
    publish = fields.Boolean(required=True)
    run_what_if = fields.Boolean(required=True)
    superseded_by_id = fields.Integer(
        attribute="superseded_by.id",
        allow_none=True,
        dump_default=None,
        metadata={"description": "The version published since the one this draft copies."},
    )


class RuleSetSchema(Schema):
    id = fields.Integer(required=True)
    program_id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["draft", "published"]})
    version = fields.Integer(allow_none=True)
    effective_from = fields.Date(allow_none=True)
    based_on_id = fields.Integer(
        allow_none=True, metadata={"description": "The published version a copy started from."}
    )
    document = fields.Dict(required=True, metadata={"description": _DOCUMENT})
    actions = ForCaller(
        RuleSetActionsSchema,
        ruleset_actions,
        metadata={"description": "What the caller may do with the version now."},
    )


class NewDraftSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    document = fields.Dict(metadata={"description": f"{_DOCUMENT} Or give `preset`."})
    preset = fields.String(validate=validate.OneOf(sorted(rulesets.PRESETS)))

    @validates_schema
    def _one_source(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("document" in data) == ("preset" in data):
            raise ValidationError(N_("Give either a document or a preset."), "document")


class DocumentSchema(Schema):
    document = fields.Dict(required=True, metadata={"description": _DOCUMENT})


class PublishSchema(Schema):
    effective_from = fields.Date(required=True)
    title = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "The published version's title; by default a copied "
            "draft becomes `CODE vN` and any other draft keeps its title."
        },
    )


@blp.get("/programs/<int:program_id>/rulesets")
@blp.response(200, RuleSetSchema(many=True))
def list_rulesets(program_id: int) -> list[RuleSet]:
    """The programme's versions; drafts only for those who edit rules."""
    db.get_or_404(Program, program_id)
    return visible_rulesets(api_actor(), program_id)


@blp.post("/programs/<int:program_id>/rulesets")
@blp.arguments(NewDraftSchema)
@blp.response(201, RuleSetSchema)
def create_draft(data: dict[str, Any], program_id: int) -> RuleSet:
    """A new draft from a document or from a preset (officers)."""
    has_document = "document" in data
    document = data["document"] if has_document else rulesets.preset_document(data["preset"])
    return rulesets.create_draft(api_actor(), program_id, data["title"], document)


@blp.get("/rulesets/<int:ruleset_id>")
@blp.response(200, RuleSetSchema)
def get_ruleset(ruleset_id: int) -> RuleSet:
    return visible_ruleset(api_actor(), ruleset_id)


@blp.put("/rulesets/<int:ruleset_id>/document")
@blp.arguments(DocumentSchema)
@blp.response(200, RuleSetSchema)
def replace_document(data: dict[str, Any], ruleset_id: int) -> RuleSet:
    """Replace a draft's whole document; a published version answers 409."""
    return rulesets.replace_document(api_actor(), ruleset_id, data["document"])


@blp.post("/rulesets/<int:ruleset_id>/copy")
@blp.response(201, RuleSetSchema)
def copy_ruleset(ruleset_id: int) -> RuleSet:
    """A new draft with the same rules (officers)."""
    return rulesets.copy_to_draft(api_actor(), ruleset_id, current_locale())


@blp.post("/rulesets/<int:ruleset_id>/publish")
@blp.arguments(PublishSchema)
@blp.response(200, RuleSetSchema)
def publish(data: dict[str, Any], ruleset_id: int) -> RuleSet:
    """Freeze a draft as the next version, in force from `effective_from` (officers).

    409 when the draft was copied from a version that is no longer the latest."""
    return rulesets.publish(
        api_actor(), ruleset_id, data["effective_from"], today(), data.get("title")
    )


@blp.delete("/rulesets/<int:ruleset_id>")
@blp.response(204)
def delete_draft(ruleset_id: int) -> None:
    """Delete a draft; a published version answers 409."""
    rulesets.delete_draft(api_actor(), ruleset_id)
