"""Hostile and careless input, through the API on the standard catalogue: every row gets a typed
answer (a VALIDATION error naming the field, or what an id naming nothing gets), never the
masked "Unexpected error", and changes nothing.

One table, one row per input: Decimal NaN/∞/huge in filters and amounts, date-times without an
offset or out of range, ids and cursors of 40 digits or garbage, `in` lists of 100,000 values,
NUL in strings of a dozen operations (PostgreSQL's text and JSONB cannot hold it), strings
longer than their column.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from database.session import Database
from resolvers.build import MASKED_MESSAGE
from tests.api.catalogue_walking import (
    RESPONSIBLE,
    ROOT,
    TYPES,
    Walk,
    catalogue_app,
    required_at,
    to_input,
    user_of,
)
from tests.api.conftest import Api

HUGE = "1234567890123456789012345678901234567890"
NUL = "a\u0000b"
ADMIN = "admin"
STAFF = user_of(RESPONSIBLE["acceptance_signing"])
TYPE = "lv_resident_new"


@dataclass
class Target:
    """A submitted case with its open task, for rows that need real ids."""

    case: str
    task: str
    number: str
    version: int


@dataclass(frozen=True)
class Row:
    """One hostile request and the answer it must get."""

    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    user: str | None = ADMIN
    payload: str | None = None
    """The mutation whose `errors` carry the answer; None: a top-level error."""
    code: str = "VALIDATION"
    says: str = ""
    """A piece of the message: the field, or the bound."""


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


CASES_OVER = "query($v: Decimal!) { cases(where: {data: {capacityKw: {gt: $v}}}) { totalCount } }"
PAY = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  errors { code message path } } }"""
CREATE = """mutation($input: CreateLvResidentNewCaseInput!) { createLvResidentNewCase(input: $input) {
  case { id } errors { code message path } } }"""
CREATE_HV = """mutation($input: CreateHvNewDoubleCaseInput!) { createHvNewDoubleCase(input: $input) {
  case { id } errors { code message path } } }"""
COMPLETE = """mutation($input: CompleteTaskInput!) { completeTask(input: $input) {
  errors { code message path } } }"""
BY_CREATED = "query($v: DateTime!) { cases(where: {createdAt: {gt: $v}}) { totalCount } }"
BY_DATE = "query($v: Date!) { cases(where: {data: {connectionDate: {gt: $v}}}) { totalCount } }"
AFTER = "query($c: String) { cases(after: $c) { totalCount } }"
TASKS_AFTER = "query($c: String) { tasks(after: $c) { totalCount } }"
MY_TASKS_AFTER = "query($c: String) { myTasks(after: $c) { totalCount } }"
TYPED_AFTER = "query($c: String) { lvResidentNewCases(after: $c) { totalCount } }"
NUMBER_IN = "query($v: [String!]) { cases(where: {number: {in: $v}}) { totalCount } }"
LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
  token errors { code message } } }"""
PROGRESS = "query($n: String!, $c: String!) { caseProgress(number: $n, accessCode: $c) { status } }"

DECIMALS = ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999999", "-1e999999999", "1e-999999999"]
DATETIMES = [
    "2026-03-02T09:00:00",  # naive
    "2026-03-02",
    "0001-01-01T00:00:00+08:00",  # before year 1 in UTC
    "9999-12-31T23:00:00-08:00",  # after year 9999 in UTC
    "123456-01-01T00:00:00Z",
    "2026-03-02T25:00:00Z",
]
DATES = ["123456-01-01", "2026-02-30", "26-03-02", "2026-03-02T00:00:00Z"]
CURSORS = [
    cursor("o:-5"),
    cursor(f"o:{HUGE}"),
    cursor("x:1"),
    "garbage!!",
    "o:1",
    cursor("o:1") * 10,
]

ROWS: dict[str, Row] = {
    **{
        f"filter-decimal-{v}": Row(CASES_OVER, {"v": v}, says="expected a Decimal")
        for v in DECIMALS
    },
    "filter-decimal-literal": Row(
        '{ cases(where: {data: {capacityKw: {gt: "NaN"}}}) { totalCount } }',
        says="Argument 'where' has invalid value at .data.capacityKw.gt",
    ),
    **{
        f"payment-{v}": Row(
            PAY,
            {"input": {"caseId": "{case}", "feeCode": "x", "amount": v, "method": "CASH"}},
            says=".amount",
        )
        for v in DECIMALS
    },
    **{
        f"money-item-{v}": Row(
            CREATE_HV, {"input": {"data": {"feeReceivable": v}, "orgUnit": ROOT}}, says="Decimal"
        )
        for v in DECIMALS
    },
    "money-item-in-json-data": Row(
        COMPLETE,
        {"input": {"taskId": "{task}", "data": {"capacityKw": "NaN"}}},
        user=STAFF,
        payload="completeTask",
        says="decimal number",
    ),
    **{f"filter-datetime-{v}": Row(BY_CREATED, {"v": v}, says="DateTime") for v in DATETIMES},
    "filter-datetime-literal": Row(
        '{ cases(where: {createdAt: {lt: "2026-03-02T09:00:00"}}) { totalCount } }',
        says=".createdAt.lt",
    ),
    "filter-due-at-naive": Row(
        '{ cases(where: {dueAt: {gte: "2026-03-02T09:00:00"}}) { totalCount } }', says=".dueAt"
    ),
    **{f"filter-date-{v}": Row(BY_DATE, {"v": v}, says="Date") for v in DATES},
    **{
        f"date-item-{v}": Row(
            CREATE, {"input": {"data": {"contractSignedDate": v}, "orgUnit": ROOT}}, says="Date"
        )
        for v in DATES
    },
    "fee-rule-date": Row(
        """mutation { upsertFeeRule(input: {code: "r", name: "r", stage: "fee_collection",
          amount: "1", effectiveFrom: "123456-01-01"}) { errors { code } } }""",
        says=".effectiveFrom",
    ),
    # graphql's own scalars: their refusals are typed and located too
    "int-literal-out-of-range": Row(
        "{ cases(first: 99999999999) { totalCount } }", says="Argument 'first' has invalid value"
    ),
    "int-variable-out-of-range": Row(
        "query($f: Int) { cases(first: $f) { totalCount } }", {"f": 10**40}, says="'$f'"
    ),
    "int-default-value": Row(
        'query($f: Int = "many") { cases(first: $f) { totalCount } }',
        says="The default value of '$f'",
    ),
    # ids that cannot name a row read as ids naming nothing
    "case-id-40-digits": Row(
        f'{{ case(id: "{HUGE}") {{ id }} }}', code="null", payload="case", says=""
    ),
    "claim-task-40-digits": Row(
        f'mutation {{ claimTask(id: "{HUGE}") {{ errors {{ code message path }} }} }}',
        payload="claimTask",
        code="NOT_FOUND",
    ),
    "complete-task-40-digits": Row(
        COMPLETE, {"input": {"taskId": HUGE}}, payload="completeTask", code="NOT_FOUND"
    ),
    "complete-task-unicode-digits": Row(
        COMPLETE, {"input": {"taskId": "²"}}, payload="completeTask", code="NOT_FOUND"
    ),
    "pay-case-40-digits": Row(
        PAY,
        {"input": {"caseId": HUGE, "feeCode": "x", "amount": "1", "method": "CASH"}},
        payload="recordPayment",
        code="NOT_FOUND",
    ),
    "suspend-40-digits": Row(
        f'mutation {{ suspendCase(id: "{HUGE}", reason: "x") {{ errors {{ code message }} }} }}',
        payload="suspendCase",
        code="NOT_FOUND",
    ),
    "history-40-digits": Row(
        f'{{ verifyCaseHistory(id: "{HUGE}") {{ valid }} }}',
        code="null",
        payload="verifyCaseHistory",
    ),
    "tasks-of-case-40-digits": Row(
        f'{{ tasks(where: {{case: "{HUGE}"}}) {{ totalCount }} }}', code="zero", payload="tasks"
    ),
    "filter-id-40-digits": Row(
        f'{{ cases(where: {{id: {{eq: "{HUGE}"}}}}) {{ totalCount }} }}', says="case ids"
    ),
    **{f"cursor-{i}": Row(AFTER, {"c": c}, says="after") for i, c in enumerate(CURSORS)},
    **{f"task-cursor-{i}": Row(TASKS_AFTER, {"c": c}, says="after") for i, c in enumerate(CURSORS)},
    "my-tasks-cursor": Row(MY_TASKS_AFTER, {"c": cursor(f"o:{HUGE}")}, user=STAFF, says="after"),
    "typed-list-cursor": Row(TYPED_AFTER, {"c": cursor("o:-1")}, says="after"),
    "in-100000": Row(NUMBER_IN, {"v": [str(i) for i in range(100_000)]}, says="at most 1000"),
    "not-in-100000": Row(
        "query($v: [String!]) { cases(where: {data: {customerName: {notIn: $v}}}) { totalCount } }",
        {"v": ["x"] * 100_000},
        says="at most 1000",
    ),
    "id-in-100000": Row(
        "query($v: [ID!]) { cases(where: {id: {in: $v}}) { totalCount } }",
        {"v": list(range(1, 100_001))},
        says="at most 1000",
    ),
    "task-posts-100000": Row(
        "query($v: [String!]) { tasks(where: {post: $v}) { totalCount } }",
        {"v": ["p"] * 100_000},
        says="at most 1000",
    ),
    # NUL, refused at the edge whatever the operation
    "nul-login-username": Row(LOGIN, {"u": NUL, "p": "x"}, user=None, says="'username'"),
    "nul-login-password": Row(LOGIN, {"u": "admin", "p": NUL}, user=None, says="'password'"),
    "nul-progress-number": Row(PROGRESS, {"n": NUL, "c": "x"}, user=None, says="'number'"),
    "nul-progress-code": Row(PROGRESS, {"n": "x", "c": NUL}, user=None, says="'accessCode'"),
    "nul-literal": Row(
        'mutation { login(username: "a\\u0000b", password: "x") { token } }',
        user=None,
        says="NUL",
    ),
    "nul-filter": Row(NUMBER_IN, {"v": ["ok", NUL]}, says=".number.in"),
    "nul-case-number": Row(
        "query($n: String!) { case(number: $n) { id } }", {"n": NUL}, says="'number'"
    ),
    "nul-customer": Row(
        "query($n: String!) { customer(number: $n) { number } }", {"n": NUL}, says="'number'"
    ),
    "nul-item-value": Row(
        CREATE, {"input": {"data": {"customerName": NUL}, "orgUnit": ROOT}}, says=".customerName"
    ),
    "nul-json-data": Row(
        COMPLETE,
        {"input": {"taskId": "{task}", "data": {"surveyOpinion": NUL}}},
        user=STAFF,
        says=".data.surveyOpinion",
    ),
    "nul-json-key": Row(
        COMPLETE, {"input": {"taskId": "{task}", "data": {NUL: 1}}}, user=STAFF, says="key"
    ),
    "nul-comment": Row(
        COMPLETE, {"input": {"taskId": "{task}", "comment": NUL}}, user=STAFF, says=".comment"
    ),
    "nul-post-name": Row(
        'mutation($n: String!) { upsertPost(input: {code: "p_nul", name: $n}) { errors { code } } }',
        {"n": NUL},
        says=".name",
    ),
    "nul-fee-rule": Row(
        """mutation($a: String!) { upsertFeeRule(input: {code: "r_nul", name: "r",
          stage: "fee_collection", amount: $a}) { errors { code } } }""",
        {"a": NUL},
        says=".amount",
    ),
    "nul-suspend-reason": Row(
        'mutation($r: String!) { suspendCase(id: "{case}", reason: $r) { errors { code } } }',
        {"r": NUL},
        says="'reason'",
    ),
    "nul-calendar-note": Row(
        """mutation($n: String) { setCalendarDays(input: [{date: "2026-10-09", workday: true,
          note: $n}]) { errors { code } } }""",
        {"n": NUL},
        says=".note",
    ),
    "nul-payment-method": Row(
        PAY,
        {"input": {"caseId": "{case}", "feeCode": "x", "amount": "1", "method": NUL}},
        says=".method",
    ),
    # strings longer than their column
    "long-payment-method": Row(
        PAY,
        {"input": {"caseId": "{case}", "feeCode": "x", "amount": "1", "method": "m" * 41}},
        says="at most 40 characters",
    ),
    "long-payment-reference": Row(
        PAY,
        {
            "input": {
                "caseId": "{case}",
                "feeCode": "x",
                "amount": "1",
                "method": "CASH",
                "reference": "r" * 201,
            }
        },
        says="at most 200 characters",
    ),
    "long-payment-key": Row(
        PAY,
        {
            "input": {
                "caseId": "{case}",
                "feeCode": "x",
                "amount": "1",
                "method": "CASH",
                "idempotencyKey": "k" * 201,
            }
        },
        says=".idempotencyKey: must be at most 200",
    ),
    "long-create-key": Row(
        CREATE, {"input": {"orgUnit": ROOT, "idempotencyKey": "k" * 201}}, says="at most 200"
    ),
    "long-stage-name": Row(
        'mutation { upsertStage(input: {code: "s_long", name: "%s"}) { errors { code } } }'
        % ("n" * 201),
        says=".name: must be at most 200",
    ),
    "long-fee-rule-name": Row(
        """mutation($n: String!) { upsertFeeRule(input: {code: "r_long", name: $n,
          stage: "fee_collection", amount: "1"}) { errors { code } } }""",
        {"n": "n" * 201},
        says="at most 200",
    ),
    "long-calendar-note": Row(
        """mutation($n: String) { setCalendarDays(input: [{date: "2026-10-09", workday: true,
          note: $n}]) { errors { code } } }""",
        {"n": "n" * 201},
        says="at most 200",
    ),
    "long-outcome": Row(
        COMPLETE,
        {"input": {"taskId": "{task}", "outcome": "O" * 64}},
        user=STAFF,
        says=".outcome: must be at most 63",
    ),
    "long-user-name": Row(
        """mutation($u: String!) { upsertUser(input: {username: $u, name: "n", roles: [STAFF]}) {
          errors { code } } }""",
        {"u": "u" * 64},
        says="at most 63",
    ),
}


@pytest.fixture(scope="module")
async def walk(
    database: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Walk]:
    async with catalogue_app(database, database_url, tmp_path_factory.mktemp("hostile")) as app:
        yield app


@pytest.fixture(scope="module")
async def target(walk: Walk) -> AsyncIterator[Target]:
    spec = TYPES[TYPE]
    assert spec.start is not None
    values = to_input(required_at(spec, spec.start, sources=1))
    created = (
        await walk.api.data(
            """mutation($input: CreateLvResidentNewCaseInput!) { createLvResidentNewCase(input: $input) {
              case { id number version tasks { id status } } errors { code message } } }""",
            {"input": {"data": values, "orgUnit": ROOT, "submit": True}},
            as_user=STAFF,
        )
    )["createLvResidentNewCase"]
    assert created["errors"] == [], created
    case = created["case"]
    [task] = [t for t in case["tasks"] if t["status"] == "OPEN"]
    yield Target(case["id"], task["id"], case["number"], case["version"])


def _fill(value: Any, target: Target) -> Any:
    if isinstance(value, str):
        return value.replace("{case}", target.case).replace("{task}", target.task)
    if isinstance(value, dict):
        return {k: _fill(v, target) for k, v in value.items()}
    if isinstance(value, list) and len(value) < 1000:
        return [_fill(v, target) for v in value]
    return value


async def answer(api: Api, row: Row, target: Target) -> dict[str, Any]:
    body = await api.post(_fill(row.query, target), _fill(row.variables, target), as_user=row.user)
    assert MASKED_MESSAGE not in str(body), body
    return body


@pytest.mark.parametrize("name", list(ROWS))
async def test_hostile_input_gets_a_typed_answer(walk: Walk, target: Target, name: str) -> None:
    row = ROWS[name]
    body = await answer(walk.api, row, target)
    errors = body.get("errors") or []
    if row.payload is None:
        assert errors, body
        assert {e.get("extensions", {}).get("code") for e in errors} == {row.code}, errors
        assert any(row.says in e["message"] for e in errors), errors
        assert all("locations" in e or "path" in e.get("extensions", {}) for e in errors), errors
        return
    assert not errors, errors
    found = body["data"][row.payload]
    if row.code == "null":
        assert found is None
    elif row.code == "zero":
        assert found == {"totalCount": 0}
    else:
        assert [e["code"] for e in found["errors"]] == [row.code], found
        assert row.says in found["errors"][0]["message"], found


async def test_nothing_changed(walk: Walk, target: Target) -> None:
    """After every row, the case is as it was: same version, task still open, no payment."""
    for row in ROWS.values():
        await answer(walk.api, row, target)
    after = (
        await walk.api.data(
            "query($id: ID!) { case(id: $id) { version tasks { id status } fees { code } } }",
            {"id": target.case},
        )
    )["case"]
    assert after["version"] == target.version
    assert [t["status"] for t in after["tasks"] if t["id"] == target.task] == ["OPEN"]
    posts = await walk.api.data("{ posts { code } stages { code } }")
    assert "p_nul" not in {p["code"] for p in posts["posts"]}
    assert "s_long" not in {s["code"] for s in posts["stages"]}


async def test_string_ranges_compare_code_points_on_both_databases(
    walk: Walk, target: Target
) -> None:
    query = "query($w: CaseWhere) { cases(where: $w) { nodes { number } } }"
    number = target.number
    above = await walk.api.data(query, {"w": {"number": {"gte": number}}})
    assert number in [n["number"] for n in above["cases"]["nodes"]]
    below = await walk.api.data(query, {"w": {"number": {"lt": number}}})
    assert number not in [n["number"] for n in below["cases"]["nodes"]]
    # The sample name 测试户名 is greater than 测 and than any ASCII text, by code point.
    for op, value, found in [("gt", "测", True), ("lt", "测", False), ("gt", "Z", True)]:
        where = {"number": {"eq": number}, "data": {"customerName": {op: value}}}
        nodes = (await walk.api.data(query, {"w": where}))["cases"]["nodes"]
        assert (nodes == [{"number": number}]) is found, (op, value, nodes)


UPSERT_ORG = """mutation($input: UpsertOrgUnitInput!) { upsertOrgUnit(input: $input) {
  orgUnit { code } errors { code message path } } }"""


async def test_an_org_tree_deeper_than_its_paths_hold_is_refused(walk: Walk) -> None:
    parent: str | None = None
    depth = 0
    while True:
        code = f"deep_{depth:02d}_" + "a" * 54  # 62 characters: a path grows by 63 a level
        saved = (
            await walk.api.data(
                UPSERT_ORG, {"input": {"code": code, "name": "深", "parent": parent}}
            )
        )["upsertOrgUnit"]
        if saved["errors"]:
            break
        parent, depth = code, depth + 1
    assert depth == 2000 // 63  # 31 levels of 63 characters after the leading "/"
    [error] = saved["errors"]
    assert (error["code"], error["path"]) == ("VALIDATION", ["input", "parent"])
    assert "at most 2000 characters" in error["message"]
    # Moving the deep chain's top under another unit would push its bottom past the width too.
    top, lift = "deep_00_" + "a" * 54, "lift_" + "b" * 57
    assert (await walk.api.data(UPSERT_ORG, {"input": {"code": lift, "name": "抬"}}))[
        "upsertOrgUnit"
    ]["errors"] == []
    moved = (
        await walk.api.data(UPSERT_ORG, {"input": {"code": top, "name": "深", "parent": lift}})
    )["upsertOrgUnit"]
    assert [e["code"] for e in moved["errors"]] == ["VALIDATION"]
