"""The domain's value labels (for trace messages) say what the web's gettext labels say."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from grants.domain.rules.value_labels import VALUE_LABELS
from grants.web.labels import org_kind_labels
from grants.web.vocabulary import modality_labels, stage_labels, theme_labels

WEB = {
    "theme": theme_labels,
    "modality": modality_labels,
    "stage": stage_labels,
    "org_kind": org_kind_labels,
}


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_domain_value_labels_match_the_web_labels(app: Flask, locale: str) -> None:
    with app.test_request_context(), force_locale(locale):
        web = {fact: {str(k): str(v) for k, v in labels().items()} for fact, labels in WEB.items()}
    domain = {
        fact: {value: label.text(locale) for value, label in labels.items()}
        for fact, labels in VALUE_LABELS.items()
    }
    assert domain == web
