"""Evaluation time of the expression language (metamodel.expressions) and of its alternatives.

Run on demand: `.venv/bin/python bench/expressions.py`. For each expression it prints the time
of one evaluation (best of several rounds) of an already compiled expression, in microseconds:

- yekuo: `compile_expression(...).evaluate(values)`, Decimal-exact, type-checked at compile time.
- simpleeval (the `bench` extra, `pip install -e .[bench]`; left out when not installed),
  `EvalWithCompoundTypes` (plain `SimpleEval` has no list or dict literals) with `round`
  added and nothing else changed: numbers are floats, so
  not exact (`630 * 270.00` is a float), and there is no type checker. Once with the parsed
  tree reused (`eval(source, previously_parsed=tree)`), once parsing on every call.
- CEL, `cel-expr-python` (Google's C++ CEL runtime), only where it is importable: it has a real
  type checker against declared variable types but no decimal type (money becomes a double),
  so the project does not depend on it. Measure it with
  `pip install --target /tmp/celpkg cel-expr-python` and `PYTHONPATH=/tmp/celpkg`.

Not measured here, from earlier evaluation (see DESIGN.md, "Expression languages"):
`cel-python` (pure-Python CEL) is slow, about 430 µs per evaluation, and has no checker;
`asteval` ignores its own time limit, so its cost is not bounded. Neither is a candidate.

A CEL column shows "n/a" where the expression has no CEL equivalent (CEL has no round()).
"""

from __future__ import annotations

import ast
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass(frozen=True)
class Case:
    """One expression in each language, with the item values it is evaluated against."""

    label: str
    source: str
    simple: str
    cel: str | None


CASES = (
    Case(
        "condition",
        "capacity_kva > 160 and power_source_count >= 2",
        "capacity_kva > 160 and power_source_count >= 2",
        "capacity_kva > 160 && power_source_count >= 2",
    ),
    Case(
        "enum membership",
        'voltage_level in ["KV10", "KV35"] and not temporary',
        'voltage_level in ["KV10", "KV35"] and not temporary',
        'voltage_level in ["KV10", "KV35"] && !temporary',
    ),
    Case(
        "fee formula",
        "contract_capacity * 270.00",
        "contract_capacity * 270.00",
        "contract_capacity * 270.0",
    ),
    Case(
        "rate table",
        'lookup({"KV10": 270.00, "KV35": 250.00, "KV110": 220.00}, voltage_level)'
        " * contract_capacity",
        '{"KV10": 270.00, "KV35": 250.00, "KV110": 220.00}[voltage_level] * contract_capacity',
        '{"KV10": 270.0, "KV35": 250.0, "KV110": 220.0}[voltage_level] * contract_capacity',
    ),
    Case(
        "tiered, rounded",
        "round(contract_capacity * (270.00 if contract_capacity <= 315 else 250.00), 2)",
        "round(contract_capacity * (270.00 if contract_capacity <= 315 else 250.00), 2)",
        None,
    ),
    Case(
        "null-safe",
        "has(temporary) and coalesce(capacity_kva, 0) > 100",
        "temporary is not None and (capacity_kva or 0) > 100",
        "has(data.temporary) && (has(data.capacity_kva) ? data.capacity_kva : 0) > 100",
    ),
)

DECIMAL_VALUES: dict[str, object] = {
    "capacity_kva": 200,
    "power_source_count": 2,
    "contract_capacity": Decimal("630"),
    "voltage_level": "KV10",
    "temporary": False,
}
FLOAT_VALUES: dict[str, object] = {**DECIMAL_VALUES, "contract_capacity": 630.0}


def per_call_us(call: Callable[[], object]) -> float:
    """Best time of one call, in microseconds."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def yekuo_timings() -> tuple[list[float], list[float]]:
    """Compile and evaluation times of this project's expressions."""
    from metamodel.expressions.checker import compile_expression
    from metamodel.specs import ItemType

    items = {
        "capacity_kva": ItemType.INTEGER,
        "power_source_count": ItemType.INTEGER,
        "contract_capacity": ItemType.DECIMAL,
        "voltage_level": ItemType.ENUM,
        "temporary": ItemType.BOOLEAN,
    }
    enums = {"voltage_level": frozenset({"V220", "KV10", "KV35", "KV110"})}
    compile_times: list[float] = []
    eval_times: list[float] = []
    for case in CASES:
        expression = compile_expression(case.source, items, enum_values=enums)
        compile_times.append(
            per_call_us(partial(compile_expression, case.source, items, enum_values=enums))
        )
        eval_times.append(per_call_us(partial(expression.evaluate, DECIMAL_VALUES)))
    return compile_times, eval_times


def simpleeval_timings() -> tuple[list[float | None], list[float | None]]:
    """simpleeval with a parsed tree reused, and parsing on every call."""
    try:
        from simpleeval import DEFAULT_FUNCTIONS, EvalWithCompoundTypes
    except ImportError:
        return [None] * len(CASES), [None] * len(CASES)
    functions = {**DEFAULT_FUNCTIONS, "round": round}
    parsed: list[float | None] = []
    unparsed: list[float | None] = []
    for case in CASES:
        evaluator = EvalWithCompoundTypes(names=FLOAT_VALUES, functions=functions)
        tree = ast.parse(case.simple.strip()).body[0]
        parsed.append(per_call_us(partial(evaluator.eval, case.simple, previously_parsed=tree)))
        unparsed.append(per_call_us(partial(evaluator.eval, case.simple)))
    return parsed, unparsed


def cel_timings() -> list[float | None] | None:
    """cel-expr-python evaluation times, or None when it is not installed."""
    try:
        from cel_expr_python import cel  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    types: dict[str, Any] = {
        "capacity_kva": cel.Type.INT,
        "power_source_count": cel.Type.INT,
        "contract_capacity": cel.Type.DOUBLE,
        "voltage_level": cel.Type.STRING,
        "temporary": cel.Type.BOOL,
        "data": cel.Type.Map(cel.Type.STRING, cel.Type.DYN),
    }
    env = cel.NewEnv(variables=types)
    data = {**FLOAT_VALUES, "data": dict(FLOAT_VALUES)}
    timings: list[float | None] = []
    for case in CASES:
        if case.cel is None:
            timings.append(None)
            continue
        expression = env.compile(case.cel)
        timings.append(per_call_us(cel_call(expression, data)))
    return timings


def cel_call(expression: Any, data: dict[str, object]) -> Callable[[], object]:
    """One CEL evaluation, converted to a Python value as the other libraries return."""

    def call() -> object:
        return expression.eval(data=data).value()

    return call


def cell(value: float | None) -> str:
    """A right-aligned figure, or n/a."""
    return f"{value:>10.2f}" if value is not None else f"{'n/a':>10}"


def main() -> None:
    """Measure and print the table."""
    compile_times, yekuo = yekuo_timings()
    parsed, unparsed = simpleeval_timings()
    cel = cel_timings()
    print(f"Python {sys.version.split()[0]}; µs per evaluation (best of 5 rounds)")
    header = f"{'expression':<18}{'yekuo':>10}{'simpleeval':>11}{'simpleeval':>12}"
    header += f"{'CEL':>10}" if cel is not None else ""
    header += f"{'yekuo compile':>15}"
    print(header)
    print(f"{'':<18}{'(Decimal)':>10}{'(parsed)':>11}{'(parsing)':>12}", end="")
    print(f"{'(double)':>10}" if cel is not None else "", end="")
    print(f"{'(once)':>15}")
    for index, case in enumerate(CASES):
        row = f"{case.label:<18}{cell(yekuo[index])}{cell(parsed[index]):>11}"
        row += f"{cell(unparsed[index]):>12}"
        if cel is not None:
            row += cell(cel[index])
        row += f"{cell(compile_times[index]):>15}"
        print(row)
    if cel is None:
        print("cel-expr-python is not installed: CEL not measured.")


if __name__ == "__main__":
    main()
