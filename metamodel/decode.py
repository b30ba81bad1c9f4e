"""Plain data (YAML, stored JSON, API input) decoded into the frozen specs, by declared types.

Every shape is declared once, as the msgspec structures below, and checked by msgspec before a
spec is built: a text where a list belongs is refused, never iterated (`to: connect` is not the
stages c, o, n, …), an unknown field is refused rather than ignored, and a missing one is named.
A refusal is `Malformed`, with the path of the offending field as `business_types[0].
transitions[2].to`, and a message that says what was expected and what was found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from metamodel import decode_effects, decode_rules, refusals
from metamodel.effect_specs import CaseEnd, EffectSpec
from metamodel.refusals import Malformed as Malformed
from metamodel.specs import (
    DEFAULT_OUTCOME,
    ArchiveField,
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    EnumOption,
    FeeRuleSpec,
    FeeRuleStatus,
    ItemType,
    ItemUsage,
    OrgUnitSpec,
    PostSpec,
    ResponsibilitySpec,
    SpanSpec,
    StageSpec,
    StageUsage,
    TimeLimit,
    TimeUnit,
    TransitionSpec,
)


class _In(msgspec.Struct, forbid_unknown_fields=True):
    """A declared shape: unknown fields are refused."""


Texts = tuple[str, ...] | None
Literal = str | int | float | None
"""A value people write either quoted or bare in YAML (`amount: 50` as well as `"50.00"`)."""


class _EnumOptionIn(_In):
    value: str
    label: str


class _TimeLimitIn(_In):
    unit: TimeUnit
    amount: int | None = None
    expression: str | None = None


class _SpanIn(_In):
    code: str
    name: str
    from_stage: str
    time_limit: _TimeLimitIn
    to_stage: str | None = None


class _DataItemIn(_In):
    code: str
    label: str
    type: ItemType
    options: tuple[_EnumOptionIn, ...] | None = None
    unit: str | None = None
    min: Literal = None
    max: Literal = None
    max_length: int | None = None
    pattern: str | None = None
    indexed: bool | None = None
    description: str | None = None
    scale: int | None = None
    fields: tuple[_DataItemIn, ...] | None = None
    min_count: int | None = None
    max_count: int | None = None
    required: bool | None = None


class _StageIn(_In):
    code: str
    name: str
    time_limit: _TimeLimitIn | None = None
    description: str | None = None


class _PostIn(_In):
    code: str
    name: str
    description: str | None = None


class _OrgUnitIn(_In):
    code: str
    name: str
    parent: str | None = None


class _ItemUsageIn(_In):
    item: str
    required_at: Texts = None
    editable_at: Texts = None
    visible_to: Texts = None
    compute: str | None = None


class _StageUsageIn(_In):
    stage: str
    time_limit: _TimeLimitIn | None = None
    outcomes: Texts = None
    requires_payment: bool | None = None
    waits_for_customer: bool | None = None
    join: bool | None = None
    end: CaseEnd | None = None
    reason: str | None = None


class _TransitionIn(_In):
    from_: str = msgspec.field(name="from")
    to: tuple[str, ...] = ()
    outcome: str | None = None
    condition: str | None = None


class _ArchiveIn(_In):
    field: str
    item: str


class _BusinessTypeIn(_In):
    code: str
    name: str
    group: BusinessGroup | None = None
    priority: int | None = None
    description: str | None = None
    time_limit: _TimeLimitIn | None = None
    items: tuple[_ItemUsageIn, ...] | None = None
    stages: tuple[_StageUsageIn, ...] | None = None
    transitions: tuple[_TransitionIn, ...] | None = None
    start: str | None = None
    archive: tuple[_ArchiveIn, ...] | None = None
    effects: tuple[decode_effects.EffectIn, ...] | None = None
    customer_requirement: decode_effects.CustomerRequirementIn | None = None
    spans: tuple[_SpanIn, ...] | None = None
    rules: tuple[decode_rules.RuleIn, ...] | None = None


class _FeeRuleIn(_In):
    code: str
    name: str
    stage: str
    amount: str | int | float
    business_types: Texts = None
    condition: str | None = None
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    status: FeeRuleStatus | None = None
    description: str | None = None
    pay_at: str | None = None


class _ResponsibilityIn(_In):
    stage: str
    post: str
    business_type: str | None = None
    org_unit: str | None = None


class _VersionIn(_In):
    version: int
    spec: _BusinessTypeIn
    items: tuple[_DataItemIn, ...] = ()
    stages: tuple[_StageIn, ...] = ()


class _BundleIn(_In):
    data_items: tuple[_DataItemIn, ...] | None = None
    stages: tuple[_StageIn, ...] | None = None
    posts: tuple[_PostIn, ...] | None = None
    org_units: tuple[_OrgUnitIn, ...] | None = None
    business_types: tuple[_BusinessTypeIn, ...] | None = None
    responsibilities: tuple[_ResponsibilityIn, ...] | None = None
    fee_rules: tuple[_FeeRuleIn, ...] | None = None
    drafts: tuple[_BusinessTypeIn, ...] | None = None


SECTIONS = tuple(_BundleIn.__struct_fields__)
"""The sections of a metamodel file, as they are named in it."""

In = TypeVar("In", bound=_In)


def _convert(raw: Any, shape: type[In], prefix: str) -> In:
    try:
        return msgspec.convert(raw, shape)
    except msgspec.ValidationError as error:
        top = SECTIONS if shape is _BundleIn else ()
        raise refusals.refusal(str(error), raw, prefix, sections=top) from None


def _text(value: str | int | float | None) -> str | None:
    return None if value is None else str(value)


def _limit(raw: _TimeLimitIn | None) -> TimeLimit | None:
    """A limit; an expression limit keeps amount 0 (unused), a bare one missing its amount too."""
    if raw is None:
        return None
    return TimeLimit(raw.amount or 0, raw.unit, raw.expression)


def _span(raw: _SpanIn) -> SpanSpec:
    limit = _limit(raw.time_limit)
    assert limit is not None
    return SpanSpec(raw.code, raw.name, raw.from_stage, raw.to_stage, limit)


def _data_item(raw: _DataItemIn) -> DataItemSpec:
    return DataItemSpec(
        code=raw.code,
        label=raw.label,
        type=raw.type,
        options=tuple(EnumOption(o.value, o.label) for o in raw.options or ()),
        unit=raw.unit,
        min=_text(raw.min),
        max=_text(raw.max),
        max_length=raw.max_length,
        pattern=raw.pattern,
        indexed=bool(raw.indexed),
        description=raw.description,
        scale=raw.scale,
        fields=tuple(_data_item(f) for f in raw.fields or ()),
        min_count=raw.min_count,
        max_count=raw.max_count,
        required=bool(raw.required),
    )


def _stage(raw: _StageIn) -> StageSpec:
    return StageSpec(raw.code, raw.name, _limit(raw.time_limit), raw.description)


def _effects(raw: _BusinessTypeIn) -> tuple[EffectSpec, ...]:
    """The declared effects; a type that leaves the key out gets its group's defaults."""
    archive = tuple(ArchiveField(a.field, a.item) for a in raw.archive or ())
    items = tuple(u.item for u in raw.items or ())
    return decode_effects.effects(raw.effects, raw.group or BusinessGroup.OTHER, archive, items)


def _business_type(raw: _BusinessTypeIn) -> BusinessTypeSpec:
    return BusinessTypeSpec(
        code=raw.code,
        name=raw.name,
        group=raw.group or BusinessGroup.OTHER,
        priority=raw.priority or 0,
        description=raw.description,
        time_limit=_limit(raw.time_limit),
        items=tuple(
            ItemUsage(
                u.item, u.required_at or (), u.editable_at or (), u.visible_to or (), u.compute
            )
            for u in raw.items or ()
        ),
        stages=tuple(
            StageUsage(
                stage=s.stage,
                time_limit=_limit(s.time_limit),
                outcomes=s.outcomes or (DEFAULT_OUTCOME,),
                requires_payment=bool(s.requires_payment),
                waits_for_customer=bool(s.waits_for_customer),
                join=bool(s.join),
                end=s.end,
                reason=s.reason,
            )
            for s in raw.stages or ()
        ),
        transitions=tuple(
            TransitionSpec(t.from_, t.to, t.outcome or DEFAULT_OUTCOME, t.condition)
            for t in raw.transitions or ()
        ),
        start=raw.start,
        archive=tuple(ArchiveField(a.field, a.item) for a in raw.archive or ()),
        effects=_effects(raw),
        customer_requirement=decode_effects.requirement(raw.customer_requirement),
        spans=tuple(_span(s) for s in raw.spans or ()),
        rules=decode_rules.rules(raw.rules),
    )


def _fee_rule(raw: _FeeRuleIn) -> FeeRuleSpec:
    return FeeRuleSpec(
        code=raw.code,
        name=raw.name,
        stage=raw.stage,
        amount=str(raw.amount),
        business_types=raw.business_types or (),
        condition=raw.condition,
        effective_from=raw.effective_from,
        effective_to=raw.effective_to,
        status=raw.status or FeeRuleStatus.ACTIVE,
        description=raw.description,
        pay_at=raw.pay_at,
    )


def _responsibility(raw: _ResponsibilityIn) -> ResponsibilitySpec:
    return ResponsibilitySpec(raw.stage, raw.post, raw.business_type, raw.org_unit)


def data_item(raw: Any, *, at: str = "") -> DataItemSpec:
    """A data item; Malformed with the path (after `at`) of a field of the wrong shape."""
    return _data_item(_convert(raw, _DataItemIn, at))


def stage(raw: Any, *, at: str = "") -> StageSpec:
    """A library stage."""
    return _stage(_convert(raw, _StageIn, at))


def post(raw: Any, *, at: str = "") -> PostSpec:
    """A post."""
    found = _convert(raw, _PostIn, at)
    return PostSpec(found.code, found.name, found.description)


def org_unit(raw: Any, *, at: str = "") -> OrgUnitSpec:
    """An org unit."""
    found = _convert(raw, _OrgUnitIn, at)
    return OrgUnitSpec(found.code, found.name, found.parent)


def business_type(raw: Any, *, at: str = "") -> BusinessTypeSpec:
    """A business type definition (a draft or a version's spec)."""
    return _business_type(_convert(raw, _BusinessTypeIn, at))


def fee_rule(raw: Any, *, at: str = "") -> FeeRuleSpec:
    """A fee rule; dates as ISO texts or dates."""
    return _fee_rule(_convert(raw, _FeeRuleIn, at))


def responsibility(raw: Any, *, at: str = "") -> ResponsibilitySpec:
    """A responsibility."""
    return _responsibility(_convert(raw, _ResponsibilityIn, at))


def time_limit(raw: Any, *, at: str = "") -> TimeLimit | None:
    """A time limit, or None for None."""
    return None if raw is None else _limit(_convert(raw, _TimeLimitIn, at))


def version(raw: Any, *, at: str = "") -> BusinessTypeVersion:
    """A published version with the dictionary entries and stages it froze."""
    found = _convert(raw, _VersionIn, at)
    items = (_data_item(i) for i in found.items)
    stages = (_stage(s) for s in found.stages)
    return BusinessTypeVersion(
        spec=_business_type(found.spec),
        version=found.version,
        items={i.code: i for i in items},
        stages={s.code: s for s in stages},
    )


Sections = dict[str, tuple[Any, ...]]


def sections(raw: Any) -> Sections:
    """Every section of a metamodel file as specs, by section name (absent sections empty)."""
    if not isinstance(raw, Mapping):
        raise Malformed("(top)", "a metamodel file is a mapping of sections")
    found = _convert(raw, _BundleIn, "")
    return {
        "data_items": tuple(_data_item(i) for i in found.data_items or ()),
        "stages": tuple(_stage(s) for s in found.stages or ()),
        "posts": tuple(PostSpec(p.code, p.name, p.description) for p in found.posts or ()),
        "org_units": tuple(OrgUnitSpec(u.code, u.name, u.parent) for u in found.org_units or ()),
        "business_types": tuple(_business_type(t) for t in found.business_types or ()),
        "responsibilities": tuple(_responsibility(r) for r in found.responsibilities or ()),
        "fee_rules": tuple(_fee_rule(r) for r in found.fee_rules or ()),
        "drafts": tuple(_business_type(t) for t in found.drafts or ()),
    }
