"""The archive effects bench's workload: its business types and the cases it ends.

One-stage types (completing `accept` completes the case and applies its effects), shaped like
tests/api/test_archive_effects.py's and defined the same way a user would, through GraphQL as
ADMIN: data items (two LIST items), one stage, one post, an org unit tree, the responsibility,
then a draft and its publish per type. One STAFF user in the county holds the post.

- bench_estate (小区新装): CREATE_CUSTOMER for the estate, then CREATE_ACCOUNTS over the LIST
  item `new_accounts`: a household account with one meter per entry;
- bench_estate_plain: the same items with `effects: []`, the baseline of the same completion;
- bench_hv (高压新装, the NEW group's default effects): a customer with one meter and a
  HIGH_VOLTAGE contract, what the cases below name;
- bench_close (销户): CLOSE_ACCOUNT then TERMINATE_CONTRACT on the named customer;
- bench_merge (并户): MERGE_ACCOUNTS over the LIST item `merged_accounts` (and a `remark`: a
  type whose only items are LIST ones fails to publish, its generated order-by input empty);
- bench_named_plain: a CHANGE type naming a customer with `effects: []`, their baseline.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lifecycle_workload import (  # noqa: E402  (the repository root is put on the path first)
    ASSIGN,
    UPSERT_ITEM,
    UPSERT_ORG,
    UPSERT_POST,
    UPSERT_STAGE,
    Driver,
    _ok,
    save_and_publish,
)

UNIT = "county"
POST = "acceptor"
STAFF, STAFF_PASSWORD = "bench_clerk", "bench-clerk-password"

ITEMS: list[dict[str, Any]] = [
    {"code": "customer_name", "label": "户名", "type": "STRING"},
    {"code": "contract_capacity", "label": "合同容量", "type": "DECIMAL", "scale": 2},
    {
        "code": "voltage_level",
        "label": "电压等级",
        "type": "ENUM",
        "options": [{"value": "V380", "label": "380V"}, {"value": "KV10", "label": "10kV"}],
    },
    {"code": "meter_asset_no", "label": "电能表资产号", "type": "STRING"},
    {"code": "arrears_cleared", "label": "欠费已结清", "type": "BOOLEAN"},
    {"code": "final_reading", "label": "止码", "type": "DECIMAL"},
    {"code": "remark", "label": "备注", "type": "STRING"},
    {
        "code": "merged_accounts",
        "label": "并入户号",
        "type": "LIST",
        "fields": [
            {"code": "customer_number", "label": "户号", "type": "STRING", "required": True},
        ],
    },
    {
        "code": "new_accounts",
        "label": "分立户",
        "type": "LIST",
        "maxCount": 2000,
        "fields": [
            {"code": "name", "label": "户名", "type": "STRING"},
            {"code": "capacity", "label": "容量", "type": "DECIMAL"},
            {"code": "asset_no", "label": "资产号", "type": "STRING"},
        ],
    },
]
HV_ITEMS = ["customer_name", "contract_capacity", "voltage_level", "meter_asset_no"]
TYPES: list[dict[str, Any]] = [
    {
        "code": "bench_estate",
        "name": "小区新装(基准)",
        "group": "NEW",
        "items": ["customer_name", "new_accounts"],
        "effects": [
            {"kind": "CREATE_CUSTOMER"},
            {"kind": "CREATE_ACCOUNTS", "entries": "new_accounts"},
        ],
    },
    {
        "code": "bench_estate_plain",
        "name": "小区新装(无效果)",
        "group": "NEW",
        "items": ["customer_name", "new_accounts"],
        "effects": [],
    },
    {"code": "bench_hv", "name": "高压新装(基准)", "group": "NEW", "items": HV_ITEMS},
    {
        "code": "bench_close",
        "name": "销户(基准)",
        "group": "CHANGE",
        "items": ["arrears_cleared", "final_reading"],
        "effects": [{"kind": "CLOSE_ACCOUNT"}, {"kind": "TERMINATE_CONTRACT"}],
    },
    {
        "code": "bench_merge",
        "name": "并户(基准)",
        "group": "CHANGE",
        "items": ["merged_accounts", "remark"],
        "effects": [{"kind": "MERGE_ACCOUNTS", "entries": "merged_accounts"}],
    },
    {
        "code": "bench_named_plain",
        "name": "变更(无效果)",
        "group": "CHANGE",
        "items": ["arrears_cleared", "final_reading"],
        "effects": [],
    },
]
"""Each type: code, name, group, its items and its effects (absent: the group's defaults)."""

COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) {
  case { id status customerNumber } errors { code message path } } }"""
EFFECTS = "query($id: ID!) { case(id: $id) { events { action data } } }"


def create_mutation(code: str) -> str:
    """The generated create mutation of a type, answering what `finish` needs."""
    name = "".join(part.title() for part in code.split("_"))
    return f"""mutation($input: Create{name}CaseInput!) {{ create{name}Case(input: $input) {{
  case {{ id tasks {{ id }} }} errors {{ code message path }} }} }}"""


async def define(driver: Driver) -> None:
    """Items, the stage, the post, the org units, the responsibility, then every type."""
    for item in ITEMS:
        _ok((await driver.call(UPSERT_ITEM, {"input": item}))["upsertDataItem"], item["code"])
    stage = {"code": "accept", "name": "业务受理"}
    _ok((await driver.call(UPSERT_STAGE, {"input": stage}))["upsertStage"], "accept")
    post = {"code": POST, "name": "受理员"}
    _ok((await driver.call(UPSERT_POST, {"input": post}))["upsertPost"], POST)
    for code, name, parent in [("city", "市公司", None), (UNIT, "县公司", "city")]:
        unit = {"code": code, "name": name, "parent": parent}
        _ok((await driver.call(UPSERT_ORG, {"input": unit}))["upsertOrgUnit"], code)
    assignment = {"stage": "accept", "post": POST}
    _ok((await driver.call(ASSIGN, {"input": assignment}))["assignResponsibility"], "accept")
    for spec in TYPES:
        draft: dict[str, Any] = {
            "code": spec["code"],
            "name": spec["name"],
            "group": spec["group"],
            "items": [{"item": code} for code in spec["items"]],
            "stages": [{"stage": "accept"}],
            "start": "accept",
        }
        if "effects" in spec:
            draft["effects"] = spec["effects"]
        await save_and_publish(driver, draft)


async def open_case(
    driver: Driver, code: str, data: dict[str, Any], customer: str | None = None
) -> tuple[str, str]:
    """Create and submit a case of `code`; its id and its one open task's id."""
    value: dict[str, Any] = {"orgUnit": UNIT, "submit": True, "data": data}
    if customer is not None:
        value["customerNumber"] = customer
    payload = next(iter((await driver.call(create_mutation(code), {"input": value})).values()))
    _ok(payload, f"creating a {code} case")
    case = payload["case"]
    return case["id"], case["tasks"][0]["id"]


async def finish(driver: Driver, task: str, data: dict[str, Any]) -> dict[str, Any]:
    """completeTask on the case's one task, which ends it; the case as the payload says."""
    variables = {"input": {"taskId": task, "outcome": "APPROVE", "data": data}}
    payload = (await driver.call(COMPLETE, variables))["completeTask"]
    _ok(payload, "completing")
    case: dict[str, Any] = payload["case"]
    if case["status"] != "COMPLETED":
        raise RuntimeError(f"the case did not complete: {case}")
    return case


async def hv_customer(driver: Driver, tag: str) -> str:
    """A 10 kV customer with one meter and a HIGH_VOLTAGE contract (the default effects)."""
    data = {
        "customerName": f"某化工厂{tag}",
        "contractCapacity": "630",
        "voltageLevel": "KV10",
        "meterAssetNo": f"M-{tag}",
    }
    _, task = await open_case(driver, "bench_hv", data)
    number: str = (await finish(driver, task, {}))["customerNumber"]
    return number


def households(count: int, tag: str) -> dict[str, Any]:
    """An estate's data: its name and `count` households, each with a name and a meter."""
    entries = [{"name": f"{i + 1}号", "assetNo": f"H-{tag}-{i + 1:04d}"} for i in range(count)]
    return {"customerName": f"幸福小区{tag}", "newAccounts": entries}


async def effect_events(driver: Driver, case_id: str) -> list[dict[str, Any]]:
    """The data of the case's EFFECT events, in order (a check, outside what is measured)."""
    events = (await driver.call(EFFECTS, {"id": case_id}))["case"]["events"]
    return [e["data"] for e in events if e["action"] == "EFFECT"]
