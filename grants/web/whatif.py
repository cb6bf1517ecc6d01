"""Officer page: what a draft rule set would change if it were published."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from grants.domain.calendar import tokyo_today
from grants.domain.permissions import Action
from grants.domain.rules import Change
from grants.services import whatif
from grants.web.access import actor, requires

bp = Blueprint("whatif", __name__, url_prefix="/officer")


@bp.get("/rulesets/<int:ruleset_id>/what-if")
@requires(Action.run_what_if)
def show(ruleset_id: int) -> str:
    report = whatif.what_if_ruleset(actor(), ruleset_id, tokyo_today(datetime.now(UTC)))
    show_all = request.args.get("all") == "1"
    return render_template(
        "whatif/show.html",
        ruleset_id=ruleset_id,
        report=report,
        rows=report.rows if show_all else report.changed,
        show_all=show_all,
        Change=Change,
        change_labels=change_labels(),
    )


def change_labels() -> dict[Change, str]:
    return {
        Change.NEWLY_ELIGIBLE: _("Newly eligible"),
        Change.NEWLY_BLOCKED: _("Newly blocked"),
        Change.CHANGED_BLOCKERS: _("Blocked by other rules"),
        Change.CHANGED_WARNINGS: _("Different warnings"),
        Change.UNCHANGED: _("Unchanged"),
    }
