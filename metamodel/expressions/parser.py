"""Source text to a Python AST, within the bounds that keep compiling and evaluating cheap."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Final

from metamodel.expressions.types import ExpressionError

MAX_SOURCE_LENGTH: Final = 2000
"""Longest accepted source, in characters."""

MAX_NODES: Final = 500
"""Most AST nodes (expressions and their parts, not operator tokens) in one expression."""

MAX_DEPTH: Final = 100
"""Deepest nesting of AST nodes, which bounds the recursion of compiling and evaluating."""

_TOKEN_NODES: Final = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_NEWLINE: Final = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed source: its AST, the stripped text it was parsed from, and that text's offset."""

    body: ast.expr
    text: str
    shift: int


def parse(source: str) -> Parsed:
    """Parse `source` within the bounds; raise ExpressionError for syntax and size problems."""
    if len(source) > MAX_SOURCE_LENGTH:
        message = f"expression is too long ({len(source)} characters, at most {MAX_SOURCE_LENGTH})"
        raise ExpressionError(message, MAX_SOURCE_LENGTH)
    # Leading and trailing blank lines and indents (a YAML block, a pasted formula) are not
    # part of the expression; Python's parser would take the indent for a block.
    text = source.lstrip().rstrip()
    shift = len(source) - len(source.lstrip())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            f"syntax error: {exc.msg}", _syntax_position(text, exc, shift)
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # pragma: no cover - parser limits
        raise ExpressionError(f"syntax error: {exc}", None) from None
    size_error = _size_error(tree.body)
    if size_error is not None:
        raise ExpressionError(size_error, shift)
    return Parsed(tree.body, text, shift)


def _syntax_position(text: str, exc: SyntaxError, shift: int) -> int | None:
    if not exc.lineno:
        return shift if text.strip() else None
    starts = line_starts(text)
    if exc.lineno > len(starts):
        return len(text) + shift
    offset = max((exc.offset or 1) - 1, 0)
    return min(starts[exc.lineno - 1] + offset, len(text)) + shift


def line_starts(text: str) -> list[int]:
    """The offset of each line's first character, for turning AST positions into offsets."""
    return [0, *(match.end() for match in _NEWLINE.finditer(text))]


def _size_error(body: ast.expr) -> str | None:
    count = deepest = 0
    stack: list[tuple[ast.AST, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        if count > MAX_NODES:
            return f"expression is too complex (more than {MAX_NODES} parts)"
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, _TOKEN_NODES)
        )
    if deepest > MAX_DEPTH:
        return f"expression is nested too deeply (more than {MAX_DEPTH} levels)"
    return None
