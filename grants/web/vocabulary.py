"""Translated labels for the programme vocabularies: themes, modalities and development stages."""

from __future__ import annotations

from flask_babel import gettext as _


def theme_labels() -> dict[str, str]:
    return {
        "rare_disease": _("Rare diseases"),
        "amr": _("Antimicrobial resistance (AMR)"),
        "infectious_crisis": _("Infectious disease crises"),
        "unmet_device": _("Medical devices for unmet needs"),
        "other": _("Other themes"),
    }


def modality_labels() -> dict[str, str]:
    return {
        "drug": _("Drugs"),
        "regenerative": _("Regenerative medicine"),
        "device": _("Medical devices"),
        "samd": _("Software as a medical device (SaMD)"),
    }


def stage_labels() -> dict[str, str]:
    return {
        "discovery": _("Discovery"),
        "non_clinical": _("Non-clinical"),
        "phase1": _("Phase 1"),
        "phase2": _("Phase 2"),
        "exploratory": _("Exploratory clinical trial"),
        "pivotal": _("Pivotal trial"),
    }
