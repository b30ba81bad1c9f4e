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
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402  (the repository root is put on the path first)
from bench_support import (  # noqa: E402
    ADMIN_PASSWORD,
    FIELDS_OF,
    LOGIN,
    PUBLISH,
    SECRET,
    bench_database,
    scratch_folder,
    start_server,
    wait_healthy,
)
from cold_build import COLD_SIZES, print_cold, run_cold  # noqa: E402
from synthetic_metamodel import (  # noqa: E402
    EXTRA_PREFIX,
    STAGES,
    dictionary,
    extra_item,
    freeze,
    type_code,
    type_spec,
)

from database import metadata_repo, responsibility_repo, user_repo  # noqa: E402
from database.session import Database  # noqa: E402
from metamodel import naming  # noqa: E402
from metamodel.specs import BusinessTypeSpec, PostSpec  # noqa: E402
from server.security import Credentials  # noqa: E402
from tools.server_process import ServerProcess  # noqa: E402

TARGET_SERVED = 1.0
SAVE_DRAFT = """mutation($input: SaveBusinessTypeDraftInput!) {
  saveBusinessTypeDraft(input: $input) { problems { code message } errors { code message } } }"""


async def populate(url: str, types: int, rounds: int) -> None:
    """The dictionary, stages, a responsible post, `types` published types, an admin (repos)."""
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


async def served_after(
    client: Any, server: ServerProcess, type_name: str, field: str, started: float
) -> tuple[float, float]:
    """Until `server` serves the field (polled every 10 ms): seconds since `started`, its CPU."""
    deadline = time.monotonic() + 30
    while not await serves_field(client, server.url, type_name, field):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{server.name} never served {type_name}.{field}")
        await asyncio.sleep(0.01)
    return time.perf_counter() - started, server.cpu_seconds()


async def revision_of(client: Any, server: ServerProcess) -> int:
    """The metadata revision a server serves."""
    revision: int = (await client.get(server.url + "/healthz")).json()["revision"]
    return revision


async def measure_publishes(
    a: ServerProcess, b: ServerProcess, types: int, rounds: int
) -> list[Round]:
    """Publish `rounds` changes of one business type on A; time A and B serving each."""
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
            a_cpu, b_cpu = a.cpu_seconds(), b.cpu_seconds()
            started = time.perf_counter()
            watcher = asyncio.create_task(served_after(poll, b, data_type, field, started))
            published = await graphql(client, a.url, PUBLISH, {"code": spec.code}, token)
            publish = time.perf_counter() - started
            if not await serves_field(client, a.url, data_type, field):
                watcher.cancel()
                raise AssertionError("process A did not serve its own publish after the response")
            a_served = time.perf_counter() - started
            a_cpu = a.cpu_seconds() - a_cpu
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


def run_publish(types: int, rounds: int, use_sqlite: bool) -> None:
    """Set up, run and tear down the publish-to-served measurement."""
    servers: list[ServerProcess] = []
    with scratch_folder() as folder, bench_database(use_sqlite, folder) as url:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--sqlite", action="store_true", help="publish part on SQLite")
    parser.add_argument("--types", type=int, default=100, help="types for the publish part")
    parser.add_argument("--rounds", type=int, default=5, help="publishes to time")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(COLD_SIZES))
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--skip-publish", action="store_true")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if not args.skip_cold:
        print_cold(run_cold(args.sizes))
    if not args.skip_publish:
        run_publish(args.types, args.rounds, args.sqlite)
    return 0


if __name__ == "__main__":
    sys.exit(main())
