"""Translated labels for the account vocabularies shown in forms and tables."""

from __future__ import annotations

from flask_babel import gettext as _

from grants.domain.accounts import Locale, Role
from grants.web.vocabulary import labels_of


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
