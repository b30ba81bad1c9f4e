"""The engine end to end: routing to posts, scope, a condition, RETURN, split and join,
working-day due dates on the Chinese calendar, and the customer archive at completion."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update

from database.metadata_tables import ResponsibilityRow
from database.session import Database
from tests.api.conftest import Api, Clock, add_user
from tests.api.setup_metamodel import (
    ASSIGN,
    PUBLISH,
    SAVE_DRAFT,
    UPSERT_ITEM,
    UPSERT_ORG,
    UPSERT_POST,
    UPSERT_STAGE,
)

CST = ZoneInfo("Asia/Shanghai")
VALID_ID = "11010519491231002X"

ITEMS = [
    {"code": "customer_name", "label": "户名", "type": "STRING"},
    {"code": "id_number", "label": "证件号码", "type": "ID_NUMBER"},
    {"code": "supply_address", "label": "用电地址", "type": "STRING"},
    {"code": "capacity_kva", "label": "申请容量", "type": "DECIMAL", "unit": "kVA"},
    {"code": "contract_capacity", "label": "合同容量", "type": "DECIMAL", "unit": "kVA"},
    {"code": "survey_opinion", "label": "勘查意见", "type": "TEXT"},
    {"code": "meter_asset_no", "label": "电能表资产编号", "type": "STRING"},
    {"code": "ct_ratio", "label": "CT变比", "type": "STRING"},
    {"code": "pt_ratio", "label": "PT变比", "type": "STRING"},
    {"code": "start_reading", "label": "装表示数", "type": "DECIMAL"},
]
STAGES = {
    "accept": ("业务受理", 3),
    "survey": ("现场勘查", 3),
    "design_review": ("设计文件审查", 10),
    "grid_works": ("配套工程", 20),
    "inspection": ("竣工检验", 5),
    "connect": ("装表接电", 5),
}
POSTS = {
    "acceptor": "受理员",
    "surveyor": "勘查员",
    "designer": "设计审核员",
    "grid_engineer": "工程管理员",
    "inspector": "验收员",
    "metering": "装表接电员",
}
RESPONSIBLE = {
    "accept": "acceptor",
    "survey": "surveyor",
    "design_review": "designer",
    "grid_works": "grid_engineer",
    "inspection": "inspector",
    "connect": "metering",
}
DRAFT: dict[str, Any] = {
    "code": "hv_double",
    "name": "高压双电源新装",
    "group": "NEW",
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "id_number", "requiredAt": ["accept"]},
        {"item": "supply_address"},
        {"item": "capacity_kva", "requiredAt": ["survey"]},
        {"item": "contract_capacity"},
        {"item": "survey_opinion", "editableAt": ["survey"], "requiredAt": ["survey"]},
        {"item": "meter_asset_no", "editableAt": ["connect"], "requiredAt": ["connect"]},
        {"item": "ct_ratio", "editableAt": ["connect"]},
        {"item": "pt_ratio", "editableAt": ["connect"]},
        {"item": "start_reading", "editableAt": ["connect"]},
    ],
    "stages": [
        {"stage": "accept"},
        {"stage": "survey", "outcomes": ["APPROVE", "RETURN"]},
        {"stage": "design_review"},
        {"stage": "grid_works"},
        {"stage": "inspection", "join": True},
        {"stage": "connect"},
    ],
    "transitions": [
        {"from": "accept", "to": ["survey"]},
        {"from": "survey", "outcome": "RETURN", "to": ["accept"]},
        {
            "from": "survey",
            "to": ["design_review", "grid_works"],
            "condition": "capacity_kva > 160",
        },
        {"from": "survey", "to": ["connect"]},
        {"from": "design_review", "to": ["inspection"]},
        {"from": "grid_works", "to": ["inspection"]},
        {"from": "inspection", "to": ["connect"]},
    ],
    "start": "accept",
    "archive": [{"field": "contract_capacity", "item": "capacity_kva"}],
}

CREATE = """mutation($input: CreateHvDoubleCaseInput!) { createHvDoubleCase(input: $input) {
  case { id number status currentStages { code } tasks { id stage { code } post { code } dueAt } }
  errors { code message path } } }"""
MY_TASKS = "{ myTasks { totalCount nodes { id status stage { code } post { code } dueAt case { number } } } }"
CLAIM = "mutation($id: ID!) { claimTask(id: $id) { task { status assignee { username } } errors { code message } } }"
COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) {
  task { status outcome } case { status version currentStages { code } }
  errors { code message path } } }"""
CASE = """query($id: ID!) { case(id: $id) { status completedAt customer { number name capacity
  meters { assetNo ctRatio ptRatio multiplier startReading } contracts { type } }
  tasks { stage { code } status assignee { username } }
  events { seq action actor hash } } }"""


async def define(api: Api, db: Database) -> None:
    for item in ITEMS:
        assert (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]["errors"] == []
    for code, (name, days) in STAGES.items():
        stage = {"code": code, "name": name, "timeLimit": {"amount": days, "unit": "WORKING_DAYS"}}
        assert (await api.data(UPSERT_STAGE, {"input": stage}))["upsertStage"]["errors"] == []
    for code, name in POSTS.items():
        assert (await api.data(UPSERT_POST, {"input": {"code": code, "name": name}}))["upsertPost"][
            "errors"
        ] == []
    for code, parent in [
        ("province", None),
        ("city", "province"),
        ("county_a", "city"),
        ("county_b", "city"),
    ]:
        result = await api.data(
            UPSERT_ORG, {"input": {"code": code, "name": code, "parent": parent}}
        )
        assert result["upsertOrgUnit"]["errors"] == []
    saved = await api.data(SAVE_DRAFT, {"input": DRAFT})
    problems = saved["saveBusinessTypeDraft"]["problems"]
    assert [p["code"] for p in problems] == ["NO_RESPONSIBLE_POST"] * len(
        STAGES
    )  # not routable yet
    for stage_code, post in RESPONSIBLE.items():
        assert (await api.data(ASSIGN, {"input": {"stage": stage_code, "post": post}}))[
            "assignResponsibility"
        ]["errors"] == []
    published = await api.data(PUBLISH, {"code": "hv_double"})
    assert published["publishBusinessType"]["errors"] == [], published
    people = [
        ("alice", "acceptor", "county_a"),
        ("bob", "surveyor", "county_a"),
        ("carol", "surveyor", "county_b"),
        ("dan", "designer", "city"),
        ("erin", "grid_engineer", "county_a"),
        ("fay", "inspector", "county_a"),
        ("gus", "metering", "county_a"),
    ]
    for username, post, unit in people:
        unit_id = await _unit_id(db, unit)
        await add_user(db, username, ["STAFF"], org_unit_id=unit_id, posts=[post])


async def _unit_id(db: Database, code: str) -> int:
    from database import metadata_repo

    async with db.read() as session:
        unit = await metadata_repo.get_org_unit(session, code)
    assert unit is not None
    return unit.id


async def my_tasks(api: Api, user: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = (await api.data(MY_TASKS, as_user=user))["myTasks"]["nodes"]
    return nodes


async def complete(
    api: Api, user: str, task_id: str, outcome: str = "APPROVE", **data: Any
) -> dict[str, Any]:
    result = await api.data(
        COMPLETE, {"input": {"taskId": task_id, "outcome": outcome, "data": data}}, as_user=user
    )
    payload: dict[str, Any] = result["completeTask"]
    return payload


async def only_task(api: Api, user: str, stage: str) -> str:
    tasks = await my_tasks(api, user)
    assert [t["stage"]["code"] for t in tasks] == [stage], tasks
    task_id: str = tasks[0]["id"]
    return task_id


async def test_a_case_runs_from_acceptance_to_archive(api: Api, db: Database, clock: Clock) -> None:
    # 2026-09-30 is the Wednesday before National Day: Oct 1-7 are off, Saturday Oct 10 is worked.
    clock.set(dt.datetime(2026, 9, 30, 10, 0, tzinfo=CST))
    await define(api, db)
    created = await api.data(
        CREATE,
        {
            "input": {
                "orgUnit": "county_a",
                "submit": True,
                "data": {
                    "customerName": "某化工厂",
                    "idNumber": VALID_ID,
                    "supplyAddress": "工业园区1号",
                },
            }
        },
        as_user="alice",
    )
    payload = created["createHvDoubleCase"]
    assert payload["errors"] == []
    case = payload["case"]
    [task] = case["tasks"]
    assert task["post"] == {"code": "acceptor"}
    # 3 working days from Wed 10:00: Thu Oct 8, Fri Oct 9 and Sat Oct 10 (make-up) -> Sat 10:00.
    assert dt.datetime.fromisoformat(task["dueAt"]) == dt.datetime(2026, 10, 10, 10, 0, tzinfo=CST)

    assert await my_tasks(api, "bob") == []  # surveyors see nothing yet
    refused = await api.data(CLAIM, {"id": task["id"]}, as_user="bob")
    assert [e["code"] for e in refused["claimTask"]["errors"]] == ["FORBIDDEN"]

    accept = await only_task(api, "alice", "accept")
    assert (await complete(api, "alice", accept))["errors"] == []

    clock.set(dt.datetime(2026, 10, 8, 9, 0, tzinfo=CST))
    survey = await only_task(api, "bob", "survey")
    assert await my_tasks(api, "carol") == []  # a surveyor of another county
    refused = await api.data(CLAIM, {"id": survey}, as_user="carol")
    assert [e["code"] for e in refused["claimTask"]["errors"]] == ["FORBIDDEN"]

    # Missing required items are all reported; nothing moves.
    missing = await complete(api, "bob", survey)
    assert {tuple(e["path"]) for e in missing["errors"]} == {
        ("input", "data", "capacityKva"),
        ("input", "data", "surveyOpinion"),
    }
    assert (await only_task(api, "bob", "survey")) == survey

    # RETURN sends it back to acceptance as a new task.
    returned = await complete(api, "bob", survey, "RETURN", surveyOpinion="资料不全")
    assert returned["errors"] == [] and returned["case"]["currentStages"] == [{"code": "accept"}]
    again = await only_task(api, "alice", "accept")
    assert again != accept
    assert (await complete(api, "alice", again))["errors"] == []

    # 630 kVA > 160: the condition takes the parallel split.
    survey = await only_task(api, "bob", "survey")
    split = await complete(api, "bob", survey, capacityKva="630", surveyOpinion="同意")
    assert split["errors"] == []
    assert sorted(s["code"] for s in split["case"]["currentStages"]) == [
        "design_review",
        "grid_works",
    ]

    design = await only_task(api, "dan", "design_review")  # dan works for the city, above county_a
    joined = await complete(api, "dan", design)
    assert joined["case"]["currentStages"] == [{"code": "grid_works"}]  # the join waits
    assert await my_tasks(api, "fay") == []

    works = await only_task(api, "erin", "grid_works")
    assert (await complete(api, "erin", works))["case"]["currentStages"] == [{"code": "inspection"}]

    inspection = await only_task(api, "fay", "inspection")
    assert (await complete(api, "fay", inspection))["errors"] == []

    connect = await only_task(api, "gus", "connect")
    not_editable = await complete(api, "gus", connect, surveyOpinion="改")
    assert [e["code"] for e in not_editable["errors"]] == ["VALIDATION"]
    done = await complete(
        api,
        "gus",
        connect,
        meterAssetNo="3330001234",
        ctRatio="200/5",
        ptRatio="10000/100",
        startReading="0",
    )
    assert done["errors"] == [] and done["case"]["status"] == "COMPLETED"

    final = (await api.data(CASE, {"id": case["id"]}))["case"]
    assert final["status"] == "COMPLETED" and final["completedAt"]
    customer = final["customer"]
    assert customer["name"] == "某化工厂" and customer["capacity"] == "630"
    assert customer["meters"] == [
        {
            "assetNo": "3330001234",
            "ctRatio": "200/5",
            "ptRatio": "10000/100",
            "multiplier": "4000",
            "startReading": "0",
        }
    ]
    assert customer["contracts"] == [{"type": "LOW_VOLTAGE"}]
    assert [t["stage"]["code"] for t in final["tasks"]] == [
        "accept",
        "survey",
        "accept",
        "survey",
        "design_review",
        "grid_works",
        "inspection",
        "connect",
    ]
    assert all(t["status"] == "DONE" for t in final["tasks"])
    actions = [e["action"] for e in final["events"]]
    for expected in [
        "CREATED",
        "SUBMITTED",
        "TASK_CREATED",
        "STAGE_COMPLETED",
        "TRANSITION",
        "JOIN_WAITING",
        "CASE_COMPLETED",
        "EFFECT",
    ]:
        assert expected in actions
    assert [e["seq"] for e in final["events"]] == list(range(1, len(actions) + 1))
    looked_up = await api.data(
        "query($n: String!) { customer(number: $n) { number cases } }", {"n": customer["number"]}
    )
    assert looked_up["customer"]["cases"] == [payload["case"]["number"]]


async def test_small_capacity_skips_the_parallel_works(api: Api, db: Database) -> None:
    await define(api, db)
    created = await api.data(
        CREATE,
        {
            "input": {
                "orgUnit": "county_a",
                "submit": True,
                "data": {"customerName": "小店", "idNumber": VALID_ID},
            }
        },
        as_user="alice",
    )
    assert created["createHvDoubleCase"]["errors"] == []
    await complete(api, "alice", await only_task(api, "alice", "accept"))
    moved = await complete(
        api, "bob", await only_task(api, "bob", "survey"), capacityKva="100", surveyOpinion="同意"
    )
    assert moved["case"]["currentStages"] == [{"code": "connect"}]


async def test_a_stage_nobody_answers_for_lands_in_the_unassigned_queue(
    api: Api, db: Database
) -> None:
    await define(api, db)
    # End every responsibility: acceptance of a new case then has nobody to go to.
    async with db.transaction() as session:
        ended = await session.execute(
            update(ResponsibilityRow)
            .where(ResponsibilityRow.effective_to.is_(None))
            .values(effective_to=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        )
        assert ended.rowcount == len(RESPONSIBLE)  # type: ignore[attr-defined]
    await add_user(db, "mia", ["MANAGER"], org_unit_id=await _unit_id(db, "city"))
    created = await api.data(
        CREATE,
        {
            "input": {
                "orgUnit": "county_a",
                "submit": True,
                "data": {"customerName": "无人", "idNumber": VALID_ID},
            }
        },
        as_user="admin",
    )
    [task] = created["createHvDoubleCase"]["case"]["tasks"]
    assert task["post"] is None
    queue = await api.data(
        "{ tasks(where: {unassigned: true}) { totalCount nodes { id } } }", as_user="mia"
    )
    assert queue["tasks"]["totalCount"] == 1
    assert await my_tasks(api, "alice") == []
    assigned = await api.data(
        'mutation($id: ID!) { assignTask(id: $id, username: "alice") { task { status assignee { username } } errors { code message } } }',
        {"id": task["id"]},
        as_user="mia",
    )
    assert assigned["assignTask"]["task"] == {
        "status": "CLAIMED",
        "assignee": {"username": "alice"},
    }
    assert (await complete(api, "alice", task["id"]))["errors"] == []
