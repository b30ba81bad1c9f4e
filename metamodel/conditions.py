"""Transition conditions: what a business type's conditions may name, and what is wrong with one.

A condition is an expression (docs/expressions.md) over the case's data items. Only the items
the business type uses are in scope: a condition on an item its cases never collect could never
be true on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from metamodel.expressions import checker, types
from metamodel.specs import BusinessTypeSpec, DataItemSpec, ItemType


@dataclass(frozen=True, slots=True)
class Scope:
    """The variables a condition may name, and the values of the ENUM ones."""

    variables: Mapping[str, ItemType]
    enum_values: Mapping[str, frozenset[str]]
    fields: types.Fields
    """The fields of the LIST items among `variables`."""


def scope(spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]) -> Scope:
    """The items `spec` uses (those in the dictionary `items`), as condition variables."""
    used = [items[u.item] for u in spec.items if u.item in items]
    return Scope(
        variables={item.code: item.type for item in used},
        enum_values={
            item.code: frozenset(option.value for option in item.options)
            for item in used
            if item.type is ItemType.ENUM
        },
        fields=types.list_fields({item.code: item for item in used}),
    )


def faults(condition: str, within: Scope) -> list[str]:
    """What is wrong with a condition, each naming it; empty when it is a sound boolean."""
    if not condition.strip():
        return ["condition is empty; leave it out for a transition that always applies"]
    messages = checker.check(
        condition,
        within.variables,
        expected=types.ExprType.BOOLEAN,
        enum_values=within.enum_values,
        fields=within.fields,
    )
    return [f"condition '{types.excerpt(condition)}': {message}" for message in messages]
