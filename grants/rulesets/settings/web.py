"""The officer's page for a draft rule set's settings: alert offsets and amendment limits.

A schedule field left blank keeps its key out of the document, so the scan uses the
installation's configured default (grants.rules.engine.default_schedule).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from wtforms import StringField
from wtforms.validators import InputRequired, Optional

from grants.core.errors import RuleViolation
from grants.core.http.access import actor, requires
from grants.core.http.forms import Form, WholeNumberField
from grants.core.http.i18n import localise
from grants.core.permissions import Action
from grants.core.text import figure
from grants.rules.engine import default_schedule
from grants.rules.schema import DAYS_MAX
from grants.rulesets import service as rulesets
from grants.rulesets.web.errors import add_error, flatten_errors
from grants.rulesets.web.text import SETTING_LABELS

bp = Blueprint("ruleset_settings", __name__, url_prefix="/officer")

SCHEDULE_LISTS = ("due_soon_days", "escalation_days")
SCHEDULE_COUNTS = ("grace_days", "review_waiting_days", "tranche_waiting_days")
_NONE_TYPED = ("-", "—", "ー")  # what an officer types for an empty list of days (after NFKC)
_DAY_SEPARATORS = re.compile(r"[,、\s]+")
_DAY_DIGITS_MAX = 5
SCHEDULE_KEYS = SCHEDULE_LISTS + SCHEDULE_COUNTS


class SettingsForm(Form):
    """A blank schedule field leaves the key out of the document: the configured default."""

    due_soon_days = StringField(SETTING_LABELS["due_soon_days"], [Optional()])
    grace_days = WholeNumberField(SETTING_LABELS["grace_days"], [Optional()], maximum=DAYS_MAX)
    escalation_days = StringField(SETTING_LABELS["escalation_days"], [Optional()])
    review_waiting_days = WholeNumberField(
        SETTING_LABELS["review_waiting_days"], [Optional()], maximum=DAYS_MAX
    )
    tranche_waiting_days = WholeNumberField(
        SETTING_LABELS["tranche_waiting_days"], [Optional()], maximum=DAYS_MAX
    )
    max_extension_days = WholeNumberField(
        SETTING_LABELS["max_extension_days"], [InputRequired()], maximum=DAYS_MAX
    )

    def __init__(self, *args: Any, defaults: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key in SCHEDULE_LISTS:
            self[key].description = _(
                "Separate several numbers with commas, or enter - for none. "
                "Leave blank for the default: %(default)s.",
                default=_days_text(defaults[key]),
            )
        for key in SCHEDULE_COUNTS:
            self[key].description = _(
                "Leave blank for the default: %(default)s.", default=defaults[key]
            )


def schedule_defaults() -> dict[str, Any]:
    """The installation's alert offsets: what a schedule key absent from a rule set means."""
    return asdict(default_schedule(current_app.config))


def _days_text(value: Any, none: str = "-") -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or none
    return str(value)


def schedule_texts(section: Mapping[str, Any]) -> dict[str, str]:
    """Each schedule value as shown: the rule set's own, or else the configured default."""
    effective = {**schedule_defaults(), **section}
    return {key: _days_text(value, none="—") for key, value in effective.items()}


@bp.route("/rulesets/<int:ruleset_id>/settings", methods=["GET", "POST"])
@requires(Action.edit_ruleset)
def settings(ruleset_id: int) -> tuple[str, int] | Response:
    ruleset = rulesets.editable(ruleset_id)
    defaults = schedule_defaults()
    if request.method == "GET":
        form = SettingsForm(data=_settings_data(ruleset.document), defaults=defaults)
    else:
        form = SettingsForm(defaults=defaults)
    if form.validate_on_submit():
        document = _settings_document(form, ruleset.document)
        if document is not None:
            try:
                rulesets.replace_document(actor(), ruleset.id, document)
            except RuleViolation as error:
                _settings_errors(form, error)
            else:
                flash(_("The settings were saved."), "success")
                return redirect(url_for("rulesets.show", ruleset_id=ruleset.id))
    page = render_template("rulesets/settings.html", ruleset=ruleset, form=form)
    return page, 422 if form.errors else 200


def _settings_data(document: Mapping[str, Any]) -> dict[str, Any]:
    """The form's initial data: the document's own schedule values, blank for a default."""
    schedule = document.get("schedule") or {}
    data = {key: schedule[key] for key in SCHEDULE_COUNTS if key in schedule}
    data |= {key: _days_text(schedule[key]) for key in SCHEDULE_LISTS if key in schedule}
    return data | document["amendments"]


def _settings_document(form: SettingsForm, document: dict[str, Any]) -> dict[str, Any] | None:
    """The document with the form's schedule overrides; a blank field sets no key."""
    schedule: dict[str, Any] = {
        key: form[key].data for key in SCHEDULE_COUNTS if form[key].data is not None
    }
    for key in SCHEDULE_LISTS:
        text = (form[key].data or "").strip()
        if not text:
            continue
        try:
            schedule[key] = _parse_days(text)
        except ValueError as error:
            add_error(form[key], str(error))
    if form.errors:
        return None
    amendments = {"max_extension_days": form.max_extension_days.data}
    return {**document, "schedule": schedule, "amendments": amendments}


def _parse_days(text: str) -> list[int]:
    """Days typed as "30, 7" or "３０、７" ("-" for none), each once and at most DAYS_MAX;
    ValueError with the message to show."""
    body = figure(text)
    if body in _NONE_TYPED:
        return []
    parts = [part for part in _DAY_SEPARATORS.split(body) if part]
    # isascii and isdecimal: int() would also read digits such as "٣".
    if not parts or not all(part.isascii() and part.isdecimal() for part in parts):
        raise ValueError(_("Enter whole numbers of days separated by commas."))
    if any(len(part.lstrip("0")) > _DAY_DIGITS_MAX or int(part) > DAYS_MAX for part in parts):
        raise ValueError(_("Enter numbers of days from 0 to %(max)d.", max=DAYS_MAX))
    days = [int(part) for part in parts]
    if len(set(days)) != len(days):
        raise ValueError(_("Give each number of days once."))
    return days


def _settings_errors(form: SettingsForm, error: RuleViolation) -> None:
    """The schema's messages beside the settings they concern; the others above the form."""
    rest = dict(error.fields)
    for section in ("schedule", "amendments"):
        messages = rest.pop(section, None)
        if not isinstance(messages, dict):
            rest.update({section: messages} if messages else {})
            continue
        others = {key: value for key, value in messages.items() if key not in form._fields}
        for key, value in messages.items():
            for line in [] if key in others else flatten_errors(value):
                add_error(form[key], line)
        rest.update({section: others} if others else {})
    lines = flatten_errors(rest) or ([] if error.fields else [localise(error.message)])
    form.form_errors.extend(lines)
