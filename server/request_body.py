"""The request body of /graphql: a bounded JSON object of GraphQL's parameters, or BadRequest.

Its nesting and the length of its numbers are checked before anything recursive (the JSON
parser, variable coercion) runs, so no body can make the parser recurse or build huge
integers; anything that is not a JSON object of the right shape is 400 before the GraphQL
layer sees it.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a request body may have (variables are shallow)."""
MAX_NUMBER_DIGITS = 100
"""Longest integer a request body may hold: longer ones are no value of any type here (Int is
32-bit, ids 19 digits, Decimal travels as a string); shorter ones get a typed coercion error."""
# A string, or an unterminated one up to the end: every match ends at a quote or at the end,
# so the scan is linear whatever the body holds (a string that could fail to match would be
# rescanned from each later quote).
_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class BadRequest(Exception):
    """A request the server answers with an error status before running anything."""

    def __init__(self, message: str, *, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


def parse_body(body: bytes) -> dict[str, Any]:
    """The request's parameters, or BadRequest; bounded before anything recursive runs."""
    if not body.strip():
        raise BadRequest("the request body is empty; send a JSON object with `query`")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the request body is not UTF-8 (byte {error.start})") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise BadRequest(f"the request body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except ValueError as error:  # JSONDecodeError, or a number refused below
        message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise BadRequest(f"the request body is not valid JSON: {message}") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object with `query`")
    query, variables = data.get("query"), data.get("variables")
    name, extensions = data.get("operationName"), data.get("extensions")
    persisted = isinstance(extensions, dict) and "persistedQuery" in extensions
    if not isinstance(query, str) and not (persisted and query is None):
        raise BadRequest("`query` must be a string holding a GraphQL document")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("`variables` must be an object or null")
    if name is not None and not isinstance(name, str):
        raise BadRequest("`operationName` must be a string or null")
    if extensions is not None and not isinstance(extensions, dict):
        raise BadRequest("`extensions` must be an object or null")
    return data


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text (strings skipped); stops early."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                break
        else:
            depth -= 1
    return deepest


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ValueError(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    return int(digits)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
