"""The arrows of the house (STYLE.md): domain imports nothing of ours, nothing imports api."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("domain", "adapters", "api", "notifications")
ALLOWED = {
    "domain": {"domain"},
    "notifications": {"notifications", "domain"},
    "adapters": {"adapters", "domain", "notifications"},
    "api": {"api", "adapters", "domain", "notifications"},
}
DOMAIN_THIRD_PARTY = {"eventsourcing"}


def _imports(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.module.split(".")[0]))
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                found.append((path, _relative_target(path, node.level)))
    return found


def _relative_target(path: Path, level: int) -> str:
    """The top-level package a relative import reaches ('..' from domain/x.py is outside)."""
    packages = path.relative_to(ROOT).parts[:-1]
    return packages[0] if level <= len(packages) else "<outside every package>"


@pytest.mark.parametrize("package", OURS)
def test_each_package_imports_only_what_its_layer_allows(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in _imports(package)
        if (name in OURS or name.startswith("<")) and name not in ALLOWED[package]
    ]
    assert wrong == []


def test_the_domain_uses_only_the_standard_library_and_eventsourcing() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in _imports("domain")
        if name not in sys.stdlib_module_names and name not in DOMAIN_THIRD_PARTY | {"domain"}
    ]
    assert wrong == []


def test_the_check_itself_sees_imports() -> None:
    # Guards against a walker that silently finds nothing.
    assert "eventsourcing" in {name for _, name in _imports("domain")}
    assert "domain" in {name for _, name in _imports("adapters")}
