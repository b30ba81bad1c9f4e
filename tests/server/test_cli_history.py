"""`yekuo history verify` and `yekuo history rekey`, run as separate processes: a line per
broken case, a summary, exit 1 on any break; keys rotated through the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from casework import history
from database.case_tables import CaseRow
from database.session import Database
from tests.api.conftest import Api, Clock
from tests.api.test_fees import to_collection
from tests.api.test_history import delete_last, edit_data, worked_case
from tests.conftest import SECRET
from tests.server.test_cli import one_line, yekuo

KEY = {"YEKUO_SECRET": SECRET}
NEW_KEY = {"YEKUO_SECRET": "the-new-secret"}
BOTH_KEYS = {"YEKUO_SECRET": "the-new-secret", "YEKUO_SECRET_PREVIOUS": f"older-one {SECRET}"}


async def number_of(db: Database, case_id: int) -> str:
    async with db.read() as session:
        number = await session.scalar(select(CaseRow.number).where(CaseRow.id == case_id))
    assert number is not None
    return number


async def events_of(db: Database, case_id: int) -> int:
    async with db.read() as session:
        length = await session.scalar(select(CaseRow.history_length).where(CaseRow.id == case_id))
    assert length is not None
    return length


@pytest.mark.tampers_history
async def test_verify_prints_each_broken_case_and_a_summary_and_exits_1(
    api: Api, db: Database, clock: Clock, database_url: str, tmp_path: Path
) -> None:
    good = await worked_case(api, db, clock)
    bad = int((await to_collection(api))["id"])
    good_number, bad_number = await number_of(db, good), await number_of(db, bad)

    holding = await yekuo(database_url, tmp_path, "history", "verify", env=KEY)
    assert (holding.returncode, holding.stderr) == (0, "")
    assert holding.stdout == "yekuo: 2 cases checked: every history holds\n"

    async with db.transaction() as session:
        await edit_data(session, bad)
    done = await yekuo(database_url, tmp_path, "history", "verify", env=KEY)
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout.splitlines() == [
        f"{bad_number} broken: the case's data differs from its history: contract_capacity",
        "yekuo: 2 cases checked: 1 broken, 1 hold",
    ]

    length = await events_of(db, bad)
    async with db.transaction() as session:
        await delete_last(session, bad)
    one = await yekuo(database_url, tmp_path, "history", "verify", "--case", bad_number, env=KEY)
    assert one.returncode == 1
    assert one.stdout.splitlines()[0].startswith(
        f"{bad_number} broken at event {length}: the case records {length} events; "
        f"event(s) {length} are gone; "
    )
    assert one.stdout.splitlines()[1:] == ["yekuo: 1 case checked: 1 broken, 0 hold"]

    fine = await yekuo(database_url, tmp_path, "history", "verify", "--case", good_number, env=KEY)
    assert (fine.returncode, fine.stdout) == (0, "yekuo: 1 case checked: every history holds\n")

    missing = await yekuo(database_url, tmp_path, "history", "verify", "--case", "nope", env=KEY)
    assert one_line(missing, 1) == "yekuo: no case 'nope'"


async def test_verify_on_a_database_without_cases_holds(database_url: str, tmp_path: Path) -> None:
    done = await yekuo(database_url, tmp_path, "history", "verify", env=KEY)
    assert (done.returncode, done.stdout) == (0, "yekuo: 0 cases checked: every history holds\n")


@pytest.mark.tampers_history  # the case ends on a key the run's own check does not hold
async def test_a_new_secret_keeps_old_seals_while_listed_and_rekey_moves_them(
    api: Api, db: Database, clock: Clock, database_url: str, tmp_path: Path
) -> None:
    case_id = await worked_case(api, db, clock)
    number = await number_of(db, case_id)
    new_id = history.derive_key("the-new-secret").id

    dropped = await yekuo(database_url, tmp_path, "history", "verify", env=NEW_KEY)
    assert dropped.returncode == 1
    assert dropped.stdout.splitlines()[0] == (
        f"{number} broken: the history was sealed with key {history.derive_key(SECRET).id}, "
        "which is not configured (YEKUO_SECRET, YEKUO_SECRET_PREVIOUS)"
    )
    listed = await yekuo(database_url, tmp_path, "history", "verify", env=BOTH_KEYS)
    assert (listed.returncode, listed.stderr) == (0, "")

    rekeyed = await yekuo(database_url, tmp_path, "history", "rekey", env=BOTH_KEYS)
    assert (rekeyed.returncode, rekeyed.stderr) == (0, "")
    assert rekeyed.stdout == f"yekuo: 1 case(s) sealed with key {new_id}\n"
    again = await yekuo(database_url, tmp_path, "history", "rekey", env=BOTH_KEYS)
    assert again.stdout == f"yekuo: 0 case(s) sealed with key {new_id}\n"  # nothing left to do

    only_new = await yekuo(database_url, tmp_path, "history", "verify", env=NEW_KEY)
    assert (only_new.returncode, only_new.stdout) == (
        0,
        "yekuo: 1 case checked: every history holds\n",
    )


@pytest.mark.tampers_history
async def test_rekey_reports_what_it_left_and_exits_1(
    api: Api, db: Database, clock: Clock, database_url: str, tmp_path: Path
) -> None:
    case_id = await worked_case(api, db, clock)
    async with db.transaction() as session:
        await edit_data(session, case_id)
    done = await yekuo(database_url, tmp_path, "history", "rekey", env=BOTH_KEYS)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{await number_of(db, case_id)} broken: the case's data differs from its history: "
        "contract_capacity",
        f"yekuo: 0 case(s) sealed with key {history.derive_key('the-new-secret').id}",
        "yekuo: left as they are: 1 broken, 0 unsealed",
    ]
