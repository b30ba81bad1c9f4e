"""reorganizePosts through the API: in flight, later (applied by the sweep), dry, and refused.

The business type, posts, org units and people are those of test_engine_flow: survey (现场勘查)
is done by surveyors (勘查员): bob in county_a, carol in county_b.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from database import reorg_records
from database.case_tables import CaseEventRow
from database.reorg_repo import Applied
from database.session import Database
from service import sweep as sweeping
from tests.api.conftest import Api, Clock, add_user
from tests.api.setup_metamodel import ASSIGN, UPSERT_POST
from tests.api.test_engine_flow import CREATE, VALID_ID, _unit_id, complete, define, my_tasks

CST = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST)  # a Monday

REORGANIZE = """mutation($input: ReorganizePostsInput!) { reorganizePosts(input: $input) {
  movedResponsibilities reassignedTasks releasedTasks
  tasks { id status stage { code } post { code } assignee { username } case { id } }
  responsibilities { post { code } stage { code } businessType { code } orgUnit { code } effectiveFrom effectiveTo }
  reorganization { id status effectiveFrom reassignOpenTasks reassignedTasks createdBy appliedAt
    moves { fromPost toPost stage businessType orgUnit } }
  errors { code message path } } }"""
RESPONSIBILITIES = """query($stage: String) { responsibilities(stage: $stage) {
  post { code } stage { code } businessType { code } orgUnit { code } effectiveFrom effectiveTo } }"""
CASE_TASKS = """query($id: ID!) { case(id: $id) {
  tasks { id status stage { code } post { code } assignee { username } }
  events { actor action data } } }"""
OPEN_TASKS = """{ tasks(where: {status: [OPEN, CLAIMED]}, first: 200) {
  totalCount nodes { id status stage { code } post { code } assignee { username } } } }"""
HISTORY = "query($id: ID!) { verifyCaseHistory(id: $id) { valid } }"

COUNTY_SURVEY = {
    "fromPost": "surveyor",
    "toPost": "customer_manager",
    "stage": "survey",
    "orgUnit": "county_a",
}


async def setup(api: Api, db: Database) -> None:
    """The engine flow's world, plus 客户经理, kate who holds it in county_a, amy who accepts
    in county_b, and two managers: mia of county_a and max of county_b."""
    await define(api, db)
    posted = await api.data(
        UPSERT_POST, {"input": {"code": "customer_manager", "name": "客户经理"}}
    )
    assert posted["upsertPost"]["errors"] == []
    county_a, county_b = await _unit_id(db, "county_a"), await _unit_id(db, "county_b")
    await add_user(db, "kate", ["STAFF"], org_unit_id=county_a, posts=["customer_manager"])
    await add_user(db, "amy", ["STAFF"], org_unit_id=county_b, posts=["acceptor"])
    await add_user(db, "mia", ["MANAGER"], org_unit_id=county_a)
    await add_user(db, "max", ["MANAGER"], org_unit_id=county_b)


async def new_case(api: Api, unit: str, *, name: str = "某厂") -> str:
    created = await api.data(
        CREATE,
        {
            "input": {
                "orgUnit": unit,
                "submit": True,
                "data": {"customerName": name, "idNumber": VALID_ID},
            }
        },
    )
    payload = created["createHvDoubleCase"]
    assert payload["errors"] == []
    case_id: str = payload["case"]["id"]
    return case_id


async def case_view(api: Api, case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(CASE_TASKS, {"id": case_id}))["case"]
    return found


async def open_task(api: Api, case_id: str) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = (await case_view(api, case_id))["tasks"]
    [found] = [t for t in tasks if t["status"] in ("OPEN", "CLAIMED")]
    return found


async def at_survey(api: Api, unit: str) -> str:
    """A case in `unit` whose acceptance is done: it waits for its survey."""
    case_id = await new_case(api, unit)
    accept = await open_task(api, case_id)
    acceptor = "alice" if unit == "county_a" else "amy"
    assert (await complete(api, acceptor, accept["id"]))["errors"] == []
    assert (await open_task(api, case_id))["stage"] == {"code": "survey"}
    return case_id


async def reorganize(api: Api, as_user: str, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(REORGANIZE, {"input": input}, as_user=as_user))[
        "reorganizePosts"
    ]
    return payload


async def open_tasks(api: Api) -> dict[str, dict[str, Any]]:
    found = (await api.data(OPEN_TASKS))["tasks"]
    assert found["totalCount"] == len(found["nodes"])
    return {t["id"]: t for t in found["nodes"]}


async def snapshot(api: Api, db: Database) -> tuple[Any, ...]:
    """Everything a reorganisation could change."""
    responsibilities = (await api.data(RESPONSIBILITIES))["responsibilities"]
    tasks = (
        await api.data(
            "{ tasks(first: 200) { nodes { id status post { code } assignee { username } } } }"
        )
    )["tasks"]["nodes"]
    async with db.read() as session:
        events = await session.scalar(select(func.count()).select_from(CaseEventRow))
        records = await reorg_records.records(session)
    return responsibilities, tasks, events, records


def post_of(task: dict[str, Any]) -> str | None:
    post: dict[str, str] | None = task["post"]
    return None if post is None else post["code"]


async def test_a_manager_moves_survey_to_customer_managers_in_one_county_in_flight(
    api: Api, db: Database, clock: Clock
) -> None:
    """Done when: the open survey tasks move, the old holders no longer see them (myTasks), the
    new post completes them, and the responsibility history shows both."""
    clock.set(T0)
    await setup(api, db)
    county_rule = {"stage": "survey", "post": "surveyor", "orgUnit": "county_a"}
    assert (await api.data(ASSIGN, {"input": county_rule}))["assignResponsibility"]["errors"] == []
    in_a = [await at_survey(api, "county_a") for _ in range(3)]
    in_b = await at_survey(api, "county_b")
    waiting = await new_case(api, "county_a")  # still at acceptance
    claimed = await open_task(api, in_a[0])
    assert (
        await api.data(
            "mutation($id: ID!) { claimTask(id: $id) { errors { code } } }",
            {"id": claimed["id"]},
            as_user="bob",
        )
    )["claimTask"]["errors"] == []
    assert sorted(t["id"] for t in await my_tasks(api, "bob")) == sorted(
        [(await open_task(api, c))["id"] for c in in_a]
    )
    assert await my_tasks(api, "kate") == []
    before = await open_tasks(api)

    clock.set(T0 + dt.timedelta(hours=2))
    moved = await reorganize(api, "mia", moves=[COUNTY_SURVEY])

    assert moved["errors"] == []
    assert (moved["movedResponsibilities"], moved["reassignedTasks"], moved["releasedTasks"]) == (
        1,
        3,
        1,
    )
    assert sorted(t["case"]["id"] for t in moved["tasks"]) == sorted(in_a)
    assert {(post_of(t), t["status"], t["assignee"]) for t in moved["tasks"]} == {
        ("customer_manager", "OPEN", None)
    }
    [given] = moved["responsibilities"]
    assert (given["post"], given["stage"], given["orgUnit"], given["businessType"]) == (
        {"code": "customer_manager"},
        {"code": "survey"},
        {"code": "county_a"},
        None,
    )
    record = moved["reorganization"]
    assert (record["status"], record["reassignedTasks"], record["createdBy"]) == (
        "APPLIED",
        3,
        "mia",
    )

    # The number of open tasks is unchanged; only the county_a survey tasks changed post.
    after = await open_tasks(api)
    assert after.keys() == before.keys()
    changed = {i for i in after if after[i] != before[i]}
    assert changed == {t["id"] for t in moved["tasks"]}
    assert post_of(await open_task(api, in_b)) == "surveyor"

    # The old holders no longer see them; carol's county is untouched; kate sees them.
    assert await my_tasks(api, "bob") == []
    assert [t["stage"]["code"] for t in await my_tasks(api, "carol")] == ["survey"]
    kates = await my_tasks(api, "kate")
    assert sorted(t["id"] for t in kates) == sorted(t["id"] for t in moved["tasks"])

    # The event on each case names both posts; the released claim names its holder.
    first = await case_view(api, in_a[0])
    [event] = [e for e in first["events"] if e["action"] == "TASK_REASSIGNED"]
    assert (event["actor"], event["data"]["from"], event["data"]["to"]) == (
        "mia",
        "surveyor",
        "customer_manager",
    )
    assert event["data"]["released"] == "bob"
    assert (await api.data(HISTORY, {"id": in_a[0]}))["verifyCaseHistory"]["valid"] is True

    # The new post completes them; bob no longer may.
    refused = await complete(api, "bob", claimed["id"], capacityKva="100", surveyOpinion="同意")
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    for task in kates:
        done = await complete(api, "kate", task["id"], capacityKva="100", surveyOpinion="同意")
        assert done["errors"] == [] and done["case"]["currentStages"] == [{"code": "connect"}]
    assert await my_tasks(api, "kate") == []

    # New survey work in county_a goes to the new post.
    accept = await open_task(api, waiting)
    assert (await complete(api, "alice", accept["id"]))["errors"] == []
    assert post_of(await open_task(api, waiting)) == "customer_manager"

    # The history shows both: surveyor's county rule ended when customer_manager's began.
    history = (await api.data(RESPONSIBILITIES, {"stage": "survey"}, as_user="mia"))[
        "responsibilities"
    ]
    in_county = [r for r in history if r["orgUnit"] == {"code": "county_a"}]
    assert [post_of(r) for r in in_county] == ["surveyor", "customer_manager"]
    old, new = in_county
    assert old["effectiveTo"] == new["effectiveFrom"]
    assert dt.datetime.fromisoformat(new["effectiveFrom"]) == T0 + dt.timedelta(hours=2)
    assert new["effectiveTo"] is None
    assert [(post_of(r), r["effectiveTo"]) for r in history if r["orgUnit"] is None] == [
        ("surveyor", None)
    ]


async def test_an_inherited_responsibility_is_narrowed_and_an_admin_moves_everywhere(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(T0)
    await setup(api, db)
    in_a, in_b = await at_survey(api, "county_a"), await at_survey(api, "county_b")

    narrowed = await reorganize(api, "mia", moves=[COUNTY_SURVEY])
    assert narrowed["errors"] == [] and narrowed["movedResponsibilities"] == 1
    assert [t["case"]["id"] for t in narrowed["tasks"]] == [in_a]
    survey = (await api.data(RESPONSIBILITIES, {"stage": "survey"}))["responsibilities"]
    assert [(post_of(r), r["orgUnit"], r["effectiveTo"]) for r in survey] == [
        ("surveyor", None, None),  # the global one stays for every other unit
        ("customer_manager", {"code": "county_a"}, None),
    ]
    assert post_of(await open_task(api, in_b)) == "surveyor"

    # An ADMIN moves survey everywhere, leaving the open tasks where they are.
    clock.set(T0 + dt.timedelta(hours=1))
    everywhere = await reorganize(
        api,
        "admin",
        moves=[{"fromPost": "surveyor", "toPost": "customer_manager"}],
        reassignOpenTasks=False,
    )
    assert everywhere["errors"] == []
    assert (everywhere["movedResponsibilities"], everywhere["reassignedTasks"]) == (1, 0)
    assert everywhere["reorganization"]["reassignOpenTasks"] is False
    assert post_of(await open_task(api, in_b)) == "surveyor"
    survey = (await api.data(RESPONSIBILITIES, {"stage": "survey"}))["responsibilities"]
    assert [(post_of(r), r["orgUnit"], r["effectiveTo"] is None) for r in survey] == [
        ("surveyor", None, False),
        ("customer_manager", {"code": "county_a"}, True),
        ("customer_manager", None, True),
    ]
    fresh = await at_survey(api, "county_b")
    assert post_of(await open_task(api, fresh)) == "customer_manager"


async def test_a_later_reorganisation_is_applied_by_the_sweep(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(T0)
    await setup(api, db)
    early = await at_survey(api, "county_a")
    when = T0 + dt.timedelta(days=2)

    scheduled = await reorganize(api, "mia", moves=[COUNTY_SURVEY], effectiveFrom=when.isoformat())
    assert scheduled["errors"] == []
    assert (
        scheduled["movedResponsibilities"],
        scheduled["reassignedTasks"],
        scheduled["tasks"],
    ) == (
        1,
        0,
        [],
    )
    record = scheduled["reorganization"]
    assert (record["status"], record["reassignedTasks"], record["appliedAt"]) == (
        "PENDING",
        None,
        None,
    )
    assert dt.datetime.fromisoformat(record["effectiveFrom"]) == when
    [future] = [
        r
        for r in (await api.data(RESPONSIBILITIES, {"stage": "survey"}))["responsibilities"]
        if post_of(r) == "customer_manager"
    ]
    assert dt.datetime.fromisoformat(future["effectiveFrom"]) == when

    # Until then, work still goes to the surveyors, and the sweep has nothing to do.
    clock.set(T0 + dt.timedelta(days=1))
    meanwhile = await at_survey(api, "county_a")
    assert post_of(await open_task(api, meanwhile)) == "surveyor"
    assert await sweeping.apply_due_reorganizations(db, now=clock()) == Applied()
    assert {t["id"] for t in await my_tasks(api, "bob")} == {
        (await open_task(api, c))["id"] for c in (early, meanwhile)
    }

    # From then on routing follows the new responsibility even before the sweep runs ...
    clock.set(when + dt.timedelta(hours=1))
    later = await at_survey(api, "county_a")
    assert post_of(await open_task(api, later)) == "customer_manager"
    assert post_of(await open_task(api, early)) == "surveyor"
    before = await open_tasks(api)

    # ... and the sweep moves the open tasks, once.
    applied = await sweeping.apply_due_reorganizations(db, now=clock())
    assert applied == Applied(reorganizations=1, tasks=2)
    assert await sweeping.apply_due_reorganizations(db, now=clock()) == Applied()
    assert (await open_tasks(api)).keys() == before.keys()
    assert await my_tasks(api, "bob") == []
    assert len(await my_tasks(api, "kate")) == 3
    [event] = [
        e for e in (await case_view(api, early))["events"] if e["action"] == "TASK_REASSIGNED"
    ]
    assert (event["actor"], event["data"]["from"], event["data"]["to"]) == (
        "sweep",
        "surveyor",
        "customer_manager",
    )
    async with db.read() as session:
        [row] = await reorg_records.records(session)
    assert (row.status, row.reassigned_tasks, row.applied_at) == ("APPLIED", 2, clock())


async def test_a_dry_run_reports_exactly_what_would_move_and_changes_nothing(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(T0)
    await setup(api, db)
    in_a = [await at_survey(api, "county_a") for _ in range(2)]
    await at_survey(api, "county_b")
    claimed = await open_task(api, in_a[1])
    await api.data(
        "mutation($id: ID!) { claimTask(id: $id) { errors { code } } }",
        {"id": claimed["id"]},
        as_user="bob",
    )
    unchanged = await snapshot(api, db)

    dry = await reorganize(api, "mia", moves=[COUNTY_SURVEY], dryRun=True)
    assert dry["errors"] == [] and dry["reorganization"] is None
    assert (dry["movedResponsibilities"], dry["reassignedTasks"], dry["releasedTasks"]) == (1, 2, 1)
    assert {(post_of(t), t["status"]) for t in dry["tasks"]} == {
        ("surveyor", "OPEN"),
        ("surveyor", "CLAIMED"),
    }  # as they are now
    later = await reorganize(
        api,
        "mia",
        moves=[COUNTY_SURVEY],
        dryRun=True,
        effectiveFrom=(T0 + dt.timedelta(days=3)).isoformat(),
    )
    assert {t["id"] for t in later["tasks"]} == {t["id"] for t in dry["tasks"]}
    assert await snapshot(api, db) == unchanged

    done = await reorganize(api, "mia", moves=[COUNTY_SURVEY])
    assert (done["movedResponsibilities"], done["reassignedTasks"], done["releasedTasks"]) == (
        1,
        2,
        1,
    )
    assert {t["id"] for t in done["tasks"]} == {t["id"] for t in dry["tasks"]}
    assert done["responsibilities"] == dry["responsibilities"]


async def test_refused_reorganisations_change_nothing(api: Api, db: Database, clock: Clock) -> None:
    clock.set(T0)
    await setup(api, db)
    await at_survey(api, "county_a")
    await at_survey(api, "county_b")
    unchanged = await snapshot(api, db)
    refusals: list[tuple[str, dict[str, Any], list[tuple[str, list[str]]]]] = [
        (
            "admin",
            {"moves": [{**COUNTY_SURVEY, "fromPost": "nobody"}]},
            [("NOT_FOUND", ["input", "moves", "0", "fromPost"])],
        ),
        (
            "admin",
            {"moves": [{**COUNTY_SURVEY, "toPost": "surveyor"}]},
            [("VALIDATION", ["input", "moves", "0", "toPost"])],
        ),
        (
            "admin",  # one good move does not go through alone
            {
                "moves": [
                    COUNTY_SURVEY,
                    {"fromPost": "acceptor", "toPost": "customer_manager", "stage": "nowhere"},
                ]
            },
            [("NOT_FOUND", ["input", "moves", "1", "stage"])],
        ),
        (
            "admin",
            {
                "moves": [
                    COUNTY_SURVEY,
                    {"fromPost": "surveyor", "toPost": "inspector", "orgUnit": "city"},
                ]
            },
            [("VALIDATION", ["input", "moves", "1"])],
        ),
        ("admin", {"moves": []}, [("REQUIRED", ["input", "moves"])]),
        (
            "mia",  # a manager of county_a, in county_b
            {"moves": [COUNTY_SURVEY, {**COUNTY_SURVEY, "orgUnit": "county_b"}]},
            [("FORBIDDEN", ["input", "moves", "1", "orgUnit"])],
        ),
        (
            "max",  # a manager of county_b, everywhere
            {"moves": [{"fromPost": "surveyor", "toPost": "customer_manager"}]},
            [("FORBIDDEN", ["input", "moves", "0", "orgUnit"])],
        ),
    ]
    for user, input, expected in refusals:
        refused = await reorganize(api, user, **input)
        assert [(e["code"], e["path"]) for e in refused["errors"]] == expected, (user, input)
        assert (refused["movedResponsibilities"], refused["reassignedTasks"], refused["tasks"]) == (
            0,
            0,
            [],
        )
    naive = {"moves": [COUNTY_SURVEY], "effectiveFrom": "2026-03-05T10:00:00"}  # no offset
    [error] = (await api.post(REORGANIZE, {"input": naive}, as_user="mia"))["errors"]
    assert error["extensions"]["code"] == "VALIDATION" and ".effectiveFrom" in error["message"]
    staff = await api.post(REORGANIZE, {"input": {"moves": [COUNTY_SURVEY]}}, as_user="bob")
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await snapshot(api, db) == unchanged
