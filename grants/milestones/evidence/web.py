"""Grantee pages: submitting evidence for a milestone; downloading evidence files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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
from wtforms import MultipleFileField, StringField, TextAreaField
from wtforms.validators import Length

from grants.awards.models import Milestone
from grants.core.calendar import tokyo_today
from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import Form, apply_errors, has_errors
from grants.core.http.limits import accepts_uploads
from grants.core.permissions import Action
from grants.extensions import db
from grants.milestones.evidence import service as evidence

bp = Blueprint("evidence", __name__)
MEGABYTE = 1024 * 1024
PREVIEW_ROWS = 200


class EvidenceForm(Form):
    narrative = TextAreaField(
        _l("Narrative"),
        validators=[Length(max=evidence.NARRATIVE_MAX)],
        description=_l("What was done and what the results show."),
        render_kw={"rows": 10},
    )
    files = MultipleFileField(_l("Files"), render_kw={"accept": ",".join(evidence.ALLOWED_TYPES)})

    def measured_fields(self) -> list[StringField]:
        return [field for field in self if field.name.startswith("measured_")]

    def measured(self) -> dict[int, str]:
        return {int(f.name.removeprefix("measured_")): f.data or "" for f in self.measured_fields()}


def evidence_form(milestone: Milestone) -> EvidenceForm:
    """The form with one measured-value field per success criterion of `milestone`."""

    class Form(EvidenceForm):
        pass

    for index, criterion in enumerate(milestone.criteria):
        label = _(
            "Measured %(metric)s (target %(target)s %(unit)s)",
            metric=criterion.get("metric", ""),
            target=criterion.get("target", ""),
            unit=criterion.get("unit", ""),
        )
        setattr(
            Form,
            f"measured_{index}",
            StringField(
                label,
                validators=[Length(max=evidence.VALUE_MAX)],
                description=_("Unit: %(unit)s", unit=criterion.get("unit", "")),
            ),
        )
    form = Form()
    form.files.description = _files_help(current_app.config["MAX_CONTENT_LENGTH"])
    return form


def _files_help(limit: int | None) -> str:
    """The accepted types and the request size limit (MAX_CONTENT_LENGTH), stated before
    the upload rather than on the server's "too large" page."""
    if not limit:
        return _("PDF, PNG, JPEG, CSV, XLSX or DOCX; you can choose several files.")
    return _(
        "PDF, PNG, JPEG, CSV, XLSX or DOCX; you can choose several files, at most "
        "%(size)s MB in total.",
        size=limit_in_mb(limit),
    )


def limit_in_mb(limit: int) -> str:
    """Whole megabytes, or one decimal rounded down: never more than the server accepts."""
    tenths = limit * 10 // MEGABYTE
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"


@bp.route("/milestones/<int:milestone_id>/evidence", methods=["GET", "POST"])
@accepts_uploads
@requires(Action.submit_evidence)
def new(milestone_id: int) -> tuple[str, int] | Response:
    milestone = db.get_or_404(Milestone, milestone_id)
    # 403 for anyone but the grantee; 409 with the reason for a grant that is not active, a
    # milestone not awaiting evidence, or one after the grant's current milestone.
    evidence.check_may_submit(actor(), milestone)
    form = evidence_form(milestone)
    if form.validate_on_submit():
        uploads = [
            (upload.filename or "", upload.stream, upload.mimetype or "")
            for upload in request.files.getlist(form.files.name)
        ]
        try:
            evidence.submit_evidence(
                actor(),
                milestone_id,
                form.narrative.data or "",
                form.measured(),
                uploads,
                tokyo_today(datetime.now(UTC)),
                upload_folder=_upload_folder(),
            )
        except RuleViolation as error:
            apply_errors(form, _on_form(error))
        else:
            flash(_("The evidence was submitted for review."), "success")
            return redirect(
                url_for(
                    "grant_page.show",
                    grant_id=milestone.grant_id,
                    _anchor=f"milestone-{milestone_id}",
                )
            )
    failed = has_errors(form)  # errors added after validation count too
    if failed and _chose_files(form):
        # A browser cannot fill a file input again: say so, or the good files go unnoticed.
        form.files.errors = [
            *form.files.errors,
            _("None of the chosen files was kept. Choose all the files again before you submit."),
        ]
    page = render_template(
        "milestones/evidence/new.html",
        form=form,
        milestone=milestone,
        max_bytes=current_app.config["MAX_CONTENT_LENGTH"],
        max_mb=limit_in_mb(current_app.config["MAX_CONTENT_LENGTH"] or 0),
    )
    return page, 422 if failed else 200


def _on_form(error: RuleViolation) -> RuleViolation:
    """The error with the service's keys as the form's field names: the value measured for
    criterion i, which the service reports under `measured.<i>`, is the field `measured_<i>`."""
    fields = {key.replace(".", "_"): messages for key, messages in error.fields.items()}
    return RuleViolation(error.message, fields)


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _chose_files(form: EvidenceForm) -> bool:
    return any(upload.filename for upload in request.files.getlist(form.files.name))


@bp.get("/evidence/files/<int:file_id>/preview")
@requires(Action.download_evidence)
def preview(file_id: int) -> str:
    """A CSV file's first rows as a table, formulas shown as inert text."""
    shown = evidence.preview_csv(actor(), file_id, PREVIEW_ROWS, upload_folder=_upload_folder())
    return render_template("milestones/evidence/preview.html", preview=shown, file_id=file_id)


@bp.get("/evidence/files/<int:file_id>")
@requires(Action.download_evidence)
def download(file_id: int) -> Response:
    path, name, content_type = evidence.open_evidence_file(
        actor(), file_id, upload_folder=_upload_folder()
    )
    response = send_file(
        path, mimetype=content_type, as_attachment=True, download_name=name, max_age=0
    )
    response.headers["Content-Type"] = content_type  # a CSV's own charset, not utf-8 added
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
