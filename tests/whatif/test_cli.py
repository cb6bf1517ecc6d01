"""flask grants what-if PROGRAMME_CODE --draft FILE.json"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from grants.rules import amed_certified_vc
from tests.support.rulesets import rule
from tests.support.whatif import make_whatif_world


def _write(tmp_path: Path, document: object) -> str:
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_prints_the_summary_and_the_newly_blocked(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    w = make_whatif_world()
    document = amed_certified_vc()
    rule(document, "lead_vc_min")["relaxations"] = []
    args = ["grants", "what-if", "AMED-WI", "--draft", _write(tmp_path, document)]
    result = runner.invoke(args=[*args, "--today", "2026-05-15"])
    assert result.exit_code == 0, result.output
    assert "newly_blocked      1" in result.output
    assert f"application {w.relaxed.id:>6}  passes   -> blocked" in result.output
    assert "blocked by lead_vc_min" in result.output


def test_bad_input_exits_non_zero_with_a_message(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    make_whatif_world()
    not_json = tmp_path / "bad.json"
    not_json.write_text("{nope", encoding="utf-8")
    result = runner.invoke(args=["grants", "what-if", "AMED-WI", "--draft", str(not_json)])
    assert result.exit_code == 1 and "is not JSON" in result.output
    invalid = _write(tmp_path, {"rules": [{"id": "x", "type": "bogus"}]})
    result = runner.invoke(args=["grants", "what-if", "AMED-WI", "--draft", invalid])
    assert result.exit_code == 1 and "invalid" in result.output and "type" in result.output
    assert "ルールの種類「bogus」はありません。" in result.output  # the installation's language
    result = runner.invoke(
        args=["grants", "what-if", "NOPE", "--draft", _write(tmp_path, amed_certified_vc())]
    )
    assert result.exit_code == 1 and "NOPE" in result.output
    assert "コード NOPE のプログラムはありません。" in result.output  # the installation's language
    missing = runner.invoke(args=["grants", "what-if", "AMED-WI", "--draft", "/nonexistent.json"])
    assert missing.exit_code == 2
