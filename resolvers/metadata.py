"""Root fields over the metamodel: the administrators' operations and the read side."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from database import metadata_repo
from database.session import Session as AsyncSession
from database.tables import BusinessTypeRow
from metamodel import datatypes, diagram, naming, serialization, validation, yaml_io
from metamodel.snapshot import BusinessTypeStatus
from metamodel.specs import DataItemSpec, ItemType, OrgUnitSpec, PostSpec, StageSpec
from resolvers import convert, publishing
from resolvers.context import Context
from schema import common
from schema import metadata_types as mt
from schema.common import ErrorCode, user_error

Info = strawberry.Info[Context, None]


def _code_problem(code: str, path: tuple[str | int, ...]) -> list[common.UserError]:
    if naming.is_valid_code(code):
        return []
    return [
        user_error(
            ErrorCode.VALIDATION,
            f"'{code}' is not a valid code: snake_case, 2-63 characters, starting with a letter",
            path,
        )
    ]


async def _changed(info: Info) -> None:
    """Let the server rebuild the schema now rather than at its next poll."""
    if info.context.metadata_changed is not None:
        await info.context.metadata_changed()


# -- data items ---------------------------------------------------------------------------------


@strawberry.mutation(description="Create or replace an entry of the data dictionary.")
async def upsert_data_item(info: Info, input: mt.UpsertDataItemInput) -> mt.UpsertDataItemPayload:
    """Validate the definition; a used item may not change type or lose ENUM options."""
    item = convert.data_item_in(input)
    errors = [
        user_error(ErrorCode.VALIDATION, p.message, ("input", *p.path))
        for p in datatypes.validate_item(item)
    ]
    if errors:
        return mt.UpsertDataItemPayload(errors=errors)
    ctx = info.context
    async with ctx.db.transaction() as session:
        used = (await metadata_repo.used_item_types(session)).get(item.code)
        conflict = _frozen_conflict(used, item)
        if conflict:
            return mt.UpsertDataItemPayload(errors=conflict)
        before = await metadata_repo.get_data_item(session, item.code)
        await metadata_repo.save_data_item(session, item, now=ctx.now())
        if before != item:  # the poll picks the new revision up within a quarter second
            await metadata_repo.bump_revision(session, now=ctx.now())
    return mt.UpsertDataItemPayload(data_item=convert.data_item_out(item))


def _frozen_conflict(used: DataItemSpec | None, item: DataItemSpec) -> list[common.UserError]:
    """What a published version forbids changing: the type, and removing ENUM options."""
    if used is None:
        return []
    if used.type != item.type:
        return [
            user_error(
                ErrorCode.CONFLICT,
                f"item '{item.code}' is used by a published business type; its type stays "
                f"{used.type.value}",
                ("input", "type"),
            )
        ]
    if item.type is ItemType.ENUM:
        kept = {o.value for o in item.options}
        lost = [o.value for o in used.options if o.value not in kept]
        if lost:
            return [
                user_error(
                    ErrorCode.CONFLICT,
                    f"options {', '.join(lost)} of '{item.code}' are used by a published "
                    "business type and cannot be removed",
                    ("input", "options"),
                )
            ]
    return []


@strawberry.field(description="The data dictionary.")
async def data_items(info: Info) -> list[mt.DataItem]:
    """Every data item, by code."""
    async with info.context.db.read() as session:
        items = await metadata_repo.get_data_items(session)
    return [convert.data_item_out(i) for i in items.values()]


# -- stages, posts, org units -------------------------------------------------------------------


@strawberry.mutation(description="Create or replace a stage of the stage library.")
async def upsert_stage(info: Info, input: mt.UpsertStageInput) -> mt.UpsertStagePayload:
    """A library stage; a time limit, when given, is 1..10000."""
    errors = _code_problem(input.code, ("input", "code"))
    limit = convert.time_limit_in(input.time_limit)
    if limit is not None and limit.amount not in validation.TIME_LIMIT_RANGE:
        errors.append(
            user_error(
                ErrorCode.VALIDATION, "a time limit is 1 to 10000", ("input", "timeLimit", "amount")
            )
        )
    if not input.name.strip():
        errors.append(user_error(ErrorCode.REQUIRED, "a stage needs a name", ("input", "name")))
    if errors:
        return mt.UpsertStagePayload(errors=errors)
    stage = StageSpec(input.code, input.name, limit, convert.given(input.description))
    async with info.context.db.transaction() as session:
        await metadata_repo.save_stage(session, stage, now=info.context.now())
    return mt.UpsertStagePayload(stage=convert.stage_out(stage))


@strawberry.field(description="The stage library.")
async def stages(info: Info) -> list[mt.Stage]:
    """Every library stage, by code."""
    async with info.context.db.read() as session:
        found = await metadata_repo.get_stages(session)
    return [convert.stage_out(s) for s in found.values()]


@strawberry.mutation(description="Create or replace a post.")
async def upsert_post(info: Info, input: mt.UpsertPostInput) -> mt.UpsertPostPayload:
    """A post (岗位)."""
    errors = _code_problem(input.code, ("input", "code"))
    if not input.name.strip():
        errors.append(user_error(ErrorCode.REQUIRED, "a post needs a name", ("input", "name")))
    if errors:
        return mt.UpsertPostPayload(errors=errors)
    post = PostSpec(input.code, input.name, convert.given(input.description))
    async with info.context.db.transaction() as session:
        await metadata_repo.save_post(session, post, now=info.context.now())
    return mt.UpsertPostPayload(post=convert.post_out(post))


@strawberry.field(description="Every post.")
async def posts(info: Info) -> list[mt.Post]:
    """Every post, by code."""
    async with info.context.db.read() as session:
        found = await metadata_repo.get_posts(session)
    return [convert.post_out(p) for p in found.values()]


@strawberry.mutation(description="Create, rename or move an org unit.")
async def upsert_org_unit(info: Info, input: mt.UpsertOrgUnitInput) -> mt.UpsertOrgUnitPayload:
    """The parent must exist and may not be the unit itself or below it."""
    errors = _code_problem(input.code, ("input", "code"))
    if not input.name.strip():
        errors.append(user_error(ErrorCode.REQUIRED, "an org unit needs a name", ("input", "name")))
    if errors:
        return mt.UpsertOrgUnitPayload(errors=errors)
    parent_code = convert.given(input.parent)
    async with info.context.db.transaction() as session:
        parent = await metadata_repo.get_org_unit(session, parent_code) if parent_code else None
        if parent_code and parent is None:
            return mt.UpsertOrgUnitPayload(
                errors=[
                    user_error(
                        ErrorCode.NOT_FOUND, f"no org unit '{parent_code}'", ("input", "parent")
                    )
                ]
            )
        if parent is not None and f"/{input.code}/" in parent.path:
            return mt.UpsertOrgUnitPayload(
                errors=[
                    user_error(
                        ErrorCode.VALIDATION,
                        f"'{parent_code}' is '{input.code}' or below it; a unit cannot be its own "
                        "ancestor",
                        ("input", "parent"),
                    )
                ]
            )
        row = await metadata_repo.save_org_unit(
            session,
            OrgUnitSpec(input.code, input.name, parent_code),
            parent,
            now=info.context.now(),
        )
        out = convert.org_unit_out(row.code, row.name, row.path, parent_code)
    return mt.UpsertOrgUnitPayload(org_unit=out)


@strawberry.field(description="The org tree, parents before children.")
async def org_units(info: Info) -> list[mt.OrgUnit]:
    """Every org unit."""
    async with info.context.db.read() as session:
        rows = await metadata_repo.get_org_units(session)
    codes = {r.id: r.code for r in rows}
    return [
        convert.org_unit_out(
            r.code, r.name, r.path, codes.get(r.parent_id) if r.parent_id else None
        )
        for r in rows
    ]


# -- business types -----------------------------------------------------------------------------


async def business_type_out(session: AsyncSession, row: BusinessTypeRow) -> mt.BusinessType:
    """A business type row with its versions, for output."""
    versions = await metadata_repo.get_versions(session, row.id)
    draft = serialization.business_type_from_dict(row.draft)
    frozen = [serialization.version_from_dict(v.definition) for v in versions]
    library = await metadata_repo.get_stages(session)
    shown = frozen[-1].spec if frozen else draft
    # Name and group are those served (the latest version's); before a publish, the draft's.
    return mt.BusinessType(
        code=row.code,
        name=shown.name,
        group=shown.group,
        status=row.status,
        latest_version=row.latest_version,
        draft=convert.definition_out(draft),
        versions=[
            mt.BusinessTypeVersion(
                version=v.version,
                published_at=v.published_at,
                published_by=v.published_by,
                definition=convert.definition_out(f.spec),
            )
            for v, f in zip(versions, frozen, strict=True)
        ],
        mermaid=diagram.mermaid(shown, library),
    )


@strawberry.mutation(description="Save a business type draft; the live version is untouched.")
async def save_business_type_draft(
    info: Info,
    input: mt.SaveBusinessTypeDraftInput,
) -> mt.SaveBusinessTypeDraftPayload:
    """Drafts may be incomplete: what publishing would refuse comes back as `problems`."""
    spec = convert.draft_in(input)
    errors = _code_problem(spec.code, ("input", "code"))
    if not spec.name.strip():
        errors.append(
            user_error(ErrorCode.REQUIRED, "a business type needs a name", ("input", "name"))
        )
    if errors:
        return mt.SaveBusinessTypeDraftPayload(errors=errors)
    async with info.context.db.transaction() as session:
        row = await metadata_repo.save_draft(session, spec, now=info.context.now())
        found = await publishing.validate(session, spec, now=info.context.now())
        out = await business_type_out(session, row)
    return mt.SaveBusinessTypeDraftPayload(business_type=out, problems=common.problems(found))


@strawberry.field(description="Every problem that would stop the draft from being published.")
async def validate_business_type(info: Info, code: str) -> list[common.Problem]:
    """All problems at once; an unknown code is itself a problem."""
    async with info.context.db.read() as session:
        row = await metadata_repo.get_business_type(session, code)
        if row is None:
            return [
                common.Problem(
                    code="NOT_FOUND", message=f"no business type '{code}'", path=["code"]
                )
            ]
        found = await publishing.validate(
            session, serialization.business_type_from_dict(row.draft), now=info.context.now()
        )
    return common.problems(found)


@strawberry.mutation(description="Validate the draft and freeze it as the next numbered version.")
async def publish_business_type(
    info: Info, code: str, dry_run: bool = False, allow_breaking: bool = False
) -> mt.PublishBusinessTypePayload:
    """Refused (nothing changes) on problems, or on breaking schema changes unless allowed."""
    return await publishing.publish(info, code, dry_run=dry_run, allow_breaking=allow_breaking)


@strawberry.mutation(description="Close a business type to new cases; its cases stay readable.")
async def retire_business_type(info: Info, code: str) -> mt.RetireBusinessTypePayload:
    """The create mutation leaves the schema; list, read and update stay."""
    async with info.context.db.transaction() as session:
        row = await metadata_repo.lock_business_type(session, code)
        if row is None:
            return mt.RetireBusinessTypePayload(
                errors=[user_error(ErrorCode.NOT_FOUND, f"no business type '{code}'", ("code",))]
            )
        if row.status != BusinessTypeStatus.PUBLISHED.value:
            return mt.RetireBusinessTypePayload(
                errors=[
                    user_error(
                        ErrorCode.INVALID_TRANSITION,
                        f"only a published business type can be retired; '{code}' is {row.status}",
                        ("code",),
                    )
                ]
            )
        row.status = BusinessTypeStatus.RETIRED.value
        await metadata_repo.bump_revision(session, now=info.context.now())
        out = await business_type_out(session, row)
    await _changed(info)
    return mt.RetireBusinessTypePayload(business_type=out)


@strawberry.field(description="Every business type.")
async def business_types(info: Info) -> list[mt.BusinessType]:
    """Every business type with its draft and versions."""
    async with info.context.db.read() as session:
        rows = await metadata_repo.get_business_types(session)
        return [await business_type_out(session, r) for r in rows]


@strawberry.field(description="One business type.")
async def business_type(info: Info, code: str) -> mt.BusinessType | None:
    """A business type by code, or null."""
    async with info.context.db.read() as session:
        row = await metadata_repo.get_business_type(session, code)
        return None if row is None else await business_type_out(session, row)


@strawberry.field(
    description="The whole metamodel as YAML (dictionary, stages, posts, org units, drafts)."
)
async def export_metamodel(info: Info) -> str:
    """What `yekuo metamodel apply` reads back."""
    async with info.context.db.read() as session:
        bundle = yaml_io.Bundle(
            items=tuple((await metadata_repo.get_data_items(session)).values()),
            stages=tuple((await metadata_repo.get_stages(session)).values()),
            posts=tuple((await metadata_repo.get_posts(session)).values()),
            org_units=tuple((await metadata_repo.org_unit_specs(session)).values()),
            business_types=tuple(
                serialization.business_type_from_dict(r.draft)
                for r in await metadata_repo.get_business_types(session)
            ),
        )
    return await asyncio.to_thread(yaml_io.dump, bundle)


QUERIES: list[Any] = [
    data_items,
    stages,
    posts,
    org_units,
    business_types,
    business_type,
    validate_business_type,
    export_metamodel,
]
MUTATIONS: list[Any] = [
    upsert_data_item,
    upsert_stage,
    upsert_post,
    upsert_org_unit,
    save_business_type_draft,
    publish_business_type,
    retire_business_type,
]
