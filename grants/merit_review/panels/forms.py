"""The officer's forms for panels: one reviewer on or off a panel, every panel filled."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Optional

from grants.core.http.forms import DayField, Form, IdField
from grants.merit_review.rules import StageName, label

ASSIGN = "assign"
UNASSIGN = "unassign"


class AssignForm(Form):
    reviewer_id = IdField(message=_l("Choose a reviewer from the list."))
    stage = HiddenField(validators=[AnyOf([str(s) for s in StageName])])
    due_on = DayField(
        _l("Deadline"),
        validators=[Optional()],
        description=_l("Leave blank for the programme's days to score from today."),
    )


class UnassignForm(Form):
    assignment_id = IdField(message=_l("Choose a reviewer from the list."))


class FillForm(Form):
    stage = SelectField(_l("Stage"))
    due_on = DayField(
        _l("Deadline"),
        validators=[Optional()],
        description=_l("Leave blank for the programme's days to score from today."),
    )

    def __init__(self, *args: Any, locale: str, hearing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stages = list(StageName) if hearing else [StageName.written]
        self.stage.choices = [SelectChoice(str(s), label(s, locale)) for s in stages]
