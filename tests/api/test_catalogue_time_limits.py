"""The catalogue's time limits and rules as a utility meets them through the API.

- A 高压双电源 case shows its 方案答复 deadline counted from 受理 (30 working days), as State Grid
  measures it, beside the whole case's limit.
- A 200 kW 三零 application is refused with the rule's message naming the 160 kW limit and the
  path of the capacity; 150 kW is accepted.
- A temporary supply of more than six months and a 减容 of less than six are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from database.session import Database
from metamodel import naming
from tests.api.catalogue_customers import seed_customer
from tests.api.catalogue_walking import (
    ITEMS,
    RESPONSIBLE,
    ROOT,
    TYPES,
    Walk,
    catalogue_app,
    required_at,
    to_input,
    user_of,
)

CST = dt.timezone(dt.timedelta(hours=8))
DEADLINES = """query($id: ID!) { case(id: $id) { dueAt deadlines { kind code stage { code }
  dueAt metAt } } }"""


@pytest.fixture(scope="module")
async def walk(
    database: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Walk]:
    async with catalogue_app(database, database_url, tmp_path_factory.mktemp("limits")) as app:
        yield app


async def create(
    walk: Walk, code: str, values: dict[str, object], customer: str | None = None
) -> dict[str, Any]:
    spec = TYPES[code]
    assert spec.start is not None
    data = {**required_at(spec, spec.start, sources=2), **values}
    create_field = naming.field_names(code)["create"]
    mutation = (
        f"mutation($input: {naming.type_names(code)['CreateInput']}!) {{ {create_field}"
        "(input: $input) { case { id } errors { code message path } } }"
    )
    case_input: dict[str, Any] = {"data": to_input(data), "orgUnit": ROOT, "submit": True}
    if customer is not None:
        case_input["customerNumber"] = customer
    found: dict[str, Any] = (
        await walk.api.data(
            mutation, {"input": case_input}, as_user=user_of(RESPONSIBLE[spec.start])
        )
    )[create_field]
    return found


async def test_the_reply_of_a_dual_supply_case_is_due_30_working_days_from_acceptance(
    walk: Walk,
) -> None:
    walk.clock.set(dt.datetime(2026, 11, 2, 9, 0, tzinfo=CST))  # a Monday; no holiday till 元旦
    created = await create(walk, "hv_new_double", {})
    assert created["errors"] == []
    found = (await walk.api.data(DEADLINES, {"id": created["case"]["id"]}))["case"]
    spans = {d["code"]: d for d in found["deadlines"] if d["kind"] == "SPAN"}
    reply = spans["plan_reply_from_acceptance"]
    # Six weeks of working days, counted from 受理 whatever stages come between.
    assert dt.datetime.fromisoformat(reply["dueAt"]) == dt.datetime(2026, 12, 14, 9, tzinfo=CST)
    assert reply["metAt"] is None
    [whole] = [d for d in found["deadlines"] if d["kind"] == "CASE"]
    assert whole["dueAt"] == found["dueAt"] is not None


@pytest.mark.parametrize(("capacity", "refused"), [("200", True), ("160", False), ("150", False)])
async def test_three_zero_service_stops_at_160_kw(walk: Walk, capacity: str, refused: bool) -> None:
    created = await create(walk, "lv_small_new", {"capacity_kw": capacity})
    if refused:
        assert [(e["code"], e["path"]) for e in created["errors"]] == [
            ("VALIDATION", ["input", "data", "capacityKw"])
        ]
        assert "160千瓦" in created["errors"][0]["message"]
        assert created["case"] is None
    else:
        assert created["errors"] == []


async def test_periods_the_rules_do_not_allow_are_refused(walk: Walk) -> None:
    too_long = await create(
        walk, "temporary_supply", {"temp_start_date": "2026-03-01", "temp_end_date": "2026-12-31"}
    )
    assert {e["path"][-1] for e in too_long["errors"]} == {"tempStartDate", "tempEndDate"}
    assert "六个月" in too_long["errors"][0]["message"]
    seeded = await seed_customer(walk.database, walk.root_id, TYPES["change_jianrong"], ITEMS)
    too_short = await create(
        walk,
        "change_jianrong",
        {"change_start_date": "2026-03-01", "change_end_date": "2026-05-01"},
        seeded.number,
    )
    assert "减容期限不得少于六个月" in too_short["errors"][0]["message"]
    enough = await create(
        walk,
        "change_jianrong",
        {"change_start_date": "2026-03-01", "change_end_date": "2026-12-01"},
        seeded.number,
    )
    assert enough["errors"] == []


COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) {
  case { status tasks { id status stage { code } } } errors { code message path } } }"""
TASKS = "query($id: ID!) { case(id: $id) { tasks { id status stage { code } } } }"


async def test_a_connection_dated_tomorrow_is_refused(walk: Walk) -> None:
    walk.clock.set(dt.datetime(2027, 3, 10, 10, 0, tzinfo=CST))  # after the posts were given
    code, spec = "lv_resident_new", TYPES["lv_resident_new"]
    created = await create(walk, code, {})
    assert created["errors"] == []
    case_id = created["case"]["id"]

    async def complete(stage: str, data: dict[str, object]) -> dict[str, Any]:
        tasks = (await walk.api.data(TASKS, {"id": case_id}))["case"]["tasks"]
        [task] = [t for t in tasks if t["status"] == "OPEN" and t["stage"]["code"] == stage]
        payload = {"taskId": task["id"], "data": {**required_at(spec, stage, sources=1), **data}}
        done: dict[str, Any] = (
            await walk.api.data(COMPLETE, {"input": payload}, as_user=user_of(RESPONSIBLE[stage]))
        )["completeTask"]
        return done

    assert (await complete("acceptance_signing", {}))["errors"] == []
    refused = await complete("construction_connection", {"connection_date": "2027-03-11"})
    assert [(e["code"], e["message"], e["path"][-1]) for e in refused["errors"]] == [
        ("VALIDATION", "接电日期不得晚于今天", "connectionDate")
    ]
    accepted = await complete("construction_connection", {"connection_date": "2027-03-10"})
    assert accepted["errors"] == []
