"""grants/domain stays pure: no Flask, no SQLAlchemy, however it is imported."""

import ast
from pathlib import Path

FORBIDDEN = (
    "flask",
    "flask_",
    "sqlalchemy",
    "werkzeug",
    "grants.accounts.certified_vcs.models",
    "grants.services",
)
DOMAIN = Path(__file__).resolve().parents[2] / "grants" / "domain"


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_domain_imports_no_framework() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert files, "grants/domain has no modules"
    offenders = [
        f"{path.relative_to(DOMAIN)}: {name}"
        for path in files
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    ]
    assert offenders == []


def test_checker_catches_a_framework_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from flask import Flask\nimport sqlalchemy.orm\n")
    assert _imports(module) == ["flask", "sqlalchemy.orm"]
