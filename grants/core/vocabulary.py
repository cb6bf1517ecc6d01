"""Bilingual labels of the values a text fact can take: themes, modalities, stages, org types.

Trace messages are rendered in both languages at once, outside any request; the web's
forms and pages show the same labels in the page's language (grants/core/http/labels.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from grants.core.states import Label

VALUE_LABELS: Final[Mapping[str, Mapping[str, Label]]] = {
    "theme": {
        "rare_disease": Label("希少疾患", "Rare diseases"),
        "amr": Label("薬剤耐性（AMR）", "Antimicrobial resistance (AMR)"),
        "infectious_crisis": Label("感染症危機対応", "Infectious disease crises"),
        "unmet_device": Label(
            "アンメットニーズに対応する医療機器", "Medical devices for unmet needs"
        ),
        "other": Label("その他の領域", "Other themes"),
    },
    "modality": {
        "drug": Label("医薬品", "Drugs"),
        "regenerative": Label("再生医療", "Regenerative medicine"),
        "device": Label("医療機器", "Medical devices"),
        "samd": Label("プログラム医療機器（SaMD）", "Software as a medical device (SaMD)"),
    },
    "stage": {
        "discovery": Label("探索研究", "Discovery"),
        "non_clinical": Label("非臨床", "Non-clinical"),
        "phase1": Label("第I相試験", "Phase 1"),
        "phase2": Label("第II相試験", "Phase 2"),
        "exploratory": Label("探索的臨床試験", "Exploratory clinical trial"),
        "pivotal": Label("検証的試験（ピボタル試験）", "Pivotal trial"),
    },
    "org_kind": {
        "startup": Label("スタートアップ", "Startup"),
        "university": Label("大学", "University"),
        "company": Label("企業", "Company"),
        "vc": Label("ベンチャーキャピタル", "Venture capital"),
        "other": Label("その他", "Other"),
    },
}


def value_label(fact: str, value: Any, locale: str) -> str:
    """`value` of `fact` as people read it in `locale`; the value itself if it has no label."""
    label = VALUE_LABELS.get(fact, {}).get(value) if isinstance(value, str) else None
    return str(value) if label is None else label.text(locale)
