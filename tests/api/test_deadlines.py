"""Deadlines as data through the API: a milestone span counted from 受理 with a limit the case's
supply class decides, across a customer wait and a RETURN on the 2026 calendar (中秋, 国庆);
finished stages keeping their due dates; the sweep recording span warnings and breaches once;
and `deadlines(where)` / `TaskWhere` filters for managers in and out of scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from database.deadline_repo import SweepResult
from database.session import Database
from service import sweep as sweeping
from tests.api.conftest import Api, Clock
from tests.api.setup_metamodel import PUBLISH, SAVE_DRAFT, UPSERT_ITEM
from tests.api.test_engine_flow import VALID_ID, complete, only_task
from tests.api.test_engine_time import define_timed

CST = ZoneInfo("Asia/Shanghai")
BY_CLASS = 'lookup({"LOW": 3, "HIGH": 5}, supply_class)'
SPANNED: dict[str, Any] = {
    "code": "hv_spans",
    "name": "高压新装（分段时限）",
    "group": "OTHER",
    "timeLimit": {"amount": 20, "unit": "WORKING_DAYS"},
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "id_number", "requiredAt": ["accept"]},
        {"item": "supply_class"},
    ],
    "stages": [
        {"stage": "accept"},
        {"stage": "await_docs", "waitsForCustomer": True},
        {
            "stage": "survey",
            "outcomes": ["APPROVE", "RETURN"],
            "timeLimit": {
                "expression": 'lookup({"LOW": 1, "HIGH": 2}, supply_class)',
                "unit": "WORKING_DAYS",
            },
        },
        {"stage": "connect"},
    ],
    "transitions": [
        {"from": "accept", "to": ["await_docs"]},
        {"from": "await_docs", "to": ["survey"]},
        {"from": "survey", "outcome": "RETURN", "to": ["accept"]},
        {"from": "survey", "to": ["connect"]},
    ],
    "start": "accept",
    "spans": [
        {
            "code": "plan_reply",
            "name": "供电方案答复",
            "fromStage": "accept",
            "toStage": "survey",
            "timeLimit": {"expression": BY_CLASS, "unit": "WORKING_DAYS"},
        }
    ],
}
DEFINITION = """query { businessType(code: "hv_spans") { draft { spans { code fromStage toStage
  timeLimit { amount expression unit } } stages { stage timeLimit { amount expression } } } } }"""
CREATE = """mutation($input: CreateHvSpansCaseInput!) { createHvSpansCase(input: $input) {
  case { id } errors { code message path } } }"""
DEADLINES_OF = """query($id: ID!) { case(id: $id) { events { action data }
  deadlines { kind code stage { code } dueAt warnedAt breachedAt metAt } } }"""
LIST = """query($where: DeadlineWhere, $first: Int, $after: String) {
  deadlines(where: $where, first: $first, after: $after) {
  totalCount nodes { kind code stage { code } dueAt warnedAt breachedAt case { number } }
  pageInfo { hasNextPage endCursor } } }"""
TASKS = """query($where: TaskWhere) { tasks(where: $where) { nodes { stage { code } } } }"""


def cst(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


def iso(text: str) -> str:
    return cst(text).isoformat()


def instant(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


async def deadlines_of(api: Api, case_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await api.data(DEADLINES_OF, {"id": case_id}))["case"][
        "deadlines"
    ]
    return found


def row(found: list[dict[str, Any]], kind: str, code: str, nth: int = 0) -> dict[str, Any]:
    return [d for d in found if d["kind"] == kind and d["code"] == code][nth]


async def listed(api: Api, user: str, where: dict[str, Any]) -> list[tuple[str, str]]:
    data = (await api.data(LIST, {"where": where}, as_user=user))["deadlines"]
    assert data["totalCount"] == len(data["nodes"])
    return [(d["kind"], d["code"]) for d in data["nodes"]]


async def test_a_span_from_acceptance_across_a_wait_and_a_return_is_swept_and_listed(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(cst("2026-09-01T09:00"))  # responsibilities take effect when assigned
    await define_timed(api, db)
    item = {
        "code": "supply_class",
        "label": "供电类别",
        "type": "ENUM",
        "options": [{"value": "LOW", "label": "低压"}, {"value": "HIGH", "label": "高压"}],
    }
    assert (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]["errors"] == []
    saved = (await api.data(SAVE_DRAFT, {"input": SPANNED}))["saveBusinessTypeDraft"]
    assert saved["errors"] == [] and saved["problems"] == [], saved
    assert (await api.data(PUBLISH, {"code": "hv_spans"}))["publishBusinessType"]["errors"] == []
    draft = (await api.data(DEFINITION))["businessType"]["draft"]
    assert draft["spans"] == [
        {
            "code": "plan_reply",
            "fromStage": "accept",
            "toStage": "survey",
            "timeLimit": {"amount": None, "expression": BY_CLASS, "unit": "WORKING_DAYS"},
        }
    ]

    # Friday 18 September 09:00; Sunday 20 is a make-up working day, Friday 25 is 中秋.
    clock.set(cst("2026-09-18T09:00"))
    data = {"customerName": "某厂", "idNumber": VALID_ID, "supplyClass": "HIGH"}
    created = await api.data(
        CREATE,
        {"input": {"orgUnit": "county_a", "submit": True, "data": data}},
        as_user="alice",
    )
    assert created["createHvSpansCase"]["errors"] == []
    case_id = created["createHvSpansCase"]["case"]["id"]
    found = await deadlines_of(api, case_id)
    assert [(d["kind"], d["code"]) for d in found] == [
        ("STAGE", "accept"),
        ("SPAN", "plan_reply"),
        ("CASE", None),
    ]
    assert instant(row(found, "SPAN", "plan_reply")["dueAt"]) == cst("2026-09-24T09:00")

    clock.set(cst("2026-09-18T15:00"))  # 6 h used; the customer's turn: paused
    await complete(api, "alice", await only_task(api, "alice", "accept"))
    found = await deadlines_of(api, case_id)
    assert row(found, "SPAN", "plan_reply")["dueAt"] is None
    # The finished visit keeps the due date it had: 3 working days, Tuesday 22 09:00.
    accept = row(found, "STAGE", "accept")
    assert instant(accept["dueAt"]) == cst("2026-09-22T09:00")
    assert instant(accept["metAt"]) == cst("2026-09-18T15:00")

    clock.set(cst("2026-09-21T15:00"))  # back: survey's limit is worked out now (HIGH: 2)
    await complete(api, "alice", await only_task(api, "alice", "await_docs"))
    found = await deadlines_of(api, case_id)
    assert instant(row(found, "STAGE", "survey")["dueAt"]) == cst("2026-09-23T15:00")
    assert instant(row(found, "SPAN", "plan_reply")["dueAt"]) == cst("2026-09-29T09:00")

    clock.set(cst("2026-09-22T15:00"))  # RETURN to accept: the span goes on, 30 h used
    await complete(api, "bob", await only_task(api, "bob", "survey"), "RETURN")
    found = await deadlines_of(api, case_id)
    assert row(found, "SPAN", "plan_reply")["metAt"] is None
    assert instant(row(found, "SPAN", "plan_reply")["dueAt"]) == cst("2026-09-29T09:00")
    assert instant(row(found, "STAGE", "survey")["dueAt"]) == cst("2026-09-23T15:00")

    # 96 h (80 %) are used on Monday 28 09:00 (Thursday 15:00 to midnight, 中秋 off, 9 h).
    warned = await sweeping.sweep(db, now=cst("2026-09-28T10:00"))
    assert (warned.span_warnings, warned.span_breaches) == (1, 0)
    assert await sweeping.sweep(db, now=cst("2026-09-28T10:30")) == SweepResult()
    breached = await sweeping.sweep(db, now=cst("2026-09-29T10:00"))
    assert (breached.span_warnings, breached.span_breaches) == (0, 1)
    assert (await sweeping.sweep(db, now=cst("2026-09-29T11:00"))).span_breaches == 0
    found = await deadlines_of(api, case_id)
    plan = row(found, "SPAN", "plan_reply")
    assert instant(plan["warnedAt"]) == cst("2026-09-28T10:00")
    assert instant(plan["breachedAt"]) == cst("2026-09-29T10:00")

    clock.set(cst("2026-09-29T10:00"))
    # Lists: the city's and county A's managers see them, county B's does not.
    today = iso("2026-09-28T00:00")
    warned_today = {"warnedSince": today, "orgUnit": "county_a"}
    expected = [("STAGE", "accept"), ("SPAN", "plan_reply")]
    assert sorted(await listed(api, "mia", warned_today)) == sorted(expected)
    assert sorted(await listed(api, "cyd", warned_today)) == sorted(expected)
    assert await listed(api, "max", warned_today) == []
    assert await listed(api, "max", {}) == []
    assert await listed(api, "mia", {"kind": ["SPAN"], "breached": True}) == [
        ("SPAN", "plan_reply")
    ]
    due_before = {"dueBefore": iso("2026-09-23T00:00"), "met": True}
    assert await listed(api, "mia", due_before) == [("STAGE", "accept")]
    assert await listed(api, "mia", {"warnedSince": iso("2026-09-29T00:00")}) == []
    assert await listed(api, "mia", {"businessType": "lv_timed"}) == []
    # Keyset pages: one at a time, soonest due first, until none is left.
    seen: list[str | None] = []
    after: str | None = None
    while True:
        page = (await api.data(LIST, {"first": 1, "after": after}, as_user="mia"))["deadlines"]
        seen.extend(n["dueAt"] for n in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(await deadlines_of(api, case_id))
    dated = [instant(s) for s in seen if s is not None]
    assert dated == sorted(d for d in dated if d is not None)
    # Tasks: the open accept task's visit was warned too (its 3 days ran out Monday 15:00).
    warned_tasks = (await api.data(TASKS, {"where": {"warned": True}}, as_user="mia"))["tasks"]
    assert [t["stage"]["code"] for t in warned_tasks["nodes"]] == ["accept"]
    unwarned = (await api.data(TASKS, {"where": {"warned": False}}, as_user="mia"))["tasks"]
    assert [t["stage"]["code"] for t in unwarned["nodes"]] == ["accept", "await_docs", "survey"]
    overdue = {"overdue": True, "dueBefore": iso("2026-09-29T00:00")}
    late = (await api.data(TASKS, {"where": overdue}, as_user="mia"))["tasks"]["nodes"]
    assert [t["stage"]["code"] for t in late] == ["accept"]

    # Met when survey completes forward; it keeps the due date it last had (a limit used up
    # is due again the moment it resumes: here when survey was entered).
    clock.set(cst("2026-09-30T10:00"))
    await complete(api, "alice", await only_task(api, "alice", "accept"))
    await complete(api, "alice", await only_task(api, "alice", "await_docs"))
    await complete(api, "bob", await only_task(api, "bob", "survey"))
    case = (await api.data(DEADLINES_OF, {"id": case_id}))["case"]
    assert [e["data"] for e in case["events"] if e["action"] == "SPAN_MET"] == [
        {"span": "plan_reply"}
    ]
    plan = row(case["deadlines"], "SPAN", "plan_reply")
    assert instant(plan["metAt"]) == cst("2026-09-30T10:00")
    assert instant(plan["dueAt"]) == cst("2026-09-30T10:00")
    assert await listed(api, "mia", {"kind": ["SPAN"], "met": False}) == []
