"""Repeating data end to end: a LIST item defined, written, read typed, filtered and computed on."""

from __future__ import annotations

import copy
from typing import Any

from tests.api.conftest import Api
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, define_basics

VALID_ID = "11010519491231002X"

METERS: dict[str, Any] = {
    "code": "meters",
    "label": "电能表",
    "type": "LIST",
    "maxCount": 4,
    "fields": [
        {"code": "asset_no", "label": "资产编号", "type": "STRING", "required": True},
        {
            "code": "purpose",
            "label": "用途",
            "type": "ENUM",
            "options": [
                {"value": "GENERATION", "label": "发电计量"},
                {"value": "GRID", "label": "上网关口"},
            ],
        },
        {"code": "ct_ratio", "label": "CT变比", "type": "INTEGER", "min": "1"},
        {"code": "start_reading", "label": "起度", "type": "DECIMAL", "scale": 2},
    ],
}

UPSERT = """mutation($input: UpsertDataItemInput!, $allow: Boolean! = false) {
  upsertDataItem(input: $input, allowBreaking: $allow) {
    dataItem { code type minCount maxCount fields { code type required options { value } } }
    changes { property before after } errors { code message path } } }"""
ENTRY = "meters { assetNo purpose ctRatio startReading }"
CREATE = f"""mutation($input: CreatePvNewCaseInput!) {{ createPvNewCase(input: $input) {{
  case {{ id number version data {{ customerName {ENTRY} }} fees {{ code amount inputs }} }}
  errors {{ code message path }} }} }}"""
UPDATE = f"""mutation($input: UpdatePvNewCaseDataInput!) {{ updatePvNewCaseData(input: $input) {{
  case {{ version data {{ {ENTRY} }} }} errors {{ code message path }} }} }}"""
READ = f"""query($id: ID!) {{ case(id: $id) {{ ... on PvNewCase {{ data {{ {ENTRY} }} }} }} }}"""
LIST = """query($where: PvNewWhere) { pvNewCases(where: $where, orderBy: [{number: ASC}]) {
  totalCount nodes { data { customerName } } } }"""
ALL = """query($where: CaseWhere) { cases(where: $where) { totalCount } }"""
UPSERT_RULE = """mutation($input: UpsertFeeRuleInput!) { upsertFeeRule(input: $input) {
  errors { code message path } } }"""

PV_DRAFT: dict[str, Any] = {
    **copy.deepcopy(DRAFT),
    "code": "pv_new",
    "name": "分布式光伏新装",
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "id_number"},
        {"item": "capacity_kva"},
        {"item": "meters", "requiredAt": ["survey"]},
    ],
    "transitions": [
        {"from": "accept", "to": ["survey"]},
        {"from": "survey", "outcome": "RETURN", "to": ["accept"]},
        {
            "from": "survey",
            "to": ["reply"],
            "condition": "count(meters) >= 2 and sum(meters, ct_ratio) >= 60",
        },
        {"from": "survey", "to": ["connect"]},
        {"from": "reply", "to": ["connect"]},
    ],
}

TWO_METERS = [
    {"assetNo": "M-GEN-1", "purpose": "GENERATION", "ctRatio": 50, "startReading": "12.5"},
    {"assetNo": "M-GRID-1", "purpose": "GRID", "ctRatio": 20},
]


async def define(api: Api) -> None:
    await define_basics(api)
    made = (await api.data(UPSERT, {"input": METERS}))["upsertDataItem"]
    assert made["errors"] == [], made
    assert made["dataItem"]["fields"][0] == {
        "code": "asset_no",
        "type": "STRING",
        "required": True,
        "options": [],
    }
    assert (made["dataItem"]["minCount"], made["dataItem"]["maxCount"]) == (None, 4)
    saved = (await api.data(SAVE_DRAFT, {"input": PV_DRAFT}))["saveBusinessTypeDraft"]
    assert saved["errors"] == [] and saved["problems"] == [], saved
    published = (await api.data(PUBLISH, {"code": "pv_new"}))["publishBusinessType"]
    assert published["errors"] == [] and published["problems"] == [], published
    rule = {
        "code": "meter_fee",
        "name": "计量装置费",
        "businessTypes": ["pv_new"],
        "stage": "accept",
        "condition": "count(meters) >= 1",
        "amount": "sum(meters, ct_ratio) * 10.00",
    }
    assert (await api.data(UPSERT_RULE, {"input": rule}))["upsertFeeRule"]["errors"] == []


async def create(api: Api, name: str, meters: list[dict[str, Any]] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"customerName": name, "idNumber": VALID_ID}
    if meters is not None:
        data["meters"] = meters
    payload = {"input": {"orgUnit": "county", "submit": True, "data": data}}
    found: dict[str, Any] = (await api.data(CREATE, payload))["createPvNewCase"]
    return found


async def names(api: Api, meters_where: dict[str, Any]) -> list[str]:
    page = (await api.data(LIST, {"where": {"data": {"meters": meters_where}}}))["pvNewCases"]
    assert page["totalCount"] == len(page["nodes"])
    return [n["data"]["customerName"] for n in page["nodes"]]


async def test_a_list_item_is_written_read_filtered_and_computed_on(api: Api) -> None:
    await define(api)
    solar = await create(api, "光伏户", TWO_METERS)
    assert solar["errors"] == []
    expected = [
        {"assetNo": "M-GEN-1", "purpose": "GENERATION", "ctRatio": 50, "startReading": "12.50"},
        {"assetNo": "M-GRID-1", "purpose": "GRID", "ctRatio": 20, "startReading": None},
    ]
    assert solar["case"]["data"]["meters"] == expected
    # The fee rule reads the list: 10.00 per unit of CT ratio over every meter.
    assert solar["case"]["fees"] == [
        {
            "code": "meter_fee",
            "amount": "700.00",
            "inputs": {
                "meters": [
                    {
                        "asset_no": "M-GEN-1",
                        "purpose": "GENERATION",
                        "ct_ratio": 50,
                        "start_reading": "12.50",
                    },
                    {"asset_no": "M-GRID-1", "purpose": "GRID", "ct_ratio": 20},
                ]
            },
        }
    ]
    assert (await api.data(READ, {"id": solar["case"]["id"]}))["case"]["data"]["meters"] == (
        expected
    )
    grid_only = await create(api, "上网户", [{"assetNo": "M-GRID-2", "purpose": "GRID"}])
    assert grid_only["errors"] == []
    none = await create(api, "无表户", None)
    assert none["errors"] == [] and none["case"]["data"]["meters"] is None
    assert none["case"]["fees"] == []  # count(meters) >= 1 does not hold

    assert await names(api, {"any": {"purpose": {"eq": "GENERATION"}}}) == ["光伏户"]
    assert await names(api, {"any": {"purpose": {"eq": "GRID"}}}) == ["光伏户", "上网户"]
    assert await names(api, {"any": {"ctRatio": {"gt": 30}}}) == ["光伏户"]
    assert await names(api, {"any": {"ctRatio": {"gte": 20, "lt": 30}}}) == ["光伏户"]
    assert await names(api, {"any": {"startReading": {"eq": "12.5"}}}) == ["光伏户"]
    assert await names(api, {"any": {"assetNo": {"startsWith": "M-GRID"}}}) == [
        "光伏户",
        "上网户",
    ]
    # Every condition holds on one and the same entry.
    assert await names(api, {"any": {"purpose": {"eq": "GRID"}, "ctRatio": {"gt": 30}}}) == []
    assert await names(api, {"any": {"ctRatio": {"isNull": True}}}) == ["上网户"]
    assert await names(api, {"any": {}}) == ["光伏户", "上网户"]
    everything_but = {"not": {"data": {"meters": {"any": {"purpose": {"eq": "GENERATION"}}}}}}
    page = (await api.data(LIST, {"where": everything_but}))["pvNewCases"]
    assert [n["data"]["customerName"] for n in page["nodes"]] == ["上网户", "无表户"]
    # The dictionary-wide filter of `cases` offers the same.
    across = {"data": {"meters": {"any": {"purpose": {"eq": "GENERATION"}}}}}
    assert (await api.data(ALL, {"where": across}))["cases"]["totalCount"] == 1

    update = {
        "id": solar["case"]["id"],
        "expectedVersion": solar["case"]["version"],
        "data": {"meters": [{"assetNo": "M-GEN-9", "purpose": "GENERATION", "ctRatio": 5}]},
    }
    changed = (await api.data(UPDATE, {"input": update}))["updatePvNewCaseData"]
    assert changed["errors"] == []
    assert changed["case"]["data"]["meters"] == [
        {"assetNo": "M-GEN-9", "purpose": "GENERATION", "ctRatio": 5, "startReading": None}
    ]
    assert await names(api, {"any": {"ctRatio": {"gt": 30}}}) == []


async def test_a_bad_entry_is_refused_with_its_path_and_nothing_changes(api: Api) -> None:
    await define(api)
    refused = await create(api, "错表户", [{"assetNo": "M1"}, {"purpose": "GRID", "ctRatio": 0}])
    assert refused["case"] is None
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("VALIDATION", ["input", "data", "meters", "1", "ctRatio"]),
        ("REQUIRED", ["input", "data", "meters", "1", "assetNo"]),
    ]
    too_many = await create(api, "多表户", [{"assetNo": f"M{i}"} for i in range(5)])
    assert [(e["code"], e["path"]) for e in too_many["errors"]] == [
        ("VALIDATION", ["input", "data", "meters"])
    ]
    assert "at most 4 entries" in too_many["errors"][0]["message"]
    assert (await api.data(ALL, {"where": {}}))["cases"]["totalCount"] == 0


async def test_list_definitions_and_expressions_are_checked(api: Api) -> None:
    await define_basics(api)
    bad = {
        **METERS,
        "indexed": True,
        "minCount": 5,
        "fields": [{"code": "nested", "label": "嵌套", "type": "LIST"}],
    }
    refused = (await api.data(UPSERT, {"input": bad}))["upsertDataItem"]
    assert [e["path"] for e in refused["errors"]] == [
        ["input", "minCount"],
        ["input", "fields", "0", "type"],
        ["input", "indexed"],
    ]
    assert (await api.data(UPSERT, {"input": METERS}))["upsertDataItem"]["errors"] == []
    wrong = copy.deepcopy(PV_DRAFT)
    wrong["transitions"][2]["condition"] = "sum(meters, asset_no) > 1"
    saved = (await api.data(SAVE_DRAFT, {"input": wrong}))["saveBusinessTypeDraft"]
    assert [p["path"] for p in saved["problems"]] == [["transitions", "2", "condition"]]
    assert "field 'asset_no' is STRING" in saved["problems"][0]["message"]


async def test_a_type_whose_items_are_all_lists_publishes_with_nothing_to_order_by(
    api: Api,
) -> None:
    await define_basics(api)
    assert (await api.data(UPSERT, {"input": METERS}))["upsertDataItem"]["errors"] == []
    draft = {**copy.deepcopy(PV_DRAFT), "code": "meters_only", "name": "仅计量装置"}
    draft["items"] = [{"item": "meters"}]
    for transition in draft["transitions"]:
        if "condition" in transition:
            transition["condition"] = "count(meters) >= 2"
    saved = (await api.data(SAVE_DRAFT, {"input": draft}))["saveBusinessTypeDraft"]
    assert saved["errors"] == [] and saved["problems"] == [], saved
    published = (await api.data(PUBLISH, {"code": "meters_only"}))["publishBusinessType"]
    assert published["errors"] == [] and published["problems"] == [], published
    await api.refresh_schema()
    shape = await api.data('{ __type(name: "MetersOnlyOrderBy") { inputFields { name } } }')
    fields = {f["name"] for f in shape["__type"]["inputFields"]}
    assert "createdAt" in fields and "data" not in fields
    page = await api.data("{ metersOnlyCases(orderBy: [{createdAt: DESC}]) { totalCount } }")
    assert page["metersOnlyCases"]["totalCount"] == 0
