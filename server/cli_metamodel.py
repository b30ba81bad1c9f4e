"""`yekuo catalogue load` and `yekuo metamodel export | plan | apply`: files in, plans out.

Thin translators around service/definitions, the same use cases the API's resolvers call:
a file is read into a bundle (every malformed field named with its path), the use case runs
in one transaction, and its plan, report or refusal is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import yaml

from database.session import Database
from metamodel import bundle, yaml_io
from server import settings as settings_module
from service import bundle_files, definitions

T = TypeVar("T")

ALLOW_BREAKING_HELP = (
    "accept changes that break API clients or tighten data items that published versions use"
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _on_database(use: Callable[[Database], Awaitable[T]]) -> T:
    """Run `use` on the configured database, disposed of afterwards."""
    db = Database(settings_module.load().database_url)
    try:
        return await use(db)
    finally:
        await db.dispose()


def _run_apply(found: bundle.Bundle, *, by: str, what: str, allow_breaking: bool) -> int:
    """Apply `found` in one transaction and print what changed, or every problem."""
    from resolvers import build  # the GraphQL stack, for the commands that check names

    try:
        report = asyncio.run(
            _on_database(
                lambda db: definitions.apply_bundle(
                    db,
                    found,
                    by=by,
                    now=_now(),
                    review=build.standalone_reviewer(),
                    reserved_names=build.static_names(),
                    allow_breaking=allow_breaking,
                )
            )
        )
    except bundle.ApplyRefused as refused:
        print(f"yekuo: {refused}", file=sys.stderr)
        for line in refused.lines():
            print(f"    {line}", file=sys.stderr)
        return 1
    print(f"yekuo: {what} applied" if not report.empty else f"yekuo: {what} already up to date")
    for line in report.lines() if not report.empty else []:
        print(f"    {line}")
    return 0


def cmd_catalogue_load(args: argparse.Namespace) -> int:
    """Load the standard catalogue: upsert it and publish what changed (idempotent).

    The same gate as `metamodel apply`: on an empty database nothing can break, and reloading
    an unchanged catalogue changes nothing; reloading it over what administrators changed may
    break things for API clients, and then needs --allow-breaking.
    """
    if args.if_empty and asyncio.run(_on_database(definitions.has_business_types)):
        # `make run` on an existing database must not undo what administrators changed.
        print("yekuo: business types exist; the standard catalogue was not loaded again")
        return 0
    return _run_apply(
        bundle_files.load_catalogue(),
        by="catalogue",
        what="standard catalogue",
        allow_breaking=args.allow_breaking,
    )


def _read_bundle(name: str) -> bundle.Bundle | None:
    path = Path(name)
    if not path.exists():
        print(f"yekuo: no file or directory '{name}'", file=sys.stderr)
        return None
    try:
        return bundle_files.load_files(bundle_files.yaml_files(path))
    except yaml_io.MalformedBundle as malformed:
        print(f"yekuo: not a metamodel file: {malformed}", file=sys.stderr)
        return None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        print(f"yekuo: '{name}' is not YAML text: {error}", file=sys.stderr)
        return None


def cmd_metamodel_apply(args: argparse.Namespace) -> int:
    """Apply a YAML file (or a directory of them) in one transaction."""
    found = _read_bundle(args.file)
    if found is None:
        return 2
    return _run_apply(
        found, by="metamodel-apply", what=args.file, allow_breaking=args.allow_breaking
    )


def cmd_metamodel_plan(args: argparse.Namespace) -> int:
    """Print what applying a file would change and break; exit 1 where the apply would refuse."""
    from resolvers import build  # the GraphQL stack, for the commands that check names

    found = _read_bundle(args.file)
    if found is None:
        return 2
    planned = asyncio.run(
        _on_database(
            lambda db: definitions.plan_bundle(
                db,
                found,
                now=_now(),
                review=build.standalone_reviewer(),
                reserved_names=build.static_names(),
                allow_breaking=args.allow_breaking,
            )
        )
    )
    for line in planned.lines():
        print(line)
    return 1 if planned.refused else 0


def cmd_metamodel_export(_args: argparse.Namespace) -> int:
    """Print the database's metamodel as YAML (what `metamodel apply` reads back)."""
    text = asyncio.run(_on_database(lambda db: definitions.export_metamodel(db, now=_now())))
    print(text, end="")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `catalogue` and `metamodel` commands."""
    catalogue = commands.add_parser("catalogue", help="the standard catalogue").add_subparsers(
        dest="catalogue", required=True
    )
    load = catalogue.add_parser("load", help="load and publish the standard catalogue (idempotent)")
    load.add_argument(
        "--if-empty", action="store_true", help="only on a database with no business type yet"
    )
    load.add_argument("--allow-breaking", action="store_true", help=ALLOW_BREAKING_HELP)
    load.set_defaults(run=cmd_catalogue_load)

    meta = commands.add_parser("metamodel", help="metamodel files").add_subparsers(
        dest="metamodel", required=True
    )
    meta.add_parser(
        "export", help="print the metamodel as YAML: published definitions, then drafts"
    ).set_defaults(run=cmd_metamodel_export)
    for name, run, text in (
        (
            "plan",
            cmd_metamodel_plan,
            "show what applying FILE would change and the schema changes for API clients",
        ),
        ("apply", cmd_metamodel_apply, "apply FILE in one transaction and publish what changed"),
    ):
        sub = meta.add_parser(name, help=text)
        sub.add_argument("file", metavar="FILE", help="a YAML file or a directory of them")
        sub.add_argument("--allow-breaking", action="store_true", help=ALLOW_BREAKING_HELP)
        sub.set_defaults(run=run)
