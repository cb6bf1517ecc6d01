"""Forms of the applicant area: the application, its milestone plan and its co-investments.

Repeated rows are WTForms FieldLists; rows left entirely blank (the empty row offered for
adding one more) are dropped before the service sees the list, and the `Renames` the forms
return map the service's positional error paths back onto the rows as they appear on the
page (for grants.core.http.forms.apply_errors).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants.applications.checks import (
    CO_INVESTMENTS_MAX,
    CRITERIA_MAX,
    CRITERION_PART_MAX,
    MILESTONES_MAX,
    TITLE_MAX,
    ApplicationData,
    CoInvestmentData,
    CriterionData,
    MilestoneData,
)
from grants.core.errors import RuleViolation
from grants.core.http.forms import DayField, Form, Renames, SubForm, YenField
from grants.core.http.i18n import localise
from grants.core.http.labels import modality_labels, stage_labels, theme_labels


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def optional_int(value: Any) -> int | None:
    """Coerce a select's value: "" is no choice; anything not an integer raises ValueError."""
    if value is None or value == "":
        return None
    return int(value)


class ApplicationForm(Form):
    program_id = SelectField(_l("Programme"), coerce=optional_int)
    title = StringField(_l("Project title"), validators=[InputRequired(), Length(max=TITLE_MAX)])
    theme = SelectField(_l("Theme"))
    modality = SelectField(_l("Modality"))
    stage = SelectField(_l("Development stage"))
    eligible_cost = YenField(
        _l("Eligible cost (yen)"),
        [InputRequired()],
        description=_l("Includes the indirect cost and the VCs' share."),
    )
    indirect_cost = YenField(_l("Indirect cost (yen)"), [InputRequired()])
    requested_subsidy = YenField(_l("Requested subsidy (yen)"), [InputRequired()])
    project_start = DayField(_l("Project start"), validators=[InputRequired()])
    project_end = DayField(_l("Project end"), validators=[InputRequired()])

    def __init__(self, *args: Any, programs: Iterable[Any] = (), locale: str = "ja", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.program_id.choices = choices(
            [("", _("Choose a programme"))]
            + [(p.id, f"{p.name(locale)} ({p.code})") for p in programs]
        )
        # The chosen programme's themes and modalities (any open one's before it is chosen);
        # the service still checks them against the programme.
        programs = list(programs)
        chosen = [p for p in programs if p.id == self.program_id.data] or programs
        self.theme.choices = _offered(theme_labels(), [p.themes for p in chosen], self.theme.data)
        self.modality.choices = _offered(
            modality_labels(), [p.modalities for p in chosen], self.modality.data
        )
        self.stage.choices = choices(stage_labels().items())

    def to_data(self) -> ApplicationData:
        return ApplicationData(
            program_id=self.program_id.data,
            title=self.title.data or "",
            theme=self.theme.data or "",
            modality=self.modality.data or "",
            stage=self.stage.data or "",
            eligible_cost=self.eligible_cost.amount,
            indirect_cost=self.indirect_cost.amount,
            requested_subsidy=self.requested_subsidy.amount,
            project_start=self.project_start.data,
            project_end=self.project_end.data,
        )


def _offered(
    labels: dict[str, str], accepted: Iterable[Iterable[str]], current: Any
) -> list[SelectChoice]:
    """The vocabulary's values some programme accepts, in the vocabulary's order, and the
    value the form holds (a draft saved before the programme changed keeps its own, for the
    service to flag rather than the select to change it unseen)."""
    allowed = {value for values in accepted for value in values} | {current}
    return choices((value, label) for value, label in labels.items() if value in allowed)


# ---- the milestone plan ----------------------------------------------------------------------


class CriterionForm(SubForm):
    metric = StringField(_l("Metric"), validators=[Length(max=CRITERION_PART_MAX)])
    target = StringField(_l("Target"), validators=[Length(max=CRITERION_PART_MAX)])
    unit = StringField(_l("Unit"), validators=[Length(max=CRITERION_PART_MAX)])


class MilestoneForm(SubForm):
    title = StringField(_l("Milestone title"), validators=[Length(max=TITLE_MAX)])
    criteria = FieldList(FormField(CriterionForm), min_entries=1, max_entries=CRITERIA_MAX)
    due_date = DayField(_l("Due date"), validators=[Optional()])
    tranche_amount = YenField(_l("Tranche (yen)"))


class PlanForm(Form):
    milestones = FieldList(FormField(MilestoneForm), min_entries=1, max_entries=MILESTONES_MAX)

    def add_milestone(self) -> None:
        if len(self.milestones.entries) < MILESTONES_MAX:
            self.milestones.append_entry()

    def add_criterion(self, milestone_name: str) -> None:
        for entry in self.milestones.entries:
            criteria = entry.form.criteria
            if entry.name == milestone_name and len(criteria.entries) < CRITERIA_MAX:
                criteria.append_entry()

    def to_plan(self) -> tuple[list[MilestoneData], Renames]:
        milestones: list[MilestoneData] = []
        renames: dict[str, str] = {}
        for entry in self.milestones.entries:
            row = entry.form
            kept = [c for c in row.criteria.entries if not _blank(*_parts(c.form))]
            if not kept and _blank(row.title.data, row.tranche_amount.data, row.due_date.data):
                continue
            prefix = f"milestones.{len(milestones)}"
            renames[prefix] = entry.name
            for index, criterion in enumerate(kept):
                renames[f"{prefix}.criteria.{index}"] = criterion.name
            milestones.append(
                MilestoneData(
                    title=row.title.data or "",
                    criteria=tuple(CriterionData(*_parts(c.form)) for c in kept),
                    due_date=row.due_date.data,
                    tranche_amount=row.tranche_amount.amount,
                )
            )
        return milestones, renames


def plan_data(plan: Iterable[Any]) -> dict[str, Any]:
    """A stored plan as the form's initial data (criteria as they were saved)."""
    return {
        "milestones": [
            {
                "title": m.title,
                "criteria": list(m.criteria) or [{}],
                "due_date": m.due_date,
                "tranche_amount": m.tranche_amount,
            }
            for m in plan
        ]
    }


def _parts(form: Any) -> tuple[str, str, str]:
    return (form.metric.data or "", form.target.data or "", form.unit.data or "")


def _blank(*values: Any) -> bool:
    return all(value is None or not str(value).strip() for value in values)


# ---- co-investments ----------------------------------------------------------------------------


class CoInvestmentRowForm(SubForm):
    vc_organization_id = SelectField(
        _l("Investor"),
        coerce=optional_int,
        description=_l(
            "Only the money of VCs certified on the submission date counts toward the share "
            "and the lead VC's minimum; other investors are listed without counting."
        ),
    )
    committed_amount = YenField(_l("Committed amount (yen)"))
    is_lead = BooleanField(_l("Lead VC"))


class CoInvestmentsForm(Form):
    co_investments = FieldList(
        FormField(CoInvestmentRowForm), min_entries=1, max_entries=CO_INVESTMENTS_MAX
    )

    def set_investors(self, investors: Iterable[tuple[int, str]]) -> None:
        options = [("", _("Choose an investor")), *investors]
        for entry in self.co_investments.entries:
            entry.form.vc_organization_id.choices = choices(options)

    def add_row(self) -> None:
        if len(self.co_investments.entries) < CO_INVESTMENTS_MAX:
            self.co_investments.append_entry()

    def to_items(self) -> tuple[list[CoInvestmentData], Renames]:
        items: list[CoInvestmentData] = []
        renames: dict[str, str] = {}
        for entry in self.co_investments.entries:
            row = entry.form
            vc, amount = row.vc_organization_id.data, row.committed_amount.data
            if vc is None and _blank(amount) and not row.is_lead.data:
                continue
            renames[f"co_investments.{len(items)}"] = entry.name
            items.append(CoInvestmentData(vc, row.committed_amount.amount, bool(row.is_lead.data)))
        return items, renames


def co_investment_data(co_investments: Iterable[Any]) -> dict[str, Any]:
    rows = [
        {
            "vc_organization_id": ci.vc_organization_id,
            "committed_amount": ci.committed_amount,
            "is_lead": ci.is_lead,
        }
        for ci in co_investments
    ]
    return {"co_investments": [*rows, {}]}


# ---- withdrawal ------------------------------------------------------------------------------


class WithdrawForm(Form):
    confirm = BooleanField(
        _l("I understand that a withdrawn application cannot be edited or submitted again."),
        validators=[DataRequired(message=_l("Tick the box to confirm the withdrawal."))],
    )


# ---- a submission's errors as sentences ---------------------------------------------------


def error_lines(error: RuleViolation) -> list[str]:
    """A submission's field errors as sentences that say where, in the reader's language:
    "Milestone 2, Due date: ..."."""
    lines = []
    for key, messages in localise(error.fields).items():
        where = _where(key)
        lines += [f"{where}: {message}" if where else message for message in messages]
    return lines


def _where(key: str) -> str:
    parts = key.split(".")
    if parts[0] != "milestones":
        return _label(ApplicationForm, key)
    if len(parts) == 1:
        return _("Milestone plan")
    where = _("Milestone %(n)d", n=int(parts[1]) + 1)
    part = _label(CriterionForm if "criteria" in parts[2:-1] else MilestoneForm, parts[-1])
    return f"{where}, {part}" if len(parts) > 2 and part else where


def _label(form_class: type, name: str) -> str:
    """The label a form class declares for field `name` ("" if none)."""
    args = getattr(getattr(form_class, name, None), "args", None)
    if not args or hasattr(args[0], "bind"):  # no label, or a FieldList's inner field
        return _("Success criteria") if name == "criteria" else ""
    return str(args[0])
