"""What schema/strawberry_compat.py assumes of the installed strawberry, checked one by one.

The module reaches into strawberry's undocumented internals; if an upgrade moves one of them,
the check of that assumption fails here, naming it, before anything subtler breaks. (No
`from __future__ import annotations`: the local classes below annotate with local names.)
"""

import enum
import gc
import importlib.metadata
import tomllib
import weakref
from pathlib import Path
from typing import Any

import pytest
import strawberry
from graphql import GraphQLSchema, print_schema
from packaging.requirements import Requirement
from strawberry.extensions import ValidationCache
from strawberry.types.field import StrawberryField

from schema import strawberry_compat as compat

ROOT = Path(__file__).resolve().parents[2]
PINNED = ("strawberry-graphql", "graphql-core")


@strawberry.type(description="The root.")
class Query:
    """A minimal root type."""

    @strawberry.field(description="A greeting.")
    def hello(self) -> str:
        """Hello."""
        return "hello"


@strawberry.type(description="A thing.")
class Thing:
    """A static type the seeded schemas share."""

    name: str = strawberry.field(description="Its name.")


def test_the_installed_versions_are_the_pinned_ones() -> None:
    """The internals were checked on the pinned versions; others must be checked again."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = {
        r.name: r for r in map(Requirement, project["project"]["dependencies"]) if r.name in PINNED
    }
    assert requirements.keys() == set(PINNED)
    for name, requirement in requirements.items():
        installed = importlib.metadata.version(name)
        assert requirement.specifier.contains(installed), f"{name} {installed} {requirement}"
        # Tight: nothing past the minor version the compat module was checked on.
        upper = [s for s in requirement.specifier if s.operator in {"<", "=="}]
        assert upper, f"{name} needs an upper bound"


def test_graphql_schema_is_the_graphql_core_schema_served() -> None:
    schema = strawberry.Schema(query=Query)
    found = compat.graphql_schema(schema)
    assert isinstance(found, GraphQLSchema)
    assert found.query_type is not None and found.query_type.name == "Query"
    assert print_schema(found) == schema.as_str()


def test_the_validation_cache_is_shared_by_size_and_cleared() -> None:
    schema = strawberry.Schema(query=Query, extensions=[lambda: ValidationCache(maxsize=7)])
    assert schema.execute_sync("{ hello }").data == {"hello": "hello"}
    # The compat module reaches the very cache ValidationCache(maxsize=7) fills.
    from strawberry.extensions.validation_cache import _get_validate_cache

    cache: Any = _get_validate_cache(7)
    assert cache.cache_info().currsize >= 1
    compat.clear_validation_cache(7)
    assert cache.cache_info().currsize == 0


def test_enum_values_get_their_descriptions() -> None:
    class Colour(enum.Enum):
        RED = "red"
        BLUE = "blue"

    wrapped = strawberry.enum(Colour, name="Colour", description="A colour.")
    assert compat.enum_definition(wrapped).name == "Colour"
    compat.describe_enum_values(wrapped, {"RED": "Like blood.", "BLUE": "Like the sky."})

    @strawberry.type(description="The root.")
    class Root:
        colour: wrapped = strawberry.field(default=Colour.RED, description="A colour.")  # type: ignore[valid-type]

    sdl = strawberry.Schema(query=Root).as_str()
    assert '"""Like blood."""\n  RED' in sdl
    assert '"""Like the sky."""\n  BLUE' in sdl

    class Plain(enum.Enum):
        ONE = 1

    with pytest.raises(TypeError, match="not a strawberry enum"):
        compat.enum_definition(Plain)


def test_a_scalar_overrides_strawberry_s_own() -> None:
    def parse(value: object) -> int:
        return int(str(value)) * 2

    doubled = compat.scalar(
        int, name="Doubled", description="Doubled on the way in.", serialize=str, parse_value=parse
    )

    @strawberry.type(description="The root.")
    class Root:
        @strawberry.field(description="The value back.")
        def echo(self, value: int) -> int:
            """The value back."""
            return value

    schema = strawberry.Schema(query=Root, scalar_overrides={int: doubled})
    assert '"""Doubled on the way in."""\nscalar Doubled' in schema.as_str()
    result = schema.execute_sync("query ($v: Doubled!) { echo(value: $v) }", {"v": "21"})
    assert result.errors is None
    assert result.data == {"echo": "42"}


def test_a_class_defined_directly_is_the_type_strawberry_type_makes() -> None:
    @strawberry.type(description="A pair.")
    class Pair:
        left: str = strawberry.field(description="The left one.")
        right: int | None = None

    made = type("Pair", (), {"__module__": __name__})
    fields = [
        compat.place_field(
            made,
            "left",
            compat.resolved_annotation(str),
            strawberry.field(description="The left one."),
        ),
        compat.place_field(made, "right", compat.resolved_annotation(int | None), None),
    ]
    # strawberry skips checking an annotation it has validated: the field says it is checked.
    assert all(f._validated_type_annotation is f.type_annotation for f in fields)
    compat.define_object(
        made, name="Pair", fields=fields, is_input=False, description="A pair.", interfaces=()
    )

    def sdl(kind: type) -> str:
        @strawberry.type(description="The root.")
        class Root:
            @strawberry.field(description="A pair.")
            def pair(self) -> kind:  # type: ignore[valid-type]
                """A pair (only printed, never resolved)."""
                raise NotImplementedError

        return strawberry.Schema(query=Root).as_str()

    assert sdl(made) == sdl(Pair)
    assert isinstance(fields[0], StrawberryField)


def test_an_unresolved_annotation_can_name_its_own_class() -> None:
    made = type("Node", (), {"__module__": __name__})
    # Placed with a stand-in type, then pointed at the class itself, as self-references are.
    field = compat.place_field(made, "next", compat.resolved_annotation(str | None), None)
    field.type_annotation = compat.unresolved_annotation(made | None)
    compat.define_object(
        made, name="Node", fields=[field], is_input=False, description="A node.", interfaces=()
    )

    @strawberry.type(description="The root.")
    class Root:
        @strawberry.field(description="A node.")
        def node(self) -> made:  # type: ignore[valid-type]
            """A node (only printed, never resolved)."""
            raise NotImplementedError

    assert "type Node {\n  next: Node\n}" in strawberry.Schema(query=Root).as_str()


def test_a_seeded_schema_reuses_converted_types_and_detaches() -> None:
    @strawberry.type(description="The root.")
    class Root:
        @strawberry.field(description="A thing.")
        def thing(self) -> Thing:
            """A thing."""
            return Thing(name="x")

    first = compat.SeededSchema({}, query=Root)
    converted = compat.converted_types(first, leave_out={"Query", "Root"})
    assert "Thing" in converted and "Root" not in converted
    assert compat.definition_origin(converted["Thing"]) is Thing
    assert set(converted) <= set(compat.graphql_schema(first).type_map)
    thing = compat.graphql_schema(first).type_map["Thing"]

    compat.detach_converter(first, lambda name, _: name == "Root")
    second = compat.SeededSchema(converted, query=Root)
    # The seed is taken as is: the GraphQL type object is the first schema's.
    assert compat.graphql_schema(second).type_map["Thing"] is thing
    assert first.execute_sync("{ thing { name } }").data == {"thing": {"name": "x"}}
    assert second.execute_sync("{ thing { name } }").data == {"thing": {"name": "x"}}

    # Detached, the shared types no longer keep a schema alive.
    compat.detach_converter(second, lambda name, _: name == "Root")
    gone = weakref.ref(first)
    del first
    gc.collect()
    assert gone() is None
