"""Every use of strawberry's undocumented internals, in one place, so an upgrade touches one file.

The project needs a few things strawberry has no public API for: the graphql-core schema behind
a `strawberry.Schema`, classes defined without `strawberry.type` (fields, annotations, the
definition), descriptions of enum values, scalar definitions, a converter seeded with GraphQL
types converted for an earlier schema, and the validation cache's reset. Each is one small
function or class here; no other module touches strawberry's private attributes or modules
(`tests/test_architecture.py` checks), and `tests/schema/test_strawberry_compat.py` checks what
this module assumes of the installed strawberry, so an upgrade that breaks it fails there first.
pyproject.toml pins strawberry-graphql and graphql-core to the minor versions this was checked on.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLResolveInfo, GraphQLSchema
from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.nodes import SelectedField, Selection
from strawberry.types.scalar import ScalarDefinition

if TYPE_CHECKING:
    from strawberry.schema.types.concrete_type import ConcreteType

Converted = Mapping[str, "ConcreteType"]
"""GraphQL types strawberry converted, with the definition each came from, by type name."""

Annotation = StrawberryAnnotation
"""A field's type as strawberry holds it (resolved once, then shared by many fields)."""

ObjectDefinition = StrawberryObjectDefinition
"""What `strawberry.type` attaches to a class: its GraphQL name, fields and interfaces."""


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema a strawberry schema serves (strawberry has no public accessor)."""
    found: GraphQLSchema = schema._schema
    return found


def raw_info(info: Any) -> GraphQLResolveInfo[Any]:
    """graphql-core's resolve info under strawberry's `Info` (which keeps it private).

    The query compiler collects a field's selection as graphql-core's executor does, which
    needs the coerced variables and the typed return type strawberry's wrapper does not show.
    """
    raw: GraphQLResolveInfo[Any] = info._raw_info
    return raw


def collect_selection(
    schema: GraphQLSchema,
    fragments: Mapping[str, Any],
    variables: Any,
    operation: Any,
    runtime: Any,
    nodes: Sequence[Any],
) -> dict[str, list[Any]] | None:
    """The fields `nodes` select on `runtime`, by response key, as graphql-core collects them.

    Through fragments and `@skip`/`@include` on the variables, in response order. graphql-core
    keeps the collector in an internal module. None when a selection would be
    answered in parts (`@defer`, fragment variables): the query compiler leaves those alone.
    """
    from graphql.execution import VariableValues
    from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_subfields

    if isinstance(variables, dict):  # strawberry hands the coerced values on as a dict
        variables = VariableValues(sources={}, coerced=variables)
    details = {name: FragmentDetails(definition) for name, definition in fragments.items()}
    collected = collect_subfields(
        schema, details, variables, operation, runtime, [FieldDetails(n, None) for n in nodes]
    )
    return _grouped(collected)


def _grouped(collected: Any) -> dict[str, list[Any]] | None:
    """Field nodes by response key; None for a selection answered in parts (`@defer`, …)."""
    if collected.new_defer_usages:
        return None
    grouped: dict[str, list[Any]] = {}
    for key, found in collected.grouped_field_set.items():
        if any(d.defer_usage or d.fragment_variable_values for d in found):
            return None
        grouped[key] = [d.node for d in found]
    return grouped


def collect_root(
    schema: GraphQLSchema, fragments: Mapping[str, Any], variables: Any, operation: Any
) -> dict[str, list[Any]] | None:
    """The root fields an operation selects, by response key, as graphql-core collects them.

    None when the operation would be answered in parts (`@defer`, fragment variables).
    """
    from graphql.execution.collect_fields import FragmentDetails, collect_fields

    root = schema.query_type
    assert root is not None
    details = {name: FragmentDetails(definition) for name, definition in fragments.items()}
    return _grouped(collect_fields(schema, details, variables, root, operation))


def root_resolve_info(
    schema: GraphQLSchema,
    operation: Any,
    fragments: Mapping[str, Any],
    variables: Mapping[str, Any],
    nodes: Sequence[Any],
    field: Any,
    context: Any,
) -> GraphQLResolveInfo[Any]:
    """The resolve info graphql-core's executor would hand a root field's resolver.

    For the compiled fast lane (`resolvers.fast_lane`), which calls a root field's resolver as
    the executor does once the operation was validated; variables are passed coerced, as a
    dict, as strawberry's execution passes them.
    """
    import asyncio

    from graphql import GraphQLResolveInfoHelpers
    from graphql.pyutils import Path, is_awaitable

    async def gather(values: Sequence[Any]) -> list[Any]:
        return list(await asyncio.gather(*values))

    root = schema.query_type
    assert root is not None
    key = nodes[0].alias.value if nodes[0].alias else nodes[0].name.value
    return GraphQLResolveInfo(
        nodes[0].name.value,
        list(nodes),
        field.type,
        root,
        Path(None, key, root.name),
        schema,
        dict(fragments),
        None,
        operation,
        variables,  # type: ignore[arg-type]
        context,
        is_awaitable,
        None,
        GraphQLResolveInfoHelpers(gather, lambda _values: None),
    )


def selects(selections: Iterable[Selection], name: str) -> bool:
    """Whether selections (`info.selected_fields`, through fragments) ask for a field `name`.

    `Info.selected_fields` is public, but the classes of its items are not exported. The
    document has passed the cost bound (`schema.limits`), so walking its fragments is bounded.
    """
    for selection in selections:
        if isinstance(selection, SelectedField) and selection.name == name:
            return True
        if selects(selection.selections, name):
            return True
    return False


def clear_validation_cache(maxsize: int) -> None:
    """Empty the validation cache `ValidationCache(maxsize=…)` shares across schemas.

    The cache is keyed by schema, so a replaced schema stays alive until it is cleared.
    """
    cache: Any = _get_validate_cache(maxsize)
    cache.cache_clear()


def enum_definition(enum: object) -> StrawberryEnumDefinition:
    """The definition `strawberry.enum` attached to an enum class (its values, its name)."""
    definition = getattr(enum, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryEnumDefinition):
        raise TypeError(f"{enum!r} is not a strawberry enum")
    return definition


def describe_enum_values(enum: object, descriptions: Mapping[str, str]) -> None:
    """Give each value of a strawberry enum its description, by value name."""
    definition = enum_definition(enum)
    definition.values = [
        dataclasses.replace(v, description=descriptions[v.name]) for v in definition.values
    ]


def scalar(
    origin: type,
    *,
    name: str,
    description: str,
    serialize: Callable[[Any], Any],
    parse_value: Callable[[Any], Any],
) -> ScalarDefinition:
    """A scalar for `scalar_overrides` that replaces strawberry's own for `origin`."""
    return ScalarDefinition(
        name=name,
        description=description,
        specified_by_url=None,
        serialize=serialize,
        parse_value=parse_value,
        parse_literal=None,
        origin=origin,
    )


def define_object(
    cls: type,
    *,
    name: str,
    fields: Sequence[StrawberryField],
    is_input: bool,
    description: str | None,
    interfaces: Sequence[StrawberryObjectDefinition],
) -> None:
    """Make `cls` a strawberry type or input, as `strawberry.type`/`strawberry.input` would.

    The fields must already name their class (`origin`) and carry a resolved annotation.
    """
    cls.__strawberry_definition__ = StrawberryObjectDefinition(  # type: ignore[attr-defined]
        name=name,
        is_input=is_input,
        is_interface=False,
        origin=cls,
        description=description,
        interfaces=list(interfaces),
        extend=False,
        directives=(),
        is_type_of=None,
        resolve_type=None,
        fields=list(fields),
    )


def resolved_annotation(annotation: object) -> StrawberryAnnotation:
    """A strawberry annotation of `annotation`, resolved now (fields sharing it skip the work)."""
    found = StrawberryAnnotation(annotation)
    found.resolve()
    return found


def unresolved_annotation(annotation: object) -> StrawberryAnnotation:
    """A strawberry annotation resolved when the schema is built (for forward references)."""
    return StrawberryAnnotation(annotation)


def place_field(
    cls: type, attr: str, annotation: StrawberryAnnotation, given: object
) -> StrawberryField:
    """The field `attr` of `cls` (for `define_object`): `given` is a default or a field.

    A `strawberry.field()` given is taken over (it belongs to this class alone); anything else
    is the default of a plain field.
    """
    if isinstance(given, StrawberryField):
        field = given
        field.python_name = attr
        field.type_annotation = annotation
        field.origin = cls
    else:
        field = StrawberryField(
            python_name=attr, type_annotation=annotation, origin=cls, default=given
        )
    # The annotation is a type, never a strawberry.field(): spare strawberry checking that once
    # per field (it checks each annotation object once per field otherwise).
    field._validated_type_annotation = field.type_annotation
    return field


def definition_origin(concrete: ConcreteType) -> object:
    """The class a converted GraphQL type was made from (None for scalars)."""
    definition = concrete.definition
    if isinstance(definition, StrawberryObjectDefinition):
        return definition.origin
    if isinstance(definition, StrawberryEnumDefinition):
        return definition.wrapped_cls
    return None


class SeededSchema(strawberry.Schema):
    """A strawberry Schema whose converter starts out knowing GraphQL types converted before.

    strawberry converts a class only when its type name is not in the converter's `type_map`
    yet, and the converter is made inside `Schema.__init__`: this hands it the GraphQL types of
    the classes that did not change as it is assigned, so only new classes are converted.
    """

    def __init__(self, seed: Converted, **kwargs: Any) -> None:
        self._yekuo_seed = dict(seed)
        super().__init__(**kwargs)

    @property
    def schema_converter(self) -> Any:
        """The converter (seeded when strawberry assigns it)."""
        return self._yekuo_converter

    @schema_converter.setter
    def schema_converter(self, converter: Any) -> None:
        seed: dict[str, Any] = self.__dict__.pop("_yekuo_seed", {})
        for name, concrete in seed.items():
            converter.type_map.setdefault(name, concrete)
        self._yekuo_converter = converter


def converted_types(
    schema: strawberry.Schema, *, leave_out: Iterable[str] = ()
) -> dict[str, ConcreteType]:
    """The GraphQL types `schema`'s converter made or was seeded with that the schema serves."""
    served = graphql_schema(schema).type_map
    left_out = set(leave_out)
    return {
        name: concrete
        for name, concrete in schema.schema_converter.type_map.items()
        if name in served and name not in left_out
    }


def detach_converter(
    schema: strawberry.Schema, forget: Callable[[str, ConcreteType], bool]
) -> None:
    """Let the GraphQL types `schema` shares with later schemas not keep it alive.

    Resolvers and field thunks made by the converter keep it alive, and with it its `type_map`
    and its schema (`get_fields`). The schema gets its own copy of the converter and map; the
    original converter forgets the types `forget(name, type)` picks and no longer calls back
    into the schema.
    """
    converter = schema.schema_converter
    view = copy.copy(converter)
    view.type_map = dict(converter.type_map)
    schema.schema_converter = view
    for name, concrete in list(converter.type_map.items()):
        if forget(name, concrete):
            del converter.type_map[name]
    converter.get_fields = _definition_fields  # was the schema's method: would keep it alive


def _definition_fields(definition: StrawberryObjectDefinition) -> list[StrawberryField]:
    """What `strawberry.Schema.get_fields` returns, without holding on to a schema."""
    return definition.fields


ExecutionContext = StrawberryGraphQLCoreExecutionContext
"""strawberry's graphql-core execution context, for the project's own to build on."""


def parse_cache_misses(maxsize: int) -> int:
    """How often strawberry's parser cache of `maxsize` entries has parsed a new document."""
    cache: Any = _get_parse_cache(maxsize)  # functools.lru_cache, typed as a plain callable
    misses: int = cache.cache_info().misses
    return misses
