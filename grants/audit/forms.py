"""The audit log's filters, read from the query string."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional

from grants.audit.queries import FILTER_MAX, AuditFilters
from grants.core.http.forms import DayField, Form


class AuditFilterForm(Form):
    """A GET form: nothing is changed, no CSRF token."""

    class Meta:
        csrf = False

    actor = StringField(
        _l("Who"),
        validators=[Optional(), Length(max=FILTER_MAX)],
        description=_l("Part of the e-mail address, or system."),
    )
    action = StringField(
        _l("Action"),
        validators=[Optional(), Length(max=FILTER_MAX)],
        description=_l("For example tranche.release, or tranche for every tranche action."),
    )
    object_type = StringField(
        _l("Object type"),
        validators=[Optional(), Length(max=FILTER_MAX)],
        description=_l("For example grant_award, milestone, user_account, evidence_file."),
    )
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=FILTER_MAX)])
    date_from = DayField(_l("From"), validators=[Optional()])
    date_to = DayField(_l("Until"), validators=[Optional()], description=_l("Days in Japan time."))

    def filters(self) -> AuditFilters:
        return AuditFilters(
            actor=_text(self.actor.data),
            action=_text(self.action.data),
            object_type=_text(self.object_type.data),
            object_id=_text(self.object_id.data),
            date_from=self.date_from.data,
            date_to=self.date_to.data,
        )

    def query_args(self) -> dict[str, str]:
        """The filters as the query string of the pager's and the download's links."""
        return {
            name: str(value)
            for name, value in (
                ("actor", self.actor.data),
                ("action", self.action.data),
                ("object_type", self.object_type.data),
                ("object_id", self.object_id.data),
                ("date_from", self.date_from.raw_data[0] if self.date_from.raw_data else None),
                ("date_to", self.date_to.raw_data[0] if self.date_to.raw_data else None),
            )
            if value
        }


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None
