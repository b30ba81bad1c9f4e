"""The customer file read through the API: `customer(number)` and the scoped `customers` list.

Files are written here as rows (what archive effects write), so the read side is checked on
its own: every field, the meters' history, contracts with their terms, supply sources and
periods; the scope (org subtree; staff only through a case they may see); keyset pages both
ways; filters; and fields filled from items hidden from the reader.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from database import migrate
from database.archive_tables import (
    CapacityPeriodRow,
    ContractRow,
    CustomerRow,
    MeterRow,
    SupplySourceRow,
)
from database.session import Database
from database.table_base import UtcDateTime
from tests.api.conftest import ADMIN_PASSWORD, Api, Clock, add_user, serve
from tests.api.setup_metamodel import PUBLISH, SAVE_DRAFT, UPSERT_ITEM
from tests.api.test_customer_scope import archived_customer
from tests.api.test_scope_visibility import DRAFT, VALID_ID, setup, unit_id
from tests.conftest import HISTORY_KEYS

AT = dt.datetime(2025, 3, 1, 2, 30, tzinfo=dt.UTC)
C1, C2, C3, C4, C5, C6 = (f"300000000{i}" for i in range(1, 7))
FILE = """query($n: String!) { customer(number: $n) { number name idNumber address status
  tariffCategory electricityCategory capacity suspendedCapacity voltageLevel meterReadingSegment
  archiveNo archiveLocation closedAt mergedInto parentNumber cases
  meters { assetNo status }
  history: meters(includeRemoved: true) { assetNo purpose ctRatio ptRatio multiplier startReading
    status installedAt finalReading removedAt }
  contracts { number type signedAt signedOn termMonths expiresOn status terminatedOn amendedOn }
  supplySources { kind substation feeder capacityKva boundary }
  capacityPeriods { kind capacity startsOn endsOn restoredOn } } }"""
LIST = """query($where: CustomerWhere, $orderBy: [CustomerOrderBy!], $first: Int, $after: String,
  $last: Int, $before: String) {
  customers(where: $where, orderBy: $orderBy, first: $first, after: $after, last: $last,
            before: $before) {
    totalCount nodes { number name idNumber }
    edges { cursor node { number } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
CREATE = """mutation($input: CreateLvNewCaseInput!) { createLvNewCase(input: $input) {
  case { id number } errors { code message path } } }"""


async def open_for(api: Api, user: str, unit: str, customer: str, type_: str = "LvNew") -> int:
    """A case of `customer` opened by `user` in `unit`: its row id."""
    mutation = CREATE.replace("LvNew", type_)
    data = {"customerName": "申请人", "idNumber": VALID_ID}
    created = await api.data(
        mutation,
        {"input": {"orgUnit": unit, "submit": True, "data": data, "customerNumber": customer}},
        as_user=user,
    )
    payload = created[f"create{type_}Case"]
    assert payload["errors"] == []
    return int(payload["case"]["id"])


def customer(number: str, unit: int | None, **more: Any) -> CustomerRow:
    return CustomerRow(number=number, org_unit_id=unit, created_at=AT, updated_at=AT, **more)


async def write_files(api: Api, db: Database) -> dict[str, int]:
    """Five customers in three units (and one in none), with cases, meters, contracts, sources
    and periods. Returns the ids of the cases opened for C1, C2 and C3."""
    await setup(api, db)
    a1, a2, b1 = [await unit_id(db, u) for u in ("county_a1", "county_a2", "county_b1")]
    async with db.transaction() as session:
        session.add_all(
            [
                customer(
                    C1,
                    a1,
                    name="甲一",
                    id_number=VALID_ID,
                    address="城东路1号",
                    electricity_category="RESIDENT",
                    capacity="8.00",
                    voltage_level="V220",
                    meter_reading_segment="S-01",
                    suspended_capacity="4.00",
                    archive_no="DA-001",
                    archive_location="档案柜3",
                ),
                customer(
                    C2,
                    a2,
                    name="乙二",
                    electricity_category="COMMERCIAL",
                    voltage_level="KV10",
                    status="TEMPORARY",
                ),
                customer(C3, b1, name="丙三", voltage_level="KV10"),
                customer(C4, a1, name="甲四", parent_number=C1, electricity_category="RESIDENT"),
                customer(C5, None, name="无主"),
            ]
        )
    cases = {
        C1: await open_for(api, "acc_a1", "county_a1", C1),
        C2: await open_for(api, "acc_a2", "county_a2", C2),
        C3: await open_for(api, "admin", "county_b1", C3),
    }
    async with db.transaction() as session:
        # Closed (absorbed by 并户) after its case was opened: no case may name it now.
        await session.execute(
            sa.update(CustomerRow)
            .where(CustomerRow.number == C3)
            .values(status="CLOSED", closed_at=AT, merged_into=C1)
        )
        rows = (await session.execute(sa.select(CustomerRow.number, CustomerRow.id))).all()
        ids: dict[str, int] = {r.number: r.id for r in rows}
        case = cases[C1]
        later = AT + dt.timedelta(days=30)
        session.add_all(
            [
                MeterRow(
                    customer_id=ids[C1],
                    case_id=case,
                    asset_no="M-0",
                    purpose="GRID",
                    installed_at=AT,
                    status="REMOVED",
                    final_reading="1234.5",
                    removed_at=later,
                    removed_by_case_id=case,
                ),
                MeterRow(
                    customer_id=ids[C1],
                    case_id=case,
                    asset_no="M-1",
                    purpose="GRID",
                    ct_ratio="200/5",
                    pt_ratio="1",
                    multiplier="40",
                    start_reading="0",
                    installed_at=later,
                ),
                ContractRow(
                    customer_id=ids[C1],
                    case_id=case,
                    number="K-1",
                    type="RESIDENT",
                    signed_at=AT,
                    signed_on=dt.date(2025, 3, 1),
                    status="TERMINATED",
                    terminated_on=dt.date(2025, 3, 31),
                    terminated_by_case_id=case,
                ),
                ContractRow(
                    customer_id=ids[C1],
                    case_id=case,
                    number="K-2",
                    type="RESIDENT",
                    signed_at=later,
                    signed_on=dt.date(2025, 3, 30),
                    term_months=36,
                    expires_on=dt.date(2028, 3, 29),
                    amended_on=dt.date(2025, 6, 1),
                ),
                SupplySourceRow(
                    customer_id=ids[C1],
                    case_id=case,
                    position=1,
                    kind="BACKUP",
                    substation="东郊变",
                    feeder="10kV东2线",
                    capacity_kva="400",
                    boundary="杆2",
                ),
                SupplySourceRow(
                    customer_id=ids[C1],
                    case_id=case,
                    position=0,
                    kind="MAIN",
                    substation="城东变",
                    feeder="10kV东1线",
                    capacity_kva="630",
                    boundary="杆1",
                ),
                CapacityPeriodRow(
                    customer_id=ids[C1],
                    case_id=case,
                    kind="REDUCTION",
                    capacity="2.00",
                    starts_on=dt.date(2025, 1, 1),
                    ends_on=dt.date(2025, 2, 1),
                    restored_on=dt.date(2025, 2, 1),
                    restored_by_case_id=case,
                ),
                CapacityPeriodRow(
                    customer_id=ids[C1],
                    case_id=case,
                    kind="SUSPENSION",
                    capacity="4.00",
                    starts_on=dt.date(2025, 4, 1),
                    ends_on=dt.date(2025, 10, 1),
                ),
                ContractRow(
                    customer_id=ids[C2],
                    case_id=cases[C2],
                    number="K-3",
                    type="TEMPORARY",
                    signed_at=AT,
                    signed_on=dt.date(2025, 3, 1),
                    term_months=6,
                ),
            ]
        )
    return cases


async def listed(api: Api, user: str, **variables: Any) -> list[str]:
    found = (await api.data(LIST, variables, as_user=user))["customers"]
    assert found["totalCount"] == len(found["nodes"]) or "first" in variables
    return [n["number"] for n in found["nodes"]]


async def test_the_file_is_read_whole_by_an_administrator(api: Api, db: Database) -> None:
    await write_files(api, db)
    file = (await api.data(FILE, {"n": C1}))["customer"]
    later = "2025-03-31T02:30:00+00:00"
    assert file == {
        "number": C1,
        "name": "甲一",
        "idNumber": VALID_ID,
        "address": "城东路1号",
        "status": "ACTIVE",
        "tariffCategory": "RESIDENT",
        "electricityCategory": "RESIDENT",
        "capacity": "8.00",
        "suspendedCapacity": "4.00",
        "voltageLevel": "V220",
        "meterReadingSegment": "S-01",
        "archiveNo": "DA-001",
        "archiveLocation": "档案柜3",
        "closedAt": None,
        "mergedInto": None,
        "parentNumber": None,
        "cases": file["cases"],
        "meters": [{"assetNo": "M-1", "status": "ACTIVE"}],
        "history": [
            {
                "assetNo": "M-0",
                "purpose": "GRID",
                "ctRatio": None,
                "ptRatio": None,
                "multiplier": None,
                "startReading": None,
                "status": "REMOVED",
                "installedAt": "2025-03-01T02:30:00+00:00",
                "finalReading": "1234.5",
                "removedAt": later,
            },
            {
                "assetNo": "M-1",
                "purpose": "GRID",
                "ctRatio": "200/5",
                "ptRatio": "1",
                "multiplier": "40",
                "startReading": "0",
                "status": "ACTIVE",
                "installedAt": later,
                "finalReading": None,
                "removedAt": None,
            },
        ],
        "contracts": [
            {
                "number": "K-1",
                "type": "RESIDENT",
                "signedAt": "2025-03-01T02:30:00+00:00",
                "signedOn": "2025-03-01",
                "termMonths": None,
                "expiresOn": None,
                "status": "TERMINATED",
                "terminatedOn": "2025-03-31",
                "amendedOn": None,
            },
            {
                "number": "K-2",
                "type": "RESIDENT",
                "signedAt": later,
                "signedOn": "2025-03-30",
                "termMonths": 36,
                "expiresOn": "2028-03-29",
                "status": "ACTIVE",
                "terminatedOn": None,
                "amendedOn": "2025-06-01",
            },
        ],
        "supplySources": [
            {
                "kind": "MAIN",
                "substation": "城东变",
                "feeder": "10kV东1线",
                "capacityKva": "630",
                "boundary": "杆1",
            },
            {
                "kind": "BACKUP",
                "substation": "东郊变",
                "feeder": "10kV东2线",
                "capacityKva": "400",
                "boundary": "杆2",
            },
        ],
        "capacityPeriods": [
            {
                "kind": "REDUCTION",
                "capacity": "2.00",
                "startsOn": "2025-01-01",
                "endsOn": "2025-02-01",
                "restoredOn": "2025-02-01",
            },
            {
                "kind": "SUSPENSION",
                "capacity": "4.00",
                "startsOn": "2025-04-01",
                "endsOn": "2025-10-01",
                "restoredOn": None,
            },
        ],
    }
    assert len(file["cases"]) == 1
    closed = (await api.data(FILE, {"n": C3}))["customer"]
    assert (closed["status"], closed["closedAt"], closed["mergedInto"]) == (
        "CLOSED",
        "2025-03-01T02:30:00+00:00",
        C1,
    )
    assert (await api.data(FILE, {"n": C4}))["customer"]["parentNumber"] == C1
    temporary = (await api.data(FILE, {"n": C2}))["customer"]
    assert temporary["status"] == "TEMPORARY"
    assert temporary["contracts"][0]["type"] == "TEMPORARY"
    assert temporary["meters"] == [] and temporary["supplySources"] == []
    assert await listed(api, "admin") == [C1, C2, C3, C4, C5]


async def test_customers_are_listed_and_read_only_in_scope(api: Api, db: Database) -> None:
    await write_files(api, db)
    # Managers: their org subtree. Staff: only customers of a case they may see.
    assert await listed(api, "mgr_a") == [C1, C2, C4]
    assert await listed(api, "mgr_b") == [C3]
    assert await listed(api, "acc_a1") == [C1]
    assert await listed(api, "acc_a2") == [C2]
    assert await listed(api, "sur_a1") == []
    for user, outside in [
        ("mgr_a", [C3, C5]),
        ("mgr_b", [C1, C2, C4, C5]),
        ("acc_a1", [C2, C3, C4, C5]),
        ("sur_a1", [C1]),
    ]:
        for number in outside:
            assert (await api.data(FILE, {"n": number}, as_user=user))["customer"] is None
    # A filter cannot reach beyond the scope either.
    assert await listed(api, "mgr_a", where={"orgUnit": "city_b"}) == []
    assert await listed(api, "acc_a1", where={"parentNumber": C1}) == []
    # id_number is visible to acceptors only (lv_new): hidden from the manager on every path.
    seen = (await api.data(FILE, {"n": C1}, as_user="mgr_a"))["customer"]
    assert seen["name"] == "甲一" and seen["idNumber"] is None
    nodes = (await api.data(LIST, {"where": {"number": {"eq": C1}}}, as_user="mgr_a"))["customers"][
        "nodes"
    ]
    assert nodes == [{"number": C1, "name": "甲一", "idNumber": None}]
    own = (await api.data(FILE, {"n": C1}, as_user="acc_a1"))["customer"]
    assert own["idNumber"] == VALID_ID and len(own["history"]) == 2


async def test_filters(api: Api, db: Database) -> None:
    await write_files(api, db)
    cases = [
        ({"number": {"eq": C2}}, [C2]),
        ({"number": {"startsWith": "30000000"}}, [C1, C2, C3, C4, C5]),
        ({"number": {"startsWith": "3000000_"}}, []),  # no wildcards
        ({"name": {"startsWith": "甲"}}, [C1, C4]),
        ({"name": {"eq": "乙二"}}, [C2]),
        ({"status": ["TEMPORARY", "CLOSED"]}, [C2, C3]),
        ({"tariffCategory": ["RESIDENT"]}, [C1, C4]),
        ({"voltageLevel": ["KV10"]}, [C2, C3]),
        ({"orgUnit": "city_a"}, [C1, C2, C4]),
        ({"orgUnit": "county_a1"}, [C1, C4]),
        ({"orgUnit": "nowhere"}, []),
        ({"parentNumber": C1}, [C4]),
        ({"voltageLevel": ["KV10"], "status": ["CLOSED"]}, [C3]),
    ]
    for where, expected in cases:
        assert await listed(api, "admin", where=where) == expected, where
    # The manager filters on what they may read, within their scope.
    assert await listed(api, "mgr_a", where={"name": {"startsWith": "甲"}}) == [C1, C4]


async def test_pages_follow_cursors_both_ways(api: Api, db: Database) -> None:
    await write_files(api, db)

    async def page(**variables: Any) -> dict[str, Any]:
        found: dict[str, Any] = (await api.data(LIST, variables))["customers"]
        return found

    first = await page(first=2)
    assert [n["number"] for n in first["nodes"]] == [C1, C2]
    assert first["totalCount"] == 5
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    second = await page(first=2, after=first["pageInfo"]["endCursor"])
    assert [n["number"] for n in second["nodes"]] == [C3, C4]
    third = await page(first=2, after=second["pageInfo"]["endCursor"])
    assert [n["number"] for n in third["nodes"]] == [C5]
    assert not third["pageInfo"]["hasNextPage"]
    back = await page(last=2, before=third["pageInfo"]["startCursor"])
    assert [n["number"] for n in back["nodes"]] == [C3, C4]
    assert back["pageInfo"]["hasPreviousPage"] and back["pageInfo"]["hasNextPage"]
    end = await page(last=2)
    assert [n["number"] for n in end["nodes"]] == [C4, C5]
    # Another ordering: tariff category descending (empty ones first), then 户号 ascending.
    order = [{"tariffCategory": "DESC"}, {"number": "ASC"}]
    by_category = await page(orderBy=order, first=3)
    assert [n["number"] for n in by_category["nodes"]] == [C3, C5, C1]
    rest = await page(orderBy=order, first=3, after=by_category["pageInfo"]["endCursor"])
    assert [n["number"] for n in rest["nodes"]] == [C4, C2]
    before = await page(orderBy=order, last=2, before=rest["pageInfo"]["startCursor"])
    assert [n["number"] for n in before["nodes"]] == [C5, C1]
    # A cursor of one ordering is refused by another; pages are bounded.
    for variables in (
        {"after": by_category["pageInfo"]["endCursor"]},
        {"first": 201},
        {"orderBy": [{"name": "ASC", "number": "ASC"}]},
    ):
        body = await api.post(LIST, variables)
        assert body["errors"][0]["extensions"]["code"] == "VALIDATION", body


SECRET_DRAFT: dict[str, Any] = {
    **DRAFT,
    "code": "lv_secret",
    "name": "低压新装（户名保密）",
    "items": [
        {"item": "customer_name", "visibleTo": ["acceptor"]},
        {"item": "id_number"},
        {"item": "ct_ratio", "visibleTo": ["acceptor"]},
        {"item": "meter_asset_no"},
    ],
}


async def test_fields_filled_from_hidden_items_are_hidden_and_cannot_be_filtered_on(
    api: Api, db: Database
) -> None:
    await write_files(api, db)
    for item in (
        {"code": "ct_ratio", "label": "CT变比", "type": "STRING"},
        {"code": "meter_asset_no", "label": "电能表资产编号", "type": "STRING"},
    ):
        assert (await api.data(UPSERT_ITEM, {"input": item}))["upsertDataItem"]["errors"] == []
    saved = await api.data(SAVE_DRAFT, {"input": SECRET_DRAFT})
    assert saved["saveBusinessTypeDraft"]["problems"] == []
    assert (await api.data(PUBLISH, {"code": "lv_secret"}))["publishBusinessType"]["errors"] == []
    await api.refresh_schema()
    async with db.transaction() as session:
        session.add(customer(C6, await unit_id(db, "county_a1"), name="密户", voltage_level="V220"))
    case = await open_for(api, "acc_a1", "county_a1", C6, "LvSecret")
    async with db.transaction() as session:
        owner = await session.scalar(sa.select(CustomerRow.id).where(CustomerRow.number == C6))
        assert owner is not None
        session.add(
            MeterRow(
                customer_id=owner,
                case_id=case,
                asset_no="M-6",
                ct_ratio="100/5",
                multiplier="20",
                installed_at=AT,
            )
        )
    # The manager reads the file without the name and the ratio (nor the 综合倍率 made of it).
    seen = (await api.data(FILE, {"n": C6}, as_user="mgr_a"))["customer"]
    assert seen["name"] is None and seen["voltageLevel"] == "V220"
    assert [(m["assetNo"], m["ctRatio"], m["multiplier"]) for m in seen["history"]] == [
        ("M-6", None, None)
    ]
    nodes = (await api.data(LIST, {"where": {"number": {"eq": C6}}}, as_user="mgr_a"))["customers"][
        "nodes"
    ]
    assert nodes == [{"number": C6, "name": None, "idNumber": None}]
    # Another customer's name, written by lv_new only, stays readable.
    assert (await api.data(FILE, {"n": C1}, as_user="mgr_a"))["customer"]["name"] == "甲一"
    # Filtering or ordering on the name would reveal it: refused, whatever customer it meets.
    for variables in (
        {"where": {"name": {"startsWith": "密"}}},
        {"where": {"name": {"eq": "甲一"}}},
        {"orderBy": [{"name": "ASC"}]},
    ):
        body = await api.post(LIST, variables, as_user="mgr_a")
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert "name" in body["errors"][0]["message"]
    assert await listed(api, "mgr_a", where={"voltageLevel": ["V220"]}) == [C1, C6]
    # The acceptor may read the name, so may filter on it.
    assert await listed(api, "acc_a1", where={"name": {"startsWith": "密"}}) == [C6]
    own = (await api.data(FILE, {"n": C6}, as_user="acc_a1"))["customer"]
    assert own["name"] == "密户" and own["history"][0]["ctRatio"] == "100/5"


async def test_archive_rows_of_revision_0010_are_carried_forward(
    scratch_database_url: str, tmp_path: Path, clock: Clock
) -> None:
    url = scratch_database_url
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url, history_keys=HISTORY_KEYS)
    try:
        await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
        async with serve(url, tmp_path, clock) as app:
            await setup(app, db)
            number, _ = await archived_customer(app, db)
        await asyncio.to_thread(migrate.downgrade, url, "0010")
        # At 0010: the contract archived late in the evening (UTC), and a temporary-supply
        # customer beside it, written with the columns of that revision.
        contract = sa.table(
            "contract",
            sa.column("id"),
            sa.column("customer_id"),
            sa.column("case_id"),
            sa.column("number"),
            sa.column("type"),
            sa.column("signed_at", UtcDateTime()),
        )
        customers = sa.table(
            "customer",
            sa.column("id"),
            sa.column("number"),
            sa.column("name"),
            sa.column("org_unit_id"),
            sa.column("created_at", UtcDateTime()),
            sa.column("updated_at", UtcDateTime()),
        )
        evening = dt.datetime(2025, 3, 1, 17, 30, tzinfo=dt.UTC)  # 01:30 on 2 March in Shanghai
        async with db.transaction() as session:
            owner = (
                await session.execute(
                    sa.select(customers.c.id, customers.c.org_unit_id).where(
                        customers.c.number == number
                    )
                )
            ).one()
            await session.execute(
                sa.update(contract)
                .where(contract.c.customer_id == owner.id)
                .values(signed_at=evening)
            )
            case_id = await session.scalar(
                sa.select(contract.c.case_id).where(contract.c.customer_id == owner.id)
            )
            await session.execute(
                sa.insert(customers).values(
                    number="3999999999",
                    name="临时户",
                    org_unit_id=owner.org_unit_id,
                    created_at=evening,
                    updated_at=evening,
                )
            )
            temporary = await session.scalar(
                sa.select(customers.c.id).where(customers.c.number == "3999999999")
            )
            await session.execute(
                sa.insert(contract).values(
                    customer_id=temporary,
                    case_id=case_id,
                    number="T-0001",
                    type="TEMPORARY",
                    signed_at=AT,
                )
            )
        await asyncio.to_thread(migrate.upgrade, url)
        async with serve(url, tmp_path, clock) as app:
            old = (await app.data(FILE, {"n": number}))["customer"]
            assert old["status"] == "ACTIVE"
            assert [(c["signedOn"], c["status"]) for c in old["contracts"]] == [
                ("2025-03-02", "ACTIVE")
            ]
            carried = (await app.data(FILE, {"n": "3999999999"}))["customer"]
            assert carried["status"] == "TEMPORARY"
            assert [
                (c["number"], c["signedOn"], c["termMonths"]) for c in carried["contracts"]
            ] == [("T-0001", "2025-03-01", None)]
            statuses = await app.data(LIST, {"where": {"status": ["TEMPORARY"]}})
            assert [n["number"] for n in statuses["customers"]["nodes"]] == ["3999999999"]
    finally:
        await db.dispose()
