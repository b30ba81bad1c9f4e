"""Who sees which cases and which items: org subtrees, posts, visibleTo; and people management."""

from __future__ import annotations

import datetime as dt
from typing import Any

from database import metadata_repo
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

VALID_ID = "11010519491231002X"
TREE = [
    ("province", None),
    ("city_a", "province"),
    ("county_a1", "city_a"),
    ("county_a2", "city_a"),
    ("city_b", "province"),
    ("county_b1", "city_b"),
]
DRAFT: dict[str, Any] = {
    "code": "lv_new",
    "name": "低压新装",
    "group": "NEW",
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "id_number", "visibleTo": ["acceptor"]},
        {"item": "survey_notes", "visibleTo": ["surveyor"], "editableAt": ["survey"]},
    ],
    "stages": [{"stage": "accept"}, {"stage": "survey"}],
    "transitions": [{"from": "accept", "to": ["survey"]}],
    "start": "accept",
}
CREATE = """mutation($input: CreateLvNewCaseInput!) { createLvNewCase(input: $input) {
  case { id number tasks { id } } errors { code message path } } }"""
READ = """query($id: ID!) { case(id: $id) { number ... on LvNewCase { data { customerName idNumber surveyNotes } }
  events { action data } } }"""
LIST = "query($where: LvNewWhere, $orderBy: [LvNewOrderBy!]) { lvNewCases(where: $where, orderBy: $orderBy) { totalCount nodes { number } } }"
ALL = "{ cases { totalCount nodes { number } } }"


async def unit_id(db: Database, code: str) -> int:
    async with db.read() as session:
        unit = await metadata_repo.get_org_unit(session, code)
    assert unit is not None
    return unit.id


async def setup(api: Api, db: Database) -> None:
    items = [
        {"code": "customer_name", "label": "户名", "type": "STRING"},
        {"code": "id_number", "label": "证件号码", "type": "ID_NUMBER"},
        {"code": "survey_notes", "label": "勘查意见", "type": "TEXT"},
    ]
    for item in items:
        assert (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]["errors"] == []
    for code, name in [("accept", "业务受理"), ("survey", "现场勘查")]:
        stage = {"code": code, "name": name, "timeLimit": {"amount": 3, "unit": "WORKING_DAYS"}}
        assert (await api.data(UPSERT_STAGE, {"input": stage}))["upsertStage"]["errors"] == []
    for code in ("acceptor", "surveyor"):
        assert (await api.data(UPSERT_POST, {"input": {"code": code, "name": code}}))["upsertPost"][
            "errors"
        ] == []
    for code, parent in TREE:
        result = await api.data(
            UPSERT_ORG, {"input": {"code": code, "name": code, "parent": parent}}
        )
        assert result["upsertOrgUnit"]["errors"] == []
    for stage_code, post in [("accept", "acceptor"), ("survey", "surveyor")]:
        assert (await api.data(ASSIGN, {"input": {"stage": stage_code, "post": post}}))[
            "assignResponsibility"
        ]["errors"] == []
    assert (await api.data(SAVE_DRAFT, {"input": DRAFT}))["saveBusinessTypeDraft"]["problems"] == []
    assert (await api.data(PUBLISH, {"code": "lv_new"}))["publishBusinessType"]["errors"] == []
    people = [
        ("acc_a1", ["STAFF"], "county_a1", ["acceptor"]),
        ("acc_a2", ["STAFF"], "county_a2", ["acceptor"]),
        ("sur_a1", ["STAFF"], "county_a1", ["surveyor"]),
        ("mgr_a", ["MANAGER"], "city_a", []),
        ("mgr_b", ["MANAGER"], "city_b", []),
    ]
    for username, roles, unit, posts in people:
        await add_user(db, username, roles, org_unit_id=await unit_id(db, unit), posts=posts)


async def open_case(api: Api, user: str, unit: str, name: str) -> dict[str, Any]:
    data = {"customerName": name, "idNumber": VALID_ID}
    result = await api.data(
        CREATE, {"input": {"orgUnit": unit, "submit": True, "data": data}}, as_user=user
    )
    payload = result["createLvNewCase"]
    assert payload["errors"] == []
    case: dict[str, Any] = payload["case"]
    return case


async def numbers(api: Api, user: str) -> list[str]:
    nodes = (await api.data(ALL, as_user=user))["cases"]["nodes"]
    return sorted(n["number"] for n in nodes)


async def test_cases_are_seen_within_org_subtrees_and_posts(api: Api, db: Database) -> None:
    await setup(api, db)
    a1 = await open_case(api, "acc_a1", "county_a1", "甲")
    a2 = await open_case(api, "acc_a2", "county_a2", "乙")
    b1 = await open_case(api, "admin", "county_b1", "丙")
    assert await numbers(api, "acc_a1") == [a1["number"]]
    assert await numbers(api, "acc_a2") == [a2["number"]]
    assert await numbers(api, "mgr_a") == sorted([a1["number"], a2["number"]])
    assert await numbers(api, "mgr_b") == [b1["number"]]
    assert await numbers(api, "admin") == sorted([a1["number"], a2["number"], b1["number"]])
    # Out of scope reads as no case at all, by id and through the typed list.
    assert (await api.data(READ, {"id": a1["id"]}, as_user="acc_a2"))["case"] is None
    assert (await api.data(LIST, as_user="acc_a2"))["lvNewCases"]["totalCount"] == 1
    # A surveyor of county_a1 sees nothing until a survey task exists there.
    assert await numbers(api, "sur_a1") == []
    task = a1["tasks"][0]["id"]
    done = await api.data(
        "mutation($t: ID!) { completeTask(input: {taskId: $t}) { errors { code } } }",
        {"t": task},
        as_user="acc_a1",
    )
    assert done["completeTask"]["errors"] == []
    assert await numbers(api, "sur_a1") == [a1["number"]]
    # Managers of another subtree may not suspend; the manager of this one may.
    suspend = 'mutation($id: ID!) { suspendCase(id: $id, reason: "x") { case { status } errors { code } } }'
    refused = await api.data(suspend, {"id": a1["id"]}, as_user="mgr_b")
    assert [e["code"] for e in refused["suspendCase"]["errors"]] == ["FORBIDDEN"]
    allowed = await api.data(suspend, {"id": a1["id"]}, as_user="mgr_a")
    assert allowed["suspendCase"]["case"]["status"] == "SUSPENDED"


async def test_items_outside_visible_to_read_as_null_and_cannot_be_filtered(
    api: Api, db: Database
) -> None:
    await setup(api, db)
    case = await open_case(api, "acc_a1", "county_a1", "甲")
    await api.data(
        "mutation($t: ID!) { completeTask(input: {taskId: $t}) { errors { code } } }",
        {"t": case["tasks"][0]["id"]},
        as_user="acc_a1",
    )
    survey = (await api.data("{ myTasks { nodes { id } } }", as_user="sur_a1"))["myTasks"]["nodes"][
        0
    ]["id"]
    wrote = await api.data(
        'mutation($t: ID!) { completeTask(input: {taskId: $t, data: {surveyNotes: "ok"}}) { errors { code } } }',
        {"t": survey},
        as_user="sur_a1",
    )
    assert wrote["completeTask"]["errors"] == []
    as_surveyor = (await api.data(READ, {"id": case["id"]}, as_user="sur_a1"))["case"]
    assert as_surveyor["data"] == {"customerName": "甲", "idNumber": None, "surveyNotes": "ok"}
    assert all("id_number" not in str(e["data"]) for e in as_surveyor["events"])
    as_acceptor = (await api.data(READ, {"id": case["id"]}, as_user="acc_a1"))["case"]
    assert as_acceptor["data"] == {"customerName": "甲", "idNumber": VALID_ID, "surveyNotes": None}
    assert any("id_number" in str(e["data"]) for e in as_acceptor["events"])
    as_admin = (await api.data(READ, {"id": case["id"]}))["case"]
    assert as_admin["data"] == {"customerName": "甲", "idNumber": VALID_ID, "surveyNotes": "ok"}
    for variables in (
        {"where": {"data": {"idNumber": {"eq": VALID_ID}}}},
        {"orderBy": [{"data": {"idNumber": "ASC"}}]},
    ):
        body = await api.post(LIST, variables, as_user="sur_a1")
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert (
        await api.data(LIST, {"where": {"data": {"idNumber": {"eq": VALID_ID}}}}, as_user="acc_a1")
    )["lvNewCases"]["totalCount"] == 1


UPSERT_USER = """mutation($input: UpsertUserInput!) { upsertUser(input: $input) {
  user { username roles posts orgUnit disabled } errors { code message path } } }"""
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token errors { code message } } }"


async def test_people_are_managed_by_administrators_and_listed_by_managers(
    api: Api, db: Database
) -> None:
    await setup(api, db)
    created = await api.data(
        UPSERT_USER,
        {
            "input": {
                "username": "new_a1",
                "name": "新人",
                "roles": ["STAFF"],
                "posts": ["acceptor"],
                "orgUnit": "county_a1",
                "password": "long-enough-1",
            }
        },
    )
    assert created["upsertUser"]["user"] == {
        "username": "new_a1",
        "roles": ["STAFF"],
        "posts": ["acceptor"],
        "orgUnit": "county_a1",
        "disabled": False,
    }
    bad = await api.data(
        UPSERT_USER,
        {
            "input": {
                "username": "x",
                "name": "x",
                "roles": ["STAFF"],
                "posts": ["nope"],
                "orgUnit": "nowhere",
                "password": "short",
            }
        },
    )
    assert {tuple(e["path"]) for e in bad["upsertUser"]["errors"]} == {
        ("input", "password"),
        ("input", "posts", "0"),
        ("input", "orgUnit"),
    }
    listed = await api.data("{ users { username } }", as_user="mgr_a")
    assert sorted(u["username"] for u in listed["users"]) == [
        "acc_a1",
        "acc_a2",
        "mgr_a",
        "new_a1",
        "sur_a1",
    ]
    staff = await api.post("{ users { username } }", as_user="acc_a1")
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    token = (await api.data(LOGIN, {"u": "new_a1", "p": "long-enough-1"}, as_user=None))["login"][
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    me = (
        await api.client.post("/graphql", json={"query": "{ me { username } }"}, headers=headers)
    ).json()
    assert me["data"]["me"] == {"username": "new_a1"}
    await api.data(
        UPSERT_USER,
        {"input": {"username": "new_a1", "name": "新人", "roles": ["STAFF"], "disabled": True}},
    )
    gone = (
        await api.client.post("/graphql", json={"query": "{ me { username } }"}, headers=headers)
    ).json()
    assert gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = await api.data(LOGIN, {"u": "new_a1", "p": "long-enough-1"}, as_user=None)
    assert refused["login"]["token"] is None


async def test_repeated_failed_logins_lock_the_account_for_a_while(
    api: Api, db: Database, clock: Clock
) -> None:
    await add_user(db, "target", ["STAFF"], password="right-password")
    start = dt.datetime.now(dt.UTC)
    clock.set(start)
    for _ in range(5):
        failed = await api.data(LOGIN, {"u": "target", "p": "wrong-password"}, as_user=None)
        assert failed["login"]["token"] is None
    locked = await api.data(LOGIN, {"u": "target", "p": "right-password"}, as_user=None)
    assert locked["login"]["token"] is None
    assert locked["login"]["errors"][0]["message"] == failed["login"]["errors"][0]["message"]
    clock.set(start + dt.timedelta(minutes=15, seconds=1))  # the lock-out has run its course
    again = await api.data(LOGIN, {"u": "target", "p": "right-password"}, as_user=None)
    assert again["login"]["token"]
