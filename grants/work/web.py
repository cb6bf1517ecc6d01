"""My work: what waits for the signed-in user, with its count in every page's header."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from grants.core.http.access import actor
from grants.work import queries as work
from grants.work.queries import Link, Task

bp = Blueprint("work", __name__)


@bp.app_context_processor
def _header_count() -> dict[str, Any]:
    return {"work_waiting": _work_waiting}


def _work_waiting() -> int:
    """The header's count of what waits for the signed-in user (0 when signed out)."""
    if not current_user.is_authenticated:
        return 0
    return work.header_total(actor())


def task_labels() -> dict[Task, str]:
    """Each task's heading, in the page's language."""
    return {
        Task.screen: _("Applications to screen"),
        Task.reviewers: _("Grants short of reviewers for their quorum"),
        Task.amendments: _("Amendment requests waiting for a decision"),
        Task.investments: _("Investments to verify"),
        Task.releases: _("Tranches ready to release"),
        Task.overdue: _("Overdue milestones"),
        Task.reviews: _("Evidence waiting for your review"),
        Task.evidence: _("Evidence due"),
        Task.changes: _("Changes requested"),
        Task.messages: _("Messages waiting for you"),
    }


def link_url(link: Link) -> str:
    return url_for(link.endpoint, **link.values)


@bp.get("/work")
@login_required
def index() -> str:
    return render_template(
        "work/index.html",
        work=work.my_work(actor()),
        labels=task_labels(),
        link_url=link_url,
    )
