"""A fee assessed at 确定费用 and paid at 业务收费 (payAt): the fee shows where it is assessed,
leaving that stage is not held, leaving the paying stage is held until two partial payments with
invoice numbers cover it; a refund makes it due again, an overpayment is refused, and the
history verifies. 业务收费 here does not say it requires payment: payAt alone holds it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from database.session import Database
from tests.api.conftest import Api, Clock, add_user, broken_histories
from tests.api.setup_metamodel import (
    ASSIGN,
    PUBLISH,
    SAVE_DRAFT,
    UPSERT_ITEM,
    UPSERT_ORG,
    UPSERT_POST,
    UPSERT_STAGE,
)
from tests.api.test_engine_flow import _unit_id, complete, only_task
from tests.api.test_fees import (
    CST,
    DRAFT,
    HIGH_RELIABILITY,
    ITEMS,
    PEOPLE,
    POSTS,
    RESPONSIBLE,
    STAGES,
    codes,
    open_case,
)

PAID_LATER: dict[str, Any] = {
    **DRAFT,
    "stages": [
        {"stage": "accept"},
        {"stage": "fee_determination"},
        {"stage": "fee_collection"},  # no requiresPayment: the rule's payAt holds it
        {"stage": "connect"},
    ],
}
RULE = {**HIGH_RELIABILITY, "payAt": "fee_collection"}
FEE = """code stage payAt amount status paid outstanding explanation
  payments { kind amount method invoiceNo reason recordedBy }"""
CASE = f"""query($id: ID!) {{ case(id: $id) {{ currentStages {{ code }} fees {{ {FEE} }}
  events {{ action data }} }} }}"""
PAY = f"""mutation($input: RecordPaymentInput!) {{ recordPayment(input: $input) {{
  fee {{ {FEE} }} errors {{ code message path }} }} }}"""
REFUND = f"""mutation($input: RefundPaymentInput!) {{ refundPayment(input: $input) {{
  fee {{ {FEE} }} errors {{ code message path }} }} }}"""
UPSERT_RULE = """mutation($input: UpsertFeeRuleInput!) { upsertFeeRule(input: $input) {
  feeRule { code stage payAt } errors { code message path } } }"""
PROGRESS = """query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) {
  fees { name amount status paid outstanding } } }"""
WORKING = "630 kVA × 270.00 元/kVA (10千伏 架空, 表: 高可靠性供电费) = 170100.00"


async def define(api: Api, db: Database, draft: dict[str, Any]) -> None:
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
    assert (await api.data(SAVE_DRAFT, {"input": draft}))["saveBusinessTypeDraft"]["errors"] == []
    published = (await api.data(PUBLISH, {"code": "hv_double"}))["publishBusinessType"]
    assert published["errors"] == [] and published["problems"] == [], published
    for username, roles, unit_code, posts in PEOPLE:
        await add_user(db, username, roles, org_unit_id=await _unit_id(db, unit_code), posts=posts)


async def upsert_rule(api: Api, rule: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(UPSERT_RULE, {"input": rule}))["upsertFeeRule"]
    return found


async def pay(api: Api, case_id: str, amount: str, invoice: str, key: str) -> dict[str, Any]:
    given = {
        "caseId": case_id,
        "feeCode": "high_reliability",
        "amount": amount,
        "method": "POS",
        "invoiceNo": invoice,
        "idempotencyKey": key,
    }
    found: dict[str, Any] = (await api.data(PAY, {"input": given}, as_user="cathy"))[
        "recordPayment"
    ]
    return found


async def refund(api: Api, case_id: str, amount: str, key: str) -> dict[str, Any]:
    given = {
        "caseId": case_id,
        "feeCode": "high_reliability",
        "amount": amount,
        "reason": "容量核减后多收",
        "idempotencyKey": key,
    }
    found: dict[str, Any] = (await api.data(REFUND, {"input": given}, as_user="cathy"))[
        "refundPayment"
    ]
    return found


async def read(api: Api, case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(CASE, {"id": case_id}))["case"]
    return found


async def test_a_fee_assessed_at_one_stage_is_paid_in_parts_at_another(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    await define(api, db, PAID_LATER)
    saved = await upsert_rule(api, RULE)
    assert saved["errors"] == [] and saved["feeRule"]["payAt"] == "fee_collection", saved
    created = await open_case(api)
    case_id, number, code = created["case"]["id"], created["case"]["number"], created["accessCode"]
    assert (await complete(api, "alice", await only_task(api, "alice", "accept")))["errors"] == []

    # 确定费用 shows the fee and its working, the rate's table and unit named.
    [fee] = (await read(api, case_id))["fees"]
    assert fee == {
        "code": "high_reliability",
        "stage": "fee_determination",
        "payAt": "fee_collection",
        "amount": "170100.00",
        "status": "DUE",
        "paid": "0.00",
        "outstanding": "170100.00",
        "explanation": WORKING,
        "payments": [],
    }
    # Leaving it is not held: the fee is paid later.
    determined = await complete(api, "fred", await only_task(api, "fred", "fee_determination"))
    assert determined["errors"] == [], determined
    assert determined["case"]["currentStages"] == [{"code": "fee_collection"}]

    # Leaving 业务收费 is held while anything is outstanding.
    collection = await only_task(api, "cathy", "fee_collection")
    assert codes(await complete(api, "cathy", collection)) == ["UNPAID_FEES"]
    first = await pay(api, case_id, "100000.00", "INV-0001", "p1")
    assert first["errors"] == []
    assert (first["fee"]["status"], first["fee"]["paid"], first["fee"]["outstanding"]) == (
        "DUE",
        "100000.00",
        "70100.00",
    )
    assert (await pay(api, case_id, "100000.00", "INV-0001", "p1")) == first  # a retry
    assert codes(await complete(api, "cathy", collection)) == ["UNPAID_FEES"]

    # More than is outstanding is refused, and changes nothing.
    over = await pay(api, case_id, "70100.01", "INV-0002", "p2")
    assert [(e["code"], e["path"]) for e in over["errors"]] == [("VALIDATION", ["input", "amount"])]
    assert (await read(api, case_id))["fees"][0]["paid"] == "100000.00"

    second = await pay(api, case_id, "70100.00", "INV-0002", "p3")
    assert second["errors"] == []
    assert (second["fee"]["status"], second["fee"]["outstanding"]) == ("PAID", "0.00")
    assert [(p["kind"], p["amount"], p["invoiceNo"]) for p in second["fee"]["payments"]] == [
        ("PAYMENT", "100000.00", "INV-0001"),
        ("PAYMENT", "70100.00", "INV-0002"),
    ]
    moved = await complete(api, "cathy", collection)
    assert moved["errors"] == [] and moved["case"]["currentStages"] == [{"code": "connect"}]

    # A refund: at most what was paid; below the amount the fee is due again, the case moves on.
    too_much = await refund(api, case_id, "170100.01", "r0")
    assert [(e["code"], e["path"]) for e in too_much["errors"]] == [
        ("VALIDATION", ["input", "amount"])
    ]
    back = await refund(api, case_id, "5000.00", "r1")
    assert back["errors"] == []
    assert (back["fee"]["status"], back["fee"]["paid"], back["fee"]["outstanding"]) == (
        "DUE",
        "165100.00",
        "5000.00",
    )
    assert back["fee"]["payments"][-1] == {
        "kind": "REFUND",
        "amount": "5000.00",
        "method": "REFUND",
        "invoiceNo": None,
        "reason": "容量核减后多收",
        "recordedBy": "cathy",
    }
    assert (await refund(api, case_id, "5000.00", "r1"))["fee"] == back["fee"]  # a retry
    case = await read(api, case_id)
    assert case["currentStages"] == [{"code": "connect"}]
    money = [(e["action"], e["data"]) for e in case["events"] if "PAYMENT" in e["action"]]
    assert [(a, d["amount"], d.get("invoiceNo")) for a, d in money] == [
        ("PAYMENT_RECORDED", "100000.00", "INV-0001"),
        ("PAYMENT_RECORDED", "70100.00", "INV-0002"),
        ("PAYMENT_REFUNDED", "5000.00", None),
    ]

    # The applicant sees what was paid and what is outstanding.
    seen = await api.post(PROGRESS, {"n": number, "c": code}, as_user=None)
    assert seen["data"]["caseProgress"]["fees"] == [
        {
            "name": "高可靠性供电费",
            "amount": "170100.00",
            "status": "DUE",
            "paid": "165100.00",
            "outstanding": "5000.00",
        }
    ]
    assert await broken_histories(db) == []


async def test_pay_at_must_be_a_stage_the_types_reach_from_the_rules_stage(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST))
    await define(api, db, PAID_LATER)
    for pay_at, code in [
        ("accept", "VALIDATION"),  # before the stage that assesses it
        ("no_such_stage", "NOT_FOUND"),
    ]:
        refused = await upsert_rule(api, {**RULE, "payAt": pay_at})
        assert [(e["code"], e["path"]) for e in refused["errors"]] == [(code, ["input", "payAt"])]
    same = await upsert_rule(api, {**RULE, "payAt": "fee_determination"})
    assert same["errors"] == [] and same["feeRule"]["payAt"] == "fee_determination"
    unset = await upsert_rule(api, HIGH_RELIABILITY)
    assert unset["errors"] == [] and unset["feeRule"]["payAt"] is None
