"""The rules a bundle's definitions must keep, each checked in one place for files and the API.

Codes and names, duplicates within a section, time limits of library stages, the org tree
(parents known, no unit below itself), and item changes that published versions forbid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from metamodel import item_changes, naming, validation
from metamodel.specs import OrgUnitSpec, Problem, StageSpec


def code_problems(code: str, name: str) -> list[Problem]:
    """A code that is not snake_case of 2-63 characters, and an empty name."""
    found: list[Problem] = []
    if not naming.is_valid_code(code):
        found.append(
            Problem(
                validation.INVALID_CODE,
                f"'{code}' is not a valid code: snake_case, 2-63 characters, "
                "starting with a letter",
                ("code",),
            )
        )
    if not name.strip():
        found.append(Problem(validation.EMPTY_NAME, "the name must not be empty", ("name",)))
    return found


def duplicates(codes: Sequence[str]) -> dict[str, list[Problem]]:
    """A DUPLICATE problem for every code listed more than once, by code."""
    seen: set[str] = set()
    found: dict[str, list[Problem]] = {}
    for code in codes:
        if code in seen:
            found.setdefault(code, []).append(
                Problem(validation.DUPLICATE, f"'{code}' is defined more than once", ("code",))
            )
        seen.add(code)
    return found


def stage_problems(stage: StageSpec) -> list[Problem]:
    """A library stage's code and name, and its time limit of 1 to 10000."""
    found = code_problems(stage.code, stage.name)
    limit = stage.time_limit
    if limit is not None and limit.expression is not None:
        found.append(
            Problem(
                validation.TIME_LIMIT_OUT_OF_RANGE,
                "a library stage's limit is an amount: only a business type has the items an "
                "expression reads",
                ("timeLimit", "expression"),
            )
        )
    elif limit is not None and limit.amount not in validation.TIME_LIMIT_RANGE:
        found.append(
            Problem(
                validation.TIME_LIMIT_OUT_OF_RANGE,
                f"time limit amount {limit.amount} must be between 1 and 10000",
                ("timeLimit", "amount"),
            )
        )
    return found


def depth(code: str, units: Mapping[str, OrgUnitSpec]) -> int | None:
    """How many ancestors `code` has in `units`; None if its chain loops or breaks."""
    count, seen, current = 0, {code}, units[code].parent
    while current is not None:
        if current in seen or current not in units:
            return None
        seen.add(current)
        count += 1
        current = units[current].parent
    return count


def org_unit_problems(unit: OrgUnitSpec, units: Mapping[str, OrgUnitSpec]) -> list[Problem]:
    """A unit's code and name, a parent that is known, and a tree it is not its own ancestor in."""
    found = code_problems(unit.code, unit.name)
    if unit.parent is not None and unit.parent not in units:
        found.append(
            Problem("NOT_FOUND", f"no org unit '{unit.parent}' to be the parent", ("parent",))
        )
    elif depth(unit.code, units) is None:
        found.append(
            Problem(
                "CYCLE",
                f"'{unit.code}' would be its own ancestor; a unit cannot be below itself",
                ("parent",),
            )
        )
    return found


def item_change_problems(change: item_changes.ItemChange, *, allow_breaking: bool) -> list[Problem]:
    """The item rule's refusals as problems, with the flag that overrides the overridable ones."""
    return [
        Problem(
            "CONFLICT",
            f.message
            if f.verdict is item_changes.Verdict.REFUSED
            else f"{f.message}; apply with --allow-breaking to change it anyway",
            (f.property,),
        )
        for f in change.refusals(allow_breaking=allow_breaking)
    ]
