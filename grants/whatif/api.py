"""What a draft rule set would change: the API."""

from __future__ import annotations

from typing import Any

from grants.core.http.api import ApiBlueprint, api_actor
from grants.core.http.schemas import today
from grants.whatif import service as whatif
from grants.whatif.schemas import WhatIfSchema

blp = ApiBlueprint(
    "api_whatif", __name__, url_prefix="/api/v1", description="What-if of a draft rule set."
)


@blp.get("/rulesets/<int:ruleset_id>/what-if")
@blp.response(200, WhatIfSchema)
def what_if(ruleset_id: int) -> dict[str, Any]:
    """Every open application and active grant under the version in force and this one."""
    return whatif.what_if_ruleset(api_actor(), ruleset_id, today()).result.to_dict()
