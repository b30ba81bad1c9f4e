"""The compiled fast lane: a document known to compile skips the engine and answers the same.

It must answer the very bytes the usual path would for every caller and variables, and hand
back to the usual path whatever it would not answer the same way (a refusal, an error, an
anonymous caller, a document whose fields no longer compile).
"""

from __future__ import annotations

from typing import Any

import pytest

from database.session import Database
from resolvers.fast_lane import FastLane
from tests.api.compiled_corpus import CALLERS, LISTED, ONE, QUERIES, load
from tests.api.conftest import Api, Clock
from tests.api.test_compiled_queries import both
from tests.api.test_list_statements import counted
from tests.api.test_read_costs import data_statements


def lane(api: Api) -> FastLane:
    """The app's fast lane."""
    found = api.app.state.services.fast_lane
    assert isinstance(found, FastLane)
    return found


@pytest.fixture
async def loaded(api: Api, db: Database, clock: Clock) -> list[dict[str, Any]]:
    return await load(api, db, clock)


async def _body(api: Api, query: str, variables: dict[str, Any], user: str | None) -> bytes:
    headers = {"Authorization": f"Bearer {await api.token(user)}"} if user else {}
    response = await api.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.content


async def test_a_known_document_takes_the_lane_and_answers_the_same_bytes(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    fast = lane(api)
    for user in CALLERS:
        for name, query, variables in QUERIES:
            first = await _body(api, query, variables, user)  # learnt here
            taken = fast.answered
            again = await _body(api, query, variables, user)
            assert fast.answered == taken + 1, f"{name} as {user} did not take the lane"
            assert again == first, f"{name} as {user}"
            compiled, resolved, _, _ = await both(api, query, variables, user)
            assert again == resolved == compiled
    metrics = (await api.client.get("/metrics")).text
    counted = [line for line in metrics.splitlines() if line.startswith("yekuo_graphql_fast_lane")]
    assert any(line.split()[-1] == f"{float(fast.answered)}" for line in counted), counted
    for case in loaded:  # one document, the case by its variable
        for user in CALLERS:
            body = await _body(api, ONE, {"id": case["id"]}, user)
            _, resolved, _, _ = await both(api, ONE, {"id": case["id"]}, user)
            assert body == resolved


async def test_what_the_lane_would_not_answer_alike_goes_the_usual_way(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    fast = lane(api)
    await _body(api, LISTED, {"first": 2}, "admin")
    assert fast.knows_any()
    taken = fast.answered
    # Anonymous: refused by the usual path, as always.
    refused = await _body(api, LISTED, {"first": 2}, None)
    assert b'"UNAUTHENTICATED"' in refused or b'"FORBIDDEN"' in refused, refused
    # A variable of the wrong type, a page too large, a filter on a hidden item, a bad cursor.
    cases: list[tuple[dict[str, Any], str, bytes]] = [
        ({"first": "two"}, "admin", b"Int cannot represent"),
        ({"first": 500}, "admin", b"VALIDATION"),
        ({"where": {"data": {"idNumber": {"isNull": False}}}}, "sur", b"FORBIDDEN"),
        ({"after": "not-a-cursor"}, "admin", b"VALIDATION"),
    ]
    for variables, user, code in cases:
        body = await _body(api, LISTED, variables, user)
        assert code in body, (variables, body)
        _, resolved, _, _ = await both(api, LISTED, variables, user)
        assert body == resolved
    assert fast.answered == taken  # none of these was answered by the lane
    # A string variable holding NUL is refused before anything runs, lane or not.
    nul: dict[str, Any] = {"where": {"data": {"customerName": {"eq": "甲\x00乙"}}}}
    body = await _body(api, LISTED, nul, "admin")
    assert b'"errors"' in body and fast.answered == taken
    _, resolved, _, _ = await both(api, LISTED, nul, "admin")
    assert body == resolved


USER = """mutation($input: UpsertUserInput!) { upsertUser(input: $input) {
  errors { code message } } }"""
NUMBERS = "{ hvNewCases(orderBy: [{number: ASC}]) { nodes { number data { idNumber } } } }"


async def test_the_lane_reads_its_caller_and_page_in_one_statement(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    await _body(api, NUMBERS, {}, "acc")  # learnt, and the caller read
    with counted(api) as statements:
        body = await _body(api, NUMBERS, {}, "acc")
    assert b'"errors"' not in body
    sent = data_statements(statements)
    assert len(sent) == 1 and "metadata_revision" in sent[0] and '"case"' in sent[0], sent
    empty = '{ hvNewCases(where: {number: {eq: "none"}}) { nodes { number } } }'
    await _body(api, empty, {}, "acc")
    with counted(api) as statements:
        assert await _body(api, empty, {}, "acc") == b'{"data":{"hvNewCases":{"nodes":[]}}}'
    assert len(data_statements(statements)) == 2  # no row carried the stamps: read them


async def test_a_caller_changed_since_is_read_again_before_the_lane_answers(
    api: Api, loaded: list[dict[str, Any]]
) -> None:
    fast = lane(api)
    before = await _body(api, NUMBERS, {}, "acc")
    assert b"11010519491231002X" in before  # an acceptor reads idNumber
    await _body(api, NUMBERS, {}, "acc")
    taken = fast.answered
    # The acceptor becomes a surveyor: idNumber is hidden from them now, at once.
    moved = {"username": "acc", "name": "Acc", "roles": ["STAFF"], "posts": ["surveyor"]}
    moved["orgUnit"] = "county"
    assert (await api.data(USER, {"input": moved}))["upsertUser"]["errors"] == []
    after = await _body(api, NUMBERS, {}, "acc")
    assert fast.answered == taken  # the stamps moved: the usual path read the caller again
    assert b"11010519491231002X" not in after and b'"idNumber":null' in after
    _, resolved, _, _ = await both(api, NUMBERS, {}, "acc")
    assert after == resolved
    # Disabled: refused, not answered from what the lane knew.
    gone = {**moved, "disabled": True}
    assert (await api.data(USER, {"input": gone}))["upsertUser"]["errors"] == []
    taken = fast.answered
    refused = await _body(api, NUMBERS, {}, "acc")
    assert b'"errors"' in refused and b"hvNewCases" in refused and b"nodes" not in refused
    assert fast.answered == taken
