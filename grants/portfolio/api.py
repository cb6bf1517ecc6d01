"""Budget pools by programme and fiscal year, for officers."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from grants.core.http.api import ApiBlueprint, DbId, api_actor
from grants.core.http.schemas import Yen
from grants.core.permissions import Action, Subject, require
from grants.programs import queries as programme_queries

FISCAL_YEARS = validate.Range(min=2000, max=2200)

blp = ApiBlueprint("api_portfolio", __name__, url_prefix="/api/v1", description="Budget pools.")


class BudgetArgs(Schema):
    fiscal_year = fields.Integer(validate=FISCAL_YEARS)
    program = DbId(strict=False, metadata={"description": "Programme id."})


class BudgetRowSchema(Schema):
    program_id = fields.Integer(required=True)
    program_code = fields.String(required=True)
    program_name_ja = fields.String(required=True)
    program_name_en = fields.String(required=True)
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
    available = fields.Integer(
        required=True, metadata={"description": "appropriation - committed - net_released."}
    )


@blp.get("/budget-pools")
@blp.arguments(BudgetArgs, location="query")
@blp.response(200, BudgetRowSchema(many=True))
def budget_pools(args: dict[str, Any]) -> list[Any]:
    """Appropriation, committed, released and available yen per programme and fiscal year."""
    require(Action.view_portfolio, Subject(role=api_actor().role))
    rows = programme_queries.budget_by_year(args.get("program"))
    year = args.get("fiscal_year")
    return [row for row in rows if year is None or row.fiscal_year == year]
