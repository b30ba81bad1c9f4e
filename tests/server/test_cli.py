"""The `yekuo` command line, run as a separate process against the test database."""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import pty
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from database import migrate, user_repo
from database.session import Database
from server.security import Credentials
from tests.api.conftest import ADMIN_PASSWORD, SECRET, Api, add_user
from tests.api.setup_metamodel import define_basics, publish_hv_new
from tests.conftest import _pg_admin, _pg_url, backend

ROOT = Path(__file__).resolve().parents[2]
LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
  token user { username roles posts orgUnit } errors { code message } } }"""
ME = "{ me { username } }"

sqlite_run_only = pytest.mark.skipif(
    backend() == "postgresql", reason="does not use the run's database: runs on the SQLite run"
)
"""For cases that name their own database (a file in a temporary folder, a closed port)."""


async def yekuo(
    database_url: str | None,
    data_dir: Path | None,
    *args: str,
    stdin: str = "",
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m server.cli ARGS` with the test database and a private data directory.

    `None` leaves YEKUO_DATABASE_URL or YEKUO_DATA_DIR unset; `env` adds or overrides variables.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YEKUO_")}
    if database_url is not None:
        environment["YEKUO_DATABASE_URL"] = database_url
    if data_dir is not None:
        environment["YEKUO_DATA_DIR"] = str(data_dir)
    environment.update(env or {})
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    """The single `yekuo: …` line a failed command printed on stderr, after checking its exit."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("yekuo: "), lines
    return lines[0]


async def test_user_add_creates_a_user_who_can_log_in(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    await define_basics(api)
    done = await yekuo(
        database_url,
        tmp_path,
        "user",
        "add",
        "chen",
        "--role",
        "ADMIN",
        "--role",
        "STAFF",
        "--post",
        "surveyor",
        "--org",
        "city",
        "--password-stdin",
        stdin="chen-secret-pw\n",
    )
    assert done.returncode == 0, done.stderr
    assert "user chen saved" in done.stdout
    assert "chen-secret-pw" not in done.stdout + done.stderr

    login = (await api.data(LOGIN, {"u": "chen", "p": "chen-secret-pw"}, as_user=None))["login"]
    assert login["errors"] == []
    assert login["user"] == {
        "username": "chen",
        "roles": ["ADMIN", "STAFF"],
        "posts": ["surveyor"],
        "orgUnit": "city",
    }
    headers = {"Authorization": f"Bearer {login['token']}"}
    response = await api.client.post(
        "/graphql", json={"query": "{ exportMetamodel }"}, headers=headers
    )
    assert response.json()["data"]["exportMetamodel"]  # the ADMIN role took effect


async def test_user_add_refuses_short_passwords_and_unknown_references(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    for args, stdin, message in [
        (["--role", "STAFF"], "short\n", "at least 8 characters"),
        (["--role", "STAFF", "--org", "atlantis"], "long-enough-pw\n", "no org unit 'atlantis'"),
        (["--role", "STAFF", "--post", "wizard"], "long-enough-pw\n", "no post(s) wizard"),
    ]:
        done = await yekuo(
            database_url, tmp_path, "user", "add", "liu", *args, "--password-stdin", stdin=stdin
        )
        assert message in one_line(done, 2), args
    users = await api.post(LOGIN, {"u": "liu", "p": "long-enough-pw"}, as_user=None)
    assert users["data"]["login"]["token"] is None


async def test_ensure_admin_creates_one_administrator_on_an_empty_database(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    first = await yekuo(database_url, tmp_path, "user", "ensure-admin")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "yekuo: created user 'admin' with password (shown only now):"
    password = lines[1].strip()
    assert len(password) >= 12

    async with db.read() as session:
        row = await user_repo.get_row(session, "admin")
        assert row is not None and row.roles == ["ADMIN"]
        assert await Credentials(SECRET).verify_password(row.password_hash, password)
        assert await user_repo.count_users(session) == 1

    second = await yekuo(database_url, tmp_path, "user", "ensure-admin")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "yekuo: users exist; no administrator created"
    assert password not in second.stdout
    async with db.read() as session:
        again = await user_repo.get_row(session, "admin")
        assert again is not None and again.password_hash == row.password_hash
        assert await user_repo.count_users(session) == 1


async def test_schema_print_prints_the_generated_sdl(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    done = await yekuo(database_url, tmp_path, "schema", "print")
    assert done.returncode == 0, done.stderr
    assert "type Query {" in done.stdout and "type Mutation {" in done.stdout
    assert "type HvNewCase implements Case {" in done.stdout
    served = (await api.client.get("/schema.graphql")).text
    assert done.stdout.strip() == served.strip()


@sqlite_run_only
def test_version_prints_the_installed_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"yekuo {importlib.metadata.version('yekuo')}\n"


@sqlite_run_only
def test_help_documents_debug_the_exit_codes_and_set_password() -> None:
    top, user = (
        subprocess.run(
            [sys.executable, "-m", "server.cli", *args, "--help"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        for args in ([], ["user"])
    )
    assert top.returncode == 0 and user.returncode == 0, top.stderr + user.stderr
    assert "--debug" in top.stdout and "--version" in top.stdout
    assert "exit codes:" in top.stdout
    assert "set-password" in user.stdout


def _listing(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


COMMANDS_ON_A_DATABASE: list[tuple[list[str], str]] = [
    (["sweep"], ""),
    (["user", "ensure-admin"], ""),
    (["user", "add", "chen", "--role", "STAFF", "--password-stdin"], "chen-secret-pw\n"),
    (["user", "set-password", "admin", "--password-stdin"], "new-admin-pw\n"),
    (["schema", "print"], ""),
    (["catalogue", "load"], ""),
    (["metamodel", "export"], ""),
    (["history", "verify"], ""),
    (["history", "rekey"], ""),
    (["serve", "--port", "0"], ""),
]
"""Every command but `db upgrade`, which is the one that creates the database."""


@sqlite_run_only
@pytest.mark.parametrize(
    ("args", "stdin"), COMMANDS_ON_A_DATABASE, ids=[" ".join(a) for a, _ in COMMANDS_ON_A_DATABASE]
)
async def test_a_command_outside_a_checkout_creates_nothing_and_says_to_upgrade(
    tmp_path: Path, args: list[str], stdin: str
) -> None:
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    if args[0] == "serve":
        args = ["serve", "--port", str(_free_port())]
    done = await yekuo(None, None, *args, stdin=stdin, cwd=empty)
    line = one_line(done, 1)
    assert line == (
        f"yekuo: no database at {empty / 'data' / 'yekuo.db'}; "
        "run `yekuo db upgrade` to create it, or set YEKUO_DATABASE_URL"
    )
    assert _listing(empty) == []  # no empty database, no data directory, no secret
    assert "GraphiQL" not in done.stdout


@sqlite_run_only
async def test_db_upgrade_creates_the_database_the_other_commands_then_use(tmp_path: Path) -> None:
    upgraded = await yekuo(None, None, "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "data" / "yekuo.db").is_file()
    assert upgraded.stdout.startswith(
        f"yekuo: migrated the database at {tmp_path / 'data' / 'yekuo.db'} (empty -> "
    )
    assert upgraded.stderr == ""
    again = await yekuo(None, None, "db", "upgrade", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout
    admin = await yekuo(None, None, "user", "ensure-admin", cwd=tmp_path)
    assert admin.returncode == 0, admin.stderr
    assert "created user 'admin'" in admin.stdout


@sqlite_run_only
async def test_a_missing_sqlite_file_named_by_the_url_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "yekuo.db"
    done = await yekuo(f"sqlite:///{path}", tmp_path / "data", "sweep")
    assert one_line(done, 1) == (
        f"yekuo: no database at {path}; "
        "run `yekuo db upgrade` to create it, or set YEKUO_DATABASE_URL"
    )
    assert not path.parent.exists()


@sqlite_run_only
async def test_debug_shows_the_traceback_and_still_ends_with_the_line(tmp_path: Path) -> None:
    done = await yekuo(None, None, "--debug", "sweep", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback (most recent call last):" in done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        f"yekuo: no database at {tmp_path / 'data' / 'yekuo.db'}; run `yekuo db upgrade`"
    )
    assert _listing(tmp_path) == []


@pytest.fixture(params=["empty", "behind"])
async def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of this run's kind with no tables, or migrated only to the first revision."""
    if backend() == "postgresql":
        name = f"yekuo_test_{uuid.uuid4().hex[:10]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    else:
        path = tmp_path / "unmigrated.db"
        sqlite3.connect(path).close()
        url = f"sqlite+aiosqlite:///{path}"
    if request.param == "behind":
        await asyncio.to_thread(migrate.upgrade, url, "0001")
    try:
        yield url
    finally:
        if backend() == "postgresql":
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _where(url: str) -> str:
    """How the CLI names a test database: the file of SQLite, the URL of PostgreSQL."""
    if url.startswith("sqlite"):
        return url.split(":///", 1)[1]
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_an_unmigrated_database_is_refused_until_upgraded(
    unmigrated_url: str, tmp_path: Path
) -> None:
    done = await yekuo(unmigrated_url, tmp_path, "serve", "--port", str(_free_port()))
    line = one_line(done, 1)
    assert line.startswith(f"yekuo: the database at {_where(unmigrated_url)} is not migrated")
    assert line.endswith("; run `yekuo db upgrade`"), line
    assert "GraphiQL" not in done.stdout

    upgraded = await yekuo(unmigrated_url, tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    swept = await yekuo(unmigrated_url, tmp_path, "sweep")
    assert swept.returncode == 0, swept.stderr
    assert "sweep recorded" in swept.stdout


async def test_debug_shows_the_traceback_of_an_unmigrated_database(
    unmigrated_url: str, tmp_path: Path
) -> None:
    done = await yekuo(unmigrated_url, tmp_path, "--debug", "sweep")
    assert done.returncode == 1
    assert "Traceback (most recent call last):" in done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith(f"yekuo: the database at {_where(unmigrated_url)} is not migrated")


@sqlite_run_only
async def test_a_malformed_database_url_is_a_configuration_error(tmp_path: Path) -> None:
    for args in (["sweep"], ["db", "upgrade"]):
        done = await yekuo("mysql://root:hunter2-secret@localhost/yekuo", tmp_path, *args)
        line = one_line(done, 2)
        assert line.startswith("yekuo: YEKUO_DATABASE_URL names the driver 'mysql'"), line
        assert "sqlite:///" in line and "postgresql://" in line  # says what it should look like
        assert "hunter2" not in line  # the URL may hold a password: never echoed
    assert _listing(tmp_path) == []


@sqlite_run_only
async def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{_free_port()}/yekuo"
    for args in (["sweep"], ["db", "upgrade"]):
        line = one_line(await yekuo(url, tmp_path, *args), 1)
        assert "cannot reach the database server at 127.0.0.1:" in line, line
        assert "is it running" in line


@pytest.mark.skipif(backend() != "postgresql", reason="a PostgreSQL server to ask")
async def test_a_missing_postgresql_database_says_how_to_create_it(
    database_url: str, tmp_path: Path
) -> None:
    name = f"yekuo_missing_{uuid.uuid4().hex[:10]}"
    url = database_url.rsplit("/", 1)[0] + f"/{name}"
    parsed = make_url(url)
    host, user = parsed.host, parsed.username
    for args in (["sweep"], ["db", "upgrade"], ["serve", "--port", str(_free_port())]):
        line = one_line(await yekuo(url, tmp_path, *args), 1)
        assert f'there is no database "{name}" on the PostgreSQL server at {host}' in line, line
        assert f"createdb -h {host} -U {user} {name}" in line, line
        assert line.endswith("then run `yekuo db upgrade`"), line


async def test_a_bad_setting_is_a_configuration_error(database_url: str, tmp_path: Path) -> None:
    done = await yekuo(database_url, tmp_path, "sweep", env={"YEKUO_POLL_SECONDS": "abc"})
    line = one_line(done, 2)
    assert line == "yekuo: YEKUO_POLL_SECONDS must be a number of seconds greater than 0, not 'abc'"
    assert _listing(tmp_path) == []  # checked before the secret key is written


async def test_set_password_resets_it_ends_old_tokens_and_lifts_the_lock_out(
    api: Api, db: Database, database_url: str, tmp_path: Path
) -> None:
    await add_user(db, "chen", ["ADMIN"])
    old_token = await api.token("chen")
    for _ in range(5):
        wrong = (await api.data(LOGIN, {"u": "chen", "p": "a-wrong-one"}, as_user=None))["login"]
        assert wrong["token"] is None
    locked = (await api.data(LOGIN, {"u": "chen", "p": "chen-password"}, as_user=None))["login"]
    assert locked["token"] is None  # the right password, but locked out

    done = await yekuo(
        database_url,
        tmp_path,
        "user",
        "set-password",
        "chen",
        "--password-stdin",
        stdin="chen-new-password\n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "yekuo: password of chen set; tokens issued before no longer work\n"
    assert "chen-new-password" not in done.stdout + done.stderr

    old = await api.client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {old_token}"}
    )
    assert old.json()["data"] is None  # the token issued before is refused
    refused = (await api.data(LOGIN, {"u": "chen", "p": "chen-password"}, as_user=None))["login"]
    assert refused["token"] is None
    fresh = (await api.data(LOGIN, {"u": "chen", "p": "chen-new-password"}, as_user=None))["login"]
    assert fresh["errors"] == [] and fresh["token"]
    # nothing else about the user changed
    assert fresh["user"] == {"username": "chen", "roles": ["ADMIN"], "posts": [], "orgUnit": None}


async def test_set_password_refuses_unknown_users_and_short_passwords(
    api: Api, db: Database, database_url: str, tmp_path: Path
) -> None:
    unknown = await yekuo(
        database_url,
        tmp_path,
        "user",
        "set-password",
        "nobody",
        "--password-stdin",
        stdin="long-enough-pw\n",
    )
    assert one_line(unknown, 1) == "yekuo: no user 'nobody'; `yekuo user add` creates one"

    short = await yekuo(
        database_url, tmp_path, "user", "set-password", "admin", "--password-stdin", stdin="short\n"
    )
    assert one_line(short, 2) == "yekuo: a password has at least 8 characters"
    async with db.read() as session:
        row = await user_repo.get_row(session, "admin")
        assert row is not None
        assert await Credentials(SECRET).verify_password(row.password_hash, ADMIN_PASSWORD)
        assert row.token_epoch == 0


async def test_set_password_without_a_terminal_asks_for_password_stdin(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    done = await yekuo(database_url, tmp_path, "user", "set-password", "admin", stdin="pw\n")
    assert one_line(done, 2) == (
        "yekuo: no terminal to ask for the password on; pipe it in with --password-stdin"
    )


def _at_a_terminal(database_url: str, data_dir: Path, args: list[str], answers: list[str]) -> str:
    """Run yekuo with a pseudo-terminal as stdin, answering each prompt; its stderr and exit."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YEKUO_")}
    environment.update(YEKUO_DATABASE_URL=database_url, YEKUO_DATA_DIR=str(data_dir))
    terminal, its_end = pty.openpty()
    # A new session has no controlling terminal, so getpass prompts on stderr and reads stdin.
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", *args],
        stdin=its_end,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environment,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(its_end)
    assert process.stderr is not None
    said = b""
    try:
        for asked, answer in enumerate(answers, start=1):
            # Answer only once asked: turning echo off flushes whatever was typed ahead.
            while not (said.endswith(b": ") and said.count(b": ") == asked):
                chunk = os.read(process.stderr.fileno(), 1024)
                assert chunk, said
                said += chunk
            os.write(terminal, f"{answer}\n".encode())
        said += process.stderr.read()
        process.wait(timeout=60)
    finally:
        os.close(terminal)
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    return f"{process.returncode} {said.decode()}"


async def test_set_password_asks_twice_at_a_terminal(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    differ = await asyncio.to_thread(
        _at_a_terminal,
        database_url,
        tmp_path,
        ["user", "set-password", "admin"],
        ["typed-at-a-terminal", "typed-otherwise"],
    )
    assert differ.startswith("2 password: \npassword again: \n"), differ
    assert differ.endswith("\nyekuo: the two passwords differ; nothing changed\n"), differ

    same = await asyncio.to_thread(
        _at_a_terminal,
        database_url,
        tmp_path,
        ["user", "set-password", "admin"],
        ["typed-at-a-terminal", "typed-at-a-terminal"],
    )
    assert same == "0 password: \npassword again: \n", same
    assert "typed-at-a-terminal" not in same  # not echoed
    login = (await api.data(LOGIN, {"u": "admin", "p": "typed-at-a-terminal"}, as_user=None))[
        "login"
    ]
    assert login["errors"] == [] and login["token"]
