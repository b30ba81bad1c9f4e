"""The data and the queries the compiled path is compared on (`test_compiled_queries`).

Two business types (one with a LIST item), every item type, values at the edges of their
forms (text with quotes, control characters and Chinese; decimals with and without a scale;
instants with and without microseconds; empty items), four callers (ADMIN, a MANAGER, two
STAFF of different posts, each with items hidden from them) and queries that use every part of
a case list and a case the compiler covers: aliases, fragments, variables, directives,
typenames, every ordering key with nulls, pages both ways, filters of every type.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from tests.api.conftest import Api, add_user
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, UPSERT_ITEM, define_basics
from tests.api.test_list_items import METERS, PV_DRAFT
from tests.api.test_scope_visibility import unit_id

VALID_ID = "11010519491231002X"
EXTRA_ITEMS: list[dict[str, Any]] = [
    {"code": "surveyed_at", "label": "勘查时间", "type": "DATETIME"},
    {"code": "transformer_kva", "label": "变压器容量", "type": "DECIMAL", "scale": 1},
]
HV: dict[str, Any] = copy.deepcopy(DRAFT)
HV["items"] = [
    {**usage, "visibleTo": ["acceptor"]} if usage["item"] == "id_number" else usage
    for usage in HV["items"]
] + [{"item": "surveyed_at"}, {"item": "transformer_kva", "visibleTo": ["surveyor"]}]
HV["items"] = [
    {k: v for k, v in u.items() if k != "editableAt"} if u["item"] == "survey_notes" else u
    for u in HV["items"]
]
PV: dict[str, Any] = copy.deepcopy(PV_DRAFT)
PV["items"] = [
    {**u, "visibleTo": ["surveyor", "acceptor"]} if u["item"] == "meters" else u
    for u in PV["items"]
]
PV["items"] = [
    {**u, "visibleTo": ["surveyor"]} if u["item"] == "capacity_kva" else u for u in PV["items"]
]
PEOPLE = [
    ("mgr", ["MANAGER"], "city", []),
    ("acc", ["STAFF"], "county", ["acceptor"]),
    ("sur", ["STAFF"], "county", ["surveyor"]),
]
CALLERS = ("admin", "mgr", "acc", "sur")

HV_CASES: list[dict[str, Any]] = [
    {
        "customerName": '引号"与\\反斜杠 </tag>',
        "idNumber": VALID_ID,
        "contactPhone": "13812345678",
        "capacityKva": "630.5",
        "powerSourceCount": 2,
        "requestedDate": "2026-03-02",
        "isImportant": True,
        "electricityCategory": "COMMERCIAL",
        "deposit": "1200",
        "surveyNotes": "第一行\n第二行\r\n\t制表 /slash é 😀",
        "surveyedAt": "2026-03-02T09:00:00+08:00",
        "transformerKva": "800",
    },
    {
        "customerName": "乙",
        "idNumber": VALID_ID,
        "capacityKva": "100",
        "powerSourceCount": 1,
        "isImportant": False,
        "electricityCategory": "RESIDENT",
        "deposit": "0.5",
        "surveyedAt": "2026-03-02T09:00:00.250000Z",
        "transformerKva": "0",
    },
    {"customerName": "丙", "idNumber": VALID_ID, "capacityKva": "0.1"},
    {
        "customerName": "丁",
        "idNumber": VALID_ID,
        "capacityKva": "99999.9999",
        "requestedDate": "2025-12-31",
        "deposit": "99999999.99",
    },
]
PV_CASES: list[dict[str, Any]] = [
    {
        "customerName": "光伏甲",
        "idNumber": VALID_ID,
        "capacityKva": "50",
        "meters": [
            {"assetNo": "M-1", "purpose": "GENERATION", "ctRatio": 50, "startReading": "12.5"},
            {"assetNo": 'M-"2"', "purpose": "GRID"},
            {"assetNo": "M-3", "startReading": "0"},
        ],
    },
    {"customerName": "光伏乙", "idNumber": VALID_ID},
]

CASE_FIELDS = """id number __typename businessType { code name __typename } businessTypeVersion
  status orgUnit { code name } customerNumber priority createdAt submittedAt completedAt dueAt
  isOverdue version currentStages { code name __typename }
  tasks { __typename id stage { code name } post { code name } assignee { username name }
    orgUnit { code name } status outcome comment createdAt dueAt completedAt isOverdue }
  deadlines { __typename kind code stage { code name } dueAt warnedAt breachedAt metAt }"""
HV_DATA = """data { __typename customerName idNumber contactPhone capacityKva powerSourceCount
  requestedDate isImportant electricityCategory deposit surveyNotes surveyedAt transformerKva }"""
PV_DATA = """data { customerName capacityKva meters { __typename assetNo purpose ctRatio
  startReading } same: meters { assetNo } }"""
PAGE_INFO = "pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }"

SWITCHED = """query Q($with: Boolean!, $without: Boolean!) { first: hvNewCases(first: 2) {
            n: totalCount nodes { ...HV key: number id number data { name: customerName } }
            pageInfo { more: hasNextPage end: endCursor } }
          second: hvNewCases(first: 1) { nodes { id @include(if: $with)
            status @skip(if: $without) data @include(if: $with) { capacityKva } } } }
        fragment HV on HvNewCase { number data { customerName capacityKva } orgUnit { name } }"""
"""A document whose selection its variables switch (`@include`, `@skip`)."""

QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "every field of a typed list",
        f"""query {{ hvNewCases(orderBy: [{{createdAt: DESC}}]) {{ __typename totalCount
          {PAGE_INFO} edges {{ __typename cursor node {{ {CASE_FIELDS} {HV_DATA} }} }}
          nodes {{ id }} }} }}""",
        {},
    ),
    (
        "aliases, a named fragment, merged fields and directives",
        SWITCHED,
        {"with": True, "without": False},
    ),
    (
        "the same document with its switches turned",
        SWITCHED,
        {"with": False, "without": True},
    ),
    (
        "a LIST item's entries",
        f"query {{ pvNewCases(orderBy: [{{number: ASC}}]) {{ nodes {{ number {PV_DATA} }} }} }}",
        {},
    ),
    (
        "every business type through the interface, with fragments on each",
        f"""query {{ cases(orderBy: [{{number: DESC}}]) {{ totalCount edges {{ cursor node {{
          __typename number ... on HvNewCase {{ {HV_DATA} }} ... on PvNewCase {{ {PV_DATA} }}
          }} }} }} }}""",
        {},
    ),
    (
        "the interface's fields only",
        f"query {{ cases(first: 3) {{ nodes {{ {CASE_FIELDS} }} {PAGE_INFO} }} }}",
        {},
    ),
]

ORDERINGS: list[dict[str, Any]] = [
    {"data": {"requestedDate": "ASC"}},
    {"data": {"requestedDate": "DESC"}},
    {"data": {"capacityKva": "DESC"}},
    {"data": {"deposit": "ASC"}},
    {"data": {"isImportant": "DESC"}},
    {"data": {"electricityCategory": "ASC"}},
    {"data": {"surveyedAt": "DESC"}},
    {"dueAt": "ASC"},
    {"submittedAt": "DESC"},
    {"priority": "ASC"},
    {"status": "DESC"},
]
WHERES: list[dict[str, Any]] = [
    {"data": {"customerName": {"contains": "反斜杠"}}},
    {"data": {"customerName": {"startsWith": "丙"}}},
    {"data": {"capacityKva": {"gt": "100"}}},
    {"data": {"capacityKva": {"lte": "100", "gte": "0.1"}}},
    {"data": {"powerSourceCount": {"in": [1, 2]}}},
    {"data": {"requestedDate": {"isNull": True}}},
    {"data": {"requestedDate": {"lt": "2026-01-01"}}},
    {"data": {"isImportant": {"eq": False}}},
    {"data": {"electricityCategory": {"in": ["COMMERCIAL"]}}},
    {"data": {"deposit": {"ne": "0.50"}}},
    {"data": {"surveyedAt": {"gt": "2026-03-02T00:30:00Z"}}},
    {"or": [{"data": {"isImportant": {"eq": True}}}, {"status": {"eq": "DRAFT"}}]},
    {"not": {"data": {"contactPhone": {"isNull": True}}}},
    {"status": {"in": ["IN_PROGRESS", "DRAFT"]}, "overdue": True},
]
LISTED = """query($where: HvNewWhere, $orderBy: [HvNewOrderBy!], $first: Int, $after: String,
  $last: Int, $before: String) { hvNewCases(where: $where, orderBy: $orderBy, first: $first,
  after: $after, last: $last, before: $before) { totalCount edges { cursor node { number
  isOverdue data { customerName requestedDate capacityKva deposit isImportant
  electricityCategory surveyedAt } } } pageInfo { hasNextPage hasPreviousPage startCursor
  endCursor } } }"""
ONE = f"""query($id: ID, $number: String) {{ case(id: $id, number: $number) {{ {CASE_FIELDS}
  ... on HvNewCase {{ {HV_DATA} }} ... on PvNewCase {{ {PV_DATA} }} }} }}"""


async def load(api: Api, db: Any, clock: Any) -> list[dict[str, Any]]:
    """The metamodel and the cases, opened on 2 March 2026 and read on 1 June (overdue)."""
    clock.set(dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC))
    await setup(api, db)
    made = await open_cases(api)
    clock.set(dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.UTC))  # the open ones are overdue now
    return made


async def setup(api: Api, db: Any) -> None:
    """Items, the two types, the callers."""
    await define_basics(api)
    for item in [METERS, *EXTRA_ITEMS]:
        made = (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]
        assert made["errors"] == [], made
    for draft in (HV, PV):
        saved = (await api.data(SAVE_DRAFT, {"input": draft}))["saveBusinessTypeDraft"]
        assert saved["errors"] == [] and saved["problems"] == [], saved
        published = (await api.data(PUBLISH, {"code": draft["code"]}))["publishBusinessType"]
        assert published["errors"] == [] and published["problems"] == [], published
    for username, roles, unit, posts in PEOPLE:
        await add_user(db, username, roles, org_unit_id=await unit_id(db, unit), posts=posts)


async def open_cases(api: Api) -> list[dict[str, Any]]:
    """The cases: submitted ones by ADMIN, a draft by each STAFF, one advanced to survey."""
    made: list[dict[str, Any]] = []
    for kind, cases in (("HvNew", HV_CASES), ("PvNew", PV_CASES)):
        create = f"""mutation($input: Create{kind}CaseInput!) {{ create{kind}Case(input: $input) {{
          case {{ id number tasks {{ id }} }} errors {{ code message path }} }} }}"""
        for index, data in enumerate(cases):
            user = ("admin", "acc", "sur")[index % 3] if kind == "HvNew" else "admin"
            submit = user == "admin"
            payload = {"input": {"orgUnit": "county", "submit": submit, "data": data}}
            result = (await api.data(create, payload, as_user=user))[f"create{kind}Case"]
            assert result["errors"] == [], result
            made.append(result["case"])
    task = made[0]["tasks"][0]["id"]
    done = await api.data(
        """mutation($t: ID!) { completeTask(input: {taskId: $t, comment: "资料齐全\\n\\"可\\""})
          { errors { code } } }""",
        {"t": task},
        as_user="acc",
    )
    assert done["completeTask"]["errors"] == []
    return made
