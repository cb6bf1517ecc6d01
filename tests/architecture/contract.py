"""The import contract of DESIGN.md §2, checked on the source tree (never by importing it).

`violations(root)` reads every module under `root/grants` and returns one line per broken
rule; the order of the features is read from the README's "Architecture" section, so the
README and the check cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Pure modules: no framework, no database, and only other pure modules of the project.
PURE_CORE = {
    "alert_kinds",
    "calendar",
    "charts",
    "conflicts",
    "errors",
    "identity",
    "money",
    "permissions",
    "problems",
    "states",
    "text",
    "vocabulary",
}
FRAMEWORKS = ("flask", "flask_", "sqlalchemy", "werkzeug", "jinja2")
# The edges: they translate HTTP, the command line or the scheduler into use cases. An edge
# that outgrows its file becomes a package of the same name (rulesets/web/).
EDGE_FILES = {"web", "api", "forms", "schemas", "cli", "jobs"}
# What no other feature may import (forms and schemas may be shared between edges).
ENTRY_POINTS = {"web", "api", "cli", "jobs"}
# What a use case or read model gets as arguments instead of reading it from the request.
AMBIENT = {
    "flask": {"request", "session", "g"},
    "flask_login": {"current_user"},
    "flask_babel": {"get_locale", "gettext", "ngettext", "lazy_gettext", "force_locale"},
}
WRITES = {"add", "add_all", "delete", "commit", "rollback", "flush", "merge"}
ORDER_LINE = re.compile(r"^`?core`? →.*$", re.M)


@dataclass(frozen=True)
class Module:
    name: str  # grants.awards.service
    path: Path
    tree: ast.Module

    @property
    def parts(self) -> list[str]:
        return self.name.split(".")

    @property
    def leaf(self) -> str:
        return self.parts[-1]

    @property
    def feature(self) -> str | None:
        """The top package under grants (core, rules, a feature), None for the app itself."""
        return self.parts[1] if len(self.parts) > 2 else None


def feature_order(readme: Path) -> list[str]:
    """`core → rules → accounts → ...` from the README's architecture section."""
    match = ORDER_LINE.search(readme.read_text(encoding="utf-8"))
    if match is None:
        raise AssertionError(f"{readme}: no line 'core → rules → ...' states the order")
    return [name.strip(" `") for name in match.group(0).split("→")]


def modules(root: Path) -> list[Module]:
    found = []
    for path in sorted((root / "grants").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append(Module(".".join(parts), path, _parsed(path.read_text(encoding="utf-8"))))
    return found


@cache
def _parsed(source: str) -> ast.Module:
    """Parsed once per content: the planted-violation trees share every unchanged module."""
    return ast.parse(source)


def is_pure(module: Module) -> bool:
    if module.feature == "rules" or module.leaf == "rules":
        return True
    return module.feature == "core" and len(module.parts) == 3 and module.leaf in PURE_CORE


def is_edge(module: Module) -> bool:
    return bool(EDGE_FILES & set(module.parts[2:])) or module.parts[1:3] == ["core", "http"]


def is_entry_point(module: Module) -> bool:
    return module.feature != "core" and bool(ENTRY_POINTS & set(module.parts[2:]))


def imports(module: Module) -> Iterator[tuple[int, str, list[str]]]:
    """(line, imported module, names) of every import, TYPE_CHECKING blocks included."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [alias.name for alias in node.names]


def targets(module_name: str, names: list[str], known: set[str]) -> list[str]:
    """The project modules an import reaches: `from grants.x import y` may name a module y."""
    submodules = [f"{module_name}.{n}" for n in names if f"{module_name}.{n}" in known]
    if len(submodules) == len(names) and names:
        return submodules  # `from grants.core import states`: the package itself is not read
    return ([module_name] if module_name in known else []) + submodules


def violations(root: Path) -> list[str]:
    order = feature_order(root / "README.md")
    rank = {name: index for index, name in enumerate(order)}
    found = modules(root)
    by_name = {m.name: m for m in found}
    known = set(by_name)
    problems: list[str] = []
    for module in found:
        where = f"{module.path.relative_to(root)}"
        if module.feature is not None and module.feature not in rank:
            problems.append(f"{where}: package grants.{module.feature} is not in the README order")
        for line, name, names in imports(module):
            at = f"{where}:{line}"
            reached = [by_name[t] for t in targets(name, names, known)]
            problems += _purity(module, at, name, reached)
            problems += _ambient(module, at, name, names)
            for target in reached:
                problems += _direction(module, target, at, rank)
        problems += _edge_writes(module, where)
        problems += _config_reads(module, where)
        problems += _unguarded_use_cases(module, where)
    return problems


def _purity(module: Module, at: str, name: str, reached: list[Module]) -> list[str]:
    if not is_pure(module):
        return []
    if name.startswith(FRAMEWORKS):
        return [f"{at}: pure module {module.name} imports {name}"]
    return [f"{at}: pure module {module.name} imports {t.name}" for t in reached if not is_pure(t)]


def is_inner(module: Module) -> bool:
    """A feature's module behind the edges: use cases, read models, rules, helpers."""
    return module.feature not in (None, "core") and not is_edge(module)


def _ambient(module: Module, at: str, name: str, names: list[str]) -> list[str]:
    """Use cases, read models and their helpers take the request's state as arguments."""
    if not is_inner(module):
        return []
    read = sorted(set(names) & AMBIENT.get(name, set()))
    return [f"{at}: {module.name} reads {r} from {name}" for r in read]


def _direction(module: Module, target: Module, at: str, rank: dict[str, int]) -> list[str]:
    if target.feature is None or module.feature is None:
        return []
    if is_edge(target) and not is_edge(module):
        return [f"{at}: {module.name} imports the edge module {target.name}"]
    if target.feature == module.feature:
        return []
    if is_entry_point(target):
        return [f"{at}: {module.name} imports {target.name}, another feature's edge"]
    mine, theirs = rank.get(module.feature, -1), rank.get(target.feature, -1)
    if theirs > mine:
        return [f"{at}: {module.name} imports {target.name}, above it in the order"]
    return []


def _edge_writes(module: Module, where: str) -> list[str]:
    """web and api translate: the session is written, committed and rolled back by services."""
    if module.leaf not in ("web", "api", "forms", "schemas"):
        return []
    found = []
    for node in ast.walk(module.tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in WRITES
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "session"
        ):
            found.append(f"{where}:{node.lineno}: {module.name} calls session.{node.attr}")
    return found


def _config_reads(module: Module, where: str) -> list[str]:
    """Settings come in as arguments: no current_app.config behind the edges."""
    if not is_inner(module):
        return []
    return [
        f"{where}:{node.lineno}: {module.name} reads current_app.config"
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "config"
        and isinstance(node.value, ast.Name)
        and node.value.id == "current_app"
    ]


def _unguarded_use_cases(module: Module, where: str) -> list[str]:
    """A use case that commits is a @use_case: whatever it raises, it leaves nothing behind."""
    if module.leaf != "service":
        return []
    functions = {n.name: n for n in module.tree.body if isinstance(n, ast.FunctionDef)}
    committing = {name for name, f in functions.items() if _calls(f, {"commit"}, set())}
    found = []
    for name, function in functions.items():
        guarded = any(_named(d) == "use_case" for d in function.decorator_list)
        private = {n for n in committing if n.startswith("_")}
        if not name.startswith("_") and not guarded and _calls(function, {"commit"}, private):
            found.append(
                f"{where}:{function.lineno}: {module.name}.{name} commits outside @use_case"
            )
    return found


def _calls(function: ast.FunctionDef, attributes: set[str], names: set[str]) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            called = node.func
            if isinstance(called, ast.Attribute) and called.attr in attributes:
                return True
            if isinstance(called, ast.Name) and called.id in names:
                return True
    return False


def _named(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else None
