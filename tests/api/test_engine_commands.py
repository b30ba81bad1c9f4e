"""Engine commands through the API: submitting a draft, claiming, assigning and releasing
tasks within scope, completing with checks, the hash-chained history, and a change case that
updates the customer a new case archived."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from database import metadata_repo
from database.archive_tables import CustomerRow
from database.case_tables import CaseEventRow
from database.session import Database
from tests.api.conftest import Api, Clock, add_user
from tests.api.setup_metamodel import PUBLISH, SAVE_DRAFT
from tests.api.test_engine_flow import CREATE, VALID_ID, complete, define, my_tasks, only_task

CST = ZoneInfo("Asia/Shanghai")

CASE = """query($id: ID!) { case(id: $id) { id number status version currentStages { code }
  customer { number name address capacity meters { assetNo } contracts { number } }
  tasks { id stage { code } status assignee { username } }
  events { seq at actor action data hash }
  ... on HvDoubleCase { data { customerName idNumber capacityKva surveyOpinion } } } }"""
SUBMIT = """mutation($id: ID!) { submitCase(id: $id) {
  case { status version currentStages { code } tasks { stage { code } status post { code } } }
  errors { code message path } } }"""
CLAIM = """mutation($id: ID!) { claimTask(id: $id) {
  task { id status assignee { username } } errors { code message path } } }"""
ASSIGN_TASK = """mutation($id: ID!, $u: String!) { assignTask(id: $id, username: $u) {
  task { id status assignee { username } } errors { code message path } } }"""
RELEASE = """mutation($id: ID!) { releaseTask(id: $id) {
  task { id status assignee { username } } errors { code message path } } }"""
COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) {
  task { status outcome } case { status version currentStages { code } }
  errors { code message path } } }"""
TASKS = """query($where: TaskWhere) { tasks(where: $where) {
  totalCount nodes { id stage { code } post { code } orgUnit { code } } } }"""
VERIFY = "query($id: ID!) { verifyCaseHistory(id: $id) { valid brokenAtSeq } }"

NAME_CHANGE: dict[str, Any] = {
    "code": "name_change",
    "name": "更名",
    "group": "CHANGE",
    "items": [{"item": "customer_name", "requiredAt": ["accept"]}],
    "stages": [{"stage": "accept"}],
    "transitions": [],
    "start": "accept",
}
"""变更用电 (更名): one acceptance stage, after which the new name is archived."""
CREATE_CHANGE = """mutation($input: CreateNameChangeCaseInput!) { createNameChangeCase(input: $input) {
  case { id number status customer { number } } errors { code message path } } }"""


async def unit_id(db: Database, code: str) -> int:
    async with db.read() as session:
        unit = await metadata_repo.get_org_unit(session, code)
    assert unit is not None
    return unit.id


async def setup(api: Api, db: Database, clock: Clock) -> None:
    """The engine test's metamodel and people, a second surveyor, an acceptor and a manager
    for each county."""
    clock.set(dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    await define(api, db)
    county_a, county_b = await unit_id(db, "county_a"), await unit_id(db, "county_b")
    await add_user(db, "ben", ["STAFF"], org_unit_id=county_a, posts=["surveyor"])
    await add_user(db, "amy", ["STAFF"], org_unit_id=county_b, posts=["acceptor"])
    await add_user(db, "mia", ["MANAGER"], org_unit_id=county_a)
    await add_user(db, "max", ["MANAGER"], org_unit_id=county_b)


async def open_case(
    api: Api,
    *,
    unit: str = "county_a",
    submit: bool = True,
    as_user: str = "alice",
    **data: Any,
) -> dict[str, Any]:
    values = {"customerName": "某超市", "idNumber": VALID_ID, **data}
    created = await api.data(
        CREATE,
        {"input": {"orgUnit": unit, "submit": submit, "data": values}},
        as_user=as_user,
    )
    payload = created["createHvDoubleCase"]
    assert payload["errors"] == [], payload
    case: dict[str, Any] = payload["case"]
    return case


async def read_case(api: Api, case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(CASE, {"id": case_id}))["case"]
    return found


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


# -- submitting -----------------------------------------------------------------------------------


async def test_submitting_a_draft_enters_the_start_stage_once(
    api: Api, db: Database, clock: Clock
) -> None:
    await setup(api, db, clock)
    draft = await open_case(api, submit=False)
    assert draft["status"] == "DRAFT" and draft["tasks"] == [] and draft["currentStages"] == []
    assert await my_tasks(api, "alice") == []

    submitted = (await api.data(SUBMIT, {"id": draft["id"]}, as_user="alice"))["submitCase"]
    assert submitted["errors"] == []
    assert submitted["case"]["status"] == "IN_PROGRESS"
    assert submitted["case"]["currentStages"] == [{"code": "accept"}]
    assert submitted["case"]["tasks"] == [
        {"stage": {"code": "accept"}, "status": "OPEN", "post": {"code": "acceptor"}}
    ]
    assert await only_task(api, "alice", "accept")
    before = await read_case(api, draft["id"])
    assert [e["action"] for e in before["events"]][:3] == ["CREATED", "SUBMITTED", "STAGE_ENTERED"]

    again = (await api.data(SUBMIT, {"id": draft["id"]}, as_user="alice"))["submitCase"]
    assert codes(again) == ["INVALID_TRANSITION"] and again["case"] is None
    assert await read_case(api, draft["id"]) == before
    missing = (await api.data(SUBMIT, {"id": "999999"}, as_user="alice"))["submitCase"]
    assert codes(missing) == ["NOT_FOUND"]


# -- claim, assign, release ---------------------------------------------------------------------


async def test_claim_assign_and_release_stay_within_posts_and_subtrees(
    api: Api, db: Database, clock: Clock
) -> None:
    await setup(api, db, clock)
    mine = await open_case(api)
    await complete(api, "alice", await only_task(api, "alice", "accept"))
    theirs = await open_case(api, unit="county_b", as_user="admin")
    await complete(api, "amy", await only_task(api, "amy", "accept"))
    survey_a = await only_task(api, "bob", "survey")
    survey_b = await only_task(api, "carol", "survey")

    # Who sees what.
    open_surveys = {"where": {"status": ["OPEN"], "post": ["surveyor"]}}

    async def listed(user: str, variables: dict[str, Any] | None = None) -> list[str]:
        found = (await api.data(TASKS, variables or {}, as_user=user))["tasks"]
        assert found["totalCount"] == len(found["nodes"])
        return sorted(t["id"] for t in found["nodes"])

    assert await listed("mia", open_surveys) == [survey_a]
    assert await listed("max", open_surveys) == [survey_b]
    assert await listed("admin", open_surveys) == sorted([survey_a, survey_b])
    assert await listed("bob") == [survey_a]  # not the acceptance tasks, not county_b's
    assert await listed("carol") == [survey_b]
    [accept_a] = [
        t["id"]
        for t in (await read_case(api, mine["id"]))["tasks"]
        if t["stage"]["code"] == "accept"
    ]
    assert await listed("alice") == [accept_a]  # her post's tasks in county_a, done ones too
    assert theirs["number"] != mine["number"]

    # bob claims; ben, who holds the same post, can then neither take nor finish it.
    claimed = (await api.data(CLAIM, {"id": survey_a}, as_user="bob"))["claimTask"]
    assert claimed["errors"] == []
    assert claimed["task"] == {"id": survey_a, "status": "CLAIMED", "assignee": {"username": "bob"}}
    taken = (await api.data(CLAIM, {"id": survey_a}, as_user="ben"))["claimTask"]
    assert codes(taken) == ["INVALID_TRANSITION"]
    blocked = await complete(api, "ben", survey_a, capacityKva="100", surveyOpinion="同意")
    assert codes(blocked) == ["FORBIDDEN"]
    released_by_other = (await api.data(RELEASE, {"id": survey_a}, as_user="ben"))["releaseTask"]
    assert codes(released_by_other) == ["FORBIDDEN"]
    case_a = await read_case(api, mine["id"])
    assert case_a["currentStages"] == [{"code": "survey"}]
    assert case_a["data"]["capacityKva"] is None
    [survey_row] = [t for t in case_a["tasks"] if t["id"] == survey_a]
    assert survey_row["status"] == "CLAIMED" and survey_row["assignee"] == {"username": "bob"}

    released = (await api.data(RELEASE, {"id": survey_a}, as_user="bob"))["releaseTask"]
    assert released["errors"] == []
    assert released["task"] == {"id": survey_a, "status": "OPEN", "assignee": None}
    twice = (await api.data(RELEASE, {"id": survey_a}, as_user="bob"))["releaseTask"]
    assert codes(twice) == ["FORBIDDEN"]  # no longer his
    not_claimed = (await api.data(RELEASE, {"id": survey_a}, as_user="mia"))["releaseTask"]
    assert codes(not_claimed) == ["INVALID_TRANSITION"]

    # A manager of the subtree assigns it, but only to a holder of the post within reach.
    staff = await api.post(ASSIGN_TASK, {"id": survey_a, "u": "ben"}, as_user="bob")
    assert [e["extensions"]["code"] for e in staff["errors"]] == ["FORBIDDEN"]
    outsider = (await api.data(ASSIGN_TASK, {"id": survey_a, "u": "ben"}, as_user="max"))[
        "assignTask"
    ]
    assert codes(outsider) == ["FORBIDDEN"] and outsider["task"] is None
    no_post = (await api.data(ASSIGN_TASK, {"id": survey_a, "u": "alice"}, as_user="mia"))[
        "assignTask"
    ]
    assert codes(no_post) == ["VALIDATION"] and no_post["errors"][0]["path"] == ["username"]
    elsewhere = (await api.data(ASSIGN_TASK, {"id": survey_a, "u": "carol"}, as_user="mia"))[
        "assignTask"
    ]
    assert codes(elsewhere) == ["VALIDATION"]  # a surveyor, but of county_b
    nobody = (await api.data(ASSIGN_TASK, {"id": survey_a, "u": "nobody"}, as_user="mia"))[
        "assignTask"
    ]
    assert codes(nobody) == ["NOT_FOUND"]
    assert (await listed("mia", open_surveys)) == [survey_a]  # still open after the refusals

    assigned = (await api.data(ASSIGN_TASK, {"id": survey_a, "u": "ben"}, as_user="mia"))[
        "assignTask"
    ]
    assert assigned["errors"] == []
    assert assigned["task"] == {
        "id": survey_a,
        "status": "CLAIMED",
        "assignee": {"username": "ben"},
    }
    assert await listed("mia", open_surveys) == []
    blocked = await complete(api, "bob", survey_a, capacityKva="100", surveyOpinion="同意")
    assert codes(blocked) == ["FORBIDDEN"]
    done = await complete(api, "ben", survey_a, capacityKva="100", surveyOpinion="同意")
    assert done["errors"] == [] and done["case"]["currentStages"] == [{"code": "connect"}]
    actions = [e["action"] for e in (await read_case(api, mine["id"]))["events"]]
    assert {"TASK_CLAIMED", "TASK_RELEASED", "TASK_ASSIGNED", "TASK_COMPLETED"} <= set(actions)


# -- completing ---------------------------------------------------------------------------------


async def test_complete_checks_version_outcome_and_data_keys(
    api: Api, db: Database, clock: Clock
) -> None:
    await setup(api, db, clock)
    case = await open_case(api, customerName=None)
    accept = await only_task(api, "alice", "accept")
    before = await read_case(api, case["id"])
    version = before["version"]

    async def attempt(**fields: Any) -> dict[str, Any]:
        result = await api.data(COMPLETE, {"input": {"taskId": accept, **fields}}, as_user="alice")
        payload: dict[str, Any] = result["completeTask"]
        assert payload["task"] is None and payload["case"] is None
        assert await read_case(api, case["id"]) == before  # nothing changed
        return payload

    stale = await attempt(expectedVersion=version - 1, data={"customerName": "某超市"})
    assert codes(stale) == ["CONFLICT"]
    assert stale["errors"][0]["path"] == ["input", "expectedVersion"]
    undeclared = await attempt(outcome="REJECT", data={"customerName": "某超市"})
    assert codes(undeclared) == ["VALIDATION"]
    assert undeclared["errors"][0]["path"] == ["input", "outcome"]
    unknown = await attempt(data={"customerName": "某超市", "thatKey": "x"})
    assert [(e["code"], e["path"]) for e in unknown["errors"]] == [
        ("VALIDATION", ["input", "data", "thatKey"])
    ]
    bad_value = await attempt(data={"customer_name": "某超市", "idNumber": "123"})
    assert [(e["code"], e["path"]) for e in bad_value["errors"]] == [
        ("VALIDATION", ["input", "data", "idNumber"])
    ]
    required = await attempt()
    assert [(e["code"], e["path"]) for e in required["errors"]] == [
        ("REQUIRED", ["input", "data", "customerName"])
    ]

    # Item codes (snake_case) are accepted as well as field names (camelCase).
    by_code = await api.data(
        COMPLETE,
        {
            "input": {
                "taskId": accept,
                "expectedVersion": version,
                "data": {"customer_name": "某超市（总店）", "supply_address": "解放路8号"},
            }
        },
        as_user="alice",
    )
    moved = by_code["completeTask"]
    assert moved["errors"] == [] and moved["task"] == {"status": "DONE", "outcome": "APPROVE"}
    assert moved["case"]["currentStages"] == [{"code": "survey"}]
    assert moved["case"]["version"] > version
    survey = await only_task(api, "bob", "survey")
    by_field = await complete(api, "bob", survey, capacityKva="80", surveyOpinion="同意")
    assert by_field["errors"] == []
    by_mixed = await read_case(api, case["id"])
    assert by_mixed["data"] == {
        "customerName": "某超市（总店）",
        "idNumber": VALID_ID,
        "capacityKva": "80",
        "surveyOpinion": "同意",
    }


# -- history ------------------------------------------------------------------------------------


@pytest.mark.tampers_history
async def test_case_history_is_chained_and_tampering_is_found(
    api: Api, db: Database, clock: Clock
) -> None:
    await setup(api, db, clock)
    case = await open_case(api)
    await complete(api, "alice", await only_task(api, "alice", "accept"))
    events = (await read_case(api, case["id"]))["events"]
    assert len(events) >= 6
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(re.fullmatch(r"[0-9a-f]{64}", e["hash"]) for e in events)
    assert len({e["hash"] for e in events}) == len(events)
    assert events[0]["action"] == "CREATED" and events[0]["actor"] == "alice"

    staff = await api.post(VERIFY, {"id": case["id"]}, as_user="alice")
    assert [e["extensions"]["code"] for e in staff["errors"]] == ["FORBIDDEN"]
    assert (await api.data(VERIFY, {"id": case["id"]}, as_user="mia"))["verifyCaseHistory"] == {
        "valid": True,
        "brokenAtSeq": None,
    }
    assert (await api.data(VERIFY, {"id": "999999"}))["verifyCaseHistory"] is None

    async with db.transaction() as session:
        changed = await session.execute(
            update(CaseEventRow)
            .where(CaseEventRow.case_id == int(case["id"]), CaseEventRow.seq == 3)
            .values(data={"stage": "accept", "visit": 0, "forged": True})
        )
        assert changed.rowcount == 1  # type: ignore[attr-defined]
    assert (await api.data(VERIFY, {"id": case["id"]}))["verifyCaseHistory"] == {
        "valid": False,
        "brokenAtSeq": 3,
    }


# -- change cases and the customer archive ------------------------------------------------------


async def test_a_change_case_updates_the_customer_its_new_case_archived(
    api: Api, db: Database, clock: Clock
) -> None:
    await setup(api, db, clock)
    saved = await api.data(SAVE_DRAFT, {"input": NAME_CHANGE})
    assert saved["saveBusinessTypeDraft"]["errors"] == [], saved
    published = await api.data(PUBLISH, {"code": "name_change"})
    assert published["publishBusinessType"]["errors"] == [], published

    async def change(**fields: Any) -> dict[str, Any]:
        value = {"orgUnit": "county_a", "submit": True, "data": {"customerName": "新名"}}
        result = await api.data(CREATE_CHANGE, {"input": {**value, **fields}}, as_user="alice")
        payload: dict[str, Any] = result["createNameChangeCase"]
        return payload

    unnamed = await change()
    assert [(e["code"], e["path"]) for e in unnamed["errors"]] == [
        ("REQUIRED", ["input", "customerNumber"])
    ]
    unknown = await change(customerNumber="0000009999")
    assert [(e["code"], e["path"]) for e in unknown["errors"]] == [
        ("NOT_FOUND", ["input", "customerNumber"])
    ]
    nothing = await api.data("{ nameChangeCases { totalCount } }")
    assert nothing["nameChangeCases"]["totalCount"] == 0

    # A new connection runs to the end and archives its customer.
    new = await open_case(api, customerName="老字号面馆", supplyAddress="中山路1号")
    await complete(api, "alice", await only_task(api, "alice", "accept"))
    await complete(
        api, "bob", await only_task(api, "bob", "survey"), capacityKva="50", surveyOpinion="同意"
    )
    done = await complete(
        api, "gus", await only_task(api, "gus", "connect"), meterAssetNo="3330009876"
    )
    assert done["errors"] == [] and done["case"]["status"] == "COMPLETED"
    archived = (await read_case(api, new["id"]))["customer"]
    number = archived["number"]
    assert archived["name"] == "老字号面馆" and archived["capacity"] == "50"
    assert len(archived["contracts"]) == 1

    # The change names that 户号 and, once finished, updates the same record.
    changed = await change(customerNumber=number, data={"customerName": "老字号面馆（新）"})
    assert changed["errors"] == []
    assert changed["case"]["status"] == "IN_PROGRESS"
    assert changed["case"]["customer"]["number"] == number
    accept = await only_task(api, "alice", "accept")
    finished = await complete(api, "alice", accept)
    assert finished["errors"] == [] and finished["case"]["status"] == "COMPLETED"

    customer = await api.data(
        "query($n: String!) { customer(number: $n) { number name address capacity meters { assetNo } contracts { number } cases } }",
        {"n": number},
    )
    record = customer["customer"]
    assert record["number"] == number
    assert record["name"] == "老字号面馆（新）"
    assert record["address"] == "中山路1号" and record["capacity"] == "50"  # kept
    assert record["meters"] == [{"assetNo": "3330009876"}]
    # A change amends the contract the connection signed; it signs no second one.
    assert record["contracts"] == archived["contracts"]
    assert record["cases"] == [new["number"], changed["case"]["number"]]
    change_case = await api.data(
        "query($id: ID!) { case(id: $id) { customer { number name } } }",
        {"id": changed["case"]["id"]},
    )
    assert change_case["case"]["customer"] == {"number": number, "name": "老字号面馆（新）"}
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(CustomerRow)) == 1
