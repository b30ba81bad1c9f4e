"""The customer archive is scoped like cases: a customer belongs to the org unit of the case that
created it; naming or reading another unit's customer answers as an unknown number does."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from database import migrate
from database.archive_tables import CustomerRow
from database.case_tables import CaseRow
from database.session import Database
from tests.api.conftest import ADMIN_PASSWORD, Api, Clock, add_user, serve
from tests.api.test_engine_flow import complete, only_task
from tests.api.test_scope_visibility import CREATE, VALID_ID, setup, unit_id
from tests.conftest import HISTORY_KEYS

CUSTOMER = """query($n: String!) { customer(number: $n) { number name idNumber address
  meters { assetNo } cases } }"""
CASE_CUSTOMER = "query($id: ID!) { case(id: $id) { number customer { number name cases } } }"
UNKNOWN = "0999999999"


async def archived_customer(api: Api, db: Database) -> tuple[str, str]:
    """A case of county_b1 run to its end by county_b1 staff: (customer number, case number)."""
    unit = await unit_id(db, "county_b1")
    await add_user(db, "acc_b1", ["STAFF"], org_unit_id=unit, posts=["acceptor"])
    await add_user(db, "sur_b1", ["STAFF"], org_unit_id=unit, posts=["surveyor"])
    data = {"customerName": "乙方客户", "idNumber": VALID_ID}
    created = await api.data(
        CREATE, {"input": {"orgUnit": "county_b1", "submit": True, "data": data}}, as_user="acc_b1"
    )
    case = created["createLvNewCase"]["case"]
    assert (await complete(api, "acc_b1", case["tasks"][0]["id"]))["errors"] == []
    assert (await complete(api, "sur_b1", await only_task(api, "sur_b1", "survey")))["errors"] == []
    read = await api.data(CASE_CUSTOMER, {"id": case["id"]})
    number: str = read["case"]["customer"]["number"]
    return number, case["number"]


async def create_for(api: Api, user: str, unit: str, customer: str) -> dict[str, Any]:
    data = {"customerName": "冒名", "idNumber": VALID_ID}
    result = await api.data(
        CREATE,
        {"input": {"orgUnit": unit, "submit": True, "data": data, "customerNumber": customer}},
        as_user=user,
    )
    payload: dict[str, Any] = result["createLvNewCase"]
    return payload


def without_number(errors: list[dict[str, Any]], number: str) -> list[dict[str, Any]]:
    """Errors with the number named in them blanked, to compare two answers."""
    return [{**e, "message": e["message"].replace(number, "#")} for e in errors]


async def test_another_units_customer_cannot_be_named_and_answers_as_unknown(
    api: Api, db: Database
) -> None:
    await setup(api, db)
    customer, _ = await archived_customer(api, db)
    foreign = await create_for(api, "acc_a1", "county_a1", customer)
    unknown = await create_for(api, "acc_a1", "county_a1", UNKNOWN)
    assert foreign["case"] is None and unknown["case"] is None
    assert [e["code"] for e in unknown["errors"]] == ["NOT_FOUND"]
    assert without_number(foreign["errors"], customer) == without_number(unknown["errors"], UNKNOWN)
    # Nothing was opened: the county_a1 acceptor still sees no case at all.
    assert (await api.data("{ cases { totalCount } }", as_user="acc_a1"))["cases"][
        "totalCount"
    ] == 0
    # Reading answers alike too: null for an unknown number and for another unit's customer.
    for reader in ("acc_a1", "mgr_a"):
        for number in (customer, UNKNOWN):
            assert (await api.data(CUSTOMER, {"n": number}, as_user=reader))["customer"] is None
    # The customer's own unit may name it and read it.
    own = await create_for(api, "acc_b1", "county_b1", customer)
    assert own["errors"] == []
    seen = (await api.data(CUSTOMER, {"n": customer}, as_user="mgr_b"))["customer"]
    # id_number is visible to acceptors only: its archive field is hidden from the manager.
    assert seen["name"] == "乙方客户" and seen["idNumber"] is None
    own_staff = (await api.data(CUSTOMER, {"n": customer}, as_user="acc_b1"))["customer"]
    assert own_staff["idNumber"] == VALID_ID


async def test_customer_cases_list_only_cases_in_the_readers_scope(api: Api, db: Database) -> None:
    await setup(api, db)
    customer, first = await archived_customer(api, db)
    # An administrator may open a case elsewhere for the customer; others see only their scope.
    elsewhere = await create_for(api, "admin", "county_a1", customer)
    assert elsewhere["errors"] == []
    other = elsewhere["case"]["number"]
    as_admin = (await api.data(CUSTOMER, {"n": customer}))["customer"]
    assert sorted(as_admin["cases"]) == sorted([first, other])
    as_manager = (await api.data(CUSTOMER, {"n": customer}, as_user="mgr_b"))["customer"]
    assert as_manager["cases"] == [first]
    # The county_a1 acceptor sees the case opened in their unit, but not the customer behind it.
    through_case = await api.data(CASE_CUSTOMER, {"id": elsewhere["case"]["id"]}, as_user="acc_a1")
    assert through_case["case"]["number"] == other
    assert through_case["case"]["customer"] is None
    assert (await api.data(CUSTOMER, {"n": customer}, as_user="mgr_a"))["customer"] is None


async def test_customers_archived_before_the_migration_take_their_cases_unit(
    scratch_database_url: str, tmp_path: Path, clock: Clock
) -> None:
    url = scratch_database_url
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url, history_keys=HISTORY_KEYS)
    try:
        await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
        async with serve(url, tmp_path, clock) as app:
            await setup(app, db)
            customer, first = await archived_customer(app, db)
        await asyncio.to_thread(migrate.downgrade, url, "0007")
        await asyncio.to_thread(migrate.upgrade, url)
        async with db.read() as session:
            unit = await session.scalar(select(CaseRow.org_unit_id).where(CaseRow.number == first))
            owner = await session.scalar(
                select(CustomerRow.org_unit_id).where(CustomerRow.number == customer)
            )
        assert unit == await unit_id(db, "county_b1") and owner == unit
        # A customer no case archived (imported) keeps no unit: only administrators reach it.
        async with db.transaction() as session:
            await session.execute(
                update(CustomerRow).where(CustomerRow.number == customer).values(org_unit_id=None)
            )
        async with serve(url, tmp_path, clock) as app:
            assert (await app.data(CUSTOMER, {"n": customer}, as_user="mgr_b"))["customer"] is None
            assert (await app.data(CUSTOMER, {"n": customer}))["customer"]["cases"] == [first]
    finally:
        await db.dispose()
