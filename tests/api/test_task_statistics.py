"""taskStatistics: who is behind, per post, holder, org unit and stage, within the caller's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from database.session import Database
from tests.api.conftest import Api, Clock, add_user
from tests.api.test_engine_flow import CREATE, VALID_ID, _unit_id, complete, define

CST = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST)  # a Monday; stages here take 3 working days
HOUR = dt.timedelta(hours=1)

STATISTICS = """query($groupBy: [TaskGroupBy!], $where: TaskWhere) {
  taskStatistics(groupBy: $groupBy, where: $where) {
    keys total open overdue completed avgHandlingSeconds avgHandlingHours } }"""


async def statistics(
    api: Api,
    group_by: list[str] | None,
    where: dict[str, Any] | None = None,
    *,
    as_user: str = "admin",
) -> list[tuple[Any, ...]]:
    found = await api.data(STATISTICS, {"groupBy": group_by, "where": where}, as_user=as_user)
    return [
        (
            tuple(g["keys"]),
            g["total"],
            g["open"],
            g["overdue"],
            g["completed"],
            g["avgHandlingSeconds"],
            g["avgHandlingHours"],
        )
        for g in found["taskStatistics"]
    ]


async def new_case(api: Api, unit: str) -> str:
    created = await api.data(
        CREATE,
        {
            "input": {
                "orgUnit": unit,
                "submit": True,
                "data": {"customerName": "某厂", "idNumber": VALID_ID},
            }
        },
    )
    payload = created["createHvDoubleCase"]
    assert payload["errors"] == []
    [task] = payload["case"]["tasks"]
    task_id: str = task["id"]
    return task_id


async def test_task_statistics_per_group_within_scope(api: Api, db: Database, clock: Clock) -> None:
    clock.set(T0)
    await define(api, db)
    county_a, county_b = await _unit_id(db, "county_a"), await _unit_id(db, "county_b")
    await add_user(db, "amy", ["STAFF"], org_unit_id=county_b, posts=["acceptor"])
    await add_user(db, "mia", ["MANAGER"], org_unit_id=county_a)
    await add_user(db, "max", ["MANAGER"], org_unit_id=county_b)

    accepts = [await new_case(api, "county_a") for _ in range(3)]
    await new_case(api, "county_b")
    # Acceptance of two cases takes 2 and 4 hours: a mean of 3 hours.
    clock.set(T0 + 2 * HOUR)
    assert (await complete(api, "alice", accepts[0]))["errors"] == []
    clock.set(T0 + 4 * HOUR)
    assert (await complete(api, "alice", accepts[1]))["errors"] == []
    survey = (
        await api.data(
            "{ myTasks { nodes { id } } }",
            as_user="bob",
        )
    )["myTasks"]["nodes"]
    claimed = await api.data(
        "mutation($id: ID!) { claimTask(id: $id) { errors { code } } }",
        {"id": survey[0]["id"]},
        as_user="bob",
    )
    assert claimed["claimTask"]["errors"] == []

    clock.set(T0 + 5 * HOUR)  # nothing is late yet
    assert await statistics(api, ["STAGE"]) == [
        (("accept",), 4, 2, 0, 2, 10800.0, 3.0),
        (("survey",), 2, 2, 0, 0, None, None),
    ]

    clock.set(T0 + dt.timedelta(days=10))  # everything open is late now
    assert await statistics(api, ["STAGE"]) == [
        (("accept",), 4, 2, 2, 2, 10800.0, 3.0),
        (("survey",), 2, 2, 2, 0, None, None),
    ]
    assert await statistics(api, ["POST", "ASSIGNEE"]) == [
        (("acceptor", ""), 2, 2, 2, 0, None, None),
        (("acceptor", "alice"), 2, 0, 0, 2, 10800.0, 3.0),
        (("surveyor", ""), 1, 1, 1, 0, None, None),
        (("surveyor", "bob"), 1, 1, 1, 0, None, None),
    ]
    assert await statistics(api, ["ORG_UNIT", "STAGE"]) == [
        (("county_a", "accept"), 3, 1, 1, 2, 10800.0, 3.0),
        (("county_a", "survey"), 2, 2, 2, 0, None, None),
        (("county_b", "accept"), 1, 1, 1, 0, None, None),
    ]
    assert await statistics(api, None) == [((), 6, 4, 4, 2, 10800.0, 3.0)]

    # Filters apply before grouping.
    assert await statistics(api, ["ASSIGNEE"], {"stage": ["survey"]}) == [
        (("",), 1, 1, 1, 0, None, None),
        (("bob",), 1, 1, 1, 0, None, None),
    ]
    assert await statistics(api, ["STAGE"], {"orgUnit": "county_b"}) == [
        (("accept",), 1, 1, 1, 0, None, None)
    ]
    assert await statistics(api, ["STAGE"], {"status": ["DONE"]}) == [
        (("accept",), 2, 0, 0, 2, 10800.0, 3.0)
    ]
    assert await statistics(api, ["STAGE"], {"assignee": "bob"}) == [
        (("survey",), 1, 1, 1, 0, None, None)
    ]
    assert await statistics(api, ["STAGE"], {"post": ["nobody"]}) == []
    assert await statistics(api, [], {"post": ["nobody"]}) == [((), 0, 0, 0, 0, None, None)]

    # A manager sees their subtree only, whatever the post.
    assert await statistics(api, ["ORG_UNIT", "POST"], as_user="max") == [
        (("county_b", "acceptor"), 1, 1, 1, 0, None, None)
    ]
    assert await statistics(api, ["POST"], as_user="mia") == [
        (("acceptor",), 3, 1, 1, 2, 10800.0, 3.0),
        (("surveyor",), 2, 2, 2, 0, None, None),
    ]
    assert await statistics(api, ["STAGE"], {"orgUnit": "county_b"}, as_user="mia") == []

    # Staff may not.
    refused = await api.post(STATISTICS, {"groupBy": ["POST"]}, as_user="bob")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
