"""`yekuo queries add FILE...` and `yekuo queries list`: the persisted GraphQL documents.

With YEKUO_PERSISTED_ONLY the server registers nothing over HTTP; documents are added here.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from pathlib import Path

from database import persisted_query_repo
from database.session import Database
from schema import limits
from server import settings as settings_module
from server.cli_errors import EXIT_USAGE, CommandFailed
from server.persisted_queries import digest


def _read(path: str, max_bytes: int) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise CommandFailed(f"{path}: {error.strerror}", exit_code=EXIT_USAGE) from None
    if len(raw) > max_bytes:
        raise CommandFailed(f"{path}: larger than {max_bytes} bytes", exit_code=EXIT_USAGE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandFailed(f"{path}: not UTF-8", exit_code=EXIT_USAGE) from None
    refusal = limits.document_refusal(text)
    if refusal is not None:
        raise CommandFailed(f"{path}: {refusal[0]}", exit_code=EXIT_USAGE)
    return text


async def _add(texts: list[str]) -> list[bool]:
    db = Database(settings_module.load().database_url)
    try:
        async with db.transaction() as session:
            now = dt.datetime.now(dt.UTC)
            return [
                await persisted_query_repo.add(session, digest(text), text, now) for text in texts
            ]
    finally:
        await db.dispose()


def cmd_queries_add(args: argparse.Namespace) -> int:
    """Register each file's document under its SHA-256; all or none."""
    max_bytes = settings_module.load().max_body_bytes
    texts = [_read(path, max_bytes) for path in args.files]
    for path, text, added in zip(args.files, texts, asyncio.run(_add(texts)), strict=True):
        print(f"{digest(text)}\t{'added' if added else 'known'}\t{path}")
    return 0


async def _list() -> list[tuple[str, int, dt.datetime]]:
    db = Database(settings_module.load().database_url)
    try:
        async with db.read() as session:
            return await persisted_query_repo.listed(session)
    finally:
        await db.dispose()


def cmd_queries_list(_args: argparse.Namespace) -> int:
    """Every registered document: hash, length in characters, when it was registered."""
    for hash_, size, at in asyncio.run(_list()):
        print(f"{hash_}\t{size}\t{at.isoformat()}")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `queries` commands."""
    queries = commands.add_parser("queries", help="persisted GraphQL documents")
    sub = queries.add_subparsers(dest="queries", required=True)
    add = sub.add_parser("add", help="register documents (one a file) under their SHA-256")
    add.add_argument("files", nargs="+", metavar="FILE")
    add.set_defaults(run=cmd_queries_add)
    sub.add_parser("list", help="list the registered documents").set_defaults(run=cmd_queries_list)
