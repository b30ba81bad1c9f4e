"""A LIST item obeys requiredAt, editableAt and visibleTo as one item, on every derived path.

The surveyor records the meters at 现场勘查, where the list is required; the acceptor may not
see it, so neither the case's data, a filter over its entries, the case history's EFFECT event
nor the customer file its ADD_METERS effect wrote shows them the asset numbers.
"""

from __future__ import annotations

import copy
from typing import Any

from database.session import Database
from tests.api.conftest import Api, add_user
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, define_basics
from tests.api.test_engine_flow import complete, only_task
from tests.api.test_list_items import METERS, UPSERT
from tests.api.test_scope_visibility import VALID_ID, unit_id

HIDE_DRAFT: dict[str, Any] = {
    **copy.deepcopy(DRAFT),
    "code": "pv_hide",
    "name": "光伏（计量保密）",
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "id_number"},
        {
            "item": "meters",
            "requiredAt": ["survey"],
            "editableAt": ["survey"],
            "visibleTo": ["surveyor"],
        },
    ],
    "stages": [{"stage": "accept"}, {"stage": "survey"}],
    "transitions": [{"from": "accept", "to": ["survey"]}],
    "effects": [
        {"kind": "CREATE_CUSTOMER"},
        {"kind": "ADD_METERS", "entries": "meters"},
        {"kind": "START_CONTRACT", "contractType": "PURCHASE_SALE"},
    ],
}
CREATE = """mutation($input: CreatePvHideCaseInput!) { createPvHideCase(input: $input) {
  case { id tasks { id } } errors { code message path } } }"""
UPDATE = """mutation($input: UpdatePvHideCaseDataInput!) { updatePvHideCaseData(input: $input) {
  errors { code message path } } }"""
READ = """query($id: ID!) { case(id: $id) { status version ... on PvHideCase {
  data { customerName meters { assetNo purpose } } } events { action data }
  customer { number meters { assetNo } contracts { type } } } }"""
LIST = """query($where: PvHideWhere) { pvHideCases(where: $where) { totalCount } }"""
METERS_GIVEN = [{"assetNo": "PV-GEN-0001", "purpose": "GENERATION", "ctRatio": 5}]
"""The meters as the typed data input takes them (camelCase fields)."""
METERS_JSON = [{"asset_no": "PV-GEN-0001", "purpose": "GENERATION", "ct_ratio": 5}]
"""The same as completeTask's JSON data takes them (item codes, as stored)."""


async def define(api: Api, db: Database) -> None:
    await define_basics(api)
    assert (await api.data(UPSERT, {"input": METERS}))["upsertDataItem"]["errors"] == []
    saved = (await api.data(SAVE_DRAFT, {"input": HIDE_DRAFT}))["saveBusinessTypeDraft"]
    assert saved["errors"] == [] and saved["problems"] == [], saved
    published = (await api.data(PUBLISH, {"code": "pv_hide"}))["publishBusinessType"]
    assert published["errors"] == [] and published["problems"] == [], published
    await api.refresh_schema()
    county = await unit_id(db, "county")
    await add_user(db, "acc", ["STAFF"], org_unit_id=county, posts=["acceptor"])
    await add_user(db, "sur", ["STAFF"], org_unit_id=county, posts=["surveyor"])


async def test_a_list_is_required_editable_and_hidden_as_one_item(api: Api, db: Database) -> None:
    await define(api, db)
    data = {"customerName": "光伏户", "idNumber": VALID_ID}
    created = (
        await api.data(
            CREATE, {"input": {"orgUnit": "county", "submit": True, "data": data}}, as_user="acc"
        )
    )["createPvHideCase"]
    assert created["errors"] == []
    case_id = created["case"]["id"]
    # Not editable at 业务受理: the acceptor cannot write the meters there.
    written = (
        await api.data(
            UPDATE,
            {"input": {"id": case_id, "expectedVersion": 1, "data": {"meters": METERS_GIVEN}}},
            as_user="acc",
        )
    )["updatePvHideCaseData"]
    assert [e["code"] for e in written["errors"]] in (["VALIDATION"], ["FORBIDDEN"]), written
    assert (await complete(api, "acc", created["case"]["tasks"][0]["id"]))["errors"] == []
    task = await only_task(api, "sur", "survey")
    # Required at 现场勘查: missing, and an empty list, both leave it missing.
    givens: list[dict[str, Any]] = [{}, {"meters": []}]
    for given in givens:
        refused = await complete(api, "sur", task, "APPROVE", **given)
        assert [(e["code"], e["path"][-1]) for e in refused["errors"]] == [
            ("REQUIRED", "meters")
        ], refused
    done = await complete(api, "sur", task, meters=METERS_JSON)
    assert done["errors"] == [], done

    as_surveyor = (await api.data(READ, {"id": case_id}, as_user="sur"))["case"]
    assert as_surveyor["status"] == "COMPLETED"
    assert as_surveyor["data"]["meters"] == [{"assetNo": "PV-GEN-0001", "purpose": "GENERATION"}]
    assert "PV-GEN-0001" in str(as_surveyor["events"])
    where = {"data": {"meters": {"any": {"purpose": {"eq": "GENERATION"}}}}}
    assert (await api.data(LIST, {"where": where}, as_user="sur"))["pvHideCases"]["totalCount"] == 1

    as_acceptor = (await api.data(READ, {"id": case_id}, as_user="acc"))["case"]
    assert as_acceptor["data"] == {"customerName": "光伏户", "meters": None}
    assert "PV-GEN-0001" not in str(as_acceptor["events"])
    customer = as_acceptor["customer"]
    assert customer["meters"] == [] and customer["contracts"] == [{"type": "PURCHASE_SALE"}]
    body = await api.post(LIST, {"where": where}, as_user="acc")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
