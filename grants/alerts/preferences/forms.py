"""The e-mail preference forms: every kind a person receives, or the one kind of a link."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from flask_babel import lazy_gettext as _l
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from grants.core.alert_kinds import AlertKind, Delivery
from grants.core.http.forms import Form

CHOICES = [
    SelectChoice(str(Delivery.now), _l("At once")),
    SelectChoice(str(Delivery.digest), _l("In the daily digest")),
    SelectChoice(str(Delivery.off), _l("Not by e-mail")),
]


def _choice(label: str) -> RadioField:
    return RadioField(label, choices=CHOICES, validators=[InputRequired()])


@cache
def preferences_form(kinds: Sequence[AlertKind]) -> type[Form]:
    """A form with one choice per kind, each field named as its kind (the template labels
    them in the page's language)."""
    fields = {str(kind): _choice(str(kind)) for kind in kinds}
    return type("PreferencesForm", (Form,), fields)


class LinkForm(Form):
    """The one choice a signed link opens."""

    delivery = _choice(_l("E-mail"))
