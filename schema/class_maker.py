"""Strawberry classes made directly, for the GraphQL types generated from the metadata.

A generated class is a plain class with a keyword `__init__` and a strawberry definition whose
fields share one resolved annotation per distinct type. `strawberry.type` would run
`dataclasses` (compiling an `__init__` per class) and resolve every field's annotation several
times, about six times slower for the same schema. Every class and enum a generation makes is
made here, so resolved annotations of static types can be told apart and shared for good.
"""

from __future__ import annotations

import dataclasses
import keyword
import typing
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import get_object_definition
from strawberry.types.field import StrawberryField

from schema import strawberry_compat as compat


def attr_name(code: str) -> str:
    """The Python attribute of an item on generated classes (codes may be Python keywords)."""
    return code + "_" if keyword.iskeyword(code) or keyword.issoftkeyword(code) else code


Annotations = dict[Any, compat.Annotation]
"""Resolved annotations by annotation, shared by the fields of the classes built together."""

_GENERATED = "__yekuo_generated__"
"""Marks a class made for the metadata (not part of the static schema)."""

_STATIC_ANNOTATIONS: Annotations = {}
"""Resolved annotations made only of static types (`str | None`, `StringFilter | None`, …)."""


def _is_static(annotation: Any) -> bool:
    """Whether an annotation names no class made in this module (generated, or made here)."""
    if isinstance(annotation, type):
        return annotation.__module__ != __name__
    arguments = typing.get_args(annotation)
    return bool(arguments) and all(a is type(None) or _is_static(a) for a in arguments)


def _annotation(annotation: Any, cache: Annotations) -> compat.Annotation:
    """One resolved strawberry annotation per distinct type, resolved once.

    Annotations of static types are shared by every generated class; the others by the
    classes built together (`cache`), so an old generation's classes are not kept alive.
    """
    found = _STATIC_ANNOTATIONS.get(annotation) or cache.get(annotation)
    if found is None:
        found = compat.resolved_annotation(annotation)
        (_STATIC_ANNOTATIONS if _is_static(annotation) else cache)[annotation] = found
    return found


def _init(self: Any, **values: Any) -> None:
    """`__init__` of generated classes: the class's defaults, then the given values."""
    cls = type(self)
    unknown = values.keys() - cls.__yekuo_fields__
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    state = self.__dict__
    state.update(cls.__yekuo_defaults__)
    for name, factory in cls.__yekuo_factories__.items():
        state[name] = factory()
    state.update(values)


def _repr(self: Any) -> str:
    return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


def _eq(self: Any, other: object) -> bool:
    same: bool = type(other) is type(self) and vars(self) == vars(other)
    return same


def make(
    name: str,
    fields: Mapping[str, tuple[Any, Any]],
    *,
    is_input: bool = False,
    description: str | None = None,
    bases: tuple[type, ...] = (),
    annotations: Annotations | None = None,
) -> type:
    """A strawberry class from (annotation, default-or-field) pairs by attribute name.

    What `strawberry.type`/`strawberry.input` would make (the same GraphQL type, fields in the
    same order, inherited fields and interfaces from strawberry `bases`), built directly.
    """
    cache: Annotations = {} if annotations is None else annotations
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    collected: dict[str, StrawberryField] = {}
    interfaces: list[compat.ObjectDefinition] = []
    for base in bases:
        for known in dataclasses.fields(base):
            if known.default is not dataclasses.MISSING:
                defaults[known.name] = known.default
            elif known.default_factory is not dataclasses.MISSING:
                factories[known.name] = known.default_factory
        definition = get_object_definition(base, strict=True)
        collected.update({f.python_name: f for f in definition.fields})
        for interface in (definition, *definition.interfaces):
            if interface.is_interface and interface not in interfaces:
                interfaces.append(interface)
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__init__": _init,
        "__repr__": _repr,
        "__eq__": _eq,
        "__hash__": None,
    }
    cls = type(name, bases, namespace)
    for attr, (annotation, given) in fields.items():
        field = compat.place_field(cls, attr, _annotation(annotation, cache), given)
        if field.default is not dataclasses.MISSING:
            defaults[attr] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            factories[attr] = field.default_factory
        collected[attr] = field
    names = {f.name for b in bases for f in dataclasses.fields(b)} | set(fields)
    cls.__yekuo_fields__ = frozenset(names)  # type: ignore[attr-defined]
    cls.__yekuo_defaults__ = defaults  # type: ignore[attr-defined]
    cls.__yekuo_factories__ = factories  # type: ignore[attr-defined]
    compat.define_object(
        cls,
        name=name,
        fields=list(collected.values()),
        is_input=is_input,
        description=description,
        interfaces=interfaces,
    )
    return cls


def mark(classes: Iterable[type]) -> frozenset[type]:
    """Mark classes as generated (see `is_generated`); returns them."""
    marked = frozenset(classes)
    for cls in marked:
        setattr(cls, _GENERATED, True)
    return marked


def is_generated(cls: object) -> bool:
    """Whether a class was generated for the metadata rather than part of the static schema."""
    return isinstance(cls, type) and bool(cls.__dict__.get(_GENERATED, False))


def retype(cls: type, python_name: str, annotation: Any) -> None:
    """Point a field at a type that only exists after its class (self-references)."""
    definition = get_object_definition(cls, strict=True)
    for field in definition.fields:
        if field.python_name == python_name:
            field.type_annotation = compat.unresolved_annotation(annotation)


def make_enum(name: str, options: Iterable[tuple[str, str]], *, description: str) -> type[Enum]:
    """A strawberry enum of (value, description) options, marked as generated."""
    members = {value: strawberry.enum_value(value, description=label) for value, label in options}
    python_enum = Enum(name, members, module=__name__)  # type: ignore[misc]
    made: type[Enum] = strawberry.enum(python_enum, description=description)
    mark([made])
    return made
