"""Checks of how a business type's end stages end its cases (`end`, `reason`; DESIGN §6.1).

An end stage may say that reaching it refuses the application (REJECTED) or records that the
applicant withdrew it (WITHDRAWN). Such an end must name the item that says why: the applicant
is shown it in `caseProgress`, so it must be text people can read (STRING, TEXT or ENUM, whose
option label is shown), and it must be writable by the time the end stage is completed, since
the engine requires it there. Paths are in the terms of the `saveBusinessTypeDraft` input.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from metamodel import graph
from metamodel.effect_specs import CaseEnd
from metamodel.specs import BusinessTypeSpec, DataItemSpec, ItemType, Problem, StageUsage

END_HAS_WAY_OUT = "END_HAS_WAY_OUT"
REASON_WITHOUT_END = "REASON_WITHOUT_END"
MISSING_REASON = "MISSING_REASON"
UNKNOWN_REASON = "UNKNOWN_REASON"
BAD_REASON_TYPE = "BAD_REASON_TYPE"
REASON_NOT_EDITABLE = "REASON_NOT_EDITABLE"

PROBLEM_CODES: frozenset[str] = frozenset(
    {
        END_HAS_WAY_OUT,
        REASON_WITHOUT_END,
        MISSING_REASON,
        UNKNOWN_REASON,
        BAD_REASON_TYPE,
        REASON_NOT_EDITABLE,
    }
)
"""Every problem code this module reports."""

REFUSING_ENDS = frozenset({CaseEnd.REJECTED, CaseEnd.WITHDRAWN})
"""Ends that close a case without its effects and tell the applicant why."""

REASON_TYPES = frozenset({ItemType.STRING, ItemType.TEXT, ItemType.ENUM})
"""Item types a reason may have: what an applicant can read as it is (an ENUM by its label)."""


def check(spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec]) -> Iterator[Problem]:
    """Every problem of the `end` and `reason` of the type's stages."""
    sources = {t.from_stage for t in spec.transitions}
    for i, usage in enumerate(spec.stages):
        path = ("stages", i)
        if usage.end is not None and usage.stage in sources:
            yield Problem(
                END_HAS_WAY_OUT,
                f"stage '{usage.stage}' declares end {usage.end.value} but has outgoing "
                "transitions; only a stage with no way out ends the case (drop its transitions, "
                "or move `end` to the stage they lead to)",
                (*path, "end"),
            )
        if usage.end in REFUSING_ENDS:
            yield from _check_reason(spec, items, usage, i)
        elif usage.reason is not None:
            yield Problem(
                REASON_WITHOUT_END,
                f"stage '{usage.stage}' names reason item '{usage.reason}' but does not end the "
                "case as REJECTED or WITHDRAWN; only those ends tell the applicant a reason",
                (*path, "reason"),
            )


def _check_reason(
    spec: BusinessTypeSpec, items: Mapping[str, DataItemSpec], usage: StageUsage, i: int
) -> Iterator[Problem]:
    path = ("stages", i, "reason")
    end = usage.end.value if usage.end is not None else ""
    if usage.reason is None:
        yield Problem(
            MISSING_REASON,
            f"stage '{usage.stage}' ends the case as {end} and must name the item that says why "
            "(`reason`: a STRING, TEXT or ENUM item the type uses), which the applicant is shown",
            path,
        )
        return
    item_usage = spec.item_usage(usage.reason)
    if item_usage is None:
        yield Problem(
            UNKNOWN_REASON,
            f"reason item '{usage.reason}' is not one of the items this business type uses",
            path,
        )
        return
    item = items.get(usage.reason)
    if item is not None and item.type not in REASON_TYPES:
        yield Problem(
            BAD_REASON_TYPE,
            f"reason item '{usage.reason}' is {item.type.value}; a reason is shown to the "
            "applicant and must be STRING, TEXT or ENUM",
            path,
        )
    if item_usage.editable_at and not set(item_usage.editable_at) & _leading_to(spec, usage.stage):
        yield Problem(
            REASON_NOT_EDITABLE,
            f"reason item '{usage.reason}' is required to finish stage '{usage.stage}' but may "
            f"only be written at {', '.join(repr(s) for s in item_usage.editable_at)}, none of "
            "which is that stage or leads to it; add it to the item's editableAt",
            path,
        )


def _leading_to(spec: BusinessTypeSpec, stage: str) -> set[str]:
    """The stage and every stage with a path to it."""
    predecessors: dict[str, set[str]] = {}
    for source, targets in graph.successors(spec).items():
        for target in targets:
            predecessors.setdefault(target, set()).add(source)
    return graph.reachable([stage], {k: frozenset(v) for k, v in predecessors.items()})
