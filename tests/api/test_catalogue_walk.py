"""Every business type of the standard catalogue, walked through the API from submission to
COMPLETED as the responsible posts would do it, filling each stage's required items.

The catalogue is applied once for the module (service.definitions), with one STAFF user per
post at the root org unit and an existing customer for the 增容 and 变更用电 cases. Values are
generated from the item definitions: booleans are true (so conditional stages such as 设计文件审查
and 中间检查 are walked), ENUMs take their first option, and two power sources make the
高可靠性供电费 fall due where it applies — the walk pays it before leaving the stage.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, text

from database import metadata_repo, tables
from database.archive_tables import CustomerRow
from database.session import Database
from metamodel import datatypes, naming
from metamodel.end_checks import REFUSING_ENDS
from metamodel.specs import BusinessGroup, BusinessTypeSpec, DataItemSpec, ItemType
from resolvers.build import standalone_reviewer, static_names
from server.app import create_app
from server.settings import Settings
from service import bundle_files, definitions
from tests.api.conftest import ADMIN_PASSWORD, CHEAP_CREDENTIALS, SECRET, Api, Clock, add_user

BUNDLE = bundle_files.load_catalogue()
TYPES = {t.code: t for t in BUNDLE.business_types}
ITEMS = {i.code: i for i in BUNDLE.items}
RESPONSIBLE = {r.stage: r.post for r in BUNDLE.responsibilities}
ROOT = next(u.code for u in BUNDLE.org_units if u.parent is None)
CUSTOMER = "9900000001"
FEE_TYPES = {c for r in BUNDLE.fee_rules if r.status.value == "ACTIVE" for c in r.business_types}
MAX_COMPLETIONS = 50

SAMPLES: Mapping[str, object] = {
    "meter_asset_no": "3330001234",
    "ct_ratio": "200/5",
    "pt_ratio": "10000/100",
    "merged_account_no": "0000000099",
}
"""Values for items whose form a generic value cannot meet (patterns)."""

CASE_FIELDS = """id status number tasks { id status stage { code } post { code } }
  fees { code amount status } customer { number }"""
CASE = f"query($id: ID!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}"
COMPLETE = f"""mutation($input: CompleteTaskInput!) {{ completeTask(input: $input) {{
  case {{ {CASE_FIELDS} }} errors {{ code message path }} }} }}"""
PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  fee { status } errors { code message path } } }"""
CUSTOMER_QUERY = "query($n: String!) { customer(number: $n) { number cases } }"
VERIFY = "query($id: ID!) { verifyCaseHistory(id: $id) { valid reasons } }"


def user_of(post: str) -> str:
    return f"walk_{post}"


def voltage(code: str) -> str:
    """A voltage level that suits the type: 220 V for homes, 380 V for low voltage, else 10 kV."""
    if code == "lv_resident_new":
        return "V220"
    return "V380" if code.startswith("lv_") else "KV10"


def value_for(item: DataItemSpec, business_type: str, *, sources: int) -> object:
    """A valid value of `item` in its JSON form, checked by the item's codec."""
    value: object
    if item.code == "voltage_level":
        value = voltage(business_type)
    elif item.code == "power_source_count":
        value = sources
    elif item.code in SAMPLES:
        value = SAMPLES[item.code]
    elif item.type is ItemType.ENUM:
        value = item.options[0].value
    elif item.type is ItemType.BOOLEAN:
        value = True
    elif item.type is ItemType.ID_NUMBER:
        value = "11010519491231002X"
    elif item.type is ItemType.PHONE:
        value = "13800138000"
    elif item.type is ItemType.DATE:
        value = "2026-03-02"
    elif item.type is ItemType.DATETIME:
        value = "2026-03-02T09:00:00+08:00"
    elif item.type is ItemType.INTEGER:
        value = max(int(item.min or 1), 1)
    elif item.type in (ItemType.DECIMAL, ItemType.MONEY):
        low = Decimal(item.min or 0)
        high = Decimal(item.max) if item.max else None
        number = max(Decimal(100), low) if high is None else min(max(Decimal(100), low), high)
        value = f"{number:.2f}" if item.type is ItemType.MONEY else format(number, "f")
    elif item.type is ItemType.TEXT:
        value = f"{item.label}：同意"
    else:
        assert item.pattern is None, f"add a sample value of {item.code} to SAMPLES"
        value = f"测试{item.label}"[: item.max_length or 200]
    datatypes.coerce(item, value)  # a bad sample fails here, naming the item
    return value


def required_at(spec: BusinessTypeSpec, stage: str, *, sources: int) -> dict[str, object]:
    """Item code -> value for every item `spec` requires at `stage` (a refusing end's reason too)."""
    ending = spec.stage_usage(stage)
    reason = ending.reason if ending is not None and ending.end in REFUSING_ENDS else None
    found: dict[str, object] = {}
    for usage in spec.items:
        if stage in usage.required_at or usage.item == reason:
            assert not usage.editable_at or stage in usage.editable_at, (spec.code, usage.item)
            found[usage.item] = value_for(ITEMS[usage.item], spec.code, sources=sources)
    return found


def to_input(values: Mapping[str, object]) -> dict[str, object]:
    """Item values as a generated DataInput: camelCase fields."""
    return {naming.camel(code): value for code, value in values.items()}


@dataclass
class Walk:
    """The module's application with the catalogue loaded."""

    api: Api
    pays_fees: bool


async def _empty(db: Database) -> None:
    """Every row but the revision, as the `db` fixture leaves the database after a test."""
    async with db.transaction() as session:
        if db.dialect == "postgresql":
            names = ", ".join(
                f'"{t.name}"'
                for t in tables.Base.metadata.sorted_tables
                if t.name != "metadata_revision"
            )
            await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables.Base.metadata.sorted_tables):
                if table.name != "metadata_revision":
                    await session.execute(delete(table))


@pytest.fixture(scope="module")
async def walk(
    database: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Walk]:
    async with catalogue_app(database, database_url, tmp_path_factory.mktemp("walk")) as app:
        yield app


@contextlib.asynccontextmanager
async def catalogue_app(
    database: Database, database_url: str, data_dir: Path
) -> AsyncIterator[Walk]:
    """The app on the standard catalogue, a STAFF user per post at the root, an old customer."""
    now = dt.datetime.now(dt.UTC)
    try:
        await definitions.apply_bundle(
            database,
            BUNDLE,
            reserved_names=static_names(),
            by="walk",
            now=now,
            review=standalone_reviewer(),
        )
        async with database.transaction() as session:
            root = await metadata_repo.get_org_unit(session, ROOT)
            assert root is not None
            root_id = root.id
            session.add(
                CustomerRow(
                    number=CUSTOMER,
                    name="老客户",
                    org_unit_id=root_id,  # an imported customer of the unit the staff work in
                    created_at=now,
                    updated_at=now,
                )
            )
        await add_user(database, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
        for post in BUNDLE.posts:
            await add_user(
                database, user_of(post.code), ["STAFF"], org_unit_id=root_id, posts=[post.code]
            )
        settings = Settings(
            data_dir=data_dir, database_url=database_url, secret=SECRET, poll_seconds=0.1
        )
        app = create_app(settings, clock=Clock(), credentials=CHEAP_CREDENTIALS)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                api = Api(client=client, app=app)
                await api.refresh_schema()
                mutations = await api.data("{ __schema { mutationType { fields { name } } } }")
                names = {f["name"] for f in mutations["__schema"]["mutationType"]["fields"]}
                yield Walk(api=api, pays_fees="recordPayment" in names)
    finally:
        await _empty(database)


async def _pay_dues(
    walk: Walk, code: str, case: dict[str, Any], stage: str, user: str
) -> list[str]:
    """Pay every fee still DUE (as the stage's post); returns the codes paid."""
    case_id = case["id"]
    paid: list[str] = []
    for fee in case["fees"]:
        if fee["status"] != "DUE":
            continue
        payment = {
            "caseId": case_id,
            "feeCode": fee["code"],
            "amount": fee["amount"],
            "method": "TRANSFER",
            "reference": f"walk-{code}",
        }
        result = (await walk.api.data(PAY, {"input": payment}, as_user=user))["recordPayment"]
        assert result["errors"] == [], f"{code}: paying {fee['code']} at {stage}: {result}"
        paid.append(fee["code"])
    return paid


async def walk_case(
    walk: Walk, code: str, script: Mapping[str, list[str]] | None = None
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Create a case of `code` and complete its tasks until it is COMPLETED.

    Each task is completed by the user holding its post, with the stage's required items and
    outcome APPROVE, or the next outcome `script` lists for its stage. Returns the final case,
    the stages completed in order and the fees paid.
    """
    api, spec = walk.api, TYPES[code]
    pending = {stage: list(outcomes) for stage, outcomes in (script or {}).items()}
    assert spec.start is not None
    # Two power sources make the 高可靠性供电费 fall due; without a payment API, one source
    # keeps every fee from applying so the walk can still finish.
    sources = 2 if walk.pays_fees else 1
    start_values = required_at(spec, spec.start, sources=sources)
    creator = user_of(RESPONSIBLE[spec.start])
    names = naming.type_names(code)
    create = naming.field_names(code)["create"]
    mutation = (
        f"mutation($input: {names['CreateInput']}!) {{ {create}(input: $input) {{ "
        f"case {{ {CASE_FIELDS} }} errors {{ code message path }} }} }}"
    )
    case_input: dict[str, Any] = {"data": to_input(start_values), "orgUnit": ROOT, "submit": True}
    if spec.group in (BusinessGroup.INCREASE, BusinessGroup.CHANGE):
        case_input["customerNumber"] = CUSTOMER
    created = (await api.data(mutation, {"input": case_input}, as_user=creator))[create]
    assert created["errors"] == [], f"{code}: create refused: {created['errors']}"
    case: dict[str, Any] = created["case"]
    assert case["status"] == "IN_PROGRESS"

    path: list[str] = []
    paid: list[str] = []
    while case["status"] != "COMPLETED":
        assert case["status"] == "IN_PROGRESS", f"{code}: case is {case['status']} after {path}"
        open_tasks = [t for t in case["tasks"] if t["status"] in ("OPEN", "CLAIMED")]
        assert open_tasks, f"{code}: no open task after {path}"
        task = open_tasks[0]
        stage = task["stage"]["code"]
        assert task["post"] == {"code": RESPONSIBLE[stage]}, f"{code}: {stage} routed to {task}"
        assert len(path) < MAX_COMPLETIONS, f"{code}: still not COMPLETED after {path}"
        user = user_of(RESPONSIBLE[stage])
        usage = spec.stage_usage(stage)
        assert usage is not None
        if usage.requires_payment and walk.pays_fees:
            paid += await _pay_dues(walk, code, case, stage, user)
        outcome = "APPROVE" if "APPROVE" in usage.outcomes else usage.outcomes[0]
        if pending.get(stage):
            outcome = pending[stage].pop(0)
        task_input = {
            "taskId": task["id"],
            "outcome": outcome,
            "data": required_at(spec, stage, sources=sources),
        }
        done = (await api.data(COMPLETE, {"input": task_input}, as_user=user))["completeTask"]
        assert done["errors"] == [], f"{code}: completing {stage} as {user}: {done['errors']}"
        path.append(stage if outcome == "APPROVE" else f"{stage}:{outcome}")
        case = done["case"]
    assert not any(pending.values()), f"{code}: scripted outcomes never used: {pending}"
    final: dict[str, Any] = (await api.data(CASE, {"id": case["id"]}))["case"]
    # Every change on the way was recorded with enough to replay it: the case is its history.
    check = (await api.data(VERIFY, {"id": case["id"]}))["verifyCaseHistory"]
    assert (check["valid"], check["reasons"]) == (True, []), f"{code}: {check}"
    return final, path, paid


@pytest.mark.parametrize("code", list(TYPES))
async def test_walk_from_submission_to_completed(walk: Walk, code: str) -> None:
    spec = TYPES[code]
    case, path, paid = await walk_case(walk, code)
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
    if spec.group in (BusinessGroup.INCREASE, BusinessGroup.CHANGE):
        assert customer["number"] == CUSTOMER
    found = (await walk.api.data(CUSTOMER_QUERY, {"n": customer["number"]}))["customer"]
    assert found is not None and case["number"] in found["cases"]


async def test_returns_and_rectifications_loop_back_and_still_finish(walk: Walk) -> None:
    script = {
        "site_survey": ["RETURN"],
        "plan_approval": ["RETURN"],
        "midway_inspection": ["RECTIFY"],
        "completion_inspection": ["RECTIFY"],  # after the join of the parallel works
    }
    case, path, paid = await walk_case(walk, "hv_new_double", script)
    assert case["status"] == "COMPLETED"
    assert path.count("customer_construction") == 3 and path.count("midway_inspection") == 2
    assert path.count("grid_works") == 1 and len(paid) == 1
    assert path[-4:] == [
        "completion_inspection",
        "contract_signing",
        "meter_installation",
        "archiving",
    ]


PROGRESS = """query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) {
  status stages { code status } fees { name amount status explanation } } }"""


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
    assert await _pay_dues(walk, code, case, stage, user) == ["high_reliability_fee"]
    passed = (await api.data(COMPLETE, {"input": task_input}, as_user=user))["completeTask"]
    assert passed["errors"] == [], passed
    after = (await api.data(PROGRESS, {"n": case["number"], "c": access_code}, as_user=None))[
        "caseProgress"
    ]
    assert after["fees"][0]["status"] == "PAID"
