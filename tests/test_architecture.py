"""The layering of DESIGN §2, checked on every module's imports."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
from pathlib import Path

import pytest

from database import tables
from database.tables import Base

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("metamodel", "casework", "database", "service", "schema", "resolvers", "server")

ALLOWED_LAYERS: dict[str, set[str]] = {
    "server": {"resolvers", "service", "schema", "database", "casework", "metamodel"},
    "resolvers": {"schema", "service", "casework", "database", "metamodel"},
    "service": {"database", "casework", "metamodel"},
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


COMPAT = ROOT / "schema" / "strawberry_compat.py"
"""The one module that may use strawberry's internals (and the test of its assumptions)."""
COMPAT_EXEMPT = {
    COMPAT,
    ROOT / "tests" / "schema" / "test_strawberry_compat.py",
    Path(__file__).resolve(),
}
SOURCE_FOLDERS = (*PACKAGES, "migrations", "tests", "bench", "tools")
PUBLIC_STRAWBERRY = {
    "strawberry",
    "strawberry.asgi",
    "strawberry.dataloader",
    "strawberry.extensions",
    "strawberry.scalars",
    "strawberry.schema.config",
    "strawberry.tools",
    "strawberry.types",
    "strawberry.types.field",
}
"""strawberry modules its documentation imports from; everything else is internal."""
INTERNALS = (
    "._schema",  # the graphql-core schema of a strawberry Schema
    "schema_converter",
    "converter.type_map",
    "_validated_type_annotation",
    "__strawberry_definition__",
    "_get_validate_cache",
    "StrawberryObjectDefinition(",
    "ScalarDefinition(",
)
"""Private attributes and undocumented structures of strawberry (and of graphql-core's use)."""


def _source_files() -> list[Path]:
    return sorted(
        path
        for folder in SOURCE_FOLDERS
        if (ROOT / folder).is_dir()
        for path in (ROOT / folder).rglob("*.py")
        if path not in COMPAT_EXEMPT and "node_modules" not in path.parts
    )


def _modules_imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_only_the_compat_module_imports_strawberry_or_graphql_internals() -> None:
    """A strawberry upgrade must touch one module: the others import public modules only."""
    wrong = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _source_files()
        for module in _modules_imported(path)
        if (module.startswith("strawberry") and module not in PUBLIC_STRAWBERRY)
        or (module.startswith("graphql.") and module.count(".") > 1)  # below graphql.<package>
    }
    assert not wrong, sorted(wrong)


def test_only_the_compat_module_touches_strawberry_internals() -> None:
    wrong = {
        f"{path.relative_to(ROOT)} uses {internal}"
        for path in _source_files()
        for internal in INTERNALS
        if internal in path.read_text()
    }
    assert not wrong, sorted(wrong)


OUTSIDE_DATABASE = tuple(p for p in PACKAGES if p != "database")
TABLE_MODULES = frozenset(
    {tables.__name__, "database.table_base", *(m.__name__ for m in tables.TABLE_MODULES)}
)
"""The modules that define the tables (importing `database.tables` imports them all)."""
SESSION_METHODS = frozenset(
    {
        "add",
        "add_all",
        "begin_nested",
        "delete",
        "execute",
        "flush",
        "get",
        "merge",
        "refresh",
        "scalar",
        "scalars",
        "stream",
    }
)
"""What a SQLAlchemy session does; outside database/ a session is only handed on."""


def _orm_classes() -> frozenset[str]:
    """The mapped classes, whatever module of database/ defines them."""
    return frozenset(m.class_.__name__ for m in Base.registry.mappers)


def test_orm_rows_stay_in_database() -> None:
    """Nothing above database/ imports the tables or names a mapped class."""
    orm = _orm_classes()
    wrong = set()
    for package in OUTSIDE_DATABASE:
        for path in _modules(package):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    if node.module in TABLE_MODULES:
                        wrong.add(f"{path.relative_to(ROOT)} imports {node.module}")
                    wrong.update(
                        f"{path.relative_to(ROOT)} imports {alias.name}"
                        for alias in node.names
                        if alias.name in orm or f"{node.module}.{alias.name}" in TABLE_MODULES
                    )
                elif isinstance(node, ast.Attribute) and node.attr in orm:
                    wrong.add(f"{path.relative_to(ROOT)} uses {node.attr}")
    assert not wrong, sorted(wrong)


def _row_handlers() -> dict[str, set[str]]:
    """Public functions of each database/ module whose return type names a mapped class."""
    orm = _orm_classes()
    found: dict[str, set[str]] = {}
    for path in _modules("database"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if (
                not attr.startswith("_")
                and inspect.isfunction(value)
                and value.__module__ == name
                and any(cls in str(value.__annotations__.get("return", "")) for cls in orm)
            ):
                found.setdefault(name, set()).add(attr)
    return found


def test_no_orm_row_leaves_database() -> None:
    """Outside database/, no function is called that hands out a mapped row.

    Inside database/ a repository may pass rows between its functions (that is where the
    session lives); what crosses the boundary are records (database/records.py).
    """
    handlers = _row_handlers()
    wrong = set()
    for package in OUTSIDE_DATABASE:
        for path in _modules(package):
            tree = ast.parse(path.read_text(), filename=str(path))
            aliases: dict[str, str] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    for alias in node.names:
                        full = f"{node.module}.{alias.name}"
                        if node.module == "database":
                            aliases[alias.asname or alias.name] = full
                        elif alias.name in handlers.get(node.module, set()):
                            wrong.add(f"{path.relative_to(ROOT)} imports {full}")
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in aliases
                    and node.attr in handlers.get(aliases[node.value.id], set())
                ):
                    wrong.add(
                        f"{path.relative_to(ROOT)}:{node.lineno} calls {node.value.id}.{node.attr}"
                    )
    assert not wrong, sorted(wrong)


def test_records_hold_no_orm_rows() -> None:
    """The records and results database/ hands out are plain values all the way down."""
    orm = _orm_classes()
    wrong = []
    for path in _modules("database"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for attr, value in vars(importlib.import_module(name)).items():
            if (
                inspect.isclass(value)
                and value.__module__ == name
                and not hasattr(value, "__table__")
                and any(
                    cls in str(a)
                    for cls in orm
                    for a in getattr(value, "__annotations__", {}).values()
                )
            ):
                wrong.append(f"{name}.{attr}")
    assert not wrong, sorted(wrong)


def test_sessions_are_only_handed_on_outside_database() -> None:
    """Above database/ a session is opened (the unit of work) and passed on, never used."""
    wrong = set()
    for package in OUTSIDE_DATABASE:
        for path in _modules(package):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in SESSION_METHODS
                    and isinstance(node.value, ast.Name)
                    and "session" in node.value.id.lower()
                ):
                    wrong.add(f"{path.relative_to(ROOT)}:{node.lineno} session.{node.attr}")
    assert not wrong, sorted(wrong)


MAX_MODULE_LINES = 400
"""Past this a module does more than one thing (STYLE habit 1): split it along its seams."""


def test_no_module_over_400_lines() -> None:
    """Small single-purpose modules: a newcomer should find one reason to exist in each."""
    too_long = {
        f"{path.relative_to(ROOT)}: {lines} lines"
        for folder in (*PACKAGES, "bench")
        for path in _modules(folder)
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, sorted(too_long)


def _function_level_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of each project import inside a function or method body.

    Module-level `if TYPE_CHECKING:` blocks are not inside a function, so they pass.
    """

    def walk(node: ast.AST, in_function: bool) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [f"{child.module}.{alias.name}" for alias in child.names]
            if in_function and isinstance(child, ast.Import | ast.ImportFrom):
                found.extend(
                    (child.lineno, name) for name in names if name.split(".")[0] in PACKAGES
                )
            found.extend(walk(child, inside))
        return found

    return walk(ast.parse(path.read_text(), filename=str(path)), in_function=False)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _module_level_imports(path: Path, known: set[str]) -> set[str]:
    """Project modules `path` imports at module level (TYPE_CHECKING blocks excepted)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for child in ast.walk(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                break
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name in known)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    found.add(full if full in known else child.module)
    return found & known


def test_no_function_level_import_hides_an_import_circle() -> None:
    """An import inside a function must not hide a circle: the module it imports must not
    (through module-level imports) come back to the importer. Move what both need instead.

    A lazy import that closes no circle is allowed: the command line imports the GraphQL
    stack only in the commands that use it, so the others start in a third of the time.
    """
    paths = [path for package in PACKAGES for path in _modules(package)]
    known = {_module_name(path) for path in paths}
    graph = {_module_name(path): _module_level_imports(path, known) for path in paths}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph.get(current, ()))
        return False

    hidden = set()
    for path in paths:
        importer = _module_name(path)
        for line, module in _function_level_imports(path):
            target = module if module in known else module.rsplit(".", 1)[0]  # a name in it
            if reaches(target, importer):
                hidden.add(
                    f"{path.relative_to(ROOT)}:{line} imports {module}, which imports it back"
                )
    assert not hidden, sorted(hidden)
