"""Admin pages: 認定VC certifications of venture-capital organisations, one at a time or a
whole certified-VC list from a CSV file."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import FileField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from grants.accounts.certified_vcs import service as certifications
from grants.accounts.certified_vcs.models import VcCertification
from grants.accounts.certified_vcs.queries import may_revoke
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import DayField, Form, apply_errors
from grants.core.http.i18n import localise
from grants.core.permissions import Action
from grants.extensions import db

bp = Blueprint("certified_vcs", __name__, url_prefix="/admin/certified-vcs")


class CertificationForm(Form):
    organization_id = SelectField(_l("Venture-capital organization"), coerce=int)
    certified_on = DayField(_l("Certified on"), validators=[InputRequired()])
    expires_on = DayField(
        _l("Expires on"),
        validators=[Optional()],
        description=_l("Last day of the certification; leave empty if it has no end date."),
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "ja")
        self.organization_id.choices = [
            (org.id, org.display_name(locale)) for org in certifications.vc_organizations()
        ]


class RevocationForm(Form):
    revoked_on = DayField(
        _l("Revoked on"),
        validators=[InputRequired()],
        description=_l("The first day on which the VC is no longer certified."),
    )
    note = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class ImportForm(Form):
    file = FileField(
        _l("Certified-VC list (CSV)"),
        description=_l("UTF-8 or Shift_JIS (as Excel saves it), the columns named on line 1."),
        render_kw={"accept": ".csv,text/csv"},
    )


def status_labels() -> dict[str, str]:
    return {
        certifications.CERTIFIED: _("Certified"),
        certifications.REVOKED: _("Revoked"),
        certifications.EXPIRED: _("Expired"),
        certifications.NOT_CERTIFIED: _("Not certified"),
    }


@bp.get("")
@requires(Action.manage_certified_vcs)
def index() -> str:
    today = _today()
    orgs = certifications.vc_organizations()
    history = certifications.history_by_org(org.id for org in orgs)
    rows = [
        (org, history[org.id], certifications.status_from(history[org.id], today)) for org in orgs
    ]
    revocable = {c.id for certs in history.values() for c in certs if may_revoke(c)}
    return render_template(
        "accounts/certified_vcs/index.html",
        rows=rows,
        revocable=revocable,
        today=today,
        status_labels=status_labels(),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.manage_certified_vcs)
def new() -> tuple[str, int] | Response:
    form = CertificationForm()
    if request.method == "GET":
        form.organization_id.data = request.args.get("organization_id", type=int)
    if form.validate_on_submit():
        try:
            certifications.certify_vc(
                actor(),
                form.organization_id.data,
                form.certified_on.data,
                form.expires_on.data,
                form.note.data,
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The certification was recorded."), "success")
            return redirect(url_for("certified_vcs.index"))
    return render_template("accounts/certified_vcs/new.html", form=form), _status(form)


@bp.route("/<int:certification_id>/revoke", methods=["GET", "POST"])
@requires(Action.manage_certified_vcs)
def revoke(certification_id: int) -> tuple[str, int] | Response:
    certification = db.get_or_404(VcCertification, certification_id)
    form = RevocationForm()
    if request.method == "GET":
        form.revoked_on.data = max(_today(), certification.certified_on)
    if form.validate_on_submit():
        try:
            certifications.revoke_certification(
                actor(), certification_id, form.revoked_on.data, form.note.data
            )
        except RuleViolation as error:
            apply_errors(form, error)
        else:
            flash(_("The certification was revoked."), "success")
            return redirect(url_for("certified_vcs.index"))
    page = render_template(
        "accounts/certified_vcs/revoke.html",
        form=form,
        certification=certification,
        may_revoke=may_revoke(certification),
    )
    return page, _status(form)


def _today() -> date:
    return tokyo_today(datetime.now(UTC))


def _status(form: FlaskForm) -> int:
    """A form sent back with errors answers 422, so scripts and tests can tell."""
    return 422 if form.errors or form.form_errors else 200


@bp.route("/import", methods=["GET", "POST"])
@requires(Action.manage_certified_vcs)
def import_list() -> tuple[str, int]:
    """Import a certified-VC list: every line's outcome is shown; a wrong line stops all."""
    form = ImportForm()
    lines: list[certifications.ImportedLine] | None = None
    if form.validate_on_submit():
        upload = request.files.get(form.file.name)
        data = upload.read() if upload is not None and upload.filename else b""
        try:
            lines = certifications.import_certifications(actor(), data)
        except certifications.ImportRefused as error:
            lines = error.lines
            form.form_errors.append(localise(error.message))
        except RuleViolation as error:
            form.file.errors = [*form.file.errors, *localise(error.fields).get("file", [])]
        else:
            flash(_("The certified-VC list was imported."), "success")
    page = render_template(
        "accounts/certified_vcs/import.html",
        form=form,
        lines=lines,
        outcome_labels=outcome_labels(),
        column_labels=column_labels(),
    )
    return page, _status(form)


def outcome_labels() -> dict[str, str]:
    return {
        certifications.CERTIFY: _("New certification"),
        certifications.UNCHANGED: _("Already on record"),
        certifications.REFUSED: _("Wrong"),
    }


def column_labels() -> dict[str, str]:
    """The names of a line's problems: its columns, or the line as a whole."""
    return {
        "corporate_number": _("Corporate number (法人番号)"),
        "certified_on": _("Certified on"),
        "expires_on": _("Expires on"),
        "note": _("Note"),
        "name": _("Name"),
        "line": _("Line"),
    }
