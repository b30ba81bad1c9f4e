"""Every business type of the standard catalogue, walked through the API from submission to
COMPLETED as the responsible posts would do it, with the customer file checked afterwards:
what each type's effects must have written (tests/api/catalogue_walking.py walks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from database.session import Database
from metamodel import naming
from tests.api.catalogue_customers import OLD_CAPACITY, OLD_METER
from tests.api.catalogue_walking import (
    CASE_FIELDS,
    COMPLETE,
    FEE_TYPES,
    MAX_COMPLETIONS,
    RESPONSIBLE,
    ROOT,
    TYPES,
    Walk,
    Walked,
    _pay_dues,
    catalogue_app,
    required_at,
    to_input,
    user_of,
    walk_case,
)

FILE_QUERY = """query($n: String!) { customer(number: $n) {
  number status name address tariffCategory voltageLevel capacity suspendedCapacity cases
  supplySources { kind substation } mergedInto parentNumber
  meters { assetNo purpose multiplier }
  history: meters(includeRemoved: true) { assetNo status finalReading }
  contracts { number type status signedOn expiresOn amendedOn terminatedOn }
  capacityPeriods { kind capacity restoredOn } } }"""
CHILDREN = """query($n: String!) { customers(where: {parentNumber: $n}, first: 50) {
  totalCount edges { node { number status capacity meters { assetNo } } } } }"""
SIGNED = "2026-03-02"
"""The date the walk enters for every DATE item (contract_signed_date among them)."""


@pytest.fixture(scope="module")
async def walk(
    database: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Walk]:
    async with catalogue_app(database, database_url, tmp_path_factory.mktemp("walk")) as app:
        yield app


def active(file: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    """The file's ACTIVE contracts (of `kind`)."""
    return [
        c
        for c in file["contracts"]
        if c["status"] == "ACTIVE" and (kind is None or c["type"] == kind)
    ]


def open_periods(file: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The file's capacity periods of `kind` not restored."""
    return [p for p in file["capacityPeriods"] if p["kind"] == kind and p["restoredOn"] is None]


def removed(file: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Asset number -> the removed meters of the file."""
    return {m["assetNo"]: m for m in file["history"] if m["status"] == "REMOVED"}


def _new(kind: str, status: str = "ACTIVE") -> Callable[[dict[str, Any]], None]:
    def check(file: dict[str, Any]) -> None:
        assert file["status"] == status
        assert [m["assetNo"] for m in file["meters"]] == ["3330001234"]
        [contract] = active(file)
        assert (contract["type"], contract["signedOn"]) == (kind, SIGNED)

    return check


def _xiaohu(file: dict[str, Any]) -> None:
    assert file["status"] == "CLOSED" and file["meters"] == []
    assert removed(file)[OLD_METER]["finalReading"] == "100.00"
    assert active(file) == [] and all(c["terminatedOn"] for c in file["contracts"])


def _period(kind: str, status: str = "ACTIVE") -> Callable[[dict[str, Any]], None]:
    def check(file: dict[str, Any]) -> None:
        [period] = open_periods(file, kind)
        assert file["status"] == status
        if kind == "REDUCTION":
            assert period["capacity"] == "100.00" == file["suspendedCapacity"]

    return check


def _restored(kind: str) -> Callable[[dict[str, Any]], None]:
    def check(file: dict[str, Any]) -> None:
        assert open_periods(file, kind) == [] and file["status"] == "ACTIVE"
        [period] = [p for p in file["capacityPeriods"] if p["kind"] == kind]
        assert period["restoredOn"] == SIGNED
        # 减容恢复 and 暂换恢复 sign their amendment; the others date it the day they end.
        assert [c["amendedOn"] is not None for c in active(file)] == [True]

    return check


def _zanchai(file: dict[str, Any]) -> None:
    assert file["status"] == "SUSPENDED" and file["meters"] == []
    assert removed(file)[OLD_METER]["finalReading"] == "100.00"
    assert len(open_periods(file, "DISCONNECTION")) == 1


def _fuzhuang(file: dict[str, Any]) -> None:
    _restored("DISCONNECTION")(file)
    assert [m["assetNo"] for m in file["meters"]] == ["3330001234"]


def _replaced(file: dict[str, Any]) -> None:
    assert [m["assetNo"] for m in file["meters"]] == ["3330001234"]
    assert removed(file)[OLD_METER]["finalReading"] == "100.00"


def _qianzhi(file: dict[str, Any]) -> None:
    _replaced(file)
    assert file["address"].startswith("测试")
    assert [c["amendedOn"] for c in active(file)] == [SIGNED]


def _gaiya(file: dict[str, Any]) -> None:
    _replaced(file)
    assert file["voltageLevel"] == "KV10" and file["capacity"] == "100.00"
    [contract] = active(file)
    assert contract["signedOn"] == SIGNED and contract["number"] != "HT-OLD-" + file["number"]


def _guohu(file: dict[str, Any]) -> None:
    assert file["name"].startswith("测试")
    [contract] = active(file)
    assert contract["signedOn"] == SIGNED
    [old] = [c for c in file["contracts"] if c["status"] == "TERMINATED"]
    assert old["terminatedOn"] == SIGNED


def _amended(file: dict[str, Any]) -> None:
    assert file["status"] == "ACTIVE"
    assert [c["amendedOn"] is not None for c in active(file)] == [True]


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "lv_resident_new": _new("RESIDENT"),
    "lv_small_new": _new("LOW_VOLTAGE"),
    "lv_nonresident_new": _new("LOW_VOLTAGE"),
    "hv_new_single": _new("HIGH_VOLTAGE"),
    "hv_new_double": _new("HIGH_VOLTAGE"),
    "temporary_supply": _new("TEMPORARY", "TEMPORARY"),
    "estate_new": _new("HIGH_VOLTAGE"),
    "change_xiaohu": _xiaohu,
    "change_jianrong": _period("REDUCTION"),
    "change_zanting": _period("SUSPENSION"),
    "change_zanhuan": _period("SWAP"),
    "change_zanchai": _zanchai,
    "change_jianrong_restore": _restored("REDUCTION"),
    "change_zanting_restore": _restored("SUSPENSION"),
    "change_zanhuan_restore": _restored("SWAP"),
    "change_fuzhuang": _fuzhuang,
    "change_qianzhi": _qianzhi,
    "change_gaiya": _gaiya,
    "change_gengming_guohu": _guohu,
    "change_gailei": _amended,
    "change_yibiao": _amended,
    "capacity_increase": _amended,
}
"""What each type's COMPLETED effects leave in the file, beyond what check_file sees for all."""


async def check_file(walk: Walk, code: str, walked: Walked, file: dict[str, Any]) -> None:
    """The customer file after `code` completed, as its declared effects must have left it."""
    if code in CHECKS:
        CHECKS[code](file)
    if code in ("hv_new_single", "hv_new_double"):
        assert [s["kind"] for s in file["supplySources"]] == ["MAIN", "BACKUP"]
    if code == "pv_grid_connection":
        assert {m["purpose"] for m in file["meters"]} == {"GENERATION", "GRID"}
        assert [c["type"] for c in active(file)] == ["PURCHASE_SALE"]
    if code == "ev_charging_new":
        assert len(active(file)) == 1 and file["meters"][0]["assetNo"] == "3330001234"
    if code == "capacity_increase":
        assert file["capacity"] == "100.00"
    if code == "change_gailei":
        assert file["tariffCategory"] is not None
    if code in ("estate_new", "change_fenhu"):
        children = (await walk.api.data(CHILDREN, {"n": file["number"]}))["customers"]
        expected = 3 if code == "estate_new" else 2
        assert children["totalCount"] == expected, children
        assert all(c["node"]["status"] == "ACTIVE" for c in children["edges"])
        if code == "change_fenhu":  # 200 kVA less two accounts of 20
            assert Decimal(file["capacity"]) == Decimal(OLD_CAPACITY) - 40
    if code == "change_binghu":
        assert walked.seeded is not None
        assert file["capacity"] == "100.00"
        for number in walked.seeded.absorbed:
            gone = (await walk.api.data(FILE_QUERY, {"n": number}))["customer"]
            assert (gone["status"], gone["mergedInto"]) == ("CLOSED", file["number"])
            assert gone["meters"] == [] and active(gone) == []


@pytest.mark.parametrize("code", list(TYPES))
async def test_walk_from_submission_to_completed(walk: Walk, code: str) -> None:
    spec = TYPES[code]
    walked = await walk_case(walk, code)
    case, path, paid = walked.case, walked.path, walked.paid
    assert set(path) <= {s.stage for s in spec.stages}
    assert path[0] == spec.start and path[-1] == "archiving", path
    if "is_important" in {u.item for u in spec.items}:
        assert {"grid_works", "design_review", "midway_inspection"} <= set(path), path
    if walk.pays_fees and code in FEE_TYPES:
        assert len(paid) == 1, f"{code}: expected one 高可靠性供电费, paid {paid}"
        [fee] = case["fees"]
        # 100 kVA × 270.00 元/kVA (10 kV, overhead) — the catalogue's example rate.
        assert (fee["amount"], fee["status"]) == ("27000.00", "PAID"), fee
    customer = case["customer"]
    assert customer is not None, f"{code}: no customer archived"
    if walked.seeded is not None:
        assert customer["number"] == walked.seeded.number
    found = (await walk.api.data(FILE_QUERY, {"n": customer["number"]}))["customer"]
    assert found is not None and case["number"] in found["cases"]
    await check_file(walk, code, walked, found)


async def test_returns_and_rectifications_loop_back_and_still_finish(walk: Walk) -> None:
    script = {
        "site_survey": ["RETURN"],
        "plan_approval": ["RETURN"],
        "midway_inspection": ["RECTIFY"],
        "completion_inspection": ["RECTIFY"],  # after the join of the parallel works
    }
    walked = await walk_case(walk, "hv_new_double", script)
    case, path, paid = walked.case, walked.path, walked.paid
    assert case["status"] == "COMPLETED"
    # 中间检查 is rectified by building again; 竣工检验 by reporting again, without a second
    # 中间检查 for work it already passed.
    assert path.count("customer_construction") == 2 and path.count("midway_inspection") == 1
    assert path.count("completion_report") == 2
    assert path.count("grid_works") == 1 and len(paid) == 1
    assert path[-4:] == [
        "completion_inspection",
        "contract_signing",
        "meter_installation",
        "archiving",
    ]


PROGRESS = """query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) {
  status waitingFor stages { code status } fees { name amount status explanation } } }"""


async def test_hv_double_source_fee_holds_collection_until_paid_and_the_applicant_sees_it(
    walk: Walk,
) -> None:
    """The catalogue's 高压双电源新装: 高可靠性供电费 assessed with its working, 业务收费 held until
    it is paid, and the applicant following along with caseProgress (no sign-in)."""
    api, code = walk.api, "hv_new_double"
    spec = TYPES[code]
    assert spec.start is not None
    names, create = naming.type_names(code), naming.field_names(code)["create"]
    mutation = (
        f"mutation($input: {names['CreateInput']}!) {{ {create}(input: $input) {{ "
        f"case {{ {CASE_FIELDS} }} accessCode errors {{ code message }} }} }}"
    )
    values = to_input(required_at(spec, spec.start, sources=2))
    created = (
        await api.data(
            mutation,
            {"input": {"data": values, "orgUnit": ROOT, "submit": True}},
            as_user=user_of(RESPONSIBLE[spec.start]),
        )
    )[create]
    assert created["errors"] == []
    case, access_code = created["case"], created["accessCode"]
    for _ in range(MAX_COMPLETIONS):
        task = next(t for t in case["tasks"] if t["status"] in ("OPEN", "CLAIMED"))
        stage = task["stage"]["code"]
        user = user_of(RESPONSIBLE[stage])
        usage = spec.stage_usage(stage)
        assert usage is not None
        task_input = {"taskId": task["id"], "data": required_at(spec, stage, sources=2)}
        if usage.requires_payment:
            break
        done = (await api.data(COMPLETE, {"input": task_input}, as_user=user))["completeTask"]
        assert done["errors"] == [], done
        case = done["case"]
    [fee] = [f for f in case["fees"] if f["status"] == "DUE"]
    assert fee["code"] == "high_reliability_fee" and Decimal(fee["amount"]) > 0
    held = (await api.data(COMPLETE, {"input": task_input}, as_user=user))["completeTask"]
    assert [e["code"] for e in held["errors"]] == ["UNPAID_FEES"]
    progress = (await api.data(PROGRESS, {"n": case["number"], "c": access_code}, as_user=None))[
        "caseProgress"
    ]
    [shown] = progress["fees"]
    assert shown["status"] == "DUE" and shown["amount"] == fee["amount"]
    assert "×" in shown["explanation"] and shown["explanation"].endswith(f"= {fee['amount']}")
    assert progress["stages"][-1] == {"code": stage, "status": "WAITING"}  # the customer pays
    assert progress["waitingFor"] == f"业务收费：请缴纳高可靠性供电费 {fee['amount']} 元"
    assert await _pay_dues(walk, code, case, stage, user) == ["high_reliability_fee"]
    passed = (await api.data(COMPLETE, {"input": task_input}, as_user=user))["completeTask"]
    assert passed["errors"] == [], passed
    after = (await api.data(PROGRESS, {"n": case["number"], "c": access_code}, as_user=None))[
        "caseProgress"
    ]
    assert after["fees"][0]["status"] == "PAID"
