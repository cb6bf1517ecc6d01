"""The reviewer's forms: a score and a comment for each criterion of the stage's rubric, and
the declaration of a conflict with the application."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from grants.core.http.forms import Form
from grants.merit_review.rules import COMMENT_MAX, ScoreEntry
from grants.merit_review.scores.service import NOTE_MAX
from grants.rules.rubric import Stage


class ScoresForm(Form):
    """One radio group (the scale) and one comment per criterion, built for the stage."""


def scores_form(stage: Stage, locale: str, **kwargs: Any) -> ScoresForm:
    fields: dict[str, Any] = {}
    choices = [SelectChoice(value, str(value)) for value in range(stage.low, stage.high + 1)]
    for criterion in stage.criteria:
        fields[f"score_{criterion.id}"] = RadioField(
            criterion.name.text(locale),
            choices=choices,
            coerce=int,
            validators=[Optional()],
            description=criterion.guidance.text(locale),
        )
        fields[f"comment_{criterion.id}"] = TextAreaField(
            _l("Comment"), validators=[Length(max=COMMENT_MAX)], render_kw={"rows": 4}
        )
    form_class = type("StageScoresForm", (ScoresForm,), fields)
    return form_class(**kwargs)  # type: ignore[no-any-return]


def entries(form: ScoresForm, stage: Stage) -> list[ScoreEntry]:
    return [
        ScoreEntry(
            criterion.id,
            form[f"score_{criterion.id}"].data,
            form[f"comment_{criterion.id}"].data or "",
        )
        for criterion in stage.criteria
    ]


def renames(stage: Stage) -> dict[str, str]:
    """The service's `scores.<id>.score|comment` as the form's fields."""
    found = {}
    for criterion in stage.criteria:
        found[f"scores.{criterion.id}.score"] = f"score_{criterion.id}"
        found[f"scores.{criterion.id}.comment"] = f"comment_{criterion.id}"
    return found


class DeclarationForm(Form):
    note = TextAreaField(
        _l("What the conflict is"),
        validators=[Length(max=NOTE_MAX)],
        description=_l("For example: a joint research project within the last five years."),
        render_kw={"rows": 3},
    )
