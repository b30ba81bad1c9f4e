"""An item hidden by `visibleTo` stays hidden in everything derived from it: a fee's inputs and
working, the customer archive written from it, the case's history, the applicant's view; and in
every version a case may be pinned to, not only the latest."""

from __future__ import annotations

from typing import Any

from database.session import Database
from tests.api.conftest import Api, add_user
from tests.api.setup_metamodel import (
    ASSIGN,
    PUBLISH,
    SAVE_DRAFT,
    UPSERT_ITEM,
    UPSERT_ORG,
    UPSERT_POST,
    UPSERT_STAGE,
)
from tests.api.test_engine_flow import complete, only_task
from tests.api.test_scope_visibility import VALID_ID, unit_id

NAME = "甲方客户"
ITEMS: list[dict[str, Any]] = [
    {"code": "customer_name", "label": "户名", "type": "STRING"},
    {"code": "id_number", "label": "证件号码", "type": "ID_NUMBER"},
    {"code": "capacity_kva", "label": "申请容量", "type": "DECIMAL", "unit": "kVA"},
    {"code": "survey_notes", "label": "勘查意见", "type": "TEXT"},
    {"code": "meter_asset_no", "label": "电能表资产编号", "type": "STRING"},
]
ASSET = "ZC-8812345"
ACCEPTOR_ONLY = ["acceptor"]
DRAFT: dict[str, Any] = {
    "code": "lv_hide",
    "name": "低压新装（保密）",
    "group": "NEW",
    "items": [
        {"item": "customer_name", "visibleTo": ACCEPTOR_ONLY},
        {"item": "id_number", "visibleTo": ACCEPTOR_ONLY},
        {"item": "capacity_kva", "visibleTo": ACCEPTOR_ONLY},
        {"item": "meter_asset_no", "visibleTo": ACCEPTOR_ONLY},
        {"item": "survey_notes", "visibleTo": ["surveyor"], "editableAt": ["survey"]},
    ],
    "stages": [{"stage": "accept"}, {"stage": "survey"}],
    "transitions": [{"from": "accept", "to": ["survey"]}],
    "start": "accept",
}
RULE = {
    "code": "connection_fee",
    "name": "接电费",
    "businessTypes": ["lv_hide"],
    "stage": "survey",
    "amount": "capacity_kva * 10 + 5",
    "effectiveFrom": "2020-01-01",
}
UPSERT_RULE = """mutation($input: UpsertFeeRuleInput!) { upsertFeeRule(input: $input) {
  errors { code message path } } }"""
CREATE = """mutation($input: CreateLvHideCaseInput!) { createLvHideCase(input: $input) {
  case { id number tasks { id } } accessCode errors { code message path } } }"""
READ = """query($id: ID!) { case(id: $id) { status ... on LvHideCase { data { customerName idNumber } }
  fees { amount inputs explanation } events { action data }
  customer { number name idNumber meters { assetNo } } } }"""
CUSTOMER = "query($n: String!) { customer(number: $n) { name idNumber meters { assetNo } } }"
PROGRESS = """query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) {
  fees { amount explanation } } }"""
LIST = """query($where: LvHideWhere, $orderBy: [LvHideOrderBy!]) {
  lvHideCases(where: $where, orderBy: $orderBy) { totalCount nodes { number } } }"""
ALL = "query($where: CaseWhere) { cases(where: $where) { totalCount } }"
PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  fee { inputs explanation } errors { code message path } } }"""


async def define(api: Api, db: Database) -> None:
    """The type, its fee rule, an org unit with an acceptor and a surveyor."""
    for item in ITEMS:
        assert (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]["errors"] == []
    for code, name in [("accept", "业务受理"), ("survey", "现场勘查")]:
        stage = {"code": code, "name": name, "timeLimit": {"amount": 3, "unit": "WORKING_DAYS"}}
        assert (await api.data(UPSERT_STAGE, {"input": stage}))["upsertStage"]["errors"] == []
    for code in ("acceptor", "surveyor"):
        posted = await api.data(UPSERT_POST, {"input": {"code": code, "name": code}})
        assert posted["upsertPost"]["errors"] == []
    for code, parent in [("city", None), ("county", "city")]:
        unit = await api.data(UPSERT_ORG, {"input": {"code": code, "name": code, "parent": parent}})
        assert unit["upsertOrgUnit"]["errors"] == []
    for stage_code, post in [("accept", "acceptor"), ("survey", "surveyor")]:
        assigned = await api.data(ASSIGN, {"input": {"stage": stage_code, "post": post}})
        assert assigned["assignResponsibility"]["errors"] == []
    assert (await api.data(SAVE_DRAFT, {"input": DRAFT}))["saveBusinessTypeDraft"]["problems"] == []
    assert (await api.data(PUBLISH, {"code": "lv_hide"}))["publishBusinessType"]["errors"] == []
    assert (await api.data(UPSERT_RULE, {"input": RULE}))["upsertFeeRule"]["errors"] == []
    county = await unit_id(db, "county")
    await add_user(db, "acc", ["STAFF"], org_unit_id=county, posts=["acceptor"])
    await add_user(db, "sur", ["STAFF"], org_unit_id=county, posts=["surveyor"])


async def run_case(api: Api) -> dict[str, Any]:
    """A case opened by the acceptor and run through the survey to its archive."""
    data = {"customerName": NAME, "idNumber": VALID_ID, "capacityKva": "37", "meterAssetNo": ASSET}
    created = (
        await api.data(
            CREATE, {"input": {"orgUnit": "county", "submit": True, "data": data}}, as_user="acc"
        )
    )["createLvHideCase"]
    assert created["errors"] == []
    assert (await complete(api, "acc", created["case"]["tasks"][0]["id"]))["errors"] == []
    assert (await complete(api, "sur", await only_task(api, "sur", "survey")))["errors"] == []
    return {**created["case"], "accessCode": created["accessCode"]}


async def test_fees_archive_history_and_progress_keep_hidden_values_hidden(
    api: Api, db: Database
) -> None:
    await define(api, db)
    case = await run_case(api)
    as_acceptor = (await api.data(READ, {"id": case["id"]}, as_user="acc"))["case"]
    assert as_acceptor["status"] == "COMPLETED"
    assert as_acceptor["fees"] == [
        {
            "amount": "375.00",
            "inputs": {"capacity_kva": "37"},
            "explanation": "37 kVA × 10 + 5 = 375.00",
        }
    ]
    assert as_acceptor["customer"]["name"] == NAME
    assert as_acceptor["customer"]["idNumber"] == VALID_ID
    assert as_acceptor["customer"]["meters"] == [{"assetNo": ASSET}]
    assert ASSET in str(as_acceptor["events"])
    as_surveyor = (await api.data(READ, {"id": case["id"]}, as_user="sur"))["case"]
    assert as_surveyor["data"] == {"customerName": None, "idNumber": None}
    # The fee's amount stays (it is owed), but not the hidden value it was worked from.
    assert as_surveyor["fees"] == [{"amount": "375.00", "inputs": {}, "explanation": "375.00"}]
    # The archive fields written from hidden items are hidden from the same readers.
    customer = as_surveyor["customer"]
    assert customer["number"] and customer["name"] is None and customer["idNumber"] is None
    assert customer["meters"] == []  # a meter is known by its asset number, hidden here
    direct = (await api.data(CUSTOMER, {"n": customer["number"]}, as_user="sur"))["customer"]
    assert direct == {"name": None, "idNumber": None, "meters": []}
    assert (await api.data(CUSTOMER, {"n": customer["number"]}, as_user="acc"))["customer"] == {
        "name": NAME,
        "idNumber": VALID_ID,
        "meters": [{"assetNo": ASSET}],
    }
    history = str(as_surveyor["events"])
    for value in (NAME, VALID_ID, "'37'", ASSET):
        assert value not in history
    # Recording the payment answers with the fee as its reader may see it.
    paid = await api.data(
        PAY,
        {
            "input": {
                "caseId": case["id"],
                "feeCode": "connection_fee",
                "amount": "375.00",
                "method": "CASH",
            }
        },
        as_user="sur",
    )
    assert paid["recordPayment"] == {
        "fee": {"inputs": {}, "explanation": "375.00"},
        "errors": [],
    }
    # An applicant reads no item hidden from staff either, only the amount.
    progress = await api.data(
        PROGRESS, {"n": case["number"], "c": case["accessCode"]}, as_user=None
    )
    assert progress["caseProgress"]["fees"] == [{"amount": "375.00", "explanation": "375.00"}]


async def test_an_item_hidden_in_an_older_version_stays_hidden_for_its_cases(
    api: Api, db: Database
) -> None:
    await define(api, db)
    case = await run_case(api)
    # Version 2 drops id_number: cases of version 1 still carry it, hidden as before.
    newer = {**DRAFT, "items": [i for i in DRAFT["items"] if i["item"] != "id_number"]}
    assert (await api.data(SAVE_DRAFT, {"input": newer}))["saveBusinessTypeDraft"]["problems"] == []
    published = await api.data(PUBLISH, {"code": "lv_hide", "allow": True})
    assert published["publishBusinessType"]["errors"] == [], published
    await api.refresh_schema()
    as_surveyor = (await api.data(READ, {"id": case["id"]}, as_user="sur"))["case"]
    assert as_surveyor["data"]["idNumber"] is None
    assert VALID_ID not in str(as_surveyor["events"])
    assert as_surveyor["customer"]["idNumber"] is None
    for query, variables in (
        (LIST, {"where": {"data": {"idNumber": {"eq": VALID_ID}}}}),
        (LIST, {"orderBy": [{"data": {"idNumber": "ASC"}}]}),
        (ALL, {"where": {"data": {"idNumber": {"eq": VALID_ID}}}}),
    ):
        body = await api.post(query, variables, as_user="sur")
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    # Those who may read it still read and filter on it.
    as_acceptor = (await api.data(READ, {"id": case["id"]}, as_user="acc"))["case"]
    assert as_acceptor["data"]["idNumber"] == VALID_ID
    found = await api.data(LIST, {"where": {"data": {"idNumber": {"eq": VALID_ID}}}}, as_user="acc")
    assert found["lvHideCases"]["totalCount"] == 1
