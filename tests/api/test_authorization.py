"""Authorisation: the role a root field needs, checked for the whole operation before it runs."""

from __future__ import annotations

from typing import Any

from database import metadata_repo
from database.session import Database
from tests.api.conftest import Api, add_user
from tests.api.setup_metamodel import DRAFT, SAVE_DRAFT, UPSERT_ORG, define_basics, publish_hv_new
from tests.api.test_auth import error_codes
from tests.api.test_cases_flow import CREATE, LIST, UPDATE, application

ADMIN_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "upsertDataItem",
        """mutation($input: UpsertDataItemInput!) { upsertDataItem(input: $input) {
           dataItem { code } errors { code } } }""",
        {"input": {"code": "staff_item", "label": "x", "type": "STRING"}},
    ),
    (
        "upsertStage",
        """mutation($input: UpsertStageInput!) { upsertStage(input: $input) {
           stage { code } errors { code } } }""",
        {"input": {"code": "accept", "name": "renamed by staff"}},
    ),
    (
        "upsertPost",
        """mutation($input: UpsertPostInput!) { upsertPost(input: $input) {
           post { code } errors { code } } }""",
        {"input": {"code": "staff_post", "name": "x"}},
    ),
    (
        "upsertOrgUnit",
        """mutation($input: UpsertOrgUnitInput!) { upsertOrgUnit(input: $input) {
           orgUnit { code } errors { code } } }""",
        {"input": {"code": "county", "name": "moved by staff"}},
    ),
    (
        "saveBusinessTypeDraft",
        SAVE_DRAFT,
        {"input": {**DRAFT, "name": "renamed by staff"}},
    ),
    (
        "publishBusinessType",
        'mutation { publishBusinessType(code: "hv_new", allowBreaking: true) { version } }',
        {},
    ),
    (
        "retireBusinessType",
        'mutation { retireBusinessType(code: "hv_new") { businessType { status } } }',
        {},
    ),
    ("validateBusinessType", '{ validateBusinessType(code: "hv_new") { code } }', {}),
    ("exportMetamodel", "{ exportMetamodel }", {}),
]

EVERYTHING = """{
  dataItems { code label type }
  stages { code name }
  posts { code name }
  orgUnits { code name parent path }
  businessTypes { code name status latestVersion draft { name } versions { version } }
}"""


async def unit_id(db: Database, code: str) -> int:
    async with db.read() as session:
        unit = await metadata_repo.get_org_unit(session, code)
    assert unit is not None
    return unit.id


async def staff_and_manager(db: Database) -> None:
    county = await unit_id(db, "county")
    await add_user(db, "staff", ["STAFF"], org_unit_id=county, posts=["acceptor"])
    await add_user(db, "manager", ["MANAGER"], org_unit_id=county)


async def test_admin_operations_are_forbidden_to_staff_and_managers(api: Api, db: Database) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    # A pending draft change, so that a publish would have something to publish.
    changed = await api.data(SAVE_DRAFT, {"input": {**DRAFT, "priority": 7}})
    assert changed["saveBusinessTypeDraft"]["errors"] == []
    await staff_and_manager(db)
    before = await api.data(EVERYTHING)

    for user in ("staff", "manager"):
        for name, query, variables in ADMIN_CALLS:
            body = await api.post(query, variables, as_user=user)
            assert body["data"] is None, (user, name, body)
            assert error_codes(body) == ["FORBIDDEN"], (user, name, body)
            assert body["errors"][0]["message"].startswith(f"{name}: "), body

    assert await api.data(EVERYTHING) == before
    # The admin may do what they were refused: the refusals were about the role alone.
    for name, query, variables in ADMIN_CALLS:
        body = await api.post(query, variables)
        assert not body.get("errors"), (name, body)
        payload = body["data"][name]
        if isinstance(payload, dict) and "errors" in payload:
            assert payload["errors"] == [], (name, payload)
    assert await api.data(EVERYTHING) != before


async def test_staff_may_read_metadata_and_work_cases(api: Api, db: Database) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    await staff_and_manager(db)

    read = await api.data(
        '{ dataItems { code } businessTypes { code } businessType(code: "hv_new") { latestVersion }'
        " stages { code } posts { code } orgUnits { code } me { username } }",
        as_user="staff",
    )
    assert len(read["dataItems"]) == 10
    assert read["businessTypes"] == [{"code": "hv_new"}]
    assert read["businessType"] == {"latestVersion": 1}
    assert read["me"] == {"username": "staff"}

    created = (
        await api.data(
            CREATE, {"input": {"submit": True, "data": application("周八", "50")}}, as_user="staff"
        )
    )["createHvNewCase"]
    assert created["errors"] == []
    case = created["case"]
    assert case["orgUnit"] == {"code": "county"}  # the caller's own unit by default
    updated = (
        await api.data(
            UPDATE,
            {
                "input": {
                    "id": case["id"],
                    "expectedVersion": case["version"],
                    "data": {"capacityKva": "60"},
                }
            },
            as_user="staff",
        )
    )["updateHvNewCaseData"]
    assert updated["errors"] == [] and updated["case"]["data"]["capacityKva"] == "60"
    listed = await api.data(LIST, as_user="manager")
    assert [n["number"] for n in listed["hvNewCases"]["nodes"]] == [case["number"]]
    one = await api.data(
        "query($n: String!) { case(number: $n) { number } cases { totalCount } }",
        {"n": case["number"]},
        as_user="staff",
    )
    assert one == {"case": {"number": case["number"]}, "cases": {"totalCount": 1}}


MIXED: list[tuple[str, str]] = [
    ("two fields", "{ dataItems { code } exportMetamodel }"),
    ("alias", "{ dataItems { code } yaml: exportMetamodel }"),
    (
        "fragment spread",
        "query { dataItems { code } ...Admin } fragment Admin on Query { exportMetamodel }",
    ),
    (
        "nested fragments",
        "query { ...Outer } fragment Outer on Query { dataItems { code } ...Inner }"
        ' fragment Inner on Query { validateBusinessType(code: "hv_new") { code } }',
    ),
    ("inline fragment", "{ dataItems { code } ... on Query { exportMetamodel } }"),
    ("skipped", "{ dataItems { code } exportMetamodel @skip(if: true) }"),
    (
        "named operation",
        "query Other { exportMetamodel } query Mine { dataItems { code } ...Admin }"
        " fragment Admin on Query { exportMetamodel }",
    ),
]


async def test_an_operation_with_one_forbidden_root_field_is_refused_whole(
    api: Api, db: Database
) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    await staff_and_manager(db)
    for label, query in MIXED:
        payload: dict[str, Any] = {"query": query}
        if label == "named operation":
            payload["operationName"] = "Mine"
        response = await api.client.post(
            "/graphql",
            json=payload,
            headers={"Authorization": f"Bearer {await api.token('staff')}"},
        )
        body = response.json()
        assert body["data"] is None, (label, body)
        assert error_codes(body) == ["FORBIDDEN"], (label, body)

    create = (
        'createHvNewCase(input: {orgUnit: "county", data: {customerName: "吴九", '
        'idNumber: "11010519491231002X", capacityKva: "5"}}) { case { id } }'
    )
    upsert = 'upsertPost(input: {code: "sneaky", name: "x"}) { post { code } }'
    for label, mutation in [
        ("two fields", f"mutation {{ {create} {upsert} }}"),
        ("spread", f"mutation {{ {create} ...M }} fragment M on Mutation {{ {upsert} }}"),
        ("inline", f"mutation {{ {create} ... on Mutation {{ {upsert} }} }}"),
    ]:
        body = await api.post(mutation, as_user="staff")
        assert body["data"] is None, (label, body)
        assert error_codes(body) == ["FORBIDDEN"], (label, body)
    after = await api.data("{ hvNewCases { totalCount } posts { code } }")
    assert after["hvNewCases"]["totalCount"] == 0  # the allowed half did not run either
    assert "sneaky" not in [p["code"] for p in after["posts"]]
    # The allowed half alone runs.
    alone = await api.data(f"mutation {{ {create} }}", as_user="staff")
    assert alone["createHvNewCase"]["case"]["id"]


async def elsewhere_case(api: Api, db: Database) -> dict[str, Any]:
    """Staff and a manager in county, and a case the admin opened in a sibling subtree."""
    await define_basics(api)
    await publish_hv_new(api)
    other = await api.data(
        UPSERT_ORG, {"input": {"code": "city2", "name": "二市", "parent": "province"}}
    )
    assert other["upsertOrgUnit"]["errors"] == []
    await staff_and_manager(db)
    created = await api.data(
        CREATE, {"input": {"orgUnit": "city2", "data": application("外", "5")}}
    )
    case: dict[str, Any] = created["createHvNewCase"]["case"]
    return case


async def test_staff_read_and_change_only_cases_within_their_org_subtree(
    api: Api, db: Database
) -> None:
    elsewhere = await elsewhere_case(api, db)
    seen = await api.data(
        "query($id: ID!) { cases { totalCount } hvNewCases { totalCount } case(id: $id) { id } }",
        {"id": elsewhere["id"]},
        as_user="staff",
    )
    assert seen == {"cases": {"totalCount": 0}, "hvNewCases": {"totalCount": 0}, "case": None}
    changed = (
        await api.data(
            UPDATE,
            {
                "input": {
                    "id": elsewhere["id"],
                    "expectedVersion": elsewhere["version"],
                    "data": {"customerName": "改"},
                }
            },
            as_user="staff",
        )
    )["updateHvNewCaseData"]
    assert changed["case"] is None and changed["errors"]
    unchanged = await api.data(
        "query($id: ID!) { case(id: $id) { version } }", {"id": elsewhere["id"]}
    )
    assert unchanged["case"] == {"version": elsewhere["version"]}


async def test_staff_cannot_open_a_case_outside_their_org_subtree(api: Api, db: Database) -> None:
    await elsewhere_case(api, db)
    opened = (
        await api.data(
            CREATE,
            {"input": {"orgUnit": "city2", "data": application("外2", "5")}},
            as_user="staff",
        )
    )["createHvNewCase"]
    assert opened["case"] is None and opened["errors"]
    listed = await api.data("{ hvNewCases { totalCount } }")
    assert listed["hvNewCases"]["totalCount"] == 1
