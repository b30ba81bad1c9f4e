"""The peers' table and the raw-SQL floor: `application` in a database of its own, and pgbench.

The table is WORKLOAD.md's: gen_data.py's 29 columns, typed (timestamptz, text, integer,
numeric, boolean, date), the id its primary key and one more index, on `created_at DESC`;
loaded with COPY from the same rows yekuo gets. PostGraphile serves it; pgbench runs Q1 and
Q2 as SQL on it, selecting every column, with prepared statements (`-M prepared`: what a
driver that prepares does, the floor) on one thread (`-j 1`). Q2 draws its id in pgbench
(`\\set id random(1, N)`). The latency percentiles come from pgbench's per-transaction log
(`-l`), which costs it a little throughput.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from pathlib import Path

import asyncpg
from cpu_accounting import BackendWatch, percentile
from figures import FLOOR, Figures

STRINGS = (
    "applicant_name",
    "contact_name",
    "phone",
    "id_card_no",
    "address",
    "city",
    "district",
    "company_name",
    "account_no",
    "meter_no",
)
INTEGERS = ("voltage_level", "phase_count", "meter_count", "priority", "building_floors")
DECIMALS = (
    "capacity_kva",
    "existing_capacity_kva",
    "estimated_load_kw",
    "deposit_amount",
    "line_length_km",
)
BOOLEANS = ("is_urgent", "has_generator", "is_residential")
DATES = ("requested_date", "survey_date")
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "integer PRIMARY KEY"),
    ("created_at", "timestamptz NOT NULL"),
    ("status", "text NOT NULL"),
    ("business_type", "text NOT NULL"),
    *((name, "text") for name in STRINGS),
    *((name, "integer") for name in INTEGERS),
    *((name, "numeric") for name in DECIMALS),
    *((name, "boolean") for name in BOOLEANS),
    *((name, "date") for name in DATES),
)
"""gen_data.py's columns in its order, with their SQL types."""
NAMES = [name for name, _ in COLUMNS]
SELECTED = ", ".join(NAMES)
Q1_SQL = (
    f"SELECT {SELECTED} FROM application WHERE status = 'IN_PROGRESS' AND capacity_kva > 100 "
    "ORDER BY created_at DESC LIMIT 50"
)
Q2_SQL = f"SELECT {SELECTED} FROM application WHERE id = $1"
PGBENCH = shutil.which("pgbench") or "/usr/bin/pgbench"


async def load(url: str, rows: list[list[str]]) -> None:
    """Create `application`, COPY the rows in (an empty cell is NULL), index and ANALYZE."""
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    columns = ",\n  ".join(f"{name} {kind}" for name, kind in COLUMNS)
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"CREATE TABLE application (\n  {columns}\n)")
        source = io.BytesIO(text.getvalue().encode("utf-8"))
        await connection.copy_to_table("application", source=source, format="csv", columns=NAMES)
        await connection.execute(
            "CREATE INDEX application_created_at_desc ON application (created_at DESC)"
        )
        await connection.execute("ANALYZE application")
    finally:
        await connection.close()


async def answers(url: str, some_id: int) -> list[int]:
    """Q1's ids (checked: 50 rows), after checking that Q2 finds `some_id`."""
    connection = await asyncpg.connect(url)
    try:
        found = await connection.fetch(Q1_SQL)
        one = await connection.fetch(Q2_SQL, some_id)
    finally:
        await connection.close()
    if len(found) != 50 or len(one) != 1:
        raise RuntimeError(f"SQL: Q1 found {len(found)} rows (not 50), Q2 {len(one)} (not 1)")
    return [int(row["id"]) for row in found]


def scripts(folder: Path, cases: int) -> dict[str, Path]:
    """pgbench's script files for Q1 and Q2."""
    texts = {
        "Q1": f"{Q1_SQL};\n",
        "Q2": f"\\set id random(1, {cases})\n{Q2_SQL.replace('$1', ':id')};\n",
    }
    made = {}
    for query, text in texts.items():
        made[query] = folder / f"pgbench-{query}.sql"
        made[query].write_text(text)
    return made


def _figure(pattern: str, output: str) -> float:
    found = re.search(pattern, output)
    if found is None:
        raise RuntimeError(f"pgbench printed no '{pattern}':\n{output}")
    return float(found.group(1))


def run_pgbench(
    url: str, script: Path, connections: int, seconds: int, log_prefix: Path | None = None
) -> tuple[int, float, int]:
    """Transactions, transactions/s (without connecting) and failures of one pgbench run."""
    command = [PGBENCH, "-n", "-M", "prepared", "-c", str(connections), "-j", "1"]
    command += ["-T", str(seconds), "-f", str(script)]
    if log_prefix is not None:
        command += ["-l", "--log-prefix", str(log_prefix)]
    done = subprocess.run(
        [*command, url], check=True, capture_output=True, text=True, timeout=seconds + 60
    )
    output = done.stdout + done.stderr
    transactions = _figure(r"number of transactions actually processed: (\d+)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    per_second = _figure(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    return int(transactions), per_second, int(failed.group(1)) if failed else 0


def logged_latencies(log_prefix: Path) -> list[float]:
    """The transactions' latencies (ms) in pgbench's logs (one per thread), which it removes."""
    latencies: list[float] = []
    for log in sorted(log_prefix.parent.glob(f"{log_prefix.name}.*")):
        with log.open() as lines:
            # client_id transaction_no time(µs) script_no epoch µs
            latencies.extend(int(line.split()[2]) / 1000 for line in lines)
        log.unlink()
    return latencies


def measure(
    url: str, script: Path, query: str, connections: int, warmup: int, seconds: int
) -> Figures:
    """A warm-up run, then a measured one with the database's backends watched."""
    if warmup:
        run_pgbench(url, script, connections, warmup)
    log_prefix = script.parent / f"pgbench-log-{query}-{connections}"
    with BackendWatch(url.rsplit("/", 1)[-1]) as backends:
        transactions, per_second, failed = run_pgbench(
            url, script, connections, seconds, log_prefix
        )
    latencies = logged_latencies(log_prefix)
    return Figures(
        system=FLOOR,
        query=query,
        connections=connections,
        requests=transactions,
        per_second=per_second,
        p50_ms=percentile(latencies, 0.5) if latencies else None,
        p99_ms=percentile(latencies, 0.99) if latencies else None,
        server_ms=None,
        postgres_ms=backends.used / transactions * 1000 if transactions else None,
        errors=failed,
    )
