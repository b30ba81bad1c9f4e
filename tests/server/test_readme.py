"""The README's first session, run as written on a database prepared exactly as `make run` does.

The Makefile's `run` target is read for the commands it runs before serving (migrate, load the
catalogue, create the administrator), and those commands run as separate processes against the
test database. Then every GraphQL block of the README runs in order through the application;
each must succeed. A value in angle brackets is taken from an earlier answer, as a reader would.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from database.session import Database
from tests.api.conftest import Clock, serve
from tests.server.test_cli import yekuo

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)
PLACEHOLDER = re.compile(r"<([a-z ]+)>")


def readme_blocks() -> list[str]:
    """The README's GraphQL blocks, in order."""
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def make_run_commands() -> list[list[str]]:
    """The `yekuo` commands `make run` runs before it serves."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    commands = [
        shlex.split(line.strip())[1:]
        for line in recipe.splitlines()
        if line.strip().startswith("$(BIN)/yekuo ")
    ]
    return [c for c in commands if c[0] != "serve"]


def objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in an answer, depth first, in document order."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from objects(child)
    elif isinstance(value, list):
        for child in value:
            yield from objects(child)


def refused(data: Any) -> list[tuple[str, Any]]:
    """Every non-empty `errors` or `problems` list in an answer."""
    return [
        (key, found[key])
        for found in objects(data)
        for key in ("errors", "problems")
        if found.get(key)
    ]


def remember(data: Any, known: dict[str, str]) -> None:
    """What a reader takes from an answer: the newest open task, the case number, the code."""
    for found in objects(data):
        if found.get("token"):
            known["token"] = found["token"]
        if found.get("accessCode"):
            known["access code"] = found["accessCode"]
        if "number" in found and "status" in found:  # a case (a customer has no status)
            known["case number"] = found["number"]
        if found.get("status") == "OPEN" and "id" in found and "stage" in found:
            known["task id"] = found["id"]


async def test_the_readme_session_works_on_the_database_make_run_prepares(
    db: Database, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    del db  # requested so the database is emptied after the test
    commands = make_run_commands()
    assert [c[:2] for c in commands] == [
        ["db", "upgrade"],
        ["catalogue", "load"],
        ["user", "ensure-admin"],
    ], commands
    known: dict[str, str] = {}
    for command in commands:
        done = await yekuo(database_url, tmp_path, *command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        if command[:2] == ["user", "ensure-admin"]:
            known["printed password"] = done.stdout.splitlines()[1].strip()
    blocks = readme_blocks()
    assert len(blocks) >= 10, "the README's session is missing"
    async with serve(database_url, tmp_path, clock) as api:
        for number, block in enumerate(blocks, 1):
            missing = [p for p in PLACEHOLDER.findall(block) if p not in known]
            assert not missing, f"block {number} needs {missing}, which no answer gave"
            query = PLACEHOLDER.sub(lambda m: known[m.group(1)], block)
            headers = {"Authorization": f"Bearer {known['token']}"} if "token" in known else {}
            response = await api.client.post("/graphql", json={"query": query}, headers=headers)
            assert response.status_code == 200, (number, response.text)
            body = response.json()
            assert not body.get("errors"), (number, block, body["errors"])
            assert not refused(body["data"]), (number, block, refused(body["data"]))
            remember(body["data"], known)
    assert body["data"]["caseProgress"]["status"] == "COMPLETED", body
