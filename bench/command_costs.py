"""What one command costs the server: SQL statements, transactions and CPU, per command kind.

Read from the real server, never from inside it: /metrics gives `yekuo_sql_statements_total` and
`yekuo_sql_transactions_total` (database/counters.py: an executemany is one statement; BEGIN,
COMMIT and ROLLBACK are counted as transactions, not statements), and psutil gives the server's
CPU, summed over its workers. With several workers the scrape sums every worker's counters
(prometheus_client's multiprocess mode), so the deltas hold whichever worker answered.

The per-kind figures come from commands run one at a time: for COST_CASES new cases, each kind
in turn runs once per case (createCase as a draft, submitCase, claimTask on the accept task,
then completeTask for every stage, the last one completing the case and writing its archive),
and the counters are read before and after each kind's batch. One command at a time, the delta
belongs to that kind alone; dividing a batch by its size keeps psutil's 10 ms CPU tick and the
scrapes' own CPU out of the figure. The server's metadata poll would add a statement and a
transaction every 0.25 s, so the bench starts it with a long poll where it can (see lifecycle.py).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402  (the repository root is put on the path first)
from cpu_accounting import process_cpu  # noqa: E402
from lifecycle_workload import (  # noqa: E402
    CLAIM,
    COMPLETE,
    CREATE_DRAFT,
    STEPS,
    SUBMIT,
    UNIT,
    VALID_ID,
    Driver,
    _ok,
    _open_task,
)
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

COST_CASES = 20
TARGET_STATEMENTS = 12.0
"""SQL statements per completeTask, at most."""
TARGET_TRANSACTIONS = 1.0
"""Transactions per completeTask, at most."""
TARGET_CPU_MS = 6.0
"""Server CPU per command, at most (ms)."""
TARGET_COMMANDS = 150.0
"""Commands per second at 8 concurrent clients on one process, at least."""


@dataclass(frozen=True)
class Totals:
    """The server's running totals at one moment."""

    statements: float
    commits: float
    rollbacks: float
    cpu: float
    at: float

    def __sub__(self, other: Totals) -> Totals:
        return Totals(
            self.statements - other.statements,
            self.commits - other.commits,
            self.rollbacks - other.rollbacks,
            self.cpu - other.cpu,
            self.at - other.at,
        )


async def totals(client: httpx.AsyncClient, server_pid: int) -> Totals:
    """Scrape /metrics and read the server's CPU."""
    text = (await client.get("/metrics")).text
    found = {"statements": 0.0, "commit": 0.0, "rollback": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "yekuo_sql_statements_total":
                found["statements"] += sample.value
            elif sample.name == "yekuo_sql_transactions_total":
                found[sample.labels["end"]] += sample.value
    return Totals(
        found["statements"],
        found["commit"],
        found["rollback"],
        process_cpu(server_pid),
        time.perf_counter(),
    )


@dataclass
class Cost:
    """One command kind's batch: commands run and what they used together."""

    kind: str
    commands: int
    used: Totals

    def per(self, value: float) -> float:
        """`value` per command."""
        return value / max(self.commands, 1)

    @property
    def transactions(self) -> float:
        """Transactions per command."""
        return self.per(self.used.commits + self.used.rollbacks)


@dataclass
class CostRun:
    """The batches of one sequential run, in order."""

    costs: list[Cost] = field(default_factory=list)

    def completions(self) -> list[Cost]:
        """The completeTask batches."""
        return [c for c in self.costs if c.kind.startswith("completeTask")]


async def measure(driver: Driver, server_pid: int, cases: int = COST_CASES) -> CostRun:
    """Each command kind in turn, `cases` times, one command at a time (module docstring)."""
    run = CostRun()
    ids: list[str] = []
    tasks: list[str] = []

    async def batch(kind: str, command: Callable[[int], Awaitable[None]]) -> None:
        before = await totals(driver.client, server_pid)
        for number in range(cases):
            await command(number)
        run.costs.append(Cost(kind, cases, await totals(driver.client, server_pid) - before))

    async def create(number: int) -> None:
        data = {"customerName": f"成本客户{number}", "idNumber": VALID_ID, "supplyAddress": "一号"}
        variables = {"input": {"orgUnit": UNIT, "submit": False, "data": data}}
        payload = (await driver.call(CREATE_DRAFT, variables))["createBenchLifecycleCase"]
        _ok(payload, "create")
        ids.append(payload["case"]["id"])

    async def submit(number: int) -> None:
        payload = (await driver.call(SUBMIT, {"id": ids[number]}))["submitCase"]
        _ok(payload, "submit")
        tasks.append(_open_task(payload["case"]))

    async def claim(number: int) -> None:
        _ok((await driver.call(CLAIM, {"id": tasks[number]}))["claimTask"], "claim")

    def complete(changes: Mapping[str, Any]) -> Callable[[int], Awaitable[None]]:
        async def one(number: int) -> None:
            variables = {"input": {"taskId": tasks[number], "outcome": "APPROVE", "data": changes}}
            payload = (await driver.call(COMPLETE, variables))["completeTask"]
            _ok(payload, "complete")
            case = payload["case"]
            if case["status"] != "COMPLETED":
                tasks[number] = _open_task(case)

        return one

    await batch("createCase", create)
    await batch("submitCase", submit)
    await batch("claimTask", claim)
    for stage, changes in STEPS:
        await batch(f"completeTask {stage}", complete(changes))
    return run


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def print_costs(run: CostRun) -> None:
    """The per-kind table, with all completions and all commands summed up."""
    print(
        f"\nWhat one command costs (sequential: {run.costs[0].commands} of each kind, one at a "
        "time; /metrics and server CPU deltas per batch)"
    )
    header = (
        f"{'command':<24} {'n':>4} {'SQL stmts':>10} {'transactions':>13} {'(commit':>8} "
        f"{'rollback)':>10} {'server CPU ms':>14} {'wall ms':>8}"
    )
    print(header)
    print("-" * len(header))
    rows = list(run.costs)
    for label, group in (("completeTask (all)", run.completions()), ("all commands", run.costs)):
        summed = group[0].used
        for cost in group[1:]:
            summed = Totals(
                summed.statements + cost.used.statements,
                summed.commits + cost.used.commits,
                summed.rollbacks + cost.used.rollbacks,
                summed.cpu + cost.used.cpu,
                summed.at + cost.used.at,
            )
        rows.append(Cost(label, sum(c.commands for c in group), summed))
    for cost in rows:
        used = cost.used
        print(
            f"{cost.kind:<24} {cost.commands:>4} {cost.per(used.statements):>10.1f} "
            f"{cost.transactions:>13.1f} {cost.per(used.commits):>8.1f} "
            f"{cost.per(used.rollbacks):>10.1f} {cost.per(used.cpu) * 1000:>14.2f} "
            f"{cost.per(used.at) * 1000:>8.1f}"
        )


def print_targets(run: CostRun, cpu_ms: float, commands_per_second: float, workers: int) -> None:
    """The measured figures next to the targets."""
    completions = run.completions()
    mean_statements = sum(c.used.statements for c in completions) / sum(
        c.commands for c in completions
    )
    worst_statements = max(c.per(c.used.statements) for c in completions)
    worst_transactions = max(c.transactions for c in completions)
    rows: Sequence[tuple[str, str, str, bool]] = (
        (
            "completeTask SQL statements (mean of stages)",
            f"{mean_statements:.1f}",
            f"≤ {TARGET_STATEMENTS:g}",
            mean_statements <= TARGET_STATEMENTS,
        ),
        (
            "completeTask SQL statements (worst stage)",
            f"{worst_statements:.1f}",
            f"≤ {TARGET_STATEMENTS:g}",
            worst_statements <= TARGET_STATEMENTS,
        ),
        (
            "completeTask transactions (worst stage)",
            f"{worst_transactions:.1f}",
            f"{TARGET_TRANSACTIONS:g}",
            worst_transactions <= TARGET_TRANSACTIONS,
        ),
        (
            "server CPU per command, concurrent (ms)",
            f"{cpu_ms:.2f}",
            f"≤ {TARGET_CPU_MS:g}",
            cpu_ms <= TARGET_CPU_MS,
        ),
        (
            f"commands/s at 8 clients, {workers} worker{'s' if workers > 1 else ''}",
            f"{commands_per_second:.1f}",
            f"≥ {TARGET_COMMANDS:g}",
            commands_per_second >= TARGET_COMMANDS,
        ),
    )
    print("\nTargets")
    header = f"{'':<44} {'measured':>9} {'target':>8}  verdict"
    print(header)
    print("-" * (len(header) + 2))
    for label, measured, target, met in rows:
        print(f"{label:<44} {measured:>9} {target:>8}  {_verdict(met)}")
    if workers > 1:
        print("(the commands/s target is for one process; this run has more)")
