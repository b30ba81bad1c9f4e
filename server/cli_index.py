"""`yekuo index sync`: build and drop the expression indexes of `indexed` items now.

The server does the same in the background after every publish and at start; the command is
for a deployment that wants it done at a time of its choosing, or to see where it stands.
"""

from __future__ import annotations

import argparse
import asyncio

from database.item_index_reconcile import Reconciled
from database.item_indexes import IndexStatus
from database.session import Database
from server import settings as settings_module
from server.cli_errors import CommandFailed
from service import item_indexes


def _size(status: IndexStatus) -> str:
    return "-" if status.size_bytes is None else f"{status.size_bytes} bytes"


def _done_lines(done: Reconciled) -> list[str]:
    """A line per index the pass built, rebuilt, dropped, left to another session or failed."""
    return [
        *(f"built {name}" for name in done.created),
        *(f"rebuilt {name}" for name in done.rebuilt),
        *(f"dropped {name}" for name in done.dropped),
        *(f"left {name}: another session is building or dropping it" for name in done.waiting),
        *(f"failed {name}: {reason}" for name, reason in done.failed.items()),
    ]


async def _sync() -> tuple[Reconciled, list[IndexStatus]]:
    db = Database(settings_module.load().database_url)
    try:
        done = await item_indexes.sync(db)
        return done, await item_indexes.overview(db)
    finally:
        await db.dispose()


def cmd_index_sync(_args: argparse.Namespace) -> int:
    """One reconcile pass, then every item index with its state; exit 1 if a build failed."""
    done, found = asyncio.run(_sync())
    if done.busy:
        raise CommandFailed(
            "another process is building the item indexes now; run this again when it is done"
        )
    for line in _done_lines(done) or ["nothing to build or drop"]:
        print(f"yekuo: {line}")
    for status in found:
        print(f"{status.name}\t{status.state.value}\t{_size(status)}")
    return 1 if done.failed else 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `index` commands."""
    indexes = commands.add_parser("index", help="expression indexes of indexed items")
    index_commands = indexes.add_subparsers(dest="index", required=True)
    index_commands.add_parser(
        "sync",
        help="build the indexes of indexed items, drop those no longer wanted, now",
        description="Build the expression index of every item the latest published version of "
        "a business type marks indexed (CREATE INDEX CONCURRENTLY on PostgreSQL), rebuild a "
        "failed one, and drop those no longer wanted; then list every item index with its "
        "state. Servers do this in the background after each publish; one process at a time "
        "does it. Exit 1 when a build failed or another process is doing it.",
    ).set_defaults(run=cmd_index_sync)
