"""Reviewer pages: the review queue, the sign-off form and conflict-of-interest declarations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from grants.accounts.models import ConflictDeclaration, Organization
from grants.awards.models import Grant, Milestone, ReviewerAssignment
from grants.core.calendar import tokyo_today
from grants.core.errors import NotFound, RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import Form, apply_errors
from grants.core.http.listing import ListView, list_query
from grants.core.permissions import Action
from grants.core.states import ReviewDecision, label
from grants.extensions import db
from grants.milestones.assignments import service as assignments
from grants.milestones.assignments.queries import declarations_of
from grants.milestones.reviews import service as reviews
from grants.milestones.reviews.queries import REVIEW_QUEUE, review_list, round_view
from grants.programs import queries as programme_queries

bp = Blueprint("reviews", __name__)


def _optional_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


class DecisionForm(Form):
    decision = RadioField(_l("Decision"), validate_choice=False)
    comment = TextAreaField(
        _l("Comment"),
        validators=[Length(max=reviews.COMMENT_MAX)],
        description=_l("Required when you request changes or reject."),
        render_kw={"rows": 6},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "ja")
        self.decision.choices = [SelectChoice(str(d), label(d, locale)) for d in ReviewDecision]


class ConflictForm(Form):
    organization_id = SelectField(_l("Organization"), coerce=_optional_id)
    grant_id = SelectField(_l("Grant"), coerce=_optional_id)
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=assignments.NOTE_MAX)],
        description=_l("What the conflict is, e.g. a family member works there."),
    )


class WithdrawForm(Form):
    """Withdraw a declaration: only the CSRF token."""


@bp.get("/reviewer/queue")
@requires(Action.review_milestone)
def queue() -> str:
    programs = programme_queries.all_programmes()
    asked = list_query(REVIEW_QUEUE, programs)
    view = ListView(
        REVIEW_QUEUE,
        asked,
        review_list(actor(), asked),
        programs=programs,
        fiscal_years=programme_queries.fiscal_years(),
    )
    return render_template("milestones/reviews/queue.html", view=view)


@bp.route("/milestones/<int:milestone_id>/review", methods=["GET", "POST"])
@requires(Action.review_milestone)
def decide(milestone_id: int) -> tuple[str, int] | Response:
    milestone = db.get_or_404(Milestone, milestone_id)
    # 403 for anyone but an assigned reviewer without a conflict, 409 with the reason when
    # there is nothing to decide on now
    submission = reviews.check_may_review(actor(), milestone)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            reviews.decide(
                actor(),
                milestone_id,
                form.decision.data or "",
                form.comment.data or "",
                tokyo_today(datetime.now(UTC)),
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("Your decision was recorded."), "success")
            return redirect(url_for("reviews.queue"))
    view = round_view(actor(), submission)
    page = render_template(
        "milestones/reviews/decide.html",
        form=form,
        milestone=milestone,
        submission=view.submission,
        files=view.files,
        mine=view.mine,
    )
    return page, 422 if form.errors or form.form_errors else 200


@bp.route("/reviewer/conflicts", methods=["GET", "POST"])
@requires(Action.declare_conflict)
def conflicts() -> tuple[str, int] | Response:
    form = ConflictForm()
    locale = str(get_locale() or "ja")
    none = SelectChoice("", _("— none —"))
    form.organization_id.choices = [none] + [
        SelectChoice(str(org.id), org.display_name(locale))
        for org in db.session.scalars(select(Organization).order_by(Organization.name))
    ]
    form.grant_id.choices = [none] + [
        SelectChoice(str(grant.id), _grant_label(grant, locale)) for grant in _my_grants()
    ]
    if form.validate_on_submit():
        try:
            assignments.declare_conflict(
                actor(), form.organization_id.data, form.grant_id.data, form.note.data or ""
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("Your declaration was saved."), "success")
            return redirect(url_for("reviews.conflicts"))
    page = render_template(
        "milestones/reviews/conflicts.html",
        form=form,
        rows=_declarations(),
        grant_label=_grant_label,
        withdraw_form=WithdrawForm(),
    )
    return page, 422 if form.errors or form.form_errors else 200


@bp.post("/reviewer/conflicts/<int:declaration_id>/withdraw")
@requires(Action.declare_conflict)
def withdraw_conflict(declaration_id: int) -> Response:
    if WithdrawForm().validate_on_submit():
        try:
            assignments.withdraw_conflict(actor(), declaration_id)
        except NotFound:
            abort(404)
        flash(_("Your declaration was withdrawn."), "success")
    return redirect(url_for("reviews.conflicts"))


def _my_grants() -> list[Grant]:
    query = (
        select(Grant)
        .join(ReviewerAssignment, ReviewerAssignment.grant_id == Grant.id)
        .where(ReviewerAssignment.reviewer_id == actor().id)
        .options(selectinload(Grant.application), selectinload(Grant.organization))
        .order_by(Grant.number)
    )
    return list(db.session.scalars(query))


def _grant_label(grant: Grant, locale: str) -> str:
    """A number alone does not tell a reviewer which project it is."""
    return f"{grant.number} · {grant.application.title} · {grant.organization.display_name(locale)}"


def _declarations() -> list[tuple[ConflictDeclaration, Organization | None, Grant | None]]:
    declarations = declarations_of(actor())
    org_ids = {d.organization_id for d in declarations if d.organization_id is not None}
    grant_ids = {d.grant_id for d in declarations if d.grant_id is not None}
    orgs = {
        o.id: o
        for o in db.session.scalars(select(Organization).where(Organization.id.in_(org_ids)))
    }
    query = (
        select(Grant)
        .where(Grant.id.in_(grant_ids))
        .options(selectinload(Grant.application), selectinload(Grant.organization))
    )
    grants = {g.id: g for g in db.session.scalars(query)}
    return [
        (d, orgs.get(d.organization_id or 0), grants.get(d.grant_id or 0)) for d in declarations
    ]
