"""`caseProgress`: an applicant follows their case with its number and the access code the
create mutation returned once, without signing in. A wrong code, an unknown number and a
locked-out number all answer exactly alike; five wrong codes within fifteen minutes lock a
number (and only that number) for fifteen minutes, for the address they came from."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import func, select

from database.security_tables import AccessThrottleRow
from database.session import Database
from tests.api.conftest import Api, Clock, client_at
from tests.api.test_engine_flow import complete, only_task
from tests.api.test_fees import CST, define_with_rules, open_case

PROGRESS = """query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) {
  number businessType status submittedAt dueAt completedAt
  stages { code name status enteredAt dueAt completedAt }
  fees { name amount status explanation } } }"""

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST)


async def progress(api: Api, number: str, code: str) -> dict[str, Any]:
    """The whole response body of an anonymous caseProgress query."""
    return await api.post(PROGRESS, {"n": number, "c": code}, as_user=None)


def wrong(code: str) -> str:
    """Another code of the same shape."""
    return ("X" if code[0] != "X" else "Y") + code[1:]


NULL = {"data": {"caseProgress": None}}


async def test_an_applicant_follows_the_case_with_its_access_code(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    created = await open_case(api)
    number, code = created["case"]["number"], created["accessCode"]
    assert isinstance(code, str) and len(code) >= 8

    body = await progress(api, number, code)
    assert "errors" not in body
    seen = body["data"]["caseProgress"]
    assert seen["number"] == number and seen["status"] == "IN_PROGRESS"
    assert seen["businessType"] == "高压双电源"
    [accept] = seen["stages"]
    assert (accept["code"], accept["name"], accept["status"]) == ("accept", "业务受理", "ACTIVE")
    # 3 working days from Monday 10:00.
    assert dt.datetime.fromisoformat(accept["dueAt"]) == dt.datetime(2026, 3, 5, 10, 0, tzinfo=CST)
    assert accept["completedAt"] is None
    assert seen["fees"] == []

    # After 确定费用 is entered the applicant sees the fee and how it was computed.
    assert (await complete(api, "alice", await only_task(api, "alice", "accept")))["errors"] == []
    seen = (await progress(api, number, code))["data"]["caseProgress"]
    assert [(s["code"], s["name"], s["status"]) for s in seen["stages"]] == [
        ("accept", "业务受理", "DONE"),
        ("fee_determination", "确定费用", "ACTIVE"),
    ]
    assert seen["stages"][0]["completedAt"] is not None
    # 2 working days for 确定费用, entered Monday 10:00 (a finished stage shows no due date).
    assert dt.datetime.fromisoformat(seen["stages"][1]["dueAt"]) == dt.datetime(
        2026, 3, 4, 10, 0, tzinfo=CST
    )
    assert seen["fees"] == [
        {
            "name": "高可靠性供电费",
            "amount": "170100.00",
            "status": "DUE",
            "explanation": "630 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00",
        }
    ]


async def test_the_access_code_is_shown_only_by_the_create_mutation(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    created = await open_case(api)
    again = await api.data(
        "query($n: String!) { case(number: $n) { number } }", {"n": created["case"]["number"]}
    )
    assert again["case"]["number"] == created["case"]["number"]
    second = await open_case(api)
    assert second["accessCode"] != created["accessCode"]
    # One case's code does not open another.
    assert await progress(api, second["case"]["number"], created["accessCode"]) == NULL


async def test_a_wrong_code_answers_exactly_like_an_unknown_number(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    created = await open_case(api)
    number, code = created["case"]["number"], created["accessCode"]
    unknown_number = str(int(number) + 1000)

    bad_code = await progress(api, number, wrong(code))
    unknown = await progress(api, unknown_number, code)
    empty = await progress(api, number, "")
    assert bad_code == unknown == empty == NULL
    # And so does a signed-in user's query with a wrong code (no extra detail for staff).
    assert await api.post(PROGRESS, {"n": number, "c": wrong(code)}, as_user="alice") == NULL
    assert (await progress(api, number, code))["data"]["caseProgress"]["number"] == number


async def test_five_wrong_codes_lock_the_number_for_fifteen_minutes(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    target, other = await open_case(api), await open_case(api)
    number, code = target["case"]["number"], target["accessCode"]
    clock.set(T0)

    for _ in range(4):
        assert await progress(api, number, wrong(code)) == NULL
    assert (await progress(api, number, code))["data"]["caseProgress"] is not None  # 4 < 5

    assert await progress(api, number, wrong(code)) == NULL  # the fifth wrong code
    locked = await progress(api, number, code)
    assert locked == NULL  # the right code, refused, indistinguishable from a wrong one

    # Another number is not affected.
    seen = await progress(api, other["case"]["number"], other["accessCode"])
    assert seen["data"]["caseProgress"]["number"] == other["case"]["number"]

    clock.set(T0 + dt.timedelta(minutes=14))
    assert await progress(api, number, code) == NULL  # still locked
    clock.set(T0 + dt.timedelta(minutes=16))
    unlocked = await progress(api, number, code)
    assert unlocked["data"]["caseProgress"]["number"] == number


async def test_wrong_codes_spread_beyond_the_window_do_not_lock(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    created = await open_case(api)
    number, code = created["case"]["number"], created["accessCode"]
    for minute in (0, 4, 8, 12, 16, 20, 24):  # never five within fifteen minutes
        clock.set(T0 + dt.timedelta(minutes=minute))
        assert await progress(api, number, wrong(code)) == NULL
    assert (await progress(api, number, code))["data"]["caseProgress"]["number"] == number


async def test_guessing_numbers_locks_each_guessed_number_not_the_real_one(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    created = await open_case(api)
    number, code = created["case"]["number"], created["accessCode"]
    clock.set(T0)
    for _ in range(5):
        assert await progress(api, "20260302999999", code) == NULL
    assert (await progress(api, number, code))["data"]["caseProgress"]["number"] == number


async def test_concurrent_wrong_codes_are_all_counted(api: Api, db: Database, clock: Clock) -> None:
    await define_with_rules(api, db, clock)
    created = await open_case(api)
    number, code = created["case"]["number"], created["accessCode"]
    clock.set(T0)
    for _ in range(2):  # a first burst for a number never guessed before, then a second one
        bodies = await asyncio.gather(*(progress(api, number, wrong(code)) for _ in range(3)))
        assert all(b == NULL for b in bodies), bodies
    assert await progress(api, number, code) == NULL  # six wrong codes: locked


async def test_aliased_guesses_in_one_request_are_counted_each(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    created = await open_case(api)
    number, code = created["case"]["number"], created["accessCode"]
    clock.set(T0)
    guesses = " ".join(
        f'g{i}: caseProgress(number: $n, accessCode: "{wrong(code)}{i}") {{ status }}'
        for i in range(8)
    )
    body = await api.post(f"query($n: String!) {{ {guesses} }}", {"n": number}, as_user=None)
    assert body == {"data": {f"g{i}": None for i in range(8)}}
    assert await progress(api, number, code) == NULL


async def throttle_rows(db: Database) -> int:
    """How many guess counters are kept."""
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(AccessThrottleRow)) or 0)


async def test_guessing_many_unknown_numbers_keeps_no_row_per_number(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(T0)
    for i in range(60):
        assert await progress(api, f"2026030290{i:04d}", "WRONGCODE1") == NULL
    # The address's counter, and one shared by every unknown number (alone, and from it).
    assert await throttle_rows(db) <= 3


async def test_counters_whose_time_has_passed_are_cleared_away(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(T0)
    for n in range(10):
        async with client_at(api, f"203.0.113.{n + 1}") as client:
            response = await client.post(
                "/graphql", json={"query": PROGRESS, "variables": {"n": "1", "c": "WRONGCODE1"}}
            )
            assert response.json() == NULL
    assert await throttle_rows(db) >= 10
    clock.set(T0 + dt.timedelta(minutes=31))
    assert await progress(api, "1", "WRONGCODE1") == NULL
    assert await throttle_rows(db) <= 3


async def test_one_address_cannot_lock_an_applicant_out(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    created = await open_case(api)
    number, code = created["case"]["number"], created["accessCode"]
    clock.set(T0)
    async with client_at(api, "203.0.113.66") as attacker:
        for i in range(20):
            guess = {"n": number, "c": f"{wrong(code)}{i}"}
            response = await attacker.post("/graphql", json={"query": PROGRESS, "variables": guess})
            assert response.json() == NULL
    assert (await progress(api, number, code))["data"]["caseProgress"]["number"] == number
