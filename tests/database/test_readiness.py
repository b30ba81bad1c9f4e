"""Whether a database can be used: checked without creating anything, each reason typed."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path

import pytest

from database import migrate, readiness


async def test_the_run_database_is_ready(database_url: str) -> None:
    await readiness.check(database_url)
    assert await readiness.revision(database_url) == migrate.heads()


async def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "folder" / "yekuo.db"
    url = f"sqlite:///{path}"
    assert await readiness.revision(url) == ()
    with pytest.raises(readiness.NoDatabaseFile) as raised:
        await readiness.check(url)
    assert raised.value.where == str(path)
    assert not path.parent.exists()


async def test_a_database_migrated_by_a_newer_yekuo_is_told_apart(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    url = f"sqlite:///{path}"
    await asyncio.to_thread(migrate.upgrade, url)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(readiness.NewerThanCode) as raised:
        await readiness.check(url)
    assert raised.value.current == ("9999_from_the_future",)


async def test_a_file_that_is_not_sqlite_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(readiness.NotADatabase) as raised:
        await readiness.check(f"sqlite:///{path}")
    assert raised.value.where == str(path)
    assert "not a database" in raised.value.detail


async def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(readiness.Unreachable) as raised:
        await readiness.check(f"postgresql://postgres@127.0.0.1:{port}/yekuo")
    assert raised.value.where == f"127.0.0.1:{port}"
    assert raised.value.detail == "Connection refused"


def test_where_names_the_file_or_the_url_without_its_password() -> None:
    assert readiness.where("sqlite:////srv/yekuo/yekuo.db") == "/srv/yekuo/yekuo.db"
    assert readiness.where("sqlite:///yekuo.db") == str(Path("yekuo.db").absolute())
    assert (
        readiness.where("postgresql+asyncpg://yekuo:s3cret@db.example:6543/prod")
        == "postgresql://yekuo:***@db.example:6543/prod"
    )


@pytest.mark.parametrize(
    ("host", "port", "user", "command"),
    [
        ("db.example", None, "yekuo", "createdb -h db.example -U yekuo prod"),
        ("db.example", 5432, "yekuo", "createdb -h db.example -U yekuo prod"),
        ("db.example", 6543, "yekuo", "createdb -h db.example -p 6543 -U yekuo prod"),
        (None, None, "", "createdb prod"),
    ],
)
def test_createdb_repeats_the_url_host_port_and_user(
    host: str | None, port: int | None, user: str, command: str
) -> None:
    missing = readiness.NoSuchDatabase("…", name="prod", host=host, port=port, user=user)
    assert missing.createdb() == command


def test_only_connection_failures_count_as_an_unreachable_server() -> None:
    url = "postgresql://postgres@db.example/yekuo"
    refused = readiness.classify(ConnectionRefusedError(111, "Connect call failed"), url)
    assert isinstance(refused, readiness.Unreachable)
    assert (refused.where, refused.detail) == ("db.example:5432", "Connection refused")
    unreadable = PermissionError(13, "Permission denied", "metamodel/lv_new.yaml")
    assert readiness.classify(unreadable, url) is None  # a file a command reads, not the server
    assert readiness.classify(ConnectionRefusedError(111, "refused"), "sqlite:///x.db") is None
