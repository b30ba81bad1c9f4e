"""The layering of DESIGN §2, checked on every module's imports."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("metamodel", "casework", "database", "schema", "resolvers", "server")

ALLOWED_LAYERS: dict[str, set[str]] = {
    "server": {"resolvers", "schema", "database", "casework", "metamodel"},
    "resolvers": {"schema", "casework", "database", "metamodel"},
    "schema": {"metamodel"},
    "database": {"casework", "metamodel"},
    "casework": {"metamodel"},
    "metamodel": set(),
}
"""Which project packages each package may import (one way only)."""

FRAMEWORKS: dict[str, set[str]] = {
    "strawberry": {"schema", "resolvers"},
    "sqlalchemy": {"database", "migrations"},
    "alembic": {"database", "migrations"},
    "starlette": {"server"},
    "uvicorn": {"server"},
}
"""Which packages may import each framework."""

PURE_FORBIDDEN = {
    "asyncio",
    "sqlalchemy",
    "strawberry",
    "starlette",
    "httpx",
    "socket",
    "os",
    "subprocess",
}
"""The pure core reads no clock through I/O libraries and touches no network or files."""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_the_layers_below(package: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package)
        for name in _imports(path)
        if name in PACKAGES and name != package and name not in ALLOWED_LAYERS[package]
    }
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_frameworks_stay_in_their_layer(framework: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)}"
        for package in (*PACKAGES, "migrations")
        for path in _modules(package)
        if framework in _imports(path) and package not in FRAMEWORKS[framework]
    }
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize("package", ["metamodel", "casework"])
def test_pure_core_does_no_io(package: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(package)
        for name in _imports(path) & PURE_FORBIDDEN
    }
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize("package", ["metamodel", "casework"])
def test_pure_core_never_reads_the_clock(package: str) -> None:
    readers = ("datetime.now", "dt.datetime.now", "date.today", "time.time", "utcnow")
    wrong = [
        str(path.relative_to(ROOT))
        for path in _modules(package)
        if any(reader in path.read_text() for reader in readers)
    ]
    assert not wrong


def test_top_level_schema_package_is_this_repository() -> None:
    """`schema` is also a PyPI package name; the project must never pick that one up."""
    spec = importlib.util.find_spec("schema")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).resolve().is_relative_to(ROOT), spec.origin


def test_package_init_files_stay_empty() -> None:
    non_empty = [
        str(p.relative_to(ROOT))
        for package in PACKAGES
        for p in (ROOT / package).rglob("__init__.py")
        if p.read_text().strip()
    ]
    assert not non_empty
