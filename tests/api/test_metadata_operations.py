"""The administrators' metadata operations: validation, frozen properties, org tree, publishing."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
import yaml

from tests.api.conftest import Api
from tests.api.setup_metamodel import (
    DRAFT,
    ITEMS,
    PUBLISH,
    SAVE_DRAFT,
    UPSERT_ITEM,
    UPSERT_ORG,
    define_basics,
    publish_hv_new,
)
from tests.api.test_cases_flow import CREATE, application

BUSINESS_TYPE = """query($code: String!) { businessType(code: $code) {
  code name status latestVersion
  draft { name priority stages { stage outcomes } transitions { from outcome to condition } start }
  versions { version publishedBy publishedAt definition { name } }
  diagram(format: MERMAID) } }"""
VALIDATE = "query($code: String!) { validateBusinessType(code: $code) { code message path } }"
RETIRE = """mutation($code: String!) { retireBusinessType(code: $code) {
  businessType { code status latestVersion } errors { code message path } } }"""
ROOT_FIELDS = """{ query: __type(name: "Query") { fields { name } }
  mutation: __type(name: "Mutation") { fields { name } } }"""
DATA_FIELDS = """{ data: __type(name: "HvNewData") { fields(includeDeprecated: true) {
    name isDeprecated deprecationReason } }
  input: __type(name: "HvNewDataInput") { inputFields { name } } }"""


def item(code: str) -> dict[str, Any]:
    """The definition of one of the shared items, to modify."""
    return copy.deepcopy(next(i for i in ITEMS if i["code"] == code))


def without(draft: dict[str, Any], *codes: str) -> dict[str, Any]:
    """The draft without some items."""
    return {**draft, "items": [u for u in draft["items"] if u["item"] not in codes]}


async def root_fields(api: Api) -> tuple[set[str], set[str]]:
    found = await api.data(ROOT_FIELDS, as_user=None)
    return (
        {f["name"] for f in found["query"]["fields"]},
        {f["name"] for f in found["mutation"]["fields"]},
    )


async def item_codes(api: Api) -> dict[str, str]:
    return {
        i["code"]: i["type"] for i in (await api.data("{ dataItems { code type } }"))["dataItems"]
    }


# -- data items ---------------------------------------------------------------------------------

INVALID_ITEMS: list[tuple[str, dict[str, Any], set[tuple[str, ...]]]] = [
    (
        "enum without options",
        {"code": "voltage_level", "label": "电压等级", "type": "ENUM"},
        {("input", "options")},
    ),
    (
        "min greater than max",
        {"code": "meter_count", "label": "表计数", "type": "INTEGER", "min": "5", "max": "1"},
        {("input", "min")},
    ),
    (
        "limit not in the item's form",
        {"code": "start_date", "label": "开始日期", "type": "DATE", "min": "tomorrow"},
        {("input", "min")},
    ),
    ("bad code", {"code": "Bad-Code", "label": "x", "type": "STRING"}, {("input", "code")}),
    ("empty label", {"code": "blank_label", "label": " ", "type": "STRING"}, {("input", "label")}),
    (
        "options on a non-enum",
        {
            "code": "str_opts",
            "label": "x",
            "type": "STRING",
            "options": [{"value": "A", "label": "a"}],
        },
        {("input", "options")},
    ),
    (
        "bad option value",
        {
            "code": "bad_option",
            "label": "x",
            "type": "ENUM",
            "options": [{"value": "a b", "label": "a"}],
        },
        {("input", "options", "0", "value")},
    ),
    (
        "every problem at once",
        {"code": "9lives", "label": "", "type": "DECIMAL", "min": "x", "max": "1"},
        {("input", "code"), ("input", "label"), ("input", "min")},
    ),
]


async def test_invalid_data_items_report_every_problem_with_paths_and_save_nothing(
    api: Api,
) -> None:
    for label, definition, paths in INVALID_ITEMS:
        payload = (await api.data(UPSERT_ITEM, {"input": definition}))["upsertDataItem"]
        assert payload["dataItem"] is None, (label, payload)
        assert {tuple(e["path"]) for e in payload["errors"]} == paths, (label, payload)
        assert {e["code"] for e in payload["errors"]} == {"VALIDATION"}, (label, payload)
        assert all(e["message"] for e in payload["errors"])
    assert await item_codes(api) == {}
    saved = (await api.data(UPSERT_ITEM, {"input": item("capacity_kva")}))["upsertDataItem"]
    assert saved == {"dataItem": {"code": "capacity_kva", "type": "DECIMAL"}, "errors": []}


async def test_a_published_item_keeps_its_type_and_enum_options(api: Api) -> None:
    await define_basics(api)
    # Before any publish, an item may change freely.
    loose = await api.data(UPSERT_ITEM, {"input": {**item("deposit"), "type": "DECIMAL"}})
    assert loose["upsertDataItem"]["errors"] == []
    await publish_hv_new(api)

    retyped = await api.data(
        UPSERT_ITEM, {"input": {**item("capacity_kva"), "type": "INTEGER", "min": "1"}}
    )
    payload = retyped["upsertDataItem"]
    assert payload["dataItem"] is None
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("CONFLICT", ["input", "type"])]

    category = item("electricity_category")
    category["options"] = category["options"][:1]
    dropped = (await api.data(UPSERT_ITEM, {"input": category}))["upsertDataItem"]
    assert [(e["code"], e["path"]) for e in dropped["errors"]] == [
        ("CONFLICT", ["input", "options"])
    ]
    assert "COMMERCIAL" in dropped["errors"][0]["message"]

    options = await api.data("{ dataItems { code type options { value } } }")
    by_code = {i["code"]: i for i in options["dataItems"]}
    assert by_code["capacity_kva"]["type"] == "DECIMAL"
    assert [o["value"] for o in by_code["electricity_category"]["options"]] == [
        "RESIDENT",
        "COMMERCIAL",
    ]
    # Adding an option is allowed.
    category = item("electricity_category")
    category["options"].append({"value": "AGRICULTURE", "label": "农业"})
    added = (await api.data(UPSERT_ITEM, {"input": category}))["upsertDataItem"]
    assert added["errors"] == []
    options = (await api.data("{ dataItems { code options { value } } }"))["dataItems"]
    assert [
        o["value"] for i in options if i["code"] == "electricity_category" for o in i["options"]
    ] == [
        "RESIDENT",
        "COMMERCIAL",
        "AGRICULTURE",
    ]


async def test_adding_an_option_to_a_published_enum_item_keeps_the_schema_building(
    api: Api,
) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    category = item("electricity_category")
    category["options"].append({"value": "AGRICULTURE", "label": "农业"})
    assert (await api.data(UPSERT_ITEM, {"input": category}))["upsertDataItem"]["errors"] == []
    await api.refresh_schema()
    health = (await api.client.get("/healthz")).json()
    assert health["lastBuildError"] is None, health
    found = await api.data(
        "{ cases(where: {data: {electricityCategory: {eq: AGRICULTURE}}}) { totalCount } }"
    )
    assert found["cases"]["totalCount"] == 0


# -- org units ----------------------------------------------------------------------------------


async def test_org_units_refuse_unknown_parents_and_cycles_and_move_subtrees(api: Api) -> None:
    await define_basics(api)
    station = await api.data(
        UPSERT_ORG, {"input": {"code": "station", "name": "供电所", "parent": "county"}}
    )
    assert station["upsertOrgUnit"]["orgUnit"] == {
        "code": "station",
        "path": ["province", "city", "county", "station"],
    }
    tree_before = await api.data("{ orgUnits { code parent path } }")

    unknown = (
        await api.data(UPSERT_ORG, {"input": {"code": "town", "name": "镇", "parent": "atlantis"}})
    )["upsertOrgUnit"]
    assert unknown["orgUnit"] is None
    assert [(e["code"], e["path"]) for e in unknown["errors"]] == [
        ("NOT_FOUND", ["input", "parent"])
    ]
    for parent in ("station", "county", "city"):  # below itself, or itself
        cycle = (
            await api.data(
                UPSERT_ORG, {"input": {"code": "city", "name": "市公司", "parent": parent}}
            )
        )["upsertOrgUnit"]
        assert cycle["orgUnit"] is None, parent
        assert [(e["code"], e["path"]) for e in cycle["errors"]] == [
            ("VALIDATION", ["input", "parent"])
        ], parent
    assert await api.data("{ orgUnits { code parent path } }") == tree_before

    moved = (
        await api.data(
            UPSERT_ORG, {"input": {"code": "county", "name": "县公司", "parent": "province"}}
        )
    )["upsertOrgUnit"]
    assert moved["errors"] == []
    assert moved["orgUnit"] == {"code": "county", "path": ["province", "county"]}
    tree = (await api.data("{ orgUnits { code name parent path } }"))["orgUnits"]
    assert {u["code"]: (u["parent"], u["path"]) for u in tree} == {
        "province": (None, ["province"]),
        "city": ("province", ["province", "city"]),
        "county": ("province", ["province", "county"]),
        "station": ("county", ["province", "county", "station"]),
    }
    codes = [u["code"] for u in tree]
    assert codes.index("county") < codes.index("station")  # parents before children


# -- drafts and validation ----------------------------------------------------------------------


def broken_draft() -> dict[str, Any]:
    """A draft with a stage the library lacks and a stage no transition leads to."""
    draft = copy.deepcopy(DRAFT)
    draft["stages"].append({"stage": "nowhere"})
    draft["transitions"] = [t for t in draft["transitions"] if t["to"] != ["reply"]]
    return draft


async def test_an_invalid_draft_is_saved_with_its_problems_and_cannot_be_published(
    api: Api,
) -> None:
    await define_basics(api)
    saved = (await api.data(SAVE_DRAFT, {"input": broken_draft()}))["saveBusinessTypeDraft"]
    assert saved["errors"] == []
    assert saved["businessType"] == {"code": "hv_new", "status": "DRAFT", "latestVersion": None}
    problems = saved["problems"]
    codes = {(p["code"], tuple(p["path"])) for p in problems}
    assert ("UNKNOWN_STAGE", ("stages", "4", "stage")) in codes, problems
    assert ("UNREACHABLE_STAGE", ("stages", "2", "stage")) in codes, problems

    validated = (await api.data(VALIDATE, {"code": "hv_new"}))["validateBusinessType"]
    assert validated == problems
    stored = (await api.data(BUSINESS_TYPE, {"code": "hv_new"}))["businessType"]
    assert [s["stage"] for s in stored["draft"]["stages"]] == [
        "accept",
        "survey",
        "reply",
        "connect",
        "nowhere",
    ]

    published = (await api.data(PUBLISH, {"code": "hv_new"}))["publishBusinessType"]
    assert published["version"] is None
    assert [e["code"] for e in published["errors"]] == ["VALIDATION"]
    assert published["problems"] == problems
    after = (await api.data(BUSINESS_TYPE, {"code": "hv_new"}))["businessType"]
    assert after["latestVersion"] is None and after["versions"] == []
    assert after["status"] == "DRAFT"
    queries, mutations = await root_fields(api)
    assert "hvNewCases" not in queries and "createHvNewCase" not in mutations

    missing = (await api.data(VALIDATE, {"code": "no_such_type"}))["validateBusinessType"]
    assert [p["code"] for p in missing] == ["NOT_FOUND"]
    unknown = (await api.data(PUBLISH, {"code": "no_such_type"}))["publishBusinessType"]
    assert [e["code"] for e in unknown["errors"]] == ["NOT_FOUND"]


async def test_a_draft_with_a_bad_code_or_name_is_not_saved(api: Api) -> None:
    for change, path in [
        ({"code": "Hv-New"}, ["input", "code"]),
        ({"name": "  "}, ["input", "name"]),
    ]:
        payload = (await api.data(SAVE_DRAFT, {"input": {**DRAFT, **change}}))[
            "saveBusinessTypeDraft"
        ]
        assert payload["businessType"] is None
        assert [e["path"] for e in payload["errors"]] == [path]
    assert (await api.data("{ businessTypes { code } }"))["businessTypes"] == []


# -- publishing ---------------------------------------------------------------------------------


async def test_a_dry_run_reports_changes_and_publishes_nothing(api: Api) -> None:
    await define_basics(api)
    assert (await api.data(SAVE_DRAFT, {"input": DRAFT}))["saveBusinessTypeDraft"]["problems"] == []
    registry = api.app.state.services.registry
    await registry.refresh()  # serve the draft's revision now, not when the poll comes round
    revision = (await api.client.get("/healthz")).json()["revision"]

    dry = (await api.data(PUBLISH, {"code": "hv_new", "dry": True}))["publishBusinessType"]
    assert dry["errors"] == [] and dry["problems"] == []
    assert dry["version"] == 1
    assert dry["schemaChanges"] is not None and dry["schemaChanges"]["breaking"] == []

    queries, mutations = await root_fields(api)
    assert "hvNewCases" not in queries and "createHvNewCase" not in mutations
    stored = (await api.data(BUSINESS_TYPE, {"code": "hv_new"}))["businessType"]
    assert stored["latestVersion"] is None and stored["versions"] == []
    await registry.refresh()  # a revision the dry run wrote would be served now
    assert (await api.client.get("/healthz")).json()["revision"] == revision

    assert await publish_hv_new(api) == 1
    queries, mutations = await root_fields(api)
    assert "hvNewCases" in queries and "createHvNewCase" in mutations


async def test_dropping_an_item_is_breaking_and_the_item_stays_readable_deprecated(
    api: Api,
) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    case = (
        await api.data(
            CREATE,
            {"input": {"orgUnit": "county", "data": application("郑十", "20", deposit="5")}},
        )
    )["createHvNewCase"]["case"]
    smaller = without(DRAFT, "deposit")
    assert (await api.data(SAVE_DRAFT, {"input": smaller}))["saveBusinessTypeDraft"][
        "problems"
    ] == []

    refused = (await api.data(PUBLISH, {"code": "hv_new"}))["publishBusinessType"]
    assert [e["code"] for e in refused["errors"]] == ["BREAKING_CHANGE"]
    assert refused["version"] is None  # nothing was published
    breaking = refused["schemaChanges"]["breaking"]
    assert any(
        b["type"] == "FIELD_REMOVED" and "HvNewDataInput.deposit" in b["description"]
        for b in breaking
    ), breaking
    dry = (await api.data(PUBLISH, {"code": "hv_new", "dry": True}))["publishBusinessType"]
    assert [e["code"] for e in dry["errors"]] == ["BREAKING_CHANGE"]
    dry_allowed = (await api.data(PUBLISH, {"code": "hv_new", "dry": True, "allow": True}))[
        "publishBusinessType"
    ]
    assert dry_allowed["errors"] == [] and dry_allowed["schemaChanges"]["breaking"] == breaking
    stored = (await api.data(BUSINESS_TYPE, {"code": "hv_new"}))["businessType"]
    assert [v["version"] for v in stored["versions"]] == [1]
    fields = await api.data(DATA_FIELDS)
    assert "deposit" in {f["name"] for f in fields["input"]["inputFields"]}

    allowed = (await api.data(PUBLISH, {"code": "hv_new", "allow": True}))["publishBusinessType"]
    assert allowed["errors"] == [] and allowed["version"] == 2
    assert allowed["schemaChanges"]["breaking"] == breaking

    fields = await api.data(DATA_FIELDS)
    data_fields = {f["name"]: f for f in fields["data"]["fields"]}
    assert data_fields["deposit"]["isDeprecated"] is True
    assert data_fields["deposit"]["deprecationReason"]
    assert data_fields["customerName"]["isDeprecated"] is False
    assert "deposit" not in {f["name"] for f in fields["input"]["inputFields"]}
    assert "customerName" in {f["name"] for f in fields["input"]["inputFields"]}

    read = await api.data(
        "query($n: String!) { case(number: $n) { businessTypeVersion"
        " ... on HvNewCase { data { customerName deposit } } } }",
        {"n": case["number"]},
    )
    assert read["case"] == {
        "businessTypeVersion": 1,
        "data": {"customerName": "郑十", "deposit": "5.00"},
    }
    stored = (await api.data(BUSINESS_TYPE, {"code": "hv_new"}))["businessType"]
    assert [v["version"] for v in stored["versions"]] == [1, 2]
    assert all(v["publishedBy"] == "admin" for v in stored["versions"])
    assert stored["latestVersion"] == 2


async def test_retiring_removes_create_but_keeps_cases_readable(api: Api) -> None:
    await define_basics(api)
    not_yet = (await api.data(RETIRE, {"code": "hv_new"}))["retireBusinessType"]
    assert [e["code"] for e in not_yet["errors"]] == ["NOT_FOUND"]
    await api.data(SAVE_DRAFT, {"input": DRAFT})
    draft_only = (await api.data(RETIRE, {"code": "hv_new"}))["retireBusinessType"]
    assert [e["code"] for e in draft_only["errors"]] == ["INVALID_TRANSITION"]
    await publish_hv_new(api)
    case = (
        await api.data(CREATE, {"input": {"orgUnit": "county", "data": application("冯一", "8")}})
    )["createHvNewCase"]["case"]

    retired = (await api.data(RETIRE, {"code": "hv_new"}))["retireBusinessType"]
    assert retired == {
        "businessType": {"code": "hv_new", "status": "RETIRED", "latestVersion": 1},
        "errors": [],
    }
    queries, mutations = await root_fields(api)
    assert "createHvNewCase" not in mutations
    assert "hvNewCases" in queries and "updateHvNewCaseData" in mutations
    refused = await api.post(
        CREATE, {"input": {"orgUnit": "county", "data": application("冯二", "8")}}
    )
    assert refused["data"] is None
    assert any("'createHvNewCase'" in e["message"] for e in refused["errors"]), refused

    listed = await api.data("{ hvNewCases { totalCount nodes { number data { customerName } } } }")
    assert listed["hvNewCases"]["nodes"] == [
        {"number": case["number"], "data": {"customerName": "冯一"}}
    ]
    one = await api.data("query($id: ID!) { case(id: $id) { number status } }", {"id": case["id"]})
    assert one["case"] == {"number": case["number"], "status": "DRAFT"}
    again = (await api.data(RETIRE, {"code": "hv_new"}))["retireBusinessType"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_TRANSITION"]


async def test_business_type_shows_draft_versions_and_a_mermaid_diagram(api: Api) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    await api.data(SAVE_DRAFT, {"input": {**DRAFT, "name": "高压新装（修订）", "priority": 9}})
    found = (await api.data(BUSINESS_TYPE, {"code": "hv_new"}))["businessType"]
    assert found["name"] == "高压新装"  # the published name until the next publish
    assert found["status"] == "PUBLISHED" and found["latestVersion"] == 1
    assert found["draft"]["name"] == "高压新装（修订）" and found["draft"]["priority"] == 9
    assert found["draft"]["start"] == "accept"
    assert found["draft"]["stages"][1] == {"stage": "survey", "outcomes": ["APPROVE", "RETURN"]}
    assert found["draft"]["transitions"][2] == {
        "from": "survey",
        "outcome": "APPROVE",
        "to": ["reply"],
        "condition": "capacity_kva > 160",
    }
    assert [(v["version"], v["definition"]["name"]) for v in found["versions"]] == [(1, "高压新装")]
    diagram = found["diagram"].splitlines()
    assert diagram[0] == "flowchart TD"
    assert '    accept(["业务受理"])' in diagram  # the start stage
    assert '    survey["现场勘查"]' in diagram
    assert "    accept --> survey" in diagram
    assert '    survey -->|"RETURN"| accept' in diagram
    assert '    survey -->|"if capacity_kva > 160"| reply' in diagram
    assert (await api.data(BUSINESS_TYPE, {"code": "nothing"}))["businessType"] is None


async def test_name_and_group_are_the_served_ones_or_the_drafts_before_a_publish(
    api: Api,
) -> None:
    await define_basics(api)
    shown = "query { businessTypes { name group draft { name group } } }"
    await api.data(SAVE_DRAFT, {"input": DRAFT})
    renamed = {**DRAFT, "name": "高压新装（试行）", "group": "CHANGE"}
    await api.data(SAVE_DRAFT, {"input": renamed})
    [unpublished] = (await api.data(shown))["businessTypes"]
    assert unpublished == {
        "name": "高压新装（试行）",
        "group": "CHANGE",
        "draft": {"name": "高压新装（试行）", "group": "CHANGE"},
    }
    await publish_hv_new(api, renamed)
    await api.data(SAVE_DRAFT, {"input": {**DRAFT, "name": "高压新装（修订）", "group": "OTHER"}})
    [published] = (await api.data(shown))["businessTypes"]
    assert published == {
        "name": "高压新装（试行）",
        "group": "CHANGE",
        "draft": {"name": "高压新装（修订）", "group": "OTHER"},
    }


async def test_export_metamodel_is_yaml_naming_items_and_business_types(api: Api) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    text = (await api.data("{ exportMetamodel }"))["exportMetamodel"]
    exported = yaml.safe_load(text)
    assert [i["code"] for i in exported["data_items"]] == sorted(i["code"] for i in ITEMS)
    assert "户名" in text  # Chinese kept readable
    assert [s["code"] for s in exported["stages"]] == sorted(
        ["accept", "survey", "reply", "connect"]
    )
    assert [u["code"] for u in exported["org_units"]] == ["province", "city", "county"]
    [business_type] = exported["business_types"]
    assert business_type["code"] == "hv_new" and business_type["name"] == "高压新装"
    assert [u["item"] for u in business_type["items"]] == [u["item"] for u in DRAFT["items"]]


async def test_a_huge_bad_condition_is_quoted_in_part_in_problems_and_logs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    await define_basics(api)
    huge = "capacity_kva > (" + "1 + " * 7500 + ")"  # 30 KB, too long and unparsable
    transitions = [dict(t) for t in DRAFT["transitions"]]
    transitions[2]["condition"] = huge
    with caplog.at_level(logging.INFO):
        saved = await api.data(SAVE_DRAFT, {"input": {**DRAFT, "transitions": transitions}})
        published = (await api.data(PUBLISH, {"code": "hv_new"}))["publishBusinessType"]
    problems = saved["saveBusinessTypeDraft"]["problems"]
    assert [p["code"] for p in problems] == ["BAD_EXPRESSION"]
    assert published["problems"] == problems
    assert len(problems[0]["message"]) < 400
    assert problems[0]["message"].startswith("condition 'capacity_kva > (1 + 1 + ")
    assert "…" in problems[0]["message"]
    assert all(len(r.getMessage()) < 1000 for r in caplog.records)
