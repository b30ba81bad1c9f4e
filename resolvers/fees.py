"""Fee rules (ADMIN), assessed fees on cases, payments and waivers."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import strawberry

from casework import fees as fee_rules
from casework.model import Event
from database import case_reads as stored_cases
from database import case_repo, fee_reads, fee_repo, metadata_repo
from database.session import Session
from database.tables import CaseRow, FeeItemRow, OrgUnitRow, PaymentRow
from metamodel import filters as f
from metamodel import naming
from metamodel.specs import CaseStatus, DataItemSpec, FeeRuleSpec, FeeRuleStatus
from resolvers import case_commands, case_reads, policy
from resolvers.case_reads import page_size
from resolvers.context import Context
from resolvers.convert import given, row_id
from resolvers.objects import fee_out
from schema import fee_types as ft
from schema.common import ErrorCode, UserError, user_error

Info = strawberry.Info[Context, Any]


def rule_out(rule: FeeRuleSpec, version: int) -> ft.FeeRule:
    """A fee rule for output."""
    return ft.FeeRule(
        code=rule.code,
        name=rule.name,
        business_types=list(rule.business_types),
        stage=rule.stage,
        condition=rule.condition,
        amount=rule.amount,
        effective_from=rule.effective_from,
        effective_to=rule.effective_to,
        status=rule.status,
        description=rule.description,
        version=version,
    )


@strawberry.field(description="Every fee rule, charged or abolished.")
async def fee_rules_field(info: Info) -> list[ft.FeeRule]:
    """By code, with their current version."""
    async with info.context.db.read() as session:
        found = await fee_repo.rules(session)
    return [rule_out(r, v) for r, v in found]


async def _items_for(
    session: Session, business_types: list[str], stage: str, *, stage_exists: bool
) -> tuple[dict[str, dict[str, DataItemSpec]], list[UserError]]:
    """The items of each type a rule names (latest published, else the draft), and its errors."""
    snapshot = await metadata_repo.load_snapshot(session)
    published = {t.code: dict(t.latest.items) for t in snapshot.types}
    versions = {t.code: t.latest.spec for t in snapshot.types}
    errors: list[UserError] = []
    named = business_types or [
        t.code for t in snapshot.types if t.latest.spec.stage_usage(stage) is not None
    ]
    found: dict[str, dict[str, DataItemSpec]] = {}
    dictionary = await metadata_repo.get_data_items(session)
    for index, code in enumerate(named):
        row = await metadata_repo.get_business_type(session, code)
        if row is None:
            errors.append(
                user_error(
                    ErrorCode.NOT_FOUND,
                    f"no business type '{code}'",
                    ("input", "businessTypes", index),
                )
            )
            continue
        # A rule at a stage the type never enters would never be assessed: a typo, refused.
        # The draft counts too, so a rule can be ready before the version that needs it.
        drafted = {u.get("stage") for u in row.draft.get("stages", ())}
        latest = versions.get(code)
        unused = stage not in drafted and (latest is None or latest.stage_usage(stage) is None)
        if stage_exists and unused:  # an unknown stage is reported as such
            errors.append(
                user_error(
                    ErrorCode.VALIDATION,
                    f"business type '{code}' does not use stage '{stage}'",
                    ("input", "stage"),
                )
            )
        if code in published:
            found[code] = published[code]
            continue
        used = [u["item"] for u in row.draft.get("items", ())]
        found[code] = {c: dictionary[c] for c in used if c in dictionary}
    return found, errors


@strawberry.mutation(description="Create or replace a fee rule; it is type-checked when saved.")
async def upsert_fee_rule(
    info: Info,
    input: Annotated[
        ft.UpsertFeeRuleInput,
        strawberry.argument(description="The fee rule; saving makes a new version."),
    ],
) -> ft.UpsertFeeRulePayload:
    """The condition must be BOOLEAN and the amount NUMBER over every named type's items."""
    ctx = info.context
    rule = FeeRuleSpec(
        code=input.code,
        name=input.name,
        stage=input.stage,
        amount=input.amount,
        business_types=tuple(given(input.business_types, [])),
        condition=given(input.condition),
        effective_from=given(input.effective_from),
        effective_to=given(input.effective_to),
        status=FeeRuleStatus(given(input.status, FeeRuleStatus.ACTIVE)),
        description=given(input.description),
    )
    errors: list[UserError] = []
    if not naming.is_valid_code(rule.code):
        errors.append(
            user_error(
                ErrorCode.VALIDATION, f"'{rule.code}' is not a valid code", ("input", "code")
            )
        )
    if rule.effective_from and rule.effective_to and rule.effective_to <= rule.effective_from:
        errors.append(
            user_error(
                ErrorCode.VALIDATION,
                "effectiveTo must be after effectiveFrom",
                ("input", "effectiveTo"),
            )
        )
    async with ctx.db.transaction() as session:
        stage_exists = rule.stage in await metadata_repo.get_stages(session)
        if not stage_exists:
            errors.append(
                user_error(ErrorCode.NOT_FOUND, f"no stage '{rule.stage}'", ("input", "stage"))
            )
        by_type, missing = await _items_for(
            session, list(rule.business_types), rule.stage, stage_exists=stage_exists
        )
        errors.extend(missing)
        for code, items in by_type.items():
            for field, message in fee_rules.check(rule, items):
                errors.append(
                    user_error(ErrorCode.VALIDATION, f"{code}: {message}", ("input", field))
                )
        if errors:
            return ft.UpsertFeeRulePayload(errors=errors)
        by = ctx.principal.username if ctx.principal else "system"
        version, _ = await fee_repo.save_rule(session, rule, by=by, now=ctx.now())
    return ft.UpsertFeeRulePayload(fee_rule=rule_out(rule, version))


async def _locked_fee(
    ctx: Context, session: Session, case_id: strawberry.ID, code: str
) -> tuple[CaseRow | None, FeeItemRow | None, OrgUnitRow | None]:
    case = await case_repo.get(session, row_id(case_id), lock=True)
    if case is None:
        return None, None, None
    unit = await session.get(OrgUnitRow, case.org_unit_id)
    return case, await fee_repo.fee(session, case.id, code), unit


@strawberry.mutation(
    description="Record the payment of a fee (实收); retries with one key are safe."
)
async def record_payment(
    info: Info,
    input: Annotated[
        ft.RecordPaymentInput, strawberry.argument(description="The case, the fee and the payment.")
    ],
) -> ft.FeePayload:
    """The amount must equal the amount due; the fee becomes PAID."""
    ctx = info.context
    principal = ctx.principal
    assert principal is not None
    key = given(input.idempotency_key)
    hidden = await case_reads.hidden_by_type(ctx)
    async with ctx.db.transaction() as session:
        case, fee, _unit = await _locked_fee(ctx, session, input.case_id, input.fee_code)
        if case is not None and not await stored_cases.visible(
            session, case.id, policy.case_scope(principal)
        ):
            case = None
        # By row id and rule code, both bounded: the scope fits its column however the id is
        # written ("7" and "007" name one case).
        scope = f"payment:{case.id if case else 0}:{fee.code if fee else ''}"
        # The key is looked up with the case row locked: a concurrent retry waits for the first
        # attempt to commit, then finds its key (rather than a fee already PAID).
        if (
            case is not None
            and fee is not None
            and key is not None
            and await case_repo.find_idempotent(session, scope, key) is not None
        ):
            return ft.FeePayload(
                fee=fee_out(
                    fee_reads.fee_record(fee),
                    case_reads.hidden_of(hidden, ctx, case.business_type_id),
                )
            )
        if case is None or fee is None:
            return ft.FeePayload(
                errors=[
                    user_error(
                        ErrorCode.NOT_FOUND,
                        f"no fee '{input.fee_code}' on case '{input.case_id}'",
                        ("input", "feeCode"),
                    )
                ]
            )
        if fee.status != fee_repo.FeeStatus.DUE:
            return ft.FeePayload(
                errors=[
                    user_error(
                        ErrorCode.INVALID_TRANSITION,
                        f"the fee is {fee.status}",
                        ("input", "feeCode"),
                    )
                ]
            )
        if input.amount != Decimal(fee.amount):
            return ft.FeePayload(
                errors=[
                    user_error(
                        ErrorCode.VALIDATION,
                        f"the amount due is {fee.amount}; a payment must equal it",
                        ("input", "amount"),
                    )
                ]
            )
        now = ctx.now()
        fee.status, fee.settled_at = fee_repo.FeeStatus.PAID, now
        session.add(
            PaymentRow(
                fee_item_id=fee.id,
                amount=fee.amount,
                method=input.method,
                reference=given(input.reference),
                paid_at=now,
                recorded_by=principal.username,
            )
        )
        paid = {
            "fee": fee.code,
            "amount": fee.amount,
            "method": input.method,
            "reference": given(input.reference),
        }
        event = Event("PAYMENT_RECORDED", paid)
        await case_repo.record_change(session, case, [event], actor=principal.username, now=now)
        if key is not None:
            await case_repo.remember_idempotent(
                session, scope, key, {"fee_item_id": fee.id}, now=now
            )
    return ft.FeePayload(
        fee=fee_out(
            fee_reads.fee_record(fee), case_reads.hidden_of(hidden, ctx, case.business_type_id)
        )
    )


@strawberry.mutation(description="Waive a fee (MANAGER of the case's org unit, or ADMIN).")
async def waive_fee(
    info: Info,
    input: Annotated[
        ft.WaiveFeeInput, strawberry.argument(description="The case, the fee and why.")
    ],
) -> ft.FeePayload:
    """The fee becomes WAIVED; the reason is kept in the history."""
    ctx = info.context
    hidden = await case_reads.hidden_by_type(ctx)
    async with ctx.db.transaction() as session:
        case, fee, unit = await _locked_fee(ctx, session, input.case_id, input.fee_code)
        if case is None or fee is None or unit is None:
            return ft.FeePayload(
                errors=[
                    user_error(
                        ErrorCode.NOT_FOUND,
                        f"no fee '{input.fee_code}' on case '{input.case_id}'",
                        ("input", "feeCode"),
                    )
                ]
            )
        if not case_commands.manages(ctx, unit.path):
            return ft.FeePayload(
                errors=[
                    user_error(
                        ErrorCode.FORBIDDEN,
                        "only a manager of the case's org unit may waive a fee",
                        ("input", "caseId"),
                    )
                ]
            )
        if not input.reason.strip():
            return ft.FeePayload(
                errors=[user_error(ErrorCode.REQUIRED, "give a reason", ("input", "reason"))]
            )
        if fee.status != fee_repo.FeeStatus.DUE:
            return ft.FeePayload(
                errors=[
                    user_error(
                        ErrorCode.INVALID_TRANSITION,
                        f"the fee is {fee.status}",
                        ("input", "feeCode"),
                    )
                ]
            )
        now = ctx.now()
        fee.status, fee.settled_at, fee.waived_reason = fee_repo.FeeStatus.WAIVED, now, input.reason
        actor = ctx.principal.username if ctx.principal else "system"
        event = Event("FEE_WAIVED", {"fee": fee.code, "amount": fee.amount, "reason": input.reason})
        await case_repo.record_change(session, case, [event], actor=actor, now=now)
    return ft.FeePayload(
        fee=fee_out(
            fee_reads.fee_record(fee), case_reads.hidden_of(hidden, ctx, case.business_type_id)
        )
    )


PROBLEM_SCAN = 1000
"""Open cases one `feeRuleProblems` call examines at most (the most recent first)."""


@strawberry.field(
    description="Open cases a failing fee rule blocks: their next stage is the rule's and the "
    "rule cannot be assessed on their data (e.g. its amount is over the largest fee). Examines "
    "the 1000 most recent cases in progress; first is at most 200 (default 50)."
)
async def fee_rule_problems(
    info: Info,
    code: Annotated[
        str | None,
        strawberry.argument(description="Only this rule's problems (default: every active rule)."),
    ] = None,
    first: Annotated[
        int | None, strawberry.argument(description="How many problems to return at most.")
    ] = None,
) -> list[ft.FeeRuleProblem]:
    """ADMIN: each blocked case with the rule, the stages and the rule's error."""
    ctx = info.context
    size = page_size(first)
    async with ctx.db.read() as session:
        wanted = [
            (rule, version)
            for rule, version in await fee_repo.rules(session)
            if rule.status is FeeRuleStatus.ACTIVE and code in (None, rule.code)
        ]
    if not wanted:
        return []
    types, _, _ = await ctx.codes()
    day = (await ctx.calendar()).local_date(ctx.now())
    in_progress = f.Compare(f.SystemField.STATUS, f.Op.EQ, CaseStatus.IN_PROGRESS.value)
    found: list[ft.FeeRuleProblem] = []
    async with ctx.db.read() as session:
        rows = await stored_cases.page_rows(
            session,
            in_progress,
            [f.Order(f.SystemField.ID, descending=True)],
            offset=0,
            limit=PROBLEM_SCAN,
        )
        for row in rows:
            code_of_type = types.get(row.business_type_id)
            if code_of_type is None:
                continue
            definition = await ctx.versions.definition(
                ctx.db, code_of_type, row.business_type_version
            )
            state = await stored_cases.engine_state(session, row, definition.version)
            for visit in state.current_stages:
                ahead = {
                    s
                    for t in definition.version.spec.transitions
                    if t.from_stage == visit.stage
                    for s in t.to
                }
                for rule, version in wanted:
                    if rule.stage not in ahead:
                        continue
                    try:
                        fee_rules.assess(
                            [(rule, version)],
                            business_type=code_of_type,
                            stage=rule.stage,
                            items=definition.version.items,
                            data=state.data,
                            day=day,
                        )
                    except fee_rules.RuleFailed as failed:
                        if failed.message == fee_rules.MISSING_ITEM:
                            continue  # the completion may still bring the item
                        found.append(
                            ft.FeeRuleProblem(
                                rule=rule.code,
                                case_id=strawberry.ID(str(row.id)),
                                number=row.number,
                                from_stage=visit.stage,
                                stage=rule.stage,
                                error=failed.message,
                            )
                        )
            if len(found) >= size:
                break
    return found[:size]


fee_rules_field.graphql_name = "feeRules"  # the Python name avoids the casework module's name
QUERIES: list[Any] = [fee_rules_field, fee_rule_problems]
MUTATIONS: list[Any] = [upsert_fee_rule, record_payment, waive_fee]
