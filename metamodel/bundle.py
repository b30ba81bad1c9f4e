"""A bundle of definitions (what metamodel files hold), and what applying one does or refuses.

Plain values only: the same plan, report and refusal whether the bundle came from a file the
command line read or from the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from metamodel import schema_review
from metamodel.snapshot import MetamodelSnapshot
from metamodel.specs import (
    BusinessTypeSpec,
    DataItemSpec,
    FeeRuleSpec,
    OrgUnitSpec,
    PostSpec,
    Problem,
    ResponsibilitySpec,
    StageSpec,
)

DATA_ITEMS = "data_items"
STAGES = "stages"
POSTS = "posts"
ORG_UNITS = "org_units"
BUSINESS_TYPES = "business_types"
RESPONSIBILITIES = "responsibilities"
FEE_RULES = "fee_rules"
DRAFTS = "drafts"
SECTIONS = (
    DATA_ITEMS,
    STAGES,
    POSTS,
    ORG_UNITS,
    BUSINESS_TYPES,
    DRAFTS,
    RESPONSIBILITIES,
    FEE_RULES,
)
"""Section names, as in the YAML files, in the order an apply writes them."""
DICTIONARY_WIDE = "(dictionary-wide types)"
"""The code breaking changes of CaseWhere, DataWhere, … are listed under, in DATA_ITEMS."""
BREAKING_CHANGE = "BREAKING_CHANGE"

CREATE = "CREATE"
UPDATE = "UPDATE"
ASSIGN = "ASSIGN"
DRAFT = "DRAFT"

Problems = dict[str, dict[str, list[Problem]]]
"""Problems by section, then by the code of the definition they are about."""


@dataclass(frozen=True, slots=True)
class Bundle:
    """A set of definitions to export or apply."""

    items: tuple[DataItemSpec, ...] = ()
    stages: tuple[StageSpec, ...] = ()
    posts: tuple[PostSpec, ...] = ()
    org_units: tuple[OrgUnitSpec, ...] = ()
    business_types: tuple[BusinessTypeSpec, ...] = ()
    """Definitions to serve: applying one that differs from the latest version publishes it."""
    responsibilities: tuple[ResponsibilitySpec, ...] = ()
    fee_rules: tuple[FeeRuleSpec, ...] = ()
    drafts: tuple[BusinessTypeSpec, ...] = ()
    """Business type drafts: saved as drafts, never published by an apply."""


def merge(bundles: Iterable[Bundle]) -> Bundle:
    """Several bundles as one, in order."""
    listed = list(bundles)
    return Bundle(
        items=tuple(i for b in listed for i in b.items),
        stages=tuple(s for b in listed for s in b.stages),
        posts=tuple(p for b in listed for p in b.posts),
        org_units=tuple(u for b in listed for u in b.org_units),
        business_types=tuple(t for b in listed for t in b.business_types),
        responsibilities=tuple(r for b in listed for r in b.responsibilities),
        fee_rules=tuple(f for b in listed for f in b.fee_rules),
        drafts=tuple(d for b in listed for d in b.drafts),
    )


@dataclass(frozen=True, slots=True)
class Change:
    """One definition an apply creates or changes: `section`, `code`, and what happens to it.

    `action` is CREATE or UPDATE, ASSIGN for a responsibility, DRAFT for a business type whose
    stored draft changes. Responsibilities are named `stage -> post [business type @ org unit]`.
    """

    section: str
    code: str
    action: str

    def __str__(self) -> str:
        return f"{self.action:<6} {self.section} {self.code}"


def problem_lines(problems: Mapping[str, Mapping[str, Sequence[Problem]]]) -> list[str]:
    """Every problem, one per line: section, code, machine code, message, path."""
    lines: list[str] = []
    for section, by_code in problems.items():
        for code, found in by_code.items():
            for p in found:
                line = f"{section} {code}: {p.code} {p.message}"
                if p.path:
                    line += f" [{'.'.join(str(part) for part in p.path)}]"
                lines.append(line)
    return lines


@dataclass(frozen=True, slots=True)
class ApplyPlan:
    """What applying a bundle would do, and every problem that would refuse it."""

    changes: tuple[Change, ...] = ()
    publish: tuple[str, ...] = ()
    """Business types that would be validated and published as a new version."""
    problems: Problems = field(default_factory=dict)
    schema: schema_review.SchemaReview = field(default_factory=schema_review.SchemaReview)
    """What the apply changes for API clients, by business type and dictionary-wide."""
    allow_breaking: bool = False
    stored: MetamodelSnapshot | None = None
    """What the schema is generated from now."""
    candidate: MetamodelSnapshot | None = None
    """What the schema would be generated from after the apply; None when it has problems."""

    @property
    def empty(self) -> bool:
        """Whether the apply would change nothing."""
        return not self.changes and not self.publish

    @property
    def refused(self) -> bool:
        """Whether the apply would be refused: problems, or breaking changes not allowed."""
        return bool(self.problems) or (self.schema.breaking and not self.allow_breaking)

    def lines(self) -> list[str]:
        """The plan for people: one line per change and publish, the schema review, problems."""
        lines = [str(c) for c in self.changes]
        lines += [f"PUBLISH {BUSINESS_TYPES} {code}" for code in self.publish]
        lines += self.schema.lines()
        lines += [f"PROBLEM {line}" for line in problem_lines(self.problems)]
        if self.schema.breaking and not self.allow_breaking:
            lines.append(
                "REFUSED the apply breaks things for API clients (BREAKING above); review them "
                "and apply with --allow-breaking"
            )
        return lines or ["no changes"]


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """What an apply did."""

    changes: tuple[Change, ...] = ()
    published: tuple[tuple[str, int], ...] = ()
    """(business type, version number) of every version published."""
    revision: int | None = None
    """The new metadata revision, or None when nothing the schema depends on changed."""
    schema: schema_review.SchemaReview = field(default_factory=schema_review.SchemaReview)
    """What the apply changed for API clients."""

    @property
    def empty(self) -> bool:
        """Whether the apply changed nothing."""
        return not self.changes and not self.published

    def lines(self) -> list[str]:
        """The report for people."""
        counts: dict[tuple[str, str], int] = {}
        for change in self.changes:
            key = (change.section, change.action)
            counts[key] = counts.get(key, 0) + 1
        lines = [f"{section}: {count} {action}" for (section, action), count in counts.items()]
        lines += [f"published {code} version {number}" for code, number in self.published]
        if self.revision is not None:
            lines.append(f"metadata revision {self.revision}")
        lines += self.schema.lines()
        return lines or ["no changes"]


class ApplyRefused(Exception):
    """The bundle has problems; nothing was applied. `problems` by section, then by code."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        count = sum(len(found) for by_code in problems.values() for found in by_code.values())
        super().__init__(f"the metamodel has {count} problem(s); nothing was applied")

    def lines(self) -> list[str]:
        """Every problem, one per line."""
        return problem_lines(self.problems)


def breaking_problems(review: schema_review.SchemaReview) -> Problems:
    """Every breaking change as a problem of the business type it touches, or the dictionary's."""
    problems: Problems = {}
    listed = [(BUSINESS_TYPES, code, cs) for code, cs in review.by_type.items()]
    listed.append((DATA_ITEMS, DICTIONARY_WIDE, review.dictionary))
    for section, code, changes in listed:
        for c in changes:
            if c.kind is schema_review.ChangeKind.BREAKING:
                problems.setdefault(section, {}).setdefault(code, []).append(
                    Problem(
                        BREAKING_CHANGE,
                        f"{c.description} ({c.type}); apply with --allow-breaking to accept it",
                        (),
                    )
                )
    return problems
