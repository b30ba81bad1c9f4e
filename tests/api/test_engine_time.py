"""Time in the engine through the API: the working-day calendar and its overrides, overdue
flags, suspend / resume / cancel, the deadline sweep, and the clock pause while a stage waits
for the customer."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from casework.calendar import WorkCalendar
from database import metadata_repo
from database.deadline_repo import SweepResult
from database.session import Database
from metamodel.specs import TimeUnit
from service import sweep as sweeping
from tests.api.conftest import Api, Clock, add_user
from tests.api.setup_metamodel import ASSIGN, PUBLISH, SAVE_DRAFT, UPSERT_STAGE
from tests.api.test_engine_flow import CREATE, VALID_ID, complete, define, my_tasks, only_task

CST = ZoneInfo("Asia/Shanghai")
DAY = 86_400
"""Seconds of business time in one working day."""

# An ordinary working week (no holiday in March 2026): Monday 2 March, 10:00.
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST)

TIMED: dict[str, Any] = {
    "code": "lv_timed",
    "name": "低压计时新装",
    "group": "NEW",
    "timeLimit": {"amount": 5, "unit": "WORKING_DAYS"},
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "id_number", "requiredAt": ["accept"]},
        {"item": "survey_opinion", "editableAt": ["survey"]},
    ],
    "stages": [
        {"stage": "accept"},
        {"stage": "await_docs", "waitsForCustomer": True},
        {"stage": "survey"},
    ],
    "transitions": [
        {"from": "accept", "to": ["await_docs"]},
        {"from": "await_docs", "to": ["survey"]},
    ],
    "start": "accept",
}
"""accept (3 working days) -> await_docs (the customer's turn) -> survey (3); 5 for the case."""

CREATE_TIMED = """mutation($input: CreateLvTimedCaseInput!) { createLvTimedCase(input: $input) {
  case { id number status version dueAt isOverdue tasks { id stage { code } dueAt } }
  errors { code message path } } }"""
CASE = """query($id: ID!) { case(id: $id) { status version dueAt isOverdue currentStages { code }
  tasks { id stage { code } status dueAt isOverdue assignee { username } }
  events { seq actor action data } } }"""
MY_TASKS = (
    "{ myTasks { nodes { id status dueAt isOverdue stage { code } case { id isOverdue } } } }"
)
SUSPEND = """mutation($id: ID!) { suspendCase(id: $id, reason: "客户要求暂缓") {
  case { status dueAt } errors { code message path } } }"""
RESUME = "mutation($id: ID!) { resumeCase(id: $id) { case { status dueAt } errors { code message path } } }"
CANCEL = """mutation($id: ID!) { cancelCase(id: $id, reason: "客户撤回申请") {
  case { status completedAt tasks { status } } errors { code message path } } }"""
CALENDAR = "query($y: Int!) { calendar(year: $y) { date workday note overridden } }"
SET_DAYS = """mutation($days: [SetCalendarDayInput!]!) { setCalendarDays(input: $days) {
  days { date workday note overridden } errors { code message path } } }"""


def local(value: str | None) -> dt.datetime:
    """An instant from the API, in Beijing time."""
    assert value is not None
    return dt.datetime.fromisoformat(value).astimezone(CST)


async def unit_id(db: Database, code: str) -> int:
    async with db.read() as session:
        unit = await metadata_repo.get_org_unit(session, code)
    assert unit is not None
    return unit.id


async def define_timed(api: Api, db: Database) -> None:
    """The engine test's metamodel and people, lv_timed, and managers of each county and the city."""
    await define(api, db)
    stage = {
        "code": "await_docs",
        "name": "等待客户补充资料",
        "timeLimit": {"amount": 10, "unit": "WORKING_DAYS"},
    }
    assert (await api.data(UPSERT_STAGE, {"input": stage}))["upsertStage"]["errors"] == []
    assigned = await api.data(ASSIGN, {"input": {"stage": "await_docs", "post": "acceptor"}})
    assert assigned["assignResponsibility"]["errors"] == []
    saved = await api.data(SAVE_DRAFT, {"input": TIMED})
    assert saved["saveBusinessTypeDraft"]["errors"] == [], saved
    assert saved["saveBusinessTypeDraft"]["problems"] == [], saved
    published = await api.data(PUBLISH, {"code": "lv_timed"})
    assert published["publishBusinessType"]["errors"] == [], published
    await add_user(db, "mia", ["MANAGER"], org_unit_id=await unit_id(db, "county_a"))
    await add_user(db, "max", ["MANAGER"], org_unit_id=await unit_id(db, "county_b"))
    await add_user(db, "cyd", ["MANAGER"], org_unit_id=await unit_id(db, "city"))


async def open_timed(api: Api) -> dict[str, Any]:
    created = await api.data(
        CREATE_TIMED,
        {
            "input": {
                "orgUnit": "county_a",
                "submit": True,
                "data": {"customerName": "某便利店", "idNumber": VALID_ID},
            }
        },
        as_user="alice",
    )
    payload = created["createLvTimedCase"]
    assert payload["errors"] == []
    case: dict[str, Any] = payload["case"]
    return case


async def read_case(api: Api, case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(CASE, {"id": case_id}))["case"]
    return found


def actions(case: dict[str, Any]) -> Counter[str]:
    return Counter(e["action"] for e in case["events"])


# -- the calendar ---------------------------------------------------------------------------------


async def test_calendar_overrides_move_due_dates_of_new_tasks(
    api: Api, db: Database, clock: Clock
) -> None:
    await add_user(db, "sam", ["STAFF"])
    days = (await api.data(CALENDAR, {"y": 2026}, as_user="sam"))["calendar"]
    assert len(days) == 365
    by_date = {d["date"]: d for d in days}
    make_up = by_date["2026-10-10"]  # a Saturday worked for National Day
    assert make_up["workday"] is True and not make_up["overridden"]
    assert "调休" in make_up["note"] or "工作日" in make_up["note"]
    assert by_date["2026-10-05"]["workday"] is False
    assert by_date["2026-10-09"]["workday"] is True
    assert by_date["2026-10-03"]["workday"] is False

    change = [
        {"date": "2026-10-09", "workday": False, "note": "线路检修停休"},
        {"date": "2026-10-03", "workday": True, "note": "调休上班"},
    ]
    refused = await api.post(SET_DAYS, {"days": change}, as_user="sam")
    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    unchanged = (await api.data(CALENDAR, {"y": 2026}))["calendar"]
    assert [d for d in unchanged if d["overridden"]] == []

    # Before the overrides: entered Wed 30 Sep 10:00, 3 working days run out Sat 10 Oct 10:00.
    clock.set(dt.datetime(2026, 9, 30, 10, 0, tzinfo=CST))
    await define(api, db)
    data = {"customerName": "某化工厂", "idNumber": VALID_ID}
    first = await api.data(
        CREATE, {"input": {"orgUnit": "county_a", "submit": True, "data": data}}, as_user="alice"
    )
    [task] = first["createHvDoubleCase"]["case"]["tasks"]
    assert local(task["dueAt"]) == dt.datetime(2026, 10, 10, 10, 0, tzinfo=CST)

    set_days = (await api.data(SET_DAYS, {"days": change}))["setCalendarDays"]
    assert set_days["errors"] == []
    assert set_days["days"] == [
        {"date": "2026-10-09", "workday": False, "note": "线路检修停休", "overridden": True},
        {"date": "2026-10-03", "workday": True, "note": "调休上班", "overridden": True},
    ]
    after = {d["date"]: d for d in (await api.data(CALENDAR, {"y": 2026}))["calendar"]}
    assert sorted(d for d, day in after.items() if day["overridden"]) == [
        "2026-10-03",
        "2026-10-09",
    ]
    assert after["2026-10-09"]["workday"] is False and after["2026-10-03"]["workday"] is True

    # Entered on Sat 3 Oct at 09:00, now a working day: 15 h that day, Thu 8 Oct, (Fri 9 Oct is
    # off now), Sat 10 Oct, (Sun 11 Oct off), and the last 9 h on Mon 12 Oct.
    entered = dt.datetime(2026, 10, 3, 9, 0, tzinfo=CST)
    clock.set(entered)
    second = await api.data(
        CREATE, {"input": {"orgUnit": "county_a", "submit": True, "data": data}}, as_user="alice"
    )
    [task] = second["createHvDoubleCase"]["case"]["tasks"]
    due = local(task["dueAt"])
    assert due == dt.datetime(2026, 10, 12, 9, 0, tzinfo=CST)
    library_only = WorkCalendar().advance(entered, 3 * DAY, TimeUnit.WORKING_DAYS)
    assert library_only == dt.datetime(2026, 10, 11, 0, 0, tzinfo=CST)  # what it was without them


# -- overdue ------------------------------------------------------------------------------------------


async def test_tasks_and_cases_become_overdue_after_their_due_time(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(MONDAY)
    await define_timed(api, db)
    case = await open_timed(api)
    [task] = case["tasks"]
    assert local(task["dueAt"]) == dt.datetime(2026, 3, 5, 10, 0, tzinfo=CST)  # Thursday
    assert local(case["dueAt"]) == dt.datetime(2026, 3, 9, 10, 0, tzinfo=CST)  # next Monday
    assert case["isOverdue"] is False

    async def flags() -> tuple[bool, bool]:
        [mine] = await my_tasks_with_flags(api)
        assert mine["id"] == task["id"]
        found = await read_case(api, case["id"])
        assert found["tasks"][0]["isOverdue"] is mine["isOverdue"]
        assert mine["case"]["isOverdue"] is found["isOverdue"]
        return mine["isOverdue"], found["isOverdue"]

    second = dt.timedelta(seconds=1)
    clock.set(dt.datetime(2026, 3, 5, 10, 0, tzinfo=CST) - second)
    assert await flags() == (False, False)
    overdue_tasks = "{ tasks(where: {isOverdue: true}) { totalCount nodes { id } } }"
    assert (await api.data(overdue_tasks))["tasks"]["totalCount"] == 0

    clock.set(dt.datetime(2026, 3, 5, 10, 0, tzinfo=CST) + second)
    assert await flags() == (True, False)
    assert (await api.data(overdue_tasks))["tasks"]["nodes"] == [{"id": task["id"]}]

    clock.set(dt.datetime(2026, 3, 9, 10, 0, tzinfo=CST) + second)
    assert await flags() == (True, True)

    # A finished task is not overdue, however late it was finished.
    assert (await complete(api, "alice", task["id"]))["errors"] == []
    done = await read_case(api, case["id"])
    [accept] = [t for t in done["tasks"] if t["stage"]["code"] == "accept"]
    assert (accept["status"], accept["isOverdue"]) == ("DONE", False)


async def my_tasks_with_flags(api: Api) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = (await api.data(MY_TASKS, as_user="alice"))["myTasks"]["nodes"]
    return nodes


# -- suspend, resume, cancel -------------------------------------------------------------------


async def test_suspending_stops_the_clock_and_cancelling_closes_the_case(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(MONDAY)
    await define_timed(api, db)
    case = await open_timed(api)
    [task] = case["tasks"]
    task_due, case_due = local(task["dueAt"]), local(case["dueAt"])

    # Wednesday 10:00: two of the stage's three working days are used.
    clock.set(dt.datetime(2026, 3, 4, 10, 0, tzinfo=CST))
    staff = await api.post(SUSPEND, {"id": case["id"]}, as_user="alice")
    assert staff["data"] is None
    assert [e["extensions"]["code"] for e in staff["errors"]] == ["FORBIDDEN"]
    other = (await api.data(SUSPEND, {"id": case["id"]}, as_user="max"))["suspendCase"]
    assert [e["code"] for e in other["errors"]] == ["FORBIDDEN"] and other["case"] is None
    assert (await read_case(api, case["id"]))["status"] == "IN_PROGRESS"

    suspended = (await api.data(SUSPEND, {"id": case["id"]}, as_user="mia"))["suspendCase"]
    assert suspended["errors"] == []
    assert suspended["case"] == {"status": "SUSPENDED", "dueAt": None}
    before = await read_case(api, case["id"])
    assert before["tasks"][0]["status"] == "OPEN" and before["tasks"][0]["dueAt"] is None

    # Nothing moves while suspended, and no deadline falls.
    refused = await complete(api, "alice", task["id"])
    assert [e["code"] for e in refused["errors"]] == ["INVALID_TRANSITION"]
    assert await read_case(api, case["id"]) == before
    later = dt.datetime(2026, 4, 30, 10, 0, tzinfo=CST)
    assert await sweeping.sweep(db, now=later) == SweepResult()
    again = (await api.data(SUSPEND, {"id": case["id"]}, as_user="mia"))["suspendCase"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_TRANSITION"]

    # Resumed on Monday: Thursday, Friday and Monday (3 working days) were suspended.
    clock.set(dt.datetime(2026, 3, 9, 10, 0, tzinfo=CST))
    staff = await api.post(RESUME, {"id": case["id"]}, as_user="alice")
    assert [e["extensions"]["code"] for e in staff["errors"]] == ["FORBIDDEN"]
    other = (await api.data(RESUME, {"id": case["id"]}, as_user="max"))["resumeCase"]
    assert [e["code"] for e in other["errors"]] == ["FORBIDDEN"]
    # A manager higher up the tree (the city above county_a) may act on it too.
    resumed = (await api.data(RESUME, {"id": case["id"]}, as_user="cyd"))["resumeCase"]
    assert resumed["errors"] == [] and resumed["case"]["status"] == "IN_PROGRESS"
    calendar = WorkCalendar()
    three_days = 3 * DAY
    assert local(resumed["case"]["dueAt"]) == calendar.advance(
        case_due, three_days, TimeUnit.WORKING_DAYS
    )
    assert local(resumed["case"]["dueAt"]) == dt.datetime(2026, 3, 12, 10, 0, tzinfo=CST)
    running = await read_case(api, case["id"])
    new_due = local(running["tasks"][0]["dueAt"])
    assert new_due == calendar.advance(task_due, three_days, TimeUnit.WORKING_DAYS)
    assert new_due == dt.datetime(2026, 3, 10, 10, 0, tzinfo=CST)  # was Thursday 5 March
    assert [t["dueAt"] for t in await my_tasks(api, "alice")] == [running["tasks"][0]["dueAt"]]
    again = (await api.data(RESUME, {"id": case["id"]}, as_user="mia"))["resumeCase"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_TRANSITION"]
    assert actions(running)["SUSPENDED"] == 1 and actions(running)["RESUMED"] == 1

    cancelled = (await api.data(CANCEL, {"id": case["id"]}, as_user="mia"))["cancelCase"]
    assert cancelled["errors"] == []
    assert cancelled["case"]["status"] == "CANCELLED" and cancelled["case"]["completedAt"]
    assert cancelled["case"]["tasks"] == [{"status": "CANCELLED"}]
    assert await my_tasks(api, "alice") == []
    closed = await read_case(api, case["id"])
    assert closed["currentStages"] == [] and closed["isOverdue"] is False
    refused = await complete(api, "alice", task["id"])
    assert [e["code"] for e in refused["errors"]] == ["INVALID_TRANSITION"]
    twice = (await api.data(CANCEL, {"id": case["id"]}, as_user="mia"))["cancelCase"]
    assert [e["code"] for e in twice["errors"]] == ["INVALID_TRANSITION"]
    assert await read_case(api, case["id"]) == closed


# -- the deadline sweep -------------------------------------------------------------------------


async def test_the_sweep_records_each_warning_and_breach_once(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(MONDAY)
    await define_timed(api, db)
    case = await open_timed(api)
    [task] = case["tasks"]
    calendar = WorkCalendar()
    # The stage: 3 working days, warned after 80 % (57.6 h of working days) on Wed 19:36.
    stage_warn = calendar.advance(MONDAY, int(3 * DAY * 0.8), TimeUnit.WORKING_DAYS)
    assert stage_warn == dt.datetime(2026, 3, 4, 19, 36, tzinfo=CST)
    stage_due = local(task["dueAt"])
    # The case: 5 working days, warned after 4 of them (Friday 10:00), due next Monday.
    case_warn = dt.datetime(2026, 3, 6, 10, 0, tzinfo=CST)
    case_due = local(case["dueAt"])
    assert case_due == dt.datetime(2026, 3, 9, 10, 0, tzinfo=CST)
    minute = dt.timedelta(minutes=1)

    async def sweep_at(when: dt.datetime) -> tuple[SweepResult, Counter[str]]:
        found = await sweeping.sweep(db, now=when)
        return found, actions(await read_case(api, case["id"]))

    found, seen = await sweep_at(stage_warn - minute)
    assert found == SweepResult()
    assert not {"STAGE_WARNING", "STAGE_BREACHED", "CASE_WARNING", "CASE_BREACHED"} & set(seen)

    found, seen = await sweep_at(stage_warn + minute)
    assert found == SweepResult(stage_warnings=1)
    assert seen["STAGE_WARNING"] == 1 and seen["STAGE_BREACHED"] == 0

    found, seen = await sweep_at(stage_warn + minute)
    assert found == SweepResult() and seen["STAGE_WARNING"] == 1

    found, seen = await sweep_at(stage_due + minute)
    assert found == SweepResult(stage_breaches=1)
    assert (seen["STAGE_WARNING"], seen["STAGE_BREACHED"]) == (1, 1)
    found, seen = await sweep_at(stage_due + 2 * minute)
    assert found == SweepResult() and seen["STAGE_BREACHED"] == 1

    # The case's own limit (the business type's timeLimit).
    found, seen = await sweep_at(case_warn - minute)
    assert found == SweepResult() and seen["CASE_WARNING"] == 0
    found, seen = await sweep_at(case_warn + minute)
    assert found == SweepResult(case_warnings=1)
    found, seen = await sweep_at(case_warn + minute)
    assert found == SweepResult() and seen["CASE_WARNING"] == 1
    found, seen = await sweep_at(case_due + minute)
    assert found == SweepResult(case_breaches=1)
    found, seen = await sweep_at(case_due + minute)
    assert found == SweepResult()
    assert {a: seen[a] for a in ("STAGE_WARNING", "STAGE_BREACHED", "CASE_WARNING")} == {
        "STAGE_WARNING": 1,
        "STAGE_BREACHED": 1,
        "CASE_WARNING": 1,
    }
    assert seen["CASE_BREACHED"] == 1

    final = await read_case(api, case["id"])
    swept = [e for e in final["events"] if e["actor"] == "sweep"]
    assert [e["action"] for e in swept] == [
        "STAGE_WARNING",
        "STAGE_BREACHED",
        "CASE_WARNING",
        "CASE_BREACHED",
    ]
    assert swept[0]["data"]["stage"] == "accept"
    assert local(swept[0]["data"]["dueAt"]) == stage_due
    assert local(swept[2]["data"]["dueAt"]) == case_due
    assert [e["seq"] for e in final["events"]] == list(range(1, len(final["events"]) + 1))
    check = "query($id: ID!) { verifyCaseHistory(id: $id) { valid brokenAtSeq } }"
    assert (await api.data(check, {"id": case["id"]}))["verifyCaseHistory"] == {
        "valid": True,
        "brokenAtSeq": None,
    }


# -- waiting for the customer ----------------------------------------------------------------------


async def test_the_clock_stops_while_the_customer_has_the_case(
    api: Api, db: Database, clock: Clock
) -> None:
    clock.set(MONDAY)
    await define_timed(api, db)
    case = await open_timed(api)
    case_due = local(case["dueAt"])
    assert case_due == dt.datetime(2026, 3, 9, 10, 0, tzinfo=CST)

    clock.set(dt.datetime(2026, 3, 3, 10, 0, tzinfo=CST))  # Tuesday: one working day used
    accept = await only_task(api, "alice", "accept")
    assert (await complete(api, "alice", accept))["errors"] == []
    waiting = await read_case(api, case["id"])
    assert waiting["status"] == "IN_PROGRESS"
    assert waiting["currentStages"] == [{"code": "await_docs"}]
    assert waiting["dueAt"] is None and waiting["isOverdue"] is False
    [docs] = [t for t in waiting["tasks"] if t["stage"]["code"] == "await_docs"]
    assert docs["status"] == "OPEN" and docs["dueAt"] is None
    assert [(t["stage"]["code"], t["dueAt"]) for t in await my_tasks(api, "alice")] == [
        ("await_docs", None)
    ]
    # However long the customer takes, no deadline falls meanwhile.
    assert await sweeping.sweep(db, now=dt.datetime(2026, 6, 1, tzinfo=CST)) == SweepResult()

    # The customer answers on Thursday: two working days passed on their side.
    thursday = dt.datetime(2026, 3, 5, 10, 0, tzinfo=CST)
    clock.set(thursday)
    moved = await complete(api, "alice", await only_task(api, "alice", "await_docs"))
    assert moved["errors"] == [] and moved["case"]["currentStages"] == [{"code": "survey"}]
    running = await read_case(api, case["id"])
    calendar = WorkCalendar()
    assert local(running["dueAt"]) == calendar.advance(case_due, 2 * DAY, TimeUnit.WORKING_DAYS)
    assert local(running["dueAt"]) == dt.datetime(2026, 3, 11, 10, 0, tzinfo=CST)
    [survey] = [t for t in running["tasks"] if t["stage"]["code"] == "survey"]
    assert local(survey["dueAt"]) == calendar.advance(thursday, 3 * DAY, TimeUnit.WORKING_DAYS)
