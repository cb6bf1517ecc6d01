"""Settlement pages: a grant's periods; the grantee's results report (draft, submit, correct);
the officers' inspection, return for correction, confirmation and returns received; the
queue of reports waiting for officers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import (
    FieldList,
    FormField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import DayField, Form, SubForm, YenField, apply_errors, has_errors
from grants.core.http.i18n import select_locale
from grants.core.http.limits import accepts_uploads
from grants.core.permissions import Action
from grants.rules.settlement import ExcessMethod, SettlementRules, ratio_text
from grants.settlement import queries, service
from grants.settlement.inspection import service as inspection
from grants.settlement.rules import EDITABLE, Said

bp = Blueprint("settlement", __name__)

BLANK_LINES = 3


class LineForm(SubForm):
    category = SelectField(_l("Category"), validate_choice=False)
    description = StringField(
        _l("Description"), validators=[Optional(), Length(max=service.DESCRIPTION_MAX)]
    )
    claimed = YenField(_l("Amount"), validators=[Optional()], description="")


class ReportForm(Form):
    lines = FieldList(FormField(LineForm), min_entries=1)
    indirect_cost = YenField(_l("Indirect cost"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=service.NOTE_MAX)])
    files = MultipleFileField(_l("Receipts"))


class DecisionForm(SubForm):
    accepted = YenField(_l("Accepted amount"), validators=[InputRequired()], description="")
    reason = TextAreaField(
        _l("Reason for an adjustment"),
        validators=[Optional(), Length(max=service.NOTE_MAX)],
        description=_l("The grantee reads it as you write it."),
    )


class InspectForm(Form):
    lines = FieldList(FormField(DecisionForm))


class ReturnForm(Form):
    note = TextAreaField(
        _l("What to correct"), validators=[InputRequired(), Length(max=service.NOTE_MAX)]
    )


class ConfirmForm(Form):
    excess_method = RadioField(_l("The advance above the final amount"), validators=[Optional()])


class ReturnReceivedForm(Form):
    received_on = DayField(_l("Received on"), validators=[InputRequired()])


class SubmitForm(Form):
    """Only the CSRF token."""


@bp.get("/settlement")
@requires(Action.inspect_results_report)
def index() -> str:
    return render_template("settlement/index.html", rows=queries.waiting(actor()), said=_said)


@bp.get("/grants/<int:grant_id>/settlement")
@requires(Action.view_grant)
def grant(grant_id: int) -> str:
    view = queries.grant_settlement(actor(), grant_id, _today())
    return render_template("settlement/grant.html", view=view, said=_said, ratio_text=ratio_text)


@bp.route("/grants/<int:grant_id>/settlement/<period>", methods=["GET", "POST"])
@accepts_uploads
@requires(Action.file_results_report)
def edit(grant_id: int, period: str) -> tuple[str, int] | Response:
    draft = queries.draft_of(actor(), grant_id, period)
    if draft.report is not None and draft.report.state not in EDITABLE:
        return _back(draft.report.id)  # submitted: the report's page says what happens next
    form = ReportForm() if request.method == "POST" else _filled(draft.report)
    _offer_categories(form, draft.rules)
    if form.validate_on_submit():
        try:
            report = service.save_report(
                actor(),
                grant_id,
                period,
                _lines(form),
                form.indirect_cost.amount or 0,
                form.note.data or "",
                [
                    (upload.filename or "", upload.stream, upload.mimetype or "")
                    for upload in request.files.getlist(form.files.name)
                ],
                _today(),
                upload_folder=_upload_folder(),
            )
            if request.form.get("action") == "submit":
                service.submit_report(actor(), report.id, _today())
        except RuleViolation as error:
            apply_errors(form, error, _renames(form))
        else:
            submitted = request.form.get("action") == "submit"
            flash(
                _("The results report was submitted for inspection.")
                if submitted
                else _("The draft was saved."),
                "success",
            )
            return redirect(url_for("settlement.report", report_id=report.id))
    failed = has_errors(form)
    cap = ratio_text(draft.rules.cap_for(str(draft.grant.organization.kind)))
    page = render_template("settlement/edit.html", form=form, draft=draft, ratio_cap=cap)
    return page, 422 if failed else 200


@bp.get("/settlement/reports/<int:report_id>")
@requires(Action.view_grant)
def report(report_id: int) -> str:
    return _report_page(report_id)[0]


@bp.post("/settlement/reports/<int:report_id>/submit")
@requires(Action.file_results_report)
def submit(report_id: int) -> tuple[str, int] | Response:
    form = SubmitForm()
    if form.validate_on_submit():
        try:
            service.submit_report(actor(), report_id, _today())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The results report was submitted for inspection."), "success")
            return _back(report_id)
    return _report_page(report_id, submit=form)


@bp.post("/settlement/reports/<int:report_id>/return")
@requires(Action.inspect_results_report)
def return_for_correction(report_id: int) -> tuple[str, int] | Response:
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            inspection.return_report(actor(), report_id, form.note.data or "", _today())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The results report was returned to the grantee for correction."), "success")
            return _back(report_id)
    return _report_page(report_id, back=form)


@bp.post("/settlement/reports/<int:report_id>/inspect")
@requires(Action.inspect_results_report)
def inspect(report_id: int) -> tuple[str, int] | Response:
    form = InspectForm()
    if form.validate_on_submit():
        decisions = [
            inspection.LineDecision(entry.form.accepted.amount, entry.form.reason.data or "")
            for entry in form.lines
        ]
        try:
            inspection.inspect_report(actor(), report_id, decisions, _today())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(
                _("The inspection was saved. A second officer confirms the final amount."),
                "success",
            )
            return _back(report_id)
    return _report_page(report_id, inspect=form)


@bp.post("/settlement/reports/<int:report_id>/confirm")
@requires(Action.confirm_final_amount)
def confirm(report_id: int) -> tuple[str, int] | Response:
    form = _confirm_form()
    if form.validate_on_submit():
        try:
            inspection.confirm_final_amount(actor(), report_id, form.excess_method.data, _today())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The final amount was confirmed."), "success")
            return _back(report_id)
    return _report_page(report_id, confirm=form)


@bp.post("/settlement/final-amounts/<int:settlement_id>/return")
@requires(Action.record_excess_return)
def return_received(settlement_id: int) -> tuple[str, int] | Response:
    form = ReturnReceivedForm()
    report_id = queries.report_id_of(settlement_id)
    if form.validate_on_submit():
        try:
            inspection.record_return(actor(), settlement_id, form.received_on.data, _today())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The return was recorded."), "success")
            return _back(report_id)
    return _report_page(report_id, received=form)


@bp.get("/settlement/receipts/<int:receipt_id>")
@requires(Action.view_grant)
def receipt(receipt_id: int) -> Response:
    path, name, content_type = queries.open_receipt(
        actor(), receipt_id, upload_folder=_upload_folder()
    )
    response = send_file(
        path, mimetype=content_type, as_attachment=True, download_name=name, max_age=0
    )
    response.headers["Content-Type"] = content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- helpers -----------------------------------------------------------------------------------


def _report_page(report_id: int, **forms: Form) -> tuple[str, int]:
    view = queries.report_view(actor(), report_id)
    inspect = forms.get("inspect") or _inspect_form(view)
    page = render_template(
        "settlement/report.html",
        view=view,
        inspect_form=inspect,
        return_form=forms.get("back") or ReturnForm(formdata=None),
        confirm_form=forms.get("confirm") or _confirm_form(formdata=None),
        received_form=forms.get("received") or ReturnReceivedForm(formdata=None),
        submit_form=forms.get("submit") or SubmitForm(formdata=None),
        said=_said,
        said_method=lambda value: _said(ExcessMethod(value)) if value else "",
        categories={c.code: c.label(select_locale()) for c in view.rules.categories},
    )
    return page, 422 if any(has_errors(form) for form in forms.values()) else 200


def _inspect_form(view: queries.ReportView) -> InspectForm:
    data = {
        "lines": [
            {
                "accepted": line.claimed if line.accepted is None else line.accepted,
                "reason": line.reason or "",
            }
            for line in view.report.lines
        ]
    }
    return InspectForm(formdata=None, data=data)


def _confirm_form(**kwargs: Any) -> ConfirmForm:
    form = ConfirmForm(**kwargs)
    locale = select_locale()
    form.excess_method.choices = [
        SelectChoice(method.value, Said(method).localised(locale)) for method in ExcessMethod
    ]
    return form


def _filled(report: Any) -> ReportForm:
    rows: list[dict[str, Any]] = []
    if report is not None:
        rows = [
            {"category": line.category, "description": line.description, "claimed": line.claimed}
            for line in report.lines
        ]
    data = {
        "lines": rows + [{}] * BLANK_LINES,
        "indirect_cost": report.indirect_cost if report is not None else None,
        "note": report.note if report is not None else "",
    }
    return ReportForm(formdata=None, data=data)


def _offer_categories(form: ReportForm, rules: SettlementRules) -> None:
    locale = select_locale()
    choices = [SelectChoice(c.code, c.label(locale)) for c in rules.categories]
    for entry in form.lines:
        entry.form.category.choices = choices


def _filled_rows(form: ReportForm) -> list[tuple[int, LineForm]]:
    """The rows with anything typed in them, with their place on the page."""
    return [
        (index, entry.form)
        for index, entry in enumerate(form.lines)
        if (entry.form.description.data or "").strip() or (entry.form.claimed.data or "").strip()
    ]


def _lines(form: ReportForm) -> list[service.LineInput]:
    return [
        service.LineInput(
            row.category.data or "",
            row.description.data or "",
            row.claimed.amount if row.claimed.amount is not None else row.claimed.data,
        )
        for _index, row in _filled_rows(form)
    ]


def _renames(form: ReportForm) -> dict[str, str]:
    """The service's line i is the page's row where it was typed (blank rows left out)."""
    return {f"lines.{i}": f"lines-{index}" for i, (index, _row) in enumerate(_filled_rows(form))}


def _said(member: Any) -> str:
    return Said(member).localised(select_locale())


def _back(report_id: int) -> Response:
    return redirect(url_for("settlement.report", report_id=report_id))


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _today() -> date:
    return tokyo_today(datetime.now(UTC))
