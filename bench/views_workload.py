"""The case views bench's workload: the list workload's rows as yekuo stores them, and its queries.

WORKLOAD.md (../shared/bench/) describes the data peers were measured on: gen_data.py's rows,
one business type `bench_application` whose 25 data items are the CSV's typed columns (the ten
strings, five integers, five decimals, three booleans and two dates, the same codes but one;
`capacity_kva` indexed). The CSV's `created_at` and `status` are the case's own fields; its
`business_type` column (eight codes) names what in yekuo is the case's business type, one for
every row here, so it is not an item. Only IN_PROGRESS keeps its name; the other statuses map
to the nearest of yekuo's (STATUSES). One code differs: the CSV's integer `voltage_level` is
the item `voltage_volts`, since the standard catalogue's dictionary has `voltage_level` as an
ENUM (V220, V380, ...) and items are shared by every type (bench/peers/ loads both). The type
declares no archive effects (`effects: []`): the views read none, and group NEW's default
ones (create the customer, start the contract) would check the items they fill the archive
from, which refused an integer `voltage_level`.

The metadata is defined through GraphQL as ADMIN (items, one stage, one post, an org unit
tree, the draft and its publish), exactly as a user would; the rows are then copied in bulk
with asyncpg's COPY, not through the API: each `data` value is what the item's codec stores
(`datatypes.to_json` on the published version's item), the case id is the CSV's id (so a
random id in 1..N names a case), and the number follows yekuo's YYYYMMDD + daily sequence.
Non-draft cases are submitted when created and due 42 calendar days later (30 working days);
completed ones finish 5-64 days after creation, so statistics have on-time and late cases.
No stage visits, tasks or events are loaded: the views read none of them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import asyncpg  # noqa: E402  (the repository root is put on the path first)
from lifecycle_workload import (  # noqa: E402
    ASSIGN,
    UPSERT_ITEM,
    UPSERT_ORG,
    UPSERT_POST,
    UPSERT_STAGE,
    Driver,
    _ok,
    save_and_publish,
)

from database import case_expressions, metadata_repo  # noqa: E402
from database.session import Database  # noqa: E402
from metamodel import datatypes, naming  # noqa: E402
from metamodel.specs import BusinessTypeVersion, ItemType  # noqa: E402

TYPE_CODE = "bench_application"
UNIT = "county"
POST = "handler"
INDEXED = "capacity_kva"
GEN_DATA_CANDIDATES = (
    ROOT.parent / "shared" / "bench" / "gen_data.py",
    ROOT.parent.parent / "shared" / "bench" / "gen_data.py",
)
"""Where gen_data.py is: ../shared/bench from the main checkout, ../../shared from a worktree
(YEKUO_BENCH_GEN_DATA names it anywhere else)."""

ITEMS: list[tuple[str, ItemType, str]] = [
    ("applicant_name", ItemType.STRING, "申请人"),
    ("contact_name", ItemType.STRING, "联系人"),
    ("phone", ItemType.STRING, "联系电话"),
    ("id_card_no", ItemType.STRING, "身份证号"),
    ("address", ItemType.STRING, "用电地址"),
    ("city", ItemType.STRING, "城市"),
    ("district", ItemType.STRING, "区县"),
    ("company_name", ItemType.STRING, "单位名称"),
    ("account_no", ItemType.STRING, "户号"),
    ("meter_no", ItemType.STRING, "表号"),
    ("voltage_volts", ItemType.INTEGER, "电压(V)"),
    ("phase_count", ItemType.INTEGER, "相数"),
    ("meter_count", ItemType.INTEGER, "表计数量"),
    ("priority", ItemType.INTEGER, "优先级"),
    ("building_floors", ItemType.INTEGER, "楼层数"),
    ("capacity_kva", ItemType.DECIMAL, "申请容量"),
    ("existing_capacity_kva", ItemType.DECIMAL, "原有容量"),
    ("estimated_load_kw", ItemType.DECIMAL, "预计负荷"),
    ("deposit_amount", ItemType.DECIMAL, "保证金"),
    ("line_length_km", ItemType.DECIMAL, "线路长度"),
    ("is_urgent", ItemType.BOOLEAN, "是否加急"),
    ("has_generator", ItemType.BOOLEAN, "自备电源"),
    ("is_residential", ItemType.BOOLEAN, "居民用电"),
    ("requested_date", ItemType.DATE, "期望接电日期"),
    ("survey_date", ItemType.DATE, "勘查日期"),
]
"""The 25 data items, in the CSV's column order (its columns 5 to 29)."""

STATUSES = {
    "DRAFT": "DRAFT",
    "SUBMITTED": "SUSPENDED",
    "IN_PROGRESS": "IN_PROGRESS",
    "APPROVED": "COMPLETED",
    "CLOSED": "COMPLETED",
    "REJECTED": "CANCELLED",
}
"""CSV status -> case status: submitted but not taken up reads as waiting (SUSPENDED)."""

DUE_DAYS = 42
NUMBER_ZONE = ZoneInfo("Asia/Shanghai")
COLUMNS = [
    "id",
    "number",
    "business_type_id",
    "business_type_version",
    "status",
    "org_unit_id",
    "priority",
    "data",
    "created_by",
    "created_at",
    "updated_at",
    "submitted_at",
    "completed_at",
    "due_at",
    "version",
]

DATA_FIELDS = " ".join(naming.camel(code) for code, _, _ in ITEMS)
LIST_FIELD = naming.field_names(TYPE_CODE)["list"]
CASE_TYPE = naming.type_names(TYPE_CODE)["Case"]
Q1 = (
    f"query Q1 {{ {LIST_FIELD}(where: {{status: {{eq: IN_PROGRESS}}, "
    f'data: {{{naming.camel(INDEXED)}: {{gt: "100"}}}}}}, orderBy: [{{createdAt: DESC}}], '
    f"first: 50) {{ nodes {{ id createdAt status data {{ {DATA_FIELDS} }} }} }} }}"
)
Q2 = (
    f"query Q2($id: ID!) {{ case(id: $id) {{ id ... on {CASE_TYPE} "
    f"{{ data {{ {DATA_FIELDS} }} }} }} }}"
)
STATISTICS = """query Statistics { caseStatistics(groupBy: [STATUS]) {
  keys count open completed overdue onTimeRate avgWorkingDays } }"""


async def define(driver: Driver) -> None:
    """Items, a stage and its post, the org units, the draft and its publish, as ADMIN."""
    for code, kind, label in ITEMS:
        item: dict[str, Any] = {"code": code, "label": label, "type": kind.value}
        if code == INDEXED:
            item |= {"indexed": True, "unit": "kVA"}
        _ok((await driver.call(UPSERT_ITEM, {"input": item}))["upsertDataItem"], code)
    stage = {
        "code": "handle",
        "name": "受理办结",
        "timeLimit": {"amount": 30, "unit": "WORKING_DAYS"},
    }
    _ok((await driver.call(UPSERT_STAGE, {"input": stage}))["upsertStage"], "handle")
    post = {"code": POST, "name": "业务员"}
    _ok((await driver.call(UPSERT_POST, {"input": post}))["upsertPost"], POST)
    for code, name, parent in [("province", "省公司", None), ("city", "市公司", "province")]:
        unit = {"code": code, "name": name, "parent": parent}
        _ok((await driver.call(UPSERT_ORG, {"input": unit}))["upsertOrgUnit"], code)
    unit = {"code": UNIT, "name": "县公司", "parent": "city"}
    _ok((await driver.call(UPSERT_ORG, {"input": unit}))["upsertOrgUnit"], UNIT)
    assigned = await driver.call(ASSIGN, {"input": {"stage": "handle", "post": POST}})
    _ok(assigned["assignResponsibility"], "the responsibility")
    draft = {
        "code": TYPE_CODE,
        "name": "用电申请(基准)",
        "group": "NEW",
        "timeLimit": {"amount": 30, "unit": "WORKING_DAYS"},
        "items": [{"item": code} for code, _, _ in ITEMS],
        "stages": [{"stage": "handle"}],
        "transitions": [],
        "start": "handle",
        # A list workload: nothing is archived.
        "effects": [],
    }
    await save_and_publish(driver, draft)


def gen_data_path() -> Path:
    """gen_data.py: YEKUO_BENCH_GEN_DATA, else the shared bench folder's (FileNotFoundError)."""
    given = os.environ.get("YEKUO_BENCH_GEN_DATA")
    for candidate in (Path(given),) if given else GEN_DATA_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"gen_data.py is in none of {[str(c) for c in GEN_DATA_CANDIDATES]}")


def generate(cases: int) -> list[list[str]]:
    """gen_data.py's first `cases` rows (deterministic: the same seed every run)."""
    command = [sys.executable, str(gen_data_path()), str(cases)]
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return list(csv.reader(io.StringIO(text)))


def _typed(kind: ItemType, raw: str) -> object:
    """A CSV cell as the item's canonical value (`t`/`f` booleans, ISO dates)."""
    if kind is ItemType.INTEGER:
        return int(raw)
    if kind is ItemType.DECIMAL:
        return Decimal(raw)
    if kind is ItemType.BOOLEAN:
        return raw == "t"
    if kind is ItemType.DATE:
        return dt.date.fromisoformat(raw)
    return raw


def records(
    rows: list[list[str]], version: BusinessTypeVersion, type_id: int, unit_id: int
) -> Iterator[tuple[Any, ...]]:
    """The `"case"` rows of the CSV rows, in COLUMNS' order, data in its storage form."""
    specs = [(code, kind, version.item(code)) for code, kind, _ in ITEMS]
    sequence: dict[str, int] = defaultdict(int)
    for row in rows:
        created = dt.datetime.fromisoformat(row[1])
        status = STATUSES[row[2]]
        data = {
            code: datatypes.to_json(spec, _typed(kind, raw))
            for (code, kind, spec), raw in zip(specs, row[4:], strict=True)
            if raw != ""
        }
        day = created.astimezone(NUMBER_ZONE).strftime("%Y%m%d")
        sequence[day] += 1
        case_id = int(row[0])
        submitted = None if status == "DRAFT" else created
        due = None if submitted is None else created + dt.timedelta(days=DUE_DAYS)
        completed = None
        if status in ("COMPLETED", "CANCELLED"):
            completed = created + dt.timedelta(days=5 + case_id % 60)
        yield (
            case_id,
            f"{day}{sequence[day]:05d}",
            type_id,
            version.version,
            status,
            unit_id,
            0,
            json.dumps(data, ensure_ascii=False),
            "bench_loader",
            created,
            completed or created,
            submitted,
            completed,
            due,
            1,
        )


def asyncpg_url(url: str) -> str:
    """The SQLAlchemy URL as asyncpg's DSN."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def published(url: str) -> tuple[BusinessTypeVersion, int, int]:
    """The published version of the bench's type, its business type id and the unit's id."""
    db = Database(url)
    try:
        async with db.read() as session:
            row = await metadata_repo.get_business_type(session, TYPE_CODE)
            unit = await metadata_repo.get_org_unit(session, UNIT)
            if row is None or unit is None or row.latest_version is None:
                raise RuntimeError(f"{TYPE_CODE} is not published, or {UNIT} is missing")
            version = await metadata_repo.get_version(session, TYPE_CODE, row.latest_version)
            if version is None:
                raise RuntimeError(f"{TYPE_CODE} has no version {row.latest_version}")
            return version, row.id, unit.id
    finally:
        await db.dispose()


async def load(url: str, cases: int, rows: list[list[str]] | None = None) -> None:
    """Generate (unless given `rows`), convert and COPY `cases` rows; the index and ANALYZE."""
    started = time.perf_counter()
    rows = generate(cases) if rows is None else rows[:cases]
    generated = time.perf_counter()
    version, type_id, unit_id = await published(url)
    converted = list(records(rows, version, type_id, unit_id))
    ready = time.perf_counter()
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        await connection.copy_records_to_table("case", records=converted, columns=COLUMNS)
        await connection.execute(
            """SELECT setval(pg_get_serial_sequence('"case"', 'id'), max(id)) FROM "case" """
        )
        copied = time.perf_counter()
        await ensure_index(connection, version)
        await connection.execute('ANALYZE "case"')
    finally:
        await connection.close()
    print(
        f"loaded {len(converted)} cases in {time.perf_counter() - started:.1f} s (gen_data.py "
        f"{generated - started:.1f} s, codecs {ready - generated:.1f} s, COPY "
        f"{copied - ready:.1f} s, index and ANALYZE {time.perf_counter() - copied:.1f} s)"
    )


async def ensure_index(connection: asyncpg.Connection, version: BusinessTypeVersion) -> None:
    """The expression index of `capacity_kva`, created here if the server has not made it."""
    name = case_expressions.index_name(INDEXED)
    found = await connection.fetchval(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = $1",
        name,
    )
    if found:
        print(f"index {name}: made by the server")
        return
    if found is not None:  # an invalid leftover of an interrupted CONCURRENTLY build
        await connection.execute(f"DROP INDEX IF EXISTS {name}")
    ddl = case_expressions.index_expression(INDEXED, version.item(INDEXED).type, "postgresql")
    await connection.execute(ddl)
    print(f"index {name}: the server had none, the bench made it ({ddl})")
