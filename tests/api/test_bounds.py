"""Query bounds: depth, aliases, estimated cost and page size are refused before anything runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    Visitor,
    get_introspection_query,
    parse,
    visit,
)

from metamodel.snapshot import MetamodelSnapshot
from resolvers import policy
from resolvers.build import build_schema
from schema import limits
from schema import strawberry_compat as compat
from schema.generated import TypeFactory
from tests.api.conftest import Api
from tests.api.setup_metamodel import define_basics, publish_hv_new
from tests.api.test_auth import error_codes

CASE_PAGE = """{name}: cases(first: 200) {{ nodes {{ id number
  events {{ seq at actor action data hash }} currentStages {{ code name }} }} }}"""
"""Estimated at 1 + 200 * (1 + 2 + (1 + 10 * 6) + (1 + 10 * 2)) = 17,001 fields."""


def nested(depth: int, leaf: str = "code") -> str:
    """A selection `depth` levels deep (field names need not exist for the bound to count)."""
    inner = leaf
    for level in range(depth - 1, 0, -1):
        inner = f"level{level} {{ {inner} }}"
    return f"{{ posts {{ {inner} }} }}" if depth > 1 else f"{{ posts {{ {leaf} }} }}"


def messages(body: dict[str, Any]) -> list[str]:
    return [e["message"] for e in body.get("errors") or []]


async def test_a_query_deeper_than_the_limit_is_refused(api: Api) -> None:
    too_deep = await api.post(nested(limits.MAX_DEPTH + 1))
    assert too_deep["data"] is None
    assert f"the query is {limits.MAX_DEPTH + 1} levels deep; at most {limits.MAX_DEPTH}" in (
        messages(too_deep)
    ), too_deep
    at_limit = await api.post(nested(limits.MAX_DEPTH))
    assert not [m for m in messages(at_limit) if "levels deep" in m], at_limit


async def test_a_valid_query_through_a_cycle_deeper_than_the_limit_is_refused(api: Api) -> None:
    inner = "id"
    for level in range(limits.MAX_DEPTH):  # case -> tasks -> case -> ... 13 levels in all
        inner = f"{'tasks' if level % 2 else 'case'} {{ {inner} }}"
    body = await api.post(f'{{ case(id: "1") {{ {inner} }} }}')
    assert body["data"] is None
    found = messages(body)
    assert f"the query is {limits.MAX_DEPTH + 1} levels deep; at most {limits.MAX_DEPTH}" in found
    assert not [m for m in found if "Cannot query field" in m], found  # valid, only too deep


async def test_a_deep_mutation_is_refused_before_it_runs(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No type of the schema nests twelve levels, so a lower limit shows the refusal on a query
    # that would otherwise run and change something.
    monkeypatch.setattr(limits, "MAX_DEPTH", 3)
    mutation = """mutation { saveBusinessTypeDraft(input: {code: "too_deep", name: "深"}) {
      businessType { draft { timeLimit { amount } } } } }"""
    body = await api.post(mutation)
    assert body["data"] is None
    assert messages(body) == ["the query is 4 levels deep; at most 3"]
    monkeypatch.undo()
    assert (await api.data("{ businessTypes { code } }"))["businessTypes"] == []
    allowed = await api.data(mutation + " ")  # a new text: the refusal above is cached
    assert allowed["saveBusinessTypeDraft"]["businessType"]["draft"] == {"timeLimit": None}


async def test_too_many_aliases_are_refused_before_anything_runs(api: Api) -> None:
    over = limits.MAX_ALIASES + 1
    upserts = " ".join(
        f'p{i}: upsertPost(input: {{code: "post_{i}", name: "岗位{i}"}}) {{ post {{ code }} }}'
        for i in range(over)
    )
    body = await api.post(f"mutation {{ {upserts} }}")
    assert body["data"] is None
    assert messages(body) == [f"the query uses {over} aliases; at most {limits.MAX_ALIASES}"]
    assert (await api.data("{ posts { code } }"))["posts"] == []

    reads = " ".join(f"p{i}: posts {{ code }}" for i in range(limits.MAX_ALIASES))
    allowed = await api.data(f"{{ {reads} }}")
    assert len(allowed) == limits.MAX_ALIASES


async def test_aliased_introspection_counts_against_the_alias_limit(api: Api) -> None:
    aliases = " ".join(f"t{i}: __typename" for i in range(limits.MAX_ALIASES + 1))
    body = await api.post(f"{{ {aliases} }}", as_user=None)
    assert body["data"] is None, body
    assert messages(body) == [
        f"the query uses {limits.MAX_ALIASES + 1} aliases; at most {limits.MAX_ALIASES}"
    ]
    within = " ".join(f"t{i}: __typename" for i in range(limits.MAX_ALIASES))
    assert len(await api.data(f"{{ {within} }}", as_user=None)) == limits.MAX_ALIASES


async def test_a_query_costlier_than_the_limit_is_refused(api: Api) -> None:
    three = " ".join(CASE_PAGE.format(name=f"page{i}") for i in range(3))  # ~51,000
    body = await api.post(f"{{ {three} }}")
    assert body["data"] is None
    [message] = messages(body)
    assert message.startswith("the query may resolve about 51003 fields; at most 50000")
    assert limits.MAX_COST < 51003

    two = " ".join(CASE_PAGE.format(name=f"page{i}") for i in range(2))
    allowed = await api.data(f"{{ {two} }}")
    assert allowed == {"page0": {"nodes": []}, "page1": {"nodes": []}}
    # A page size given as a variable is counted as the largest page.
    variable = CASE_PAGE.format(name="page").replace("first: 200", "first: $n")
    priced = await api.post(
        f"query($n: Int) {{ {variable} again: cases(first: $n) {{ nodes {{ id }} }}"
        f" {CASE_PAGE.format(name='more')} {CASE_PAGE.format(name='most')} }}",
        {"n": 1},
    )
    assert priced["data"] is None and "at most 50000" in messages(priced)[0]


async def test_a_page_read_from_the_end_costs_what_one_read_from_the_start_does(api: Api) -> None:
    three = " ".join(
        CASE_PAGE.format(name=f"page{i}").replace("first: 200", "last: 200") for i in range(3)
    )
    body = await api.post(f"{{ {three} }}")
    assert body["data"] is None
    assert messages(body)[0].startswith("the query may resolve about 51003 fields; at most 50000")
    variable = CASE_PAGE.format(name="page").replace("first: 200", "first: 1, last: $n")
    priced = await api.post(
        f"query($n: Int) {{ {variable} {CASE_PAGE.format(name='more')}"
        f" {CASE_PAGE.format(name='most')} }}",
        {"n": 1},
    )
    assert priced["data"] is None and "at most 50000" in messages(priced)[0]


@pytest.mark.parametrize("first", [201, 1000, -1])
async def test_a_page_outside_0_to_200_is_refused(api: Api, first: int) -> None:
    await define_basics(api)
    await publish_hv_new(api)
    for field in ("cases", "hvNewCases"):
        body = await api.post(
            f"query($n: Int) {{ {field}(first: $n) {{ totalCount }} }}", {"n": first}
        )
        assert body["data"] is None, body
        assert error_codes(body) == ["VALIDATION"], body
        assert messages(body) == ["first must be between 0 and 200"], body
        ok = await api.data(f"{{ {field}(first: 200) {{ totalCount }} }}")
        assert ok[field]["totalCount"] == 0


def fragment_bomb(n: int, body: str) -> str:
    """`F_i` spreads `F_{i-1}` twice: expanded on every path, `F_n` holds 2^n copies of `body`."""
    parts = [f"fragment F0 on Query {{ {body} }}"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, n + 1)]
    return "\n".join([*parts, f"query {{ ...F{n} }}"])


def selections(document: str) -> int:
    """Every selection (field, fragment spread, inline fragment) written in a document."""
    found = 0

    class Count(Visitor):
        def enter(self, node: Node, *_args: Any) -> None:
            nonlocal found
            if isinstance(node, (FieldNode, FragmentSpreadNode, InlineFragmentNode)):
                found += 1

    visit(parse(document), Count())
    return found


def test_measuring_a_document_is_linear_in_its_size() -> None:
    schema = build_schema(MetamodelSnapshot(revision=0, types=(), items={}), TypeFactory())
    for n in (10, 40, 80):
        document = fragment_bomb(n, "me { username }")
        parsed = parse(document)
        fragments = {
            d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
        }
        [operation] = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        measurer = limits.Measurer(compat.graphql_schema(schema), fragments)
        measured = measurer.selection_set(
            operation.selection_set, compat.graphql_schema(schema).query_type
        )
        assert measured.cost == 2**n * 2  # every copy counted: me and its username
        assert measured.depth == 1
        assert measurer.visited <= selections(document)
        found = list(policy.root_fields(operation.selection_set, fragments))
        assert found == ["me"]


@pytest.mark.parametrize("n", [20, 39, 100])
async def test_an_anonymous_fragment_bomb_is_refused_at_once(api: Api, n: int) -> None:
    body = await api.post(fragment_bomb(n, "me { username }"), as_user=None)
    assert body["data"] is None
    [message] = messages(body)
    assert message.startswith(f"the query may resolve about {2**n * 2} fields; at most")
    # Free fields repeated 2^n times still answer once (the executor merges fragments).
    typename = await api.post(fragment_bomb(n, "__typename"), as_user=None)
    assert typename == {"data": {"__typename": "Query"}}
    # A root field the caller may not use is refused, however many times it is spread.
    denied = await api.post(fragment_bomb(n, "users { username }"), as_user=None)
    assert denied["data"] is None
    assert error_codes(denied) in (["UNAUTHENTICATED"], ["GRAPHQL_VALIDATION_FAILED"]), denied


async def test_a_document_of_too_many_tokens_is_refused_before_it_is_parsed(api: Api) -> None:
    fields = " ".join(f"f{i}: __typename" for i in range(4_000))  # 66 kB, 12k tokens
    body = await api.post(f"{{ {fields} }}", as_user=None)
    assert body["data"] is None
    [message] = messages(body)
    assert f"more than {limits.MAX_TOKENS} tokens" in message, message


async def test_a_document_over_the_length_limit_is_refused_whatever_its_tokens(api: Api) -> None:
    fields = " ".join(f"f{i}: __typename" for i in range(30_000))  # 0.5 MB, 90k tokens
    body = await api.post(f"{{ {fields} }}", as_user=None)
    assert body["data"] is None
    [message] = messages(body)
    assert f"at most {limits.MAX_DOCUMENT_LENGTH}" in message, message


async def test_introspection_nesting_is_bounded_and_graphiql_s_query_is_answered(
    api: Api,
) -> None:
    deep = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    body = await api.post(deep, as_user=None)
    assert body["data"] is None
    assert messages(body) == ["Maximum introspection depth exceeded"]
    full = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    answered = await api.data(full, as_user=None)
    assert answered["__schema"]["queryType"]["name"] == "Query"
    many = " ".join(f"s{i}: __schema {{ queryType {{ name }} }}" for i in range(11))
    priced = await api.post(f"{{ {many} }}", as_user=None)
    assert priced["data"] is None
    assert messages(priced)[0].startswith("the query may resolve about 55000 fields")


async def test_a_chain_of_fragments_too_long_to_validate_is_a_clean_refusal(api: Api) -> None:
    response = await api.client.post(
        "/graphql", json={"query": fragment_bomb(700, "me { username }")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    assert messages(body), body


async def test_a_body_over_the_limit_is_refused_before_it_is_parsed(api: Api) -> None:
    limit = api.app.state.services.settings.max_body_bytes
    padding = " " * limit
    declared = await api.client.post(
        "/graphql",
        content=json.dumps({"query": "{ __typename }" + padding}),
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413
    assert declared.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: read until over the limit
        yield b'{"query": "{ __typename }'
        for _ in range(limit // 65_536 + 2):
            yield b" " * 65_536
        yield b'"}'

    streamed = await api.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert "larger than" in streamed.json()["errors"][0]["message"]

    within = await api.client.post(
        "/graphql",
        content=json.dumps({"query": "{ __typename }" + " " * 1000}),
        headers={"content-type": "application/json"},
    )
    assert within.json() == {"data": {"__typename": "Query"}}
