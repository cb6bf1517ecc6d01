"""The import contract holds on the tree, and the check catches each kind of breach."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.architecture.contract import feature_order, violations

ROOT = Path(__file__).resolve().parents[2]


def test_the_tree_keeps_the_contract() -> None:
    assert violations(ROOT) == []


def test_every_package_under_grants_is_in_the_order() -> None:
    order = feature_order(ROOT / "README.md")
    packages = {p.name for p in (ROOT / "grants").iterdir() if (p / "__init__.py").exists()}
    assert packages - {"translations"} == set(order)
    assert order[:2] == ["core", "rules"]


def _tree(tmp_path: Path) -> Path:
    """A copy of the sources and the README to plant violations in."""
    shutil.copytree(ROOT / "grants", tmp_path / "grants", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


PLANTED = {
    "pure module imports a framework": (
        "grants/core/money.py",
        "from flask import request\n",
        "pure module grants.core.money imports flask",
    ),
    "rules.py imports sqlalchemy": (
        "grants/awards/rules.py",
        "import sqlalchemy\n",
        "pure module grants.awards.rules imports sqlalchemy",
    ),
    "pure module imports an impure one": (
        "grants/rules/engine.py",
        "from grants.core import db\n",
        "pure module grants.rules.engine imports grants.core.db",
    ),
    "service reads the request": (
        "grants/releases/service.py",
        "from flask import request\n",
        "grants.releases.service reads request from flask",
    ),
    "service reads the locale": (
        "grants/awards/service.py",
        "from flask_babel import get_locale\n",
        "grants.awards.service reads get_locale from flask_babel",
    ),
    "queries read the signed-in user": (
        "grants/awards/queries.py",
        "from flask_login import current_user\n",
        "grants.awards.queries reads current_user from flask_login",
    ),
    "service imports its feature's web": (
        "grants/releases/service.py",
        "from grants.releases import web\n",
        "grants.releases.service imports the edge module grants.releases.web",
    ),
    "service imports jobs": (
        "grants/tasks/service.py",
        "from grants.tasks import jobs\n",
        "grants.tasks.service imports the edge module grants.tasks.jobs",
    ),
    "feature imports another feature's api": (
        "grants/releases/web.py",
        "from grants.awards.api import blp\n",
        "grants.releases.web imports grants.awards.api, another feature's edge",
    ),
    "feature imports one above it": (
        "grants/programs/service.py",
        "from grants.releases import service as releases\n",
        "grants.programs.service imports grants.releases.service, above it in the order",
    ),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_planted_import_is_caught(tmp_path: Path, case: str) -> None:
    root = _tree(tmp_path)
    path, line, expected = PLANTED[case]
    target = root / path
    target.write_text(line + target.read_text())
    assert any(expected in found for found in violations(root)), violations(root)


def test_a_view_that_commits_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    target = root / "grants/releases/web.py"
    target.write_text(target.read_text() + "\n\ndef planted():\n    db.session.rollback()\n")
    assert any("grants.releases.web calls session.rollback" in v for v in violations(root))


def test_a_service_reading_settings_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    target = root / "grants/programs/service.py"
    target.write_text(target.read_text() + "\n\ndef planted():\n    return current_app.config\n")
    assert any("grants.programs.service reads current_app.config" in v for v in violations(root))


def test_an_unlisted_package_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "grants" / "stray").mkdir()
    (root / "grants" / "stray" / "__init__.py").write_text("")
    (root / "grants" / "stray" / "service.py").write_text("")
    assert any("grants.stray is not in the README order" in v for v in violations(root))


def test_a_use_case_without_its_guard_is_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    target = root / "grants/programs/service.py"
    target.write_text(target.read_text().replace("@use_case\n", "", 1))
    assert any("commits outside @use_case" in v for v in violations(root))
