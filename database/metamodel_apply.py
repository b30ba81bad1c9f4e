"""Applying a metamodel bundle (the YAML files) to the database, and planning what it would change.

`apply` runs in the caller's transaction: it upserts the dictionary, stages, posts, org units,
business type drafts, responsibilities and fee rules, then validates and publishes every business
type whose definition (`business_types`) differs from its latest published version; `drafts`
are saved as drafts and never published. Every problem of the bundle is collected first and
raised together as `ApplyRefused`, so a refused apply writes nothing (the caller's transaction
rolls back). The same gate as the API's: a data item change judged by `metamodel.item_changes`,
and breaking schema changes for API clients, are refused unless `allow_breaking`. Applying the
same bundle twice changes nothing the second time: rows are written only where they differ, so
no new version and no revision bump.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import metamodel
from casework import routing
from database import fee_repo, metadata_repo, responsibility_repo, task_repo
from metamodel import (
    datatypes,
    item_changes,
    naming,
    schema_review,
    serialization,
    validation,
    yaml_io,
)
from metamodel.expressions import checker, types
from metamodel.snapshot import MetamodelSnapshot, with_version
from metamodel.specs import (
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    FeeRuleSpec,
    FeeRuleStatus,
    OrgUnitSpec,
    PostSpec,
    Problem,
    ResponsibilitySpec,
    StageSpec,
)

CATALOGUE_DIR = Path(metamodel.__file__).resolve().parent / "catalogue"
"""The standard catalogue: one YAML file per section, one per business type."""

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

Reviewer = Callable[[MetamodelSnapshot, MetamodelSnapshot], Sequence[schema_review.SchemaChange]]
"""What serving the second snapshot instead of the first changes for API clients.

Built from the GraphQL schemas of both (resolvers/publishing.reviewer); the database layer
cannot build schemas itself, so whoever applies passes it in.
"""

CREATE = "CREATE"
UPDATE = "UPDATE"
ASSIGN = "ASSIGN"
DRAFT = "DRAFT"

Problems = dict[str, dict[str, list[Problem]]]
"""Problems by section, then by the code of the definition they are about."""


# -- files ---------------------------------------------------------------------------------------


def yaml_files(path: Path) -> list[Path]:
    """`path` itself, or every YAML file below the directory `path`, in name order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def load_file(path: Path) -> yaml_io.Bundle:
    """The bundle of one YAML file; MalformedBundle names the file and the field."""
    try:
        return yaml_io.load(path.read_text(encoding="utf-8"))
    except yaml_io.MalformedBundle as malformed:
        raise malformed.in_file(str(path)) from None


def load_files(paths: Iterable[Path]) -> yaml_io.Bundle:
    """The bundles of several YAML files merged into one."""
    return yaml_io.merge(load_file(p) for p in paths)


def load_catalogue(directory: Path = CATALOGUE_DIR) -> yaml_io.Bundle:
    """The standard catalogue as one bundle."""
    return load_files(yaml_files(directory))


# -- results -------------------------------------------------------------------------------------


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


def _problem_lines(problems: Mapping[str, Mapping[str, Sequence[Problem]]]) -> list[str]:
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
        lines += [f"PROBLEM {line}" for line in _problem_lines(self.problems)]
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
        return _problem_lines(self.problems)


# -- planning ------------------------------------------------------------------------------------


def _responsibility_name(r: ResponsibilitySpec) -> str:
    scope = f" [{r.business_type or '*'} @ {r.org_unit or '*'}]"
    return f"{r.stage} -> {r.post}" + (scope if r.business_type or r.org_unit else "")


@dataclass
class _Work:
    """Everything read and decided before an apply writes anything."""

    bundle: yaml_io.Bundle
    allow_breaking: bool = False
    stored: MetamodelSnapshot = field(
        default_factory=lambda: MetamodelSnapshot(revision=0, types=(), items={})
    )
    """What the schema is generated from before the apply."""
    changes: list[Change] = field(default_factory=list)
    problems: Problems = field(default_factory=dict)
    items: dict[str, DataItemSpec] = field(default_factory=dict)
    stages: dict[str, StageSpec] = field(default_factory=dict)
    posts: dict[str, PostSpec] = field(default_factory=dict)
    units: dict[str, OrgUnitSpec] = field(default_factory=dict)
    types: dict[str, BusinessTypeSpec] = field(default_factory=dict)
    """Every business type as it would be served: the bundle's, else the latest published."""
    published_names: dict[str, frozenset[str]] = field(default_factory=dict)
    routes: list[routing.Responsibility] = field(default_factory=list)
    items_changed: bool = False
    latest_numbers: dict[str, int] = field(default_factory=dict)
    write_items: list[DataItemSpec] = field(default_factory=list)
    write_stages: list[StageSpec] = field(default_factory=list)
    write_posts: list[PostSpec] = field(default_factory=list)
    write_units: list[OrgUnitSpec] = field(default_factory=list)
    write_drafts: list[BusinessTypeSpec] = field(default_factory=list)
    write_responsibilities: list[ResponsibilitySpec] = field(default_factory=list)
    write_rules: list[FeeRuleSpec] = field(default_factory=list)
    publish: list[BusinessTypeSpec] = field(default_factory=list)

    def problem(self, section: str, code: str, found: Iterable[Problem]) -> None:
        listed = list(found)
        if listed:
            self.problems.setdefault(section, {}).setdefault(code, []).extend(listed)


def _duplicates(work: _Work, section: str, codes: Sequence[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            work.problem(
                section,
                code,
                [Problem(validation.DUPLICATE, f"'{code}' is defined more than once", ("code",))],
            )
        seen.add(code)


def _code_problems(code: str, name: str) -> list[Problem]:
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


def _item_problems(change: item_changes.ItemChange, *, allow_breaking: bool) -> list[Problem]:
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


def _diff(
    work: _Work, section: str, code: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> bool:
    """Record a CREATE or UPDATE when `after` differs from `before`; whether it does."""
    if before == after:
        return False
    work.changes.append(Change(section, code, CREATE if before is None else UPDATE))
    return True


async def _plan_dictionary(session: AsyncSession, work: _Work) -> None:
    bundle = work.bundle
    current_items = await metadata_repo.get_data_items(session)
    uses = await metadata_repo.item_uses(session)
    work.items = dict(current_items)
    _duplicates(work, DATA_ITEMS, [i.code for i in bundle.items])
    for item in bundle.items:
        before = current_items.get(item.code)
        found = datatypes.validate_item(item)
        if not found:
            judged = item_changes.judge(before, item, uses.get(item.code, ()))
            found = _item_problems(judged, allow_breaking=work.allow_breaking)
        work.problem(DATA_ITEMS, item.code, found)
        if _diff(
            work,
            DATA_ITEMS,
            item.code,
            None if before is None else serialization.data_item_to_dict(before),
            serialization.data_item_to_dict(item),
        ):
            work.write_items.append(item)
            work.items_changed = True
        work.items[item.code] = item

    current_stages = await metadata_repo.get_stages(session)
    work.stages = dict(current_stages)
    _duplicates(work, STAGES, [s.code for s in bundle.stages])
    for stage in bundle.stages:
        found = _code_problems(stage.code, stage.name)
        limit = stage.time_limit
        if limit is not None and limit.amount not in validation.TIME_LIMIT_RANGE:
            found.append(
                Problem(
                    validation.TIME_LIMIT_OUT_OF_RANGE,
                    f"time limit amount {limit.amount} must be between 1 and 10000",
                    ("timeLimit", "amount"),
                )
            )
        work.problem(STAGES, stage.code, found)
        before_stage = current_stages.get(stage.code)
        if _diff(
            work,
            STAGES,
            stage.code,
            None if before_stage is None else serialization.stage_to_dict(before_stage),
            serialization.stage_to_dict(stage),
        ):
            work.write_stages.append(stage)
        work.stages[stage.code] = stage

    current_posts = await metadata_repo.get_posts(session)
    work.posts = dict(current_posts)
    _duplicates(work, POSTS, [p.code for p in bundle.posts])
    for post in bundle.posts:
        work.problem(POSTS, post.code, _code_problems(post.code, post.name))
        before_post = current_posts.get(post.code)
        if _diff(
            work,
            POSTS,
            post.code,
            None if before_post is None else serialization.post_to_dict(before_post),
            serialization.post_to_dict(post),
        ):
            work.write_posts.append(post)
        work.posts[post.code] = post


def _depth(code: str, units: Mapping[str, OrgUnitSpec]) -> int | None:
    """How many ancestors `code` has in `units`; None if its chain loops or breaks."""
    depth, seen, current = 0, {code}, units[code].parent
    while current is not None:
        if current in seen or current not in units:
            return None
        seen.add(current)
        depth += 1
        current = units[current].parent
    return depth


async def _plan_org_units(session: AsyncSession, work: _Work) -> None:
    current = await metadata_repo.org_unit_specs(session)
    work.units = dict(current)
    _duplicates(work, ORG_UNITS, [u.code for u in work.bundle.org_units])
    for unit in work.bundle.org_units:
        work.units[unit.code] = unit
    changed: list[OrgUnitSpec] = []
    for unit in work.bundle.org_units:
        found = _code_problems(unit.code, unit.name)
        if unit.parent is not None and unit.parent not in work.units:
            found.append(
                Problem("NOT_FOUND", f"no org unit '{unit.parent}' to be the parent", ("parent",))
            )
        elif _depth(unit.code, work.units) is None:
            found.append(
                Problem(
                    "CYCLE",
                    f"'{unit.code}' would be its own ancestor; a unit cannot be below itself",
                    ("parent",),
                )
            )
        work.problem(ORG_UNITS, unit.code, found)
        before = current.get(unit.code)
        if _diff(
            work,
            ORG_UNITS,
            unit.code,
            None if before is None else serialization.org_unit_to_dict(before),
            serialization.org_unit_to_dict(unit),
        ):
            changed.append(unit)
    # Parents before children, so every parent row exists (and has its path) when saved.
    work.write_units = sorted(changed, key=lambda u: _depth(u.code, work.units) or 0)


def _needs_publish(spec: BusinessTypeSpec, latest: BusinessTypeVersion | None, work: _Work) -> bool:
    """Whether the served version would differ: its spec, or an item or stage this apply changes.

    Only what the apply itself writes counts: a dictionary entry changed earlier through the
    API reaches the type at its next publish, not at an apply that leaves the entry as it is
    (so an export applies back as a no-op).
    """
    if latest is None:
        return True
    if serialization.business_type_to_dict(latest.spec) != serialization.business_type_to_dict(
        spec
    ):
        return True
    items = {i.code for i in work.write_items}
    stages = {s.code for s in work.write_stages}
    items_differ = any(
        latest.items.get(u.item) != work.items.get(u.item) for u in spec.items if u.item in items
    )
    stages_differ = any(
        latest.stages.get(s.stage) != work.stages.get(s.stage)
        for s in spec.stages
        if s.stage in stages
    )
    return items_differ or stages_differ


async def _plan_business_types(session: AsyncSession, work: _Work) -> None:
    rows = {r.code: r for r in await metadata_repo.get_business_types(session)}
    for published in work.stored.types:
        merged = {**published.latest.items, **work.items}
        work.types[published.code] = published.latest.spec
        work.published_names[published.code] = validation.generated_names(
            published.latest.spec, merged
        )
    for code, stored in rows.items():
        work.types.setdefault(code, serialization.business_type_from_dict(stored.draft))
        if stored.latest_version is not None:
            work.latest_numbers[code] = stored.latest_version
    _duplicates(work, BUSINESS_TYPES, [t.code for t in work.bundle.business_types])
    _duplicates(work, DRAFTS, [t.code for t in work.bundle.drafts])
    drafts = {d.code: d for d in work.bundle.drafts}
    for spec in work.bundle.business_types:
        work.types[spec.code] = spec
        row = rows.get(spec.code)
        latest = None
        if row is not None and row.latest_version is not None:
            latest = await metadata_repo.get_version(session, spec.code, row.latest_version)
        if not _needs_publish(spec, latest, work) or spec in work.publish:
            continue
        work.publish.append(spec)
        # What is published becomes the draft too, as after a publish through the API; but a
        # pending draft (one that differs from what is served) is somebody's unfinished work,
        # which a file that does not mention it leaves alone.
        pending = row is not None and (
            latest is None or row.draft != serialization.business_type_to_dict(latest.spec)
        )
        unchanged = row is not None and row.draft == serialization.business_type_to_dict(spec)
        if spec.code not in drafts and not pending and not unchanged:
            work.changes.append(Change(BUSINESS_TYPES, spec.code, DRAFT))
            work.write_drafts.append(spec)
    for draft in work.bundle.drafts:
        work.problem(DRAFTS, draft.code, _code_problems(draft.code, draft.name))
        work.types.setdefault(draft.code, draft)
        row = rows.get(draft.code)
        if row is None or row.draft != serialization.business_type_to_dict(draft):
            work.changes.append(Change(DRAFTS, draft.code, DRAFT))
            work.write_drafts.append(draft)


async def _plan_responsibilities(session: AsyncSession, work: _Work, now: dt.datetime) -> None:
    routes = await task_repo.responsibilities(session)
    bundle = work.bundle.responsibilities
    keys = [f"{r.stage} [{r.business_type or '*'} @ {r.org_unit or '*'}]" for r in bundle]
    _duplicates(work, RESPONSIBILITIES, keys)
    for r in bundle:
        refs = (
            ("stage", r.stage, work.stages),
            ("post", r.post, work.posts),
            ("businessType", r.business_type, work.types),
            ("orgUnit", r.org_unit, work.units),
        )
        work.problem(
            RESPONSIBILITIES,
            _responsibility_name(r),
            [
                Problem("NOT_FOUND", f"no {what} '{code}'", (what,))
                for what, code, known in refs
                if code is not None and code not in known
            ],
        )
        key = (r.stage, r.business_type, r.org_unit)
        identical = any(
            (x.stage, x.business_type, x.org_unit, x.post) == (*key, r.post) and x.is_effective(now)
            for x in routes
        )
        if identical:
            continue
        work.changes.append(Change(RESPONSIBILITIES, _responsibility_name(r), ASSIGN))
        work.write_responsibilities.append(r)
        # As responsibility_repo.assign does: the one it replaces ends now.
        routes = [
            x
            for x in routes
            if (x.stage, x.business_type, x.org_unit) != key
            or (x.effective_to is not None and x.effective_to <= now)
        ]
        routes.insert(0, routing.Responsibility(r.stage, r.post, r.business_type, r.org_unit, now))
    work.routes = routes


def _rule_items(rule: FeeRuleSpec, work: _Work) -> list[tuple[str | None, dict[str, DataItemSpec]]]:
    """The item sets a rule's expressions must type-check against: one per business type."""
    named = [t for t in rule.business_types if t in work.types]
    if not rule.business_types:
        named = [c for c, t in work.types.items() if t.stage_usage(rule.stage) is not None]
    if not named:
        return [(None, dict(work.items))]
    return [
        (c, {u.item: work.items[u.item] for u in work.types[c].items if u.item in work.items})
        for c in named
    ]


def _rule_problems(rule: FeeRuleSpec, work: _Work) -> list[Problem]:
    found = _code_problems(rule.code, rule.name)
    if rule.stage not in work.stages:
        found.append(Problem(validation.UNKNOWN_STAGE, f"no stage '{rule.stage}'", ("stage",)))
    for i, code in enumerate(rule.business_types):
        spec = work.types.get(code)
        if spec is None:
            found.append(Problem("NOT_FOUND", f"no business type '{code}'", ("businessTypes", i)))
        elif rule.status is FeeRuleStatus.ACTIVE and spec.stage_usage(rule.stage) is None:
            found.append(
                Problem(
                    validation.UNKNOWN_STAGE,
                    f"business type '{code}' does not use stage '{rule.stage}', so the fee "
                    "would never be assessed on its cases",
                    ("businessTypes", i),
                )
            )
    if rule.effective_from and rule.effective_to and rule.effective_from >= rule.effective_to:
        found.append(
            Problem(
                "INVALID_PERIOD", "effectiveFrom must be before effectiveTo", ("effectiveFrom",)
            )
        )
    for business_type, items in _rule_items(rule, work):
        variables = {c: i.type for c, i in items.items()}
        enums = {c: frozenset(o.value for o in i.options) for c, i in items.items() if i.options}
        where = f" (over the items of '{business_type}')" if business_type else ""
        checks = [("amount", rule.amount, types.ExprType.NUMBER)]
        if rule.condition is not None:
            checks.insert(0, ("condition", rule.condition, types.ExprType.BOOLEAN))
        for key, source, expected in checks:
            found += [
                Problem(
                    validation.BAD_EXPRESSION,
                    f"{key} '{types.excerpt(source)}'{where}: {message}",
                    (key,),
                )
                for message in checker.check(
                    source, variables, expected=expected, enum_values=enums
                )
            ]
    return found


async def _plan_fee_rules(session: AsyncSession, work: _Work) -> None:
    current = {rule.code: rule for rule, _ in await fee_repo.rules(session)}
    _duplicates(work, FEE_RULES, [r.code for r in work.bundle.fee_rules])
    for rule in work.bundle.fee_rules:
        work.problem(FEE_RULES, rule.code, _rule_problems(rule, work))
        before = current.get(rule.code)
        if _diff(
            work,
            FEE_RULES,
            rule.code,
            None if before is None else serialization.fee_rule_to_dict(before),
            serialization.fee_rule_to_dict(rule),
        ):
            work.write_rules.append(rule)


def _catalog(
    code: str,
    *,
    items: Mapping[str, DataItemSpec],
    stages: Mapping[str, StageSpec],
    posts: Mapping[str, PostSpec],
    reserved_names: frozenset[str],
    names: Mapping[str, frozenset[str]],
    routes: Sequence[routing.Responsibility],
    now: dt.datetime,
) -> validation.Catalog:
    """What business type `code` is validated against, as resolvers/publishing.catalog_for."""
    return validation.Catalog(
        items=items,
        stages=stages,
        posts=posts,
        reserved_names=reserved_names,
        other_types={c: n for c, n in names.items() if c != code},
        responsible_stages=routing.covered_stages(routes, business_type=code, now=now),
    )


def _served_names(work: _Work, items: Mapping[str, DataItemSpec]) -> dict[str, frozenset[str]]:
    """Generated names of every type once the apply is done: published ones and the bundle's."""
    names = dict(work.published_names)
    for spec in work.bundle.business_types:
        names[spec.code] = validation.generated_names(spec, items)
    return names


def _validate_types(
    work: _Work,
    *,
    items: Mapping[str, DataItemSpec],
    stages: Mapping[str, StageSpec],
    posts: Mapping[str, PostSpec],
    routes: Sequence[routing.Responsibility],
    reserved_names: frozenset[str],
    now: dt.datetime,
) -> Problems:
    names = _served_names(work, items)
    problems: Problems = {}
    for spec in work.publish:
        catalog = _catalog(
            spec.code,
            items=items,
            stages=stages,
            posts=posts,
            reserved_names=reserved_names,
            names=names,
            routes=routes,
            now=now,
        )
        found = validation.validate_business_type(spec, catalog)
        if found:
            problems.setdefault(BUSINESS_TYPES, {})[spec.code] = found
    return problems


async def _prepare(
    session: AsyncSession,
    bundle: yaml_io.Bundle,
    *,
    reserved_names: frozenset[str],
    now: dt.datetime,
    allow_breaking: bool,
) -> _Work:
    work = _Work(
        bundle=bundle,
        allow_breaking=allow_breaking,
        stored=await metadata_repo.load_snapshot(session),
    )
    await _plan_dictionary(session, work)
    await _plan_org_units(session, work)
    await _plan_business_types(session, work)
    await _plan_responsibilities(session, work, now)
    await _plan_fee_rules(session, work)
    found = _validate_types(
        work,
        items=work.items,
        stages=work.stages,
        posts=work.posts,
        routes=work.routes,
        reserved_names=reserved_names,
        now=now,
    )
    for code, problems in found.get(BUSINESS_TYPES, {}).items():
        work.problem(BUSINESS_TYPES, code, problems)
    return work


def _candidate(work: _Work) -> MetamodelSnapshot | None:
    """What the schema would be generated from after the apply; None if it has problems."""
    if work.problems:
        return None  # an unknown item or stage leaves nothing to freeze
    candidate = dataclasses.replace(
        work.stored, revision=work.stored.revision + 1, items=dict(work.items)
    )
    for spec in work.publish:
        number = work.latest_numbers.get(spec.code, 0) + 1
        candidate = with_version(candidate, freeze(spec, work.items, work.stages, number))
    return candidate


async def _review(
    work: _Work, candidate: MetamodelSnapshot | None, review: Reviewer
) -> schema_review.SchemaReview:
    """The schema changes of serving `candidate`, attributed to business types."""
    if candidate is None or not (work.publish or work.items_changed):
        return schema_review.SchemaReview()
    found = await asyncio.to_thread(review, work.stored, candidate)
    names = schema_review.generated_names(work.stored, candidate)
    return schema_review.review(found, names)


def _breaking_problems(review: schema_review.SchemaReview) -> Problems:
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


async def plan(
    session: AsyncSession,
    bundle: yaml_io.Bundle,
    *,
    now: dt.datetime,
    review: Reviewer,
    reserved_names: frozenset[str] = frozenset(),
    allow_breaking: bool = False,
) -> ApplyPlan:
    """What `apply` would change and do to API clients, and what would refuse it; writes nothing."""
    work = await _prepare(
        session, bundle, reserved_names=reserved_names, now=now, allow_breaking=allow_breaking
    )
    candidate = _candidate(work)
    return ApplyPlan(
        changes=tuple(work.changes),
        publish=tuple(s.code for s in work.publish),
        problems=work.problems,
        schema=await _review(work, candidate, review),
        allow_breaking=allow_breaking,
        stored=work.stored,
        candidate=candidate,
    )


# -- applying ------------------------------------------------------------------------------------


def freeze(
    spec: BusinessTypeSpec,
    items: Mapping[str, DataItemSpec],
    stages: Mapping[str, StageSpec],
    number: int,
) -> BusinessTypeVersion:
    """The version to publish: the spec with the dictionary entries and stages it uses."""
    return BusinessTypeVersion(
        spec=spec,
        version=number,
        items={u.item: items[u.item] for u in spec.items},
        stages={s.stage: stages[s.stage] for s in spec.stages},
    )


async def _write(session: AsyncSession, work: _Work, *, by: str, now: dt.datetime) -> None:
    """Everything but the publishes, in dependency order."""
    for item in work.write_items:
        await metadata_repo.save_data_item(session, item, now=now)
    for stage in work.write_stages:
        await metadata_repo.save_stage(session, stage, now=now)
    for post in work.write_posts:
        await metadata_repo.save_post(session, post, now=now)
    for unit in work.write_units:
        parent = await metadata_repo.get_org_unit(session, unit.parent) if unit.parent else None
        await metadata_repo.save_org_unit(session, unit, parent, now=now)
    for spec in work.write_drafts:
        await metadata_repo.save_draft(session, spec, now=now)
    for r in work.write_responsibilities:
        ids = await responsibility_repo.ids(
            session, stage=r.stage, post=r.post, business_type=r.business_type, org_unit=r.org_unit
        )
        stage_id, post_id = ids["stage"], ids["post"]
        assert stage_id is not None and post_id is not None  # checked while planning
        await responsibility_repo.assign(
            session,
            stage_id=stage_id,
            post_id=post_id,
            business_type_id=ids["business_type"],
            org_unit_id=ids["org_unit"],
            effective_from=now,
            by=by,
            now=now,
        )
    for rule in work.write_rules:
        await fee_repo.save_rule(session, rule, by=by, now=now)


async def apply(
    session: AsyncSession,
    bundle: yaml_io.Bundle,
    *,
    reserved_names: frozenset[str],
    by: str,
    now: dt.datetime,
    review: Reviewer,
    allow_breaking: bool = False,
) -> ApplyReport:
    """Make the database hold `bundle` and publish what changed; ApplyRefused on any problem.

    Refused too on breaking changes for API clients, or on item changes the published versions
    forbid, unless `allow_breaking`. Runs in the caller's transaction and raises before writing
    anything on any of these, so the caller's rollback leaves everything as it was.
    """
    work = await _prepare(
        session, bundle, reserved_names=reserved_names, now=now, allow_breaking=allow_breaking
    )
    if work.problems:
        raise ApplyRefused(work.problems)
    changes = await _review(work, _candidate(work), review)
    if changes.breaking and not allow_breaking:
        raise ApplyRefused(_breaking_problems(changes))
    await _write(session, work, by=by, now=now)
    # Validate again against what is now stored, exactly as a publish through the API would.
    items = await metadata_repo.get_data_items(session)
    stages = await metadata_repo.get_stages(session)
    found = _validate_types(
        work,
        items=items,
        stages=stages,
        posts=await metadata_repo.get_posts(session),
        routes=await task_repo.responsibilities(session),
        reserved_names=reserved_names,
        now=now,
    )
    if found:
        raise ApplyRefused(found)
    published: list[tuple[str, int]] = []
    for spec in work.publish:
        row = await metadata_repo.lock_business_type(session, spec.code)
        assert row is not None  # its draft was saved above or before
        version = freeze(spec, items, stages, (row.latest_version or 0) + 1)
        await metadata_repo.add_version(session, row, version, by=by, now=now)
        published.append((spec.code, version.version))
    revision = None
    if published or work.items_changed:
        revision = await metadata_repo.bump_revision(session, now=now)
    return ApplyReport(
        changes=tuple(work.changes),
        published=tuple(published),
        revision=revision,
        schema=changes,
    )


# -- exporting -----------------------------------------------------------------------------------


async def export_bundle(session: AsyncSession, *, now: dt.datetime) -> yaml_io.Bundle:
    """The database's metamodel as a bundle: applying it back changes nothing.

    A business type is exported as its latest published version's definition (in
    `business_types`), and its draft (in `drafts`) where it differs from that version or where
    the type has no published version; responsibilities as those in effect at `now`. The API's
    `exportMetamodel` and `yekuo metamodel export` both print this bundle.
    """
    routes = await task_repo.responsibilities(session)
    current = sorted(
        (r for r in routes if r.is_effective(now)),
        key=lambda r: (r.stage, r.business_type or "", r.org_unit or ""),
    )
    served: list[BusinessTypeSpec] = []
    drafts: list[BusinessTypeSpec] = []
    for row in await metadata_repo.get_business_types(session):
        draft = serialization.business_type_from_dict(row.draft)
        latest = None
        if row.latest_version is not None:
            latest = await metadata_repo.get_version(session, row.code, row.latest_version)
        if latest is not None:
            served.append(latest.spec)
        if latest is None or serialization.business_type_to_dict(
            draft
        ) != serialization.business_type_to_dict(latest.spec):
            drafts.append(draft)
    return yaml_io.Bundle(
        items=tuple((await metadata_repo.get_data_items(session)).values()),
        stages=tuple((await metadata_repo.get_stages(session)).values()),
        posts=tuple((await metadata_repo.get_posts(session)).values()),
        org_units=tuple((await metadata_repo.org_unit_specs(session)).values()),
        business_types=tuple(served),
        responsibilities=tuple(
            ResponsibilitySpec(r.stage, r.post, r.business_type, r.org_unit) for r in current
        ),
        fee_rules=tuple(rule for rule, _ in await fee_repo.rules(session)),
        drafts=tuple(drafts),
    )


async def export_text(session: AsyncSession, *, now: dt.datetime) -> str:
    """The YAML text of `export_bundle`: what the API's exportMetamodel and the CLI both print."""
    bundle = await export_bundle(session, now=now)
    return await asyncio.to_thread(yaml_io.dump, bundle)
