"""A page of cases costs the same statements whatever its size: every Case field batches.

`customer` (with meters, contracts and the reader's cases of it), `tasks`, `fees`,
`currentStages` and `events` are each read through a per-request loader, so a page of 40
cases runs exactly as many SQL statements as a page of 5.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event

from database.session import Database
from tests.api.conftest import Api
from tests.api.test_customer_scope import archived_customer, create_for
from tests.api.test_fees import upsert_rule
from tests.api.test_scope_visibility import setup

PAGE = """query($first: Int!) { cases(first: $first) { nodes { number
  currentStages { code name }
  tasks { id status stage { code } post { code } assignee { username } }
  fees { code amount inputs }
  events { seq action data }
  customer { number name meters { assetNo } contracts { number } cases }
} } }"""


COUNTING: ContextVar[bool] = ContextVar("counting", default=False)
"""Set around the request: the tasks it starts inherit it, the app's schema poller does not."""


@contextmanager
def counted(api: Api) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs for requests made inside the block."""
    engine = api.app.state.services.db.engine.sync_engine
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if COUNTING.get():
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    token = COUNTING.set(True)
    try:
        yield statements
    finally:
        COUNTING.reset(token)
        event.remove(engine, "before_cursor_execute", before)


ACCEPTANCE_FEE = {
    "code": "acceptance",
    "name": "受理费",
    "businessTypes": ["lv_new"],
    "stage": "accept",
    "amount": "10",
}


async def statements_for(api: Api, first: int, user: str) -> int:
    with counted(api) as statements:
        found = await api.data(PAGE, {"first": first}, as_user=user)
    nodes = found["cases"]["nodes"]
    assert len(nodes) == first
    assert all(n["customer"] and n["tasks"] and n["fees"] and n["events"] for n in nodes)
    assert any("FROM meter" in s for s in statements)  # the request's statements are counted
    return len(statements)


async def test_statements_per_case_page_do_not_grow_with_its_size(api: Api, db: Database) -> None:
    await setup(api, db)
    assert (await upsert_rule(api, ACCEPTANCE_FEE))["errors"] == []
    customer, _ = await archived_customer(api, db)
    for _ in range(40):
        assert (await create_for(api, "acc_b1", "county_b1", customer))["errors"] == []
    for user in ("admin", "acc_b1"):
        await statements_for(api, 5, user)  # warm: the versions read once per process
        small = await statements_for(api, 5, user)
        large = await statements_for(api, 40, user)
        assert small == large, (user, small, large)
