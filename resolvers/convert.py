"""Between metamodel specs and their GraphQL shapes, in both directions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from metamodel import datatypes, item_changes, naming, specs
from schema import common, effect_types, rule_types, span_types
from schema.business_type_types import (
    BusinessTypeDefinition,
    ItemUsage,
    StageUsage,
    Transition,
)
from schema.dictionary_types import DataItem, EnumOption, ItemPropertyChange, UpsertDataItemInput
from schema.effect_types import ArchiveMapping
from schema.library_types import OrgUnit, Post, Stage

LARGEST_ID = 2**63 - 1
"""Rows are numbered by 64-bit integers on both databases."""
NO_ROW = 0
"""An id no row has: what an id that cannot name a row is looked up as."""


def row_id(value: object) -> int:
    """The row an API id names; `NO_ROW` when it cannot name one (not digits, or too large).

    Such an id reads like any other id that names nothing (NOT_FOUND, or null), and never
    reaches the database, whose integers it would overflow.
    """
    text = str(value)
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return NO_ROW
    number = int(text)
    return number if number <= LARGEST_ID else NO_ROW


def given(value: Any, default: Any = None) -> Any:
    """The input value, or `default` when the field was left out or null."""
    return default if value is strawberry.UNSET or value is None else value


def time_limit_out(limit: specs.TimeLimit | None) -> common.TimeLimit | None:
    """A time limit for output."""
    if limit is None:
        return None
    if limit.expression is not None:
        return common.TimeLimit(amount=None, unit=limit.unit, expression=limit.expression)
    return common.TimeLimit(amount=limit.amount, unit=limit.unit)


def time_limit_in(value: Any) -> specs.TimeLimit | None:
    """A time limit from input."""
    value = given(value)
    if value is None:
        return None
    return specs.TimeLimit(
        given(value.amount, 0), specs.TimeUnit(value.unit), given(value.expression)
    )


def data_item_out(item: specs.DataItemSpec, *, is_field: bool = False) -> DataItem:
    """A data item (or a LIST item's field) for output."""
    return DataItem(
        fields=[data_item_out(f, is_field=True) for f in item.fields],
        min_count=item.min_count,
        max_count=item.max_count,
        required=item.required,
        is_field=is_field,
        code=item.code,
        label=item.label,
        type=item.type,
        options=[EnumOption(value=o.value, label=o.label) for o in item.options],
        unit=item.unit,
        min=item.min,
        max=item.max,
        max_length=item.max_length,
        pattern=item.pattern,
        indexed=item.indexed,
        description=item.description,
        scale=datatypes.scale_of(item),
    )


def _kept(value: Any, stored: Any, cleared: Any = None) -> Any:
    """An omitted field keeps the stored value; an explicit null clears it."""
    if value is strawberry.UNSET:
        return stored
    return cleared if value is None else value


def data_item_in(
    value: UpsertDataItemInput,
    before: specs.DataItemSpec | None,
    *,
    at: tuple[str | int, ...] = ("input",),
) -> specs.DataItemSpec | list[common.UserError]:
    """The item an upsert asks for: `before` with what the input names; REQUIRED errors else.

    A new item (no `before`) needs a label and a type; an existing one keeps them when they are
    omitted or null, and keeps every other property the input leaves out (its scale only while
    its type stays). A LIST's fields, when given, are given whole, as new items.
    """
    label = given(value.label, before.label if before else None)
    item_type = given(value.type, before.type if before else None)
    missing = [
        common.user_error(common.ErrorCode.REQUIRED, f"a new data item needs a {name}", (*at, name))
        for name, found in (("label", label), ("type", item_type))
        if found is None
    ]
    fields = _fields_in(value, at)
    if isinstance(fields, list):
        missing += fields
    if missing or isinstance(fields, list):
        return missing
    stored = before or specs.DataItemSpec(value.code, label, specs.ItemType(item_type))
    options = _kept(value.options, None, [])
    return specs.DataItemSpec(
        code=value.code,
        label=label,
        type=specs.ItemType(item_type),
        options=stored.options
        if options is None
        else tuple(specs.EnumOption(o.value, o.label) for o in options),
        unit=_kept(value.unit, stored.unit),
        min=_kept(value.min, stored.min),
        max=_kept(value.max, stored.max),
        max_length=_kept(value.max_length, stored.max_length),
        pattern=_kept(value.pattern, stored.pattern),
        indexed=bool(_kept(value.indexed, stored.indexed, False)),
        description=_kept(value.description, stored.description),
        # Places belong to one type's values: a new type starts without the old one's scale.
        scale=_kept(
            value.scale, stored.scale if stored.type == specs.ItemType(item_type) else None
        ),
        fields=stored.fields if fields is None else fields,
        min_count=_kept(value.min_count, stored.min_count),
        max_count=_kept(value.max_count, stored.max_count),
        required=bool(_kept(value.required, stored.required, False)),
    )


def _fields_in(
    value: UpsertDataItemInput, at: tuple[str | int, ...]
) -> tuple[specs.DataItemSpec, ...] | list[common.UserError] | None:
    """A LIST's fields as given (None: left out, kept), each whole; REQUIRED errors else."""
    if value.fields is strawberry.UNSET:
        return None
    found: list[specs.DataItemSpec] = []
    errors: list[common.UserError] = []
    for index, field in enumerate(value.fields or ()):
        made = data_item_in(field, None, at=(*at, "fields", index))
        if isinstance(made, list):
            errors += made
        else:
            found.append(made)
    return errors or tuple(found)


def item_property(name: str) -> str:
    """A data item property as GraphQL names it: max_length -> maxLength; options.X stays."""
    head, dot, rest = name.partition(".")
    return naming.camel(head) + dot + rest


def item_changes_out(
    found: Sequence[item_changes.PropertyChange],
) -> list[ItemPropertyChange]:
    """Property changes of a data item for output."""
    return [
        ItemPropertyChange(property=item_property(c.property), before=c.before, after=c.after)
        for c in found
    ]


def stage_out(stage: specs.StageSpec) -> Stage:
    """A library stage for output."""
    return Stage(
        code=stage.code,
        name=stage.name,
        time_limit=time_limit_out(stage.time_limit),
        description=stage.description,
    )


def post_out(post: specs.PostSpec) -> Post:
    """A post for output."""
    return Post(code=post.code, name=post.name, description=post.description)


def org_unit_out(code: str, name: str, path: str, parent: str | None) -> OrgUnit:
    """An org unit for output."""
    return OrgUnit(code=code, name=name, parent=parent, path=[p for p in path.split("/") if p])


def definition_out(spec: specs.BusinessTypeSpec) -> BusinessTypeDefinition:
    """A business type definition for output."""
    return BusinessTypeDefinition(
        code=spec.code,
        name=spec.name,
        group=spec.group,
        priority=spec.priority,
        description=spec.description,
        time_limit=time_limit_out(spec.time_limit),
        items=[
            ItemUsage(
                item=u.item,
                required_at=list(u.required_at),
                editable_at=list(u.editable_at),
                visible_to=list(u.visible_to),
                compute=u.compute,
            )
            for u in spec.items
        ],
        stages=[
            StageUsage(
                stage=s.stage,
                time_limit=time_limit_out(s.time_limit),
                outcomes=list(s.outcomes),
                requires_payment=s.requires_payment,
                waits_for_customer=s.waits_for_customer,
                join=s.join,
                end=s.end,
                reason=s.reason,
            )
            for s in spec.stages
        ],
        transitions=[
            Transition(from_=t.from_stage, outcome=t.outcome, to=list(t.to), condition=t.condition)
            for t in spec.transitions
        ],
        start=spec.start,
        archive=[ArchiveMapping(field=a.field, item=a.item) for a in spec.archive],
        effects=[effect_types.effect_out(e) for e in spec.effects],
        customer_requirement=effect_types.requirement_out(spec.customer_requirement),
        requires_customer=effect_types.needs_customer(spec),
        spans=span_types.spans_out(spec.spans, time_limit_out),
        rules=[rule_types.rule_out(r) for r in spec.rules],
    )
