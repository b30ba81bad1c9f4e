"""What applying a bundle would write and publish, decided from what is stored; no I/O.

Every problem of the bundle is collected (nothing is written while any remains); rows are
written only where they differ, so applying the same bundle twice changes nothing the second
time. A business type in `business_types` is published when its definition, or an item or stage
this apply changes, differs from its latest version; `drafts` are saved and never published.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from metamodel import (
    bundle_checks,
    fee_rule_checks,
    freezing,
    item_changes,
    item_checks,
    responsibilities,
    serialization,
    validation,
)
from metamodel.bundle import (
    ASSIGN,
    BUSINESS_TYPES,
    CREATE,
    DATA_ITEMS,
    DRAFT,
    DRAFTS,
    FEE_RULES,
    ORG_UNITS,
    POSTS,
    RESPONSIBILITIES,
    STAGES,
    UPDATE,
    Bundle,
    Change,
    Problems,
)
from metamodel.responsibilities import Responsibility
from metamodel.snapshot import MetamodelSnapshot, with_version
from metamodel.specs import (
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    FeeRuleSpec,
    OrgUnitSpec,
    PostSpec,
    Problem,
    ResponsibilitySpec,
    StageSpec,
)


@dataclass(frozen=True, slots=True)
class Stored:
    """The definitions as stored, read in the apply's transaction."""

    snapshot: MetamodelSnapshot
    """What the schema is generated from."""
    items: Mapping[str, DataItemSpec]
    item_uses: Mapping[str, Sequence[item_changes.ItemUse]]
    stages: Mapping[str, StageSpec]
    posts: Mapping[str, PostSpec]
    units: Mapping[str, OrgUnitSpec]
    drafts: Mapping[str, Mapping[str, Any]]
    """Every business type's draft, in its stored form."""
    latest: Mapping[str, BusinessTypeVersion]
    """The latest version of every business type that has one."""
    routes: Sequence[Responsibility]
    fee_rules: Mapping[str, FeeRuleSpec]


@dataclass
class Work:
    """Everything decided before an apply writes anything."""

    bundle: Bundle
    stored: Stored
    allow_breaking: bool = False
    changes: list[Change] = field(default_factory=list)
    problems: Problems = field(default_factory=dict)
    items: dict[str, DataItemSpec] = field(default_factory=dict)
    stages: dict[str, StageSpec] = field(default_factory=dict)
    posts: dict[str, PostSpec] = field(default_factory=dict)
    units: dict[str, OrgUnitSpec] = field(default_factory=dict)
    types: dict[str, BusinessTypeSpec] = field(default_factory=dict)
    """Every business type as it would be served: the bundle's, else the latest published."""
    published_names: dict[str, frozenset[str]] = field(default_factory=dict)
    routes: list[Responsibility] = field(default_factory=list)
    items_changed: bool = False
    write_items: list[DataItemSpec] = field(default_factory=list)
    write_stages: list[StageSpec] = field(default_factory=list)
    write_posts: list[PostSpec] = field(default_factory=list)
    write_units: list[OrgUnitSpec] = field(default_factory=list)
    write_drafts: list[BusinessTypeSpec] = field(default_factory=list)
    write_responsibilities: list[ResponsibilitySpec] = field(default_factory=list)
    write_rules: list[FeeRuleSpec] = field(default_factory=list)
    publish: list[BusinessTypeSpec] = field(default_factory=list)

    def problem(self, section: str, code: str, found: Iterable[Problem]) -> None:
        """Record problems of the definition `code` of `section`."""
        listed = list(found)
        if listed:
            self.problems.setdefault(section, {}).setdefault(code, []).extend(listed)

    def duplicates(self, section: str, codes: Sequence[str]) -> None:
        """Record every code listed more than once in `section`."""
        for code, found in bundle_checks.duplicates(codes).items():
            self.problem(section, code, found)

    def diff(
        self, section: str, code: str, before: Mapping[str, Any] | None, after: Mapping[str, Any]
    ) -> bool:
        """Record a CREATE or UPDATE when `after` differs from `before`; whether it does."""
        if before == after:
            return False
        self.changes.append(Change(section, code, CREATE if before is None else UPDATE))
        return True


def responsibility_name(r: ResponsibilitySpec) -> str:
    """How a plan names a responsibility: `stage -> post [business type @ org unit]`."""
    scope = f" [{r.business_type or '*'} @ {r.org_unit or '*'}]"
    return f"{r.stage} -> {r.post}" + (scope if r.business_type or r.org_unit else "")


def _dictionary(work: Work) -> None:
    bundle, stored = work.bundle, work.stored
    work.items = dict(stored.items)
    work.duplicates(DATA_ITEMS, [i.code for i in bundle.items])
    for item in bundle.items:
        before = stored.items.get(item.code)
        found = item_checks.validate_item(item)
        if not found:
            judged = item_changes.judge(before, item, stored.item_uses.get(item.code, ()))
            found = bundle_checks.item_change_problems(judged, allow_breaking=work.allow_breaking)
        work.problem(DATA_ITEMS, item.code, found)
        was = None if before is None else serialization.data_item_to_dict(before)
        if work.diff(DATA_ITEMS, item.code, was, serialization.data_item_to_dict(item)):
            work.write_items.append(item)
            work.items_changed = True
        work.items[item.code] = item

    work.stages = dict(stored.stages)
    work.duplicates(STAGES, [s.code for s in bundle.stages])
    for stage in bundle.stages:
        work.problem(STAGES, stage.code, bundle_checks.stage_problems(stage))
        before_stage = stored.stages.get(stage.code)
        was = None if before_stage is None else serialization.stage_to_dict(before_stage)
        if work.diff(STAGES, stage.code, was, serialization.stage_to_dict(stage)):
            work.write_stages.append(stage)
        work.stages[stage.code] = stage

    work.posts = dict(stored.posts)
    work.duplicates(POSTS, [p.code for p in bundle.posts])
    for post in bundle.posts:
        work.problem(POSTS, post.code, bundle_checks.code_problems(post.code, post.name))
        before_post = stored.posts.get(post.code)
        was = None if before_post is None else serialization.post_to_dict(before_post)
        if work.diff(POSTS, post.code, was, serialization.post_to_dict(post)):
            work.write_posts.append(post)
        work.posts[post.code] = post


def _org_units(work: Work) -> None:
    current = work.stored.units
    work.units = dict(current)
    work.duplicates(ORG_UNITS, [u.code for u in work.bundle.org_units])
    for unit in work.bundle.org_units:
        work.units[unit.code] = unit
    changed: list[OrgUnitSpec] = []
    for unit in work.bundle.org_units:
        work.problem(ORG_UNITS, unit.code, bundle_checks.org_unit_problems(unit, work.units))
        before = current.get(unit.code)
        was = None if before is None else serialization.org_unit_to_dict(before)
        if work.diff(ORG_UNITS, unit.code, was, serialization.org_unit_to_dict(unit)):
            changed.append(unit)
    # Parents before children, so every parent row exists (and has its path) when saved.
    work.write_units = sorted(changed, key=lambda u: bundle_checks.depth(u.code, work.units) or 0)


def _needs_publish(spec: BusinessTypeSpec, latest: BusinessTypeVersion | None, work: Work) -> bool:
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


def _business_types(work: Work) -> None:
    stored = work.stored
    for published in stored.snapshot.types:
        work.types[published.code] = published.latest.spec
    work.published_names = freezing.served_names(stored.snapshot, work.items)
    for code, raw in stored.drafts.items():
        work.types.setdefault(code, serialization.business_type_from_dict(raw))
    work.duplicates(BUSINESS_TYPES, [t.code for t in work.bundle.business_types])
    work.duplicates(DRAFTS, [t.code for t in work.bundle.drafts])
    drafts = {d.code: d for d in work.bundle.drafts}
    for spec in work.bundle.business_types:
        work.types[spec.code] = spec
        latest = stored.latest.get(spec.code)
        if not _needs_publish(spec, latest, work) or spec in work.publish:
            continue
        work.publish.append(spec)
        # What is published becomes the draft too, as after a publish through the API; but a
        # pending draft (one that differs from what is served) is somebody's unfinished work,
        # which a file that does not mention it leaves alone.
        draft = stored.drafts.get(spec.code)
        pending = draft is not None and (
            latest is None or draft != serialization.business_type_to_dict(latest.spec)
        )
        unchanged = draft is not None and draft == serialization.business_type_to_dict(spec)
        if spec.code not in drafts and not pending and not unchanged:
            work.changes.append(Change(BUSINESS_TYPES, spec.code, DRAFT))
            work.write_drafts.append(spec)
    for draft_spec in work.bundle.drafts:
        found = bundle_checks.code_problems(draft_spec.code, draft_spec.name)
        work.problem(DRAFTS, draft_spec.code, found)
        work.types.setdefault(draft_spec.code, draft_spec)
        stored_draft = stored.drafts.get(draft_spec.code)
        if stored_draft != serialization.business_type_to_dict(draft_spec):
            work.changes.append(Change(DRAFTS, draft_spec.code, DRAFT))
            work.write_drafts.append(draft_spec)


def _responsibilities(work: Work, now: dt.datetime) -> None:
    routes = list(work.stored.routes)
    listed = work.bundle.responsibilities
    keys = [f"{r.stage} [{r.business_type or '*'} @ {r.org_unit or '*'}]" for r in listed]
    work.duplicates(RESPONSIBILITIES, keys)
    for r in listed:
        refs = (
            ("stage", r.stage, work.stages),
            ("post", r.post, work.posts),
            ("businessType", r.business_type, work.types),
            ("orgUnit", r.org_unit, work.units),
        )
        work.problem(
            RESPONSIBILITIES,
            responsibility_name(r),
            [
                Problem("NOT_FOUND", f"no {what} '{code}'", (what,))
                for what, code, known in refs
                if code is not None and code not in known
            ],
        )
        if responsibilities.is_assigned(routes, r, now):
            continue
        work.changes.append(Change(RESPONSIBILITIES, responsibility_name(r), ASSIGN))
        work.write_responsibilities.append(r)
        routes = responsibilities.assign(routes, r, now)
    work.routes = routes


def _fee_rules(work: Work) -> None:
    current = work.stored.fee_rules
    work.duplicates(FEE_RULES, [r.code for r in work.bundle.fee_rules])
    for rule in work.bundle.fee_rules:
        found = bundle_checks.code_problems(rule.code, rule.name)
        found += fee_rule_checks.rule_problems(
            rule, stages=work.stages, types=work.types, dictionary=work.items
        )
        work.problem(FEE_RULES, rule.code, found)
        before = current.get(rule.code)
        was = None if before is None else serialization.fee_rule_to_dict(before)
        if work.diff(FEE_RULES, rule.code, was, serialization.fee_rule_to_dict(rule)):
            work.write_rules.append(rule)


def type_problems(
    work: Work,
    *,
    items: Mapping[str, DataItemSpec],
    stages: Mapping[str, StageSpec],
    posts: Mapping[str, PostSpec],
    routes: Sequence[Responsibility],
    reserved_names: frozenset[str],
    now: dt.datetime,
) -> Problems:
    """The problems of every type to publish, against these definitions."""
    names = dict(work.published_names)
    for spec in work.bundle.business_types:
        names[spec.code] = validation.generated_names(spec, items)
    problems: Problems = {}
    for spec in work.publish:
        catalog = freezing.catalog(
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


def decide(
    bundle: Bundle,
    stored: Stored,
    *,
    reserved_names: frozenset[str],
    now: dt.datetime,
    allow_breaking: bool,
) -> Work:
    """What applying `bundle` over `stored` writes and publishes, and every problem it has."""
    work = Work(bundle=bundle, stored=stored, allow_breaking=allow_breaking)
    _dictionary(work)
    _org_units(work)
    _business_types(work)
    _responsibilities(work, now)
    _fee_rules(work)
    found = type_problems(
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


def candidate(work: Work) -> MetamodelSnapshot | None:
    """What the schema would be generated from after the apply; None if it has problems."""
    if work.problems:
        return None  # an unknown item or stage leaves nothing to freeze
    stored = work.stored.snapshot
    found = dataclasses.replace(stored, revision=stored.revision + 1, items=dict(work.items))
    for spec in work.publish:
        latest = work.stored.latest.get(spec.code)
        number = (latest.version if latest else 0) + 1
        found = with_version(found, freezing.freeze(spec, work.items, work.stages, number))
    return found
