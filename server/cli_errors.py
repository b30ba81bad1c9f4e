"""How a `yekuo` command ends when something is wrong: one line on stderr and an exit code.

Every command runs through `run`, so no command catches its own database or settings errors;
`--debug` prints the traceback before the line.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from database import readiness
from server import settings

EXIT_FAILED = 1
"""The command could not do its work: the database, a user, a file is not as it needs to be."""
EXIT_USAGE = 2
"""The command line or a YEKUO_* setting is wrong (argparse exits with 2 too)."""
EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C (128 + SIGINT, as shells report it)."""

EPILOG = """\
exit codes:
  0  done
  1  the command could not do its work (no database, not migrated, server unreachable,
     unknown user, a refused metamodel file, …), or `history` found a case history broken
  2  wrong command line or YEKUO_* setting (bad argument, malformed YEKUO_DATABASE_URL,
     YEKUO_POLL_SECONDS=abc, a password shorter than 8 characters, …)
A failure prints one line on stderr; `yekuo --debug COMMAND` prints the traceback too."""


class CommandFailed(Exception):
    """A command that cannot go on; the message is the line to print."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def database_line(reason: readiness.Unusable) -> str:
    """What a person reads about a database that cannot be used, and what to do about it."""
    if isinstance(reason, readiness.NoDatabaseFile):
        return (
            f"no database at {reason.where}; "
            "run `yekuo db upgrade` to create it, or set YEKUO_DATABASE_URL"
        )
    if isinstance(reason, readiness.NotMigrated):
        if not reason.current:
            return f"the database at {reason.where} is not migrated; run `yekuo db upgrade`"
        return (
            f"the database at {reason.where} is not migrated (it is at revision "
            f"{', '.join(reason.current)}, the newest is {', '.join(reason.newest)}); "
            "run `yekuo db upgrade`"
        )
    if isinstance(reason, readiness.NewerThanCode):
        return (
            f"the database at {reason.where} is at revision {', '.join(reason.current)}, "
            "newer than this yekuo knows; run the yekuo that migrated it, or a newer one"
        )
    if isinstance(reason, readiness.NoSuchDatabase):
        server = f"{reason.host or 'localhost'}"
        return (
            f'there is no database "{reason.name}" on the PostgreSQL server at {server}; '
            f"create it with `{reason.createdb()}`, then run `yekuo db upgrade`"
        )
    if isinstance(reason, readiness.LoginRefused):
        return (
            f"the database server refused user '{reason.user}' for {reason.where} "
            f"({reason.detail}); check the user and password in YEKUO_DATABASE_URL"
        )
    if isinstance(reason, readiness.Unreachable):
        return (
            f"cannot reach the database server at {reason.where} ({reason.detail}); "
            "is it running, and is YEKUO_DATABASE_URL right?"
        )
    if isinstance(reason, readiness.NotADatabase):
        return f"cannot use {reason.where} as the database: {reason.detail}"
    return f"cannot use the database {reason}"


def _database_url() -> str | None:
    """The configured database URL, to name it in messages; None when it is itself wrong."""
    try:
        return settings.database_url()
    except settings.SettingsError:
        return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def describe(error: BaseException) -> tuple[int, str]:
    """The exit code and the line (less its `yekuo: `) that `error` ends a command with."""
    if isinstance(error, CommandFailed):
        return error.exit_code, str(error)
    if isinstance(error, settings.SettingsError):
        return EXIT_USAGE, str(error)
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    reason: readiness.Unusable | None = None
    if isinstance(error, readiness.Unusable):
        reason = error
    else:
        url = _database_url()
        reason = readiness.classify(error, url) if url else None
    if reason is not None:
        return EXIT_FAILED, database_line(reason)
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        return EXIT_FAILED, f"{where}{error.strerror}"
    return EXIT_FAILED, (
        f"failed: {type(error).__name__}: {_first_line(error)} "
        "(`yekuo --debug …` prints the traceback)"
    )


def run(command: Callable[[], int], *, debug: bool) -> int:
    """Run a command; an error becomes one line on stderr and an exit code (`debug`: traceback)."""
    try:
        return command()
    except BrokenPipeError:
        # The reader of stdout went away (`yekuo schema print | head`): nothing left to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except (Exception, KeyboardInterrupt) as error:
        code, line = describe(error)
        if debug:
            traceback.print_exception(error)
        print(f"yekuo: {' '.join(line.split())}", file=sys.stderr, flush=True)
        return code
