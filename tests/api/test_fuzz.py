"""schemathesis over the schema generated from the standard catalogue, as an administrator and as
STAFF: no request may end in a server error or in the masked "Unexpected error".

schemathesis (GraphQL mode) generates documents for every root field from the live schema's
introspection; the custom scalars get strategies that mix valid values with the hostile ones
(NaN, huge exponents, naive and out-of-range date-times, NUL). Generation is derandomized, so a
run is reproducible; `YEKUO_FUZZ_EXAMPLES` documents per root field (default 4) keeps a run
within about a minute per database on the 2-core machine. The documents are sent in-process
through the ASGI app, one after the other, so mutations (the administrator's included) change
the database as they would in production.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.graphql import nodes

from database.session import Database
from metamodel import naming
from resolvers.build import MASKED_MESSAGE
from tests.api.catalogue_walking import ITEMS, RESPONSIBLE, Walk, catalogue_app, user_of

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("YEKUO_FUZZ_EXAMPLES", "4"))
STAFF = user_of(RESPONSIBLE["acceptance_signing"])

HOSTILE_NUMBERS = ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999999", "-0", "1e-999999999"]
HOSTILE_MOMENTS = [
    "2026-03-02T09:00:00",
    "0001-01-01T00:00:00+08:00",
    "9999-12-31T23:00:00-08:00",
    "123456-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
]
HOSTILE_DATES = ["0001-01-01", "9999-12-31", "123456-01-01", "2026-02-30", "2026-3-2"]
FIELD_NAMES = sorted(naming.camel(code) for code in ITEMS)


def _object(pairs: dict[str, graphql.ValueNode]) -> graphql.ValueNode:
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=value)
            for key, value in pairs.items()
        ]
    )


def register_scalars() -> None:
    """Strategies for our scalars: mostly valid values, with the hostile ones mixed in."""
    decimals = st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
        st.sampled_from(HOSTILE_NUMBERS),
    )
    schemathesis.graphql.scalar(
        "Decimal", st.one_of(decimals.map(nodes.String), st.integers().map(nodes.Int))
    )
    schemathesis.graphql.scalar(
        "Date",
        st.one_of(st.dates().map(str), st.sampled_from(HOSTILE_DATES)).map(nodes.String),
    )
    moments = st.datetimes(timezones=st.timezones()).map(lambda m: m.isoformat())
    schemathesis.graphql.scalar(
        "DateTime", st.one_of(moments, st.sampled_from(HOSTILE_MOMENTS)).map(nodes.String)
    )
    leaves = st.one_of(
        st.text(max_size=20).map(nodes.String),
        st.integers().map(nodes.Int),
        decimals.map(nodes.String),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Null),
    )
    names = st.one_of(
        st.sampled_from(FIELD_NAMES), st.from_regex(r"[a-z][a-zA-Z0-9]{0,10}", fullmatch=True)
    )
    schemathesis.graphql.scalar(
        "JSON",
        st.recursive(
            leaves,
            lambda inner: st.one_of(
                st.lists(inner, max_size=4).map(nodes.List),
                st.dictionaries(names, inner, max_size=5).map(_object),
            ),
            max_leaves=12,
        ),
    )


def generate(introspection: dict[str, Any], examples: int) -> list[tuple[str, str]]:
    """(root field, document) pairs, `examples` per root field, the same on every run."""
    register_scalars()
    schema = schemathesis.graphql.from_dict(introspection)
    found: list[tuple[str, str]] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise AssertionError(f"schemathesis cannot read an operation: {result.err()}")
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def collect(case: Any) -> None:
            found.append((case.operation.label, case.body))

        collect()
    return found


@pytest.fixture(scope="module")
async def walk(
    database: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Walk]:
    async with catalogue_app(database, database_url, tmp_path_factory.mktemp("fuzz")) as app:
        yield app


@pytest.fixture(scope="module")
async def documents(walk: Walk) -> list[tuple[str, str]]:
    """The documents both callers send, generated once from the catalogue's live schema."""
    introspection = await walk.api.data(graphql.get_introspection_query())
    found = await asyncio.to_thread(generate, introspection, EXAMPLES)
    assert len({label for label, _ in found}) > 100  # every root field of the catalogue
    return found


@pytest.mark.parametrize("user", ["admin", STAFF])
async def test_generated_documents_never_fail_the_server(
    walk: Walk, documents: list[tuple[str, str]], user: str
) -> None:
    api = walk.api
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {await api.token(user)}"}
    failures: list[str] = []
    for label, document in documents:
        try:
            response = await api.client.post("/graphql", json={"query": document}, headers=headers)
        except Exception as error:  # the ASGI transport re-raises what escaped the app
            failures.append(f"{label}: {type(error).__name__}: {error}\n{document}")
            continue
        if response.status_code >= 500 or MASKED_MESSAGE in response.text:
            failures.append(f"{label}: {response.status_code} {response.text[:300]}\n{document}")
    print(f"{len(documents)} documents as {user} in {time.monotonic() - started:.1f} s")
    assert failures == [], "\n\n".join(failures[:10])
    assert (await api.client.get("/healthz")).status_code == 200


async def test_generated_documents_reach_the_resolvers(
    walk: Walk, documents: list[tuple[str, str]]
) -> None:
    """The generator writes documents the schema accepts, not only ones it refuses."""
    headers = {"Authorization": f"Bearer {await walk.api.token('admin')}"}
    answered = 0
    for _, document in [d for d in documents if d[0] == "Query.posts"]:
        response = await walk.api.client.post("/graphql", json={"query": document}, headers=headers)
        body = response.json()
        answered += body.get("errors") is None and bool(body["data"]["posts"])
    assert answered > 0
