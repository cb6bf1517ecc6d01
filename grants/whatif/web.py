"""Officer page: what a draft rule set would change if it were published.

A programme with more than WHAT_IF_INLINE_LIMIT open applications and active grants is
evaluated in the background instead: the page offers to start it, and the task's page
shows the same report when it is ready.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, current_app, render_template

from grants.core.calendar import tokyo_today
from grants.core.http.access import actor, requires
from grants.core.http.listing import report_context
from grants.core.permissions import Action
from grants.rules.whatif import CHANGE_LABELS
from grants.whatif import service as whatif

bp = Blueprint("whatif", __name__, url_prefix="/officer")


@bp.get("/rulesets/<int:ruleset_id>/what-if")
@requires(Action.run_what_if)
def show(ruleset_id: int) -> str:
    count = whatif.subject_count(actor(), ruleset_id)
    if count > current_app.config["WHAT_IF_INLINE_LIMIT"]:
        return render_template("whatif/background.html", ruleset_id=ruleset_id, count=count)
    report = whatif.what_if_ruleset(actor(), ruleset_id, _today())
    return render_template(
        "whatif/show.html",
        ruleset_id=ruleset_id,
        report=report,
        **report_context(report.result),
        change_labels=CHANGE_LABELS,
    )


def _today() -> date:
    return tokyo_today(datetime.now(UTC))
