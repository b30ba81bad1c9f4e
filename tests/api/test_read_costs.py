"""A read request costs one statement for its caller and the stamps, then one for its data.

The caller behind a token is kept per process until a user, a post holding or an org unit
changes (triggers move the revision the request reads anyway); the request's reads share one
connection; a connection the database dropped is replaced and the request run once more.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from database.session import Database
from tests.api.conftest import Api
from tests.api.test_list_statements import COUNTING, counted
from tests.api.test_scope_visibility import open_case, setup
from tests.conftest import backend

LIST = """{ lvNewCases(first: 50, where: {status: {eq: IN_PROGRESS}}, orderBy: [{createdAt: DESC}])
  { nodes { id number createdAt status data { customerName } } } }"""
ONE = """query($id: ID!) { case(id: $id) { id number status ... on LvNewCase {
  data { customerName } } } }"""
ONE_WITH_LISTS = """query($id: ID!) { case(id: $id) { number
  tasks { id status } fees { code } } }"""
ONE_COMPILED_LISTS = """query($id: ID!) { case(id: $id) { number
  tasks { id status } currentStages { code } deadlines { kind dueAt } } }"""
ME = "{ me { username posts } }"
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


def data_statements(statements: list[str]) -> list[str]:
    """The statements that read or write (SQLite's BEGIN per read is not a round trip)."""
    return [s for s in statements if not s.lstrip().upper().startswith(TRANSACTION_CONTROL)]


async def cost(api: Api, query: str, variables: dict[str, Any], user: str) -> list[str]:
    await api.data(query, variables, as_user=user)  # warm: the caller and reference are read
    with counted(api) as statements:
        await api.data(query, variables, as_user=user)
    return data_statements(statements)


@contextmanager
def checkouts(api: Api) -> Iterator[list[int]]:
    """How many times the app's pool hands out a connection inside the block."""
    pool = api.app.state.services.db.engine.sync_engine.pool
    seen: list[int] = []

    def checkout(*_: Any) -> None:
        if COUNTING.get():  # the request's, not the schema poller's
            seen.append(1)

    event.listen(pool, "checkout", checkout)
    token = COUNTING.set(True)
    try:
        yield seen
    finally:
        COUNTING.reset(token)
        event.remove(pool, "checkout", checkout)


async def test_a_page_and_a_case_cost_one_statement_for_every_role(api: Api, db: Database) -> None:
    """A list or a case answered by the compiler: its statement carries the caller's stamps too.

    Once the document is known to compile (`resolvers.fast_lane`), the caller comes from the
    cache and the page's own statement reads the stamps it must still be current at.
    """
    await setup(api, db)
    case = await open_case(api, "acc_a1", "county_a1", "张三")
    for user in ("admin", "acc_a1", "mgr_a"):
        page = await cost(api, LIST, {}, user)
        assert len(page) == 1, (user, page)
        assert "metadata_revision" in page[0] and '"case"' in page[0]
        one = await cost(api, ONE, {"id": case["id"]}, user)
        assert len(one) == 1, (user, one)
    # The total is counted only when asked for, in the page's own statement.
    assert "count(" not in page[0].lower()
    counted_too = await cost(api, LIST.replace("{ nodes", "{ totalCount nodes"), {}, "mgr_a")
    assert len(counted_too) == 1 and "count(" in counted_too[0].lower(), counted_too
    # The compiled path writes tasks, stages and deadlines inside the case's statement.
    compiled = await cost(api, ONE_COMPILED_LISTS, {"id": case["id"]}, "acc_a1")
    assert len(compiled) == 1 and "task" in compiled[0], compiled
    # On the resolver path (fees are not compiled): the stamps, the case, one per nested list.
    nested = await cost(api, ONE_WITH_LISTS, {"id": case["id"]}, "acc_a1")
    assert len(nested) == 4, nested


async def test_a_request_reads_through_one_connection(api: Api, db: Database) -> None:
    await setup(api, db)
    case = await open_case(api, "acc_a1", "county_a1", "张三")
    await api.data(ONE_WITH_LISTS, {"id": case["id"]}, as_user="acc_a1")
    with checkouts(api) as seen:
        found = await api.data(ONE_WITH_LISTS, {"id": case["id"]}, as_user="acc_a1")
    assert found["case"]["tasks"]
    assert len(seen) == 1


async def test_the_caller_is_read_again_only_after_people_change(api: Api, db: Database) -> None:
    await setup(api, db)
    assert (await api.data(ME, as_user="acc_a1"))["me"]["posts"] == ["acceptor"]
    with counted(api) as statements:
        await api.data(ME, as_user="acc_a1")
    assert not any("app_user" in s for s in statements)  # known: no user statement
    # A hand-written change, behind the API's back: the trigger moves the revision all the same.
    async with db.transaction() as session:
        await session.execute(
            text(
                "DELETE FROM user_post WHERE user_id = "
                "(SELECT id FROM app_user WHERE username = 'acc_a1')"
            )
        )
    with counted(api) as statements:
        assert (await api.data(ME, as_user="acc_a1"))["me"]["posts"] == []
    assert len([s for s in statements if "app_user" in s]) == 1
    async with db.transaction() as session:
        await session.execute(text("UPDATE app_user SET disabled = true WHERE username = 'acc_a1'"))
    body = await api.post(ME, as_user="acc_a1")  # the token holds no longer
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_responses_are_compact_utf8(api: Api, db: Database) -> None:
    await setup(api, db)
    await open_case(api, "acc_a1", "county_a1", "张三")
    token = await api.token("admin")
    response = await api.client.post(
        "/graphql",
        json={"query": "{ cases { nodes { businessType { name } } } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert "低压新装".encode() in response.content
    assert b"\\u" not in response.content and b": " not in response.content
    assert json.loads(response.content)["data"]["cases"]["nodes"][0]["businessType"]["name"] == (
        "低压新装"
    )


@pytest.mark.skipif(backend() != "postgresql", reason="a server that drops connections")
async def test_a_dropped_connection_is_replaced_and_the_read_run_again(
    api: Api, db: Database
) -> None:
    await setup(api, db)
    case = await open_case(api, "acc_a1", "county_a1", "张三")
    await api.data(ONE, {"id": case["id"]}, as_user="acc_a1")
    async with db.one_statement() as session:  # as a restart would: every other backend goes
        await session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await db.engine.dispose()
    body = await api.post(ONE, {"id": case["id"]}, as_user="acc_a1")
    assert "errors" not in body, body
    assert body["data"]["case"]["number"] == case["number"]
