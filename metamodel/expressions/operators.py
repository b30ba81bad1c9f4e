"""Type rules and closures of the operators: and/or/not, arithmetic, comparisons, `in`, `if`."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from metamodel.expressions.runtime import CONTEXT, UNKNOWN, Fn, Node
from metamodel.expressions.types import ORDERED, ExpressionError, ExprType, Values

if TYPE_CHECKING:
    from metamodel.expressions.checker import Compiler

_ARITHMETIC: Final[Mapping[type[ast.operator], tuple[str, Callable[[Any, Any], Decimal]]]] = {
    ast.Add: ("+", CONTEXT.add),
    ast.Sub: ("-", CONTEXT.subtract),
    ast.Mult: ("*", CONTEXT.multiply),
    ast.Div: ("/", CONTEXT.divide),
}

_REFUSED_OPERATORS: Final[Mapping[type[ast.AST], str]] = {
    ast.Pow: "the power operator '**' is not allowed",
    ast.FloorDiv: "'//' is not allowed (use '/' and round())",
    ast.Mod: "'%' is not allowed",
    ast.MatMult: "'@' is not allowed",
    ast.LShift: "the bitwise operator '<<' is not allowed",
    ast.RShift: "the bitwise operator '>>' is not allowed",
    ast.BitOr: "the bitwise operator '|' is not allowed",
    ast.BitXor: "the bitwise operator '^' is not allowed",
    ast.BitAnd: "the bitwise operator '&' is not allowed",
    ast.Invert: "the bitwise operator '~' is not allowed",
    ast.UAdd: "unary '+' is not allowed",
}

_COMPARISONS: Final[Mapping[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}


def boolean(compiler: Compiler, node: ast.BoolOp) -> Node:
    """`and` / `or`: null counts as False; the result is always True or False."""
    word = "and" if isinstance(node.op, ast.And) else "or"
    operands = [compiler.compile(value) for value in node.values]
    ok = True
    for operand, value in zip(operands, node.values, strict=True):
        ok = compiler.expect(operand, ExprType.BOOLEAN, value, f"'{word}'") and ok
    if not ok or any(operand.type is None for operand in operands):
        return UNKNOWN
    fns = tuple(operand.fn for operand in operands)
    fn: Fn
    if word == "and":
        if len(fns) == 2:
            first, second = fns

            def and2(values: Values) -> object:
                return first(values) is True and second(values) is True

            fn = and2
        else:

            def and_n(values: Values) -> object:
                return all(f(values) is True for f in fns)

            fn = and_n
    elif len(fns) == 2:
        first, second = fns

        def or2(values: Values) -> object:
            return first(values) is True or second(values) is True

        fn = or2
    else:

        def or_n(values: Values) -> object:
            return any(f(values) is True for f in fns)

        fn = or_n
    return compiler.fold(node, ExprType.BOOLEAN, fn, operands)


def unary(compiler: Compiler, node: ast.UnaryOp) -> Node:
    """`not x` (null counts as False) and `-x` (null stays null)."""
    if type(node.op) in _REFUSED_OPERATORS:
        return compiler.fail(node, _REFUSED_OPERATORS[type(node.op)])
    operand = compiler.compile(node.operand)
    inner = operand.fn
    if isinstance(node.op, ast.Not):
        if not compiler.expect(operand, ExprType.BOOLEAN, node.operand, "'not'"):
            return UNKNOWN

        def negation(values: Values) -> object:
            return inner(values) is not True

        return compiler.fold(node, ExprType.BOOLEAN, negation, [operand])
    if not compiler.expect(operand, ExprType.NUMBER, node.operand, "unary '-'"):
        return UNKNOWN
    minus = CONTEXT.minus

    def negative(values: Values) -> object:
        value = inner(values)
        return None if value is None else minus(value)  # type: ignore[arg-type]

    return compiler.fold(node, ExprType.NUMBER, negative, [operand])


def arithmetic(compiler: Compiler, node: ast.BinOp) -> Node:
    """`+ - * /` on numbers in the decimal context; null in, null out."""
    if type(node.op) not in _ARITHMETIC:
        message = _REFUSED_OPERATORS.get(type(node.op), "this operator is not allowed")
        return compiler.fail(node, message)
    symbol, op = _ARITHMETIC[type(node.op)]
    left = compiler.compile(node.left)
    right = compiler.compile(node.right)
    ok = compiler.expect(left, ExprType.NUMBER, node.left, f"'{symbol}'")
    ok = compiler.expect(right, ExprType.NUMBER, node.right, f"'{symbol}'") and ok
    if not ok or left.type is None or right.type is None:
        return UNKNOWN
    if symbol == "/":
        if right.const and not right.value:
            return compiler.fail(node, f"division by zero in {compiler.snippet(node)}")
        op = division(compiler, node, op)
    lf, rf = left.fn, right.fn
    fn: Fn
    if right.const:
        constant = right.value

        def arith_constant(values: Values) -> object:
            value = lf(values)
            return None if value is None else op(value, constant)

        fn = arith_constant
    else:

        def arith(values: Values) -> object:
            first = lf(values)
            if first is None:
                return None
            second = rf(values)
            return None if second is None else op(first, second)

        fn = arith
    return compiler.fold(node, ExprType.NUMBER, fn, [left, right])


def division(
    compiler: Compiler, node: ast.BinOp, divide: Callable[[Any, Any], Decimal]
) -> Callable[[Any, Any], Decimal]:
    """`divide`, raising ExpressionError (at the division) on division by zero."""
    message = f"division by zero in {compiler.snippet(node)}"
    position = compiler.position(node)

    def checked(first: object, second: object) -> Decimal:
        if not second:
            raise ExpressionError(message, position)
        return divide(first, second)

    return checked


def compare(compiler: Compiler, node: ast.Compare) -> Node:
    """Comparisons, chained or not, and `in` / `not in`; null compares False."""
    if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
        if len(node.ops) != 1:
            return compiler.fail(node, "'in' cannot be chained with other comparisons")
        return membership(compiler, node)
    for op in node.ops:
        if isinstance(op, ast.Is | ast.IsNot):
            word = "is" if isinstance(op, ast.Is) else "is not"
            return compiler.fail(
                node, f"'{word}' is not supported; use '== None', '!= None' or has(item)"
            )
    asts = [node.left, *node.comparators]
    operands = [compiler.compile(part) for part in asts]
    tests: list[Callable[[object, object], object]] = []
    ok = True
    for index, op in enumerate(node.ops):
        symbol, function = _COMPARISONS[type(op)]
        test = comparison(compiler, symbol, function, operands, asts, index)
        if test is None:
            ok = False
        else:
            tests.append(test)
    if not ok:
        return UNKNOWN
    fns = [operand.fn for operand in operands]
    fn: Fn
    if len(tests) == 1:
        fn = single_comparison(compiler, operands[0], operands[1], tests[0], node.ops[0])
    else:
        first, rest = fns[0], tuple(zip(tests, fns[1:], strict=True))

        def chain(values: Values) -> object:
            left = first(values)
            for test, right_fn in rest:
                right = right_fn(values)
                if not test(left, right):
                    return False
                left = right
            return True

        fn = chain
    return compiler.fold(node, ExprType.BOOLEAN, fn, operands)


def comparison(
    compiler: Compiler,
    symbol: str,
    function: Callable[[object, object], object],
    operands: list[Node],
    asts: list[ast.expr],
    index: int,
) -> Callable[[object, object], object] | None:
    """Type-check operands `index` and `index + 1`; their test, or None after an error."""
    left, right = operands[index], operands[index + 1]
    if left.type is None or right.type is None:
        return None
    for mine, other, at in ((index, right, asts[index]), (index + 1, left, asts[index + 1])):
        if other.type in (ExprType.DATE, ExprType.DATETIME):
            operands[mine] = compiler.coerce(operands[mine], other.type, at)
    left, right = operands[index], operands[index + 1]
    if left.type is None or right.type is None:
        return None
    at = asts[index + 1]
    if ExprType.NULL in (left.type, right.type):
        if symbol not in ("==", "!="):
            compiler.fail(at, f"None cannot be compared with '{symbol}'; use '== None' or has()")
            return None
        if symbol == "==":
            return _equals_null
        return _differs_from_null
    if left.type is not right.type:
        compiler.fail(
            at,
            f"cannot compare {left.type} {compiler.snippet(asts[index])} with"
            f" {right.type} {compiler.snippet(asts[index + 1])} using '{symbol}'",
        )
        return None
    if symbol not in ("==", "!="):
        if left.type not in ORDERED:
            compiler.fail(at, f"{left.type} values cannot be ordered with '{symbol}'")
            return None
        enum_item = left.enum_item or right.enum_item
        if enum_item is not None:
            compiler.fail(
                at, f"the options of ENUM item '{enum_item}' cannot be ordered with '{symbol}'"
            )
            return None
    if not (
        compiler.check_option(left, right, at) and compiler.check_option(right, left, asts[index])
    ):
        return None

    def test(first: object, second: object) -> object:
        return first is not None and second is not None and function(first, second)

    return test


def single_comparison(
    compiler: Compiler,
    left: Node,
    right: Node,
    test: Callable[[object, object], object],
    op: ast.cmpop,
) -> Fn:
    """Build the closure of one comparison, specialised for presence tests and constants."""
    lf, rf = left.fn, right.fn
    if test is _equals_null or test is _differs_from_null:
        inner = rf if left.type is ExprType.NULL else lf
        if test is _equals_null:

            def is_null(values: Values) -> object:
                return inner(values) is None

            return is_null

        def is_present(values: Values) -> object:
            return inner(values) is not None

        return is_present
    function = _COMPARISONS[type(op)][1]
    if right.const and not left.const:
        constant = right.value

        def compare_constant(values: Values) -> object:
            value = lf(values)
            return value is not None and function(value, constant)

        return compare_constant

    def compare(values: Values) -> object:
        first = lf(values)
        if first is None:
            return False
        second = rf(values)
        return second is not None and function(first, second)

    return compare


def membership(compiler: Compiler, node: ast.Compare) -> Node:
    """`x in [literals]` / `x not in (...)`: False when `x` is null."""
    negate = isinstance(node.ops[0], ast.NotIn)
    word = "not in" if negate else "in"
    left = compiler.compile(node.left)
    container = node.comparators[0]
    if not isinstance(container, ast.List | ast.Tuple):
        return compiler.fail(
            container,
            f'the right side of \'{word}\' must be a literal list or tuple, e.g. ["A", "B"]',
        )
    members: set[object] = set()
    ok = left.type is not None
    for element in container.elts:
        item = compiler.literal(element, f"the elements of an '{word}' list")
        if item.type is None:
            ok = False
            continue
        if left.type is None:
            continue
        if item.type is ExprType.NULL:
            ok = False
            compiler.fail(element, f"None cannot be in an '{word}' list; use '== None' or has()")
            continue
        item = compiler.coerce(item, left.type, element)
        if item.type is None:
            ok = False
            continue
        if item.type is not left.type:
            ok = False
            compiler.fail(
                element,
                f"the '{word}' list holds {item.type} {compiler.snippet(element)} but"
                f" {compiler.snippet(node.left)} is {left.type}",
            )
            continue
        if not compiler.check_option(left, item, element):
            ok = False
            continue
        members.add(item.value)
    if not ok:
        return UNKNOWN
    frozen = frozenset(members)
    inner = left.fn
    if negate:

        def not_member(values: Values) -> object:
            value = inner(values)
            return value is not None and value not in frozen

        return compiler.fold(node, ExprType.BOOLEAN, not_member, [left])

    def member(values: Values) -> object:
        value = inner(values)
        return value is not None and value in frozen

    return compiler.fold(node, ExprType.BOOLEAN, member, [left])


def conditional(compiler: Compiler, node: ast.IfExp) -> Node:
    """Compile `a if cond else b`; a null condition counts as False."""
    test = compiler.compile(node.test)
    body = compiler.compile(node.body)
    orelse = compiler.compile(node.orelse)
    ok = compiler.expect(test, ExprType.BOOLEAN, node.test, "the condition of 'if'")
    branches = [body, orelse]
    type_ = compiler.unify(branches, [node.body, node.orelse], "'a if c else b'")
    if not ok or type_ is None or test.type is None:
        return UNKNOWN
    body, orelse = branches
    if test.const:
        chosen = body if test.value is True else orelse
        return Node(type_, chosen.fn, chosen.const, chosen.value)
    tf, bf, of = test.fn, body.fn, orelse.fn

    def choose(values: Values) -> object:
        return bf(values) if tf(values) is True else of(values)

    return Node(type_, choose)


def _equals_null(first: object, second: object) -> object:
    return first is None and second is None


def _differs_from_null(first: object, second: object) -> object:
    return first is not None or second is not None
