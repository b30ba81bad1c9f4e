"""Rules on the data and computed items through the API, on both databases.

三零 (zero_new) takes up to 160 kW: a 200 kW application is refused at create with the rule's
message and the capacity's path; above 100 kW it is accepted with a warning. From 方案答复
(reply) on, a low-voltage case may take at most 50 kW. The plan's validity is computed from the
reply date: a year for high voltage, three months for low.
"""

from __future__ import annotations

import copy
from typing import Any

from database.session import Database
from tests.api.conftest import Api, add_user
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, UPSERT_ITEM, define_basics
from tests.api.test_engine_flow import only_task
from tests.api.test_history import verify
from tests.api.test_scope_visibility import VALID_ID, unit_id

ITEMS: list[dict[str, Any]] = [
    {"code": "capacity_kw", "label": "申请容量（kW）", "type": "DECIMAL", "unit": "kW", "scale": 1},
    {
        "code": "supply_voltage",
        "label": "供电电压",
        "type": "ENUM",
        "options": [{"value": "LOW", "label": "低压"}, {"value": "HIGH", "label": "高压"}],
    },
    {"code": "reply_date", "label": "答复日期", "type": "DATE"},
    {"code": "plan_valid_until", "label": "方案有效期至", "type": "DATE", "indexed": True},
]
CAP = "三零 applies up to 160 kW of capacity_kw"
WARN = "above 100 kW: check the transformer's spare capacity"
LOW = "a low-voltage supply takes at most 50 kW once the plan is answered"
TINY = "a connection takes at least 1 kW"
PLAN = 'add_months(reply_date, 12 if supply_voltage == "HIGH" else 3)'
ZERO: dict[str, Any] = {
    **copy.deepcopy(DRAFT),
    "code": "zero_new",
    "name": "三零低压新装",
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "id_number"},
        {"item": "capacity_kw", "requiredAt": ["accept"]},
        {"item": "supply_voltage", "requiredAt": ["accept"]},
        {"item": "reply_date", "editableAt": ["reply"], "requiredAt": ["reply"]},
        {"item": "plan_valid_until", "compute": PLAN},
    ],
    "stages": [{"stage": "accept"}, {"stage": "survey"}, {"stage": "reply"}, {"stage": "connect"}],
    "transitions": [
        {"from": "accept", "to": ["survey"]},
        {"from": "survey", "to": ["reply"]},
        {"from": "reply", "to": ["connect"]},
    ],
    "rules": [
        {"code": "zero_limit", "condition": "capacity_kw <= 160", "message": CAP},
        {
            "code": "spare_capacity",
            "condition": "capacity_kw <= 100",
            "message": WARN,
            "severity": "WARNING",
        },
        {
            "code": "low_voltage_limit",
            "condition": 'supply_voltage == "HIGH" or capacity_kw <= 50',
            "message": LOW,
            "fromStage": "reply",
        },
        {
            "code": "some_capacity",
            "condition": "capacity_kw >= 1",
            "message": TINY,
            "fromStage": "accept",
        },
    ],
}
ERRORS = "errors { code message path } warnings { code message path }"
CREATE = f"""mutation($input: CreateZeroNewCaseInput!) {{ createZeroNewCase(input: $input) {{
  case {{ id version ... on ZeroNewCase {{ data {{ capacityKw planValidUntil }} }} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: UpdateZeroNewCaseDataInput!) {{ updateZeroNewCaseData(input: $input) {{
  case {{ version ... on ZeroNewCase {{ data {{ supplyVoltage planValidUntil }} }} }} {ERRORS} }} }}"""
COMPLETE = f"""mutation($input: CompleteTaskInput!) {{ completeTask(input: $input) {{
  case {{ version currentStages {{ code }} }} {ERRORS} }} }}"""
READ = """query($id: ID!) { case(id: $id) { status version ... on ZeroNewCase {
  data { planValidUntil } } events { action data } } }"""
LIST = """query($where: ZeroNewWhere) { zeroNewCases(where: $where) { totalCount } }"""
SUBMIT = (
    """mutation($id: ID!) { submitCase(id: $id) { case { status } errors { message path } } }"""
)
DEFINITION = """{ businessType(code: "zero_new") { draft { rules { code fromStage severity }
  items { item compute } } } }"""


async def define(api: Api, db: Database) -> None:
    await define_basics(api)
    for item in ITEMS:
        assert (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]["errors"] == []
    saved = (await api.data(SAVE_DRAFT, {"input": ZERO}))["saveBusinessTypeDraft"]
    assert saved["errors"] == [] and saved["problems"] == [], saved
    published = (await api.data(PUBLISH, {"code": "zero_new"}))["publishBusinessType"]
    assert published["errors"] == [] and published["problems"] == [], published
    await api.refresh_schema()
    county = await unit_id(db, "county")
    await add_user(db, "acc", ["STAFF"], org_unit_id=county, posts=["acceptor"])
    await add_user(db, "sur", ["STAFF"], org_unit_id=county, posts=["surveyor"])


async def create(api: Api, *, submit: bool = True, **data: Any) -> dict[str, Any]:
    given = {"customerName": "某小微企业", "idNumber": VALID_ID, **data}
    variables = {"input": {"orgUnit": "county", "submit": submit, "data": given}}
    result: dict[str, Any] = (await api.data(CREATE, variables, as_user="acc"))["createZeroNewCase"]
    return result


async def update(api: Api, case_id: str, version: int, **data: Any) -> dict[str, Any]:
    variables = {"input": {"id": case_id, "expectedVersion": version, "data": data}}
    result: dict[str, Any] = (await api.data(UPDATE, variables, as_user="acc"))[
        "updateZeroNewCaseData"
    ]
    return result


async def complete(api: Api, user: str, stage: str, **data: Any) -> dict[str, Any]:
    task = await only_task(api, user, stage)
    variables = {"input": {"taskId": task, "outcome": "APPROVE", "data": data}}
    result: dict[str, Any] = (await api.data(COMPLETE, variables, as_user=user))["completeTask"]
    return result


async def test_the_rules_and_the_computed_item_are_part_of_the_definition(
    api: Api, db: Database
) -> None:
    await define(api, db)
    draft = (await api.data(DEFINITION))["businessType"]["draft"]
    assert draft["rules"] == [
        {"code": "zero_limit", "fromStage": None, "severity": "ERROR"},
        {"code": "spare_capacity", "fromStage": None, "severity": "WARNING"},
        {"code": "low_voltage_limit", "fromStage": "reply", "severity": "ERROR"},
        {"code": "some_capacity", "fromStage": "accept", "severity": "ERROR"},
    ]
    assert {"item": "plan_valid_until", "compute": PLAN} in draft["items"]
    broken = copy.deepcopy(ZERO)
    broken["rules"][0]["condition"] = "capacity_kw + 1"
    broken["items"][-1]["compute"] = "capacity_kw"
    saved = (await api.data(SAVE_DRAFT, {"input": broken}))["saveBusinessTypeDraft"]
    assert [(p["code"], p["path"]) for p in saved["problems"]] == [
        ("BAD_EXPRESSION", ["rules", "0", "condition"]),
        ("BAD_EXPRESSION", ["items", "5", "compute"]),
    ], saved


async def test_a_200_kw_application_is_refused_and_150_kw_accepted_with_a_warning(
    api: Api, db: Database
) -> None:
    await define(api, db)
    refused = await create(api, capacityKw="200", supplyVoltage="LOW")
    assert refused["case"] is None
    assert refused["errors"] == [
        {"code": "VALIDATION", "message": CAP, "path": ["input", "data", "capacityKw"]}
    ]
    assert (await api.data(LIST, {"where": None}))["zeroNewCases"]["totalCount"] == 0
    accepted = await create(api, capacityKw="150", supplyVoltage="LOW")
    assert accepted["errors"] == []
    assert accepted["warnings"] == [
        {"code": "VALIDATION", "message": WARN, "path": ["input", "data", "capacityKw"]}
    ]
    quiet = await create(api, capacityKw="80", supplyVoltage="LOW")
    assert quiet["errors"] == [] and quiet["warnings"] == []
    # Saving data: the warning comes back while the rule fails, and the ERROR refuses.
    case_id, version = quiet["case"]["id"], quiet["case"]["version"]
    warned = await update(api, case_id, version, capacityKw="120")
    assert [w["message"] for w in warned["warnings"]] == [WARN] and warned["errors"] == []
    too_much = await update(api, case_id, warned["case"]["version"], capacityKw="161")
    assert [(e["message"], e["path"][-1]) for e in too_much["errors"]] == [(CAP, "capacityKw")]


async def test_a_rule_from_a_later_stage_and_the_computed_plan_validity(
    api: Api, db: Database
) -> None:
    await define(api, db)
    # A computed item is refused in every input.
    written = await create(api, capacityKw="80", supplyVoltage="LOW", planValidUntil="2030-01-01")
    assert [(e["code"], e["path"]) for e in written["errors"]] == [
        ("VALIDATION", ["input", "data", "planValidUntil"])
    ]
    assert "computed from" in written["errors"][0]["message"]
    created = await create(api, capacityKw="80", supplyVoltage="LOW")
    case_id = created["case"]["id"]
    assert created["errors"] == [] and created["case"]["data"]["planValidUntil"] is None
    # 80 kW at low voltage is fine before 方案答复 ...
    assert (await complete(api, "acc", "accept"))["errors"] == []
    # ... and refused by the command that would enter it.
    refused = await complete(api, "sur", "survey")
    assert [(e["code"], e["message"], e["path"]) for e in refused["errors"]] == [
        ("VALIDATION", LOW, ["input", "data", "capacityKw"]),
        ("VALIDATION", LOW, ["input", "data", "supplyVoltage"]),
    ]
    moved = await complete(api, "sur", "survey", capacity_kw="40")
    assert moved["errors"] == [] and moved["case"]["currentStages"] == [{"code": "reply"}]
    computed = await complete(api, "acc", "reply", plan_valid_until="2030-01-01")
    assert [e["path"] for e in computed["errors"]] == [["input", "data", "planValidUntil"]]
    replied = await complete(api, "acc", "reply", reply_date="2026-11-30")
    assert replied["errors"] == []
    read = (await api.data(READ, {"id": case_id}))["case"]
    assert read["data"]["planValidUntil"] == "2027-02-28"  # three months, to the month's end
    written_event = [e for e in read["events"] if e["action"] == "DATA_WRITTEN"][-1]
    assert written_event["data"]["changes"]["plan_valid_until"] == "2027-02-28"
    # Changing what it is computed from recomputes it; the rule from the reply now holds.
    high = await update(api, case_id, read["version"], supplyVoltage="HIGH")
    assert high["errors"] == [] and high["case"]["data"]["planValidUntil"] == "2027-11-30"
    low = await update(api, case_id, high["case"]["version"], supplyVoltage="LOW", capacityKw="60")
    assert [e["message"] for e in low["errors"]] == [LOW, LOW]
    # Stored like any item: a filter finds it.
    found = {"data": {"planValidUntil": {"eq": "2027-11-30"}}}
    assert (await api.data(LIST, {"where": found}))["zeroNewCases"]["totalCount"] == 1
    missed = {"data": {"planValidUntil": {"eq": "2027-02-28"}}}
    assert (await api.data(LIST, {"where": missed}))["zeroNewCases"]["totalCount"] == 0
    assert (await complete(api, "sur", "connect"))["errors"] == []
    checked = await verify(api, int(case_id))
    assert checked["valid"] is True, checked


async def test_a_rule_from_the_start_stage_waits_for_the_draft_to_be_submitted(
    api: Api, db: Database
) -> None:
    await define(api, db)
    draft = await create(api, submit=False, capacityKw="0.5", supplyVoltage="LOW")
    assert draft["errors"] == [] and draft["warnings"] == []
    case_id = draft["case"]["id"]
    refused = (await api.data(SUBMIT, {"id": case_id}, as_user="acc"))["submitCase"]
    assert refused == {
        "case": None,
        "errors": [{"message": TINY, "path": ["input", "data", "capacityKw"]}],
    }
    assert (await update(api, case_id, draft["case"]["version"], capacityKw="2"))["errors"] == []
    submitted = (await api.data(SUBMIT, {"id": case_id}, as_user="acc"))["submitCase"]
    assert submitted == {"case": {"status": "IN_PROGRESS"}, "errors": []}
    # Submitted at once, the same rule refuses the create.
    at_once = await create(api, capacityKw="0.5", supplyVoltage="LOW")
    assert [e["message"] for e in at_once["errors"]] == [TINY]
