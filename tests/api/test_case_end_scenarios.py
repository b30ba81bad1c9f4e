"""How cases end and what they change, as a utility meets it through the API.

- A 高压 application refused at 现场勘查 (不具备供电条件) ends REJECTED: the applicant is told why
  and nothing is archived.
- A 销户 on a 10 kV customer with arrears is refused (the type's rule, and the CLOSE_ACCOUNT
  effect behind it); once they are cleared it closes the account with the final reading and
  terminates its contract.
- A 小区新装 with 120 households creates 120 accounts.
- An administrator defines 临时用电延期 — its customer requirement and its effect — without code,
  and its cases extend a temporary-supply contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from database.session import Database
from metamodel import naming
from metamodel.effect_specs import CaseEnd, CustomerRequirement, CustomerStatus
from metamodel.specs import BusinessTypeSpec
from tests.api.catalogue_customers import OLD_METER, seed_customer
from tests.api.catalogue_walking import (
    CASE_FIELDS,
    COMPLETE,
    ITEMS,
    RESPONSIBLE,
    ROOT,
    TYPES,
    Walk,
    catalogue_app,
    required_at,
    to_input,
    user_of,
    walk_case,
)

PROGRESS = """query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) {
  status reason } }"""
FILE = """query($n: String!) { customer(number: $n) { number status
  meters { assetNo } history: meters(includeRemoved: true) { assetNo status finalReading }
  contracts { number type status expiresOn terminatedOn } } }"""
CHILDREN = """query($n: String!, $after: String) {
  customers(where: {parentNumber: $n}, first: 200, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { number address } } } }"""


@pytest.fixture(scope="module")
async def walk(
    database: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Walk]:
    async with catalogue_app(database, database_url, tmp_path_factory.mktemp("ends")) as app:
        yield app


async def test_a_high_voltage_application_without_supply_conditions_is_rejected(
    walk: Walk,
) -> None:
    walked = await walk_case(
        walk,
        "hv_new_single",
        end=CaseEnd.REJECTED,
        at="site_survey",
        values={"rejection_reason": "NO_SUPPLY_CONDITION"},
    )
    assert walked.path[-2:] == ["site_survey:REJECT", "application_rejected"]
    assert walked.case["customer"] is None
    shown = (
        await walk.api.data(
            PROGRESS, {"n": walked.case["number"], "c": walked.access_code}, as_user=None
        )
    )["caseProgress"]
    assert shown == {"status": "REJECTED", "reason": "不具备供电条件"}


async def _complete(walk: Walk, case: dict[str, Any], data: dict[str, object]) -> dict[str, Any]:
    task = next(t for t in case["tasks"] if t["status"] in ("OPEN", "CLAIMED"))
    user = user_of(RESPONSIBLE[task["stage"]["code"]])
    payload = {"taskId": task["id"], "data": to_input(data)}
    done: dict[str, Any] = (await walk.api.data(COMPLETE, {"input": payload}, as_user=user))[
        "completeTask"
    ]
    return done


async def test_closing_an_account_waits_for_its_arrears_then_reads_and_terminates(
    walk: Walk,
) -> None:
    code, spec = "change_xiaohu", TYPES["change_xiaohu"]
    seeded = await seed_customer(walk.database, walk.root_id, spec, ITEMS)
    create = naming.field_names(code)["create"]
    mutation = (
        f"mutation($input: {naming.type_names(code)['CreateInput']}!) {{ {create}(input: $input)"
        f" {{ case {{ {CASE_FIELDS} }} errors {{ code message path }} }} }}"
    )
    assert spec.start is not None
    data = to_input(required_at(spec, spec.start, sources=1))
    case_input = {"data": data, "orgUnit": ROOT, "submit": True, "customerNumber": seeded.number}
    created = (await walk.api.data(mutation, {"input": case_input}, as_user=user_of("acceptor")))[
        create
    ]
    assert created["errors"] == []
    case = created["case"]
    case = (await _complete(walk, case, {}))["case"]  # 业务受理
    # 电费结清 with arrears outstanding: the type's rule (from 拆表 on) refuses to go on.
    refused = await _complete(walk, case, {"arrears_cleared": False})
    assert [(e["code"], e["message"], e["path"][-1]) for e in refused["errors"]] == [
        ("VALIDATION", "销户须先结清电费", "arrearsCleared")
    ]
    file = (await walk.api.data(FILE, {"n": seeded.number}))["customer"]
    assert file["status"] == "ACTIVE" and [m["assetNo"] for m in file["meters"]] == [OLD_METER]
    assert [c["status"] for c in file["contracts"]] == ["ACTIVE"]  # nothing was written

    case = (await _complete(walk, case, {"arrears_cleared": True}))["case"]  # cleared
    case = (await _complete(walk, case, {"final_reading": "4321.5"}))["case"]  # 拆表
    done = await _complete(walk, case, {"archive_no": "DA-2026-001"})
    assert done["errors"] == [] and done["case"]["status"] == "COMPLETED"
    file = (await walk.api.data(FILE, {"n": seeded.number}))["customer"]
    assert file["status"] == "CLOSED" and file["meters"] == []
    assert file["history"] == [
        {"assetNo": OLD_METER, "status": "REMOVED", "finalReading": "4321.50"}
    ]
    [contract] = file["contracts"]
    assert contract["status"] == "TERMINATED" and contract["terminatedOn"] is not None


async def test_an_estate_of_120_households_gets_120_accounts(walk: Walk) -> None:
    households = [
        {
            "address": f"幸福小区{i // 12 + 1}栋{i % 12 + 1:02d}室",
            "capacity": "8.00",
            "asset_no": f"44400{i:05d}",
            "start_reading": "0.00",
        }
        for i in range(120)
    ]
    walked = await walk_case(walk, "estate_new", values={"households": households})
    estate = walked.case["customer"]["number"]
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await walk.api.data(CHILDREN, {"n": estate, "after": after}))["customers"]
        assert page["totalCount"] == 120
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len({n["number"] for n in seen}) == 120
    assert {n["address"] for n in seen} == {h["address"] for h in households}


DRAFT = """mutation($input: SaveBusinessTypeDraftInput!) { saveBusinessTypeDraft(input: $input) {
  businessType { code requiresCustomer effects { kind contractType } }
  errors { code message path } } }"""
PUBLISH = """mutation($c: String!) { publishBusinessType(code: $c) { version
  problems { code message path } errors { code message } } }"""


async def test_an_administrator_defines_a_temporary_supply_extension_without_code(
    walk: Walk,
) -> None:
    draft = {
        "code": "temporary_extension",
        "name": "临时用电延期",
        "group": "CHANGE",
        "items": [
            {"item": "temp_end_date", "requiredAt": ["business_acceptance"]},
            {"item": "archive_no", "requiredAt": ["archiving"], "editableAt": ["archiving"]},
        ],
        "stages": [{"stage": "business_acceptance"}, {"stage": "archiving"}],
        "transitions": [{"from": "business_acceptance", "to": ["archiving"]}],
        "start": "business_acceptance",
        "customerRequirement": {"statuses": ["TEMPORARY"]},
        "effects": [
            {
                "kind": "AMEND_CONTRACT",
                "contractType": "TEMPORARY",
                "fields": [{"field": "expires_on", "item": "temp_end_date"}],
            }
        ],
    }
    saved = (await walk.api.data(DRAFT, {"input": draft}))["saveBusinessTypeDraft"]
    assert saved["errors"] == [], saved
    assert saved["businessType"]["requiresCustomer"] is True
    published = (await walk.api.data(PUBLISH, {"c": "temporary_extension"}))["publishBusinessType"]
    assert published["errors"] == [] and published["problems"] == [], published
    await walk.api.refresh_schema()

    requirement = CustomerRequirement(statuses=(CustomerStatus.TEMPORARY,))
    spec = BusinessTypeSpec(code="x", name="x", customer_requirement=requirement)
    temporary = await seed_customer(walk.database, walk.root_id, spec, ITEMS)
    permanent = await seed_customer(walk.database, walk.root_id, TYPES["change_gailei"], ITEMS)
    create = naming.field_names("temporary_extension")["create"]
    mutation = (
        f"mutation($input: {naming.type_names('temporary_extension')['CreateInput']}!) "
        f"{{ {create}(input: $input) {{ case {{ {CASE_FIELDS} }} errors {{ code path }} }} }}"
    )
    data = {"tempEndDate": "2026-09-30"}
    base = {"data": data, "orgUnit": ROOT, "submit": True}
    refused = (
        await walk.api.data(
            mutation,
            {"input": {**base, "customerNumber": permanent.number}},
            as_user=user_of("acceptor"),
        )
    )[create]
    assert refused["errors"] == [{"code": "CUSTOMER_STATE", "path": ["input", "customerNumber"]}]
    created = (
        await walk.api.data(
            mutation,
            {"input": {**base, "customerNumber": temporary.number}},
            as_user=user_of("acceptor"),
        )
    )[create]
    assert created["errors"] == []
    case = (await _complete(walk, created["case"], {}))["case"]
    done = await _complete(walk, case, {"archive_no": "DA-T-1"})
    assert done["errors"] == [] and done["case"]["status"] == "COMPLETED"
    file = (await walk.api.data(FILE, {"n": temporary.number}))["customer"]
    [contract] = file["contracts"]
    assert (contract["type"], contract["status"], contract["expiresOn"]) == (
        "TEMPORARY",
        "ACTIVE",
        "2026-09-30",
    )
