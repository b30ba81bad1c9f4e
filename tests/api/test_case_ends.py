"""Ends as outcomes through the API: a refused application ends REJECTED, a withdrawn one
WITHDRAWN, with every task closed, nothing archived, the reason told to the applicant, and the
new statuses in lists and statistics; publishing refuses ends a case could not run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from database.archive_tables import CustomerRow
from database.session import Database
from tests.api.conftest import Api
from tests.api.setup_metamodel import ASSIGN, PUBLISH, SAVE_DRAFT, UPSERT_ITEM, UPSERT_STAGE
from tests.api.test_engine_flow import DRAFT, VALID_ID, complete, define

END_ITEMS: list[dict[str, Any]] = [
    {
        "code": "reject_reason",
        "label": "不予受理原因",
        "type": "ENUM",
        "options": [
            {"value": "NO_CAPACITY", "label": "不具备供电条件"},
            {"value": "INCOMPLETE", "label": "申请资料不全"},
        ],
    },
    {"code": "withdraw_note", "label": "撤销说明", "type": "TEXT"},
]
END_STAGES = {"refusal": "不予受理告知", "withdrawal": "客户撤销登记"}

ENDING: dict[str, Any] = {
    **DRAFT,
    "code": "hv_refusable",
    "name": "高压新装（可不予受理）",
    "items": [
        *DRAFT["items"],
        # Kept to the acceptor's post: the applicant is told it all the same.
        {"item": "reject_reason", "editableAt": ["accept", "refusal"], "visibleTo": ["acceptor"]},
        {"item": "withdraw_note"},
    ],
    "stages": [
        {"stage": "accept", "outcomes": ["APPROVE", "REJECT"]},
        *[s for s in DRAFT["stages"] if s["stage"] not in ("accept", "grid_works")],
        {"stage": "grid_works", "outcomes": ["APPROVE", "WITHDRAW"]},
        {"stage": "refusal", "end": "REJECTED", "reason": "reject_reason"},
        {"stage": "withdrawal", "end": "WITHDRAWN", "reason": "withdraw_note"},
    ],
    "transitions": [
        *DRAFT["transitions"],
        {"from": "accept", "outcome": "REJECT", "to": ["refusal"]},
        {"from": "grid_works", "outcome": "WITHDRAW", "to": ["withdrawal"]},
    ],
}
"""高压双电源新装 that acceptance may refuse (不予受理) and whose grid works may record the
customer's withdrawal while the design review, in parallel, is still open."""

CREATE = """mutation($input: CreateHvRefusableCaseInput!) { createHvRefusableCase(input: $input) {
  case { id number } accessCode errors { code message path } } }"""
CASE = """query($id: ID!) { case(id: $id) { status completedAt isOverdue currentStages { code }
  customer { number } tasks { id stage { code } status outcome }
  events { action data } } }"""
DEFINITION = """query { businessType(code: "hv_refusable") { diagram
  versions { definition { stages { stage end reason } } } } }"""
PROGRESS = """query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) {
  status completedAt reason stages { code status } } }"""
VERIFY = "query($id: ID!) { verifyCaseHistory(id: $id) { valid brokenAtSeq } }"
LIST = (
    """query($where: CaseWhere) { cases(where: $where) { totalCount nodes { number status } } }"""
)
STATISTICS = """query($where: CaseWhere) { caseStatistics(where: $where, groupBy: [STATUS]) {
  keys count open completed cancelled rejected withdrawn onTimeRate avgWorkingDays } }"""
CANCEL = """mutation($id: ID!) { cancelCase(id: $id, reason: "重复申请") {
  errors { code message } } }"""


async def define_ending(api: Api, db: Database) -> None:
    """The shared engine metamodel and people, then the type with its two refusing ends."""
    await define(api, db)
    for item in END_ITEMS:
        assert (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]["errors"] == []
    for code, name in END_STAGES.items():
        upserted = await api.data(UPSERT_STAGE, {"input": {"code": code, "name": name}})
        assert upserted["upsertStage"]["errors"] == []
        assigned = await api.data(ASSIGN, {"input": {"stage": code, "post": "acceptor"}})
        assert assigned["assignResponsibility"]["errors"] == []
    saved = (await api.data(SAVE_DRAFT, {"input": ENDING}))["saveBusinessTypeDraft"]
    assert saved["errors"] == [] and saved["problems"] == []
    published = (await api.data(PUBLISH, {"code": "hv_refusable"}))["publishBusinessType"]
    assert published["errors"] == [] and published["problems"] == [], published


async def open_case(api: Api, capacity: str = "630") -> dict[str, Any]:
    data = {"customerName": "某化工厂", "idNumber": VALID_ID, "capacityKva": capacity}
    created = await api.data(
        CREATE, {"input": {"orgUnit": "county_a", "submit": True, "data": data}}, as_user="alice"
    )
    payload: dict[str, Any] = created["createHvRefusableCase"]
    assert payload["errors"] == []
    return payload


async def case_of(api: Api, case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(CASE, {"id": case_id}))["case"]
    return found


async def open_task(api: Api, case_id: str, stage: str) -> str:
    tasks = (await case_of(api, case_id))["tasks"]
    [task] = [
        t for t in tasks if t["stage"]["code"] == stage and t["status"] in ("OPEN", "CLAIMED")
    ]
    task_id: str = task["id"]
    return task_id


async def customers(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(CustomerRow)) or 0)


async def progress(api: Api, created: dict[str, Any]) -> dict[str, Any]:
    variables = {"n": created["case"]["number"], "c": created["accessCode"]}
    seen: dict[str, Any] = (await api.data(PROGRESS, variables, as_user=None))["caseProgress"]
    return seen


async def reject(api: Api) -> dict[str, Any]:
    """A case refused at acceptance: REJECT, then the refusal notice completed with its reason."""
    created = await open_case(api)
    case_id = created["case"]["id"]
    refused = await complete(api, "alice", await open_task(api, case_id, "accept"), "REJECT")
    assert refused["errors"] == [] and refused["case"]["currentStages"] == [{"code": "refusal"}]
    notice = await open_task(api, case_id, "refusal")
    missing = await complete(api, "alice", notice)
    assert [(e["code"], e["path"]) for e in missing["errors"]] == [
        ("REQUIRED", ["input", "data", "rejectReason"])
    ]
    ended = await complete(api, "alice", notice, rejectReason="NO_CAPACITY")
    assert ended["errors"] == [], ended
    assert ended["case"]["status"] == "REJECTED" and ended["task"]["status"] == "DONE"
    return created


async def withdraw(api: Api) -> dict[str, Any]:
    """A case withdrawn during grid works while the design review, in parallel, is open."""
    created = await open_case(api)
    case_id = created["case"]["id"]
    assert (await complete(api, "alice", await open_task(api, case_id, "accept")))["errors"] == []
    survey = await open_task(api, case_id, "survey")
    split = await complete(api, "bob", survey, surveyOpinion="具备供电条件")
    assert sorted(s["code"] for s in split["case"]["currentStages"]) == [
        "design_review",
        "grid_works",
    ]
    works = await open_task(api, case_id, "grid_works")
    withdrawn = await complete(api, "erin", works, "WITHDRAW")
    assert sorted(s["code"] for s in withdrawn["case"]["currentStages"]) == [
        "design_review",
        "withdrawal",
    ]
    registered = await complete(
        api, "alice", await open_task(api, case_id, "withdrawal"), withdrawNote="客户项目取消"
    )
    assert registered["errors"] == [] and registered["case"]["status"] == "WITHDRAWN"
    assert registered["case"]["currentStages"] == []
    return created


async def test_a_refused_application_ends_rejected_with_nothing_archived(
    api: Api, db: Database
) -> None:
    await define_ending(api, db)
    before = await customers(db)
    created = await reject(api)
    case = await case_of(api, created["case"]["id"])

    assert case["status"] == "REJECTED" and case["completedAt"] and not case["isOverdue"]
    assert case["customer"] is None and await customers(db) == before
    assert case["currentStages"] == []
    assert [(t["stage"]["code"], t["status"], t["outcome"]) for t in case["tasks"]] == [
        ("accept", "DONE", "REJECT"),
        ("refusal", "DONE", "APPROVE"),
    ]
    actions = [e["action"] for e in case["events"]]
    assert "CASE_ENDED" in actions and "CASE_COMPLETED" not in actions
    assert "ARCHIVED" not in actions and "EFFECT" not in actions
    [ended] = [e for e in case["events"] if e["action"] == "CASE_ENDED"]
    assert ended["data"] == {"end": "REJECTED", "stage": "refusal", "visit": 1}

    seen = await progress(api, created)
    assert seen["status"] == "REJECTED" and seen["completedAt"] == case["completedAt"]
    assert seen["reason"] == "不具备供电条件"  # the option's label, though kept to acceptors
    assert seen["stages"] == [
        {"code": "accept", "status": "DONE"},
        {"code": "refusal", "status": "DONE"},
    ]

    check = await api.data(VERIFY, {"id": created["case"]["id"]})
    assert check["verifyCaseHistory"] == {"valid": True, "brokenAtSeq": None}
    cancelled = await api.data(CANCEL, {"id": created["case"]["id"]})
    assert [e["code"] for e in cancelled["cancelCase"]["errors"]] == ["INVALID_TRANSITION"]


async def test_a_withdrawal_in_one_branch_ends_the_whole_case(api: Api, db: Database) -> None:
    await define_ending(api, db)
    before = await customers(db)
    created = await withdraw(api)
    case = await case_of(api, created["case"]["id"])

    assert case["status"] == "WITHDRAWN" and case["completedAt"]
    assert case["customer"] is None and await customers(db) == before
    assert [(t["stage"]["code"], t["status"]) for t in case["tasks"]] == [
        ("accept", "DONE"),
        ("survey", "DONE"),
        ("design_review", "CANCELLED"),
        ("grid_works", "DONE"),
        ("withdrawal", "DONE"),
    ]
    assert [e["action"] for e in case["events"]][-3:] == [
        "STAGE_COMPLETED",
        "BRANCH_CANCELLED",
        "CASE_ENDED",
    ]
    left = await api.data("{ myTasks { totalCount } }", as_user="dan")
    assert left == {"myTasks": {"totalCount": 0}}  # the design reviewer has nothing left to do

    seen = await progress(api, created)
    assert seen["status"] == "WITHDRAWN" and seen["reason"] == "客户项目取消"
    assert {s["code"]: s["status"] for s in seen["stages"]}["design_review"] == "CANCELLED"
    check = await api.data(VERIFY, {"id": created["case"]["id"]})
    assert check["verifyCaseHistory"] == {"valid": True, "brokenAtSeq": None}


async def test_lists_and_statistics_know_the_new_ends(api: Api, db: Database) -> None:
    await define_ending(api, db)
    rejected, withdrawn, still_open = await reject(api), await withdraw(api), await open_case(api)
    numbers = {c["case"]["number"]: c for c in (rejected, withdrawn, still_open)}

    async def listed(where: dict[str, Any]) -> set[tuple[str, str]]:
        found = (await api.data(LIST, {"where": where}))["cases"]
        assert found["totalCount"] == len(found["nodes"])
        return {(n["number"], n["status"]) for n in found["nodes"] if n["number"] in numbers}

    assert await listed({"status": {"eq": "REJECTED"}}) == {
        (rejected["case"]["number"], "REJECTED")
    }
    assert await listed({"status": {"in": ["WITHDRAWN", "REJECTED"]}}) == {
        (rejected["case"]["number"], "REJECTED"),
        (withdrawn["case"]["number"], "WITHDRAWN"),
    }
    assert await listed({"status": {"notIn": ["REJECTED", "WITHDRAWN"]}}) == {
        (still_open["case"]["number"], "IN_PROGRESS")
    }

    where = {"businessType": {"eq": "hv_refusable"}}
    groups = (await api.data(STATISTICS, {"where": where}))["caseStatistics"]
    by_status = {tuple(g["keys"]): g for g in groups}
    assert set(by_status) == {("IN_PROGRESS",), ("REJECTED",), ("WITHDRAWN",)}
    assert by_status[("REJECTED",)] | {"keys": None} == {
        "keys": None,
        "count": 1,
        "open": 0,
        "completed": 0,
        "cancelled": 0,
        "rejected": 1,
        "withdrawn": 0,
        "onTimeRate": None,  # only COMPLETED cases are judged on time
        "avgWorkingDays": None,
    }
    assert (by_status[("WITHDRAWN",)]["withdrawn"], by_status[("WITHDRAWN",)]["open"]) == (1, 0)
    assert by_status[("IN_PROGRESS",)]["open"] == 1
    assert sum(g["rejected"] + g["withdrawn"] for g in groups) == 2


async def test_the_definition_shows_its_ends(api: Api, db: Database) -> None:
    await define_ending(api, db)
    found = (await api.data(DEFINITION))["businessType"]
    [version] = found["versions"]
    ends = {s["stage"]: (s["end"], s["reason"]) for s in version["definition"]["stages"]}
    assert ends["refusal"] == ("REJECTED", "reject_reason")
    assert ends["withdrawal"] == ("WITHDRAWN", "withdraw_note")
    assert ends["connect"] == (None, None)
    assert "    class refusal rejected" in found["diagram"].splitlines()


async def test_publishing_refuses_ends_a_case_could_not_run(api: Api, db: Database) -> None:
    await define_ending(api, db)
    stages = [dict(s) for s in ENDING["stages"]]
    stages[0] = {**stages[0], "end": "COMPLETED"}  # accept has transitions
    stages[-2] = {"stage": "refusal", "end": "REJECTED"}  # no reason
    draft = {**ENDING, "stages": stages}
    saved = (await api.data(SAVE_DRAFT, {"input": draft}))["saveBusinessTypeDraft"]
    assert {(p["code"], tuple(p["path"])) for p in saved["problems"]} == {
        ("END_HAS_WAY_OUT", ("stages", "0", "end")),
        ("MISSING_REASON", ("stages", str(len(stages) - 2), "reason")),
    }
    published = (await api.data(PUBLISH, {"code": "hv_refusable"}))["publishBusinessType"]
    assert {p["code"] for p in published["problems"]} == {"END_HAS_WAY_OUT", "MISSING_REASON"}
    assert published["version"] is None
