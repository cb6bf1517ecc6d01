"""The rubric editor's form: a rule set draft's `rubric` section (grants.rules.rubric), its
written stage and an optional hearing, each with rows of criteria (blank rows are left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, FormField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from grants.core.http.forms import Form, SubForm, WholeNumberField
from grants.rules.rubric import (
    CRITERIA_MAX,
    GUIDANCE_MAX,
    NAME_MAX,
    SCALE_MAX,
    SHORTLIST_MAX,
    WEIGHT_TOTAL_MAX,
)

BLANK_ROWS = 2
_PARTS = ("id", "weight", "name.ja", "name.en", "guidance.ja", "guidance.en")


class CriterionForm(SubForm):
    id = StringField(
        _l("Identifier"),
        validators=[Length(max=64)],
        description=_l("Lowercase letters, digits and underscores, e.g. plan."),
    )
    weight = WholeNumberField(_l("Weight"), [Optional()], minimum=1, maximum=WEIGHT_TOTAL_MAX)
    name_ja = StringField(_l("Name in Japanese"), validators=[Length(max=NAME_MAX)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=NAME_MAX)])
    guidance_ja = TextAreaField(
        _l("Guidance for reviewers in Japanese"),
        validators=[Length(max=GUIDANCE_MAX)],
        render_kw={"rows": 2},
    )
    guidance_en = TextAreaField(
        _l("Guidance for reviewers in English"),
        validators=[Length(max=GUIDANCE_MAX)],
        render_kw={"rows": 2},
    )

    def blank(self) -> bool:
        return not any(
            str(field.data or "").strip()
            for field in (self.id, self.weight, self.name_ja, self.name_en)
        ) and not any(str(f.data or "").strip() for f in (self.guidance_ja, self.guidance_en))

    def section(self) -> dict[str, Any]:
        return {
            "id": (self.id.data or "").strip(),
            "weight": self.weight.data,
            "name": {
                "ja": (self.name_ja.data or "").strip(),
                "en": (self.name_en.data or "").strip(),
            },
            "guidance": {"ja": self.guidance_ja.data or "", "en": self.guidance_en.data or ""},
        }


def _scale(prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}scale_min": WholeNumberField(
            _l("Lowest score"), [Optional()], maximum=SCALE_MAX - 1
        ),
        f"{prefix}scale_max": WholeNumberField(
            _l("Highest score"), [Optional()], minimum=1, maximum=SCALE_MAX
        ),
        f"{prefix}weight_total": WholeNumberField(
            _l("The weights add up to"), [Optional()], minimum=1, maximum=WEIGHT_TOTAL_MAX
        ),
        f"{prefix}comment_required": BooleanField(_l("A comment is required with every score")),
        f"{prefix}criteria": FieldList(
            FormField(CriterionForm), min_entries=1, max_entries=CRITERIA_MAX + BLANK_ROWS
        ),
    }


class RubricForm(Form):
    """The written stage's fields, then the hearing's (prefixed hearing_)."""

    hearing = BooleanField(_l("A hearing for a shortlist follows the written review"))
    hearing_shortlist = WholeNumberField(
        _l("Applications shortlisted for the hearing"),
        [Optional()],
        minimum=1,
        maximum=SHORTLIST_MAX,
    )

    def stage_section(self, prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The stage as the document holds it, and the document's paths of its rows' fields
        as the form's field names (for the schema's messages)."""
        criteria: list[dict[str, Any]] = []
        renames: dict[str, str] = {}
        where = "rubric.hearing" if prefix else "rubric"
        for entry in self[f"{prefix}criteria"].entries:
            if entry.form.blank():
                continue
            path = f"{where}.criteria.{len(criteria)}"
            renames[path] = entry.name
            for part in _PARTS:
                renames[f"{path}.{part}"] = f"{entry.name}-{part.replace('.', '_')}"
            criteria.append(entry.form.section())
        section = {
            "scale": {
                "min": self[f"{prefix}scale_min"].data,
                "max": self[f"{prefix}scale_max"].data,
            },
            "weight_total": self[f"{prefix}weight_total"].data,
            "comment_required": bool(self[f"{prefix}comment_required"].data),
            "criteria": criteria,
        }
        for key in ("scale.min", "scale.max", "weight_total", "comment_required", "criteria"):
            renames[f"{where}.{key}"] = f"{prefix}{key.replace('.', '_')}"
        return section, renames

    def rubric(self) -> tuple[dict[str, Any], dict[str, str]]:
        written, renames = self.stage_section("")
        if self.hearing.data:
            hearing, more = self.stage_section("hearing_")
            written["hearing"] = {**hearing, "shortlist": self.hearing_shortlist.data}
            renames |= more | {"rubric.hearing.shortlist": "hearing_shortlist"}
        return written, renames

    def add_rows(self) -> None:
        for prefix in ("", "hearing_"):
            rows = self[f"{prefix}criteria"]
            while (
                len(rows.entries) < CRITERIA_MAX
                and sum(1 for e in rows.entries if e.form.blank()) < BLANK_ROWS
            ):
                rows.append_entry()


for _name, _field in _scale("").items():
    setattr(RubricForm, _name, _field)
for _name, _field in _scale("hearing_").items():
    setattr(RubricForm, _name, _field)


def rubric_data(section: Mapping[str, Any] | None) -> dict[str, Any]:
    """A document's rubric section as the form's initial data."""
    if not section:
        return {"scale_min": 1, "scale_max": 5, "weight_total": 100, "comment_required": True}
    data = _stage_data(section, "")
    hearing = section.get("hearing")
    if hearing:
        data |= _stage_data(hearing, "hearing_")
        data |= {"hearing": True, "hearing_shortlist": hearing.get("shortlist")}
    return data


def _stage_data(section: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}scale_min": section["scale"]["min"],
        f"{prefix}scale_max": section["scale"]["max"],
        f"{prefix}weight_total": section["weight_total"],
        f"{prefix}comment_required": section["comment_required"],
        f"{prefix}criteria": [
            {
                "id": c["id"],
                "weight": c["weight"],
                "name_ja": c["name"]["ja"],
                "name_en": c["name"]["en"],
                "guidance_ja": c["guidance"]["ja"],
                "guidance_en": c["guidance"]["en"],
            }
            for c in section["criteria"]
        ],
    }
