"""Translated labels shown in forms and tables: the account vocabularies (roles, organisation
kinds, languages) and the programme vocabularies (themes, modalities, stages) in the page's
language. The labels themselves are core's (grants.core.vocabulary), which trace messages
render in both languages outside any request.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from flask_babel import gettext as _

from grants.core.http.filters import current_locale
from grants.core.identity import Locale, Role
from grants.core.states import label
from grants.core.vocabulary import VALUE_LABELS


def role_labels() -> dict[str, str]:
    return {
        Role.applicant: _("Applicant"),
        Role.reviewer: _("Reviewer"),
        Role.officer: _("Program officer"),
        Role.admin: _("Administrator"),
    }


def org_kind_labels() -> dict[str, str]:
    return labels_of("org_kind")


def locale_labels() -> dict[str, str]:
    # Each language is named in itself, so anyone can find their own.
    return {Locale.ja: "日本語", Locale.en: "English"}


def labels_of(fact: str) -> dict[str, str]:
    """Each value of `fact` (theme, modality, stage, org_kind) with its label."""
    locale = current_locale()
    return {value: label.text(locale) for value, label in VALUE_LABELS[fact].items()}


def theme_labels() -> dict[str, str]:
    return labels_of("theme")


def modality_labels() -> dict[str, str]:
    return labels_of("modality")


def stage_labels() -> dict[str, str]:
    return labels_of("stage")


def state_choices(members: Iterable[StrEnum]) -> list[tuple[str, str]]:
    """A state filter's choices: each state's value with its label, in lifecycle order."""
    locale = current_locale()
    return [(str(member), label(member, locale)) for member in members]
