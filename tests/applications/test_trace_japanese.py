"""A Japanese officer reads the eligibility trace in Japanese: its headers, outcomes and
messages, with a text fact's values by their labels rather than their codes."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from grants.awards.decision import web as decision_web
from grants.core.identity import Locale, Role
from tests.support.applications import TODAY, submitted_application
from tests.support.factories import make_user
from tests.support.web import login


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decision_web, "_today", lambda: TODAY)


def test_the_trace_table_is_in_japanese(client: FlaskClient) -> None:
    world = submitted_application(stage="discovery")
    login(client, make_user(Role.officer, locale=Locale.ja).email)
    page = client.get(f"/officer/screening/{world.application.id}").get_data(as_text=True)
    table = re.search(r'<table class="table trace-table">(.*?)</table>', page, re.S)
    assert table is not None
    head = table.group(1).split("</thead>")[0]
    for header in ("ルール", "結果", "値", "必要値／上限", "適用された緩和条件", "説明"):
        assert f">{header}</th>" in head
    rows = re.findall(r'<tr class="trace-row trace-fail"[^>]*>(.*?)</tr>', table.group(1), re.S)
    [row] = [row for row in rows if "開発段階:" in row]  # the stage rule fails for discovery
    assert '<span class="badge badge-fail">不適合</span>' in row
    assert "開発段階: 探索研究(対象: 非臨床、第I相試験、第II相試験、探索的臨床試験)" in row
    assert "discovery" not in row and "non_clinical" not in row
    assert '<span class="badge badge-ok">適合</span>' in table.group(1)
    assert "Pass" not in table.group(1) and "Fail" not in table.group(1)
