"""Nothing acknowledged is lost when the server is killed mid-traffic; nothing is half-written.

A real server process (`python -m server.cli serve`) on a database of its own serves a business
type with a fee: accept -> survey (fee assessed on entry, must be paid) -> reply (over 160 kVA)
-> connect. Eight writers (asyncio + httpx over loopback), each on cases of its own, create and
submit cases (with an idempotency key), pay the survey fee (with an idempotency key) and
complete tasks, without pause. Every acknowledged mutation (HTTP 200, `errors == []`) is
recorded with the state its payload showed. Once enough are acknowledged the server is killed
with SIGKILL, each writer's last request goes unanswered, and a new server process starts on
the same database. Then:

- every acknowledged create, completion and payment is there, with its data;
- each case is exactly as its last acknowledged answer showed it, or, if a mutation on it went
  unanswered, as that mutation would have left it (never in between);
- every case is whole: its history verifies, its version is 1 + its completed tasks + its
  payments (every change bumps it), its DONE tasks are the tasks its history says
  were completed, its open tasks are one per current stage, a fee is PAID exactly when its
  payment is in the history;
- retrying a create with its idempotency key returns the case it made (an unanswered one too, if
  it was made), and makes nothing new.

Timing decides how much gets done before the kill; what is asserted does not depend on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from database.session import Database
from tests.api.conftest import ADMIN_PASSWORD, Api, add_user
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, define_basics
from tests.server.processes import ServerProcess, start_server, wait_until_healthy

WRITERS = 8
ACKNOWLEDGED_BEFORE_KILL = 48
"""Acknowledged mutations (at least one of each kind) after which the server is killed."""
TRAFFIC_SECONDS = 20.0
"""How long the writers may take to get there before the test fails."""
VALID_ID = "11010519491231002X"
STAFF = "clerk"
FEE = "survey_fee"
FEE_AMOUNT = "100.00"
T = TypeVar("T")

CRASH_DRAFT: dict[str, Any] = {
    **DRAFT,
    "stages": [
        {"stage": "accept"},
        {"stage": "survey", "outcomes": ["APPROVE", "RETURN"], "requiresPayment": True},
        {"stage": "reply", "timeLimit": {"amount": 30, "unit": "WORKING_DAYS"}},
        {"stage": "connect"},
    ],
}
"""hv_new with the survey fee to be paid before the survey may be completed."""
FEE_RULE = {
    "code": FEE,
    "name": "勘查费",
    "businessTypes": ["hv_new"],
    "stage": "survey",
    "amount": FEE_AMOUNT,
    "effectiveFrom": "2020-01-01",
}
UPSERT_RULE = """mutation($input: UpsertFeeRuleInput!) { upsertFeeRule(input: $input) {
  feeRule { code } errors { code message path } } }"""
UPSERT_USER = """mutation($input: UpsertUserInput!) { upsertUser(input: $input) {
  user { username } errors { code message path } } }"""

CASE_FIELDS = """id number version status currentStages { code }
  tasks { id status outcome stage { code } } fees { code status }
  ... on HvNewCase { data { customerName capacityKva surveyNotes } }"""
CREATE = f"""mutation($input: CreateHvNewCaseInput!) {{ createHvNewCase(input: $input) {{
  case {{ {CASE_FIELDS} }} errors {{ code message path }} }} }}"""
COMPLETE = f"""mutation($input: CompleteTaskInput!) {{ completeTask(input: $input) {{
  task {{ id status }} case {{ {CASE_FIELDS} }} errors {{ code message path }} }} }}"""
PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  fee { code status } errors { code message path } } }"""
CASES = f"""query($after: String) {{ hvNewCases(first: 100, after: $after) {{
  totalCount pageInfo {{ hasNextPage endCursor }}
  nodes {{ {CASE_FIELDS} events {{ seq action data }} }} }} }}"""
VERIFY = "query($id: ID!) { verifyCaseHistory(id: $id) { valid brokenAtSeq } }"


@dataclass(frozen=True)
class Snapshot:
    """What an answer showed of a case: the parts every later check compares."""

    version: int
    status: str
    current: tuple[str, ...]
    tasks: tuple[tuple[str, str], ...]
    fees: tuple[tuple[str, str], ...]
    data: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, case: dict[str, Any]) -> Snapshot:
        """The snapshot of a case as the API returns it (CASE_FIELDS)."""
        return cls(
            version=case["version"],
            status=case["status"],
            current=tuple(sorted(s["code"] for s in case["currentStages"])),
            tasks=tuple(sorted((t["id"], t["status"]) for t in case["tasks"])),
            fees=tuple(sorted((f["code"], f["status"]) for f in case["fees"])),
            data=tuple(sorted(case["data"].items())),
        )

    def open_tasks(self) -> list[str]:
        """Ids of the tasks still to do."""
        return [task for task, status in self.tasks if status in ("OPEN", "CLAIMED")]


@dataclass
class Create:
    """A create-and-submit sent once, with its key; `case_id` once acknowledged."""

    key: str
    data: dict[str, str]
    case_id: str | None = None
    number: str | None = None


@dataclass
class Ledger:
    """Everything the writers sent and what was acknowledged."""

    creates: list[Create] = field(default_factory=list)
    completed: list[tuple[str, str, int]] = field(default_factory=list)
    """(task id, case id, case version in the answer) of each acknowledged completion."""
    paid: list[str] = field(default_factory=list)
    """Case ids whose fee payment was acknowledged."""
    last: dict[str, Snapshot] = field(default_factory=dict)
    """Each case's state in its last acknowledged answer."""
    unanswered: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Case id -> (`complete`, task id) or (`pay`, fee code): a mutation with no answer."""
    refused: list[str] = field(default_factory=list)
    """Answers that were neither acknowledgements nor a dead server: the workload is wrong."""
    enough: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledge(self) -> None:
        """Count one more acknowledgement; set `enough` when the kill may come."""
        creates = sum(c.case_id is not None for c in self.creates)
        total = creates + len(self.completed) + len(self.paid)
        if total >= ACKNOWLEDGED_BEFORE_KILL and creates and self.completed and self.paid:
            self.enough.set()


def create_input(create: Create) -> dict[str, object]:
    """The create-and-submit input of `create` (the same on every retry)."""
    return {"orgUnit": "county", "submit": True, "idempotencyKey": create.key, "data": create.data}


async def gather_bounded(calls: Iterable[Awaitable[T]], limit: int = WRITERS) -> list[T]:
    """Await `calls` at most `limit` at a time; results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return await asyncio.gather(*(one(c) for c in calls))


async def post(client: httpx.AsyncClient, token: str, query: str, variables: Any) -> Any:
    """The mutation's payload; the response itself when it is not a 200 without errors."""
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code != 200:
        return response
    body = response.json()
    if body.get("errors"):
        return response
    return next(iter(body["data"].values()))


async def writer(number: int, client: httpx.AsyncClient, token: str, ledger: Ledger) -> None:
    """Create, pay and complete on cases of its own until the server stops answering."""
    rng = random.Random(number)
    mine: list[str] = []
    sent = 0
    while True:
        sent += 1
        target: str | None = None
        try:
            if len(mine) < 2 or rng.random() < 0.3:
                capacity = rng.choice(["100", "200"])  # 200 kVA goes through reply
                create = Create(
                    key=str(uuid.uuid4()),
                    data={
                        "customerName": f"writer {number} case {sent}",
                        "idNumber": VALID_ID,
                        "capacityKva": capacity,
                    },
                )
                ledger.creates.append(create)
                payload = await post(client, token, CREATE, {"input": create_input(create)})
                if not isinstance(payload, dict) or payload["errors"]:
                    ledger.refused.append(f"create: {_text(payload)}")
                    continue
                case = payload["case"]
                create.case_id, create.number = case["id"], case["number"]
                ledger.last[case["id"]] = Snapshot.of(case)
                mine.append(case["id"])
                ledger.acknowledge()
                continue
            target = rng.choice(mine)
            state = ledger.last[target]
            if (FEE, "DUE") in state.fees:
                ledger.unanswered[target] = ("pay", FEE)
                variables: dict[str, Any] = {
                    "input": {
                        "caseId": target,
                        "feeCode": FEE,
                        "amount": FEE_AMOUNT,
                        "method": "CASH",
                        "idempotencyKey": str(uuid.uuid4()),
                    }
                }
                payload = await post(client, token, PAY, variables)
                if not isinstance(payload, dict) or payload["errors"]:
                    ledger.refused.append(f"pay: {_text(payload)}")
                    continue
                fees = dict(state.fees) | {payload["fee"]["code"]: payload["fee"]["status"]}
                # A payment changes the case, so its version moves.
                ledger.last[target] = Snapshot(
                    state.version + 1, state.status, state.current, state.tasks,
                    tuple(sorted(fees.items())), state.data,
                )  # fmt: skip
                ledger.paid.append(target)
            else:
                (task,) = state.open_tasks()
                ledger.unanswered[target] = ("complete", task)
                changes = (
                    {"surveyNotes": f"survey of {target}"} if "survey" in state.current else {}
                )
                variables = {"input": {"taskId": task, "outcome": "APPROVE", "data": changes}}
                payload = await post(client, token, COMPLETE, variables)
                if not isinstance(payload, dict) or payload["errors"]:
                    ledger.refused.append(f"complete: {_text(payload)}")
                    continue
                after = Snapshot.of(payload["case"])
                ledger.last[target] = after
                ledger.completed.append((task, target, after.version))
                if after.status != "IN_PROGRESS":
                    mine.remove(target)
            del ledger.unanswered[target]
            ledger.acknowledge()
        except httpx.TransportError:
            return  # the server is gone: this mutation may or may not have happened


def _text(payload: Any) -> str:
    if isinstance(payload, httpx.Response):
        return f"HTTP {payload.status_code}: {payload.text[:300]}"
    return str(payload)


async def read_all_cases(api: Api) -> dict[str, dict[str, Any]]:
    """Every hv_new case with its tasks, fees and history, by id (as ADMIN)."""
    cases: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = (await api.data(CASES, {"after": after}))["hvNewCases"]
        cases.update((c["id"], c) for c in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            assert len(cases) == page["totalCount"]
            return cases
        after = page["pageInfo"]["endCursor"]


def check_whole(case: dict[str, Any]) -> None:
    """A case's rows agree with each other and with its history."""
    events = case["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), case
    completions = [str(e["data"]["task"]) for e in events if e["action"] == "TASK_COMPLETED"]
    payments = {e["data"]["fee"] for e in events if e["action"] == "PAYMENT_RECORDED"}
    assert case["version"] == 1 + len(completions) + len(payments), case
    done = sorted(t["id"] for t in case["tasks"] if t["status"] == "DONE")
    assert done == sorted(completions), case
    open_stages = sorted(t["stage"]["code"] for t in case["tasks"] if t["status"] == "OPEN")
    assert open_stages == sorted(s["code"] for s in case["currentStages"]), case
    assert all(t["status"] in ("OPEN", "DONE") for t in case["tasks"]), case
    assert (case["status"] == "IN_PROGRESS") == bool(open_stages), case
    assert {f["code"] for f in case["fees"] if f["status"] == "PAID"} == payments, case
    assessed = [e["data"] for e in events if e["action"] == "FEE_ASSESSED"]
    assert len(assessed) == len(case["fees"]), case


def check_as_acknowledged(case: dict[str, Any], ledger: Ledger) -> None:
    """The case is as its last answer showed it, or as its unanswered mutation left it."""
    now = Snapshot.of(case)
    last = ledger.last[case["id"]]
    if now == last:
        return
    pending = ledger.unanswered.get(case["id"])
    assert pending is not None, f"acknowledged {last}, found {now}"
    kind, what = pending
    if kind == "pay":
        paid = tuple(sorted({**dict(last.fees), what: "PAID"}.items()))
        assert now == Snapshot(
            last.version + 1, last.status, last.current, last.tasks, paid, last.data
        ), (last, now)
    else:
        assert now.version == last.version + 1, (last, now)
        assert (what, "DONE") in now.tasks, (last, now)
        assert (what, "OPEN") in last.tasks, (last, now)


async def crash_and_recover(
    database_url: str, data_dir: Path, servers: list[ServerProcess]
) -> None:
    """The scenario; see the module docstring."""
    db = Database(database_url)
    try:
        await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    finally:
        await db.dispose()
    first = start_server("first", database_url, data_dir)
    servers.append(first)
    ledger = Ledger()
    limits = httpx.Limits(max_connections=WRITERS + 2)
    async with httpx.AsyncClient(base_url=first.url, timeout=30.0, limits=limits) as client:
        await wait_until_healthy(client, first)
        api = Api(client=client, app=None)
        await define_basics(api)
        saved = (await api.data(SAVE_DRAFT, {"input": CRASH_DRAFT}))["saveBusinessTypeDraft"]
        assert saved["errors"] == [] and saved["problems"] == [], saved
        published = (await api.data(PUBLISH, {"code": "hv_new"}))["publishBusinessType"]
        assert published["errors"] == [] and published["problems"] == [], published
        rule = (await api.data(UPSERT_RULE, {"input": FEE_RULE}))["upsertFeeRule"]
        assert rule["errors"] == [], rule
        clerk = {
            "username": STAFF,
            "name": "受理勘查员",
            "password": f"{STAFF}-password",
            "roles": ["STAFF"],
            "posts": ["acceptor", "surveyor"],
            "orgUnit": "county",
        }
        added = (await api.data(UPSERT_USER, {"input": clerk}))["upsertUser"]
        assert added["errors"] == [], added
        admin_token, token = await api.token("admin"), await api.token(STAFF)

        writers = [asyncio.create_task(writer(n, client, token, ledger)) for n in range(WRITERS)]
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TRAFFIC_SECONDS):
                    await ledger.enough.wait()
        finally:
            first.process.kill()  # SIGKILL, while the writers keep sending
            first.process.wait(timeout=10)
        async with asyncio.timeout(30):
            await asyncio.gather(*writers)
    assert ledger.refused == [], ledger.refused[:5]
    assert ledger.enough.is_set(), (
        f"too few acknowledged in {TRAFFIC_SECONDS} s: {len(ledger.completed)} completions, "
        f"{len(ledger.paid)} payments, {sum(bool(c.case_id) for c in ledger.creates)} creates"
    )

    second = start_server("second", database_url, data_dir)
    servers.append(second)
    async with httpx.AsyncClient(base_url=second.url, timeout=30.0) as client:
        await wait_until_healthy(client, second)
        api = Api(client=client, app=None, tokens={"admin": admin_token, STAFF: token})
        cases = await read_all_cases(api)

        acknowledged = [c for c in ledger.creates if c.case_id is not None]
        for create in acknowledged:
            assert create.case_id in cases, f"acknowledged case {create.number} is lost"
            assert cases[create.case_id]["number"] == create.number
        tasks = {t["id"]: t for c in cases.values() for t in c["tasks"]}
        for task_id, case_id, version in ledger.completed:
            assert tasks.get(task_id, {}).get("status") == "DONE", (task_id, cases[case_id])
            assert tasks[task_id]["outcome"] == "APPROVE"
            assert cases[case_id]["version"] >= version
        for case_id in ledger.paid:
            assert {"code": FEE, "status": "PAID"} in cases[case_id]["fees"]
        for create in acknowledged:
            check_as_acknowledged(cases[str(create.case_id)], ledger)

        names = Counter(c["data"]["customerName"] for c in cases.values())
        sent = {c.data["customerName"]: c for c in ledger.creates}
        assert set(names) <= set(sent), "a case nobody sent"
        assert max(names.values()) == 1, "a create made two cases"
        for case in cases.values():
            create = sent[case["data"]["customerName"]]
            assert case["data"]["capacityKva"] == create.data["capacityKva"], case
            assert create.case_id in (None, case["id"]), (create, case)
            check_whole(case)
        verified = await gather_bounded(api.data(VERIFY, {"id": i}) for i in cases)
        broken = [
            v for v in verified if v["verifyCaseHistory"] != {"valid": True, "brokenAtSeq": None}
        ]
        assert broken == [], broken

        # Retries with the same key: the same case for an acknowledged create, and the one it
        # made (if it made one) for an unanswered create; nothing else is made.
        answers = await gather_bounded(
            api.data(CREATE, {"input": create_input(c)}, as_user=STAFF) for c in ledger.creates
        )
        by_name = {c["data"]["customerName"]: c["id"] for c in cases.values()}
        for create, answer in zip(ledger.creates, answers, strict=True):
            retried = answer["createHvNewCase"]
            assert retried["errors"] == [], retried
            made = by_name.get(create.data["customerName"])
            if made is not None:
                assert retried["case"]["id"] == made, (create, retried)
            else:
                assert create.case_id is None
                by_name[create.data["customerName"]] = retried["case"]["id"]
        after = await read_all_cases(api)
        assert len(after) == len(by_name) == len(ledger.creates)


@pytest.mark.slow
@pytest.mark.postgres
async def test_nothing_acknowledged_is_lost_on_a_crash_on_postgresql(
    postgresql_url: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    await crash_and_recover(postgresql_url, tmp_path, servers)


@pytest.mark.slow
async def test_nothing_acknowledged_is_lost_on_a_crash_on_sqlite(
    sqlite_url: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    await crash_and_recover(sqlite_url, tmp_path, servers)
