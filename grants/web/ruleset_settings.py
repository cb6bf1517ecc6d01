"""The officer's page for a draft rule set's settings: alert offsets and amendment limits.

A schedule field left blank keeps its key out of the document, so the scan uses the
installation's configured default (services.alerts_scan.default_schedule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Optional

from grants.domain.errors import RuleViolation
from grants.domain.permissions import Action
from grants.services import alerts_scan, rulesets
from grants.web.access import actor, requires
from grants.web.rule_errors import add_error, flatten_errors

bp = Blueprint("ruleset_settings", __name__, url_prefix="/officer")

SCHEDULE_LISTS = ("due_soon_days", "escalation_days")
SCHEDULE_COUNTS = ("grace_days", "review_waiting_days", "tranche_waiting_days")
_NONE_TYPED = ("-", "—", "－")  # what an officer types for an empty list of days
SCHEDULE_KEYS = SCHEDULE_LISTS + SCHEDULE_COUNTS


class SettingsForm(FlaskForm):
    """A blank schedule field leaves the key out of the document: the configured default."""

    due_soon_days = StringField(_l("Reminders before a due date (days)"), [Optional()])
    grace_days = IntegerField(_l("Grace period after a due date (days)"), [Optional()])
    escalation_days = StringField(
        _l("Escalation to the officer after (days overdue)"), [Optional()]
    )
    review_waiting_days = IntegerField(_l("Reviews left waiting after (days)"), [Optional()])
    tranche_waiting_days = IntegerField(_l("Tranches left waiting after (days)"), [Optional()])
    max_extension_days = IntegerField(
        _l("Longest extension by amendment (days)"), [InputRequired()]
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
    return asdict(alerts_scan.default_schedule())


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
        days = _parse_days(text)
        if days is None:
            add_error(form[key], _("Enter whole numbers of days separated by commas."))
        else:
            schedule[key] = days
    if form.errors:
        return None
    amendments = {"max_extension_days": form.max_extension_days.data}
    return {**document, "schedule": schedule, "amendments": amendments}


def _parse_days(text: str) -> list[int] | None:
    """Days typed as "30, 7" ("-" for none); None if that is not what was typed."""
    if text in _NONE_TYPED:
        return []
    parts = [part.strip() for part in text.split(",") if part.strip()]
    # isdecimal, not isdigit: int() refuses digits such as "²".
    if not parts or not all(part.isdecimal() for part in parts):
        return None
    return [int(part) for part in parts]


def _settings_errors(form: SettingsForm, error: RuleViolation) -> None:
    rest = dict(error.fields)
    for section in ("schedule", "amendments"):
        messages = rest.pop(section, None)
        if not isinstance(messages, dict):
            rest.update({section: messages} if messages else {})
            continue
        for key, value in messages.items():
            if key in form._fields:
                for line in flatten_errors(value):
                    add_error(form[key], line)
            else:
                rest[f"{section} › {key}"] = value
    form.form_errors.extend(flatten_errors(rest) or ([] if error.fields else [error.message]))
