"""The lifecycle bench's workload: its business type, the STAFF user, and the cases it drives.

Five stages in a line, accept -> survey -> reply -> fees -> connect (survey goes to reply only
when `capacity_kva > 50`, else straight to fees; every case here has 100 kVA), eight data items,
five posts, an org unit tree and the responsibilities, all defined through GraphQL as ADMIN.
One STAFF user in the county holds all five posts (argon2 at the library's default cost, like
production; it signs in once). A case is `createBenchLifecycleCase(submit: true)` and then K
`completeTask` calls; the next task's id comes from the payload's `case { tasks { id status } }`,
never from myTasks, so only the command path is measured.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402  (the repository root is put on the path first)
from bench_support import ADMIN_PASSWORD, LOGIN, PUBLISH, SECRET  # noqa: E402

from database import metadata_repo, user_repo  # noqa: E402
from database.session import Database  # noqa: E402
from server.security import Credentials  # noqa: E402

WARM_UP = 20
TYPE_CODE = "bench_lifecycle"
STAFF = "bench_staff"
STAFF_PASSWORD = "bench-staff-password"
VALID_ID = "11010519491231002X"
UNIT = "county"

ITEMS: list[dict[str, Any]] = [
    {"code": "customer_name", "label": "户名", "type": "STRING", "maxLength": 100},
    {"code": "id_number", "label": "证件号码", "type": "ID_NUMBER"},
    {"code": "supply_address", "label": "用电地址", "type": "STRING"},
    {"code": "capacity_kva", "label": "申请容量", "type": "DECIMAL", "unit": "kVA"},
    {"code": "survey_opinion", "label": "勘查意见", "type": "TEXT"},
    {"code": "supply_plan", "label": "供电方案", "type": "TEXT"},
    {"code": "fee_amount", "label": "业务费", "type": "MONEY"},
    {"code": "meter_asset_no", "label": "电能表资产编号", "type": "STRING"},
]
STAGES = [
    ("accept", "业务受理", 1),
    ("survey", "现场勘查", 3),
    ("reply", "供电方案答复", 15),
    ("fees", "业务收费", 5),
    ("connect", "装表接电", 5),
]
POSTS = {
    "acceptor": "受理员",
    "surveyor": "勘查员",
    "planner": "方案员",
    "cashier": "收费员",
    "metering": "装表接电员",
}
RESPONSIBLE = {
    "accept": "acceptor",
    "survey": "surveyor",
    "reply": "planner",
    "fees": "cashier",
    "connect": "metering",
}
DRAFT: dict[str, Any] = {
    "code": TYPE_CODE,
    "name": "低压新装(基准)",
    "group": "NEW",
    "timeLimit": {"amount": 30, "unit": "WORKING_DAYS"},
    "items": [
        {"item": "customer_name", "requiredAt": ["accept"]},
        {"item": "id_number", "requiredAt": ["accept"]},
        {"item": "supply_address"},
        {"item": "capacity_kva", "editableAt": ["survey"], "requiredAt": ["survey"]},
        {"item": "survey_opinion", "editableAt": ["survey"]},
        {"item": "supply_plan", "editableAt": ["reply"], "requiredAt": ["reply"]},
        {"item": "fee_amount", "editableAt": ["fees"], "requiredAt": ["fees"]},
        {"item": "meter_asset_no", "editableAt": ["connect"], "requiredAt": ["connect"]},
    ],
    "stages": [{"stage": code} for code, _, _ in STAGES],
    "transitions": [
        {"from": "accept", "to": ["survey"]},
        {"from": "survey", "to": ["reply"], "condition": "capacity_kva > 50"},
        {"from": "survey", "to": ["fees"]},
        {"from": "reply", "to": ["fees"]},
        {"from": "fees", "to": ["connect"]},
    ],
    "start": "accept",
}
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("accept", {}),
    ("survey", {"capacityKva": "100", "surveyOpinion": "同意"}),
    ("reply", {"supplyPlan": "单电源 0.4kV 接入"}),
    ("fees", {"feeAmount": "1200.00"}),
    ("connect", {"meterAssetNo": "3330000001"}),
]
"""The stage each completion finishes and the data it writes, in order."""

UPSERT_ITEM = """mutation($input: UpsertDataItemInput!) { upsertDataItem(input: $input) {
  dataItem { code } errors { code message path } } }"""
UPSERT_STAGE = """mutation($input: UpsertStageInput!) { upsertStage(input: $input) {
  stage { code } errors { code message path } } }"""
UPSERT_POST = """mutation($input: UpsertPostInput!) { upsertPost(input: $input) {
  post { code } errors { code message path } } }"""
UPSERT_ORG = """mutation($input: UpsertOrgUnitInput!) { upsertOrgUnit(input: $input) {
  orgUnit { code } errors { code message path } } }"""
ASSIGN = """mutation($input: AssignResponsibilityInput!) { assignResponsibility(input: $input) {
  responsibility { post { code } } errors { code message path } } }"""
SAVE_DRAFT = """mutation($input: SaveBusinessTypeDraftInput!) {
  saveBusinessTypeDraft(input: $input) {
    problems { code message path } errors { code message path } } }"""
CREATE = """mutation($input: CreateBenchLifecycleCaseInput!) {
  createBenchLifecycleCase(input: $input) {
    case { id status tasks { id status } } errors { code message path } } }"""
CREATE_DRAFT = """mutation($input: CreateBenchLifecycleCaseInput!) {
  createBenchLifecycleCase(input: $input) { case { id status } errors { code message path } } }"""
SUBMIT = """mutation($id: ID!) { submitCase(id: $id) {
  case { id status tasks { id status } } errors { code message path } } }"""
CLAIM = """mutation($id: ID!) { claimTask(id: $id) {
  task { id status } errors { code message path } } }"""
COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) {
  task { status } case { id status tasks { id status } } errors { code message path } } }"""


@dataclass
class Driver:
    """An httpx client of one app (real or in-process) that times every mutation by kind."""

    client: httpx.AsyncClient
    token: str = ""
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    async def call(
        self,
        query: str,
        variables: Mapping[str, Any],
        *,
        token: str | None = None,
        kind: str | None = None,
    ) -> dict[str, Any]:
        """POST one operation; its `data` (GraphQL errors raise). `kind` records the latency."""
        bearer = self.token if token is None else token
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        started = time.perf_counter()
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": dict(variables)}, headers=headers
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:500]}")
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        if kind is not None:
            self.latencies[kind].append(elapsed)
        data: dict[str, Any] = body["data"]
        return data

    async def login(self, username: str, password: str) -> str:
        """A Bearer token for the user."""
        data = await self.call(LOGIN, {"u": username, "p": password}, token="")
        token: str = data["login"]["token"]
        if not token:
            raise RuntimeError(f"{username} could not sign in")
        return token


def _ok(payload: Mapping[str, Any], what: str) -> None:
    if payload.get("errors"):
        raise RuntimeError(f"{what} refused: {payload['errors']}")


async def define(driver: Driver) -> None:
    """The business type, posts, org units and responsibilities, as an ADMIN, through GraphQL."""
    for item in ITEMS:
        _ok((await driver.call(UPSERT_ITEM, {"input": item}))["upsertDataItem"], item["code"])
    for code, name, days in STAGES:
        stage = {"code": code, "name": name, "timeLimit": {"amount": days, "unit": "WORKING_DAYS"}}
        _ok((await driver.call(UPSERT_STAGE, {"input": stage}))["upsertStage"], code)
    for code, name in POSTS.items():
        post = {"code": code, "name": name}
        _ok((await driver.call(UPSERT_POST, {"input": post}))["upsertPost"], code)
    for code, name, parent in [
        ("province", "省公司", None),
        ("city", "市公司", "province"),
        (UNIT, "县公司", "city"),
    ]:
        unit = {"code": code, "name": name, "parent": parent}
        _ok((await driver.call(UPSERT_ORG, {"input": unit}))["upsertOrgUnit"], code)
    for stage_code, post_code in RESPONSIBLE.items():
        assignment = {"stage": stage_code, "post": post_code}
        _ok((await driver.call(ASSIGN, {"input": assignment}))["assignResponsibility"], stage_code)
    await save_and_publish(driver, DRAFT)


async def save_and_publish(driver: Driver, draft: Mapping[str, Any]) -> None:
    """Save a business type's draft and publish it; any error or problem stops the bench."""
    saved = (await driver.call(SAVE_DRAFT, {"input": draft}))["saveBusinessTypeDraft"]
    _ok(saved, "the draft")
    if saved["problems"]:
        raise RuntimeError(f"draft problems: {saved['problems']}")
    published = (await driver.call(PUBLISH, {"code": draft["code"]}))["publishBusinessType"]
    _ok(published, "publish")
    if published["problems"]:
        raise RuntimeError(f"publish problems: {published['problems']}")


async def add_user(
    url: str, username: str, password: str, roles: list[str], posts: list[str], unit: str | None
) -> None:
    """A user written through the repository, its password hashed at argon2's default cost."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            found = await metadata_repo.get_org_unit(session, unit) if unit else None
            await user_repo.save(
                session,
                username=username,
                name=username,
                password_hash=await Credentials(SECRET).hash_password(password),
                roles=roles,
                org_unit_id=found.id if found else None,
                post_codes=posts,
                now=dt.datetime.now(dt.UTC),
            )
    finally:
        await db.dispose()


def _open_task(case: Mapping[str, Any]) -> str:
    open_ids = [t["id"] for t in case["tasks"] if t["status"] in ("OPEN", "CLAIMED")]
    if len(open_ids) != 1:
        raise RuntimeError(f"expected one open task, found {case['tasks']}")
    task_id: str = open_ids[0]
    return task_id


async def one_case(driver: Driver, number: int, completions: int) -> None:
    """Create and submit a case, then complete its next task `completions` times."""
    data = {
        "customerName": f"基准客户{number}",
        "idNumber": VALID_ID,
        "supplyAddress": f"工业园区{number}号",
    }
    created = await driver.call(
        CREATE,
        {"input": {"orgUnit": UNIT, "submit": True, "data": data}},
        kind="create+submit",
    )
    payload = created["createBenchLifecycleCase"]
    _ok(payload, "create")
    case = payload["case"]
    for stage, changes in STEPS[:completions]:
        done = await driver.call(
            COMPLETE,
            {"input": {"taskId": _open_task(case), "outcome": "APPROVE", "data": changes}},
            kind=f"complete {stage}",
        )
        outcome = done["completeTask"]
        _ok(outcome, f"completing {stage}")
        case = outcome["case"]
    # The route went through reply (the condition held): one task per stage visited.
    if len(case["tasks"]) != min(completions + 1, len(STEPS)):
        raise RuntimeError(f"unexpected route: {case['tasks']}")
    if completions == len(STEPS) and case["status"] != "COMPLETED":
        raise RuntimeError(f"the case did not complete: {case}")


async def run_cases(driver: Driver, count: int, concurrency: int, completions: int) -> float:
    """`count` cases over `concurrency` workers; the wall time in seconds (bounded)."""
    numbers = iter(range(count))

    async def worker() -> None:
        for number in numbers:  # shared: each worker takes the next case number
            await one_case(driver, number, completions)

    started = time.perf_counter()
    async with asyncio.timeout(max(600.0, count * 10.0)), asyncio.TaskGroup() as group:
        for _ in range(max(1, min(concurrency, count))):
            group.create_task(worker())
    return time.perf_counter() - started


async def prepare(driver: Driver, url: str) -> None:
    """Define the metadata as admin, add the STAFF user, sign it in."""
    driver.token = await driver.login("admin", ADMIN_PASSWORD)
    await define(driver)
    await add_user(url, STAFF, STAFF_PASSWORD, ["STAFF"], list(POSTS), UNIT)
    driver.token = await driver.login(STAFF, STAFF_PASSWORD)
