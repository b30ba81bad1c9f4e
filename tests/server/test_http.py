"""GraphQL over HTTP through the ASGI app: malformed bodies, media types, status codes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLError, Lexer, Source, TokenKind
from graphql.language import parser as graphql_parser

from schema import limits
from server.graphql_http import GRAPHQL_RESPONSE, JSON, negotiate
from tests.api.conftest import Api

DEEP_VARIABLES = (
    '{"query":"query($v: JSON){ __typename }","variables":{"v":'
    + "[" * 100_000
    + "]" * 100_000
    + "}}"
).encode()
DEEP_WHERE = "{ cases(where: " + "{and: [" * 5000 + "{}" + "]}" * 5000 + ") { totalCount } }"
BIG = "9" * 5000
MALFORMED: dict[str, bytes] = {
    "null": b"null",
    "a bare string": b'"{ __typename }"',
    "a number": b"3",
    "an array": b'[{"query": "{ __typename }"}]',
    "variables nested 100,000 deep": DEEP_VARIABLES,
    "a 5,000-digit integer variable": (
        '{"query":"query($n: Int){ cases(first: $n) { totalCount } }","variables":{"n":'
        + BIG
        + "}}"
    ).encode(),
    "invalid UTF-8": b'{"query":"{ __typename }\xff\xfe"}',
    "not JSON": b"{query",
    "an empty body": b"",
    "query not a string": b'{"query": 3}',
    "variables not an object": b'{"query": "{ __typename }", "variables": [1]}',
}
BAD_DOCUMENTS: dict[str, str] = {
    "a where nested 5,000 deep": DEEP_WHERE,
    "a 5,000-digit integer literal": "{ cases(first: " + BIG + ") { totalCount } }",
    "a syntax error": "{",
    "an unknown field": "{ nonsense }",
}


@pytest.fixture
async def raw(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees the app's 500s as responses (the default client would raise)."""
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def assert_graphql_error(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert "Traceback" not in response.text
    assert body["errors"] and all(e["message"] for e in body["errors"]), body
    assert all(e["extensions"]["code"] for e in body["errors"]), body
    errors: list[dict[str, Any]] = body["errors"]
    return errors


@pytest.mark.parametrize("name", list(MALFORMED))
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_a_malformed_body_is_400_with_a_graphql_error(
    raw: httpx.AsyncClient, name: str, accept: str
) -> None:
    response = await raw.post(
        "/graphql",
        content=MALFORMED[name],
        headers={"content-type": "application/json", "accept": accept},
    )
    [error] = assert_graphql_error(response, 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert response.headers["content-type"].startswith("application/")


@pytest.mark.parametrize("name", list(BAD_DOCUMENTS))
async def test_a_bad_document_is_400_under_graphql_response_json_and_200_under_json(
    raw: httpx.AsyncClient, name: str
) -> None:
    body = json.dumps({"query": BAD_DOCUMENTS[name]})
    headers = {"content-type": "application/json"}
    strict = await raw.post(
        "/graphql", content=body, headers={**headers, "accept": GRAPHQL_RESPONSE}
    )
    assert_graphql_error(strict, 400)
    assert strict.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert "data" not in strict.json()  # nothing executed: no data entry
    legacy = await raw.post("/graphql", content=body, headers={**headers, "accept": JSON})
    assert_graphql_error(legacy, 200)
    assert legacy.headers["content-type"] == f"{JSON}; charset=utf-8"


async def test_a_request_that_ran_is_200_under_either_media_type(api: Api) -> None:
    token = await api.token("admin")
    for accept in (JSON, GRAPHQL_RESPONSE):
        response = await api.client.post(
            "/graphql",
            json={"query": "{ me { username } }"},
            headers={"accept": accept, "authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(accept)
        assert response.json() == {"data": {"me": {"username": "admin"}}}


async def test_several_operations_without_an_operation_name_are_refused(api: Api) -> None:
    token = await api.token("admin")
    document = "query A { me { username } } query B { __typename }"
    for accept, status in ((JSON, 200), (GRAPHQL_RESPONSE, 400)):
        response = await api.client.post(
            "/graphql",
            json={"query": document},
            headers={"accept": accept, "authorization": f"Bearer {token}"},
        )
        errors = assert_graphql_error(response, status)
        assert "operation" in errors[0]["message"].lower()
        assert response.json().get("data") is None
    named = await api.data(document.replace(" query B { __typename }", ""))
    assert named == {"me": {"username": "admin"}}


async def test_an_unsupported_content_type_or_accept_is_refused_as_json(
    raw: httpx.AsyncClient,
) -> None:
    body = json.dumps({"query": "{ __typename }"})
    response = await raw.post("/graphql", content=body, headers={"content-type": "text/plain"})
    assert assert_graphql_error(response, 415)[0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    response = await raw.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "accept": "text/html"},
    )
    assert assert_graphql_error(response, 406)[0]["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_a_query_on_get_is_refused_as_json(raw: httpx.AsyncClient) -> None:
    response = await raw.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"accept": JSON}
    )
    assert response.status_code in (400, 405)
    assert_graphql_error(response, response.status_code)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE}, */*;q=0.8", GRAPHQL_RESPONSE),
        (f"{JSON}, */*", JSON),
        ("text/html", None),
        (f"{JSON};q=0", None),
    ],
)
def test_negotiate_prefers_graphql_response_json_when_named_and_equal(
    accept: str | None, chosen: str | None
) -> None:
    assert negotiate(accept) == chosen


PRE_PARSE_REFUSALS: dict[str, tuple[str, str]] = {
    "a document longer than the limit": (
        "{ __typename }" + " " * limits.MAX_DOCUMENT_LENGTH,
        "DOCUMENT_TOO_LARGE",
    ),
    "more tokens than the limit": (
        "{ " + "a " * limits.MAX_TOKENS + "}",
        "GRAPHQL_PARSE_FAILED",
    ),
}


@pytest.mark.parametrize("name", PRE_PARSE_REFUSALS)
async def test_a_document_over_a_limit_is_refused_before_graphql_parses_it(
    raw: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    document, code = PRE_PARSE_REFUSALS[name]

    def parser_reached(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("graphql's parser ran on a document over a limit")

    monkeypatch.setattr(graphql_parser.Parser, "__init__", parser_reached)
    legacy = await raw.post("/graphql", json={"query": document}, headers={"Accept": JSON})
    [error] = assert_graphql_error(legacy, 200)
    assert legacy.json()["data"] is None
    assert error["extensions"]["code"] == code
    strict = await raw.post(
        "/graphql", json={"query": document}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    [error] = assert_graphql_error(strict, 400)
    assert "data" not in strict.json() and error["extensions"]["code"] == code


@pytest.mark.parametrize(
    ("document", "tokens"),
    [
        ("{ a b c }", 5),
        ('query Q($x: Int = -1.5e3) { a(s: "x { } \\" y") ...F } # c { { {', 20),
        ('fragment F on Q { a(b: """x \\""" } """) }', 12),
        ("{ a, b,,, c }", 5),
        ('{ a(s: "unterminated { {\n) b }', 9),
    ],
)
def test_the_pre_parse_count_agrees_with_graphql_s_lexer(document: str, tokens: int) -> None:
    lexer = Lexer(Source(document))
    counted = 0
    with contextlib.suppress(GraphQLError):  # the unterminated string: graphql stops there
        while lexer.advance().kind != TokenKind.EOF:
            counted += 1
    assert counted in (tokens, 5)  # graphql gives up at the unterminated string's line
    padding = "a " * (limits.MAX_TOKENS - tokens)
    assert limits.document_refusal(padding + document) is None
    assert limits.document_refusal("a " + padding + document) is not None
