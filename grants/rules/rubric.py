"""The rubric of a rule set: the criteria merit reviewers score applications against.

A rule set document may hold a `rubric` section; it is versioned, published and frozen
with the rules, and an application is reviewed under the rubric of the rule set pinned at
its submission. The section:

    "rubric": {
      "scale": {"min": 1, "max": 5},        # every criterion is scored on this scale
      "weight_total": 100,                  # the criteria's weights add up to exactly this
      "comment_required": true,             # a comment with every score
      "criteria": [
        {"id": "fit", "weight": 20,
         "name": {"ja": "事業趣旨との整合性", "en": "Fit with the programme's aims"},
         "guidance": {"ja": "...", "en": "..."}},
        ...
      ],
      "hearing": {                          # optional: a second stage for a shortlist
        "shortlist": 10,                    # how many of the written ranking are heard
        "scale": ..., "weight_total": ..., "comment_required": ..., "criteria": [...]
      }
    }

Weights are whole numbers of at least 1 that must add up to `weight_total` exactly (they
are not normalised behind the officer's back: a rubric whose weights add up to 90 of 100
is refused with the sum). A reviewer's weighted score is then sum(weight x score) /
weight_total: a number on the criteria's own scale (merit_review.rules).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from grants.core.problems import N_
from grants.core.states import Label
from grants.core.text import control_problem
from grants.rules.schema_fields import Count, DocumentSchema, List, Nested, String

CRITERIA_MAX = 20
NAME_MAX = 200
GUIDANCE_MAX = 2000
SCALE_MAX = 100
WEIGHT_TOTAL_MAX = 10_000
SHORTLIST_MAX = 500
DEFAULT_SCALE = (1, 5)
DEFAULT_WEIGHT_TOTAL = 100
_CRITERION_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _name_text(text: str) -> None:
    if not text.strip():
        raise ValidationError(N_("Give the name."))
    if len(text) > NAME_MAX:
        raise ValidationError(N_("At most %(n)d characters.", n=NAME_MAX))
    if problem := control_problem(text):
        raise ValidationError(problem)


def _guidance_text(text: str) -> None:
    if len(text) > GUIDANCE_MAX:
        raise ValidationError(N_("At most %(n)d characters.", n=GUIDANCE_MAX))
    if problem := control_problem(text, multiline=True):
        raise ValidationError(problem)


def _criterion_id(text: str) -> None:
    if _CRITERION_ID.fullmatch(text) is None:
        raise ValidationError(
            N_("Use lowercase letters, digits and underscores, starting with a letter.")
        )


class NameSchema(DocumentSchema):
    ja = String(required=True, validate=_name_text)
    en = String(required=True, validate=_name_text)


class GuidanceSchema(DocumentSchema):
    ja = String(load_default="", validate=_guidance_text)
    en = String(load_default="", validate=_guidance_text)


class CriterionSchema(DocumentSchema):
    id = String(required=True, validate=_criterion_id)
    name = Nested(NameSchema, required=True)
    guidance = Nested(GuidanceSchema, load_default=lambda: {"ja": "", "en": ""})
    weight = Count(required=True, minimum=1, maximum=WEIGHT_TOTAL_MAX)


class ScaleSchema(DocumentSchema):
    min = Count(required=True, maximum=SCALE_MAX - 1)
    max = Count(required=True, minimum=1, maximum=SCALE_MAX)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "min" in data and "max" in data and data["min"] >= data["max"]:
            raise ValidationError({"max": [N_("The highest score must be above the lowest.")]})


class StageSchema(DocumentSchema):
    """One stage's criteria: the written review, or the hearing."""

    scale = Nested(
        ScaleSchema, load_default=lambda: {"min": DEFAULT_SCALE[0], "max": DEFAULT_SCALE[1]}
    )
    weight_total = Count(minimum=1, maximum=WEIGHT_TOTAL_MAX, load_default=DEFAULT_WEIGHT_TOTAL)
    comment_required = fields.Boolean(
        load_default=True,
        truthy={True},
        falsy={False},
        error_messages={"invalid": N_("Must be true or false.")},
    )
    criteria = List(Nested(CriterionSchema), required=True)

    @validates_schema(skip_on_field_errors=True)
    def _criteria_add_up(self, data: dict[str, Any], **kwargs: Any) -> None:
        criteria = data["criteria"]
        if not criteria:
            raise ValidationError({"criteria": [N_("Give at least one criterion.")]})
        if len(criteria) > CRITERIA_MAX:
            raise ValidationError({"criteria": [N_("At most %(n)d criteria.", n=CRITERIA_MAX)]})
        errors: dict[str, Any] = {}
        seen: set[str] = set()
        for index, criterion in enumerate(criteria):
            if criterion["id"] in seen:
                message = N_("Duplicate criterion id '%(id)s'.", id=criterion["id"])
                errors.setdefault("criteria", {})[str(index)] = {"id": [message]}
            seen.add(criterion["id"])
        total = sum(criterion["weight"] for criterion in criteria)
        if total != data["weight_total"]:
            errors["weight_total"] = [
                N_(
                    "The weights add up to %(sum)d; they must add up to %(total)d.",
                    sum=total,
                    total=data["weight_total"],
                )
            ]
        if errors:
            raise ValidationError(errors)


class HearingSchema(StageSchema):
    shortlist = Count(required=True, minimum=1, maximum=SHORTLIST_MAX)


class RubricSchema(StageSchema):
    hearing = Nested(HearingSchema, load_default=None, allow_none=True)


# --- the rubric as the merit review reads it ---------------------------------------------


@dataclass(frozen=True)
class Criterion:
    id: str
    name: Label
    guidance: Label
    weight: int


@dataclass(frozen=True)
class Stage:
    """One stage's scoring rules: scores are whole numbers from `low` to `high`."""

    low: int
    high: int
    weight_total: int
    comment_required: bool
    criteria: tuple[Criterion, ...]

    @property
    def weights(self) -> dict[str, int]:
        return {criterion.id: criterion.weight for criterion in self.criteria}


@dataclass(frozen=True)
class Rubric:
    written: Stage
    hearing: Stage | None = None
    shortlist: int = 0  # how many of the written ranking go on to the hearing

    def stage(self, name: str) -> Stage | None:
        """The stage named "written" or "hearing" (None when the rubric has no hearing)."""
        return self.written if name == "written" else self.hearing


def rubric_of(document: Mapping[str, Any] | None) -> Rubric | None:
    """The rubric of a normalised rule set document (validate_ruleset), None without one."""
    section = document.get("rubric") if isinstance(document, Mapping) else None
    if not isinstance(section, Mapping):
        return None
    hearing = section.get("hearing")
    return Rubric(
        written=_stage(section),
        hearing=_stage(hearing) if isinstance(hearing, Mapping) else None,
        shortlist=int(hearing["shortlist"]) if isinstance(hearing, Mapping) else 0,
    )


def _stage(section: Mapping[str, Any]) -> Stage:
    return Stage(
        low=int(section["scale"]["min"]),
        high=int(section["scale"]["max"]),
        weight_total=int(section["weight_total"]),
        comment_required=bool(section["comment_required"]),
        criteria=tuple(
            Criterion(
                id=item["id"],
                name=Label(item["name"]["ja"], item["name"]["en"]),
                guidance=Label(item["guidance"]["ja"], item["guidance"]["en"]),
                weight=int(item["weight"]),
            )
            for item in section["criteria"]
        ),
    )
