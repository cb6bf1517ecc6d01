"""Officer page: what a draft rule set would change if it were published.

A programme with more than WHAT_IF_INLINE_LIMIT open applications and active grants is
evaluated in the background instead: the page offers to start it, and the task's page
shows the same report when it is ready.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.core.calendar import tokyo_today
from grants.core.http.access import actor, requires
from grants.core.http.filters import current_locale
from grants.core.permissions import Action
from grants.rules import Change
from grants.tasks import service as background
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
        **report_context(report.result, "whatif.show", ruleset_id=ruleset_id),
    )


@bp.post("/rulesets/<int:ruleset_id>/what-if/tasks")
@requires(Action.run_what_if)
def start_task(ruleset_id: int) -> Response:
    task = background.start_what_if(actor(), ruleset_id, _today(), current_locale())
    return redirect(url_for("tasks.show", task_id=task.id))


def report_context(result: whatif.WhatIfResult, endpoint: str, **ids: int) -> dict[str, object]:
    """What templates/whatif/_report.html needs, its links pointing at `endpoint`."""
    show_all = request.args.get("all") == "1"
    return {
        "result": result,
        "rows": result.rows if show_all else result.changed,
        "show_all": show_all,
        "all_url": url_for(endpoint, all=1, **ids),
        "changed_url": url_for(endpoint, **ids),
        "change_labels": change_labels(),
    }


def change_labels() -> dict[Change, str]:
    return {
        Change.NEWLY_ELIGIBLE: _("Newly eligible"),
        Change.NEWLY_BLOCKED: _("Newly blocked"),
        Change.CHANGED_BLOCKERS: _("Blocked by other rules"),
        Change.CHANGED_WARNINGS: _("Different warnings"),
        Change.UNCHANGED: _("Unchanged"),
    }


def _today() -> date:
    return tokyo_today(datetime.now(UTC))
