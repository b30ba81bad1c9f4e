"""Decimals keep the scale their item declares, end to end: 1219.1 kVA is read as 1219.10."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, define_basics, publish_hv_new

VALID_ID = "11010519491231002X"

UPSERT = """mutation($input: UpsertDataItemInput!, $allow: Boolean! = false) {
  upsertDataItem(input: $input, allowBreaking: $allow) {
    dataItem { code type scale } changes { property before after }
    errors { code message path } } }"""
ITEMS = "query { dataItems { code scale } }"
CREATE = """mutation($input: CreateHvNewCaseInput!) { createHvNewCase(input: $input) {
  case { id number version data { capacityKva deposit } events { action data } }
  errors { code message path } } }"""
UPDATE = """mutation($input: UpdateHvNewCaseDataInput!) { updateHvNewCaseData(input: $input) {
  case { data { customerName capacityKva } } errors { code message path } } }"""
READ = """query($id: ID!) { case(id: $id) { ... on HvNewCase { data { capacityKva deposit } } } }"""
LIST = """query($where: HvNewWhere, $orderBy: [HvNewOrderBy!]) {
  hvNewCases(where: $where, orderBy: $orderBy) { totalCount nodes { data { capacityKva } } } }"""
UPSERT_RULE = """mutation($input: UpsertFeeRuleInput!) { upsertFeeRule(input: $input) {
  errors { code message path } } }"""
FEES = """query($id: ID!) { case(id: $id) { fees { amount inputs explanation } } }"""


async def upsert(api: Api, item: dict[str, Any], *, allow: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(UPSERT, {"input": item, "allow": allow}))[
        "upsertDataItem"
    ]
    return found


async def create(api: Api, capacity: str, **data: Any) -> dict[str, Any]:
    application = {"customerName": "张三", "idNumber": VALID_ID, "capacityKva": capacity, **data}
    found: dict[str, Any] = (
        await api.data(
            CREATE, {"input": {"orgUnit": "county", "submit": True, "data": application}}
        )
    )["createHvNewCase"]
    return found


async def capacity_of(api: Api, case_id: str) -> str:
    value: str = (await api.data(READ, {"id": case_id}))["case"]["data"]["capacityKva"]
    return value


async def listed(api: Api, where: dict[str, Any]) -> list[str]:
    page = (
        await api.data(
            LIST, {"where": {"data": {"capacityKva": where}}, "orderBy": [{"number": "ASC"}]}
        )
    )["hvNewCases"]
    assert page["totalCount"] == len(page["nodes"])
    return [n["data"]["capacityKva"] for n in page["nodes"]]


async def test_a_scaled_item_gives_its_places_and_filters_by_value(api: Api) -> None:
    await define_basics(api)
    scaled = await upsert(api, {"code": "capacity_kva", "scale": 2})
    assert scaled["errors"] == []
    assert scaled["dataItem"] == {"code": "capacity_kva", "type": "DECIMAL", "scale": 2}
    assert scaled["changes"] == [{"property": "scale", "before": None, "after": "2"}]
    await publish_hv_new(api)
    scales = {i["code"]: i["scale"] for i in (await api.data(ITEMS))["dataItems"]}
    assert (scales["capacity_kva"], scales["deposit"], scales["customer_name"]) == (2, 2, None)

    first = await create(api, "1219.1", deposit="100")
    assert first["errors"] == []
    assert first["case"]["data"] == {"capacityKva": "1219.10", "deposit": "100.00"}
    created = next(e for e in first["case"]["events"] if e["action"] == "CREATED")
    assert created["data"]["data"]["capacity_kva"] == "1219.10"
    assert created["data"]["data"]["deposit"] == "100.00"
    assert await capacity_of(api, first["case"]["id"]) == "1219.10"
    second = await create(api, "630")
    assert second["case"]["data"]["capacityKva"] == "630.00"

    refused = await create(api, "1.234")
    assert refused["case"] is None
    assert refused["errors"] == [
        {
            "code": "VALIDATION",
            "message": "must have at most 2 decimal places",
            "path": ["input", "data", "capacityKva"],
        }
    ]

    # Filters compare numbers, so the places a value is written with never matter.
    assert await listed(api, {"eq": "1219.1"}) == ["1219.10"]
    assert await listed(api, {"eq": "1219.10"}) == ["1219.10"]
    assert await listed(api, {"in": ["630", "1219.1"]}) == ["1219.10", "630.00"]
    assert await listed(api, {"gte": "1219.1"}) == ["1219.10"]
    assert await listed(api, {"lt": "1219.1"}) == ["630.00"]
    assert await listed(api, {"ne": "630.0"}) == ["1219.10"]
    ordered = await api.data(LIST, {"orderBy": [{"data": {"capacityKva": "DESC"}}]})
    assert [n["data"]["capacityKva"] for n in ordered["hvNewCases"]["nodes"]] == [
        "1219.10",
        "630.00",
    ]


async def test_a_scale_declared_later_pads_old_values_and_never_rounds_them(api: Api) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    whole = (await create(api, "630"))["case"]
    fine = (await create(api, "1.234"))["case"]
    assert (whole["data"]["capacityKva"], fine["data"]["capacityKva"]) == ("630", "1.234")

    # Fewer places than the published version accepts: values it took may be refused next.
    gated = await upsert(api, {"code": "capacity_kva", "scale": 2})
    assert [(e["code"], e["path"]) for e in gated["errors"]] == [("CONFLICT", ["input", "scale"])]
    assert (
        "sets scale 2 where up to 10 decimal places were accepted" in gated["errors"][0]["message"]
    )
    allowed = await upsert(api, {"code": "capacity_kva", "scale": 2}, allow=True)
    assert allowed["errors"] == [] and allowed["dataItem"]["scale"] == 2
    await api.data(SAVE_DRAFT, {"input": DRAFT})
    republished = (await api.data(PUBLISH, {"code": "hv_new"}))["publishBusinessType"]
    assert republished["errors"] == [] and republished["version"] == 2

    assert await capacity_of(api, whole["id"]) == "630.00"
    assert await capacity_of(api, fine["id"]) == "1.234"  # kept whole, never rounded
    changed = (
        await api.data(
            UPDATE,
            {
                "input": {
                    "id": fine["id"],
                    "expectedVersion": fine["version"],
                    "data": {"customerName": "李四"},
                }
            },
        )
    )["updateHvNewCaseData"]
    assert changed["errors"] == [] and changed["case"]["data"]["capacityKva"] == "1.234"
    assert (await create(api, "1219.1"))["case"]["data"]["capacityKva"] == "1219.10"

    lowered = await upsert(api, {"code": "capacity_kva", "scale": 1})
    assert [(e["code"], e["path"]) for e in lowered["errors"]] == [("CONFLICT", ["input", "scale"])]
    assert "lowers scale from 2 to 1 decimal places" in lowered["errors"][0]["message"]
    raised = await upsert(api, {"code": "capacity_kva", "scale": 3})
    assert raised["errors"] == [] and raised["dataItem"]["scale"] == 3


async def test_a_scale_is_refused_where_it_cannot_hold(api: Api) -> None:
    await define_basics(api)
    for item, path in [
        ({"code": "customer_name", "scale": 2}, ["input", "scale"]),
        ({"code": "power_source_count", "scale": 0}, ["input", "scale"]),
        ({"code": "deposit", "scale": 3}, ["input", "scale"]),
        ({"code": "capacity_kva", "scale": 11}, ["input", "scale"]),
        ({"code": "capacity_kva", "scale": -1}, ["input", "scale"]),
        ({"code": "capacity_kva", "scale": 0}, ["input", "min"]),
    ]:
        refused = await upsert(api, item)
        assert [(e["code"], e["path"]) for e in refused["errors"]] == [("VALIDATION", path)], item
    assert (await upsert(api, {"code": "deposit", "scale": 2}))["errors"] == []
    retyped = await upsert(api, {"code": "capacity_kva", "scale": 2})
    assert retyped["errors"] == []
    # A new type starts without the old type's scale.
    integer = await upsert(api, {"code": "capacity_kva", "type": "INTEGER", "min": "1"})
    assert integer["errors"] == [] and integer["dataItem"]["scale"] is None


async def test_a_fee_on_a_scaled_item_is_exact_and_shows_its_places(api: Api) -> None:
    await define_basics(api)
    assert (await upsert(api, {"code": "capacity_kva", "scale": 2}))["errors"] == []
    await publish_hv_new(api)
    rule = {
        "code": "capacity_fee",
        "name": "容量费",
        "businessTypes": ["hv_new"],
        "stage": "accept",
        "amount": "capacity_kva * 2.5",
    }
    assert (await api.data(UPSERT_RULE, {"input": rule}))["upsertFeeRule"]["errors"] == []
    case = (await create(api, "1219.1"))["case"]
    [fee] = (await api.data(FEES, {"id": case["id"]}))["case"]["fees"]
    assert fee == {
        "amount": "3047.75",
        "inputs": {"capacity_kva": "1219.10"},
        "explanation": "1219.10 kVA × 2.5 = 3047.75",
    }
