"""Cases per second through the API: create-and-submit, then task completions, on PostgreSQL.

Run on demand (not a test; no target is asserted):

    .venv/bin/python bench/lifecycle.py [--cases N] [--concurrency C] [--completions K]
                                        [--sqlite] [--profile]

A fresh database (PostgreSQL at YEKUO_BENCH_PG_ADMIN, default
postgresql://postgres@127.0.0.1:5432/postgres; dropped at the end) is migrated, and a business
type is defined through GraphQL: five stages in a line, accept -> survey -> reply -> fees ->
connect (survey goes to reply only when `capacity_kva > 50`, else straight to fees; every case
here has 100 kVA), eight data items, five posts, an org unit tree and the responsibilities. One
STAFF user in the county holds all five posts (argon2 at the library's default cost, like
production; it signs in once).

Each case is `createBenchLifecycleCase(submit: true)` and then K `completeTask` calls (default
4: accept, survey, reply and fees, leaving the case at connect; 5 completes it, which also
writes the customer archive). The next task's id comes from the payload's
`case { tasks { id status } }`, never from myTasks, so only the command path is measured.
C workers (default 8) share N cases (default 200) after a warm-up of 20 cases.

Default mode: a real server process (`python -m server.cli serve`) driven over loopback with
httpx. Printed: cases/s, commands/s, p50/p95 latency per mutation kind, the server process's
CPU seconds per case, the CPU of this database's PostgreSQL backends, the bench client's CPU,
and how busy the machine was (the client, server and PostgreSQL share its CPUs).

`--profile`: the same workload in-process (create_app + httpx.ASGITransport, lifespan via
`app.router.lifespan_context`); prints the SQL statements, transactions and pool checkouts per
case and mutation, and, under a profiler, self time by layer (graphql-core parse/validate/
execute, strawberry, our resolvers, engine and repositories, SQLAlchemy, asyncpg, JWT/argon2,
JSON, ...), the inclusive time of the spans that matter, and the top 25 functions by cumulative
time. pyinstrument is used when importable (`.venv/bin/pip install pyinstrument`; the project
does not depend on it): it samples the real stack, its samples weighed by this thread's CPU time
(`--profile-clock wall` for wall time), so other processes on the machine do not show up as time
in whichever frame was running. Its per-call overhead slows the run several times, most in
call-heavy pure Python, and SQLAlchemy's synchronous work inside greenlets is seen without the
coroutine awaiting it (the output says how much). `--profiler cprofile` uses cProfile, whose
call stack goes astray at every greenlet switch (each SQL statement), so it is rough around SQL;
`--profiler none` runs in-process without a profiler, to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import functools
import importlib
import importlib.util
import math
import os
import pstats
import re
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402  (the repository root is put on the path first)
import psutil  # noqa: E402
from schema_build import (  # noqa: E402
    ADMIN_PASSWORD,
    LOGIN,
    PUBLISH,
    SECRET,
    Server,
    bench_database,
    start_server,
    wait_healthy,
)

WARM_UP = 20
TYPE_CODE = "bench_lifecycle"
STAFF = "bench_staff"
STAFF_PASSWORD = "bench-staff-password"
VALID_ID = "11010519491231002X"
UNIT = "county"

ITEMS: list[dict[str, Any]] = [
    {"code": "customer_name", "label": "户名", "type": "STRING", "maxLength": 100},
    {"code": "id_number", "label": "证件号码", "type": "ID_NUMBER"},
    {"code": "supply_address", "label": "用电地址", "type": "STRING"},
    {"code": "capacity_kva", "label": "申请容量", "type": "DECIMAL", "unit": "kVA"},
    {"code": "survey_opinion", "label": "勘查意见", "type": "TEXT"},
    {"code": "supply_plan", "label": "供电方案", "type": "TEXT"},
    {"code": "fee_amount", "label": "业务费", "type": "MONEY"},
    {"code": "meter_asset_no", "label": "电能表资产编号", "type": "STRING"},
]
STAGES = [
    ("accept", "业务受理", 1),
    ("survey", "现场勘查", 3),
    ("reply", "供电方案答复", 15),
    ("fees", "业务收费", 5),
    ("connect", "装表接电", 5),
]
POSTS = {
    "acceptor": "受理员",
    "surveyor": "勘查员",
    "planner": "方案员",
    "cashier": "收费员",
    "metering": "装表接电员",
}
RESPONSIBLE = {
    "accept": "acceptor",
    "survey": "surveyor",
    "reply": "planner",
    "fees": "cashier",
    "connect": "metering",
}
DRAFT: dict[str, Any] = {
    "code": TYPE_CODE,
    "name": "低压新装(基准)",
    "group": "NEW",
    "timeLimit": {"amount": 30, "unit": "WORKING_DAYS"},
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "id_number", "requiredAt": ["accept"]},
        {"item": "supply_address"},
        {"item": "capacity_kva", "editableAt": ["survey"], "requiredAt": ["survey"]},
        {"item": "survey_opinion", "editableAt": ["survey"]},
        {"item": "supply_plan", "editableAt": ["reply"], "requiredAt": ["reply"]},
        {"item": "fee_amount", "editableAt": ["fees"], "requiredAt": ["fees"]},
        {"item": "meter_asset_no", "editableAt": ["connect"], "requiredAt": ["connect"]},
    ],
    "stages": [{"stage": code} for code, _, _ in STAGES],
    "transitions": [
        {"from": "accept", "to": ["survey"]},
        {"from": "survey", "to": ["reply"], "condition": "capacity_kva > 50"},
        {"from": "survey", "to": ["fees"]},
        {"from": "reply", "to": ["fees"]},
        {"from": "fees", "to": ["connect"]},
    ],
    "start": "accept",
}
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("accept", {}),
    ("survey", {"capacityKva": "100", "surveyOpinion": "同意"}),
    ("reply", {"supplyPlan": "单电源 0.4kV 接入"}),
    ("fees", {"feeAmount": "1200.00"}),
    ("connect", {"meterAssetNo": "3330000001"}),
]
"""The stage each completion finishes and the data it writes, in order."""

UPSERT_ITEM = """mutation($input: UpsertDataItemInput!) { upsertDataItem(input: $input) {
  dataItem { code } errors { code message path } } }"""
UPSERT_STAGE = """mutation($input: UpsertStageInput!) { upsertStage(input: $input) {
  stage { code } errors { code message path } } }"""
UPSERT_POST = """mutation($input: UpsertPostInput!) { upsertPost(input: $input) {
  post { code } errors { code message path } } }"""
UPSERT_ORG = """mutation($input: UpsertOrgUnitInput!) { upsertOrgUnit(input: $input) {
  orgUnit { code } errors { code message path } } }"""
ASSIGN = """mutation($input: AssignResponsibilityInput!) { assignResponsibility(input: $input) {
  responsibility { post { code } } errors { code message path } } }"""
SAVE_DRAFT = """mutation($input: SaveBusinessTypeDraftInput!) {
  saveBusinessTypeDraft(input: $input) {
    problems { code message path } errors { code message path } } }"""
CREATE = """mutation($input: CreateBenchLifecycleCaseInput!) {
  createBenchLifecycleCase(input: $input) {
    case { id status tasks { id status } } errors { code message path } } }"""
COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) {
  task { status } case { id status tasks { id status } } errors { code message path } } }"""


# --- driving the API -------------------------------------------------------------------------


@dataclass
class Driver:
    """An httpx client of one app (real or in-process) that times every mutation by kind."""

    client: httpx.AsyncClient
    token: str = ""
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    async def call(
        self,
        query: str,
        variables: Mapping[str, Any],
        *,
        token: str | None = None,
        kind: str | None = None,
    ) -> dict[str, Any]:
        """POST one operation; its `data` (GraphQL errors raise). `kind` records the latency."""
        bearer = self.token if token is None else token
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        started = time.perf_counter()
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": dict(variables)}, headers=headers
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:500]}")
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        if kind is not None:
            self.latencies[kind].append(elapsed)
        data: dict[str, Any] = body["data"]
        return data

    async def login(self, username: str, password: str) -> str:
        """A Bearer token for the user."""
        data = await self.call(LOGIN, {"u": username, "p": password}, token="")
        token: str = data["login"]["token"]
        if not token:
            raise RuntimeError(f"{username} could not sign in")
        return token


def _ok(payload: Mapping[str, Any], what: str) -> None:
    if payload.get("errors"):
        raise RuntimeError(f"{what} refused: {payload['errors']}")


async def define(driver: Driver) -> None:
    """The business type, posts, org units and responsibilities, as an ADMIN, through GraphQL."""
    for item in ITEMS:
        _ok((await driver.call(UPSERT_ITEM, {"input": item}))["upsertDataItem"], item["code"])
    for code, name, days in STAGES:
        stage = {"code": code, "name": name, "timeLimit": {"amount": days, "unit": "WORKING_DAYS"}}
        _ok((await driver.call(UPSERT_STAGE, {"input": stage}))["upsertStage"], code)
    for code, name in POSTS.items():
        post = {"code": code, "name": name}
        _ok((await driver.call(UPSERT_POST, {"input": post}))["upsertPost"], code)
    for code, name, parent in [
        ("province", "省公司", None),
        ("city", "市公司", "province"),
        (UNIT, "县公司", "city"),
    ]:
        unit = {"code": code, "name": name, "parent": parent}
        _ok((await driver.call(UPSERT_ORG, {"input": unit}))["upsertOrgUnit"], code)
    for stage_code, post_code in RESPONSIBLE.items():
        assignment = {"stage": stage_code, "post": post_code}
        _ok((await driver.call(ASSIGN, {"input": assignment}))["assignResponsibility"], stage_code)
    saved = (await driver.call(SAVE_DRAFT, {"input": DRAFT}))["saveBusinessTypeDraft"]
    _ok(saved, "the draft")
    if saved["problems"]:
        raise RuntimeError(f"draft problems: {saved['problems']}")
    published = (await driver.call(PUBLISH, {"code": TYPE_CODE}))["publishBusinessType"]
    _ok(published, "publish")
    if published["problems"]:
        raise RuntimeError(f"publish problems: {published['problems']}")


async def add_user(
    url: str, username: str, password: str, roles: list[str], posts: list[str], unit: str | None
) -> None:
    """A user written through the repository, its password hashed at argon2's default cost."""
    from database import metadata_repo, user_repo
    from database.session import Database
    from server.security import Credentials

    db = Database(url)
    try:
        async with db.transaction() as session:
            found = await metadata_repo.get_org_unit(session, unit) if unit else None
            await user_repo.save(
                session,
                username=username,
                name=username,
                password_hash=await Credentials(SECRET).hash_password(password),
                roles=roles,
                org_unit_id=found.id if found else None,
                post_codes=posts,
                now=dt.datetime.now(dt.UTC),
            )
    finally:
        await db.dispose()


def _open_task(case: Mapping[str, Any]) -> str:
    open_ids = [t["id"] for t in case["tasks"] if t["status"] in ("OPEN", "CLAIMED")]
    if len(open_ids) != 1:
        raise RuntimeError(f"expected one open task, found {case['tasks']}")
    task_id: str = open_ids[0]
    return task_id


async def one_case(driver: Driver, number: int, completions: int) -> None:
    """Create and submit a case, then complete its next task `completions` times."""
    data = {
        "customerName": f"基准客户{number}",
        "idNumber": VALID_ID,
        "supplyAddress": f"工业园区{number}号",
    }
    created = await driver.call(
        CREATE,
        {"input": {"orgUnit": UNIT, "submit": True, "data": data}},
        kind="create+submit",
    )
    payload = created["createBenchLifecycleCase"]
    _ok(payload, "create")
    case = payload["case"]
    for stage, changes in STEPS[:completions]:
        done = await driver.call(
            COMPLETE,
            {"input": {"taskId": _open_task(case), "outcome": "APPROVE", "data": changes}},
            kind=f"complete {stage}",
        )
        outcome = done["completeTask"]
        _ok(outcome, f"completing {stage}")
        case = outcome["case"]
    # The route went through reply (the condition held): one task per stage visited.
    if len(case["tasks"]) != min(completions + 1, len(STEPS)):
        raise RuntimeError(f"unexpected route: {case['tasks']}")
    if completions == len(STEPS) and case["status"] != "COMPLETED":
        raise RuntimeError(f"the case did not complete: {case}")


async def run_cases(driver: Driver, count: int, concurrency: int, completions: int) -> float:
    """`count` cases over `concurrency` workers; the wall time in seconds (bounded)."""
    numbers = iter(range(count))

    async def worker() -> None:
        for number in numbers:  # shared: each worker takes the next case number
            await one_case(driver, number, completions)

    started = time.perf_counter()
    async with asyncio.timeout(max(600.0, count * 10.0)), asyncio.TaskGroup() as group:
        for _ in range(max(1, min(concurrency, count))):
            group.create_task(worker())
    return time.perf_counter() - started


async def prepare(driver: Driver, url: str) -> None:
    """Define the metadata as admin, add the STAFF user, sign it in."""
    driver.token = await driver.login("admin", ADMIN_PASSWORD)
    await define(driver)
    await add_user(url, STAFF, STAFF_PASSWORD, ["STAFF"], list(POSTS), UNIT)
    driver.token = await driver.login(STAFF, STAFF_PASSWORD)


# --- CPU accounting --------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def postgres_cpu(database: str | None) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds of the backends serving `database`, and of every postgres process, by pid."""
    backends: dict[int, float] = {}
    everything: dict[int, float] = {}
    for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        info = process.info
        if info.get("name") != "postgres" or info.get("cpu_times") is None:
            continue
        seconds = float(info["cpu_times"].user + info["cpu_times"].system)
        everything[process.pid] = seconds
        if database and database in " ".join(info.get("cmdline") or []):
            backends[process.pid] = seconds
    return backends, everything


def _grown(before: Mapping[int, float], after: Mapping[int, float]) -> float:
    """CPU used between two snapshots (processes that exited in between are not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_busy() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far."""
    times = psutil.cpu_times()
    # Linux counts guest time inside user time too.
    guest = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    total = float(sum(times) - guest)
    idle = float(times.idle + getattr(times, "iowait", 0.0))
    return total - idle, total


@dataclass
class CpuSnapshot:
    """CPU counters at one moment."""

    server: float
    client: float
    backends: dict[int, float]
    postgres: dict[int, float]
    busy: float
    total: float

    @classmethod
    def take(cls, server_pid: int | None, database: str | None) -> CpuSnapshot:
        """Read every counter now."""
        backends, everything = postgres_cpu(database)
        busy, total = machine_busy()
        return cls(
            server=process_cpu(server_pid) if server_pid else 0.0,
            client=time.process_time(),
            backends=backends,
            postgres=everything,
            busy=busy,
            total=total,
        )


# --- reporting -------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def print_throughput(
    latencies: Mapping[str, list[float]], cases: int, seconds: float, completions: int
) -> None:
    """Cases/s, commands/s and the latency table."""
    commands = cases * (1 + completions)
    print(
        f"\nmeasured: {cases} cases ({commands} mutations) in {seconds:.2f} s -> "
        f"{cases / seconds:.1f} cases/s, {commands / seconds:.1f} commands/s"
    )
    header = f"{'mutation':<18} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'mean ms':>8}"
    print(header)
    print("-" * len(header))
    rows = [(kind, values) for kind, values in latencies.items()]
    completes = [
        v for kind, values in latencies.items() if kind.startswith("complete") for v in values
    ]
    if completes:
        rows.append(("complete (all)", completes))
    for kind, values in rows:
        print(
            f"{kind:<18} {len(values):>5} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.95) * 1000:>8.1f} {max(values) * 1000:>8.1f} "
            f"{statistics.fmean(values) * 1000:>8.1f}"
        )


def print_cpu(
    before: CpuSnapshot,
    after: CpuSnapshot,
    cases: int,
    seconds: float,
    completions: int,
    *,
    in_process: bool,
) -> None:
    """Where the CPU went during the measured phase."""
    commands = cases * (1 + completions)
    cpus = os.cpu_count() or 1
    rows: list[tuple[str, float | None]] = []
    if not in_process:
        rows.append(("server process (uvicorn, 1 worker)", after.server - before.server))
    rows += [
        ("PostgreSQL backends of this database", _grown(before.backends, after.backends) or None),
        ("PostgreSQL, all processes", _grown(before.postgres, after.postgres) or None),
        (
            "bench process (client + app)" if in_process else "bench client (this process)",
            after.client - before.client,
        ),
    ]
    print(f"\nCPU during the measured phase ({cpus} CPUs on this machine)")
    header = f"{'':<38} {'CPU s':>7} {'ms/case':>8} {'ms/command':>11} {'% of a core':>12}"
    print(header)
    print("-" * len(header))
    for label, used in rows:
        if used is None:
            print(f"{label:<38} {'n/a':>7}")
            continue
        print(
            f"{label:<38} {used:>7.2f} {used / cases * 1000:>8.1f} "
            f"{used / commands * 1000:>11.2f} {used / seconds * 100:>11.0f}%"
        )
    busy = (after.busy - before.busy) / max(after.total - before.total, 1e-9)
    print(f"machine busy: {busy * 100:.0f}% of all {cpus} CPUs")


# --- SQL statements (in-process runs) --------------------------------------------------------


class SqlCounter:
    """Counts the statements and transactions an engine runs, by statement shape."""

    SHAPE = re.compile(
        r"^\s*(SELECT\b.*?\bFROM\s+(\"?\w+\"?)|INSERT INTO\s+(\"?\w+\"?)|UPDATE\s+(\"?\w+\"?)"
        r"|DELETE FROM\s+(\"?\w+\"?))",
        re.IGNORECASE | re.DOTALL,
    )

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.pre_ping = bool(getattr(engine.sync_engine.pool, "_pre_ping", False))
        self.statements: Counter[str] = Counter()
        self.transactions = 0
        self.checkouts = 0
        self.counting = False
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "before_cursor_execute")
        def _statement(*args: Any) -> None:
            if self.counting:
                self.statements[self.shape(str(args[2]))] += 1

        @event.listens_for(sync_engine, "begin")
        def _begin(_connection: Any) -> None:
            if self.counting:
                self.transactions += 1

        @event.listens_for(sync_engine, "checkout")
        def _checkout(*_args: Any) -> None:
            if self.counting:
                self.checkouts += 1

    @staticmethod
    @functools.cache
    def shape(statement: str) -> str:
        """`SELECT … FROM t [FOR UPDATE]`, `INSERT INTO t`, `UPDATE t`, `DELETE FROM t`."""
        found = SqlCounter.SHAPE.match(statement)
        if found is None:
            return " ".join(statement.split())[:60]
        verb = statement.split(None, 1)[0].upper()
        table = next(g for g in found.groups()[1:] if g).strip('"')
        if verb == "SELECT":
            locked = " FOR UPDATE" if "FOR UPDATE" in statement.upper() else ""
            return f"SELECT … FROM {table}{locked}"
        return {"INSERT": "INSERT INTO", "DELETE": "DELETE FROM"}.get(verb, verb) + f" {table}"

    def print(self, cases: int, commands: int) -> None:
        """Statements per case and command, the most frequent shapes first."""
        total = sum(self.statements.values())
        print(
            f"\nSQL in the measured phase: {total / cases:.1f} statements and "
            f"{self.transactions / cases:.1f} transactions per case "
            f"({total / commands:.1f} and {self.transactions / commands:.1f} per mutation); "
            f"{self.checkouts / commands:.1f} pool checkouts per mutation"
        )
        if self.pre_ping:
            print(
                "(pool_pre_ping: every checkout first runs BEGIN; ';'; ROLLBACK on asyncpg, "
                "3 more round trips)"
            )
        print(f"{'statement shape':<46} {'per case':>9}")
        print("-" * 56)
        for shape, count in self.statements.most_common(25):
            print(f"{shape:<46} {count / cases:>9.1f}")


# --- profiles ---------------------------------------------------------------------------------


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


def print_profile(profile: Profile, cases: int) -> None:
    """Self time by layer, the spans and the top 25 functions by cumulative time."""
    total = sum(profile.self_by_layer.values()) or 1e-9
    print(f"\nWhere the time goes ({profile.tool})")
    print(f"self time by layer: {total:.2f} s = 100%")
    header = f"{'layer':<56} {'s':>7} {'%':>6} {'ms/case':>8}"
    print(header)
    print("-" * len(header))
    for label, seconds in sorted(profile.self_by_layer.items(), key=lambda kv: -kv[1]):
        if seconds / total >= 0.001:
            print(
                f"{label:<56} {seconds:>7.2f} {seconds / total * 100:>5.1f}% "
                f"{seconds / cases * 1000:>8.2f}"
            )

    for note in profile.notes:
        print(f"note: {note}")

    print("\ntop 15 functions by self time")
    header = f"{'self s':>7} {'%':>6}  {'layer':<34} function"
    print(header)
    print("-" * 110)
    for key, seconds in sorted(profile.own.items(), key=lambda kv: -kv[1])[:15]:
        path, line, function = key
        print(
            f"{seconds:>7.2f} {seconds / total * 100:>5.1f}%  "
            f"{layer_of(path, function)[:34]:<34} {function} ({path}:{line})"
        )

    def span(suffix: str, function: str) -> float:
        return sum(
            seconds
            for (path, _line, name), seconds in profile.cumulative.items()
            if path.endswith(suffix) and (name == function or name.endswith("." + function))
        )

    print("\nspans (inclusive; a coroutine's time counts while it runs, not while it awaits)")
    header = f"{'span':<56} {'s':>7} {'%':>6} {'ms/case':>8}"
    print(header)
    print("-" * len(header))
    for suffix, function, label in SPANS:
        seconds = span(suffix, function)
        if seconds > 0 or "parse" in label or "validate" in label:
            print(
                f"{label:<56} {seconds:>7.2f} {seconds / total * 100:>5.1f}% "
                f"{seconds / cases * 1000:>8.2f}"
            )

    print(
        "\ntop 25 functions by cumulative time (event-loop plumbing and the driver left out; "
        "a function within 3% of the one above it is a pass-through wrapper and is folded)"
    )
    header = f"{'cum s':>7} {'cum %':>6} {'self s':>7}  {'layer':<34} function"
    print(header)
    print("-" * 118)
    shown = folded = 0
    above = math.inf
    for key, seconds in sorted(profile.cumulative.items(), key=lambda kv: -kv[1]):
        path, line, function = key
        if path in ("", "~") or path.startswith(BORING) or function == "<module>":
            continue
        wrapper = seconds >= 0.97 * above
        above = seconds
        if wrapper:
            folded += 1
            continue
        print(
            f"{seconds:>7.2f} {seconds / total * 100:>5.1f}% {profile.own.get(key, 0.0):>7.2f}  "
            f"{layer_of(path, function)[:34]:<34} {function} ({path}:{line})"
        )
        shown += 1
        if shown == 25:
            break
    print(f"({folded} wrappers folded)")


# --- the real server -------------------------------------------------------------------------


async def drive_server(
    server: Server, url: str, database: str | None, args: argparse.Namespace
) -> None:
    """Define, warm up and measure against a server process over loopback."""
    limits = httpx.Limits(
        max_connections=args.concurrency + 4, max_keepalive_connections=args.concurrency + 4
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=60.0, limits=limits) as client:
        driver = Driver(client)
        await prepare(driver, url)
        warm = await run_cases(driver, WARM_UP, args.concurrency, args.completions)
        print(f"(warm-up: {WARM_UP} cases in {warm:.2f} s)")
        driver.latencies.clear()
        before = CpuSnapshot.take(server.process.pid, database)
        seconds = await run_cases(driver, args.cases, args.concurrency, args.completions)
        after = CpuSnapshot.take(server.process.pid, database)
    print_throughput(driver.latencies, args.cases, seconds, args.completions)
    print_cpu(
        before,
        after,
        args.cases,
        seconds,
        args.completions,
        in_process=False,
    )


def run_server_mode(url: str, folder: Path, database: str | None, args: argparse.Namespace) -> None:
    """Start `yekuo serve`, measure, stop it."""
    asyncio.run(add_user(url, "admin", ADMIN_PASSWORD, ["ADMIN"], [], None))
    server = start_server("lifecycle", url, folder)
    try:
        asyncio.run(wait_healthy([server]))
        asyncio.run(drive_server(server, url, database, args))
    except BaseException:
        with contextlib.suppress(OSError):
            print(server.log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        server.stop()


# --- in-process, under a profiler ------------------------------------------------------------


async def profiled(driver: Driver, args: argparse.Namespace) -> tuple[float, Profile | None]:
    """The measured phase under the chosen profiler: its wall time and the profile."""
    run = run_cases(driver, args.cases, args.concurrency, args.completions)
    tool = args.profiler
    if tool == "auto":
        tool = "pyinstrument" if importlib.util.find_spec("pyinstrument") else "cprofile"
        if tool == "cprofile":
            print("(pyinstrument is not installed: cProfile, rough around greenlet switches)")
    if tool == "none":
        return await run, None
    if tool == "cprofile":
        timer = time.thread_time if args.profile_clock == "cpu" else time.perf_counter
        profiler = cProfile.Profile(timer)
        profiler.enable()
        try:
            seconds = await run
        finally:
            profiler.disable()
        return seconds, from_cprofile(profiler)
    pyinstrument: Any = importlib.import_module("pyinstrument")
    stack_sampler: Any = importlib.import_module("pyinstrument.stack_sampler")
    thread_sampler = stack_sampler.get_stack_sampler()
    if args.profile_clock == "cpu":
        # Samples weighed by this thread's CPU time: other processes taking the CPU away (the
        # machine is shared with the database) then do not show up as time in whatever frame
        # happened to be running.
        thread_sampler.timer_func = time.thread_time
    sampler = pyinstrument.Profiler(interval=0.002, async_mode="disabled")
    sampler.start()
    try:
        seconds = await run
    finally:
        sampler.stop()
        thread_sampler.timer_func = None
    tool_label = f"pyinstrument, in-process, samples every 2 ms of {args.profile_clock} time"
    return seconds, from_pyinstrument(sampler.last_session.root_frame(), tool_label)


async def drive_in_process(url: str, folder: Path, args: argparse.Namespace) -> None:
    """The same workload through httpx.ASGITransport, the measured phase under a profiler."""
    from server.app import create_app
    from server.settings import Settings

    app = create_app(Settings(data_dir=folder, database_url=url, secret=SECRET))
    counter = SqlCounter(app.state.services.db.engine)
    database = None if args.sqlite else url.rsplit("/", 1)[-1]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=60.0
        ) as client:
            driver = Driver(client)
            await prepare(driver, url)
            warm = await run_cases(driver, WARM_UP, args.concurrency, args.completions)
            print(f"(warm-up: {WARM_UP} cases in {warm:.2f} s)")
            driver.latencies.clear()
            counter.counting = True
            before = CpuSnapshot.take(None, database)
            seconds, profile = await profiled(driver, args)
            after = CpuSnapshot.take(None, database)
            counter.counting = False
    if profile is not None:
        print("\n(in-process under the profiler: its overhead slows everything below)")
    print_throughput(driver.latencies, args.cases, seconds, args.completions)
    print_cpu(
        before,
        after,
        args.cases,
        seconds,
        args.completions,
        in_process=True,
    )
    counter.print(args.cases, args.cases * (1 + args.completions))
    if profile is not None:
        print_profile(profile, args.cases)


def run_profile_mode(url: str, folder: Path, args: argparse.Namespace) -> None:
    """Add the admin, then run in-process."""
    asyncio.run(add_user(url, "admin", ADMIN_PASSWORD, ["ADMIN"], [], None))
    asyncio.run(drive_in_process(url, folder, args))


# --- entry point -----------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A temporary data directory, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="yekuo-lifecycle-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=200, help="measured cases (default 200)")
    parser.add_argument("--concurrency", type=int, default=8, help="workers (default 8)")
    parser.add_argument(
        "--completions",
        type=int,
        default=4,
        choices=range(1, len(STEPS) + 1),
        help="task completions per case (default 4; 5 completes the case and archives it)",
    )
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    parser.add_argument("--profile", action="store_true", help="in-process, under a profiler")
    parser.add_argument(
        "--profiler",
        choices=("auto", "pyinstrument", "cprofile", "none"),
        default="auto",
        help="with --profile; auto: pyinstrument if installed, else cProfile; "
        "none: in-process without a profiler (its overhead, by comparison)",
    )
    parser.add_argument(
        "--profile-clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="weigh samples by this thread's CPU time (default) or by wall time",
    )
    args = parser.parse_args(argv)
    if args.cases < 1 or args.concurrency < 1:
        parser.error("--cases and --concurrency are at least 1")
    dialect = "SQLite" if args.sqlite else "PostgreSQL"
    mode = "in-process ASGI" if args.profile else "server process over loopback"
    print(
        f"lifecycle bench: {dialect}, {mode}; {args.cases} cases, concurrency {args.concurrency}, "
        f"create+submit then {args.completions} completions per case "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    with scratch_folder() as folder, bench_database(args.sqlite, folder) as url:
        database = None if args.sqlite else url.rsplit("/", 1)[-1]
        if args.profile:
            run_profile_mode(url, folder, args)
        else:
            run_server_mode(url, folder, database, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
