"""Profiles of the in-process lifecycle run, reduced to self time by layer and to spans.

pyinstrument's call tree or cProfile's statistics become a `Profile`: self time per layer (our
packages, graphql-core, strawberry, SQLAlchemy, drivers, ...), own and cumulative time per
function. The spans worth seeing by themselves are listed in SPANS.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import sysconfig
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _prefixes() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    found = {str(ROOT), *(paths[k] for k in ("purelib", "platlib", "stdlib", "platstdlib"))}
    return tuple(sorted((p.rstrip(os.sep) + os.sep for p in found), key=len, reverse=True))


PREFIXES = _prefixes()


def short_path(path: str) -> str:
    """A source path relative to site-packages, the stdlib or the repository, with `/`."""
    for prefix in PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :].replace(os.sep, "/")
    return path.replace(os.sep, "/")


@dataclass(frozen=True)
class Layer:
    """A group of source files (by short path prefix) the time is reported by."""

    label: str
    prefixes: tuple[str, ...]


SOCKET = "socket send/recv (C; wall clock: includes being descheduled)"
IDLE = "waiting for I/O (event loop idle in select)"
LAYERS: tuple[Layer, ...] = (
    Layer(IDLE, ("selectors.py",)),
    Layer("graphql-core: parse", ("graphql/language/",)),
    Layer("graphql-core: validate", ("graphql/validation/",)),
    Layer("graphql-core: execute", ("graphql/execution/",)),
    Layer("graphql-core: other", ("graphql/",)),
    Layer("strawberry", ("strawberry/",)),
    Layer("ours: resolvers + schema", ("resolvers/", "schema/")),
    Layer("ours: engine (casework, metamodel)", ("casework/", "metamodel/")),
    Layer("ours: repositories (database/)", ("database/",)),
    Layer("ours: server (app, auth, context)", ("server/",)),
    Layer("SQLAlchemy", ("sqlalchemy/",)),
    Layer("asyncpg", ("asyncpg/",)),
    Layer("aiosqlite / sqlite3", ("aiosqlite/", "sqlite3/")),
    Layer("greenlet", ("greenlet/",)),
    Layer("JWT (pyjwt)", ("jwt/",)),
    Layer("argon2", ("argon2/",)),
    Layer("JSON", ("json/",)),
    Layer("Starlette", ("starlette/",)),
    Layer("uvicorn + h11 (HTTP server)", ("uvicorn/", "h11/")),
    Layer("prometheus_client", ("prometheus_client/",)),
    Layer("httpx client + ASGI transport", ("httpx/", "httpcore/", "anyio/", "sniffio/")),
    Layer("bench driver (this script)", ("bench/",)),
    Layer("asyncio event loop", ("asyncio/",)),
)
OTHER = "other (stdlib and the rest)"


def layer_of(path: str, function: str = "") -> str:
    """The layer of a short source path."""
    if function.startswith("socket."):
        return SOCKET
    for layer in LAYERS:
        if path.startswith(layer.prefixes):
            return layer.label
    return OTHER


FunctionKey = tuple[str, int, str]
"""(short path, first line, function name)."""


@dataclass
class Profile:
    """What a profiler measured, reduced to what is printed."""

    tool: str
    self_by_layer: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cumulative: dict[FunctionKey, float] = field(default_factory=lambda: defaultdict(float))
    own: dict[FunctionKey, float] = field(default_factory=lambda: defaultdict(float))
    notes: list[str] = field(default_factory=list)


def from_pyinstrument(root: Any, tool: str) -> Profile:
    """Self time by layer and per-function cumulative time from pyinstrument's call tree.

    A C function's (`<built-in>`) own time goes to its caller, except socket calls.
    """
    profile = Profile(tool)
    on_path: Counter[FunctionKey] = Counter()

    def visit(frame: Any, parent: FunctionKey) -> None:
        path = frame.file_path or ""
        key: FunctionKey = (short_path(path), frame.line_no or 0, frame.function or "?")
        children = list(frame.children)
        own = float(frame.time) - sum(float(c.time) for c in children)
        builtin = path == "<built-in>" and not key[2].startswith("socket.")
        key_for_self = parent if frame.is_synthetic or builtin else key
        profile.self_by_layer[layer_of(key_for_self[0], key_for_self[2])] += own
        profile.own[key_for_self] += own
        if on_path[key] == 0:
            profile.cumulative[key] += float(frame.time)
        on_path[key] += 1
        for child in children:
            visit(child, key_for_self)
        on_path[key] -= 1

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    visit(root, ("", 0, ""))
    detached = sum(
        float(c.time) for c in root.children if not c.is_synthetic and c.function != "<module>"
    )
    total = float(root.time) or 1e-9
    profile.notes.append(
        f"{detached:.2f} s ({detached / total * 100:.0f}%) was SQLAlchemy's synchronous work "
        "inside greenlets (ORM execute/flush/get): a sampler sees those stacks without the "
        "coroutine that awaits them, so the inclusive spans of our code below leave that time "
        "out; the layer table has it"
    )
    return profile


def from_cprofile(profiler: cProfile.Profile) -> Profile:
    """The same from cProfile; a C function's own time goes to its callers' layers."""
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    profile = Profile("cProfile")
    profile.notes.append(
        "cProfile's call stack goes astray at every greenlet switch (each SQL statement), so "
        "its attribution between SQLAlchemy and the coroutines around it is rough"
    )
    for (path, line, function), (_cc, _nc, tottime, cumtime, callers) in raw.items():
        key: FunctionKey = (short_path(path), line, function)
        profile.cumulative[key] += cumtime
        profile.own[key] += tottime
        if path != "~":
            profile.self_by_layer[layer_of(key[0], function)] += tottime
            continue
        if "socket" in function or "select" in function:
            profile.self_by_layer[SOCKET if "socket" in function else IDLE] += tottime
            continue
        given = 0.0
        for (caller_path, _line, caller_function), caller_stats in callers.items():
            if caller_path != "~":
                caller = short_path(caller_path)
                profile.self_by_layer[layer_of(caller, caller_function)] += caller_stats[2]
                given += caller_stats[2]
        profile.self_by_layer[OTHER] += max(0.0, tottime - given)
    return profile


SPANS: tuple[tuple[str, str, str], ...] = (
    ("uvicorn/protocols/http/h11_impl.py", "run_asgi", "uvicorn: one request, ASGI app included"),
    ("server/app.py", "context", "request context: JWT check + principal query"),
    ("server/security.py", "read_token", "  of which JWT decode"),
    ("database/user_repo.py", "get_principal", "  of which principal query (3 SELECTs)"),
    ("graphql/language/parser.py", "parse", "graphql parse (strawberry ParserCache)"),
    ("graphql/validation/validate.py", "validate", "graphql validate (ValidationCache)"),
    ("strawberry/schema/schema.py", "execute", "strawberry execute (resolvers inside)"),
    ("resolvers/case_fields.py", "_create", "createXCase resolver"),
    ("resolvers/tasks.py", "_complete", "completeTask resolver"),
    ("resolvers/tasks.py", "_task_and_unit", "  task + case row locks"),
    ("resolvers/case_commands.py", "run", "  engine command (load, apply, save, sync)"),
    ("database/case_repo.py", "load_state", "    case_repo.load_state"),
    ("casework/lifecycle.py", "complete", "    lifecycle.complete (the pure engine)"),
    ("database/case_repo.py", "save", "    case_repo.save"),
    ("database/task_repo.py", "sync", "    task_repo.sync"),
    ("database/case_repo.py", "append_events", "    case_repo.append_events (hash chain)"),
    ("resolvers/objects.py", "case", "payload: objects.case"),
    ("resolvers/context.py", "load_tasks", "payload: Case.tasks loader"),
    ("resolvers/context.py", "codes", "per request: type and unit codes (2 SELECTs)"),
    ("resolvers/context.py", "calendar", "per request: calendar overrides"),
    ("resolvers/context.py", "stage_names", "per request: stage names"),
    ("resolvers/context.py", "post_names", "per request: post names"),
    ("sqlalchemy/orm/session.py", "flush", "SQLAlchemy ORM flush"),
    ("sqlalchemy/util/concurrency.py", "greenlet_spawn", "SQLAlchemy greenlet_spawn (all SQL)"),
    ("json/__init__.py", "dumps", "json.dumps"),
    ("json/__init__.py", "loads", "json.loads"),
    ("httpx/_client.py", "post", "httpx client post (in-process: the whole request)"),
)
"""(short path suffix, function, label): inclusive times worth seeing by themselves."""

BORING = ("asyncio/", "selectors.py", "contextlib.py", "bench/", "threading.py", "<")
"""Frames left out of the top-25 list: event-loop plumbing and the driver."""
