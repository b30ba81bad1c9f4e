"""docs/expressions.md stays true: its examples run as shown, every function has a section, its
item table matches the shipped dictionary, and it quotes every shipped condition and formula.

The format the document explains in "Reading the examples": inside a fenced block tagged
``expr`` (``expr condition`` / ``expr amount`` when the example is one), a line
``# with: a = 1, b = "KV10"`` gives the item values for the lines after it (items not named are
missing), ``source  # => result`` is an expression and what it evaluates to, and
``source  # error: message`` the one message it is refused with (when checked, else when
evaluated). Lines without a marker continue the expression on the next marked line; other
``#`` lines are remarks.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

import metamodel
from metamodel import datatypes, yaml_io
from metamodel.expressions import checker, functions, parser, runtime, types
from metamodel.specs import DataItemSpec, EnumOption, ItemType

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "expressions.md"
CATALOGUE = Path(metamodel.__file__).resolve().parent / "catalogue"
BUNDLE = yaml_io.merge(
    yaml_io.load(p.read_text(encoding="utf-8")) for p in sorted(CATALOGUE.rglob("*.yaml"))
)
DICTIONARY = {item.code: item for item in BUNDLE.items}

EXPECTED = {"condition": types.ExprType.BOOLEAN, "amount": types.ExprType.NUMBER}
RESULT = "# =>"
ERROR = "# error:"
WITH = "# with:"
FENCE = re.compile(r"^```(\S*)\s*(.*)$")
ITEMS_HEADING = re.compile(r"^#{2,4} .*items the examples use", re.IGNORECASE)
FUNCTION_HEADING = re.compile(r"^### `(\w+)\(")
EXAMPLE_ONLY = "example only"


class DocFormatError(Exception):
    """The document does not follow its own example format."""


@dataclass(frozen=True)
class Example:
    """One documented expression: where it is, its inputs and the documented outcome."""

    line: int
    kind: str | None
    source: str
    values: Mapping[str, object]
    result: str | None = None
    error: str | None = None

    def __str__(self) -> str:
        flat = " ".join(self.source.split())
        return f"line {self.line}: {flat if len(flat) <= 60 else flat[:57] + '...'}"


@dataclass
class Doc:
    """The parts of the document the tests read."""

    items: dict[str, DataItemSpec]
    example_only: set[str]
    examples: list[Example] = field(default_factory=list)
    function_sections: dict[str, tuple[int, int]] = field(default_factory=dict)


# --- reading the document ----------------------------------------------------------------------


def read_doc(text: str) -> Doc:
    """Parse the item table, the function sections and every example of `text`."""
    lines = text.splitlines()
    items, example_only = _item_table(lines)
    doc = Doc(items=items, example_only=example_only)
    doc.function_sections = _function_sections(lines)
    for start, info, body in _fenced_blocks(lines):
        words = info.split()
        if words[:1] != ["expr"]:
            continue
        kind = words[1] if len(words) > 1 else None
        if kind is not None and kind not in EXPECTED:
            raise DocFormatError(f"line {start}: unknown example kind '{kind}'")
        doc.examples += _block_examples(start, kind, body, items)
    return doc


def _fenced_blocks(lines: list[str]) -> Iterator[tuple[int, str, list[str]]]:
    """(line number of the opening fence, its info string, the lines inside) per block."""
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        start, info = index + 1, f"{match[1]} {match[2]}".strip()
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].startswith("```"):
            body.append(lines[index])
            index += 1
        if index == len(lines):
            raise DocFormatError(f"line {start}: code block never closed")
        yield start, info, body
        index += 1


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _item_table(lines: list[str]) -> tuple[dict[str, DataItemSpec], set[str]]:
    """The items of the table under the "items the examples use" heading."""
    start = next((i for i, line in enumerate(lines) if ITEMS_HEADING.match(line)), None)
    if start is None:
        raise DocFormatError("no heading '... items the examples use'")
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append(_cells(line))
        elif rows:
            break
    items: dict[str, DataItemSpec] = {}
    example_only: set[str] = set()
    for cells in rows[2:]:  # after the header and its --- line
        codes = re.findall(r"`([^`]+)`", cells[0])
        if len(codes) != 1 or len(cells) < 4 or cells[2] not in ItemType.__members__:
            raise DocFormatError(f"item table row {cells} is not | `code` | 中文 | TYPE | … |")
        code, item_type = codes[0], ItemType[cells[2]]
        options = re.findall(r"`([^`]+)`", cells[3]) if item_type is ItemType.ENUM else []
        # A LIST's row names its fields as `code` TYPE, ...
        fields = (
            re.findall(r"`([a-z_0-9]+)` ([A-Z_]+)", cells[3]) if item_type is ItemType.LIST else []
        )
        items[code] = DataItemSpec(
            code=code,
            label=cells[1],
            type=item_type,
            options=tuple(EnumOption(value, value) for value in options),
            fields=tuple(DataItemSpec(f, f, ItemType[t]) for f, t in fields),
        )
        if EXAMPLE_ONLY in " ".join(cells).lower():
            example_only.add(code)
    if not items:
        raise DocFormatError("the item table is empty")
    return items, example_only


def _function_sections(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Function name -> (first, last) line number of its `### `name(...)`` section."""
    inside = False
    headings: list[int] = []  # lines of headings up to level 3, outside code blocks
    for index, line in enumerate(lines):
        if line.startswith("```"):
            inside = not inside
        elif not inside and re.match(r"^#{1,3} ", line):
            headings.append(index)
    found: dict[str, tuple[int, int]] = {}
    for position, index in enumerate(headings):
        match = FUNCTION_HEADING.match(lines[index])
        if match is not None:
            end = headings[position + 1] if position + 1 < len(headings) else len(lines)
            found[match[1]] = (index + 1, end)
    return found


def _block_examples(
    start: int, kind: str | None, body: list[str], items: Mapping[str, DataItemSpec]
) -> list[Example]:
    found: list[Example] = []
    values: dict[str, object] = {}
    pending: list[str] = []
    for offset, raw in enumerate(body, start=1):
        number = start + offset
        stripped = raw.strip()
        if stripped.startswith(WITH):
            if pending:
                raise DocFormatError(f"line {number}: '# with:' inside an unfinished example")
            values = _inputs(stripped.removeprefix(WITH), items, number)
            continue
        if not stripped or (stripped.startswith("#") and not pending):
            if pending and not stripped:
                raise DocFormatError(f"line {number}: example without '# =>' or '# error:'")
            continue
        marker = RESULT if RESULT in raw else ERROR if ERROR in raw else None
        if marker is None:
            pending.append(raw.rstrip())
            continue
        head, _, outcome = raw.rpartition(marker)
        source = "\n".join([*pending, head.rstrip()]).strip()
        pending = []
        outcome = outcome.strip()
        if marker == RESULT:
            found.append(Example(number, kind, source, dict(values), result=outcome))
        else:
            found.append(Example(number, kind, source, dict(values), error=outcome))
    if pending:
        raise DocFormatError(f"line {start}: block ends inside an example")
    return found


def _inputs(text: str, items: Mapping[str, DataItemSpec], line: int) -> dict[str, object]:
    """The values of a `# with:` line, through each item's codec as a case would hold them."""
    text = text.strip()
    if not text:
        return {}
    try:
        call = ast.parse(f"given({text})", mode="eval").body
    except SyntaxError as exc:
        raise DocFormatError(f"line {line}: '# with:' is not `name = value, ...`") from exc
    assert isinstance(call, ast.Call)
    if call.args:
        raise DocFormatError(f"line {line}: '# with:' takes only `name = value` pairs")
    values: dict[str, object] = {}
    for keyword in call.keywords:
        name = keyword.arg
        if name is None or name not in items:
            raise DocFormatError(f"line {line}: '{name}' is not in the item table")
        literal = ast.get_source_segment(f"given({text})", keyword.value) or ""
        raw = ast.literal_eval(keyword.value)
        if raw is None:
            continue  # written out to say the item is missing
        given: object = raw
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            given = Decimal(literal.replace(" ", ""))  # exact, as the language reads it
        elif isinstance(raw, list):  # a LIST's entries; a float's shortest repr is what was written
            given = [
                {k: Decimal(repr(v)) if isinstance(v, float) else v for k, v in entry.items()}
                for entry in raw
            ]
        spec = DICTIONARY.get(name, items[name])
        try:
            values[name] = datatypes.coerce(spec, given)
        except datatypes.InvalidValue as exc:
            raise DocFormatError(f"line {line}: {name} = {literal} {exc.message}") from exc
    return values


# --- checking an example -----------------------------------------------------------------------


def show(value: object) -> str:
    """A result as the document writes it: True, None, 170100.00, "KV10", 2026-03-02."""
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date):  # datetime included
        return value.isoformat()
    raise TypeError(f"no written form for {value!r}")


def mismatch(example: Example, items: Mapping[str, DataItemSpec]) -> str | None:
    """Why `example` does not do what the document says, or None when it does."""
    variables = {code: item.type for code, item in items.items()}
    enums = {c: frozenset(o.value for o in i.options) for c, i in items.items() if i.options}
    fields = types.list_fields(items)
    expected = EXPECTED.get(example.kind or "")
    problems = checker.check(
        example.source, variables, expected=expected, enum_values=enums, fields=fields
    )
    if example.error is not None and problems:
        return None if problems == [example.error] else f"refused with {problems}"
    if problems:
        return f"refused with {problems}"
    compiled = checker.compile_expression(
        example.source, variables, enum_values=enums, fields=fields
    )
    try:
        value = compiled.evaluate(example.values)
    except types.ExpressionError as exc:
        if example.error is not None and str(exc) == example.error:
            return None
        return f"evaluating failed with {str(exc)!r}"
    if example.error is not None:
        return f"gives {show(value)}, not the error {example.error!r}"
    return None if show(value) == example.result else f"gives {show(value)}"


DOC = read_doc(DOC_PATH.read_text(encoding="utf-8"))


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("example", DOC.examples, ids=str)
def test_example_does_what_the_document_says(example: Example) -> None:
    problem = mismatch(example, DOC.items)
    assert problem is None, f"{example} {problem}"


def test_the_document_has_examples_of_every_kind() -> None:
    # Guards the parser: a renamed fence or marker must not leave nothing to check.
    kinds = {example.kind for example in DOC.examples}
    assert kinds == {None, "condition", "amount"}
    assert sum(example.error is not None for example in DOC.examples) >= 30
    assert sum(example.result is not None for example in DOC.examples) >= 100
    assert any(example.values for example in DOC.examples)


def test_every_function_has_a_section_with_an_example() -> None:
    assert sorted(DOC.function_sections) == sorted(functions.FUNCTIONS)
    for name, (first, last) in DOC.function_sections.items():
        calls = [e for e in DOC.examples if first <= e.line <= last and f"{name}(" in e.source]
        assert any(e.result is not None for e in calls), f"no example of {name}() in its section"


def test_every_item_type_is_in_the_item_table() -> None:
    assert {item.type for item in DOC.items.values()} == set(ItemType)


def test_the_item_table_agrees_with_the_shipped_dictionary() -> None:
    for code, item in DOC.items.items():
        shipped = DICTIONARY.get(code)
        if shipped is None:
            assert code in DOC.example_only, f"{code} is not shipped; mark it '{EXAMPLE_ONLY}'"
            continue
        assert code not in DOC.example_only, f"{code} is shipped"
        assert item.type is shipped.type, code
        assert item.label == shipped.label, code
        assert [o.value for o in item.options] == [o.value for o in shipped.options], code


def _shipped_expressions() -> Iterator[tuple[str, str]]:
    for spec in BUNDLE.business_types:
        for transition in spec.transitions:
            if transition.condition:
                yield "condition", transition.condition
    for rule in BUNDLE.fee_rules:
        if rule.condition:
            yield "condition", rule.condition
        yield "amount", rule.amount


@pytest.mark.parametrize(
    ("kind", "source"),
    sorted(set(_shipped_expressions())),
    ids=lambda value: " ".join(value.split())[:60],
)
def test_every_shipped_condition_and_formula_is_a_worked_example(kind: str, source: str) -> None:
    quoted = {" ".join(e.source.split()) for e in DOC.examples if e.kind == kind}
    assert " ".join(source.split()) in quoted


def test_the_limits_are_the_languages() -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    for stated in (
        f"{parser.MAX_SOURCE_LENGTH} characters",
        f"{parser.MAX_NODES} parts",
        f"{parser.MAX_DEPTH} levels",
        f"{runtime.PRECISION} significant digits",
        f"0 to {functions.MAX_ROUND_PLACES}",
    ):
        assert stated in text


# --- the checker itself can fail ---------------------------------------------------------------

WRONG = """
### The items the examples use

| item | 中文 | type | values |
|---|---|---|---|
| `power_source_count` | 电源数量 | INTEGER | 1 to 4 |

```expr condition
# with: power_source_count = 2
power_source_count >= 2         # => False
power_source_count + 1          # => 3
power_source_count >= "2"       # error: something else
power_source_count / 0          # error: division by zero in 'power_source_count / 0' (at position 0)
```
"""


def test_the_checker_reports_examples_that_are_wrong() -> None:
    doc = read_doc(WRONG)
    found = [mismatch(example, doc.items) for example in doc.examples]
    assert found[0] == "gives True"
    assert found[1] == "refused with ['expected a BOOLEAN expression, but this one gives NUMBER']"
    assert found[2] is not None and found[2].startswith("refused with")
    assert found[3] is None


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("power_source_count >= 2\n\n", "without '# =>'"),
        ("# with: nobody = 1\n1  # => 1", "not in the item table"),
        ("# with: power_source_count = 9\n1  # => 1", "must be at most 4"),
        ("power_source_count", "ends inside an example"),
    ],
)
def test_a_malformed_example_is_refused(body: str, complaint: str) -> None:
    text = WRONG.split("```expr")[0] + f"```expr\n{body}\n```\n"
    with pytest.raises(DocFormatError, match=complaint):
        read_doc(text)
