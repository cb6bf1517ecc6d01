"""The programme's merit review settings form."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from grants.core.http.forms import Form, WholeNumberField
from grants.merit_review import service as merit
from grants.merit_review.rules import Aggregation, Normalisation, label
from grants.programs.models import Program


class SettingsForm(Form):
    panel_size = WholeNumberField(
        _l("Reviewers per application"),
        [InputRequired()],
        minimum=1,
        maximum=merit.PANEL_MAX,
        description=_l("Only reviewers without a conflict of interest count."),
    )
    review_days = WholeNumberField(
        _l("Days a reviewer has to score"),
        [InputRequired()],
        minimum=1,
        maximum=merit.REVIEW_DAYS_MAX,
        description=_l("From the assignment; an officer may set another deadline."),
    )
    aggregation = SelectField(_l("An application's score"))
    normalisation = SelectField(
        _l("Normalisation per reviewer"),
        description=_l(
            "Rank-based: each reviewer's scores are replaced by their rank among that "
            "reviewer's applications, so that harsh and lenient reviewers weigh alike."
        ),
    )
    disagreement = StringField(
        _l("Spread that flags a disagreement"),
        [InputRequired(), Length(max=20)],
        description=_l(
            "On the rubric's scale, e.g. 1.5: reviewers whose weighted scores lie this far "
            "apart or more are flagged."
        ),
    )

    def __init__(self, *args: Any, locale: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aggregation.choices = [SelectChoice(str(a), label(a, locale)) for a in Aggregation]
        self.normalisation.choices = [SelectChoice(str(n), label(n, locale)) for n in Normalisation]

    def to_data(self) -> merit.SettingsData:
        return merit.SettingsData(
            panel_size=self.panel_size.data,
            review_days=self.review_days.data,
            aggregation=self.aggregation.data or "",
            normalisation=self.normalisation.data or "",
            disagreement=self.disagreement.data or "",
        )


def settings_data(program: Program) -> dict[str, Any]:
    return {
        "panel_size": program.merit_panel_size,
        "review_days": program.merit_review_days,
        "aggregation": program.merit_aggregation,
        "normalisation": program.merit_normalisation,
        "disagreement": program.merit_disagreement,
    }
