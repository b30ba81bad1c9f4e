"""The `yekuo` command line."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import importlib.metadata
import logging
import secrets
import sys
from collections.abc import Sequence

from database import metadata_reads, metadata_repo, migrate, readiness, user_repo
from database.session import Database
from metamodel.specs import Role
from server import cli_errors, cli_history, cli_index, cli_metamodel, cli_queries
from server import settings as settings_module
from server.cli_errors import EXIT_USAGE, CommandFailed
from server.security import Credentials
from service import sweep as sweeping

log = logging.getLogger("yekuo")

MIN_PASSWORD = 8
"""The same rule as `upsertUser` (resolvers/users.py), kept here so the CLI loads no GraphQL."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _at_least_one(text: str) -> int:
    """`--workers`: a whole number, 1 or more."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return number


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the API with uvicorn: one process, or `--workers N` on one port."""
    # Imported here: the other commands load no GraphQL and no uvicorn, and start 3x faster.
    from server import serving

    workers = args.workers if args.workers is not None else serving.default_workers()
    settings_module.load()  # a setting that cannot be used is one line, before anything starts
    print(
        f"yekuo: GraphiQL on http://{args.host}:{args.port}/graphql "
        f"({workers} worker process{'es' if workers > 1 else ''})",
        flush=True,
    )
    serving.serve(host=args.host, port=args.port, workers=workers, log_level=args.log_level)
    return 0


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    """Create the database if it is an SQLite file, and migrate it to the newest revision."""
    config = settings_module.load()
    url = config.database_url
    before = asyncio.run(readiness.revision(url))  # also: a server that cannot be used, in words
    # With the keys, the migration that anchors case histories seals the existing ones too.
    migrate.upgrade(url, history_keys=config.history_keys())
    newest = ", ".join(migrate.heads())
    if before == migrate.heads():
        print(f"yekuo: the database at {readiness.where(url)} is up to date (revision {newest})")
    else:
        since = f"revision {', '.join(before)}" if before else "empty"
        print(f"yekuo: migrated the database at {readiness.where(url)} ({since} -> {newest})")
    return 0


async def _add_user(
    username: str,
    name: str,
    password: str,
    roles: Sequence[str],
    posts: Sequence[str],
    org: str | None,
) -> str | None:
    config = settings_module.load()
    password_hash = await Credentials(config.secret).hash_password(password)  # outside the lock
    db = Database(config.database_url)
    try:
        async with db.transaction() as session:
            unit = await metadata_reads.org_unit(session, org) if org else None
            if org and unit is None:
                return f"no org unit '{org}'"
            known = await metadata_repo.get_posts(session)
            unknown = [p for p in posts if p not in known]
            if unknown:
                return f"no post(s) {', '.join(unknown)}"
            await user_repo.save(
                session,
                username=username,
                name=name,
                password_hash=password_hash,
                roles=list(roles),
                org_unit_id=unit.id if unit else None,
                post_codes=list(posts),
                now=_now(),
            )
        return None
    finally:
        await db.dispose()


def _password(args: argparse.Namespace) -> str:
    """The new password: a line of standard input, or typed twice at the terminal, never argv."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not sys.stdin.isatty():
        # getpass would fall back to reading stdin with a warning: say what works instead.
        raise CommandFailed(
            "no terminal to ask for the password on; pipe it in with --password-stdin",
            exit_code=EXIT_USAGE,
        )
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("password again: ") != password:
            raise CommandFailed("the two passwords differ; nothing changed", exit_code=EXIT_USAGE)
    if len(password) < MIN_PASSWORD:
        raise CommandFailed(
            f"a password has at least {MIN_PASSWORD} characters", exit_code=EXIT_USAGE
        )
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    """Create or update a user; the password comes from standard input, never an argument."""
    password = _password(args)
    error = asyncio.run(
        _add_user(
            args.username, args.name or args.username, password, args.role, args.post, args.org
        )
    )
    if error:
        raise CommandFailed(error, exit_code=EXIT_USAGE)
    print(f"yekuo: user {args.username} saved")
    return 0


async def _set_password(username: str, password: str) -> user_repo.Principal | None:
    config = settings_module.load()
    password_hash = await Credentials(config.secret).hash_password(password)  # outside the lock
    db = Database(config.database_url)
    try:
        async with db.transaction() as session:
            return await user_repo.set_password(session, username, password_hash=password_hash)
    finally:
        await db.dispose()


def cmd_user_set_password(args: argparse.Namespace) -> int:
    """Give a user a new password; ends the user's tokens and lifts a failed-login lock-out."""
    password = _password(args)
    user = asyncio.run(_set_password(args.username, password))
    if user is None:
        raise CommandFailed(f"no user '{args.username}'; `yekuo user add` creates one")
    print(f"yekuo: password of {user.username} set; tokens issued before no longer work")
    if user.disabled:
        print(f"yekuo: {user.username} is disabled: enable the user to let them sign in")
    return 0


async def _ensure_admin() -> str | None:
    config = settings_module.load()
    db = Database(config.database_url)
    try:
        async with db.read() as session:
            if await user_repo.count_users(session) > 0:
                return None
    finally:
        await db.dispose()
    password = secrets.token_urlsafe(12)
    error = await _add_user("admin", "Administrator", password, [Role.ADMIN.value], [], None)
    if error:
        raise CommandFailed(error)
    return password


def cmd_user_ensure_admin(_args: argparse.Namespace) -> int:
    """On a database with no users, create `admin` with a generated password, printed once."""
    password = asyncio.run(_ensure_admin())
    if password is None:
        print("yekuo: users exist; no administrator created")
    else:
        print("yekuo: created user 'admin' with password (shown only now):")
        print(f"    {password}")
    return 0


async def _schema_text() -> str:
    from resolvers.build import build_schema  # the GraphQL stack, for this command alone
    from schema.generated import TypeFactory

    config = settings_module.load()
    db = Database(config.database_url)
    try:
        async with db.read() as session:
            snapshot = await metadata_repo.load_snapshot(session)
    finally:
        await db.dispose()
    return build_schema(snapshot, TypeFactory()).as_str()


def cmd_schema_print(_args: argparse.Namespace) -> int:
    """Print the SDL the current metadata generates."""
    print(asyncio.run(_schema_text()))
    return 0


async def _sweep() -> str:
    config = settings_module.load()
    db = Database(config.database_url)
    try:
        found = await sweeping.sweep(db, now=_now())
        moved = await sweeping.apply_due_reorganizations(db, now=_now())
    finally:
        await db.dispose()
    return (
        f"stage warnings {found.stage_warnings}, stage breaches {found.stage_breaches}, "
        f"case warnings {found.case_warnings}, case breaches {found.case_breaches}, "
        f"span warnings {found.span_warnings}, span breaches {found.span_breaches}, "
        f"reorganisations applied {moved.reorganizations} (tasks moved {moved.tasks})"
    )


def cmd_sweep(_args: argparse.Namespace) -> int:
    """Record deadlines fallen due; move tasks of reorganisations now in effect (cron-safe)."""
    print(f"yekuo: sweep recorded {asyncio.run(_sweep())}")
    return 0


def version() -> str:
    """The installed version of yekuo."""
    try:
        return importlib.metadata.version("yekuo")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout never installed
        return "unknown (not installed)"


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    top = argparse.ArgumentParser(
        prog="yekuo",
        description="業擴報裝 from metadata, as GraphQL.",
        epilog=cli_errors.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"yekuo {version()}")
    top.add_argument(
        "--debug", action="store_true", help="on failure, print the traceback before the message"
    )
    commands = top.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--workers",
        type=_at_least_one,
        metavar="N",
        help="server processes on the one port, each serving every request (default: one per core)",
    )
    serve.set_defaults(run=cmd_serve)

    db = commands.add_parser("db", help="database").add_subparsers(dest="db", required=True)
    db.add_parser(
        "upgrade", help="create (SQLite) and migrate the database to the newest revision"
    ).set_defaults(run=cmd_db_upgrade, creates_database=True)

    user = commands.add_parser("user", help="users").add_subparsers(dest="user", required=True)
    add = user.add_parser("add", help="create or update a user")
    add.add_argument("username")
    add.add_argument("--name")
    add.add_argument("--role", action="append", choices=[r.value for r in Role], required=True)
    add.add_argument("--post", action="append", default=[])
    add.add_argument("--org")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(run=cmd_user_add)
    reset = user.add_parser(
        "set-password",
        help="give a user a new password (ends their tokens, lifts a lock-out)",
        description="Give a user a new password: the user's tokens stop working and a "
        "failed-login lock-out is lifted; roles, posts and org unit stay as they are.",
    )
    reset.add_argument("username")
    reset.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (otherwise it is asked for twice at the terminal)",
    )
    reset.set_defaults(run=cmd_user_set_password)
    ensure = user.add_parser("ensure-admin", help="create an administrator on an empty database")
    ensure.set_defaults(run=cmd_user_ensure_admin)

    sweep = commands.add_parser("sweep", help="record deadline warnings and breaches")
    sweep.set_defaults(run=cmd_sweep)

    cli_metamodel.add_commands(commands)

    cli_history.add_commands(commands)

    cli_index.add_commands(commands)
    cli_queries.add_commands(commands)

    schema = commands.add_parser("schema", help="schema").add_subparsers(
        dest="schema", required=True
    )
    schema.add_parser("print", help="print the generated SDL").set_defaults(run=cmd_schema_print)
    return top


def _run(args: argparse.Namespace) -> int:
    if not getattr(args, "creates_database", False):
        # Before anything reads, writes or serves: a missing, unreachable or unmigrated
        # database is one sentence here, not a traceback (or a server answering 500) later.
        asyncio.run(readiness.check(settings_module.database_url()))
    code: int = args.run(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `yekuo`."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not args.debug:
        # `db upgrade` says what it did in one line; alembic's step-by-step is for --debug.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    return cli_errors.run(lambda: _run(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
