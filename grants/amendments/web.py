"""Amendment pages: the grantee asks for a new due date or a tranche re-split; officers decide."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from grants.amendments import service as amendments
from grants.amendments.queries import (
    AMENDMENTS,
    amendment_list,
    amendments_view,
    open_milestones,
)
from grants.awards.models import Amendment, Grant, Milestone
from grants.awards.queries import grant_subject
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import DayField, Form, YenField, apply_errors
from grants.core.http.i18n import select_locale
from grants.core.http.labels import state_choices
from grants.core.http.listing import ListView, list_query
from grants.core.permissions import Action, require
from grants.core.states import AmendmentKind, AmendmentState, label
from grants.extensions import db
from grants.programs import queries as programme_queries

bp = Blueprint("amendments", __name__)


class RequestForm(Form):
    kind = SelectField(_l("What to change"))
    milestone_id = SelectField(
        _l("Milestone"),
        coerce=int,
        validate_choice=False,  # the service names a milestone that is not open
        description=_l("For a due date change."),
    )
    new_due_date = DayField(
        _l("New due date"), validators=[Optional()], description=_l("For a due date change.")
    )
    reason = TextAreaField(
        _l("Reason"), validators=[InputRequired(), Length(max=amendments.REASON_MAX)]
    )


class DecideForm(Form):
    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice("approve", _l("Approve")), SelectChoice("decline", _l("Decline"))],
        validators=[InputRequired()],
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=amendments.REASON_MAX)],
        description=_l("Required when declining."),
    )


class WithdrawForm(Form):
    """Only the CSRF token."""


def split_field(milestone: Milestone) -> str:
    return f"new_split_{milestone.id}"


def _on_form(error: RuleViolation) -> RuleViolation:
    """The error with the service's keys as the form's field names: a new tranche the service
    reports under `new_split.<milestone id>` is the field `new_split_<milestone id>`."""
    fields = {key.replace(".", "_"): messages for key, messages in error.fields.items()}
    return RuleViolation(error.message, fields)


def request_form(open_ones: list[Milestone], **kwargs: Any) -> RequestForm:
    """The request form with one amount field per open milestone (for a re-split)."""
    locale = select_locale()

    class Form(RequestForm):
        pass

    for m in open_ones:
        setattr(
            Form,
            split_field(m),
            YenField(
                _l("New tranche of %(sequence)d. %(title)s", sequence=m.sequence, title=m.title),
                validators=[Optional()],
                default=m.tranche_amount,
                description="",
            ),
        )
    form = Form(**kwargs)
    form.kind.choices = [SelectChoice(kind.value, label(kind, locale)) for kind in AmendmentKind]
    form.milestone_id.choices = [SelectChoice(m.id, f"{m.sequence}. {m.title}") for m in open_ones]
    return form


@bp.get("/officer/amendments")
@requires(Action.decide_amendment)
def requests() -> str:
    """Every grant's amendment requests, waiting ones first to open (from "My work")."""
    programs = programme_queries.all_programmes()
    asked = list_query(AMENDMENTS, programs)
    locale = select_locale()
    view = ListView(
        AMENDMENTS,
        asked,
        amendment_list(actor(), asked),
        states=state_choices(AmendmentState),
        kinds=[(kind.value, label(kind, locale)) for kind in AmendmentKind],
        programs=programs,
    )
    return render_template("amendments/list.html", view=view)


@bp.route("/grants/<int:grant_id>/amendments", methods=["GET", "POST"])
@requires(Action.view_grant)
def index(grant_id: int) -> tuple[str, int] | Response:
    grant = db.get_or_404(Grant, grant_id)
    subject = grant_subject(actor(), grant)
    require(Action.view_grant, subject)
    if request.method == "POST":
        require(Action.request_amendment, subject)
    open_ones = open_milestones(grant)
    form = request_form(open_ones)
    if form.validate_on_submit():
        split = _split(form, open_ones) if form.kind.data == AmendmentKind.resplit else None
        if not _has_errors(form):
            try:
                amendments.request_amendment(
                    actor(),
                    grant_id,
                    form.kind.data or "",
                    form.milestone_id.data,
                    form.new_due_date.data,
                    split,
                    form.reason.data or "",
                    _today(),
                )
            except RuleViolation as error:
                apply_errors(form, _on_form(error))
            else:
                flash(_("The amendment was requested. An officer will decide."), "success")
                return redirect(url_for("amendments.index", grant_id=grant_id))
    return _page(db.get_or_404(Grant, grant_id), form)


@bp.post("/amendments/<int:amendment_id>/decide")
@requires(Action.decide_amendment)
def decide(amendment_id: int) -> tuple[str, int] | Response:
    amendment = db.get_or_404(Amendment, amendment_id)
    grant_id = amendment.grant_id
    form = DecideForm(prefix=f"a{amendment_id}")
    if form.validate_on_submit():
        try:
            amendments.decide_amendment(
                actor(),
                amendment_id,
                form.decision.data == "approve",
                form.note.data or "",
                _today(),
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The amendment was decided."), "success")
            return redirect(url_for("amendments.index", grant_id=grant_id))
    grant = db.get_or_404(Grant, grant_id)
    return _page(grant, request_form(open_milestones(grant)), {amendment_id: form})


@bp.post("/amendments/<int:amendment_id>/withdraw")
@requires(Action.request_amendment)
def withdraw(amendment_id: int) -> Response:
    amendment = db.get_or_404(Amendment, amendment_id)
    grant_id = amendment.grant_id
    if WithdrawForm().validate_on_submit():
        amendments.withdraw_amendment(actor(), amendment_id)
        flash(_("The amendment request was withdrawn."), "success")
    return redirect(url_for("amendments.index", grant_id=grant_id))


def _split(form: RequestForm, open_ones: list[Milestone]) -> dict[int, int]:
    """The typed amounts; a field left empty leaves that tranche out of the re-split."""
    split: dict[int, int] = {}
    for milestone in open_ones:
        amount = getattr(form, split_field(milestone)).amount
        if amount is not None:
            split[milestone.id] = amount
    return split


def _page(
    grant: Grant, form: RequestForm, decide_forms: dict[int, DecideForm] | None = None
) -> tuple[str, int]:
    view = amendments_view(actor(), grant)
    forms = {
        amendment_id: (decide_forms or {}).get(amendment_id)
        or DecideForm(prefix=f"a{amendment_id}", formdata=None)
        for amendment_id in view.decidable
    }
    page = render_template(
        "amendments/index.html",
        view=view,
        grant=grant,
        rows=view.rows,
        milestones={m.id: m for m in grant.milestones},
        split_fields=[
            (m, getattr(form, split_field(m)))
            for m in view.open_ones
            if hasattr(form, split_field(m))
        ],
        form=form,
        decide_forms=forms,
        withdraw_form=WithdrawForm(),
        iso_day=date.fromisoformat,
        # the form's parts are headed by the kinds' own names, as the requests are
        kind_labels={kind.value: label(kind, select_locale()) for kind in AmendmentKind},
    )
    failed = _has_errors(form) or any(_has_errors(f) for f in forms.values())
    return page, 422 if failed else 200


def _has_errors(form: FlaskForm) -> bool:
    """Field errors added after validation count too (Form.errors is computed once)."""
    return bool(form.form_errors) or any(field.errors for field in form)


def _today() -> date:
    return tokyo_today(datetime.now(UTC))
