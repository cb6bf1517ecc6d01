"""Officer pages: funding programmes and their fiscal-year budget pools."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from grants.core.calendar import fiscal_year, tokyo_today
from grants.core.db import paginate
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import DayField, Form, WholeNumberField, YenField, apply_errors
from grants.core.http.labels import modality_labels, theme_labels
from grants.core.http.listing import page_number
from grants.core.permissions import Action
from grants.extensions import db
from grants.programs import queries as programme_queries
from grants.programs import service as programs
from grants.programs.models import RELEASE_APPROVAL_THRESHOLD, Program
from grants.programs.service import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN

bp = Blueprint("programs", __name__, url_prefix="/officer/programs")
PAGE_SIZE = 50


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProgramForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=30)],
        description=_l("2 to 30 letters A-Z, digits or hyphens, e.g. AMED-VC-7."),
    )
    name_ja = StringField(_l("Name in Japanese"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    application_opens = DayField(_l("Applications open"), validators=[InputRequired()])
    application_closes = DayField(_l("Applications close"), validators=[InputRequired()])
    end_date = DayField(_l("Programme end date"), validators=[InputRequired()])
    themes = CheckboxListField(_l("Themes"))
    modalities = CheckboxListField(_l("Modalities"))
    reviewers_anonymous = BooleanField(
        _l("Anonymous reviewers"),
        default=True,
        description=_l(
            'Applicants see the reviewers as "Reviewer 1", "Reviewer 2" instead of their names.'
        ),
    )
    separate_award_and_release = BooleanField(
        _l("The officer who awarded a grant does not release its tranches"),
        default=True,
        description=_l("Separation of duties: another officer releases them."),
    )
    release_approval_threshold = YenField(
        _l("Two-officer release above (yen)"),
        validators=[InputRequired()],
        description=_l(
            "A tranche of more than this is prepared by one officer and approved by another; "
            "0 asks for two officers on every release."
        ),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.themes.choices = list(theme_labels().items())
        self.modalities.choices = list(modality_labels().items())

    def to_data(self) -> programs.ProgramData:
        return programs.ProgramData(
            code=self.code.data or "",
            name_ja=self.name_ja.data or "",
            name_en=self.name_en.data or "",
            application_opens=self.application_opens.data,
            application_closes=self.application_closes.data,
            end_date=self.end_date.data,
            themes=tuple(self.themes.data or ()),
            modalities=tuple(self.modalities.data or ()),
            reviewers_anonymous=bool(self.reviewers_anonymous.data),
            separate_award_and_release=bool(self.separate_award_and_release.data),
            release_approval_threshold=self.release_approval_threshold.amount or 0,
        )


class AppropriationForm(Form):
    fiscal_year = WholeNumberField(
        _l("Fiscal year"),
        validators=[InputRequired()],
        minimum=FISCAL_YEAR_MIN,
        maximum=FISCAL_YEAR_MAX,
        description=_l("The year in which the fiscal year starts (April), e.g. 2026."),
    )
    appropriation = YenField(_l("Appropriation (yen)"), validators=[InputRequired()])

    def amount(self) -> int:
        value = self.appropriation.amount
        assert value is not None  # the field has been validated
        return value


@bp.get("")
@requires(Action.manage_programs)
def index() -> str:
    query = select(Program).order_by(Program.application_opens.desc(), Program.code)
    page = paginate(query, page_number(), PAGE_SIZE)
    return render_template("programs/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.manage_programs)
def new() -> tuple[str, int] | Response:
    form = ProgramForm(release_approval_threshold=RELEASE_APPROVAL_THRESHOLD)
    if form.validate_on_submit():
        try:
            program = programs.create_program(actor(), form.to_data())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The programme was created."), "success")
            return redirect(url_for("programs.show", program_id=program.id))
    return render_template("programs/form.html", form=form, program=None), _status(form)


@bp.route("/<int:program_id>/edit", methods=["GET", "POST"])
@requires(Action.manage_programs)
def edit(program_id: int) -> tuple[str, int] | Response:
    program = db.get_or_404(Program, program_id)
    form = ProgramForm(obj=program)
    if form.validate_on_submit():
        try:
            programs.update_program(actor(), program_id, form.to_data())
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The programme was saved."), "success")
            return redirect(url_for("programs.show", program_id=program_id))
    return render_template("programs/form.html", form=form, program=program), _status(form)


@bp.get("/<int:program_id>")
@requires(Action.manage_programs)
def show(program_id: int) -> tuple[str, int]:
    program = db.get_or_404(Program, program_id)
    form = AppropriationForm(fiscal_year=fiscal_year(tokyo_today(datetime.now(UTC))))
    return _show(program, form)


@bp.post("/<int:program_id>/pools")
@requires(Action.manage_programs)
def set_appropriation(program_id: int) -> tuple[str, int] | Response:
    program = db.get_or_404(Program, program_id)
    form = AppropriationForm()
    if form.validate_on_submit():
        year = form.fiscal_year.data
        try:
            programs.set_appropriation(actor(), program_id, year, form.amount())  # type: ignore[arg-type]
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The appropriation was saved."), "success")
            return redirect(url_for("programs.show", program_id=program_id, _anchor="pools"))
    return _show(program, form)


def _show(program: Program, form: AppropriationForm) -> tuple[str, int]:
    page = render_template(
        "programs/show.html",
        program=program,
        pools=programme_queries.pools_by_year(program.id),
        form=form,
        theme_labels=theme_labels(),
        modality_labels=modality_labels(),
    )
    return page, _status(form)


def _status(form: FlaskForm) -> int:
    """A form sent back with errors answers 422, so scripts and tests can tell."""
    return 422 if form.errors or form.form_errors else 200
