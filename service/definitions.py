"""The use cases of definitions: plan, apply and export a bundle; check, save and publish drafts.

Each runs in one transaction of its own, takes plain values (a bundle, a code, `now`, who acts)
and returns plain values or raises `ApplyRefused`; the API's resolvers and the command line
both call these, so a file applied from the shell and a draft published through GraphQL meet
the same rules. What serving a snapshot would change for API clients needs the GraphQL schema,
which this layer cannot build: callers pass a `Reviewer`, and the names the static schema
reserves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from database import (
    definitions_store,
    definitions_views,
    metadata_reads,
    metadata_repo,
    metamodel_export,
)
from database.records import OrgUnitRecord
from database.session import Database
from metamodel import bundle_plan, fee_rule_checks, freezing, schema_review, validation, yaml_io
from metamodel.bundle import (
    ApplyPlan,
    ApplyRefused,
    ApplyReport,
    Bundle,
    breaking_problems,
)
from metamodel.snapshot import BusinessTypeStatus, MetamodelSnapshot, with_version
from metamodel.specs import BusinessTypeSpec, BusinessTypeVersion, OrgUnitSpec, Problem

Reviewer = Callable[[MetamodelSnapshot, MetamodelSnapshot], Sequence[schema_review.SchemaChange]]
"""What serving the second snapshot instead of the first changes for API clients."""


async def _review(
    work: bundle_plan.Work, candidate: MetamodelSnapshot | None, review: Reviewer
) -> schema_review.SchemaReview:
    """The schema changes of serving `candidate`, attributed to business types."""
    if candidate is None or not (work.publish or work.items_changed):
        return schema_review.SchemaReview()
    found = await asyncio.to_thread(review, work.stored.snapshot, candidate)
    names = schema_review.generated_names(work.stored.snapshot, candidate)
    return schema_review.review(found, names)


async def plan_bundle(
    db: Database,
    bundle: Bundle,
    *,
    now: dt.datetime,
    review: Reviewer,
    reserved_names: frozenset[str],
    allow_breaking: bool = False,
) -> ApplyPlan:
    """What `apply_bundle` would change and do to API clients, and what would refuse it."""
    async with db.read() as session:
        stored = await definitions_store.load(session)
    work = bundle_plan.decide(
        bundle, stored, reserved_names=reserved_names, now=now, allow_breaking=allow_breaking
    )
    candidate = bundle_plan.candidate(work)
    return ApplyPlan(
        changes=tuple(work.changes),
        publish=tuple(s.code for s in work.publish),
        problems=work.problems,
        schema=await _review(work, candidate, review),
        allow_breaking=allow_breaking,
        stored=stored.snapshot,
        candidate=candidate,
    )


async def apply_bundle(
    db: Database,
    bundle: Bundle,
    *,
    by: str,
    now: dt.datetime,
    review: Reviewer,
    reserved_names: frozenset[str],
    allow_breaking: bool = False,
) -> ApplyReport:
    """Make the database hold `bundle` and publish what changed; ApplyRefused on any problem.

    Refused too on breaking changes for API clients, or on item changes the published versions
    forbid, unless `allow_breaking`. The schema changes are worked out inside the transaction,
    before anything is written, and any refusal rolls it back: nothing is applied.
    """
    async with db.transaction() as session:
        stored = await definitions_store.load(session)
        work = bundle_plan.decide(
            bundle, stored, reserved_names=reserved_names, now=now, allow_breaking=allow_breaking
        )
        if work.problems:
            raise ApplyRefused(work.problems)
        changes = await _review(work, bundle_plan.candidate(work), review)
        if changes.breaking and not allow_breaking:
            raise ApplyRefused(breaking_problems(changes))
        await definitions_store.write(session, work, by=by, now=now)
        # Validate again against what is now stored, exactly as a publish through the API would.
        after = await definitions_store.load(session)
        found = bundle_plan.type_problems(
            work,
            items=after.items,
            stages=after.stages,
            posts=after.posts,
            routes=after.routes,
            reserved_names=reserved_names,
            now=now,
        )
        if found:
            raise ApplyRefused(found)
        published = await definitions_store.publish(
            session, work.publish, stored=after, by=by, now=now
        )
        revision = None
        if published or work.items_changed:
            revision = await metadata_repo.bump_revision(session, now=now)
    return ApplyReport(
        changes=tuple(work.changes),
        published=tuple(published),
        revision=revision,
        schema=changes,
    )


async def export_metamodel(db: Database, *, now: dt.datetime) -> str:
    """The stored metamodel as YAML: what the API's exportMetamodel and the CLI both print."""
    async with db.read() as session:
        bundle = await metamodel_export.export_bundle(session, now=now)
    return await asyncio.to_thread(yaml_io.dump, bundle)


async def draft_problems(
    db: Database, code: str, *, now: dt.datetime, reserved_names: frozenset[str]
) -> list[Problem] | None:
    """Every problem that stops the draft of `code` from being published; None: no such type."""
    async with db.read() as session:
        draft = await definitions_store.get_draft(session, code)
        if draft is None:
            return None
        catalog = await definitions_store.catalog(
            session, code, reserved_names=reserved_names, now=now
        )
    return validation.validate_business_type(draft.draft, catalog)


async def save_draft(
    db: Database, spec: BusinessTypeSpec, *, now: dt.datetime, reserved_names: frozenset[str]
) -> list[Problem]:
    """Save `spec` as its type's draft; what publishing it would refuse (drafts may be so)."""
    async with db.transaction() as session:
        await definitions_views.save_draft(session, spec, now=now)
        catalog = await definitions_store.catalog(
            session, spec.code, reserved_names=reserved_names, now=now
        )
    return validation.validate_business_type(spec, catalog)


@dataclass(frozen=True, slots=True)
class Publication:
    """What a publish did or would do, or why it was refused."""

    found: bool = True
    """False when no business type has the code."""
    problems: tuple[Problem, ...] = ()
    changes: tuple[schema_review.SchemaChange, ...] = ()
    """What serving the new version changes for API clients (breaking, then dangerous)."""
    version: BusinessTypeVersion | None = None
    """The version published, or that a dry run would publish; None when refused."""

    @property
    def breaking(self) -> list[schema_review.SchemaChange]:
        """The breaking changes."""
        return [c for c in self.changes if c.kind is schema_review.ChangeKind.BREAKING]


async def publish(
    db: Database,
    code: str,
    *,
    by: str,
    now: dt.datetime,
    review: Reviewer,
    reserved_names: frozenset[str],
    dry_run: bool = False,
    allow_breaking: bool = False,
) -> Publication:
    """Validate the draft of `code` and freeze it as the next version; nothing on a refusal.

    Refused on problems of the draft or of the fee rules its version would assess, and on
    breaking changes for API clients unless `allow_breaking`; a dry run only reports.
    """
    async with db.transaction() as session:
        draft = await definitions_store.lock_draft(session, code)
        if draft is None:
            return Publication(found=False)
        spec = draft.draft
        catalog = await definitions_store.catalog(
            session, code, reserved_names=reserved_names, now=now
        )
        found = validation.validate_business_type(spec, catalog)
        if not found:
            used = {u.item: catalog.items[u.item] for u in spec.items}
            rules = [rule for rule, _ in await definitions_store.fee_rules(session)]
            found = fee_rule_checks.publish_problems(rules, spec, used)
        if found:
            return Publication(problems=tuple(found))
        number = (draft.latest_version or 0) + 1
        version = freezing.freeze(spec, catalog.items, catalog.stages, number)
        stored = await metadata_repo.load_snapshot(session)
        changes = tuple(await asyncio.to_thread(review, stored, with_version(stored, version)))
        outcome = Publication(changes=changes, version=version)
        if outcome.breaking and not allow_breaking:
            return Publication(changes=changes)
        if dry_run:
            return outcome
        await definitions_store.add_version(session, version, by=by, now=now)
        await metadata_repo.bump_revision(session, now=now)
    return outcome


async def has_business_types(db: Database) -> bool:
    """Whether any business type is defined (published or a draft)."""
    async with db.read() as session:
        return bool(await metadata_reads.business_types(session))


async def save_org_unit(
    db: Database, unit: OrgUnitSpec, *, now: dt.datetime
) -> OrgUnitRecord | Problem:
    """Create, rename or move an org unit; the Problem when its parent is unknown or below it."""
    async with db.transaction() as session:
        return await definitions_views.save_org_unit(session, unit, now=now)


async def retire_business_type(
    db: Database, code: str, *, now: dt.datetime
) -> definitions_views.BusinessTypeView | Problem:
    """Close a published business type to new cases; its cases stay readable and writable."""
    async with db.transaction() as session:
        before = await definitions_views.retire(session, code)
        if before is None:
            return Problem("NOT_FOUND", f"no business type '{code}'", ("code",))
        if before != BusinessTypeStatus.PUBLISHED.value:
            return Problem(
                "INVALID_TRANSITION",
                f"only a published business type can be retired; '{code}' is {before}",
                ("code",),
            )
        await metadata_repo.bump_revision(session, now=now)
        view = await definitions_views.business_type(session, code)
    assert view is not None  # locked and retired above
    return view
