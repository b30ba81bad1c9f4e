"""Input no field can hold is refused at the edge, once, before any resolver runs.

- A string holding NUL (U+0000) is refused wherever it arrives: PostgreSQL's text and JSONB
  cannot store it, and SQLite would keep what PostgreSQL refuses, so both refuse it here.
- A string longer than the column it is stored in is refused with the maximum, from one table
  (`Bounds`, built from the table definitions by `resolvers.input_bounds`).
- Refusals of values by scalars and input types are typed: `extensions.code` VALIDATION, with
  the argument or variable and the path to the field in the message (graphql-core reports a
  literal's refusal without either, and a variable's without a code).

Literals are checked by a validation rule, so a document is checked once and then cached with
its validation; variables are walked per request, in time linear in their size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    SKIP,
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    ObjectFieldNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    VisitorAction,
    get_named_type,
    visit,
)
from graphql.pyutils import print_path_list
from graphql.utilities import validate_input_literal
from graphql.validation import ValuesOfCorrectTypeRule
from strawberry.extensions import SchemaExtension

from schema import strawberry_compat as compat

Bounds = Mapping[tuple[str, str], int]
"""Longest string per (input type, field); `*` as the type matches a field of any type."""

NUL = "\x00"
VALIDATION = "VALIDATION"


def _invalid(
    where: str, name: str, path: Sequence[str | int], problem: str, node: Any = None
) -> GraphQLError:
    """A refusal naming the argument (or variable) `name` and the path below it."""
    return GraphQLError(
        f"{where} has invalid value{print_path_list(path)}: {problem}",
        node,
        extensions={"code": VALIDATION, "path": [name, *(str(p) for p in path)]},
    )


def _limit(bounds: Bounds, type_name: str | None, field: str | None) -> int | None:
    if field is None:
        return None
    return bounds.get((type_name or "", field), bounds.get(("*", field)))


def string_problem(text: str, longest: int | None) -> str | None:
    """Why a string cannot be taken, or None."""
    if NUL in text:
        return "must not contain the NUL character (U+0000)"
    if longest is not None and len(text) > longest:
        return f"must be at most {longest} characters long (it has {len(text)})"
    return None


def _json_problem(value: object, path: list[str | int]) -> tuple[list[str | int], str] | None:
    """The first NUL in a JSON value, keys included, found without recursion."""
    pending: list[tuple[object, list[str | int]]] = [(value, path)]
    while pending:
        current, where = pending.pop()
        if isinstance(current, str):
            if NUL in current:
                return where, string_problem(current, None) or ""
        elif isinstance(current, dict):
            for key, item in current.items():
                if isinstance(key, str) and NUL in key:
                    return where, "must not contain the NUL character (U+0000) in a key"
                pending.append((item, [*where, str(key)]))
        elif isinstance(current, list):
            pending.extend((item, [*where, index]) for index, item in enumerate(current))
    return None


@dataclass(frozen=True, slots=True)
class VariableUse:
    """Where an operation uses a variable: the type expected there and the field it fills."""

    name: str
    type: GraphQLInputType
    argument: str
    path: tuple[str | int, ...]
    parent: str | None
    field: str | None
    node: VariableNode


class _Uses(Visitor):
    """Collects the variable uses of one operation, with TypeInfo tracking the input types."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.argument = ""
        self.path: list[str | int] = []
        self.parents: list[str | None] = []
        self.uses: list[VariableUse] = []

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self.argument, self.path, self.parents = node.name.value, [], []

    def enter_object_field(self, node: ObjectFieldNode, *_args: Any) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        self.path.append(node.name.value)
        self.parents.append(parent.name if parent is not None else None)

    def leave_object_field(self, node: ObjectFieldNode, *_args: Any) -> None:
        self.path.pop()
        self.parents.pop()

    def enter_variable(self, node: VariableNode, *_args: Any) -> None:
        expected = self.type_info.get_input_type()
        if expected is not None and self.argument:
            field = self.path[-1] if self.path else None
            self.uses.append(
                VariableUse(
                    node.name.value,
                    expected,
                    self.argument,
                    tuple(self.path),
                    self.parents[-1] if self.parents else None,
                    field if isinstance(field, str) else None,
                    node,
                )
            )


_USES_SIZE = 256
_USES_ATTRIBUTE = "_yekuo_variable_uses"


def variable_uses(schema: GraphQLSchema, document: DocumentNode) -> list[VariableUse]:
    """The variable uses of a document, found once per parsed document (documents are cached).

    The cache hangs on the schema, so it goes with it when a new schema is swapped in.
    """
    cache: OrderedDict[int, tuple[DocumentNode, list[VariableUse]]] | None = getattr(
        schema, _USES_ATTRIBUTE, None
    )
    if cache is None:
        cache = OrderedDict()
        setattr(schema, _USES_ATTRIBUTE, cache)
    cached = cache.get(id(document))
    if cached is not None and cached[0] is document:
        cache.move_to_end(id(document))
        return cached[1]
    type_info = TypeInfo(schema)
    collector = _Uses(type_info)
    visit(document, TypeInfoVisitor(type_info, collector))
    cache[id(document)] = (document, collector.uses)  # the reference keeps the id unique
    if len(cache) > _USES_SIZE:
        cache.popitem(last=False)
    return collector.uses


def variable_problems(
    uses: Sequence[VariableUse], variables: Mapping[str, Any], bounds: Bounds
) -> list[GraphQLError]:
    """NUL and over-long strings in the variables, walked along the types where they are used."""
    found: list[GraphQLError] = []
    for use in uses:
        if use.name not in variables:
            continue
        where = f"Argument '{use.argument}' (variable '${use.name}')"
        pending: list[tuple[object, Any, list[str | int], str | None, str | None]] = [
            (variables[use.name], use.type, list(use.path), use.parent, use.field)
        ]
        while pending:
            value, type_, path, parent, field = pending.pop()
            if isinstance(type_, GraphQLNonNull):
                type_ = type_.of_type
            if isinstance(type_, GraphQLList):
                items = value if isinstance(value, list) else [value]
                pending.extend(
                    (v, type_.of_type, [*path, i], parent, field) for i, v in enumerate(items)
                )
            elif isinstance(type_, GraphQLInputObjectType):
                if isinstance(value, dict):
                    for key, item in value.items():
                        known = type_.fields.get(key)
                        if known is not None:
                            pending.append((item, known.type, [*path, key], type_.name, key))
            elif isinstance(value, str):
                problem = string_problem(value, _limit(bounds, parent, field))
                if problem is not None:
                    return [_invalid(where, use.argument, path, problem, use.node)]
            elif isinstance(type_, GraphQLScalarType) and isinstance(value, dict | list):
                nul = _json_problem(value, path)
                if nul is not None:
                    return [_invalid(where, use.argument, nul[0], nul[1], use.node)]
    return found


class _ArgumentTracking(ValidationRule):
    """Knows the argument (or variable default) and the input field path being visited."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.where, self.name = "A value", ""
        self.path: list[str | int] = []
        self.types: list[str | None] = []

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        """Entering an argument: errors below name it."""
        self.name = node.name.value
        self.where, self.path, self.types = f"Argument '{self.name}'", [], []

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        """Entering a variable's definition: errors in its default value name it."""
        self.name = f"${node.variable.name.value}"
        self.where = f"The default value of '{self.name}'"
        self.path, self.types = [], []

    def enter_object_field(self, node: ObjectFieldNode, *_args: Any) -> None:
        """Entering an input object's field."""
        parent = get_named_type(self.context.get_parent_input_type())
        self.path.append(node.name.value)
        self.types.append(parent.name if parent is not None else None)

    def leave_object_field(self, node: ObjectFieldNode, *_args: Any) -> None:
        """Leaving an input object's field."""
        self.path.pop()
        self.types.pop()


class TypedValuesOfCorrectType(ValuesOfCorrectTypeRule):
    """graphql's rule for literals, its errors located, with the argument path and a code."""

    where, name = "A value", ""

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        """Entering an argument: errors below name it."""
        self.name = node.name.value
        self.where = f"Argument '{self.name}'"

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        """Entering a variable's definition: errors in its default value name it."""
        self.name = f"${node.variable.name.value}"
        self.where = f"The default value of '{self.name}'"

    def is_valid_value_node(
        self, node: ValueNode, input_type: GraphQLInputType | None
    ) -> VisitorAction:
        """Check a literal, reporting each problem with its place."""
        if input_type:

            def on_error(error: GraphQLError, path: list[str | int]) -> None:
                extensions = {
                    "code": VALIDATION,
                    "path": [self.name, *(str(p) for p in path)],
                    **(error.extensions or {}),
                }
                self.report_error(
                    GraphQLError(
                        f"{self.where} has invalid value{print_path_list(path)}: {error.message}",
                        error.nodes or node,
                        original_error=error.original_error,
                        extensions=extensions,
                    )
                )

            validate_input_literal(
                node, input_type, on_error, None, None, self.context.hide_suggestions
            )
        return SKIP


def literal_rule(bounds: Bounds) -> type[ValidationRule]:
    """A validation rule refusing string literals with NUL or longer than their column."""

    class LiteralStrings(_ArgumentTracking):
        """NUL and over-long string literals."""

        def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
            """Check one string literal."""
            field = self.path[-1] if self.path else None
            parent = self.types[-1] if self.types else None
            longest = _limit(bounds, parent, field if isinstance(field, str) else None)
            problem = string_problem(node.value, longest)
            if problem is not None:
                self.report_error(_invalid(self.where, self.name, self.path, problem, node))

    return LiteralStrings


def _typed(errors: Sequence[GraphQLError]) -> None:
    """Give a variable's refusal by graphql-core (e.g. `Int` out of range) the code VALIDATION."""
    for error in errors:
        if error.extensions and "code" in error.extensions:
            continue
        if error.nodes and isinstance(error.nodes[0], VariableDefinitionNode):
            error.extensions = {**(error.extensions or {}), "code": VALIDATION}


class InputChecks(SchemaExtension):
    """Refuse the operation when a string is unusable; type the refusals of input values."""

    def __init__(self, bounds: Bounds, literal_strings: type[ValidationRule]) -> None:
        super().__init__()
        self.bounds = bounds
        self.literal_strings = literal_strings

    def on_operation(self) -> Iterator[None]:
        """Swap in the located rule for literals, add the string rule; type errors after."""
        context = self.execution_context
        context.validation_rules = (
            *(
                TypedValuesOfCorrectType if rule is ValuesOfCorrectTypeRule else rule
                for rule in context.validation_rules
            ),
            self.literal_strings,
        )
        yield
        if context.result is not None and context.result.errors:
            _typed(context.result.errors)

    def on_execute(self) -> Iterator[None]:
        """Walk the variables before anything runs."""
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.variables and context.result is None:
            uses = variable_uses(compat.graphql_schema(context.schema), document)
            found = variable_problems(uses, context.variables, self.bounds)
            if found:
                context.result = ExecutionResult(data=None, errors=found)
        yield
