"""Fees through the API: rules as metadata (type-checked, versioned, abolished ones kept), the
高可靠性供电费 assessed when 确定费用 is entered, the payment gate at 业务收费, payments that are
safe to retry, and waivers by a manager of the case's unit."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from database import metadata_repo
from database.fee_tables import PaymentRow
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
from tests.api.test_engine_flow import _unit_id, complete, my_tasks, only_task

CST = ZoneInfo("Asia/Shanghai")

HIGH_RELIABILITY_AMOUNT = (
    "contract_capacity * lookup("
    '{"KV10": {"OVERHEAD": 270.00, "CABLE": 330.00}, "KV35": {"OVERHEAD": 240.00, "CABLE": 290.00}}'
    ", voltage_level, supply_line)"
)
ITEMS: list[dict[str, Any]] = [
    {"code": "customer_name", "label": "户名", "type": "STRING"},
    {"code": "contract_capacity", "label": "合同容量", "type": "DECIMAL", "unit": "kVA"},
    {
        "code": "voltage_level",
        "label": "电压等级",
        "type": "ENUM",
        "options": [{"value": "KV10", "label": "10千伏"}, {"value": "KV35", "label": "35千伏"}],
    },
    {
        "code": "supply_line",
        "label": "供电线路",
        "type": "ENUM",
        "options": [{"value": "OVERHEAD", "label": "架空"}, {"value": "CABLE", "label": "电缆"}],
    },
    {"code": "power_source_count", "label": "电源数量", "type": "INTEGER", "min": "1"},
]
STAGES = {
    "accept": ("业务受理", 3),
    "fee_determination": ("确定费用", 2),
    "fee_collection": ("业务收费", 5),
    "connect": ("装表接电", 5),
}
RESPONSIBLE = {
    "accept": "acceptor",
    "fee_determination": "fee_clerk",
    "fee_collection": "cashier",
    "connect": "metering",
}
POSTS = {
    "acceptor": "受理员",
    "fee_clerk": "费用确定员",
    "cashier": "收费员",
    "metering": "装表接电员",
}
DRAFT: dict[str, Any] = {
    "code": "hv_double",
    "name": "高压双电源",
    "group": "NEW",
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "contract_capacity", "requiredAt": ["fee_determination"]},
        {"item": "voltage_level", "requiredAt": ["fee_determination"]},
        {"item": "supply_line"},
        {"item": "power_source_count", "requiredAt": ["accept"]},
    ],
    "stages": [
        {"stage": "accept"},
        {"stage": "fee_determination"},
        {"stage": "fee_collection", "requiresPayment": True},
        {"stage": "connect"},
    ],
    "transitions": [
        {"from": "accept", "to": ["fee_determination"]},
        {"from": "fee_determination", "to": ["fee_collection"]},
        {"from": "fee_collection", "to": ["connect"]},
    ],
    "start": "accept",
}
"""高压双电源: acceptance, 确定费用 (fees assessed on entry), 业务收费 (must be paid), 装表接电."""

PEOPLE = [
    ("alice", ["STAFF"], "county_a", ["acceptor"]),
    ("fred", ["STAFF"], "county_a", ["fee_clerk"]),
    ("cathy", ["STAFF"], "county_a", ["cashier"]),
    ("gus", ["STAFF"], "county_a", ["metering"]),
    ("mia", ["MANAGER"], "county_a", []),
    ("mike", ["MANAGER"], "city", []),
    ("max", ["MANAGER"], "county_b", []),
]

HIGH_RELIABILITY: dict[str, Any] = {
    "code": "high_reliability",
    "name": "高可靠性供电费",
    "businessTypes": ["hv_double"],
    "stage": "fee_determination",
    "condition": "power_source_count >= 2",
    "amount": HIGH_RELIABILITY_AMOUNT,
    "effectiveFrom": "2020-01-01",
}
TEMPORARY_CONNECTION: dict[str, Any] = {
    "code": "temporary_connection",
    "name": "临时接电费",
    "stage": "fee_determination",
    "amount": "contract_capacity * 50",
    "effectiveTo": "2017-12-01",
    "status": "ABOLISHED",
    "description": "abolished 2017-12-01",
}

RULE_FIELDS = """code name businessTypes stage condition amount effectiveFrom effectiveTo status
  description version"""
UPSERT_RULE = f"""mutation($input: UpsertFeeRuleInput!) {{ upsertFeeRule(input: $input) {{
  feeRule {{ {RULE_FIELDS} }} errors {{ code message path }} }} }}"""
FEE_RULES = f"{{ feeRules {{ {RULE_FIELDS} }} }}"
CREATE = """mutation($input: CreateHvDoubleCaseInput!) { createHvDoubleCase(input: $input) {
  case { id number status } accessCode errors { code message path } } }"""
FEE_FIELDS = "code name stage amount status ruleVersion inputs explanation settledAt waivedReason"
CASE = f"""query($id: ID!) {{ case(id: $id) {{ status version currentStages {{ code }}
  fees {{ {FEE_FIELDS} }}
  tasks {{ id stage {{ code }} status }}
  events {{ seq actor action data }} }} }}"""
PAY = f"""mutation($input: RecordPaymentInput!) {{ recordPayment(input: $input) {{
  fee {{ {FEE_FIELDS} }} errors {{ code message path }} }} }}"""
WAIVE = f"""mutation($input: WaiveFeeInput!) {{ waiveFee(input: $input) {{
  fee {{ {FEE_FIELDS} }} errors {{ code message path }} }} }}"""

APPLICATION = {
    "customerName": "某数据中心",
    "contractCapacity": "630",
    "voltageLevel": "KV10",
    "supplyLine": "OVERHEAD",
    "powerSourceCount": 2,
}
EXPECTED_INPUTS = {
    "contract_capacity": "630",
    "power_source_count": 2,
    "supply_line": "OVERHEAD",
    "voltage_level": "KV10",
}


async def define(api: Api, db: Database) -> None:
    """The 高压双电源 type, published and routable, and the people of county_a."""
    for item in ITEMS:
        assert (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]["errors"] == []
    for code, (name, days) in STAGES.items():
        stage = {"code": code, "name": name, "timeLimit": {"amount": days, "unit": "WORKING_DAYS"}}
        assert (await api.data(UPSERT_STAGE, {"input": stage}))["upsertStage"]["errors"] == []
    for code, name in POSTS.items():
        posted = await api.data(UPSERT_POST, {"input": {"code": code, "name": name}})
        assert posted["upsertPost"]["errors"] == []
    for code, parent in [("city", None), ("county_a", "city"), ("county_b", "city")]:
        unit = await api.data(UPSERT_ORG, {"input": {"code": code, "name": code, "parent": parent}})
        assert unit["upsertOrgUnit"]["errors"] == []
    for stage_code, post in RESPONSIBLE.items():
        assigned = await api.data(ASSIGN, {"input": {"stage": stage_code, "post": post}})
        assert assigned["assignResponsibility"]["errors"] == []
    saved = await api.data(SAVE_DRAFT, {"input": DRAFT})
    assert saved["saveBusinessTypeDraft"]["errors"] == [], saved
    published = await api.data(PUBLISH, {"code": "hv_double"})
    assert published["publishBusinessType"]["errors"] == [], published
    assert published["publishBusinessType"]["problems"] == [], published
    for username, roles, unit_code, posts in PEOPLE:
        await add_user(db, username, roles, org_unit_id=await _unit_id(db, unit_code), posts=posts)


async def upsert_rule(api: Api, rule: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(UPSERT_RULE, {"input": rule}))["upsertFeeRule"]
    return payload


async def define_with_rules(api: Api, db: Database, clock: Clock) -> None:
    """The type and both fee rules (the abolished one kept for the record)."""
    clock.set(dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    await define(api, db)
    for rule in (HIGH_RELIABILITY, TEMPORARY_CONNECTION):
        saved = await upsert_rule(api, rule)
        assert saved["errors"] == [], saved


async def open_case(api: Api, **data: Any) -> dict[str, Any]:
    created = await api.data(
        CREATE,
        {"input": {"orgUnit": "county_a", "submit": True, "data": {**APPLICATION, **data}}},
        as_user="alice",
    )
    payload: dict[str, Any] = created["createHvDoubleCase"]
    assert payload["errors"] == [], payload
    return payload


async def to_collection(api: Api, **data: Any) -> dict[str, Any]:
    """A new case walked through acceptance and 确定费用; its cashier task is open."""
    case: dict[str, Any] = (await open_case(api, **data))["case"]
    assert (await complete(api, "alice", await only_task(api, "alice", "accept")))["errors"] == []
    determined = await complete(api, "fred", await only_task(api, "fred", "fee_determination"))
    assert determined["errors"] == [], determined
    assert determined["case"]["currentStages"] == [{"code": "fee_collection"}]
    return case


async def read_case(api: Api, case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(CASE, {"id": case_id}))["case"]
    return found


async def pay(
    api: Api, case_id: str, amount: str, key: str | None, *, as_user: str = "cathy"
) -> dict[str, Any]:
    payment = {
        "caseId": case_id,
        "feeCode": "high_reliability",
        "amount": amount,
        "method": "BANK_TRANSFER",
        "reference": "NO.20260302-1",
        "idempotencyKey": key,
    }
    payload: dict[str, Any] = (await api.data(PAY, {"input": payment}, as_user=as_user))[
        "recordPayment"
    ]
    return payload


async def waive(api: Api, case_id: str, reason: str, *, as_user: str) -> dict[str, Any]:
    body = await api.post(
        WAIVE,
        {"input": {"caseId": case_id, "feeCode": "high_reliability", "reason": reason}},
        as_user=as_user,
    )
    return body


async def payments(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(PaymentRow)) or 0)


def same_instants(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with `settledAt` as an instant (the test clock is in +08:00, reads are UTC)."""
    fee = dict(payload["fee"])
    fee["settledAt"] = dt.datetime.fromisoformat(fee["settledAt"]).astimezone(dt.UTC)
    return {**payload, "fee": fee}


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


def actions(case: dict[str, Any]) -> list[str]:
    return [e["action"] for e in case["events"]]


# -- fee rules as metadata ----------------------------------------------------------------------


async def test_fee_rules_are_checked_versioned_and_listed(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    await define(api, db)

    saved = await upsert_rule(api, HIGH_RELIABILITY)
    assert saved["errors"] == []
    assert saved["feeRule"] == {
        "code": "high_reliability",
        "name": "高可靠性供电费",
        "businessTypes": ["hv_double"],
        "stage": "fee_determination",
        "condition": "power_source_count >= 2",
        "amount": HIGH_RELIABILITY_AMOUNT,
        "effectiveFrom": "2020-01-01",
        "effectiveTo": None,
        "status": "ACTIVE",
        "description": None,
        "version": 1,
    }
    # Saving the same rule again is no change; a changed rule is the next version.
    assert (await upsert_rule(api, HIGH_RELIABILITY))["feeRule"]["version"] == 1
    changed = await upsert_rule(api, {**HIGH_RELIABILITY, "description": "省物价局批复"})
    assert changed["errors"] == [] and changed["feeRule"]["version"] == 2
    raised = {**HIGH_RELIABILITY, "amount": HIGH_RELIABILITY_AMOUNT.replace("270.00", "280.00")}
    assert (await upsert_rule(api, raised))["feeRule"]["version"] == 3

    abolished = await upsert_rule(api, TEMPORARY_CONNECTION)
    assert abolished["errors"] == []
    assert abolished["feeRule"]["status"] == "ABOLISHED"
    assert abolished["feeRule"]["businessTypes"] == []

    listed = (await api.data(FEE_RULES, as_user="fred"))["feeRules"]
    assert [(r["code"], r["status"], r["version"]) for r in listed] == [
        ("high_reliability", "ACTIVE", 3),
        ("temporary_connection", "ABOLISHED", 1),
    ]
    assert listed[0]["amount"] == raised["amount"]
    assert listed[1]["effectiveTo"] == "2017-12-01"


async def test_upsert_fee_rule_refuses_what_cannot_work(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    await define(api, db)
    refusals: list[tuple[dict[str, Any], list[tuple[str, list[Any]]]]] = [
        (
            {"amount": "voltage_level"},
            [("VALIDATION", ["input", "amount"])],
        ),
        (
            {"amount": "contract_capacity * unit_rate"},
            [("VALIDATION", ["input", "amount"])],
        ),
        (
            {"condition": "power_source_count"},
            [("VALIDATION", ["input", "condition"])],
        ),
        (
            {"condition": 'voltage_level == "KV110"'},
            [("VALIDATION", ["input", "condition"])],
        ),
        (
            {"stage": "no_such_stage"},
            [("NOT_FOUND", ["input", "stage"])],
        ),
        (
            {"businessTypes": ["no_such_type"]},
            [("NOT_FOUND", ["input", "businessTypes", "0"])],
        ),
        (
            {"effectiveFrom": "2026-01-01", "effectiveTo": "2025-01-01"},
            [("VALIDATION", ["input", "effectiveTo"])],
        ),
    ]
    for change, expected in refusals:
        refused = await upsert_rule(api, {**HIGH_RELIABILITY, **change})
        assert refused["feeRule"] is None, change
        assert [(e["code"], e["path"]) for e in refused["errors"]] == expected, refused
    assert (await api.data(FEE_RULES))["feeRules"] == []  # nothing was saved

    # Not for STAFF: a top-level FORBIDDEN.
    body = await api.post(UPSERT_RULE, {"input": HIGH_RELIABILITY}, as_user="fred")
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


# -- assessment and the payment gate --------------------------------------------------------------


async def test_the_fee_is_assessed_paid_once_and_then_the_case_moves_on(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    version = (await upsert_rule(api, {**HIGH_RELIABILITY, "description": "v2"}))["feeRule"][
        "version"
    ]
    assert version == 2
    created = await open_case(api)
    case_id = created["case"]["id"]
    assert (await read_case(api, case_id))["fees"] == []  # nothing before 确定费用

    assert (await complete(api, "alice", await only_task(api, "alice", "accept")))["errors"] == []
    entered = await read_case(api, case_id)
    assert entered["currentStages"] == [{"code": "fee_determination"}]
    [fee] = entered["fees"]
    assert fee == {
        "code": "high_reliability",
        "name": "高可靠性供电费",
        "stage": "fee_determination",
        "amount": "170100.00",
        "status": "DUE",
        "ruleVersion": 2,
        "inputs": EXPECTED_INPUTS,
        "explanation": "630 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00",
        "settledAt": None,
        "waivedReason": None,
    }
    assessed = [e for e in entered["events"] if e["action"] == "FEE_ASSESSED"]
    assert [e["data"] for e in assessed] == [
        {"fee": "high_reliability", "amount": "170100.00", "ruleVersion": 2}
    ]
    # A rule saved after the assessment does not change the fee the case already carries.
    await upsert_rule(api, {**HIGH_RELIABILITY, "description": "v3"})
    assert (await read_case(api, case_id))["fees"][0]["ruleVersion"] == 2

    determined = await complete(api, "fred", await only_task(api, "fred", "fee_determination"))
    assert determined["errors"] == []
    assert determined["case"]["currentStages"] == [{"code": "fee_collection"}]

    # The cashier cannot close 业务收费 while the fee is due; nothing changes.
    before = await read_case(api, case_id)
    collection = await only_task(api, "cathy", "fee_collection")
    refused = await complete(api, "cathy", collection)
    assert codes(refused) == ["UNPAID_FEES"] and refused["case"] is None
    after = await read_case(api, case_id)
    assert after == before
    assert [t["status"] for t in after["tasks"] if t["id"] == collection] == ["OPEN"]
    assert after["currentStages"] == [{"code": "fee_collection"}]

    # A payment is more than nothing and at most what is outstanding (parts: test_fee_payments).
    for wrong in ("170100.01", "0", "-1", "0.001"):
        short = await pay(api, case_id, wrong, "pay-1")
        assert short["fee"] is None
        assert [(e["code"], e["path"]) for e in short["errors"]] == [
            ("VALIDATION", ["input", "amount"])
        ]
    assert await payments(db) == 0

    paid = await pay(api, case_id, "170100.00", "pay-1")
    assert paid["errors"] == []
    assert paid["fee"]["status"] == "PAID" and paid["fee"]["settledAt"]
    assert await payments(db) == 1

    # A retry with the same key is the same payment, not a second one.
    retried = await pay(api, case_id, "170100.00", "pay-1")
    assert same_instants(retried) == same_instants(paid)
    assert await payments(db) == 1
    # Another key is another payment, and the fee is no longer due.
    again = await pay(api, case_id, "170100.00", "pay-2")
    assert again["fee"] is None
    assert [(e["code"], e["path"]) for e in again["errors"]] == [
        ("INVALID_TRANSITION", ["input", "feeCode"])
    ]
    assert await payments(db) == 1

    # A paid fee cannot be waived.
    late = (await waive(api, case_id, "晚了", as_user="mia"))["data"]["waiveFee"]
    assert codes(late) == ["INVALID_TRANSITION"]

    moved = await complete(api, "cathy", collection)
    assert moved["errors"] == [] and moved["case"]["currentStages"] == [{"code": "connect"}]
    final = await read_case(api, case_id)
    assert final["fees"][0]["status"] == "PAID"
    recorded = [e for e in final["events"] if e["action"] == "PAYMENT_RECORDED"]
    assert [(e["actor"], e["data"]) for e in recorded] == [
        (
            "cathy",
            {
                "fee": "high_reliability",
                "amount": "170100.00",
                "method": "BANK_TRANSFER",
                "reference": "NO.20260302-1",
                "caseVersion": 4,  # submitted 1, accepted 2, fees determined 3, paid 4
            },
        )
    ]
    assert actions(final).index("FEE_ASSESSED") < actions(final).index("PAYMENT_RECORDED")


async def test_a_payment_without_a_key_is_recorded_once_too(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    case_id = (await to_collection(api))["id"]
    paid = await pay(api, case_id, "170100", None)  # the same amount, written without cents
    assert paid["errors"] == [] and paid["fee"]["status"] == "PAID"
    second = await pay(api, case_id, "170100", None)
    assert codes(second) == ["INVALID_TRANSITION"]
    assert await payments(db) == 1


async def test_payments_for_what_is_not_there(api: Api, db: Database, clock: Clock) -> None:
    await define_with_rules(api, db, clock)
    case_id = (await to_collection(api, powerSourceCount=1))["id"]  # no fee on this case
    for target in (case_id, "999999", "not-a-number"):
        missing = await pay(api, target, "170100.00", None)
        assert [(e["code"], e["path"]) for e in missing["errors"]] == [
            ("NOT_FOUND", ["input", "feeCode"])
        ], target
    anonymous = await api.post(
        PAY,
        {
            "input": {
                "caseId": case_id,
                "feeCode": "high_reliability",
                "amount": "1",
                "method": "CASH",
            }
        },
        as_user=None,
    )
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]


async def test_a_manager_of_the_cases_unit_waives_the_fee_and_the_gate_opens(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    case_id = (await to_collection(api))["id"]
    collection = await only_task(api, "cathy", "fee_collection")

    # STAFF may not waive: waiveFee needs MANAGER, refused before it runs.
    staff = await waive(api, case_id, "重点项目", as_user="cathy")
    assert staff["data"] is None
    assert [e["extensions"]["code"] for e in staff["errors"]] == ["FORBIDDEN"]
    # A manager of another county may not either.
    other = (await waive(api, case_id, "重点项目", as_user="max"))["data"]["waiveFee"]
    assert other["fee"] is None
    assert [(e["code"], e["path"]) for e in other["errors"]] == [("FORBIDDEN", ["input", "caseId"])]
    # A reason is needed.
    blank = (await waive(api, case_id, "  ", as_user="mia"))["data"]["waiveFee"]
    assert [(e["code"], e["path"]) for e in blank["errors"]] == [("REQUIRED", ["input", "reason"])]
    assert (await read_case(api, case_id))["fees"][0]["status"] == "DUE"
    assert codes(await complete(api, "cathy", collection)) == ["UNPAID_FEES"]

    reason = "政府重点项目，经批准减免"
    waived = (await waive(api, case_id, reason, as_user="mia"))["data"]["waiveFee"]
    assert waived["errors"] == []
    fee = waived["fee"]
    assert fee["status"] == "WAIVED" and fee["settledAt"]
    assert fee["waivedReason"] == "政府重点项目，经批准减免"
    assert fee["amount"] == "170100.00"  # what would have been due stays on record

    # Waived is final: neither a second waiver nor a payment.
    assert codes((await waive(api, case_id, "再次", as_user="mia"))["data"]["waiveFee"]) == [
        "INVALID_TRANSITION"
    ]
    assert codes(await pay(api, case_id, "170100.00", None)) == ["INVALID_TRANSITION"]
    assert await payments(db) == 0

    moved = await complete(api, "cathy", collection)
    assert moved["errors"] == [] and moved["case"]["currentStages"] == [{"code": "connect"}]
    final = await read_case(api, case_id)
    [event] = [e for e in final["events"] if e["action"] == "FEE_WAIVED"]
    assert event["actor"] == "mia"
    assert event["data"] == {
        "fee": "high_reliability",
        "amount": "170100.00",
        "reason": "政府重点项目，经批准减免",
        "caseVersion": 4,  # a waiver is a change to the case too
    }
    assert "PAYMENT_RECORDED" not in actions(final)


async def test_a_manager_above_the_cases_unit_may_waive(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    case_id = (await to_collection(api))["id"]
    waived = (await waive(api, case_id, "市公司批准", as_user="mike"))["data"]["waiveFee"]
    assert waived["errors"] == [] and waived["fee"]["status"] == "WAIVED"


async def test_a_single_source_customer_pays_nothing_and_passes_the_gate(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    case_id = (await to_collection(api, powerSourceCount=1))["id"]
    assert (await read_case(api, case_id))["fees"] == []
    moved = await complete(api, "cathy", await only_task(api, "cathy", "fee_collection"))
    assert moved["errors"] == [] and moved["case"]["currentStages"] == [{"code": "connect"}]
    assert "FEE_ASSESSED" not in actions(await read_case(api, case_id))


async def test_the_rate_follows_the_cases_voltage_and_line(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    case_id = (await to_collection(api, voltageLevel="KV35", supplyLine="CABLE"))["id"]
    [fee] = (await read_case(api, case_id))["fees"]
    assert fee["amount"] == "182700.00"
    assert (
        fee["explanation"]
        == "630 kVA × 290.00 元/kVA (35千伏 电缆, 表: 高可靠性供电费) = 182700.00"
    )
    assert fee["inputs"] == {**EXPECTED_INPUTS, "voltage_level": "KV35", "supply_line": "CABLE"}


async def test_an_abolished_rule_is_listed_but_never_assessed(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    listed = {r["code"]: r["status"] for r in (await api.data(FEE_RULES))["feeRules"]}
    assert listed == {"high_reliability": "ACTIVE", "temporary_connection": "ABOLISHED"}
    for power_sources in (1, 2):
        case_id = (await to_collection(api, powerSourceCount=power_sources))["id"]
        fees = (await read_case(api, case_id))["fees"]
        assert "temporary_connection" not in [f["code"] for f in fees]
        assert len(fees) == power_sources - 1


async def test_a_rule_outside_its_validity_is_not_assessed(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    later = await upsert_rule(api, {**HIGH_RELIABILITY, "effectiveFrom": "2026-03-03"})
    assert later["errors"] == []
    case_id = (await to_collection(api))["id"]  # entered on 2026-03-02, the day before
    assert (await read_case(api, case_id))["fees"] == []


async def test_a_rule_for_every_type_is_checked_against_the_types_using_its_stage(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    await define(api, db)
    everywhere = {**HIGH_RELIABILITY, "businessTypes": []}
    assert (await upsert_rule(api, everywhere))["errors"] == []
    unknown = await upsert_rule(api, {**everywhere, "amount": "contract_capacity * line_length"})
    assert [(e["code"], e["path"]) for e in unknown["errors"]] == [
        ("VALIDATION", ["input", "amount"])
    ]
    assert "hv_double" in unknown["errors"][0]["message"]
    case_id = (await to_collection(api))["id"]
    assert [f["amount"] for f in (await read_case(api, case_id))["fees"]] == ["170100.00"]


async def test_the_fee_is_visible_to_the_people_working_the_case(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    await to_collection(api)
    [task] = await my_tasks(api, "cathy")
    found = await api.data(
        "query($n: String!) { case(number: $n) { fees { amount status explanation } } }",
        {"n": task["case"]["number"]},
        as_user="cathy",
    )
    assert found["case"]["fees"] == [
        {
            "amount": "170100.00",
            "status": "DUE",
            "explanation": "630 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00",
        }
    ]


async def test_concurrent_retries_of_one_payment_record_it_once(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    case_id = (await to_collection(api))["id"]
    await api.token("cathy")
    results = await asyncio.gather(*(pay(api, case_id, "170100.00", "pay-once") for _ in range(4)))
    for result in results:
        assert result["errors"] == [], result
        assert result["fee"]["status"] == "PAID"
    assert await payments(db) == 1
    recorded = [
        e for e in (await read_case(api, case_id))["events"] if e["action"] == "PAYMENT_RECORDED"
    ]
    assert len(recorded) == 1


async def test_a_rule_that_cannot_be_computed_holds_the_case_back_never_charges_zero(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    case = (await open_case(api, supplyLine=None))["case"]  # the rate needs the line type
    accept = await only_task(api, "alice", "accept")
    refused = await complete(api, "alice", accept)
    assert codes(refused) == ["VALIDATION"]
    assert "high_reliability" in refused["errors"][0]["message"]
    unchanged = await read_case(api, case["id"])
    assert unchanged["fees"] == []
    assert await only_task(api, "alice", "accept") == accept  # nothing moved


PROBLEMS = """query($code: String) { feeRuleProblems(code: $code) {
  rule caseId number fromStage stage error } }"""
OVERFLOWING = "contract_capacity * 99999999999 * 99999999999"
"""Each literal is below the largest fee and contract_capacity declares no max here, so the
check at save time cannot see that 630 kVA makes about 6.3e24."""


async def test_a_rule_whose_literals_pass_the_largest_fee_is_refused_when_saved(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    huge = "contract_capacity * 99999999999999999999999999 * 99999999999999999999999999"
    refused = await upsert_rule(api, {**HIGH_RELIABILITY, "amount": huge})
    assert codes(refused) == ["VALIDATION", "VALIDATION"]  # one per literal
    assert refused["errors"][0]["path"] == ["input", "amount"]
    assert "larger than the largest fee 999999999999.99" in refused["errors"][0]["message"]
    rules = (await api.data(FEE_RULES))["feeRules"]
    assert [r["amount"] for r in rules if r["code"] == "high_reliability"] == [
        HIGH_RELIABILITY_AMOUNT
    ]


async def test_a_rule_over_the_items_declared_limits_is_refused_when_saved(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    bounded = {**ITEMS[1], "max": "10000000"}  # contract_capacity up to 10,000,000 kVA
    tighten = UPSERT_ITEM.replace("(input: $input)", "(input: $input, allowBreaking: true)")
    assert (await api.data(tighten, {"input": bounded}))["upsertDataItem"]["errors"] == []
    published = await api.data(PUBLISH, {"code": "hv_double", "allow": True})
    assert published["publishBusinessType"]["errors"] == [], published  # the types use it now
    refused = await upsert_rule(api, {**HIGH_RELIABILITY, "amount": "contract_capacity * 1000000"})
    assert codes(refused) == ["VALIDATION"]
    assert "can reach 1.000000e+13" in refused["errors"][0]["message"], refused
    within = await upsert_rule(api, {**HIGH_RELIABILITY, "amount": "contract_capacity * 99999"})
    assert within["errors"] == []


async def test_a_rule_that_overflows_on_a_case_blocks_it_with_a_typed_error_the_admin_can_see(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    saved = await upsert_rule(api, {**HIGH_RELIABILITY, "amount": OVERFLOWING})
    assert saved["errors"] == [], saved
    case = (await open_case(api))["case"]
    accept = await only_task(api, "alice", "accept")
    before = await read_case(api, case["id"])
    refused = await complete(api, "alice", accept)
    assert codes(refused) == ["VALIDATION"], refused
    message = refused["errors"][0]["message"]
    assert "high_reliability" in message and "more than the largest fee" in message, message
    after = await read_case(api, case["id"])
    assert (after["version"], after["fees"], after["events"]) == (
        before["version"],
        [],
        before["events"],
    )
    assert await only_task(api, "alice", "accept") == accept

    problems = (await api.data(PROBLEMS, {"code": "high_reliability"}))["feeRuleProblems"]
    assert [(p["caseId"], p["fromStage"], p["stage"]) for p in problems] == [
        (case["id"], "accept", "fee_determination")
    ]
    assert problems[0]["number"] == case["number"]
    assert "more than the largest fee" in problems[0]["error"]
    assert (await api.data(PROBLEMS, {"code": "temporary_connection"}))["feeRuleProblems"] == []
    staff = await api.post(PROBLEMS, {}, as_user="alice")
    assert [e["extensions"]["code"] for e in staff["errors"]] == ["FORBIDDEN"]

    assert (await upsert_rule(api, HIGH_RELIABILITY))["errors"] == []  # the administrator fixes it
    assert (await api.data(PROBLEMS, {}))["feeRuleProblems"] == []
    assert (await complete(api, "alice", accept))["errors"] == []


async def test_a_negative_amount_is_no_fee(api: Api, db: Database, clock: Clock) -> None:
    await define_with_rules(api, db, clock)
    saved = await upsert_rule(api, {**HIGH_RELIABILITY, "amount": "100 - contract_capacity"})
    assert saved["errors"] == []
    await open_case(api)
    refused = await complete(api, "alice", await only_task(api, "alice", "accept"))
    assert codes(refused) == ["VALIDATION"]
    assert "a fee cannot be negative" in refused["errors"][0]["message"]


async def test_a_publish_that_drops_an_item_a_fee_rule_uses_is_refused_with_a_problem(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    # supply_line feeds the rate: without it, high_reliability could no longer be computed.
    draft = {**DRAFT, "items": [i for i in DRAFT["items"] if i["item"] != "supply_line"]}
    assert (await api.data(SAVE_DRAFT, {"input": draft}))["saveBusinessTypeDraft"]["errors"] == []
    published = (await api.data(PUBLISH, {"code": "hv_double", "allow": True}))[
        "publishBusinessType"
    ]
    assert published["version"] is None
    assert codes(published) == ["VALIDATION"]
    problems = [(p["code"], p["path"]) for p in published["problems"]]
    # Paths index feeRules as that query lists them: high_reliability comes first.
    assert problems == [("BAD_FEE_RULE", ["feeRules", "0", "amount"])]
    assert "'high_reliability'" in published["problems"][0]["message"]
    assert "supply_line" in published["problems"][0]["message"]
    # The abolished rule is never assessed, so it does not hold the publish back.
    async with db.read() as session:
        row = await metadata_repo.get_business_type(session, "hv_double")
        assert row is not None and row.latest_version == 1  # nothing was published


async def test_a_fee_rule_at_a_stage_its_business_type_does_not_use_is_refused(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    await define(api, db)
    stage = {"code": "site_survey", "name": "现场勘查"}
    assert (await api.data(UPSERT_STAGE, {"input": stage}))["upsertStage"]["errors"] == []
    refused = await upsert_rule(api, {**HIGH_RELIABILITY, "stage": "site_survey"})
    assert refused["feeRule"] is None
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("VALIDATION", ["input", "stage"])
    ]
    assert "hv_double" in refused["errors"][0]["message"]
    assert "site_survey" in refused["errors"][0]["message"]
    assert (await api.data(FEE_RULES))["feeRules"] == []  # nothing was saved


UPDATE_DATA = """mutation($input: UpdateHvDoubleCaseDataInput!) { updateHvDoubleCaseData(input: $input) {
  case { version } errors { code message path } } }"""


async def test_a_payment_and_a_waiver_each_bump_the_case_version(
    api: Api, db: Database, clock: Clock
) -> None:
    await define_with_rules(api, db, clock)
    paid_case, waived_case = (await to_collection(api))["id"], (await to_collection(api))["id"]
    before = (await read_case(api, paid_case))["version"]

    assert (await pay(api, paid_case, "170100.00", "bump-1"))["errors"] == []
    after = await read_case(api, paid_case)
    assert after["version"] == before + 1
    recorded = next(e for e in after["events"] if e["action"] == "PAYMENT_RECORDED")
    assert recorded["data"]["caseVersion"] == before + 1
    # A retry changes nothing, so the version stays.
    assert (await pay(api, paid_case, "170100.00", "bump-1"))["errors"] == []
    assert (await read_case(api, paid_case))["version"] == before + 1

    # Whoever read the case before the payment holds a stale version: refused.
    stale = await api.data(
        UPDATE_DATA,
        {"input": {"id": paid_case, "expectedVersion": before, "data": {"customerName": "某"}}},
    )
    assert codes(stale["updateHvDoubleCaseData"]) == ["CONFLICT"]

    version = (await read_case(api, waived_case))["version"]
    assert (await waive(api, waived_case, "政策减免", as_user="mia"))["data"]["waiveFee"][
        "errors"
    ] == []
    assert (await read_case(api, waived_case))["version"] == version + 1
