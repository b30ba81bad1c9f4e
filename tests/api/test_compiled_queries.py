"""The query compiler answers byte for byte what the resolver path answers, for every caller.

Each query of the corpus (`compiled_corpus`) runs twice per caller, once with the compiler on
and once with it off, and the two response bodies must be the same bytes; the compiled run
must also have been answered by the compiler (`compiled_cases.ANSWERED`), so a query the
compiler quietly hands back to the resolvers cannot pass for a compiled one.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select, update

from database.case_tables import CaseRow
from database.session import Database
from resolvers import compiled_cases
from tests.api.compiled_corpus import (
    CALLERS,
    HV,
    LISTED,
    ONE,
    ORDERINGS,
    QUERIES,
    WHERES,
    load,
)
from tests.api.conftest import Api, Clock
from tests.api.setup_metamodel import PUBLISH, SAVE_DRAFT


async def _body(api: Api, query: str, variables: dict[str, Any], user: str) -> bytes:
    headers = {"Authorization": f"Bearer {await api.token(user)}"}
    response = await api.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.content


async def both(
    api: Api, query: str, variables: dict[str, Any], user: str
) -> tuple[bytes, bytes, int, int]:
    """The compiled and the resolver path's bodies, and how many root fields each planned."""
    services = api.app.state.services
    before = dict(compiled_cases.ANSWERED)
    services.compiled_queries = True
    try:
        compiled = await _body(api, query, variables, user)
    finally:
        services.compiled_queries = False
    try:
        resolved = await _body(api, query, variables, user)
    finally:
        services.compiled_queries = True
    after = compiled_cases.ANSWERED
    return (
        compiled,
        resolved,
        after["compiled"] - before.get("compiled", 0),
        after["resolver"] - before.get("resolver", 0),
    )


async def same(api: Api, name: str, query: str, variables: dict[str, Any], user: str) -> bytes:
    """Asserts both paths answer the same bytes, the compiled one without falling back."""
    compiled, resolved, planned, fell_back = await both(api, query, variables, user)
    assert compiled == resolved, f"{name} as {user}:\n{compiled!r}\n!=\n{resolved!r}"
    assert b'"errors"' not in compiled, f"{name} as {user}: {compiled!r}"
    assert planned >= 1 and fell_back == 0, f"{name} as {user}: not compiled"
    return compiled


@pytest.fixture
async def loaded(api: Api, db: Database, clock: Clock) -> list[dict[str, Any]]:
    return await load(api, db, clock)


async def test_the_corpus_reads_the_same_on_both_paths_for_every_caller(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    for user in CALLERS:
        for name, query, variables in QUERIES:
            await same(api, name, query, variables, user)
    admin_all = await same(api, "every field", QUERIES[0][1], {}, "admin")
    staff_all = await same(api, "every field", QUERIES[0][1], {}, "acc")
    assert b'"idNumber":"11010519491231002X"' in admin_all
    assert b'"idNumber":"11010519491231002X"' in staff_all  # visible to acceptors
    surveyor = await same(api, "every field", QUERIES[0][1], {}, "sur")
    assert b"11010519491231002X" not in surveyor  # hidden from surveyors, their plan differs
    assert b'"isOverdue":true' in admin_all and b'"isOverdue":false' in admin_all
    for nested in (b'"kind":"STAGE"', b'"kind":"CASE"', b'"currentStages":[{"code":"survey"'):
        assert nested in admin_all, nested
    assert "资料齐全".encode() in admin_all and b'"assignee":{"username":"acc"' in admin_all


async def test_every_ordering_filter_and_page_reads_the_same(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    for user in ("admin", "acc"):
        for ordering in ORDERINGS:
            for window in ({"first": 2}, {"last": 2}):
                variables: dict[str, Any] = {"orderBy": [ordering], **window}
                body = await same(api, f"order {ordering} {window}", LISTED, variables, user)
                page = _page(body)
                cursor = page["pageInfo"]["endCursor" if "first" in window else "startCursor"]
                if cursor is None:
                    continue
                turn = {"after": cursor} if "first" in window else {"before": cursor}
                await same(api, f"next of {ordering}", LISTED, {**variables, **turn}, user)
        for where in WHERES:
            await same(api, f"where {where}", LISTED, {"where": where}, user)


async def test_a_case_by_id_or_number_reads_the_same(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    for user in CALLERS:
        for case in loaded:
            await same(api, f"case {case['number']}", ONE, {"id": case["id"]}, user)
            await same(api, f"number {case['number']}", ONE, {"number": case["number"]}, user)
        for missing in ({"id": "999999"}, {"id": "x"}, {"number": "none"}):
            body = await same(api, f"missing {missing}", ONE, missing, user)
            assert body == b'{"data":{"case":null}}'
    out_of_scope = await same(api, "a draft of another", ONE, {"id": loaded[2]["id"]}, "acc")
    assert out_of_scope == b'{"data":{"case":null}}'


@pytest.mark.tampers_history  # the stored forms are written behind the history's back
async def test_values_stored_in_older_forms_read_as_the_codecs_read_them(
    api: Api, db: Database, loaded: list[dict[str, Any]]
) -> None:
    """Stored before a scale changed, or imported: the compiled path reads them as the codec."""
    forms = [
        {
            "capacity_kva": "630.500",
            "deposit": "5",
            "transformer_kva": "12.25",
            "survey_notes": "\x01\x1f\x7f旧",
        },
        {"capacity_kva": "-0.0", "deposit": "-0.00", "transformer_kva": "7"},
        {"capacity_kva": "10", "deposit": "3.1", "transformer_kva": "-0"},
    ]
    async with db.transaction() as session:
        for case, form in zip(loaded, forms, strict=False):
            row = await session.execute(select(CaseRow).where(CaseRow.id == int(case["id"])))
            data = dict(row.scalar_one().data) | form
            await session.execute(
                update(CaseRow).where(CaseRow.id == int(case["id"])).values(data=data)
            )
    body = await same(api, "older forms", QUERIES[0][1], {}, "admin")
    assert b'"capacityKva":"630.5"' in body and b'"deposit":"5.00"' in body
    assert b'"transformerKva":"12.25"' in body and b'"capacityKva":"0"' in body


async def test_what_the_compiler_does_not_cover_runs_on_the_resolver_path(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    for uncovered in ("tasks { case { number } }", "fees { code }", "events { action }"):
        query = f"{{ hvNewCases {{ nodes {{ number {uncovered} }} }} }}"
        compiled, resolved, planned, fell_back = await both(api, query, {}, "admin")
        assert compiled == resolved and b"2026" in compiled
        assert (planned, fell_back) == (0, 1), uncovered


def _page(body: bytes) -> dict[str, Any]:
    import json

    found: dict[str, Any] = json.loads(body)["data"]["hvNewCases"]
    return found


OPERATORS = {
    "STRING": ["eq", "ne", "in", "notIn", "gt", "gte", "lt", "lte", "contains", "startsWith"],
    "DECIMAL": ["eq", "ne", "in", "notIn", "gt", "gte", "lt", "lte"],
    "BOOLEAN": ["eq", "ne"],
    "ENUM": ["eq", "ne", "in", "notIn"],
    "DATETIME": ["eq", "ne", "gt", "gte", "lt", "lte"],
}
SAMPLES: list[tuple[str, str, Any]] = [
    ("customerName", "STRING", "乙"),
    ("idNumber", "STRING", "11010519491231002X"),
    ("contactPhone", "STRING", "13812345678"),
    ("surveyNotes", "STRING", "第一行"),
    ("capacityKva", "DECIMAL", "100"),
    ("transformerKva", "DECIMAL", "800.0"),
    ("deposit", "DECIMAL", "0.50"),
    ("powerSourceCount", "DECIMAL", 2),
    ("requestedDate", "DECIMAL", "2026-03-02"),
    ("isImportant", "BOOLEAN", True),
    ("electricityCategory", "ENUM", "COMMERCIAL"),
    ("surveyedAt", "DATETIME", "2026-03-02T01:00:00Z"),
]


async def test_every_operator_on_every_item_type_reads_the_same(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    """Each item's operators, and isNull both ways; a refused one (hidden item) alike too."""
    refused = 0
    for user in ("admin", "sur"):
        for field, kind, value in SAMPLES:
            wheres: list[dict[str, Any]] = [{field: {"isNull": flag}} for flag in (True, False)]
            for operator in OPERATORS[kind]:
                given = [value] if operator in ("in", "notIn") else value
                wheres.append({field: {operator: given}})
            for where in wheres:
                variables = {"where": {"data": where}}
                compiled, resolved, _, _ = await both(api, LISTED, variables, user)
                assert compiled == resolved, f"{where} as {user}:\n{compiled!r}\n{resolved!r}"
                refused += b'"FORBIDDEN"' in compiled
    assert refused == 2 + len(OPERATORS["STRING"])  # idNumber is hidden from the surveyor


async def test_cases_of_an_older_version_read_the_same_after_a_new_one(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    """Version 2 drops an item and hides another: version 1's cases keep both, as before."""
    newer = copy.deepcopy(HV)
    newer["items"] = [
        {**u, "visibleTo": ["surveyor"]} if u["item"] == "contact_phone" else u
        for u in newer["items"]
        if u["item"] != "deposit"
    ]
    saved = (await api.data(SAVE_DRAFT, {"input": newer}))["saveBusinessTypeDraft"]
    assert saved["errors"] == [] and saved["problems"] == [], saved
    published = (await api.data(PUBLISH, {"code": "hv_new", "allow": True}))["publishBusinessType"]
    assert published["errors"] == [] and published["version"] == 2, published
    await api.refresh_schema()
    for user in CALLERS:
        for name, query, variables in QUERIES:
            await same(api, f"{name} after version 2", query, variables, user)
    admin = await same(api, "every field", QUERIES[0][1], {}, "admin")
    assert b'"businessTypeVersion":1' in admin and b'"deposit":"1200.00"' in admin
    acceptor = await same(api, "every field", QUERIES[0][1], {}, "acc")
    assert b"13812345678" not in acceptor  # version 2 hides it from acceptors, on every case
