"""The side-by-side pass's figures: one row per system, query and connection count; the table,
the ratios of yekuo to PostGraphile against their targets, and the JSON file.

Only figures of one pass compare (WORKLOAD.md: machines of this kind differ by 2-3x), so the
targets are ratios to the peer measured in the same pass, not absolute figures; the one
absolute target is yekuo's peak resident memory.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

YEKUO, PEER, FLOOR = "yekuo", "PostGraphile", "raw SQL"
SYSTEMS = (YEKUO, PEER, FLOOR)
RSS_LIMIT_MB = 200.0


@dataclass(frozen=True)
class Figures:
    """What one system did for one query at one connection count, over the measured run."""

    system: str
    query: str
    connections: int
    requests: int
    per_second: float
    p50_ms: float | None
    p99_ms: float | None
    """None when no request completed within the run."""
    server_ms: float | None
    """The server process's CPU per request; None for pgbench (there is no server)."""
    postgres_ms: float | None
    """CPU of the system's database backends per request (cpu_accounting.BackendWatch)."""
    errors: int
    """Socket errors and non-2xx answers (wrk), failed transactions (pgbench)."""


@dataclass(frozen=True)
class Target:
    """One target: a figure of yekuo's (a ratio to the peer's, or its RSS) and its bound."""

    label: str
    value: float | None
    bound: float
    at_least: bool
    """True: met when value >= bound; False: met when value <= bound."""

    @property
    def met(self) -> bool | None:
        """Met or not; None when a figure is missing."""
        if self.value is None:
            return None
        return self.value >= self.bound if self.at_least else self.value <= self.bound

    def line(self) -> str:
        """`label  value  (target >= bound)  met`."""
        shown = "n/a" if self.value is None else f"{self.value:.2f}"
        sign = ">=" if self.at_least else "<="
        verdict = {True: "met", False: "not met", None: "not measured"}[self.met]
        return f"  {self.label:<48} {shown:>8}   (target {sign} {self.bound:g})   {verdict}"


def _find(rows: Sequence[Figures], system: str, query: str, connections: int) -> Figures | None:
    for row in rows:
        if (row.system, row.query, row.connections) == (system, query, connections):
            return row
    return None


def _ratio(rows: Sequence[Figures], query: str, connections: int, field: str) -> float | None:
    """yekuo's figure over PostGraphile's (None if either is missing or the peer's is 0)."""
    ours, theirs = _find(rows, YEKUO, query, connections), _find(rows, PEER, query, connections)
    if ours is None or theirs is None:
        return None
    mine, peer = getattr(ours, field), getattr(theirs, field)
    return None if mine is None or not peer else float(mine) / float(peer)


def targets(rows: Sequence[Figures], rss_mb: Mapping[str, float | None]) -> list[Target]:
    """The four targets, with yekuo's figures of this pass."""
    versus = "yekuo / PostGraphile"
    return [
        Target(f"Q1 req/s at c=16, {versus}", _ratio(rows, "Q1", 16, "per_second"), 2.0, True),
        Target(f"Q1 p50 at c=1, {versus}", _ratio(rows, "Q1", 1, "p50_ms"), 1.0, False),
        Target(f"Q2 req/s at c=16, {versus}", _ratio(rows, "Q2", 16, "per_second"), 2.0, True),
        Target("yekuo peak RSS MB (catalogue loaded)", rss_mb.get(YEKUO), RSS_LIMIT_MB, False),
    ]


def _cell(value: float | None, form: str) -> str:
    return "—" if value is None else format(value, form)


def print_table(rows: Sequence[Figures], rss_mb: Mapping[str, float | None]) -> None:
    """The figures, grouped by query and connection count, and each server's peak RSS."""
    header = (
        f"{'system':<13} {'query':<5} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'server CPU ms/req':>18} {'PG CPU ms/req':>14} {'errors':>7} {'peak RSS MB':>12}"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    last: tuple[str, int] | None = None
    for r in rows:
        if last is not None and last != (r.query, r.connections):
            print()
        last = (r.query, r.connections)
        print(
            f"{r.system:<13} {r.query:<5} {r.connections:>5} {r.per_second:>9,.1f} "
            f"{_cell(r.p50_ms, '.2f'):>8} {_cell(r.p99_ms, '.2f'):>8} "
            f"{_cell(r.server_ms, '.3f'):>18} {_cell(r.postgres_ms, '.3f'):>14} "
            f"{r.errors:>7} {_cell(rss_mb.get(r.system), '.0f'):>12}"
        )


def print_targets(found: Sequence[Target]) -> None:
    """Each target's figure and verdict, then the overall one."""
    print("\nyekuo against PostGraphile (same pass):")
    for target in found:
        print(target.line())
    verdicts = [t.met for t in found]
    overall = "met" if all(verdicts) else "not met" if False in verdicts else "not measured"
    print(f"  all targets: {overall}")


def write_json(
    path: Path,
    setup: Mapping[str, Any],
    rows: Sequence[Figures],
    rss_mb: Mapping[str, float | None],
    found: Sequence[Target],
) -> None:
    """Everything printed, as JSON (for comparing passes)."""
    document = {
        "setup": dict(setup),
        "rows": [asdict(r) for r in rows],
        "peak_rss_mb": dict(rss_mb),
        "targets": [{**asdict(t), "met": t.met} for t in found],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"\nfigures written to {path}")
