"""Walking the standard catalogue through the API, as the responsible posts would.

The catalogue is applied once per test module (service.definitions), with one STAFF user per
post at the root org unit. A type that acts on an existing customer gets a fresh one per walk,
in the state its requirement asks for (an open 暂停 for 暂停恢复, a 暂拆 for 复装), with a meter
and a contract imported from an earlier system. Values are generated from the item definitions:
booleans are true (so conditional stages such as 设计文件审查 and 中间检查 are walked), ENUMs take
their first option, LIST items get a few entries, and two power sources make the 高可靠性供电费
fall due where it applies — the walk pays it before leaving the stage.
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
from sqlalchemy import delete, text

from database import metadata_repo, tables
from database.session import Database
from metamodel import datatypes, naming
from metamodel.effect_specs import CaseEnd, requires_customer
from metamodel.specs import BusinessTypeSpec, DataItemSpec, ItemType
from resolvers.build import standalone_reviewer, static_names
from server.app import create_app
from server.settings import Settings
from service import bundle_files, definitions
from tests.api.catalogue_customers import Seeded, seed_customer
from tests.api.conftest import ADMIN_PASSWORD, CHEAP_CREDENTIALS, SECRET, Api, Clock, add_user

BUNDLE = bundle_files.load_catalogue()
TYPES = {t.code: t for t in BUNDLE.business_types}
ITEMS = {i.code: i for i in BUNDLE.items}
RESPONSIBLE = {r.stage: r.post for r in BUNDLE.responsibilities}
ROOT = next(u.code for u in BUNDLE.org_units if u.parent is None)
FEE_TYPES = {c for r in BUNDLE.fee_rules if r.status.value == "ACTIVE" for c in r.business_types}
MAX_COMPLETIONS = 50

SAMPLES: Mapping[str, object] = {
    "meter_asset_no": "3330001234",
    "asset_no": "3330001234",
    "ct_ratio": "200/5",
    "pt_ratio": "10000/100",
    "customer_number": "0000000099",
    # Periods the rules allow: 临时用电 and 暂停/暂拆 at most six months, 减容 at least six.
    "change_end_date": "2026-06-01",
    "temp_end_date": "2026-06-01",
}
"""Values for items (and LIST fields) whose form a generic value cannot meet (patterns)."""
TYPE_SAMPLES: Mapping[tuple[str, str], object] = {
    ("change_jianrong", "change_end_date"): "2026-12-01"
}
"""Values one type's rules ask of an item (减容: six months to two years)."""
ENTRIES: Mapping[str, int] = {"meters": 2, "households": 3, "supply_sources": 2, "new_accounts": 2}
"""How many entries the walk gives a LIST item (others: its minimum, at least one)."""
TURNS: Mapping[tuple[str, str], tuple[str, ...]] = {("meters", "purpose"): ("GENERATION", "GRID")}
"""Values a LIST field takes in turn where its first options would not tell the story (光伏:
a generation meter and a bidirectional grid meter)."""

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


def entries_for(item: DataItemSpec, business_type: str) -> list[dict[str, object]]:
    """Entries of a LIST item: each field valid, asset numbers distinct, ENUMs in turn."""
    count = ENTRIES.get(item.code, max(item.min_count or 1, 1))
    found: list[dict[str, object]] = []
    for index in range(count):
        entry: dict[str, object] = {}
        for field in item.fields:
            if (item.code, field.code) in TURNS:
                turns = TURNS[(item.code, field.code)]
                entry[field.code] = turns[index % len(turns)]
            elif field.type is ItemType.ENUM:
                entry[field.code] = field.options[index % len(field.options)].value
            elif field.code == "asset_no":
                entry[field.code] = f"33301{index:05d}"
            elif field.code == "capacity":
                entry[field.code] = "20.00"
            else:
                entry[field.code] = value_for(field, business_type, sources=1)
        found.append(entry)
    return found


def value_for(item: DataItemSpec, business_type: str, *, sources: int) -> object:
    """A valid value of `item` in its JSON form, checked by the item's codec."""
    value: object
    if item.type is ItemType.LIST:
        value = entries_for(item, business_type)
    elif item.code == "voltage_level":
        value = voltage(business_type)
    elif item.code == "power_source_count":
        value = sources
    elif (business_type, item.code) in TYPE_SAMPLES:
        value = TYPE_SAMPLES[(business_type, item.code)]
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


def required_at(
    spec: BusinessTypeSpec,
    stage: str,
    *,
    sources: int,
    overrides: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Item code -> value for every item `spec` requires at `stage` (an end's reason too)."""
    usage_of_stage = spec.stage_usage(stage)
    reason = usage_of_stage.reason if usage_of_stage is not None else None
    found: dict[str, object] = {}
    for usage in spec.items:
        if usage.compute is not None:
            continue  # worked out by the engine, never written
        if stage in usage.required_at or usage.item == reason:
            assert not usage.editable_at or stage in usage.editable_at, (spec.code, usage.item)
            if overrides and usage.item in overrides:
                found[usage.item] = overrides[usage.item]
            else:
                found[usage.item] = value_for(ITEMS[usage.item], spec.code, sources=sources)
    return found


def _camel_value(value: object) -> object:
    if isinstance(value, list):
        return [
            {naming.camel(k): v for k, v in entry.items()} if isinstance(entry, dict) else entry
            for entry in value
        ]
    return value


def to_input(values: Mapping[str, object]) -> dict[str, object]:
    """Item values as a generated DataInput: camelCase fields, LIST entries' fields too."""
    return {naming.camel(code): _camel_value(value) for code, value in values.items()}


@dataclass
class Walk:
    """The module's application with the catalogue loaded."""

    api: Api
    pays_fees: bool
    database: Database
    root_id: int
    clock: Clock


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
        await add_user(database, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
        for post in BUNDLE.posts:
            await add_user(
                database, user_of(post.code), ["STAFF"], org_unit_id=root_id, posts=[post.code]
            )
        settings = Settings(
            data_dir=data_dir, database_url=database_url, secret=SECRET, poll_seconds=0.1
        )
        clock = Clock()
        app = create_app(settings, clock=clock, credentials=CHEAP_CREDENTIALS)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                api = Api(client=client, app=app)
                await api.refresh_schema()
                mutations = await api.data("{ __schema { mutationType { fields { name } } } }")
                names = {f["name"] for f in mutations["__schema"]["mutationType"]["fields"]}
                yield Walk(
                    api=api,
                    pays_fees="recordPayment" in names,
                    database=database,
                    root_id=root_id,
                    clock=clock,
                )
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


@dataclass
class Walked:
    """A walk's end: the case as read back, the stages done, fees paid, its customer."""

    case: dict[str, Any]
    path: list[str]
    paid: list[str]
    access_code: str
    seeded: Seeded | None


ENDS_OF_STATUS = {"COMPLETED", "REJECTED", "WITHDRAWN"}


async def walk_case(
    walk: Walk,
    code: str,
    script: Mapping[str, list[str]] | None = None,
    *,
    end: CaseEnd = CaseEnd.COMPLETED,
    values: Mapping[str, object] | None = None,
    at: str | None = None,
) -> Walked:
    """Create a case of `code` and complete its tasks until it ends as `end`.

    Each task is completed by the user holding its post, with the stage's required items and
    outcome APPROVE, or the next outcome `script` lists for its stage. A REJECTED or WITHDRAWN
    walk leaves stage `at` (the start stage by default) with REJECT or WITHDRAW. `values`
    replace generated item values.
    """
    api, spec = walk.api, TYPES[code]
    assert spec.start is not None
    pending = {stage: list(outcomes) for stage, outcomes in (script or {}).items()}
    if end is CaseEnd.REJECTED:
        pending.setdefault(at or spec.start, []).insert(0, "REJECT")
    elif end is CaseEnd.WITHDRAWN:
        pending.setdefault(at or spec.start, []).insert(0, "WITHDRAW")
    # Two power sources make the 高可靠性供电费 fall due; without a payment API, one source
    # keeps every fee from applying so the walk can still finish.
    sources = 2 if walk.pays_fees else 1
    needs = requires_customer(spec.effects, spec.customer_requirement is not None)
    seeded = await seed_customer(walk.database, walk.root_id, spec, ITEMS) if needs else None
    overrides = {**(seeded.overrides if seeded else {}), **(values or {})}
    start_values = required_at(spec, spec.start, sources=sources, overrides=overrides)
    creator = user_of(RESPONSIBLE[spec.start])
    names = naming.type_names(code)
    create = naming.field_names(code)["create"]
    mutation = (
        f"mutation($input: {names['CreateInput']}!) {{ {create}(input: $input) {{ "
        f"case {{ {CASE_FIELDS} }} accessCode errors {{ code message path }} }} }}"
    )
    case_input: dict[str, Any] = {
        "data": to_input(start_values),
        "orgUnit": ROOT,
        "submit": True,
    }
    if seeded is not None:
        case_input["customerNumber"] = seeded.number
    created = (await api.data(mutation, {"input": case_input}, as_user=creator))[create]
    assert created["errors"] == [], f"{code}: create refused: {created['errors']}"
    case: dict[str, Any] = created["case"]
    assert case["status"] == "IN_PROGRESS"

    path: list[str] = []
    paid: list[str] = []
    while case["status"] not in ENDS_OF_STATUS:
        assert case["status"] == "IN_PROGRESS", f"{code}: case is {case['status']} after {path}"
        open_tasks = [t for t in case["tasks"] if t["status"] in ("OPEN", "CLAIMED")]
        assert open_tasks, f"{code}: no open task after {path}"
        task = open_tasks[0]
        stage = task["stage"]["code"]
        assert task["post"] == {"code": RESPONSIBLE[stage]}, f"{code}: {stage} routed to {task}"
        assert len(path) < MAX_COMPLETIONS, f"{code}: still not ended after {path}"
        user = user_of(RESPONSIBLE[stage])
        usage = spec.stage_usage(stage)
        assert usage is not None
        if usage.requires_payment and walk.pays_fees:
            paid += await _pay_dues(walk, code, case, stage, user)
        outcome = "APPROVE" if "APPROVE" in usage.outcomes else usage.outcomes[0]
        if pending.get(stage):
            outcome = pending[stage].pop(0)
        values = required_at(spec, stage, sources=sources, overrides=overrides)
        task_input = {"taskId": task["id"], "outcome": outcome, "data": values}
        done = (await api.data(COMPLETE, {"input": task_input}, as_user=user))["completeTask"]
        assert done["errors"] == [], f"{code}: completing {stage} as {user}: {done['errors']}"
        path.append(stage if outcome == "APPROVE" else f"{stage}:{outcome}")
        case = done["case"]
    assert case["status"] == end.value, f"{code}: ended {case['status']} after {path}"
    assert not any(pending.values()), f"{code}: scripted outcomes never used: {pending}"
    final: dict[str, Any] = (await api.data(CASE, {"id": case["id"]}))["case"]
    # Every change on the way was recorded with enough to replay it: the case is its history.
    check = (await api.data(VERIFY, {"id": case["id"]}))["verifyCaseHistory"]
    assert (check["valid"], check["reasons"]) == (True, []), f"{code}: {check}"
    return Walked(final, path, paid, created["accessCode"], seeded)
