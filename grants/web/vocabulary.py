"""Labels of the programme vocabularies in the page's language: themes, modalities, stages.

The labels themselves are the domain's (grants.domain.rules.value_labels), which trace
messages render in both languages outside any request.
"""

from __future__ import annotations

from grants.domain.rules.value_labels import VALUE_LABELS
from grants.web.filters import current_locale


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
