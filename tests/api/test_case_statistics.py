"""caseStatistics: the cases of a CaseWhere counted per group in SQL, as the `cases` list sees them."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from casework.calendar import WorkCalendar
from database import case_statistics
from database.session import Database
from metamodel.specs import TimeUnit
from tests.api import test_scope_visibility as visibility
from tests.api.conftest import Api, Clock, add_user
from tests.api.setup_metamodel import PUBLISH, SAVE_DRAFT
from tests.api.test_engine_flow import DRAFT, VALID_ID, _unit_id, complete, define

CST = ZoneInfo("Asia/Shanghai")
DAY = 86_400.0

STATISTICS = """query($where: CaseWhere, $groupBy: [CaseGroupBy!]) {
  caseStatistics(where: $where, groupBy: $groupBy) {
    keys count open completed cancelled overdue completedOnTime completedLate onTimeRate
    avgWorkingDays } }"""
COUNTS = """query($where: CaseWhere, $groupBy: [CaseGroupBy!]) {
  caseStatistics(where: $where, groupBy: $groupBy) { keys count open completed overdue } }"""
TOTAL = "query($where: CaseWhere) { cases(where: $where, first: 0) { totalCount } }"
CREATE = """mutation($input: CreateHvDoubleCaseInput!) { createHvDoubleCase(input: $input) {
  case { id } errors { code message path } } }"""
CASE = """query($id: ID!) { case(id: $id) { status submittedAt completedAt dueAt
  currentStages { code } tasks { id status } } }"""
CANCEL = """mutation($id: ID!) { cancelCase(id: $id, reason: "客户撤回申请") {
  errors { code message } } }"""
SET_DAYS = """mutation($days: [SetCalendarDayInput!]!) { setCalendarDays(input: $days) {
  errors { code message path } } }"""

HOLIDAY = dt.date(2026, 3, 9)
"""A Monday made a day off by an override (the library has no holiday in March 2026)."""
OVERRIDES = {HOLIDAY: False}
NOW = dt.datetime(2026, 3, 16, 10, 0, tzinfo=CST)


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CST)


async def open_case(
    api: Api, clock: Clock, when: dt.datetime, unit: str, capacity: str, *, submit: bool = True
) -> str:
    clock.set(when)
    data = {"customerName": "某厂", "idNumber": VALID_ID, "capacityKva": capacity}
    created = await api.data(CREATE, {"input": {"orgUnit": unit, "submit": submit, "data": data}})
    payload = created["createHvDoubleCase"]
    assert payload["errors"] == [], payload
    case_id: str = payload["case"]["id"]
    return case_id


async def case_of(api: Api, case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(CASE, {"id": case_id}))["case"]
    return found


async def finish_open_task(api: Api, case_id: str, user: str, **data: Any) -> None:
    """Complete the one open task of a case as `user`."""
    tasks = (await case_of(api, case_id))["tasks"]
    [task] = [t for t in tasks if t["status"] in ("OPEN", "CLAIMED")]
    assert (await complete(api, user, task["id"], **data))["errors"] == []


async def run_to_the_end(api: Api, clock: Clock, case_id: str, when: dt.datetime) -> None:
    """Acceptance, survey (capacity 160 or less: no split) and connection, all at `when`."""
    clock.set(when)
    await finish_open_task(api, case_id, "alice")
    await finish_open_task(api, case_id, "bob", surveyOpinion="同意")
    await finish_open_task(api, case_id, "gus", meterAssetNo="M-1")
    assert (await case_of(api, case_id))["status"] == "COMPLETED"


async def statistics(
    api: Api,
    group_by: list[str] | None = None,
    where: dict[str, Any] | None = None,
    *,
    as_user: str = "admin",
    query: str = STATISTICS,
) -> list[dict[str, Any]]:
    found = await api.data(query, {"where": where, "groupBy": group_by}, as_user=as_user)
    groups: list[dict[str, Any]] = found["caseStatistics"]
    return groups


async def total(api: Api, where: dict[str, Any] | None, *, as_user: str = "admin") -> int:
    count: int = (await api.data(TOTAL, {"where": where}, as_user=as_user))["cases"]["totalCount"]
    return count


def working_days(calendar: WorkCalendar, case: dict[str, Any]) -> float:
    """What the engine's calendar counts from submission to completion, in working days."""
    start = dt.datetime.fromisoformat(case["submittedAt"])
    end = dt.datetime.fromisoformat(case["completedAt"])
    return calendar.business_seconds(start, end, TimeUnit.WORKING_DAYS) / DAY


async def seven_cases(api: Api, db: Database, clock: Clock) -> dict[str, str]:
    """hv_double with a 3-working-day limit; seven cases in two counties over two months.

    c1, c2, c3 completed (c3 late), c4 split into design_review and grid_works, c6 waiting in
    accept, c7 a draft, c8 cancelled; Monday 2026-03-09 is a day off by override.
    """
    clock.set(at(2, 20, 9))
    await define(api, db)
    assert (await api.data(SET_DAYS, {"days": [{"date": HOLIDAY.isoformat(), "workday": False}]}))[
        "setCalendarDays"
    ]["errors"] == []
    limited = {**DRAFT, "timeLimit": {"amount": 3, "unit": "WORKING_DAYS"}}
    assert (await api.data(SAVE_DRAFT, {"input": limited}))["saveBusinessTypeDraft"]["errors"] == []
    assert (await api.data(PUBLISH, {"code": "hv_double"}))["publishBusinessType"]["errors"] == []
    county_a, city = await _unit_id(db, "county_a"), await _unit_id(db, "city")
    await add_user(db, "mia", ["MANAGER"], org_unit_id=county_a)
    await add_user(db, "cy", ["MANAGER"], org_unit_id=city)

    cases = {
        # Friday 23:30 in Beijing, 15:30 UTC: February either way.
        "c7": await open_case(api, clock, at(2, 27, 23, 30), "county_b", "100", submit=False),
        # Sunday 07:00 in Beijing is Saturday 23:00 UTC: February in UTC.
        "c6": await open_case(api, clock, at(3, 1, 7), "county_b", "630"),
        "c2": await open_case(api, clock, at(3, 2, 9), "county_a", "100"),
        "c3": await open_case(api, clock, at(3, 2, 9, 10), "county_a", "100"),
    }
    await run_to_the_end(api, clock, cases["c2"], at(3, 2, 15))
    cases["c1"] = await open_case(api, clock, at(3, 5, 10), "county_a", "100")
    cases["c4"] = await open_case(api, clock, at(3, 5, 10), "county_a", "630")
    cases["c8"] = await open_case(api, clock, at(3, 5, 10), "county_b", "800")
    clock.set(at(3, 5, 10, 30))
    await finish_open_task(api, cases["c4"], "alice")
    await finish_open_task(api, cases["c4"], "bob", surveyOpinion="同意")  # 630 > 160: a split
    stages = sorted(s["code"] for s in (await case_of(api, cases["c4"]))["currentStages"])
    assert stages == ["design_review", "grid_works"]
    await run_to_the_end(api, clock, cases["c1"], at(3, 10, 16))
    clock.set(at(3, 11, 12))
    assert (await api.data(CANCEL, {"id": cases["c8"]}))["cancelCase"]["errors"] == []
    await run_to_the_end(api, clock, cases["c3"], at(3, 13, 12))
    clock.set(NOW)
    return cases


async def test_groups_measures_and_working_days(api: Api, db: Database, clock: Clock) -> None:
    cases = await seven_cases(api, db, clock)
    calendar = WorkCalendar(OVERRIDES)
    c1, c2, c3 = [await case_of(api, cases[c]) for c in ("c1", "c2", "c3")]
    # c1: Thursday 10:00 to Tuesday 16:00 over a weekend and the Monday off: 14 h + 24 h + 16 h.
    assert working_days(calendar, c1) == 2.25
    assert working_days(calendar, c2) == 0.25  # Monday 09:00 to 15:00
    # Within the limit of 3 working days: c1 (2.25) and c2; c3 took eight and more.
    assert working_days(calendar, c3) > 8
    assert c1["dueAt"] is None  # a completed case's time no longer runs
    [everything] = await statistics(api)
    mean = (
        working_days(calendar, c1) + working_days(calendar, c2) + working_days(calendar, c3)
    ) / 3
    assert everything == {
        "keys": [],
        "count": 7,
        "open": 3,
        "completed": 3,
        "cancelled": 1,
        "overdue": 2,  # c4 (due Wednesday 03-11 10:00) and c6; the draft has no due date
        "completedOnTime": 2,
        "completedLate": 1,
        "onTimeRate": pytest.approx(2 / 3),
        "avgWorkingDays": pytest.approx(mean, abs=1e-9),
    }
    [one] = await statistics(api, where={"id": {"eq": cases["c1"]}})
    assert one["avgWorkingDays"] == 2.25 and one["onTimeRate"] == 1.0
    [three] = await statistics(api, where={"id": {"eq": cases["c3"]}})
    assert three["avgWorkingDays"] == working_days(calendar, c3)
    assert three["completedLate"] == 1 and three["onTimeRate"] == 0.0

    def table(groups: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            (tuple(g["keys"]), g["count"], g["open"], g["completed"], g["overdue"]) for g in groups
        ]

    assert table(await statistics(api, ["STATUS"])) == [
        (("CANCELLED",), 1, 0, 0, 0),
        (("COMPLETED",), 3, 0, 3, 0),
        (("DRAFT",), 1, 1, 0, 0),
        (("IN_PROGRESS",), 2, 2, 0, 2),
    ]
    assert table(await statistics(api, ["ORG_UNIT", "MONTH"])) == [
        (("county_a", "2026-03"), 4, 1, 3, 1),
        (("county_b", "2026-02"), 2, 2, 0, 1),
        (("county_b", "2026-03"), 1, 0, 0, 0),
    ]
    # A case in two stages of a split counts in both; a case in none under "".
    assert table(await statistics(api, ["STAGE"])) == [
        (("",), 5, 1, 3, 0),
        (("accept",), 1, 1, 0, 1),
        (("design_review",), 1, 1, 0, 1),
        (("grid_works",), 1, 1, 0, 1),
    ]
    assert table(await statistics(api, ["POST"])) == [
        (("",), 5, 1, 3, 0),
        (("acceptor",), 1, 1, 0, 1),
        (("designer",), 1, 1, 0, 1),
        (("grid_engineer",), 1, 1, 0, 1),
    ]
    assert table(await statistics(api, ["STAGE", "POST", "BUSINESS_TYPE"])) == [
        (("", "", "hv_double"), 5, 1, 3, 0),
        (("accept", "acceptor", "hv_double"), 1, 1, 0, 1),
        (("design_review", "designer", "hv_double"), 1, 1, 0, 1),
        (("grid_works", "grid_engineer", "hv_double"), 1, 1, 0, 1),
    ]
    by_status = {tuple(g["keys"]): g for g in await statistics(api, ["STATUS"])}
    assert by_status[("COMPLETED",)]["avgWorkingDays"] == pytest.approx(mean, abs=1e-9)
    assert by_status[("IN_PROGRESS",)]["avgWorkingDays"] is None
    assert by_status[("IN_PROGRESS",)]["onTimeRate"] is None


WHERES: list[dict[str, Any] | None] = [
    None,
    {"data": {"capacityKva": {"gte": "630"}}},
    {"data": {"capacityKva": {"gt": "99.5", "lt": "630"}}},
    {"status": {"in": ["DRAFT", "IN_PROGRESS", "SUSPENDED"]}},
    {"orgUnit": {"eq": "county_a"}},
    {"orgUnit": {"eq": "city"}, "status": {"ne": "COMPLETED"}},
    # the dashboard: my county's cases of 630 kVA or more that are open past their due time
    {
        "orgUnit": {"eq": "county_a"},
        "data": {"capacityKva": {"gte": "630"}},
        "status": {"in": ["DRAFT", "IN_PROGRESS", "SUSPENDED"]},
        "dueAt": {"lt": NOW.isoformat()},
    },
    {"or": [{"currentStage": {"eq": "grid_works"}}, {"completedAt": {"isNull": False}}]},
    {"not": {"businessTypeVersion": {"eq": 1}}},
    {"createdAt": {"gte": "2026-03-01T00:00:00Z"}},
]


@pytest.mark.parametrize("user", ["admin", "mia", "cy"])
async def test_counts_add_up_to_the_lists_total_count(
    api: Api, db: Database, clock: Clock, user: str
) -> None:
    await seven_cases(api, db, clock)
    for where in WHERES:
        expected = await total(api, where, as_user=user)
        [everything] = await statistics(api, None, where, as_user=user, query=COUNTS)
        assert everything["count"] == expected, where
        for group_by in (["BUSINESS_TYPE"], ["STATUS"], ["ORG_UNIT", "MONTH"], ["MONTH"]):
            groups = await statistics(api, group_by, where, as_user=user, query=COUNTS)
            assert sum(g["count"] for g in groups) == expected, (where, group_by)
            assert sum(g["open"] for g in groups) == everything["open"]
            assert sum(g["overdue"] for g in groups) == everything["overdue"]
        for group_by in (["STAGE"], ["POST"]):  # a split case counts once per stage or post
            groups = await statistics(api, group_by, where, as_user=user, query=COUNTS)
            assert sum(g["count"] for g in groups) >= expected
    dashboard = await statistics(api, None, WHERES[6], as_user=user, query=COUNTS)
    assert [(g["count"], g["overdue"]) for g in dashboard] == [(1, 1)]  # c4, in either scope


async def test_a_manager_counts_their_subtree_and_staff_may_not_ask(
    api: Api, db: Database, clock: Clock
) -> None:
    await seven_cases(api, db, clock)
    assert [
        (g["keys"], g["count"]) for g in await statistics(api, ["ORG_UNIT"], as_user="mia")
    ] == [(["county_a"], 4)]
    assert [(g["keys"], g["count"]) for g in await statistics(api, ["ORG_UNIT"], as_user="cy")] == [
        (["county_a"], 4),
        (["county_b"], 3),
    ]
    # Another county, asked for by name, is simply outside mia's scope.
    [nothing] = await statistics(api, None, {"orgUnit": {"eq": "county_b"}}, as_user="mia")
    assert nothing["count"] == 0 and nothing["avgWorkingDays"] is None
    assert await statistics(api, ["STATUS"], {"orgUnit": {"eq": "county_b"}}, as_user="mia") == []
    refused = await api.post(STATISTICS, {"groupBy": ["STATUS"]}, as_user="alice")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["data"] is None


async def test_a_filter_on_an_item_hidden_from_the_caller_is_refused_as_by_the_list(
    api: Api, db: Database
) -> None:
    await visibility.setup(api, db)
    await visibility.open_case(api, "acc_a1", "county_a1", "甲")
    await visibility.open_case(api, "acc_a2", "county_a2", "乙")
    await visibility.open_case(api, "admin", "county_b1", "丙")
    hidden = {"data": {"idNumber": {"eq": visibility.VALID_ID}}}  # visible to acceptors only
    listed = await api.post(TOTAL, {"where": hidden}, as_user="mgr_a")
    counted = await api.post(STATISTICS, {"where": hidden}, as_user="mgr_a")
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert counted["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "id_number" in counted["errors"][0]["message"]
    nested = {"or": [{"status": {"eq": "DRAFT"}}, {"not": hidden}]}
    counted = await api.post(STATISTICS, {"where": nested}, as_user="mgr_a")
    assert counted["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The administrator reads every item; the manager counts their city only.
    [everything] = await statistics(api, None, hidden)
    assert everything["count"] == 3 == await total(api, hidden)
    [mine] = await statistics(api, None, {"data": {"customerName": {"ne": "x"}}}, as_user="mgr_a")
    assert mine["count"] == 2


async def test_bounds_are_refused_with_a_validation_error(
    api: Api, db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seven_cases(api, db, clock)
    twice = await api.post(STATISTICS, {"groupBy": ["STATUS", "STATUS"]})
    assert twice["errors"][0]["extensions"] == {"code": "VALIDATION", "path": ["groupBy"]}

    monkeypatch.setattr(case_statistics, "MAX_GROUPS", 3)
    assert len(await statistics(api, ["ORG_UNIT", "MONTH"])) == 3
    many = await api.post(STATISTICS, {"groupBy": ["STATUS"]})
    assert many["errors"][0]["extensions"] == {"code": "VALIDATION", "path": ["groupBy"]}

    # From the first submission (Sunday 03-01) to the day after now (Monday 03-16): 17 days.
    monkeypatch.setattr(case_statistics, "MAX_WORKING_DAY_SPAN", 16)
    long = await api.post(STATISTICS, {"groupBy": ["ORG_UNIT"]})
    assert long["errors"][0]["extensions"] == {"code": "VALIDATION", "path": ["where"]}
    fragment = """query { caseStatistics { ...Days } }
      fragment Days on CaseGroupStatistics { ... on CaseGroupStatistics { avgWorkingDays } }"""
    through_fragments = await api.post(fragment)
    assert through_fragments["errors"][0]["extensions"]["path"] == ["where"]
    # Without avgWorkingDays no calendar is needed, and a narrower where fits.
    assert len(await statistics(api, ["ORG_UNIT"], query=COUNTS)) == 2
    later = {"submittedAt": {"gte": at(3, 2, 0).isoformat()}}
    assert [g["count"] for g in await statistics(api, None, later)] == [5]
