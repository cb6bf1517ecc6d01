"""The export filters: read from the query string, or posted to prepare a file."""

from __future__ import annotations

from typing import TypeVar

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Optional

from grants.core.http.forms import Form, WholeNumberField
from grants.portfolio.exports import service as exports
from grants.programs.queries import all_programmes
from grants.programs.service import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN


class ExportFilterForm(Form):
    """Filters read from the query string (a GET form: nothing is changed, no CSRF token)."""

    class Meta:
        csrf = False

    program_id = SelectField(_l("Programme"), default="")
    fiscal_year = WholeNumberField(
        _l("Fiscal year"),
        validators=[Optional()],
        minimum=FISCAL_YEAR_MIN,
        maximum=FISCAL_YEAR_MAX,
        description=_l("For example 2026 for April 2026 to March 2027. Empty: every year."),
    )

    def filters(self) -> exports.Filters:
        program = self.program_id.data
        return exports.Filters(int(program) if program else None, self.fiscal_year.data)


F = TypeVar("F", bound=ExportFilterForm)


class TaskForm(ExportFilterForm):
    """The same filters, posted to prepare a file in the background (the app checks the
    CSRF token of every POST; the page sends it)."""


def with_programmes(form: F) -> F:
    locale = str(get_locale() or "ja")
    programs = all_programmes()
    form.program_id.choices = [("", str(_l("All programmes")))] + [
        (str(p.id), f"{p.code} · {p.name(locale)}") for p in programs
    ]
    return form
