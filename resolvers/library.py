"""Root fields over the library of stages, the posts and the org tree."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from database import metadata_reads, metadata_repo
from metamodel import bundle_checks, decode, validation
from metamodel.specs import Problem
from resolvers import convert, input_decode
from resolvers.context import Context
from schema import common, library_types
from schema.common import ErrorCode, user_error
from service import definitions

Info = strawberry.Info[Context, None]


def input_errors(found: list[Problem]) -> list[common.UserError]:
    """Problems of an input's definition as errors under `input` (an empty name is REQUIRED)."""
    return [
        user_error(
            ErrorCode.REQUIRED if p.code == validation.EMPTY_NAME else ErrorCode.VALIDATION,
            p.message,
            ("input", *p.path),
        )
        for p in found
    ]


# -- stages, posts, org units -------------------------------------------------------------------


@strawberry.mutation(description="Create or replace a stage of the stage library.")
async def upsert_stage(
    info: Info,
    input: Annotated[
        library_types.UpsertStageInput,
        strawberry.argument(description="The library stage to create or replace."),
    ],
) -> library_types.UpsertStagePayload:
    """A library stage; a time limit, when given, is 1..10000."""
    stage = input_decode.decoded(decode.stage, input)
    if isinstance(stage, list):
        return library_types.UpsertStagePayload(errors=stage)
    errors = input_errors(bundle_checks.stage_problems(stage))
    if errors:
        return library_types.UpsertStagePayload(errors=errors)
    async with info.context.db.transaction() as session:
        await metadata_repo.save_stage(session, stage, now=info.context.now())
    return library_types.UpsertStagePayload(stage=convert.stage_out(stage))


@strawberry.field(description="The stage library.")
async def stages(info: Info) -> list[library_types.Stage]:
    """Every library stage, by code."""
    async with info.context.db.read() as session:
        found = await metadata_repo.get_stages(session)
    return [convert.stage_out(s) for s in found.values()]


@strawberry.mutation(description="Create or replace a post.")
async def upsert_post(
    info: Info,
    input: Annotated[
        library_types.UpsertPostInput,
        strawberry.argument(description="The post to create or replace."),
    ],
) -> library_types.UpsertPostPayload:
    """A post (岗位)."""
    post = input_decode.decoded(decode.post, input)
    if isinstance(post, list):
        return library_types.UpsertPostPayload(errors=post)
    errors = input_errors(bundle_checks.code_problems(post.code, post.name))
    if errors:
        return library_types.UpsertPostPayload(errors=errors)
    async with info.context.db.transaction() as session:
        await metadata_repo.save_post(session, post, now=info.context.now())
    return library_types.UpsertPostPayload(post=convert.post_out(post))


@strawberry.field(description="Every post.")
async def posts(info: Info) -> list[library_types.Post]:
    """Every post, by code."""
    async with info.context.db.read() as session:
        found = await metadata_repo.get_posts(session)
    return [convert.post_out(p) for p in found.values()]


@strawberry.mutation(description="Create, rename or move an org unit.")
async def upsert_org_unit(
    info: Info,
    input: Annotated[
        library_types.UpsertOrgUnitInput,
        strawberry.argument(description="The org unit to create, rename or move."),
    ],
) -> library_types.UpsertOrgUnitPayload:
    """The parent must exist and may not be the unit itself or below it."""
    unit = input_decode.decoded(decode.org_unit, input)
    if isinstance(unit, list):
        return library_types.UpsertOrgUnitPayload(errors=unit)
    errors = input_errors(bundle_checks.code_problems(unit.code, unit.name))
    if errors:
        return library_types.UpsertOrgUnitPayload(errors=errors)
    saved = await definitions.save_org_unit(info.context.db, unit, now=info.context.now())
    if isinstance(saved, Problem):
        return library_types.UpsertOrgUnitPayload(
            errors=[user_error(saved.code, saved.message, ("input", *saved.path))]
        )
    out = convert.org_unit_out(saved.code, saved.name, saved.path, unit.parent)
    return library_types.UpsertOrgUnitPayload(org_unit=out)


@strawberry.field(description="The org tree, parents before children.")
async def org_units(info: Info) -> list[library_types.OrgUnit]:
    """Every org unit."""
    async with info.context.db.read() as session:
        rows = await metadata_reads.org_units(session)
    codes = {r.id: r.code for r in rows}
    return [
        convert.org_unit_out(
            r.code, r.name, r.path, codes.get(r.parent_id) if r.parent_id else None
        )
        for r in rows
    ]


QUERIES: list[Any] = [stages, posts, org_units]
MUTATIONS: list[Any] = [upsert_stage, upsert_post, upsert_org_unit]
