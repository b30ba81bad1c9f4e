"""A case's history through the API and the database: every change written behind yekuo's back
(in SQL, as someone with database access would) is found by `verifyCaseHistory`, except a
consistent rewrite by someone who also holds the key."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from casework import history
from casework.model import Event
from database import case_repo, history_repo, migrate
from database.case_tables import CaseEventRow, CaseRow, StageInstanceRow, TaskRow
from database.fee_tables import FeeItemRow, PaymentRow
from database.security_tables import UserRow
from database.session import Database, Session
from tests.api.conftest import ADMIN_PASSWORD, Api, Clock, add_user, serve
from tests.api.test_engine_commands import CLAIM
from tests.api.test_engine_flow import only_task
from tests.api.test_fees import define_with_rules, pay, to_collection, waive
from tests.conftest import HISTORY_KEYS, SECRET
from tests.server.test_cli import yekuo

VERIFY = """query($id: ID!) { verifyCaseHistory(id: $id) {
  valid brokenAtSeq reason reasons eventCount } }"""


async def worked_case(api: Api, db: Database, clock: Clock) -> int:
    """A case accepted, its fee assessed, its cashier task claimed and the fee paid."""
    await define_with_rules(api, db, clock)
    case = await to_collection(api)
    task = await only_task(api, "cathy", "fee_collection")
    claimed = (await api.data(CLAIM, {"id": task}, as_user="cathy"))["claimTask"]
    assert claimed["errors"] == [], claimed
    paid = await pay(api, case["id"], "170100.00", "pay-1")
    assert paid["errors"] == [], paid
    return int(case["id"])


async def verify(api: Api, case_id: int) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(VERIFY, {"id": str(case_id)}))["verifyCaseHistory"]
    return found


async def length(session: Session, case_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(CaseEventRow).where(CaseEventRow.case_id == case_id)
        )
        or 0
    )


async def rechain(session: Session, case_id: int, *, seal: bool) -> None:
    """Recompute every hash and the head, as a careful forger would; seal only with the key."""
    rows = (
        await session.scalars(
            select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)
        )
    ).all()
    previous = history.GENESIS
    for row in rows:
        entry = history.canonical(
            row.seq, row.at, row.actor, row.action, row.data, row.metadata_version
        )
        previous = history.chain(previous, entry)
        row.hash = previous
    values: dict[str, Any] = {"history_length": len(rows), "history_head": previous}
    if seal:
        key = HISTORY_KEYS.current
        values["history_mac"] = history.seal(key, case_id, len(rows), previous)
    await session.flush()
    await session.execute(update(CaseRow).where(CaseRow.id == case_id).values(**values))


async def rewrite_capacity(session: Session, case_id: int, *, seal: bool) -> None:
    """Make the case say 63 kVA where it said 630, in its row and in its CREATED event."""
    case = await session.get(CaseRow, case_id)
    created = await session.scalar(
        select(CaseEventRow).where(CaseEventRow.case_id == case_id, CaseEventRow.seq == 1)
    )
    assert case is not None and created is not None
    case.data = {**case.data, "contract_capacity": "63"}
    created.data = {
        **created.data,
        "data": {**created.data["data"], "contract_capacity": "63"},
    }
    await session.flush()
    await rechain(session, case_id, seal=seal)


async def edit_data(session: Session, case_id: int) -> None:
    case = await session.get(CaseRow, case_id)
    assert case is not None
    await session.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id)
        .values(data={**case.data, "contract_capacity": "63"})
    )


async def delete_last(session: Session, case_id: int) -> None:
    last = await length(session, case_id)
    await session.execute(
        delete(CaseEventRow).where(CaseEventRow.case_id == case_id, CaseEventRow.seq == last)
    )


async def delete_last_and_move_anchor(session: Session, case_id: int) -> None:
    await delete_last(session, case_id)
    await rechain(session, case_id, seal=False)


async def delete_middle(session: Session, case_id: int) -> None:
    await session.execute(
        delete(CaseEventRow).where(CaseEventRow.case_id == case_id, CaseEventRow.seq == 3)
    )


async def edit_event(session: Session, case_id: int) -> None:
    await session.execute(
        update(CaseEventRow)
        .where(CaseEventRow.case_id == case_id, CaseEventRow.seq == 2)
        .values(actor="mallory")
    )


async def give_task_away(session: Session, case_id: int) -> None:
    alice = await session.scalar(select(UserRow.id).where(UserRow.username == "alice"))
    await session.execute(
        update(TaskRow)
        .where(TaskRow.case_id == case_id, TaskRow.stage == "fee_collection")
        .values(assignee_id=alice)
    )


async def remove_payment(session: Session, case_id: int) -> None:
    fee = select(FeeItemRow.id).where(FeeItemRow.case_id == case_id)
    await session.execute(delete(PaymentRow).where(PaymentRow.fee_item_id.in_(fee)))


def set_case(**values: Any) -> Callable[[Session, int], Awaitable[None]]:
    async def change(session: Session, case_id: int) -> None:
        await session.execute(update(CaseRow).where(CaseRow.id == case_id).values(**values))

    return change


def set_fee(**values: Any) -> Callable[[Session, int], Awaitable[None]]:
    async def change(session: Session, case_id: int) -> None:
        await session.execute(
            update(FeeItemRow).where(FeeItemRow.case_id == case_id).values(**values)
        )

    return change


async def skip_a_stage(session: Session, case_id: int) -> None:
    await session.execute(
        update(StageInstanceRow)
        .where(StageInstanceRow.case_id == case_id, StageInstanceRow.status == "ACTIVE")
        .values(stage="connect")
    )


async def forge_without_key(session: Session, case_id: int) -> None:
    await rewrite_capacity(session, case_id, seal=False)


SEAL_BROKEN = "the seal does not match the history: it was rewritten without the key"


@dataclass(frozen=True)
class Tamper:
    """A change made in the database behind yekuo's back, and what verification says."""

    name: str
    change: Callable[[Session, int], Awaitable[None]]
    reason: str
    broken_at: Callable[[int], int | None] = lambda _length: None
    """The seq named, given the history's length before the change."""


TAMPERS = [
    Tamper(
        "the data JSON edited",
        edit_data,
        "the case's data differs from its history: contract_capacity",
    ),
    Tamper(
        "the status changed",
        set_case(status="COMPLETED"),
        "the case's status is COMPLETED; its history says IN_PROGRESS",
    ),
    Tamper(
        "the version changed", set_case(version=99), "the case's version is 99; its history says"
    ),
    Tamper(
        "the current stage changed",
        skip_a_stage,
        "stage visit 2 (connect) differs from its history: stage",
    ),
    Tamper(
        "a task given to someone else",
        give_task_away,
        "differs from its history: assignee",
    ),
    Tamper(
        "a fee made cheaper",
        set_fee(amount="1.00"),
        "fee high_reliability differs from its history: amount",
    ),
    Tamper(
        "a payment removed",
        remove_payment,
        "fee high_reliability differs from its history: payments",
    ),
    Tamper(
        "an event edited",
        edit_event,
        "event 2 does not match its hash: it, or one before it, changed",
        lambda _n: 2,
    ),
    Tamper(
        "the last event deleted",
        delete_last,
        "the case records {n} events; event(s) {n} are gone",
        lambda n: n,
    ),
    Tamper("a middle event deleted", delete_middle, "event 3 is missing", lambda _n: 3),
    Tamper(
        "the last event deleted, the chain's length and head moved back to match",
        delete_last_and_move_anchor,
        SEAL_BROKEN,
    ),
    Tamper(
        "the whole history rewritten consistently (hashes and head recomputed), no key",
        forge_without_key,
        SEAL_BROKEN,
    ),
    Tamper(
        "the seal removed",
        set_case(history_mac=None, history_key_id=None),
        "the history is not sealed: written before sealing began, or its seal was removed",
    ),
]


@pytest.mark.tampers_history
@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.name for t in TAMPERS])
async def test_a_change_behind_yekuos_back_is_found(
    api: Api, db: Database, clock: Clock, tamper: Tamper
) -> None:
    case_id = await worked_case(api, db, clock)
    before = await verify(api, case_id)
    assert before["valid"] and before["reasons"] == [] and before["reason"] is None, before
    n = before["eventCount"]
    assert n >= 15
    async with db.transaction() as session:
        await tamper.change(session, case_id)
    after = await verify(api, case_id)
    assert after["valid"] is False
    assert tamper.reason.format(n=n) in after["reason"], after
    assert after["reasons"][0] == after["reason"]
    assert after["brokenAtSeq"] == tamper.broken_at(n), after


@pytest.mark.tampers_history
async def test_a_consistent_rewrite_by_someone_with_the_key_is_not_detectable(
    api: Api, db: Database, clock: Clock
) -> None:
    """The limit of the scheme (the README says so): the key must stay out of reach."""
    case_id = await worked_case(api, db, clock)
    async with db.transaction() as session:
        await rewrite_capacity(session, case_id, seal=True)
    assert (await verify(api, case_id))["valid"] is True


@pytest.mark.tampers_history
async def test_a_broken_case_stays_broken_when_work_goes_on(
    api: Api, db: Database, clock: Clock
) -> None:
    """A new event after a forgery must not seal the forgery over."""
    case_id = await worked_case(api, db, clock)
    async with db.transaction() as session:
        await forge_without_key(session, case_id)
    moved = await api.data(
        """mutation($input: CompleteTaskInput!) { completeTask(input: $input) {
        errors { code } } }""",
        {"input": {"taskId": await only_task(api, "cathy", "fee_collection")}},
        as_user="cathy",
    )
    assert moved["completeTask"]["errors"] == []
    after = await verify(api, case_id)
    assert after["valid"] is False and after["reason"] == SEAL_BROKEN, after


async def test_updating_data_to_what_it_is_changes_nothing(
    api: Api, db: Database, clock: Clock
) -> None:
    """A save that records nothing would be a change nobody can see: none is made."""
    case_id = await worked_case(api, db, clock)
    update_data = """mutation($input: UpdateHvDoubleCaseDataInput!) {
      updateHvDoubleCaseData(input: $input) { case { version } errors { code } } }"""
    async with db.read() as session:
        version = await session.scalar(select(CaseRow.version).where(CaseRow.id == case_id))
    same = await api.data(
        update_data,
        {
            "input": {
                "id": str(case_id),
                "expectedVersion": version,
                "data": {"customerName": "某数据中心"},
            }
        },
        as_user="alice",
    )
    assert same["updateHvDoubleCaseData"] == {"case": {"version": version}, "errors": []}
    assert (await verify(api, case_id))["valid"] is True


# -- keys rotate --------------------------------------------------------------------------------


@pytest.mark.tampers_history  # it leaves the case on a key the run's check does not hold
async def test_keys_rotate_and_rekey_moves_every_case_to_the_new_key(
    api: Api, db: Database, clock: Clock, database_url: str
) -> None:
    case_id = await worked_case(api, db, clock)  # sealed with the key of SECRET
    both = Database(database_url, history_keys=history.keyring("the-new-secret", [SECRET]))
    only_new = Database(database_url, history_keys=history.keyring("the-new-secret"))
    try:
        assert await check(both, case_id) == ()
        assert await check(only_new, case_id) == (
            f"the history was sealed with key {HISTORY_KEYS.current.id}, which is not "
            "configured (YEKUO_SECRET, YEKUO_SECRET_PREVIOUS)",
        )
        done = [(o.finding.case_id, o.outcome) async for o in history_repo.rekey(both)]
        assert done == [(case_id, history_repo.Rekeyed.RESEALED)]
        assert [o async for o in history_repo.rekey(both)] == []  # nothing left: resumable
        assert await check(only_new, case_id) == ()
        assert await check(db, case_id) != ()  # the old key alone no longer vouches for it
    finally:
        await both.dispose()
        await only_new.dispose()


@pytest.mark.tampers_history
async def test_work_on_a_case_sealed_with_a_previous_key_seals_it_with_the_new_one(
    api: Api, db: Database, clock: Clock, database_url: str
) -> None:
    case_id = await worked_case(api, db, clock)
    both = Database(database_url, history_keys=history.keyring("the-new-secret", [SECRET]))
    try:
        async with both.transaction() as session:
            row = await case_repo.get(session, case_id, lock=True)
            assert row is not None
            await case_repo.append_events(
                session, row, [Event("NOTED", {"note": "rotated"})], actor="ops", now=clock()
            )
        async with db.read() as session:
            key_id = await session.scalar(
                select(CaseRow.history_key_id).where(CaseRow.id == case_id)
            )
        assert key_id == both.history_keys.current.id if both.history_keys else False
        assert await check(both, case_id) == ()
    finally:
        await both.dispose()


@pytest.mark.tampers_history
async def test_rekey_leaves_broken_and_unsealed_cases_as_they_are_unless_told(
    api: Api, db: Database, clock: Clock, database_url: str
) -> None:
    broken = await worked_case(api, db, clock)
    unsealed = int((await to_collection(api))["id"])
    async with db.transaction() as session:
        await edit_data(session, broken)
        await set_case(history_mac=None, history_key_id=None)(session, unsealed)
    both = Database(database_url, history_keys=history.keyring("the-new-secret", [SECRET]))
    try:
        first = [(o.finding.case_id, o.outcome) async for o in history_repo.rekey(both)]
        assert first == [
            (broken, history_repo.Rekeyed.BROKEN),
            (unsealed, history_repo.Rekeyed.UNSEALED),
        ]
        second = [
            (o.finding.case_id, o.outcome)
            async for o in history_repo.rekey(both, seal_unsealed=True)
        ]
        assert second == [
            (broken, history_repo.Rekeyed.BROKEN),
            (unsealed, history_repo.Rekeyed.RESEALED),
        ]
        assert await check(both, unsealed) == ()
        assert await check(both, broken) != ()
    finally:
        await both.dispose()


async def check(db: Database, case_id: int) -> tuple[str, ...]:
    found = await history_repo.verify_case(db, case_id)
    assert found is not None
    return found.verdict.reasons


# -- cases from before the anchor and the seal ---------------------------------------------------

NEWER_FIELDS = {
    "STAGE_ENTERED": ("status",),
    "TASK_CREATED": ("visit",),
    "TASK_UNASSIGNED": ("visit",),
    "PAYMENT_RECORDED": ("reference",),
}


async def as_written_before_sealing(db: Database) -> int:
    """Strip what events record since sealing began and chain them again, as they were."""
    async with db.transaction() as session:
        rows = (
            await session.scalars(
                select(CaseEventRow).order_by(CaseEventRow.case_id, CaseEventRow.seq)
            )
        ).all()
        previous, case_id = history.GENESIS, None
        for row in rows:
            if row.case_id != case_id:
                previous, case_id = history.GENESIS, row.case_id
            dropped = ("caseVersion", *NEWER_FIELDS.get(row.action, ()))
            row.data = {k: v for k, v in row.data.items() if k not in dropped}
            entry = history.canonical(
                row.seq, row.at, row.actor, row.action, row.data, row.metadata_version
            )
            previous = row.hash = history.chain(previous, entry)
    return len(rows)


async def test_cases_from_before_the_migration_verify_after_it(
    scratch_database_url: str, tmp_path: Path, clock: Clock
) -> None:
    url = scratch_database_url
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url, history_keys=HISTORY_KEYS)
    try:
        await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
        async with serve(url, tmp_path, clock) as app:
            await worked_case(app, db, clock)
            waived = int((await to_collection(app))["id"])
            assert (await waive(app, str(waived), "减免", as_user="mia"))["data"]["waiveFee"][
                "errors"
            ] == []
            await to_collection(app)
        await asyncio.to_thread(migrate.downgrade, url, "0005")
        assert await as_written_before_sealing(db) > 40

        upgraded = await yekuo(url, tmp_path / "cli", "db", "upgrade", env={"YEKUO_SECRET": SECRET})
        assert upgraded.returncode == 0, upgraded.stderr  # the command hands the keys over
        found = [f async for f in history_repo.verify_all(db, batch=2)]
        assert len(found) == 3
        assert [f.verdict.reasons for f in found] == [(), (), ()]

        await asyncio.to_thread(migrate.downgrade, url, "0005")
        await asyncio.to_thread(migrate.upgrade, url)  # no keys: anchored, not sealed
        unsealed = [f.verdict.reasons async for f in history_repo.verify_all(db)]
        assert (
            unsealed
            == [
                (
                    "the history is not sealed: written before sealing began, or its seal was removed",
                )
            ]
            * 3
        )
        sealed = [o.outcome async for o in history_repo.rekey(db, seal_unsealed=True)]
        assert sealed == [history_repo.Rekeyed.RESEALED] * 3
        assert [f.verdict.valid async for f in history_repo.verify_all(db)] == [True] * 3
    finally:
        await db.dispose()
