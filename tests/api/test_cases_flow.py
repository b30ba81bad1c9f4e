"""The foundation end to end: define, publish, then create, update and list typed cases."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.setup_metamodel import define_basics, publish_hv_new

VALID_ID = "11010519491231002X"

CREATE = """mutation($input: CreateHvNewCaseInput!) { createHvNewCase(input: $input) {
  case { id number status version currentStages { code name } businessType { code name }
         orgUnit { code } priority
         data { customerName idNumber capacityKva electricityCategory requestedDate isImportant deposit } }
  accessCode errors { code message path } } }"""

UPDATE = """mutation($input: UpdateHvNewCaseDataInput!) { updateHvNewCaseData(input: $input) {
  case { id version data { customerName capacityKva surveyNotes } } errors { code message path } } }"""

LIST = """query($where: HvNewWhere, $orderBy: [HvNewOrderBy!], $first: Int, $after: String) {
  hvNewCases(where: $where, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { number status data { customerName capacityKva electricityCategory } } } }"""


def application(name: str, capacity: str, **more: Any) -> dict[str, Any]:
    return {"customerName": name, "idNumber": VALID_ID, "capacityKva": capacity, **more}


async def test_publish_then_create_update_and_list_without_restart(api: Api) -> None:
    await define_basics(api)
    assert await publish_hv_new(api) == 1

    created = await api.data(
        CREATE,
        {
            "input": {
                "orgUnit": "county",
                "submit": True,
                "data": application(
                    "张三",
                    "630",
                    electricityCategory="COMMERCIAL",
                    requestedDate="2026-12-01",
                    isImportant=True,
                    deposit="100.5",
                ),
            }
        },
    )
    payload = created["createHvNewCase"]
    assert payload["errors"] == []
    case = payload["case"]
    assert case["status"] == "IN_PROGRESS"
    assert case["currentStages"] == [{"code": "accept", "name": "业务受理"}]
    assert case["businessType"] == {"code": "hv_new", "name": "高压新装"}
    assert case["orgUnit"] == {"code": "county"}
    assert case["priority"] == 5
    assert case["data"] == {
        "customerName": "张三",
        "idNumber": VALID_ID,
        "capacityKva": "630",
        "electricityCategory": "COMMERCIAL",
        "requestedDate": "2026-12-01",
        "isImportant": True,
        "deposit": "100.50",
    }
    assert len(payload["accessCode"]) == 12
    assert case["number"].isdigit() and len(case["number"]) == 13

    draft = (
        await api.data(CREATE, {"input": {"orgUnit": "city", "data": application("李四", "100")}})
    )["createHvNewCase"]["case"]
    assert draft["status"] == "DRAFT" and draft["currentStages"] == []
    assert draft["number"] != case["number"]

    updated = await api.data(
        UPDATE,
        {
            "input": {
                "id": case["id"],
                "expectedVersion": case["version"],
                "data": {"customerName": "张三丰", "capacityKva": "800.25"},
            }
        },
    )
    assert updated["updateHvNewCaseData"]["errors"] == []
    assert updated["updateHvNewCaseData"]["case"]["version"] == case["version"] + 1
    assert updated["updateHvNewCaseData"]["case"]["data"]["capacityKva"] == "800.25"

    stale = await api.data(
        UPDATE,
        {
            "input": {
                "id": case["id"],
                "expectedVersion": case["version"],
                "data": {"customerName": "王五"},
            }
        },
    )
    assert [e["code"] for e in stale["updateHvNewCaseData"]["errors"]] == ["CONFLICT"]

    big = await api.data(LIST, {"where": {"data": {"capacityKva": {"gt": "160"}}}})
    assert [n["data"]["customerName"] for n in big["hvNewCases"]["nodes"]] == ["张三丰"]
    assert big["hvNewCases"]["totalCount"] == 1

    every = await api.data(LIST, {"orderBy": [{"data": {"capacityKva": "ASC"}}]})
    assert [n["data"]["capacityKva"] for n in every["hvNewCases"]["nodes"]] == ["100", "800.25"]

    either = await api.data(
        LIST,
        {
            "where": {
                "or": [
                    {"status": {"eq": "DRAFT"}},
                    {"data": {"electricityCategory": {"eq": "COMMERCIAL"}}},
                ]
            },
            "orderBy": [{"number": "DESC"}],
        },
    )
    assert len(either["hvNewCases"]["nodes"]) == 2

    in_city = await api.data(LIST, {"where": {"orgUnit": {"eq": "city"}}})
    assert in_city["hvNewCases"]["totalCount"] == 2  # county is below city

    paged = await api.data(LIST, {"first": 1, "orderBy": [{"createdAt": "ASC"}]})
    assert paged["hvNewCases"]["pageInfo"]["hasNextPage"] is True
    rest = await api.data(
        LIST,
        {
            "first": 1,
            "after": paged["hvNewCases"]["pageInfo"]["endCursor"],
            "orderBy": [{"createdAt": "ASC"}],
        },
    )
    assert rest["hvNewCases"]["pageInfo"]["hasNextPage"] is False
    assert rest["hvNewCases"]["nodes"][0]["number"] != paged["hvNewCases"]["nodes"][0]["number"]

    across = await api.data(
        '{ cases(where: {businessType: {eq: "hv_new"}}) { totalCount nodes { number ... on HvNewCase { data { customerName } } } } }'
    )
    assert across["cases"]["totalCount"] == 2
    one = await api.data(
        "query($n: String!) { case(number: $n) { status ... on HvNewCase { data { capacityKva } } } }",
        {"n": case["number"]},
    )
    assert one["case"] == {"status": "IN_PROGRESS", "data": {"capacityKva": "800.25"}}


async def test_bad_data_reports_every_problem_with_paths_and_changes_nothing(api: Api) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    result = await api.data(
        CREATE,
        {
            "input": {
                "orgUnit": "county",
                "data": {
                    "customerName": "x" * 101,
                    "idNumber": "110105194912310021",
                    "capacityKva": "0",
                    "deposit": "1.234",
                },
            }
        },
    )
    errors = result["createHvNewCase"]["errors"]
    assert result["createHvNewCase"]["case"] is None
    assert {tuple(e["path"]) for e in errors} == {
        ("input", "data", "customerName"),
        ("input", "data", "idNumber"),
        ("input", "data", "capacityKva"),
        ("input", "data", "deposit"),
    }
    assert all(e["code"] == "VALIDATION" for e in errors)
    listed = await api.data("{ hvNewCases { totalCount } }")
    assert listed["hvNewCases"]["totalCount"] == 0


async def test_idempotent_create_returns_the_first_case(api: Api) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    variables = {
        "input": {"orgUnit": "county", "idempotencyKey": "req-1", "data": application("赵六", "50")}
    }
    first = (await api.data(CREATE, variables))["createHvNewCase"]
    again = (await api.data(CREATE, variables))["createHvNewCase"]
    assert again["case"]["id"] == first["case"]["id"]
    assert again["accessCode"] is None  # shown once only
    assert (await api.data("{ hvNewCases { totalCount } }"))["hvNewCases"]["totalCount"] == 1


async def test_editable_at_limits_writes_to_its_stages(api: Api) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    case = (
        await api.data(
            CREATE,
            {"input": {"orgUnit": "county", "submit": True, "data": application("钱七", "10")}},
        )
    )["createHvNewCase"]["case"]
    refused = await api.data(
        UPDATE,
        {
            "input": {
                "id": case["id"],
                "expectedVersion": case["version"],
                "data": {"surveyNotes": "ok"},
            }
        },
    )
    errors = refused["updateHvNewCaseData"]["errors"]
    assert [(e["code"], e["path"]) for e in errors] == [
        ("VALIDATION", ["input", "data", "surveyNotes"])
    ]
