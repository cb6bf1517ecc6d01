"""The officer's decision on a screened application: the reason for a rejection."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from grants.awards import service as awards
from grants.core.http.forms import Form


class RejectForm(Form):
    reason = TextAreaField(
        _l("Reason for rejection"),
        validators=[InputRequired(), Length(max=awards.REASON_MAX)],
        description=_l("Shown to the applicant."),
    )
