"""Root fields over the metamodel: the administrators' operations and the read side."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Annotated, Any

import strawberry

from database import definitions_views, metadata_repo
from metamodel import bundle_checks, decode, diagram, item_changes, item_checks
from metamodel.specs import Problem, StageSpec
from resolvers import convert, input_decode, item_indexes, library, publishing
from resolvers.context import Context
from schema import business_type_types, common, dictionary_types, effect_types, publish_types
from schema.case_types import BusinessTypeRef
from schema.common import ErrorCode, user_error
from service import definitions

Info = strawberry.Info[Context, None]


async def _changed(info: Info) -> None:
    """Let the server rebuild the schema now rather than at its next poll."""
    if info.context.metadata_changed is not None:
        await info.context.metadata_changed()


# -- data items ---------------------------------------------------------------------------------


@strawberry.mutation(
    description=(
        "Create or change an entry of the data dictionary. On an existing item, fields the "
        "input leaves out keep their stored values (null clears one). The payload reports what "
        "changes, for every business type whose published versions use the item, and for API "
        "clients. Removing or tightening a limit (fewer decimal places included), dropping "
        "indexed or an ENUM option of an item such versions use is refused (CONFLICT) unless "
        "allowBreaking; changing its type or "
        "dropping an ENUM option they use is always refused."
    )
)
async def upsert_data_item(
    info: Info,
    input: Annotated[
        dictionary_types.UpsertDataItemInput,
        strawberry.argument(description="The data item and the properties to set."),
    ],
    dry_run: Annotated[
        bool,
        strawberry.argument(
            description="Report what the upsert would change and refuse, and write nothing."
        ),
    ] = False,
    allow_breaking: Annotated[
        bool,
        strawberry.argument(
            description=(
                "Accept removing or tightening a limit (fewer decimal places included), dropping "
                "indexed or an ENUM option no "
                "published version uses, on an item published versions use."
            )
        ),
    ] = False,
) -> dictionary_types.UpsertDataItemPayload:
    """The item's change judged by metamodel.item_changes; one transaction, nothing on refusal."""
    ctx = info.context
    async with ctx.db.transaction() as session:
        before = await metadata_repo.get_data_item(session, input.code)
        item = convert.data_item_in(input, before)
        if isinstance(item, list):
            return dictionary_types.UpsertDataItemPayload(errors=item)
        errors = [
            user_error(ErrorCode.VALIDATION, p.message, ("input", *_input_path(p.path)))
            for p in item_checks.validate_item(item)
        ]
        if errors:
            return dictionary_types.UpsertDataItemPayload(errors=errors)
        uses = (await metadata_repo.item_uses(session)).get(item.code, [])
        judged = item_changes.judge(before, item, uses)
        stored = await metadata_repo.load_snapshot(session)
        changes = publish_types.SchemaChanges(breaking=[], dangerous=[])
        if before != item:
            candidate = dataclasses.replace(stored, items={**stored.items, item.code: item})
            changes = await asyncio.to_thread(
                publishing.changes_between, ctx.build_schema, stored, candidate
            )
        report = dictionary_types.UpsertDataItemPayload(
            changes=convert.item_changes_out(judged.changes),
            impact=[
                dictionary_types.ItemImpact(
                    business_type=BusinessTypeRef(code=u.business_type, name=u.name),
                    versions=list(u.versions),
                    changes=convert.item_changes_out(judged.changes_for(u)),
                )
                for u in judged.uses
            ],
            schema_changes=changes,
        )
        refusals = judged.refusals(allow_breaking=allow_breaking)
        if refusals:
            report.errors = [
                user_error(
                    ErrorCode.CONFLICT,
                    f.message
                    if f.verdict is item_changes.Verdict.REFUSED
                    else f"{f.message}; review impact and pass allowBreaking: true to change it",
                    ("input", convert.item_property(f.property)),
                )
                for f in refusals
            ]
            return report
        report.data_item = item_indexes.with_index(ctx, [convert.data_item_out(item)])[0]
        if dry_run or before == item:
            return report
        await metadata_repo.save_data_item(session, item, now=ctx.now())
        # The poll picks the new revision up within a quarter second.
        await metadata_repo.bump_revision(session, now=ctx.now())
    return report


def _input_path(path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """A validation path in the input's GraphQL names (max_length -> maxLength)."""
    return tuple(convert.item_property(p) if isinstance(p, str) else p for p in path)


@strawberry.field(description="The data dictionary.")
async def data_items(info: Info) -> list[dictionary_types.DataItem]:
    """Every data item, by code."""
    async with info.context.db.read() as session:
        items = await metadata_repo.get_data_items(session)
    return item_indexes.with_index(info.context, [convert.data_item_out(i) for i in items.values()])


# -- business types -----------------------------------------------------------------------------


def business_type_out(
    view: definitions_views.BusinessTypeView, library: Mapping[str, StageSpec]
) -> business_type_types.BusinessType:
    """A business type with its versions, for output."""
    draft = view.draft
    shown = view.versions[-1].frozen.spec if view.versions else draft
    # Name and group are those served (the latest version's); before a publish, the draft's.
    return business_type_types.BusinessType(
        code=view.code,
        name=shown.name,
        group=shown.group,
        status=view.status,
        latest_version=view.latest_version,
        draft=convert.definition_out(draft),
        versions=[
            business_type_types.BusinessTypeVersion(
                version=v.frozen.version,
                published_at=v.published_at,
                published_by=v.published_by,
                definition=convert.definition_out(v.frozen.spec),
            )
            for v in view.versions
        ],
        effects=[effect_types.effect_out(e) for e in shown.effects],
        customer_requirement=effect_types.requirement_out(shown.customer_requirement),
        requires_customer=effect_types.needs_customer(shown),
        mermaid=diagram.mermaid(shown, library),
    )


async def _business_type(info: Info, code: str) -> business_type_types.BusinessType | None:
    async with info.context.db.read() as session:
        view = await definitions_views.business_type(session, code)
        library = await metadata_repo.get_stages(session)
    return None if view is None else business_type_out(view, library)


@strawberry.mutation(description="Save a business type draft; the live version is untouched.")
async def save_business_type_draft(
    info: Info,
    input: Annotated[
        business_type_types.SaveBusinessTypeDraftInput,
        strawberry.argument(description="The whole draft; it replaces the previous one."),
    ],
) -> business_type_types.SaveBusinessTypeDraftPayload:
    """Drafts may be incomplete: what publishing would refuse comes back as `problems`."""
    spec = input_decode.decoded(decode.business_type, input)
    if isinstance(spec, list):
        return business_type_types.SaveBusinessTypeDraftPayload(errors=spec)
    errors = library.input_errors(bundle_checks.code_problems(spec.code, spec.name))
    if errors:
        return business_type_types.SaveBusinessTypeDraftPayload(errors=errors)
    ctx = info.context
    found = await definitions.save_draft(
        ctx.db, spec, now=ctx.now(), reserved_names=publishing.reserved_names(ctx.build_schema)
    )
    out = await _business_type(info, spec.code)
    return business_type_types.SaveBusinessTypeDraftPayload(
        business_type=out, problems=common.problems(found)
    )


@strawberry.field(description="Every problem that would stop the draft from being published.")
async def validate_business_type(
    info: Info,
    code: Annotated[
        str, strawberry.argument(description="The code of the business type whose draft to check.")
    ],
) -> list[common.Problem]:
    """All problems at once; an unknown code is itself a problem."""
    ctx = info.context
    found = await definitions.draft_problems(
        ctx.db, code, now=ctx.now(), reserved_names=publishing.reserved_names(ctx.build_schema)
    )
    if found is None:
        return [
            common.Problem(code="NOT_FOUND", message=f"no business type '{code}'", path=["code"])
        ]
    return common.problems(found)


@strawberry.mutation(description="Validate the draft and freeze it as the next numbered version.")
async def publish_business_type(
    info: Info,
    code: Annotated[
        str,
        strawberry.argument(description="The code of the business type whose draft to publish."),
    ],
    dry_run: Annotated[
        bool,
        strawberry.argument(
            description="Check the draft and report the schema changes, publishing nothing."
        ),
    ] = False,
    allow_breaking: Annotated[
        bool,
        strawberry.argument(
            description="Publish even if the schema changes would break existing API clients."
        ),
    ] = False,
) -> publish_types.PublishBusinessTypePayload:
    """Refused (nothing changes) on problems, or on breaking schema changes unless allowed."""
    return await publishing.publish(info, code, dry_run=dry_run, allow_breaking=allow_breaking)


@strawberry.mutation(description="Close a business type to new cases; its cases stay readable.")
async def retire_business_type(
    info: Info,
    code: Annotated[
        str, strawberry.argument(description="The code of the business type to retire.")
    ],
) -> publish_types.RetireBusinessTypePayload:
    """The create mutation leaves the schema; list, read and update stay."""
    retired = await definitions.retire_business_type(info.context.db, code, now=info.context.now())
    if isinstance(retired, Problem):
        return publish_types.RetireBusinessTypePayload(
            errors=[user_error(retired.code, retired.message, retired.path)]
        )
    async with info.context.db.read() as session:
        library = await metadata_repo.get_stages(session)
    await _changed(info)
    return publish_types.RetireBusinessTypePayload(
        business_type=business_type_out(retired, library)
    )


@strawberry.field(description="Every business type.")
async def business_types(info: Info) -> list[business_type_types.BusinessType]:
    """Every business type with its draft and versions."""
    async with info.context.db.read() as session:
        views = await definitions_views.business_types(session)
        library = await metadata_repo.get_stages(session)
    return [business_type_out(v, library) for v in views]


@strawberry.field(description="One business type.")
async def business_type(
    info: Info, code: Annotated[str, strawberry.argument(description="The business type's code.")]
) -> business_type_types.BusinessType | None:
    """A business type by code, or null."""
    return await _business_type(info, code)


@strawberry.field(
    description=(
        "The whole metamodel as YAML, exactly as `yekuo metamodel export` prints it: the "
        "dictionary, stages, posts, org units, each business type's latest published definition, "
        "responsibilities in effect, fee rules, and drafts that differ from what is published."
    )
)
async def export_metamodel(info: Info) -> str:
    """What `yekuo metamodel apply` reads back; applying it unchanged changes nothing."""
    return await definitions.export_metamodel(info.context.db, now=info.context.now())


QUERIES: list[Any] = [
    data_items,
    *library.QUERIES,
    business_types,
    business_type,
    validate_business_type,
    export_metamodel,
]
MUTATIONS: list[Any] = [
    upsert_data_item,
    *library.MUTATIONS,
    save_business_type_draft,
    publish_business_type,
    retire_business_type,
]
