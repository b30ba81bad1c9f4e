"""Validating and publishing business types, with a review of what the publish changes for clients.

A publish builds the schema it would serve and compares it, using graphql-core's breaking and
dangerous change finders, with the schema of the published metadata as stored, read in the
publish's own transaction, so an administrator sees what a change breaks before any client
does. Never with the schema the request started on: that one may lag behind the database (a
data item upserted a moment ago, a version another process published), and a stale baseline
reports changes nobody is making.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from graphql import GraphQLSchema, find_breaking_changes, find_dangerous_changes

from casework import fees, routing
from database import fee_repo, metadata_repo, task_repo
from database.session import Session as AsyncSession
from metamodel import schema_review, serialization, validation
from metamodel.snapshot import MetamodelSnapshot, with_version
from metamodel.specs import BusinessTypeSpec, BusinessTypeVersion, Problem
from resolvers.context import Context
from schema import common
from schema import metadata_types as mt
from schema import strawberry_compat as compat
from schema.common import ErrorCode, user_error

log = logging.getLogger(__name__)


async def catalog_for(session: AsyncSession, code: str, *, now: dt.datetime) -> validation.Catalog:
    """What a draft of `code` is validated against: the dictionary and every other live type."""
    from resolvers.build import static_names  # the static schema is assembled in build

    items = await metadata_repo.get_data_items(session)
    snapshot = await metadata_repo.load_snapshot(session)
    other = {
        t.code: validation.generated_names(t.latest.spec, {**t.latest.items, **items})
        for t in snapshot.types
        if t.code != code
    }
    routes = await task_repo.responsibilities(session)
    return validation.Catalog(
        items=items,
        stages=await metadata_repo.get_stages(session),
        posts=await metadata_repo.get_posts(session),
        reserved_names=static_names(),
        other_types=other,
        responsible_stages=routing.covered_stages(routes, business_type=code, now=now),
    )


async def validate(
    session: AsyncSession, spec: BusinessTypeSpec, *, now: dt.datetime
) -> list[Problem]:
    """Every problem that stops `spec` from being published."""
    return validation.validate_business_type(spec, await catalog_for(session, spec.code, now=now))


def freeze(spec: BusinessTypeSpec, catalog: validation.Catalog, number: int) -> BusinessTypeVersion:
    """The version to publish: the spec with the dictionary entries and stages it uses."""
    return BusinessTypeVersion(
        spec=spec,
        version=number,
        items={u.item: catalog.items[u.item] for u in spec.items},
        stages={s.stage: catalog.stages[s.stage] for s in spec.stages},
    )


def found_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[schema_review.SchemaChange]:
    """Breaking, then dangerous, changes from one schema to another, as graphql-core finds them."""
    return [
        *(
            schema_review.SchemaChange(
                schema_review.ChangeKind.BREAKING, c.type.name, c.description
            )
            for c in find_breaking_changes(old, new)
        ),
        *(
            schema_review.SchemaChange(
                schema_review.ChangeKind.DANGEROUS, c.type.name, c.description
            )
            for c in find_dangerous_changes(old, new)
        ),
    ]


def schema_changes_out(found: Sequence[schema_review.SchemaChange]) -> mt.SchemaChanges:
    """Found changes in their GraphQL shape."""
    return mt.SchemaChanges(
        breaking=[
            mt.SchemaChange(type=c.type, description=c.description)
            for c in found
            if c.kind is schema_review.ChangeKind.BREAKING
        ],
        dangerous=[
            mt.SchemaChange(type=c.type, description=c.description)
            for c in found
            if c.kind is schema_review.ChangeKind.DANGEROUS
        ],
    )


def schema_changes(old: GraphQLSchema, new: GraphQLSchema) -> mt.SchemaChanges:
    """Breaking and dangerous changes from one schema to another."""
    return schema_changes_out(found_changes(old, new))


def reviewer(
    build: Callable[[MetamodelSnapshot], Any],
) -> Callable[[MetamodelSnapshot, MetamodelSnapshot], list[schema_review.SchemaChange]]:
    """What serving one snapshot instead of another changes for clients, with `build`'s schemas."""

    def review(old: MetamodelSnapshot, new: MetamodelSnapshot) -> list[schema_review.SchemaChange]:
        return found_changes(compat.graphql_schema(build(old)), compat.graphql_schema(build(new)))

    return review


def standalone_reviewer() -> Callable[
    [MetamodelSnapshot, MetamodelSnapshot], list[schema_review.SchemaChange]
]:
    """A reviewer with a type cache of its own, for applies outside a server (CLI, tests)."""
    from resolvers.build import build_schema
    from schema.generated import TypeFactory

    factory = TypeFactory()
    return reviewer(lambda snapshot: build_schema(snapshot, factory))


def changes_between(
    build: Callable[[MetamodelSnapshot], Any], old: MetamodelSnapshot, new: MetamodelSnapshot
) -> mt.SchemaChanges:
    """What serving `new` instead of `old` changes for API clients (builds both; cached classes)."""
    return schema_changes_out(reviewer(build)(old, new))


async def publish(
    info: strawberry.Info[Context, Any], code: str, *, dry_run: bool, allow_breaking: bool
) -> mt.PublishBusinessTypePayload:
    """The publish use case: one transaction, nothing written on any refusal or on a dry run."""
    ctx = info.context
    async with ctx.db.transaction() as session:
        row = await metadata_repo.lock_business_type(session, code)
        if row is None:
            return mt.PublishBusinessTypePayload(
                errors=[user_error(ErrorCode.NOT_FOUND, f"no business type '{code}'", ("code",))]
            )
        spec = serialization.business_type_from_dict(row.draft)
        catalog = await catalog_for(session, code, now=ctx.now())
        found = validation.validate_business_type(spec, catalog)
        if not found:
            used = {u.item: catalog.items[u.item] for u in spec.items}
            rules = [rule for rule, _ in await fee_repo.rules(session)]
            found = fees.publish_problems(rules, spec, used)
        if found:
            return mt.PublishBusinessTypePayload(
                problems=common.problems(found),
                errors=[
                    user_error(
                        ErrorCode.VALIDATION,
                        f"the draft has {len(found)} problem(s); see problems",
                        ("code",),
                    )
                ],
            )
        version = freeze(spec, catalog, (row.latest_version or 0) + 1)
        stored = await metadata_repo.load_snapshot(session)
        changes = await asyncio.to_thread(
            changes_between, ctx.build_schema, stored, with_version(stored, version)
        )
        if changes.breaking and not allow_breaking:
            return mt.PublishBusinessTypePayload(
                schema_changes=changes,
                errors=[
                    user_error(
                        ErrorCode.BREAKING_CHANGE,
                        f"publishing breaks {len(changes.breaking)} thing(s) for API clients; "
                        "review schemaChanges and publish with allowBreaking: true",
                        ("allowBreaking",),
                    )
                ],
            )
        if dry_run:
            return mt.PublishBusinessTypePayload(version=version.version, schema_changes=changes)
        by = ctx.principal.username if ctx.principal else "system"
        await metadata_repo.add_version(session, row, version, by=by, now=ctx.now())
        await metadata_repo.bump_revision(session, now=ctx.now())
    ctx.versions.put(version)
    log.info("published %s version %d", code, version.version)
    if ctx.metadata_changed is not None:
        await ctx.metadata_changed()
    return mt.PublishBusinessTypePayload(version=version.version, schema_changes=changes)
