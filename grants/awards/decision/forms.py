"""The officer's decision on a screened application: the reason for a rejection."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from grants.awards import service as awards
from grants.core.http.forms import Form, YenField
from grants.merit_review import service as merit


class RejectForm(Form):
    reason = TextAreaField(
        _l("Reason for rejection"),
        validators=[InputRequired(), Length(max=awards.REASON_MAX)],
        description=_l("Shown to the applicant."),
    )


class AwardForm(Form):
    amount = YenField(
        _l("Award a lower amount (optional)"),
        description=_l(
            "Leave blank for what the award rules give; a lower amount cuts the tranches "
            "from the last one backwards."
        ),
    )
    departure_reason = TextAreaField(
        _l("Reason for departing from the ranking"),
        validators=[Length(max=merit.REASON_MAX)],
        description=_l("Recorded with the award; not shown to the applicant."),
    )
