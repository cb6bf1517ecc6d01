"""The form to post a message."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, MultipleFileField, TextAreaField
from wtforms.validators import Length

from grants.conversations.rules import BODY_MAX
from grants.core.http.forms import Form
from grants.milestones.evidence.service import ALLOWED_TYPES


class MessageForm(Form):
    body = TextAreaField(_l("Message"), validators=[Length(max=BODY_MAX)], render_kw={"rows": 5})
    internal = BooleanField(
        _l("Internal note"),
        description=_l("Only the programme officers and the grant's reviewers see it."),
    )
    files = MultipleFileField(
        _l("Files"),
        render_kw={"accept": ",".join(ALLOWED_TYPES)},
        description=_l("PDF, PNG, JPEG, CSV, XLSX or DOCX; you can choose several files."),
    )
