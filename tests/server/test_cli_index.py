"""`yekuo index sync`, run as a separate process against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest

from database import case_expressions
from database.item_index_reconcile import LOCK_KEY
from database.session import Database
from tests.api.conftest import Api
from tests.api.setup_metamodel import define_basics, publish_hv_new
from tests.conftest import backend
from tests.server.test_cli import one_line, yekuo

KVA_INDEX = case_expressions.index_name("capacity_kva")


async def test_index_sync_builds_what_the_published_versions_mark(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    await api.app.state.services.indexes.stop()  # the command does the work, not the server
    await define_basics(api)
    await publish_hv_new(api)

    done = await yekuo(database_url, tmp_path, "index", "sync")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"yekuo: built {KVA_INDEX}" in lines
    [listed] = [line for line in lines if line.startswith(KVA_INDEX)]
    assert listed.split("\t")[:2] == [KVA_INDEX, "READY"]

    again = await yekuo(database_url, tmp_path, "index", "sync")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == "yekuo: nothing to build or drop"


@pytest.mark.skipif(backend() != "postgresql", reason="the advisory lock is PostgreSQL's")
async def test_index_sync_leaves_the_work_to_a_process_already_doing_it(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with db.engine.connect() as other:
        await other.exec_driver_sql(f"SELECT pg_advisory_lock({LOCK_KEY})")
        try:
            done = await yekuo(database_url, tmp_path, "index", "sync")
        finally:
            await other.exec_driver_sql(f"SELECT pg_advisory_unlock({LOCK_KEY})")
            await other.rollback()

    assert "another process is building the item indexes now" in one_line(done, 1)
