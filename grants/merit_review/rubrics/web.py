"""Officer page: a rule set's rubric. A draft's rubric is edited here (saved into its
document, validated by the rule set schema with a message beside each field); a published
version's is shown as it was frozen."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.api import dotted
from grants.core.http.forms import apply_errors, has_errors
from grants.core.http.i18n import localise
from grants.core.permissions import Action
from grants.merit_review.rubrics.forms import RubricForm, rubric_data
from grants.rules.presets import amed_rubric
from grants.rules.rubric import rubric_of
from grants.rulesets import service as rulesets
from grants.rulesets.models import RuleSet, RuleSetStatus

bp = Blueprint("merit_rubrics", __name__, url_prefix="/officer/rulesets")


@bp.route("/<int:ruleset_id>/rubric", methods=["GET", "POST"])
@requires(Action.edit_ruleset)
def edit(ruleset_id: int) -> tuple[str, int] | Response:
    ruleset = rulesets.get(ruleset_id)
    if ruleset.status != RuleSetStatus.draft:
        return _page(ruleset, None), 200
    if request.method == "GET":
        form = RubricForm(data=rubric_data(ruleset.document.get("rubric")))
    elif "preset" in request.form:
        form = RubricForm(formdata=None, data=rubric_data(amed_rubric()))
    else:
        form = RubricForm()
        if "remove" in request.form and form.validate_on_submit():
            rulesets.replace_document(actor(), ruleset.id, {**ruleset.document, "rubric": None})
            flash(_("The rubric was removed."), "success")
            return redirect(url_for("rulesets.show", ruleset_id=ruleset.id))
        if "save" in request.form and form.validate_on_submit():
            section, renames = form.rubric()
            try:
                document = {**rulesets.editable(ruleset.id).document, "rubric": section}
                rulesets.replace_document(actor(), ruleset.id, document)
            except RuleViolation as error:
                flat = RuleViolation(error.message, dotted(error.fields))
                apply_errors(form, flat, renames)
            else:
                flash(_("The rubric was saved."), "success")
                return redirect(url_for("rulesets.show", ruleset_id=ruleset.id))
    form.add_rows()
    return _page(ruleset, form), 422 if has_errors(form) else 200


def _page(ruleset: RuleSet, form: RubricForm | None) -> str:
    return render_template(
        "merit_review/rubrics/edit.html",
        ruleset=ruleset,
        form=form,
        rubric=rubric_of(ruleset.document),
        localise=localise,
    )
