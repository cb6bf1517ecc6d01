"""Officer pages for rule sets: versions of a programme, a version in words, the rule
editor (a form per rule type), JSON import and export, publishing (the schedule and
amendment settings are in rulesets.settings.web).

Published versions are frozen: every edit URL of one answers 409 before reading the form.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from grants.accounts.models import User
from grants.core.calendar import tokyo_today
from grants.core.errors import Conflict, RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.filters import current_locale, day
from grants.core.http.forms import DayField, Form, apply_errors
from grants.core.http.i18n import localise
from grants.core.permissions import Action
from grants.extensions import db
from grants.programs.models import Program
from grants.rules.checks import RULE_TYPES
from grants.rules.settlement import ratio_text, settlement_rules
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet, RuleSetStatus
from grants.rulesets.queries import ruleset_actions
from grants.rulesets.settings.web import SCHEDULE_KEYS, schedule_texts
from grants.rulesets.web import forms as rule_forms
from grants.rulesets.web.errors import add_error, any_errors, apply_rule_errors, flatten_errors
from grants.rulesets.web.text import phase_groups, rule_type_labels

bp = Blueprint("rulesets", __name__, url_prefix="/officer")


class NewDraftForm(Form):
    preset = SelectField(_l("Start from"))
    preset_title = StringField(_l("Title"), [Optional(), Length(max=rulesets.TITLE_MAX)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.preset.choices = list(preset_labels().items())


class ImportForm(Form):
    file = FileField(
        _l("JSON file"),
        render_kw={"accept": ".json,application/json"},
        validators=[FileRequired(), FileAllowed(["json"], _l("Choose a .json file."))],
    )
    import_title = StringField(_l("Title"), [Optional(), Length(max=rulesets.TITLE_MAX)])


class PublishForm(Form):
    effective_from = DayField(_l("In force from"), validators=[InputRequired()])
    title = StringField(
        _l("Title of the published version"),
        [Optional(), Length(max=rulesets.TITLE_MAX)],
        description=_l(
            "Left empty, a copied draft is published as CODE vN; another keeps its title."
        ),
    )


def preset_labels() -> dict[str, str]:
    return {
        "amed_certified_vc": _("AMED certified-VC programme"),
        "milestone_programme": _("Milestone-type development support"),
    }


def _today() -> Any:
    return tokyo_today(datetime.now(UTC))


# ---- a programme's versions -----------------------------------------------------------------


@bp.get("/programs/<int:program_id>/rulesets")
@requires(Action.edit_ruleset)
def index(program_id: int) -> tuple[str, int]:
    return _index(db.get_or_404(Program, program_id), NewDraftForm(), ImportForm())


def _index(program: Program, new_form: NewDraftForm, import_form: ImportForm) -> tuple[str, int]:
    versions = db.session.scalars(
        select(RuleSet).where(RuleSet.program_id == program.id).order_by(RuleSet.id.desc())
    ).all()
    user_ids = {v.published_by_id for v in versions} | {v.created_by_id for v in versions}
    users = db.session.scalars(select(User).where(User.id.in_(user_ids - {None}))).all()
    status = 422 if new_form.errors or import_form.errors else 200
    page = render_template(
        "rulesets/index.html",
        program=program,
        published=sorted(
            (v for v in versions if v.status == RuleSetStatus.published),
            key=lambda v: v.version or 0,
            reverse=True,
        ),
        drafts=[v for v in versions if v.status == RuleSetStatus.draft],
        in_force=rulesets.in_force(program.id, _today()),
        users={user.id: user for user in users},
        new_form=new_form,
        import_form=import_form,
    )
    return page, status


@bp.post("/programs/<int:program_id>/rulesets/new")
@requires(Action.edit_ruleset)
def new_draft(program_id: int) -> tuple[str, int] | Response:
    program = db.get_or_404(Program, program_id)
    form = NewDraftForm()
    if form.validate_on_submit():
        title = (form.preset_title.data or "").strip() or preset_labels()[form.preset.data]
        try:
            document = rulesets.preset_document(form.preset.data)
            ruleset = rulesets.create_draft(actor(), program.id, title, document)
        except RuleViolation as error:
            _errors_onto(form, error, {"preset": "preset", "title": "preset_title"})
        else:
            flash(_("The draft was created."), "success")
            return redirect(url_for(".show", ruleset_id=ruleset.id))
    return _index(program, form, ImportForm(formdata=None))


@bp.post("/programs/<int:program_id>/rulesets/import")
@requires(Action.edit_ruleset)
def import_json(program_id: int) -> tuple[str, int] | Response:
    program = db.get_or_404(Program, program_id)
    form = ImportForm()
    if form.validate_on_submit():
        upload: FileStorage = form.file.data
        try:
            document = _read_json(upload)
            title = (form.import_title.data or "").strip() or _file_title(upload)
            ruleset = rulesets.create_draft(actor(), program.id, title, document)
        except ValueError as error:
            add_error(form.file, str(error))
        except RuleViolation as error:
            _errors_onto(form, error, {"title": "import_title"}, default="file")
        else:
            flash(_("The file was imported as a new draft."), "success")
            return redirect(url_for(".show", ruleset_id=ruleset.id))
    return _index(program, NewDraftForm(formdata=None), form)


def _read_json(upload: FileStorage) -> Any:
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(_("The file is not UTF-8 text.")) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(_("The file is nested too deeply to be a rule set.")) from None
    except json.JSONDecodeError as error:
        raise ValueError(
            _(
                "The file is not valid JSON: %(problem)s (line %(line)d, column %(column)d).",
                problem=error.msg,
                line=error.lineno,
                column=error.colno,
            )
        ) from None
    except ValueError:  # a number of thousands of digits, which int() refuses to read
        raise ValueError(_("The file holds a number too long to be read.")) from None


def _file_title(upload: FileStorage) -> str:
    stem = PurePath((upload.filename or "").replace("\\", "/")).stem.strip()
    return stem[: rulesets.TITLE_MAX] or _("Imported rule set")


def _errors_onto(
    form: FlaskForm, error: RuleViolation, names: dict[str, str], default: str | None = None
) -> None:
    """Service errors onto the named fields; the rest as lines on `default` or the form."""
    rest = {key: value for key, value in error.fields.items() if key not in names}
    for key, name in names.items():
        for message in error.fields.get(key, []):
            add_error(form[name], message)
    lines = flatten_errors(rest) or ([] if error.fields else [localise(error.message)])
    for line in lines:
        if default is None:
            form.form_errors.append(line)
        else:
            add_error(form[default], line)


@bp.post("/rulesets/<int:ruleset_id>/copy")
@requires(Action.edit_ruleset)
def copy(ruleset_id: int) -> Response:
    draft = rulesets.copy_to_draft(actor(), ruleset_id, current_locale())
    flash(_("A new draft was made from the copy."), "success")
    return redirect(url_for(".show", ruleset_id=draft.id))


@bp.get("/rulesets/<int:ruleset_id>/export")
@requires(Action.edit_ruleset)
def export(ruleset_id: int) -> Response:
    ruleset = db.get_or_404(RuleSet, ruleset_id)
    body = json.dumps(ruleset.document, ensure_ascii=False, indent=2) + "\n"
    response = Response(body.encode("utf-8"), content_type="application/json; charset=utf-8")
    suffix = f"v{ruleset.version}" if ruleset.version else f"draft-{ruleset.id}"
    name = f"{ruleset.program.code}-{suffix}.json"
    response.headers.set("Content-Disposition", "attachment", filename=name)
    return response


# ---- one version ----------------------------------------------------------------------------


@bp.get("/rulesets/<int:ruleset_id>")
@requires(Action.edit_ruleset)
def show(ruleset_id: int) -> tuple[str, int]:
    ruleset = db.get_or_404(RuleSet, ruleset_id)
    data: dict[str, Any] = {"effective_from": _today()}
    if ruleset.status == RuleSetStatus.draft:
        data["title"] = rulesets.suggested_title(ruleset)
    return _show(ruleset, PublishForm(data=data))


def _show(ruleset: RuleSet, publish_form: PublishForm) -> tuple[str, int]:
    users = {ruleset.created_by_id, ruleset.published_by_id} - {None}
    section = ruleset.document.get("schedule") or {}
    page = render_template(
        "rulesets/show.html",
        ruleset=ruleset,
        program=ruleset.program,
        is_draft=ruleset.status == RuleSetStatus.draft,
        groups=phase_groups(ruleset.document),
        schedule=schedule_texts(section),
        schedule_defaulted=set(SCHEDULE_KEYS) - set(section),
        amendments=ruleset.document["amendments"],
        settlement=settlement_rules(ruleset.document),
        ratio_text=ratio_text,
        rule_types=rule_type_labels(),
        publish_form=publish_form,
        may=ruleset_actions(actor(), ruleset),
        users={
            user.id: user for user in db.session.scalars(select(User).where(User.id.in_(users)))
        },
    )
    return page, 422 if publish_form.errors else 200


@bp.post("/rulesets/<int:ruleset_id>/publish")
@requires(Action.publish_ruleset)
def publish(ruleset_id: int) -> tuple[str, int] | Response:
    ruleset = rulesets.editable(ruleset_id)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            published = rulesets.publish(
                actor(), ruleset.id, form.effective_from.data, _today(), form.title.data
            )
        except (RuleViolation, Conflict) as error:  # Conflict: copied from an older version
            apply_errors(form, error)
        else:
            message = _(
                "Version %(version)d is published, in force from %(day)s.",
                version=published.version,
                day=day(published.effective_from),
            )
            flash(message, "success")
            return redirect(url_for(".show", ruleset_id=ruleset.id))
    return _show(ruleset, form)


@bp.post("/rulesets/<int:ruleset_id>/delete")
@requires(Action.edit_ruleset)
def delete(ruleset_id: int) -> Response:
    program_id = rulesets.editable(ruleset_id).program_id
    rulesets.delete_draft(actor(), ruleset_id)
    flash(_("The draft was deleted."), "success")
    return redirect(url_for(".index", program_id=program_id))


# ---- rules ----------------------------------------------------------------------------------


@bp.route("/rulesets/<int:ruleset_id>/rules/new", methods=["GET", "POST"])
@requires(Action.edit_ruleset)
def new_rule(ruleset_id: int) -> tuple[str, int] | Response:
    ruleset = rulesets.editable(ruleset_id)
    rule_type = request.args.get("type", "")
    if rule_type not in RULE_TYPES:
        abort(404)
    return _rule_page(ruleset, rule_type, None)


@bp.route("/rulesets/<int:ruleset_id>/rules/<rule_id>", methods=["GET", "POST"])
@requires(Action.edit_ruleset)
def edit_rule(ruleset_id: int, rule_id: str) -> tuple[str, int] | Response:
    ruleset = rulesets.editable(ruleset_id)
    stored = next((r for r in ruleset.document["rules"] if r["id"] == rule_id), None)
    if stored is None:
        abort(404)
    return _rule_page(ruleset, stored["type"], stored)


@bp.post("/rulesets/<int:ruleset_id>/rules/<rule_id>/delete")
@requires(Action.edit_ruleset)
def delete_rule(ruleset_id: int, rule_id: str) -> Response:
    rulesets.editable(ruleset_id)
    rulesets.delete_rule(actor(), ruleset_id, rule_id)
    flash(_("The rule was deleted."), "success")
    return redirect(url_for(".show", ruleset_id=ruleset_id))


def _rule_page(
    ruleset: RuleSet, rule_type: str, stored: dict[str, Any] | None
) -> tuple[str, int] | Response:
    posted = request.method == "POST"
    fact = request.form.get("param_fact") if posted else request.args.get("fact")
    lay = rule_forms.layout(rule_type, stored, fact)
    form_class = rule_forms.rule_form_class(lay)
    if posted:
        form = form_class()
    elif stored is not None:
        form = form_class(data=rule_forms.rule_to_data(stored, lay))
    else:
        form = form_class(data=rule_forms.new_rule_data(rule_type))
    if posted and "refresh" not in request.form and form.validate_on_submit():
        rule, positions = rule_forms.form_to_rule(form, lay)
        if not any_errors(form):
            rules = ruleset.document["rules"]
            old_id = None if stored is None else stored["id"]
            index = len(rules) if stored is None else rules.index(stored)
            try:
                rulesets.save_rule(actor(), ruleset.id, rule, old_id)
            except RuleViolation as error:
                apply_rule_errors(form, error, index, positions)
            else:
                flash(_("The rule was saved."), "success")
                return redirect(url_for(".show", ruleset_id=ruleset.id) + f"#rule-{rule['id']}")
    page = render_template(
        "rulesets/rule_form.html",
        ruleset=ruleset,
        form=form,
        layout=lay,
        rule_type=rule_type,
        type_label=rule_type_labels().get(rule_type, rule_type),
        stored=stored,
    )
    return page, 422 if any_errors(form) else 200
