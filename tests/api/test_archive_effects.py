"""Archive effects as metadata, through the API, with the customer file checked afterwards.

Small one-stage types (accepting the application completes it) are defined from a YAML bundle
with their effects and customer requirements; each case is opened, submitted and completed by a
counter clerk, and the file's rows are read back: customers with their status and capacity,
meters with their history, contracts with their terms, capacity periods.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from database import metadata_repo
from database.archive_tables import CapacityPeriodRow, ContractRow, CustomerRow, MeterRow
from database.session import Database
from metamodel import yaml_io
from metamodel.bundle import ApplyRefused
from resolvers.build import standalone_reviewer, static_names
from service import definitions
from tests.api.conftest import Api, Clock, add_user
from tests.api.test_command_statements import counting

BUNDLE = """
org_units:
  - {code: city, name: 市公司}
  - {code: county, name: 县公司, parent: city}
  - {code: other, name: 另一县, parent: city}
posts:
  - {code: acceptor, name: 受理员}
stages:
  - {code: accept, name: 业务受理}
responsibilities:
  - {stage: accept, post: acceptor}
data_items:
  - {code: customer_name, label: 户名, type: STRING}
  - {code: contract_capacity, label: 合同容量, type: DECIMAL, scale: 2}
  - code: voltage_level
    label: 电压等级
    type: ENUM
    options: [{value: V380, label: 380V}, {value: KV10, label: 10kV}]
  - {code: meter_asset_no, label: 电能表资产号, type: STRING}
  - {code: signed_on, label: 合同签订日期, type: DATE}
  - {code: term_months, label: 合同期限（月）, type: INTEGER}
  - {code: arrears_cleared, label: 欠费已结清, type: BOOLEAN}
  - {code: final_reading, label: 止码, type: DECIMAL}
  - {code: suspend_capacity, label: 暂停容量, type: DECIMAL}
  - {code: suspend_from, label: 暂停开始日期, type: DATE}
  - code: meters
    label: 电能表
    type: LIST
    fields:
      - {code: asset_no, label: 资产号, type: STRING, required: true}
      - code: purpose
        label: 用途
        type: ENUM
        options: [{value: GENERATION, label: 发电}, {value: GRID, label: 上网}]
      - {code: ct_ratio, label: CT, type: STRING}
      - {code: start_reading, label: 起度, type: DECIMAL}
  - code: merged_accounts
    label: 并入户号
    type: LIST
    fields:
      - {code: customer_number, label: 户号, type: STRING, required: true}
  - code: new_accounts
    label: 分立户
    type: LIST
    fields:
      - {code: name, label: 户名, type: STRING}
      - {code: capacity, label: 容量, type: DECIMAL}
      - {code: asset_no, label: 资产号, type: STRING}
business_types:
  - code: hv_new
    name: 高压新装
    group: NEW
    start: accept
    stages: [{stage: accept}]
    items:
      - {item: customer_name}
      - {item: contract_capacity}
      - {item: voltage_level}
      - {item: meter_asset_no}
  - code: pv_new
    name: 光伏新装
    group: NEW
    start: accept
    stages: [{stage: accept}]
    items:
      - {item: customer_name}
      - {item: contract_capacity}
      - {item: voltage_level}
      - {item: meters}
      - {item: signed_on}
      - {item: term_months}
    effects:
      - {kind: CREATE_CUSTOMER}
      - {kind: ADD_METERS, entries: meters}
      - kind: START_CONTRACT
        contract_type: PPA
  - code: close_account
    name: 销户
    group: CHANGE
    start: accept
    stages: [{stage: accept}]
    items:
      - {item: arrears_cleared}
      - {item: final_reading}
    effects:
      - {kind: CLOSE_ACCOUNT}
      - {kind: TERMINATE_CONTRACT}
  - code: suspend
    name: 暂停
    group: CHANGE
    start: accept
    stages: [{stage: accept}]
    items: [{item: suspend_capacity}, {item: suspend_from}]
    effects:
      - kind: SUSPEND
        suspension: SUSPENSION
        fields:
          - {field: capacity, item: suspend_capacity}
          - {field: starts_on, item: suspend_from}
    customer_requirement: {statuses: [ACTIVE]}
  - code: suspend_restore
    name: 暂停恢复
    group: CHANGE
    start: accept
    stages: [{stage: accept}]
    items: [{item: suspend_from}]
    effects: [{kind: RESTORE, suspension: SUSPENSION}]
    customer_requirement: {open_suspension: SUSPENSION}
  - code: merge_accounts
    name: 并户
    group: CHANGE
    start: accept
    stages: [{stage: accept}]
    items: [{item: merged_accounts}, {item: suspend_from}]
    effects: [{kind: MERGE_ACCOUNTS, entries: merged_accounts}]
  - code: split_account
    name: 分户
    group: CHANGE
    start: accept
    stages: [{stage: accept}]
    items: [{item: new_accounts}, {item: suspend_from}]
    effects: [{kind: SPLIT_ACCOUNT, entries: new_accounts}]
  - code: estate_new
    name: 小区新装
    group: NEW
    start: accept
    stages: [{stage: accept}]
    items: [{item: customer_name}, {item: new_accounts}]
    effects:
      - {kind: CREATE_CUSTOMER}
      - {kind: CREATE_ACCOUNTS, entries: new_accounts}
"""

COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) {
  case { status customerNumber } errors { code message path } } }"""
EVENTS = "query($id: ID!) { case(id: $id) { events { action data } } }"


def _create(code: str) -> str:
    name = "".join(part.title() for part in code.split("_"))
    return f"""mutation($input: Create{name}CaseInput!) {{ create{name}Case(input: $input) {{
  case {{ id number status customerNumber tasks {{ id }} }} errors {{ code message path }} }} }}"""


async def define(api: Api, db: Database) -> None:
    try:
        await definitions.apply_bundle(
            db,
            yaml_io.load(BUNDLE),
            by="test",
            now=dt.datetime.now(dt.UTC),
            review=standalone_reviewer(),
            reserved_names=static_names(),
        )
    except ApplyRefused as refused:
        raise AssertionError(refused.lines()) from refused
    async with db.read() as session:
        county = await metadata_repo.get_org_unit(session, "county")
        other = await metadata_repo.get_org_unit(session, "other")
        assert county is not None and other is not None
        county_id, other_id = county.id, other.id
    await add_user(db, "clerk", ["STAFF"], org_unit_id=county_id, posts=["acceptor"])
    await add_user(db, "far", ["STAFF"], org_unit_id=other_id, posts=["acceptor"])
    await api.refresh_schema()


async def open_case(
    api: Api,
    code: str,
    data: dict[str, Any],
    customer: str | None = None,
    *,
    user: str = "clerk",
    unit: str = "county",
) -> dict[str, Any]:
    value: dict[str, Any] = {"orgUnit": unit, "submit": True, "data": data}
    if customer is not None:
        value["customerNumber"] = customer
    found = await api.data(_create(code), {"input": value}, as_user=user)
    payload: dict[str, Any] = next(iter(found.values()))
    return payload


async def finish(
    api: Api, case: dict[str, Any], user: str = "clerk", **data: Any
) -> dict[str, Any]:
    task = case["tasks"][0]["id"]
    result = await api.data(
        COMPLETE, {"input": {"taskId": task, "outcome": "APPROVE", "data": data}}, as_user=user
    )
    payload: dict[str, Any] = result["completeTask"]
    return payload


async def run(
    api: Api, code: str, data: dict[str, Any], customer: str | None = None, **done: Any
) -> dict[str, Any]:
    opened = await open_case(api, code, data, customer)
    assert opened["errors"] == [], opened
    finished = await finish(api, opened["case"], **done)
    assert finished["errors"] == [] and finished["case"]["status"] == "COMPLETED", finished
    return {**opened["case"], "customerNumber": finished["case"]["customerNumber"]}


async def customer_row(db: Database, number: str) -> CustomerRow:
    async with db.read() as session:
        row = await session.scalar(select(CustomerRow).where(CustomerRow.number == number))
        assert row is not None
        return row


async def rows_of(db: Database, table: Any, number: str) -> list[Any]:
    async with db.read() as session:
        customer = await session.scalar(select(CustomerRow).where(CustomerRow.number == number))
        assert customer is not None
        found = await session.scalars(
            select(table).where(table.customer_id == customer.id).order_by(table.id)
        )
        return list(found)


async def effect_events(api: Api, case_id: str) -> list[dict[str, Any]]:
    events = (await api.data(EVENTS, {"id": case_id}))["case"]["events"]
    return [e["data"] for e in events if e["action"] == "EFFECT"]


async def hv_customer(api: Api) -> str:
    """A 10 kV customer with one meter and a HIGH_VOLTAGE contract (default effects)."""
    data = {
        "customerName": "某化工厂",
        "contractCapacity": "630",
        "voltageLevel": "KV10",
        "meterAssetNo": "3330001",
    }
    number: str = (await run(api, "hv_new", data))["customerNumber"]
    return number


async def test_a_new_connection_creates_its_customer_meters_and_contract(
    api: Api, db: Database, clock: Clock
) -> None:
    await define(api, db)
    clock.set(dt.datetime(2027, 3, 31, 17, 0, tzinfo=dt.UTC))  # April 1st in Asia/Shanghai
    data = {
        "customerName": "阳光农场",
        "contractCapacity": "400",
        "voltageLevel": "V380",
        "meters": [
            {"assetNo": "G-1", "purpose": "GENERATION", "ctRatio": "100/5", "startReading": "0"},
            {"assetNo": "B-1", "purpose": "GRID"},
        ],
        "termMonths": 60,
    }
    case = await run(api, "pv_new", data)
    number = case["customerNumber"]
    assert number is not None and len(number) == 10
    customer = await customer_row(db, number)
    assert (customer.name, customer.status, customer.capacity) == ("阳光农场", "ACTIVE", "400.00")
    meters = await rows_of(db, MeterRow, number)
    assert [(m.asset_no, m.purpose, m.multiplier, m.status) for m in meters] == [
        ("G-1", "GENERATION", "20", "ACTIVE"),
        ("B-1", "GRID", None, "ACTIVE"),
    ]
    [contract] = await rows_of(db, ContractRow, number)
    assert (contract.type, contract.status, contract.term_months) == ("PPA", "ACTIVE", 60)
    assert contract.signed_on == dt.date(2027, 4, 1)  # no date entered: the day it ended
    assert contract.expires_on == dt.date(2032, 4, 1)
    events = await effect_events(api, case["id"])
    assert [(e["kind"], e["effect"], e["customer"]) for e in events] == [
        ("CREATE_CUSTOMER", 0, number),
        ("ADD_METERS", 1, number),
        ("START_CONTRACT", 2, number),
    ]
    assert events[1]["installed"] == ["G-1", "B-1"]
    assert events[2]["contracts"] == [contract.number]

    # The signing date entered on the case is the contract's, not the day it was archived.
    signed = await run(api, "pv_new", {**data, "meters": [], "signedOn": "2026-02-14"})
    [second] = await rows_of(db, ContractRow, signed["customerNumber"])
    assert second.signed_on == dt.date(2026, 2, 14) and second.expires_on == dt.date(2031, 2, 14)


async def test_closing_an_account_waits_for_its_arrears_then_reads_and_removes_its_meter(
    api: Api, db: Database
) -> None:
    await define(api, db)
    number = await hv_customer(api)
    [before] = await rows_of(db, ContractRow, number)
    assert before.type == "HIGH_VOLTAGE"
    opened = await open_case(api, "close_account", {}, number)
    assert opened["errors"] == []
    refused = await finish(api, opened["case"], arrearsCleared=False, finalReading="1234.5")
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("VALIDATION", ["input", "data", "arrearsCleared"])
    ]
    assert (await customer_row(db, number)).status == "ACTIVE"  # nothing changed
    unread = await finish(api, opened["case"], arrearsCleared=True)
    assert [(e["code"], e["path"]) for e in unread["errors"]] == [
        ("VALIDATION", ["input", "data", "finalReading"])
    ]
    done = await finish(api, opened["case"], arrearsCleared=True, finalReading="1234.5")
    assert done["errors"] == [] and done["case"]["status"] == "COMPLETED"
    customer = await customer_row(db, number)
    assert customer.status == "CLOSED" and customer.closed_at is not None
    [meter] = await rows_of(db, MeterRow, number)
    assert (meter.status, meter.final_reading) == ("REMOVED", "1234.5")
    [contract] = await rows_of(db, ContractRow, number)
    assert contract.status == "TERMINATED" and contract.terminated_on is not None
    events = await effect_events(api, opened["case"]["id"])
    assert [(e["kind"], e.get("removed")) for e in events] == [
        ("CLOSE_ACCOUNT", ["3330001"]),
        ("TERMINATE_CONTRACT", None),
    ]
    # A closed account is named by no further case, of any type.
    again = await open_case(api, "suspend", {}, number)
    assert [(e["code"], e["path"]) for e in again["errors"]] == [
        ("CUSTOMER_STATE", ["input", "customerNumber"])
    ]


async def test_a_suspension_and_its_restore(api: Api, db: Database) -> None:
    await define(api, db)
    number = await hv_customer(api)
    # 暂停恢复 needs an open 暂停: refused at create while there is none.
    early = await open_case(api, "suspend_restore", {}, number)
    assert [(e["code"], e["path"]) for e in early["errors"]] == [
        ("CUSTOMER_STATE", ["input", "customerNumber"])
    ]
    assert "SUSPENSION" in early["errors"][0]["message"]
    await run(api, "suspend", {"suspendFrom": "2026-05-01"}, number)  # the whole capacity
    customer = await customer_row(db, number)
    assert (customer.status, customer.suspended_capacity) == ("SUSPENDED", "630.00")
    [period] = await rows_of(db, CapacityPeriodRow, number)
    assert (period.kind, period.capacity, period.starts_on) == (
        "SUSPENSION",
        None,
        dt.date(2026, 5, 1),
    )
    # 暂停 needs an ACTIVE customer: a second one is refused while it is suspended.
    twice = await open_case(api, "suspend", {}, number)
    assert [e["code"] for e in twice["errors"]] == ["CUSTOMER_STATE"]
    restored = await run(api, "suspend_restore", {}, number)
    customer = await customer_row(db, number)
    assert (customer.status, customer.suspended_capacity) == ("ACTIVE", None)
    [period] = await rows_of(db, CapacityPeriodRow, number)
    assert period.restored_on is not None
    events = await effect_events(api, restored["id"])
    assert events == [{"kind": "RESTORE", "effect": 0, "customer": number, "period": "SUSPENSION"}]


async def test_a_requirement_is_checked_again_at_submit(api: Api, db: Database) -> None:
    await define(api, db)
    number = await hv_customer(api)
    value = {"orgUnit": "county", "submit": False, "customerNumber": number, "data": {}}
    drafted = await api.data(_create("suspend"), {"input": value}, as_user="clerk")
    draft = next(iter(drafted.values()))
    assert draft["errors"] == [] and draft["case"]["status"] == "DRAFT"
    await run(api, "suspend", {}, number)  # another case suspends it meanwhile
    submitted = await api.data(
        """mutation($id: ID!) { submitCase(id: $id) { case { status } errors { code path } } }""",
        {"id": draft["case"]["id"]},
        as_user="clerk",
    )
    assert submitted["submitCase"]["errors"] == [
        {"code": "CUSTOMER_STATE", "path": ["input", "customerNumber"]}
    ]


async def test_merging_accounts_closes_the_absorbed_ones_into_the_survivor(
    api: Api, db: Database
) -> None:
    await define(api, db)
    survivor, absorbed = await hv_customer(api), await hv_customer(api)
    refusals = [
        ([{"customerNumber": survivor}], "itself"),
        ([{"customerNumber": "0000999999"}], "no customer"),
    ]
    for entries, said in refusals:
        opened = await open_case(api, "merge_accounts", {"mergedAccounts": entries}, survivor)
        done = await finish(api, opened["case"])
        assert [(e["code"], e["path"]) for e in done["errors"]] == [
            ("VALIDATION", ["input", "data", "mergedAccounts", "0", "customerNumber"])
        ]
        assert said in done["errors"][0]["message"]
    case = await run(
        api, "merge_accounts", {"mergedAccounts": [{"customerNumber": absorbed}]}, survivor
    )
    gone = await customer_row(db, absorbed)
    assert (gone.status, gone.merged_into) == ("CLOSED", survivor)
    assert (await customer_row(db, survivor)).capacity == "1260.00"
    meters = await rows_of(db, MeterRow, survivor)
    assert [(m.asset_no, m.status) for m in meters] == [
        ("3330001", "ACTIVE"),
        ("3330001", "ACTIVE"),
    ]
    assert [c.status for c in await rows_of(db, ContractRow, absorbed)] == ["TERMINATED"]
    [event] = await effect_events(api, case["id"])
    assert event["merged"] == [absorbed] and event["customer"] == survivor


async def test_an_account_out_of_the_cases_unit_cannot_be_merged(api: Api, db: Database) -> None:
    await define(api, db)
    survivor = await hv_customer(api)
    far = await open_case(
        api,
        "hv_new",
        {"customerName": "远方", "meterAssetNo": "9"},
        user="far",
        unit="other",
    )
    done = await finish(api, far["case"], user="far")
    elsewhere = done["case"]["customerNumber"]
    opened = await open_case(
        api, "merge_accounts", {"mergedAccounts": [{"customerNumber": elsewhere}]}, survivor
    )
    refused = await finish(api, opened["case"])
    assert [e["code"] for e in refused["errors"]] == ["VALIDATION"]
    assert (await customer_row(db, elsewhere)).status == "ACTIVE"


async def test_splitting_an_account(api: Api, db: Database) -> None:
    await define(api, db)
    parent = await hv_customer(api)
    too_much = await open_case(api, "split_account", {"newAccounts": [{"capacity": "700"}]}, parent)
    refused = await finish(api, too_much["case"])
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [
        ("VALIDATION", ["input", "data", "newAccounts"])
    ]
    entries = [{"name": "分户一", "capacity": "200", "assetNo": "S-1"}, {"capacity": "30"}]
    case = await run(api, "split_account", {"newAccounts": entries}, parent)
    [event] = await effect_events(api, case["id"])
    first, second = event["created"]
    assert (await customer_row(db, parent)).capacity == "400.00"
    one, two = await customer_row(db, first), await customer_row(db, second)
    assert (one.name, one.capacity, one.parent_number) == ("分户一", "200", parent)
    assert (two.name, two.voltage_level, two.parent_number) == ("某化工厂", "KV10", parent)
    assert [m.asset_no for m in await rows_of(db, MeterRow, first)] == ["S-1"]


async def test_an_estate_creates_120_household_accounts_in_a_few_statements(
    api: Api, db: Database
) -> None:
    await define(api, db)
    households = [{"name": f"{i + 1}号", "assetNo": f"H{i + 1:04d}"} for i in range(120)]
    opened = await open_case(
        api, "estate_new", {"customerName": "幸福小区", "newAccounts": households}
    )
    assert opened["errors"] == [], opened
    async with counting(api) as counted:
        done = await finish(api, opened["case"])
    assert done["errors"] == [] and done["case"]["status"] == "COMPLETED"
    assert len(counted.statements) <= 30, counted.statements
    estate = done["case"]["customerNumber"]
    async with db.read() as session:
        children = list(
            await session.scalars(
                select(CustomerRow)
                .where(CustomerRow.parent_number == estate)
                .order_by(CustomerRow.id)
            )
        )
        meters = list(await session.scalars(select(MeterRow).order_by(MeterRow.id)))
    assert len(children) == 120 and len({c.number for c in children}) == 120
    assert (children[0].name, children[-1].name) == ("1号", "120号")
    assert len(meters) == 120 and {m.customer_id for m in meters} == {c.id for c in children}
    [_, event] = await effect_events(api, opened["case"]["id"])
    assert event["kind"] == "CREATE_ACCOUNTS" and len(event["created"]) == 120
