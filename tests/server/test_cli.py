"""The `yekuo` command line, run as a separate process against the test database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from database import user_repo
from database.session import Database
from server.security import Credentials
from tests.api.conftest import SECRET, Api
from tests.api.setup_metamodel import define_basics, publish_hv_new

ROOT = Path(__file__).resolve().parents[2]
LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
  token user { username roles posts orgUnit } errors { code message } } }"""


async def yekuo(
    database_url: str, data_dir: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run `python -m server.cli ARGS` with the test database and a private data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YEKUO_")}
    env.update(YEKUO_DATABASE_URL=database_url, YEKUO_DATA_DIR=str(data_dir))
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


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
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
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
        assert Credentials(SECRET).verify_password(row.password_hash, password)
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
