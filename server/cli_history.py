"""`yekuo history verify | rekey`: checking and sealing case histories."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator

from database import history_repo
from database.session import Database
from server import settings as settings_module
from server.cli_errors import CommandFailed


def _history_database() -> Database:
    """The database, with the keys that seal case histories (from YEKUO_SECRET…)."""
    config = settings_module.load()
    return Database(config.database_url, history_keys=config.history_keys())


def _broken_line(found: history_repo.Finding) -> str:
    """One line about a case whose history does not hold: number, where, why."""
    verdict = found.verdict
    where = "" if verdict.broken_at_seq is None else f" at event {verdict.broken_at_seq}"
    return f"{found.number} broken{where}: {'; '.join(verdict.reasons)}"


async def _verify_histories(number: str | None) -> tuple[int, int]:
    """Print a line per broken case as it is found; (cases checked, broken)."""
    db = _history_database()
    try:
        if number is not None:
            case_id = await history_repo.case_id_of(db, number)
            found = await history_repo.verify_case(db, case_id) if case_id is not None else None
            if found is None:
                raise CommandFailed(f"no case '{number}'")
            findings: AsyncIterator[history_repo.Finding] = _one(found)
        else:
            findings = history_repo.verify_all(db)
        checked = broken = 0
        async for found in findings:
            checked += 1
            if not found.verdict.valid:
                broken += 1
                print(_broken_line(found), flush=True)
        return checked, broken
    finally:
        await db.dispose()


async def _one(found: history_repo.Finding) -> AsyncIterator[history_repo.Finding]:
    yield found


def cmd_history_verify(args: argparse.Namespace) -> int:
    """Check every case's history (or one); exit 1 when any does not hold."""
    checked, broken = asyncio.run(_verify_histories(args.case))
    cases = "1 case" if checked == 1 else f"{checked} cases"
    if broken:
        print(f"yekuo: {cases} checked: {broken} broken, {checked - broken} hold")
        return 1
    print(f"yekuo: {cases} checked: every history holds")
    return 0


async def _rekey(seal_unsealed: bool) -> tuple[str, Counter[history_repo.Rekeyed]]:
    db = _history_database()
    counts: Counter[history_repo.Rekeyed] = Counter()
    try:
        assert db.history_keys is not None
        async for done in history_repo.rekey(db, seal_unsealed=seal_unsealed):
            counts[done.outcome] += 1
            if done.outcome is not history_repo.Rekeyed.RESEALED:
                print(_broken_line(done.finding), flush=True)
        return db.history_keys.current.id, counts
    finally:
        await db.dispose()


def cmd_history_rekey(args: argparse.Namespace) -> int:
    """Seal every case with the current key (batched; run again to go on after a stop)."""
    key_id, counts = asyncio.run(_rekey(args.seal_unsealed))
    resealed = counts[history_repo.Rekeyed.RESEALED]
    broken = counts[history_repo.Rekeyed.BROKEN]
    unsealed = counts[history_repo.Rekeyed.UNSEALED]
    print(f"yekuo: {resealed} case(s) sealed with key {key_id}")
    if broken or unsealed:
        hint = "; --seal-unsealed seals those that otherwise hold" if unsealed else ""
        print(f"yekuo: left as they are: {broken} broken, {unsealed} unsealed{hint}")
        return 1
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `history` commands."""
    histories = commands.add_parser("history", help="case histories").add_subparsers(
        dest="history", required=True
    )
    check = histories.add_parser(
        "verify",
        help="check every case's history; exit 1 when any does not hold",
        description="Check each case's history: its hash chain, the length and head the case "
        "records, the seal made with the key from YEKUO_SECRET (or YEKUO_SECRET_PREVIOUS), and "
        "that the case is what its history says. Prints a line per broken case, then a summary.",
    )
    check.add_argument("--case", metavar="NUMBER", help="check only the case with this number")
    check.set_defaults(run=cmd_history_verify)
    rekey = histories.add_parser(
        "rekey",
        help="seal every case with the current key (after changing YEKUO_SECRET)",
        description="Seal every case not yet sealed with the current key (YEKUO_SECRET) with "
        "it, if its history holds under the keys configured; a broken case is left as it is. "
        "Batched; run it again to go on after a stop.",
    )
    rekey.add_argument(
        "--seal-unsealed",
        action="store_true",
        help="also seal cases that have no seal (migrated without the key), if they hold",
    )
    rekey.set_defaults(run=cmd_history_rekey)
