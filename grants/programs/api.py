"""Programmes and their fiscal-year budget pools."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import PageArgs, Yen, page_schema, paginate
from grants.extensions import db
from grants.programs import queries as programme_queries
from grants.programs import service as programs
from grants.programs.models import RELEASE_APPROVAL_THRESHOLD, Program
from grants.rules import MODALITIES, THEMES

blp = ApiBlueprint(
    "api_programs", __name__, url_prefix="/api/v1/programs", description="Funding programmes."
)


class ProgramInSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name_ja = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=200))
    application_opens = fields.Date(required=True)
    application_closes = fields.Date(required=True)
    end_date = fields.Date(required=True)
    themes = fields.List(fields.String(validate=validate.OneOf(THEMES)), required=True)
    modalities = fields.List(fields.String(validate=validate.OneOf(MODALITIES)), required=True)
    reviewers_anonymous = fields.Boolean(
        load_default=True,
        metadata={
            "description": 'Applicants see the reviewers as "Reviewer 1", "Reviewer 2": never '
            "their names, e-mail addresses or ids (default true)."
        },
    )
    separate_award_and_release = fields.Boolean(
        load_default=True,
        metadata={
            "description": "The officer who awarded a grant does not release its tranches "
            "(default true)."
        },
    )
    release_approval_threshold = Yen(
        load_default=RELEASE_APPROVAL_THRESHOLD,
        metadata={
            "description": "A tranche of more yen than this is prepared by one officer and "
            "approved by another (default 100,000,000; 0: every release)."
        },
    )


class ProgramSchema(ProgramInSchema):
    id = fields.Integer(required=True)


class BudgetPoolSchema(Schema):
    fiscal_year = fields.Integer(required=True)
    appropriation = Yen(required=True)
    committed = Yen(required=True)
    released = Yen(required=True, metadata={"description": "Paid out of the pool."})
    returned = Yen(
        required=True,
        metadata={"description": "Advances above their final amounts, returned or set off."},
    )
    net_released = Yen(
        required=True,
        metadata={"description": "released - returned: never above the appropriation."},
    )
    available = Yen(required=True)


class AppropriationSchema(Schema):
    appropriation = Yen(required=True)


@blp.get("")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(ProgramSchema))
def list_programs(args: dict[str, Any]) -> dict[str, Any]:
    """Every programme (open calls are public to signed-in users)."""
    return paginate(select(Program).order_by(Program.code), args)


@blp.post("")
@blp.arguments(ProgramInSchema)
@blp.response(201, ProgramSchema)
def create_program(data: dict[str, Any]) -> Program:
    """Create a programme (officers)."""
    return programs.create_program(api_actor(), programs.ProgramData(**data))


@blp.get("/<int:program_id>")
@blp.response(200, ProgramSchema)
def get_program(program_id: int) -> Program:
    return db.get_or_404(Program, program_id)


@blp.put("/<int:program_id>")
@blp.arguments(ProgramInSchema)
@blp.response(200, ProgramSchema)
def update_program(data: dict[str, Any], program_id: int) -> Program:
    """Replace a programme's settings (officers)."""
    return programs.update_program(api_actor(), program_id, programs.ProgramData(**data))


@blp.get("/<int:program_id>/budget-pools")
@blp.response(200, BudgetPoolSchema(many=True))
def list_pools(program_id: int) -> list[Any]:
    """Appropriation, committed, released and available yen per fiscal year (officers)."""
    return programme_queries.pools_for(api_actor(), program_id)


@blp.put("/<int:program_id>/budget-pools/<int:fiscal_year>")
@blp.arguments(AppropriationSchema)
@blp.response(200, BudgetPoolSchema)
def set_appropriation(data: dict[str, Any], program_id: int, fiscal_year: int) -> Any:
    """Create or change the appropriation of one fiscal year (officers)."""
    return programs.set_appropriation(api_actor(), program_id, fiscal_year, data["appropriation"])
