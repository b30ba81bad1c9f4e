"""Publish-time checks of a business type's archive effects and customer requirement.

An effect is checked where an administrator can still fix it, not when a case completes and
the file would be half written: every item it reads exists in the type and has a type the
target field accepts, the fields an effect cannot do without are filled (through the rules of
`metamodel.effect_sources`), kinds that work per entry name a LIST item, and an effect runs on
an end the type has. Paths name the `saveBusinessTypeDraft` input, e.g.
`("effects", 2, "fields", 0, "item")`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping

from metamodel import graph, naming
from metamodel.effect_sources import Source, Via, candidates, source
from metamodel.effect_specs import (
    CREATES_CUSTOMER,
    EFFECT_FIELDS,
    ENTRIES_ALLOWED,
    ENTRIES_REQUIRED,
    NEEDS_NO_CUSTOMER,
    REQUIRED_FIELDS,
    CaseEnd,
    CustomerStatus,
    EffectKind,
    EffectSpec,
    requires_customer,
)
from metamodel.specs import BusinessTypeSpec, DataItemSpec, ItemType, Problem

UNKNOWN_ITEM = "UNKNOWN_ITEM"
DUPLICATE = "DUPLICATE"
UNKNOWN_END = "UNKNOWN_END"
UNKNOWN_EFFECT_FIELD = "UNKNOWN_EFFECT_FIELD"
WRONG_ITEM_TYPE = "WRONG_ITEM_TYPE"
NOT_A_LIST = "NOT_A_LIST"
ENTRIES_REQUIRED_CODE = "ENTRIES_REQUIRED"
ENTRIES_NOT_ALLOWED = "ENTRIES_NOT_ALLOWED"
MISSING_EFFECT_FIELD = "MISSING_EFFECT_FIELD"
MISSING_SUSPENSION = "MISSING_SUSPENSION"
OPTION_NOT_ALLOWED = "OPTION_NOT_ALLOWED"
BAD_STATUS = "BAD_STATUS"
BAD_CONTRACT_TYPE = "BAD_CONTRACT_TYPE"
NO_CUSTOMER = "NO_CUSTOMER"

PROBLEM_CODES = frozenset(
    {
        UNKNOWN_ITEM,
        DUPLICATE,
        UNKNOWN_END,
        UNKNOWN_EFFECT_FIELD,
        WRONG_ITEM_TYPE,
        NOT_A_LIST,
        ENTRIES_REQUIRED_CODE,
        ENTRIES_NOT_ALLOWED,
        MISSING_EFFECT_FIELD,
        MISSING_SUSPENSION,
        OPTION_NOT_ALLOWED,
        BAD_STATUS,
        BAD_CONTRACT_TYPE,
        NO_CUSTOMER,
    }
)
"""Every problem code `check` reports."""

SUSPENSION_KINDS = frozenset({EffectKind.SUSPEND, EffectKind.RESTORE})
"""Kinds that open or close a period, and so name its `suspension` kind."""
CONTRACT_KINDS = frozenset(
    {EffectKind.START_CONTRACT, EffectKind.AMEND_CONTRACT, EffectKind.TERMINATE_CONTRACT}
)
"""Kinds that act on a contract, and so may name its `contract_type`."""
CREATED_STATUSES = frozenset({CustomerStatus.ACTIVE, CustomerStatus.TEMPORARY})
"""What CREATE_CUSTOMER may make an account: closed or suspended is never where one starts."""
CONTRACT_TYPE_WIDTH = 40
"""The most characters the file keeps of a contract type."""

Path = tuple[str | int, ...]


def ends(spec: BusinessTypeSpec) -> frozenset[CaseEnd]:
    """The ends the type can reach: those of its stages with no way out (absent: COMPLETED)."""
    final = graph.end_stages(spec)
    return frozenset(s.end or CaseEnd.COMPLETED for s in spec.stages if s.stage in final)


def check(spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]) -> Iterator[Problem]:
    """Every problem of the type's effects and customer requirement against the dictionary."""
    reachable = ends(spec)
    for i, effect in enumerate(spec.effects):
        path: Path = ("effects", i)
        if effect.end not in reachable:
            yield Problem(
                UNKNOWN_END,
                f"the type has no {effect.end.value} end (no end stage declares it), so this "
                "effect would never run",
                (*path, "end"),
            )
        yield from _check_options(effect, path)
        entries_ok = yield from _check_entries(spec, effect, items, path)
        yield from _check_fields(spec, effect, items, path, entries_ok)
    yield from _check_customer(spec)
    yield from _check_requirement(spec)


def _check_options(effect: EffectSpec, path: Path) -> Iterator[Problem]:
    kind = effect.kind.value
    if effect.kind in SUSPENSION_KINDS and effect.suspension is None:
        yield Problem(
            MISSING_SUSPENSION,
            f"{kind} names the kind of period it acts on (SUSPENSION, REDUCTION, SWAP or "
            "DISCONNECTION)",
            (*path, "suspension"),
        )
    if effect.kind not in SUSPENSION_KINDS and effect.suspension is not None:
        yield _not_allowed("suspension", "SUSPEND and RESTORE", kind, (*path, "suspension"))
    if effect.status is not None:
        if effect.kind is not EffectKind.CREATE_CUSTOMER:
            yield _not_allowed("status", "CREATE_CUSTOMER", kind, (*path, "status"))
        elif effect.status not in CREATED_STATUSES:
            yield Problem(
                BAD_STATUS,
                f"a customer is created ACTIVE or TEMPORARY, not {effect.status.value}",
                (*path, "status"),
            )
    if effect.contract_type is not None:
        if effect.kind not in CONTRACT_KINDS:
            yield _not_allowed(
                "contractType", "the contract effects", kind, (*path, "contractType")
            )
        elif (
            not naming.ENUM_VALUE_PATTERN.match(effect.contract_type)
            or len(effect.contract_type) > CONTRACT_TYPE_WIDTH
        ):
            yield Problem(
                BAD_CONTRACT_TYPE,
                f"contract type '{effect.contract_type}' must be UPPER_SNAKE (such as "
                f"HIGH_VOLTAGE) of at most {CONTRACT_TYPE_WIDTH} characters",
                (*path, "contractType"),
            )


def _not_allowed(option: str, kinds: str, kind: str, path: Path) -> Problem:
    return Problem(OPTION_NOT_ALLOWED, f"{option} is only for {kinds}, not {kind}", path)


def _check_entries(
    spec: BusinessTypeSpec, effect: EffectSpec, items: Mapping[str, DataItemSpec], path: Path
) -> Generator[Problem, None, bool]:
    """Problems of `entries`; returns whether the effect's fields can be resolved at all."""
    kind = effect.kind.value
    at = (*path, "entries")
    if effect.entries is None:
        if effect.kind in ENTRIES_REQUIRED:
            yield Problem(
                ENTRIES_REQUIRED_CODE,
                f"{kind} applies once per entry: name the LIST item it reads in entries",
                at,
            )
            return False
        return True
    ok = True
    if effect.kind not in ENTRIES_ALLOWED:
        yield Problem(ENTRIES_NOT_ALLOWED, f"{kind} applies once; it takes no entries", at)
        ok = False
    item = items.get(effect.entries)
    if spec.item_usage(effect.entries) is None or item is None:
        yield Problem(
            UNKNOWN_ITEM,
            f"item '{effect.entries}' is not one of the items this business type uses",
            at,
        )
        return False
    if item.type is not ItemType.LIST:
        yield Problem(
            NOT_A_LIST,
            f"entries name a LIST item; '{effect.entries}' is {item.type.value}",
            at,
        )
        return False
    return ok


def _check_fields(
    spec: BusinessTypeSpec,
    effect: EffectSpec,
    items: Mapping[str, DataItemSpec],
    path: Path,
    entries_ok: bool,
) -> Iterator[Problem]:
    targets = EFFECT_FIELDS.get(effect.kind, {})
    offered = candidates(spec, effect, items) if entries_ok else {}
    where = (
        "one of the items this business type uses"
        if effect.entries is None
        else f"a field of the entries of '{effect.entries}'"
    )
    seen: set[str] = set()
    for j, mapped in enumerate(effect.fields):
        at: Path = (*path, "fields", j)
        if mapped.field not in targets:
            yield Problem(
                UNKNOWN_EFFECT_FIELD,
                f"{effect.kind.value} has no field '{mapped.field}' (it has "
                f"{', '.join(sorted(targets)) or 'none'})",
                (*at, "field"),
            )
        elif mapped.field in seen:
            yield Problem(DUPLICATE, f"field '{mapped.field}' is mapped more than once", at)
        seen.add(mapped.field)
        if entries_ok and mapped.item not in offered:
            yield Problem(UNKNOWN_ITEM, f"item '{mapped.item}' is not {where}", (*at, "item"))
    if not entries_ok:
        return
    for field, accepted in targets.items():
        found = source(spec, effect, field, offered)
        if found is None:
            if field in REQUIRED_FIELDS.get(effect.kind, frozenset()):
                yield Problem(
                    MISSING_EFFECT_FIELD,
                    f"{effect.kind.value} needs {field}: map {where} to it in fields",
                    (*path, "fields"),
                )
            continue
        item = offered.get(found.item)
        if item is not None and item.type.value not in accepted:
            yield Problem(
                WRONG_ITEM_TYPE,
                f"item '{found.item}' ({item.type.value}) cannot fill {field} of "
                f"{effect.kind.value}, which takes {', '.join(sorted(accepted))}",
                _source_path(found, path),
            )


def _source_path(found: Source, path: Path) -> Path:
    """Where the administrator chose the item: the mapping, or the effect itself (by code)."""
    if found.via is Via.EFFECT and found.index is not None:
        return (*path, "fields", found.index, "item")
    if found.via is Via.ARCHIVE and found.index is not None:
        return ("archive", found.index, "item")
    return path


def _check_customer(spec: BusinessTypeSpec) -> Iterator[Problem]:
    """An effect acting on the case's customer needs one: created before it, or required."""
    if requires_customer(spec.effects, spec.customer_requirement is not None):
        return
    created: set[CaseEnd] = set()
    for i, effect in enumerate(spec.effects):
        if effect.kind in CREATES_CUSTOMER:
            created.add(effect.end)
        elif effect.kind not in NEEDS_NO_CUSTOMER and effect.end not in created:
            yield Problem(
                NO_CUSTOMER,
                f"{effect.kind.value} acts on the case's customer, but on the "
                f"{effect.end.value} end no customer is created before it and the type does "
                "not require one (add a customerRequirement, or create the customer first)",
                ("effects", i, "kind"),
            )


def _check_requirement(spec: BusinessTypeSpec) -> Iterator[Problem]:
    requirement = spec.customer_requirement
    if requirement is None:
        return
    seen: set[CustomerStatus] = set()
    for j, status in enumerate(requirement.statuses):
        if status in seen:
            yield Problem(
                DUPLICATE,
                f"status {status.value} is listed more than once",
                ("customerRequirement", "statuses", j),
            )
        seen.add(status)
