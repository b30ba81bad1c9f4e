"""Cost of generating the GraphQL schema, and how long a publish takes to be served everywhere.

Run on demand (not a test): `.venv/bin/python bench/schema_build.py` (PostgreSQL at
YEKUO_BENCH_PG_ADMIN, default postgresql://postgres@127.0.0.1:5432/postgres), or with
`--sqlite` for the publish part on a SQLite file. Targets on the 2-core reference machine:
cold build of 100 business types ≤ 3 s, RSS ≤ 200 MB, publish-to-served ≤ 1 s at 100 types in
both the publishing and a second process.

1. Cold build. For 10, 100 and 300 business types of 30 data items each (mixed types: STRING,
   TEXT, INTEGER, DECIMAL, MONEY, BOOLEAN, DATE, DATETIME, ENUM, ID_NUMBER, PHONE) and 4–6
   stages, drawn from one data dictionary of 400 items, a fresh subprocess per size builds
   `build_schema(snapshot, TypeFactory())` from an in-memory snapshot (so no class cache is
   warm and RSS belongs to that size alone). It also reports what a publish costs in-process:
   the rebuild with one business type changed (the class cache warm), and graphql-core's
   breaking/dangerous change comparison the publish runs between the old and new schema.
2. Publish-to-served. A fresh database gets 100 published business types through the database
   layer (metadata_repo), then two real server processes (`python -m server.cli serve`) start
   on it. Each round changes one business type (adds a data item to its draft through the API)
   and publishes it through the API on process A, timing from sending the mutation: the
   mutation's round trip (A must serve the new field right after the response, since the
   publishing process awaits its own rebuild) and the moment process B serves the new field
   (B polled every 10 ms, concurrently with the publish). The build times the two processes
   logged for that revision are shown too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metamodel.snapshot import (  # noqa: E402  (the repository root is put on the path first)
    BusinessTypeStatus,
    MetamodelSnapshot,
    PublishedType,
)
from metamodel.specs import (  # noqa: E402
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
    StageSpec,
    StageUsage,
    TimeLimit,
    TimeUnit,
    TransitionSpec,
)

PG_ADMIN_URL = os.environ.get(
    "YEKUO_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret-not-for-production-0123456789"
ADMIN_PASSWORD = "bench-admin-password"
DICTIONARY_SIZE = 400
ITEMS_PER_TYPE = 30
COLD_SIZES = (10, 100, 300)
EXTRA_PREFIX = "bench_extra_"

TARGET_COLD_100 = 3.0
TARGET_RSS_MB = 200.0
TARGET_SERVED = 1.0
STARTUP_SECONDS = 180.0

# --- a synthetic metamodel ------------------------------------------------------------------

KINDS: tuple[ItemType, ...] = (
    ItemType.STRING,
    ItemType.DECIMAL,
    ItemType.ENUM,
    ItemType.DATE,
    ItemType.INTEGER,
    ItemType.MONEY,
    ItemType.BOOLEAN,
    ItemType.TEXT,
    ItemType.DATETIME,
    ItemType.ID_NUMBER,
    ItemType.PHONE,
)

STAGES: tuple[StageSpec, ...] = (
    StageSpec("accept", "业务受理", TimeLimit(1, TimeUnit.WORKING_DAYS)),
    StageSpec("survey", "现场勘查", TimeLimit(3, TimeUnit.WORKING_DAYS)),
    StageSpec("design", "方案设计", TimeLimit(10, TimeUnit.WORKING_DAYS)),
    StageSpec("review", "设计审核", TimeLimit(5, TimeUnit.WORKING_DAYS)),
    StageSpec("build", "工程施工", TimeLimit(30, TimeUnit.CALENDAR_DAYS)),
    StageSpec("connect", "装表接电", TimeLimit(5, TimeUnit.WORKING_DAYS)),
)


def dictionary_item(index: int) -> DataItemSpec:
    """The dictionary's item number `index`; its type cycles through every item type."""
    kind = KINDS[index % len(KINDS)]
    code = f"{kind.value.lower()}_{index:03d}"
    label = f"项目 {index}"
    if kind is ItemType.ENUM:
        options = tuple(EnumOption(f"OPTION_{k}", f"选项 {k}") for k in range(3 + index % 4))
        return DataItemSpec(code, label, kind, options=options)
    if kind is ItemType.DECIMAL:
        return DataItemSpec(code, label, kind, unit="kVA", min="0", max="100000", indexed=True)
    if kind is ItemType.STRING:
        return DataItemSpec(code, label, kind, max_length=100, description="说明")
    if kind is ItemType.INTEGER:
        return DataItemSpec(code, label, kind, min="0", max="1000")
    return DataItemSpec(code, label, kind)


def extra_item(round_number: int) -> DataItemSpec:
    """An item no synthetic type uses: publish rounds add these to a draft."""
    return DataItemSpec(
        f"{EXTRA_PREFIX}{round_number}", f"新增项目 {round_number}", ItemType.STRING
    )


def dictionary(size: int = DICTIONARY_SIZE) -> dict[str, DataItemSpec]:
    """The whole data dictionary, by code."""
    items = (dictionary_item(i) for i in range(size))
    return {i.code: i for i in items}


def type_code(number: int) -> str:
    """The code of synthetic business type `number`."""
    return f"bench_type_{number:03d}"


def type_spec(
    number: int, items: Sequence[DataItemSpec], extra: Sequence[str] = ()
) -> BusinessTypeSpec:
    """A valid business type: 30 dictionary items (a stride, so types differ), 4–6 stages."""
    chosen = [items[(number * 37 + j * 13) % len(items)] for j in range(ITEMS_PER_TYPE)]
    stages = STAGES[: 4 + number % 3]
    start = stages[0].code
    usages = [
        ItemUsage(item.code, required_at=(start,) if j < 3 else (), editable_at=(start,))
        for j, item in enumerate(chosen)
    ]
    usages.extend(ItemUsage(code, editable_at=(start,)) for code in extra)
    transitions = [
        TransitionSpec(stages[k].code, (stages[k + 1].code,)) for k in range(len(stages) - 1)
    ]
    transitions.append(TransitionSpec("survey", ("accept",), outcome="RETURN"))
    return BusinessTypeSpec(
        code=type_code(number),
        name=f"业务类型 {number}",
        group=tuple(BusinessGroup)[number % len(BusinessGroup)],
        priority=number % 10,
        time_limit=TimeLimit(40, TimeUnit.WORKING_DAYS),
        items=tuple(usages),
        stages=tuple(
            StageUsage(
                s.code, outcomes=("APPROVE", "RETURN") if s.code == "survey" else ("APPROVE",)
            )
            for s in stages
        ),
        transitions=tuple(transitions),
        start=start,
    )


def freeze(
    spec: BusinessTypeSpec, version: int, items: Mapping[str, DataItemSpec]
) -> BusinessTypeVersion:
    """The published version of `spec` (its items and stages frozen alongside)."""
    library = {s.code: s for s in STAGES}
    return BusinessTypeVersion(
        spec=spec,
        version=version,
        items={u.item: items[u.item] for u in spec.items},
        stages={u.stage: library[u.stage] for u in spec.stages},
    )


def snapshot(types: int, *, changed: bool = False) -> MetamodelSnapshot:
    """`types` published business types over the dictionary; `changed`: type 0 at version 2."""
    items = dictionary()
    listed = list(items.values())
    published = []
    for number in range(types):
        extra: tuple[str, ...] = ()
        version = 1
        if changed and number == 0:
            items = {**items, EXTRA_PREFIX + "1": extra_item(1)}
            extra, version = (EXTRA_PREFIX + "1",), 2
        spec = type_spec(number, listed, extra)
        published.append(
            PublishedType(
                code=spec.code,
                name=spec.name,
                group=spec.group,
                status=BusinessTypeStatus.PUBLISHED,
                latest=freeze(spec, version, items),
            )
        )
    return MetamodelSnapshot(revision=2 if changed else 1, types=tuple(published), items=items)


# --- 1. cold builds, each in a fresh process ------------------------------------------------


def rss_mb() -> float:
    """This process's resident set size now, in MB."""
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def cold_child(types: int) -> dict[str, float]:
    """Run inside the fresh subprocess: build once cold, then once more with one type changed."""
    import gc

    from graphql import find_breaking_changes, find_dangerous_changes

    from resolvers.build import build_schema
    from schema import strawberry_compat as compat
    from schema.generated import TypeFactory

    first, second = snapshot(types), snapshot(types, changed=True)
    gc.collect()
    before = rss_mb()
    factory = TypeFactory()
    started, cpu = time.perf_counter(), time.process_time()
    schema = build_schema(first, factory)
    cold, cold_cpu = time.perf_counter() - started, time.process_time() - cpu
    after = rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    rebuilt = build_schema(second, factory)
    rebuild, rebuild_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    find_breaking_changes(compat.graphql_schema(schema), compat.graphql_schema(rebuilt))
    find_dangerous_changes(compat.graphql_schema(schema), compat.graphql_schema(rebuilt))
    compare = time.perf_counter() - started
    del schema
    gc.collect()
    return {
        "types": types,
        "cold": cold,
        "cold_cpu": cold_cpu,
        "rss": after,
        "rss_growth": after - before,
        "rebuild": rebuild,
        "rebuild_cpu": rebuild_cpu,
        "compare": compare,
        "rss_end": rss_mb(),
    }


def run_cold(sizes: Sequence[int]) -> list[dict[str, float]]:
    """Run `cold_child` for each size in its own interpreter."""
    results = []
    for types in sizes:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--cold-child", str(types)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cold build of {types} types failed:\n{done.stderr}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def print_cold(results: Sequence[dict[str, float]]) -> None:
    """The cold-build table."""
    print(
        "\nCold schema build (fresh process per size; 30 items and 4–6 stages per type; "
        f"load average after: {os.getloadavg()[0]:.1f})"
    )
    header = (
        f"{'types':>6} {'cold build s':>13} {'(CPU s)':>8} {'RSS after MB':>13} "
        f"{'build grew MB':>14} {'rebuild 1 changed s':>20} {'(CPU s)':>8} {'compare s':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{int(r['types']):>6} {r['cold']:>13.3f} {r['cold_cpu']:>8.3f} {r['rss']:>13.1f} "
            f"{r['rss_growth']:>14.1f} {r['rebuild']:>20.3f} {r['rebuild_cpu']:>8.3f} "
            f"{r['compare']:>10.3f}"
        )
    hundred = next((r for r in results if r["types"] == 100), None)
    if hundred is not None:
        verdict = "met" if hundred["cold"] <= TARGET_COLD_100 else "MISSED"
        rss = "met" if max(r["rss"] for r in results) <= TARGET_RSS_MB else "MISSED"
        print(
            f"target cold build of 100 types ≤ {TARGET_COLD_100:.0f} s: {verdict}; "
            f"RSS ≤ {TARGET_RSS_MB:.0f} MB (largest size): {rss}"
        )


# --- 2. publish-to-served across two server processes ---------------------------------------


async def _pg_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def populate(url: str, types: int, rounds: int) -> None:
    """The dictionary, stages, a responsible post, `types` published types, an admin (repos)."""
    from database import metadata_repo, responsibility_repo, user_repo
    from database.session import Database
    from metamodel.specs import PostSpec
    from server.security import Credentials

    now = dt.datetime.now(dt.UTC)
    items = dictionary()
    listed = list(items.values())
    db = Database(url)
    try:
        async with db.transaction() as session:
            for item in [*listed, *(extra_item(k) for k in range(1, rounds + 1))]:
                await metadata_repo.save_data_item(session, item, now=now)
            for stage in STAGES:
                await metadata_repo.save_stage(session, stage, now=now)
            await metadata_repo.save_post(session, PostSpec("handler", "经办人"), now=now)
            for stage in STAGES:  # publishing refuses stages nobody is responsible for
                ids = await responsibility_repo.ids(
                    session, stage=stage.code, post="handler", business_type=None, org_unit=None
                )
                await responsibility_repo.assign(
                    session,
                    stage_id=int(ids["stage"] or 0),
                    post_id=int(ids["post"] or 0),
                    business_type_id=None,
                    org_unit_id=None,
                    effective_from=now - dt.timedelta(days=1),
                    by="bench",
                    now=now,
                )
            for number in range(types):
                spec = type_spec(number, listed)
                row = await metadata_repo.save_draft(session, spec, now=now)
                await metadata_repo.add_version(
                    session, row, freeze(spec, 1, items), by="bench", now=now
                )
            await metadata_repo.bump_revision(session, now=now)
            await user_repo.save(
                session,
                username="admin",
                name="Administrator",
                password_hash=await Credentials(SECRET).hash_password(ADMIN_PASSWORD),
                roles=["ADMIN"],
                org_unit_id=None,
                post_codes=[],
                now=now,
            )
    finally:
        await db.dispose()


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """One `yekuo serve` process and its log."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def build_seconds(self, revision: int) -> float | None:
        """The build time it logged for `revision`."""
        pattern = re.compile(rf"serving schema revision {revision} \(built in ([0-9.]+) s\)")
        found = pattern.search(self.log_path.read_text(errors="replace"))
        return float(found.group(1)) if found else None

    def stop(self) -> None:
        """Terminate, then kill after 10 s; close the log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def start_server(name: str, url: str, data_dir: Path) -> Server:
    """`python -m server.cli serve` on a free port, logging to a file in `data_dir`."""
    port = free_port()
    env = {
        **os.environ,
        "YEKUO_DATABASE_URL": url,
        "YEKUO_SECRET": SECRET,
        "YEKUO_DATA_DIR": str(data_dir),
    }
    log_path = data_dir / f"server-{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Server(name, port, process, log_path, log)


async def wait_healthy(servers: Sequence[Server]) -> None:
    """Until every server answers /healthz (at most STARTUP_SECONDS)."""
    import httpx

    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient(timeout=2.0) as client:
        for server in servers:
            while True:
                if server.process.poll() is not None:
                    raise RuntimeError(
                        f"server {server.name} exited:\n{server.log_path.read_text()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(server.url + "/healthz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server {server.name} did not come up")
                await asyncio.sleep(0.1)


FIELDS_OF = "query($name: String!) { __type(name: $name) { fields { name } } }"
LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"""
SAVE_DRAFT = """mutation($input: SaveBusinessTypeDraftInput!) {
  saveBusinessTypeDraft(input: $input) { problems { code message } errors { code message } } }"""
PUBLISH = """mutation($code: String!) { publishBusinessType(code: $code) {
  version problems { code message } errors { code message } } }"""


def draft_input(spec: BusinessTypeSpec) -> dict[str, Any]:
    """`spec` as the saveBusinessTypeDraft input."""
    limit = spec.time_limit
    return {
        "code": spec.code,
        "name": spec.name,
        "group": spec.group.value,
        "priority": spec.priority,
        "timeLimit": {"amount": limit.amount, "unit": limit.unit.value} if limit else None,
        "items": [
            {"item": u.item, "requiredAt": list(u.required_at), "editableAt": list(u.editable_at)}
            for u in spec.items
        ],
        "stages": [{"stage": s.stage, "outcomes": list(s.outcomes)} for s in spec.stages],
        "transitions": [
            {"from": t.from_stage, "to": list(t.to), "outcome": t.outcome} for t in spec.transitions
        ],
        "start": spec.start,
    }


@dataclass(frozen=True)
class Round:
    """One publish, timed from sending the mutation (wall clock, and each server's CPU time)."""

    revision: int
    publish: float
    a_served: float
    b_served: float
    a_cpu: float
    b_cpu: float
    a_build: float | None
    b_build: float | None


async def graphql(
    client: Any, url: str, query: str, variables: Mapping[str, Any], token: str | None = None
) -> dict[str, Any]:
    """POST a GraphQL operation; the `data`, or an error on GraphQL errors."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        url + "/graphql", json={"query": query, "variables": dict(variables)}, headers=headers
    )
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


async def serves_field(client: Any, url: str, type_name: str, field: str) -> bool:
    """Whether the server at `url` has `field` on `type_name` now."""
    data = await graphql(client, url, FIELDS_OF, {"name": type_name})
    found = data["__type"]
    return found is not None and any(f["name"] == field for f in found["fields"])


def cpu_seconds(server: Server) -> float:
    """CPU time (user + system) the server process has used so far."""
    import psutil

    times = psutil.Process(server.process.pid).cpu_times()
    return float(times.user + times.system)


async def served_after(
    client: Any, server: Server, type_name: str, field: str, started: float
) -> tuple[float, float]:
    """Until `server` serves the field (polled every 10 ms): seconds since `started`, its CPU."""
    deadline = time.monotonic() + 30
    while not await serves_field(client, server.url, type_name, field):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{server.name} never served {type_name}.{field}")
        await asyncio.sleep(0.01)
    return time.perf_counter() - started, cpu_seconds(server)


async def revision_of(client: Any, server: Server) -> int:
    """The metadata revision a server serves."""
    revision: int = (await client.get(server.url + "/healthz")).json()["revision"]
    return revision


async def measure_publishes(a: Server, b: Server, types: int, rounds: int) -> list[Round]:
    """Publish `rounds` changes of one business type on A; time A and B serving each."""
    import httpx

    from metamodel import naming

    listed = list(dictionary().values())
    number = 0
    data_type = naming.type_names(type_code(number))["Data"]
    results = []
    async with httpx.AsyncClient(timeout=60.0) as client, httpx.AsyncClient(timeout=60.0) as poll:
        login = await graphql(client, a.url, LOGIN, {"u": "admin", "p": ADMIN_PASSWORD})
        token = login["login"]["token"]
        for k in range(1, rounds + 1):
            extra = [f"{EXTRA_PREFIX}{j}" for j in range(1, k + 1)]
            spec = type_spec(number, listed, extra)
            saved = await graphql(client, a.url, SAVE_DRAFT, {"input": draft_input(spec)}, token)
            outcome = saved["saveBusinessTypeDraft"]
            if outcome["errors"] or outcome["problems"]:
                raise RuntimeError(f"draft refused: {outcome}")
            # Both processes idle and on the same revision before the clock starts.
            deadline = time.monotonic() + 30
            while await revision_of(client, a) != await revision_of(client, b):
                if time.monotonic() > deadline:
                    raise TimeoutError("the two processes did not converge")
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)  # past the registry's settle (a GC pass after each swap)
            field = naming.camel(extra[-1])
            a_cpu, b_cpu = cpu_seconds(a), cpu_seconds(b)
            started = time.perf_counter()
            watcher = asyncio.create_task(served_after(poll, b, data_type, field, started))
            published = await graphql(client, a.url, PUBLISH, {"code": spec.code}, token)
            publish = time.perf_counter() - started
            if not await serves_field(client, a.url, data_type, field):
                watcher.cancel()
                raise AssertionError("process A did not serve its own publish after the response")
            a_served = time.perf_counter() - started
            a_cpu = cpu_seconds(a) - a_cpu
            payload = published["publishBusinessType"]
            if payload["errors"] or payload["problems"]:
                watcher.cancel()
                raise RuntimeError(f"publish refused: {payload}")
            b_served, b_cpu_then = await watcher
            revision = await revision_of(client, a)
            results.append(
                Round(
                    revision=revision,
                    publish=publish,
                    a_served=a_served,
                    b_served=b_served,
                    a_cpu=a_cpu,
                    b_cpu=b_cpu_then - b_cpu,
                    a_build=a.build_seconds(revision),
                    b_build=b.build_seconds(revision),
                )
            )
    return results


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_publishes(rounds: Sequence[Round], types: int, dialect: str) -> None:
    """The publish-to-served table with median and max."""
    print(
        f"\nPublish-to-served, {types} published business types, two server processes on "
        f"{dialect}\n(seconds from sending publishBusinessType; A/B CPU: CPU seconds each process "
        "used until it served; build: the build time each logged; load average before: "
        f"{os.getloadavg()[0]:.1f})"
    )
    header = (
        f"{'round':>6} {'publish round trip':>19} {'A serves':>9} {'B serves':>9} "
        f"{'A CPU':>6} {'B CPU':>6} {'A build':>8} {'B build':>8}"
    )
    print(header)
    print("-" * len(header))
    for n, r in enumerate(rounds, 1):
        print(
            f"{n:>6} {r.publish:>19.3f} {r.a_served:>9.3f} {r.b_served:>9.3f} {r.a_cpu:>6.2f} "
            f"{r.b_cpu:>6.2f} {_fmt(r.a_build):>8} {_fmt(r.b_build):>8}"
        )
    for label, pick in (("median", statistics.median), ("max", max)):
        print(
            f"{label:>6} {pick(r.publish for r in rounds):>19.3f} "
            f"{pick(r.a_served for r in rounds):>9.3f} {pick(r.b_served for r in rounds):>9.3f} "
            f"{pick(r.a_cpu for r in rounds):>6.2f} {pick(r.b_cpu for r in rounds):>6.2f}"
        )
    worst = max(max(r.a_served, r.b_served) for r in rounds)
    verdict = "met" if worst <= TARGET_SERVED else "MISSED"
    print(f"target served ≤ {TARGET_SERVED:.0f} s in both processes (every round): {verdict}")


@contextlib.contextmanager
def bench_database(use_sqlite: bool, folder: Path) -> Iterator[str]:
    """A fresh, migrated database URL; a PostgreSQL one is dropped afterwards."""
    from database import migrate

    if use_sqlite:
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        migrate.upgrade(url)
        yield url
        return
    name = f"yekuo_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        url = f"{url}/{name}"
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_publish(types: int, rounds: int, use_sqlite: bool) -> None:
    """Set up, run and tear down the publish-to-served measurement."""
    folder = Path(tempfile.mkdtemp(prefix="yekuo-bench-"))
    servers: list[Server] = []
    try:
        with bench_database(use_sqlite, folder) as url:
            started = time.perf_counter()
            asyncio.run(populate(url, types, rounds))
            print(f"\n(populated {types} business types in {time.perf_counter() - started:.1f} s)")
            try:
                servers = [start_server(n, url, folder) for n in ("A", "B")]
                started = time.perf_counter()
                asyncio.run(wait_healthy(servers))
                print(f"(both servers up in {time.perf_counter() - started:.1f} s)")
                results = asyncio.run(measure_publishes(servers[0], servers[1], types, rounds))
            finally:
                for server in servers:
                    server.stop()
            print_publishes(results, types, "SQLite" if use_sqlite else "PostgreSQL")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--sqlite", action="store_true", help="publish part on SQLite")
    parser.add_argument("--types", type=int, default=100, help="types for the publish part")
    parser.add_argument("--rounds", type=int, default=5, help="publishes to time")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(COLD_SIZES))
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--skip-publish", action="store_true")
    parser.add_argument("--cold-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cold_child is not None:
        print(json.dumps(cold_child(args.cold_child)))
        return 0
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if not args.skip_cold:
        print_cold(run_cold(args.sizes))
    if not args.skip_publish:
        run_publish(args.types, args.rounds, args.sqlite)
    return 0


if __name__ == "__main__":
    sys.exit(main())
