"""Cold schema builds, each in a fresh process: time, CPU and RSS per number of business types.

For each size a fresh interpreter (`python bench/cold_build.py N`) builds
`build_schema(snapshot, TypeFactory())` from an in-memory snapshot (so no class cache is warm
and RSS belongs to that size alone), then rebuilds with one business type changed (the class
cache warm) and runs graphql-core's breaking/dangerous change comparison a publish runs. The
child imports only the synthetic metamodel and what the build needs.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psutil  # noqa: E402  (the repository root is put on the path first)
from graphql import find_breaking_changes, find_dangerous_changes  # noqa: E402
from synthetic_metamodel import snapshot  # noqa: E402

from resolvers.build import build_schema  # noqa: E402
from schema import strawberry_compat as compat  # noqa: E402
from schema.generated import TypeFactory  # noqa: E402

COLD_SIZES = (10, 100, 300)
TARGET_COLD_100 = 3.0
TARGET_RSS_MB = 200.0


def rss_mb() -> float:
    """This process's resident set size now, in MB."""
    return float(psutil.Process().memory_info().rss) / 2**20


def cold_child(types: int) -> dict[str, float]:
    """Run inside the fresh subprocess: build once cold, then once more with one type changed."""
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
            [sys.executable, str(Path(__file__).resolve()), str(types)],
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


if __name__ == "__main__":
    print(json.dumps(cold_child(int(sys.argv[1]))))
