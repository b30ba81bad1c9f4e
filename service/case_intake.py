"""Opening a case and writing its data: one transaction each, plain values in and out.

Opening checks, in the order a counter clerk meets them: the data (every codec problem at
once), the engine's rules, the customer a case names (and the state it must be in), the org
unit; a repeated request with the same idempotency key answers with the case the first one
opened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace

from casework import cases as casework_cases
from casework import lifecycle, rules
from casework.model import Refused
from database import archive_reads, case_reads, case_repo, case_save, case_store
from database.case_save import Change, Saved
from database.session import Session
from database.user_repo import Principal
from metamodel import datatypes
from metamodel.specs import BusinessTypeVersion, CaseStatus
from service import access
from service.case_commands import Outcome, Rollback, Runtime, refuse, settle
from service.customer_rules import customer_problems

ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""No 0/O or 1/I: the applicant reads the code off a receipt."""


def new_access_code() -> tuple[str, str]:
    """A random 12-character access code (60 bits) and the hash that is stored."""
    code = "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(12))
    return code, hash_access_code(code)


def hash_access_code(code: str) -> str:
    """Access codes are random and long, so a plain SHA-256 cannot be reversed by guessing."""
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True)
class NewCase:
    """What a new case is opened with; `data` keyed by item code, values as given."""

    version: BusinessTypeVersion
    data: Mapping[str, object]
    submit: bool = False
    customer_number: str | None = None
    org_unit: str | None = None
    priority: int | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Opened(Outcome):
    """A new case and the access code the applicant tracks it with (shown once)."""

    access_code: str | None = None


async def open_case(rt: Runtime, actor: Principal, new: NewCase, *, now: dt.datetime) -> Opened:
    """Open a case, as a draft or submitted."""
    version = new.version
    clean, problems = datatypes.validate_data(version.items, new.data, path=("input", "data"))
    if problems:
        return Opened(problems=problems)
    rt.reference.put(version)
    key = new.idempotency_key
    scope = f"create:{version.code}:{actor.id}"  # within the 120 characters of its column
    try:
        async with rt.db.transaction() as session:
            ref = await rt.reference.get(session)
            definition = await rt.reference.definition(session, version.code, version.version)
            try:
                state, events = casework_cases.open_case(version, clean)
                if new.submit:
                    state, submitted = lifecycle.submit(
                        state, definition, now=now, clock=ref.calendar
                    )
                    events.extend(submitted)
                warnings = rules.gate(version, state, now)
            except Refused as refused:
                raise Rollback(refused.problems) from refused
            number = new.customer_number
            if number is None and (required := await customer_problems(session, version, None)):
                raise Rollback(required)
            unit_code = new.org_unit or actor.org_unit
            if unit_code is None:
                raise refuse("REQUIRED", "name the case's org unit", ("input", "orgUnit"))
            earlier = await case_repo.find_idempotent(session, scope, key) if key else None
            if earlier is not None:
                existing = await _existing(session, int(earlier["case_id"]))
                return Opened(saved=existing, reference=ref)
            reachable = number and await archive_reads.reachable_customer(
                session, number, _scope_of(actor)
            )
            if number and not reachable:  # unknown and out of scope answer alike
                raise refuse("NOT_FOUND", f"no customer '{number}'", ("input", "customerNumber"))
            if number and (wrong := await customer_problems(session, version, number)):
                raise Rollback(wrong)
            unit = ref.unit_by_code(unit_code)
            type_id = ref.type_ids.get(version.code)
            if unit is None or type_id is None:
                raise refuse("NOT_FOUND", f"no org unit '{unit_code}'", ("input", "orgUnit"))
            if not access.is_admin(actor) and not (
                actor.org_path and unit.path.startswith(actor.org_path)
            ):
                raise refuse(
                    "FORBIDDEN",
                    f"org unit '{unit_code}' is outside your org unit",
                    ("input", "orgUnit"),
                )
            access_code, access_hash = new_access_code()
            loaded = await case_store.insert(
                session,
                case_store.NewRow(
                    business_type_id=type_id,
                    business_type_version=version.version,
                    org_unit_id=unit.id,
                    org_path=unit.path,
                    priority=new.priority if new.priority is not None else version.spec.priority,
                    customer_number=number,
                    created_by=actor.username,
                    access_code_hash=access_hash,
                ),
                now=now,
            )
            drafted = replace(state, status=CaseStatus.DRAFT, stages=(), timer=None)
            saved = await settle(
                session, ref, loaded, definition, drafted, state, events, actor=actor, now=now
            )
            if key is not None:
                await case_repo.remember_idempotent(
                    session, scope, key, {"case_id": saved.case.id}, now=now
                )
    except Rollback as rollback:
        return Opened(problems=rollback.problems)
    except case_repo.DuplicateRequest:
        # Two requests with one key raced and the other committed first: answer with its case.
        async with rt.db.read() as session:
            found = await case_repo.find_idempotent(session, scope, str(key))
            return Opened(saved=await _existing(session, int(found["case_id"])) if found else None)
    return Opened(saved=saved, access_code=access_code, reference=ref, warnings=warnings)


async def update_data(
    rt: Runtime,
    actor: Principal,
    case_id: int,
    *,
    business_type: str,
    expected_version: int,
    data: Mapping[str, object],
    now: dt.datetime,
) -> Outcome:
    """Write data items under optimistic concurrency; one transaction with the row locked."""
    try:
        async with rt.db.transaction() as session:
            loaded = await case_store.load(session, case_id=case_id)
            ref = await rt.reference.get(session)  # read after the lock (see `reference`)
            if (
                loaded is None
                or ref.type_code(loaded.case.business_type_id) != business_type
                or not access.sees_case(
                    actor,
                    org_path=loaded.org_path,
                    created_by=loaded.case.created_by,
                    tasks=loaded.tasks,
                )
            ):
                raise refuse("NOT_FOUND", f"no {business_type} case '{case_id}'", ("input", "id"))
            if loaded.case.version != expected_version:
                raise refuse(
                    "CONFLICT",
                    f"the case changed since you read it (now version {loaded.case.version})",
                    ("input", "expectedVersion"),
                )
            version = await rt.reference.version(
                session, business_type, loaded.case.business_type_version
            )
            clean, problems = datatypes.validate_data(version.items, data, path=("input", "data"))
            if problems:
                raise Rollback(problems)
            state = case_store.state_of(loaded, version)
            try:
                after, events = casework_cases.write_data(state, version, clean)
                warnings = rules.gate(version, after, now)
            except Refused as refused:
                raise Rollback(refused.problems) from refused
            if not events:  # the values are already there: nothing changes, not even the version
                unchanged = Saved(loaded.case, loaded.visits, loaded.tasks)
                return Outcome(saved=unchanged, reference=ref, warnings=warnings)
            saved = await case_save.save(
                session,
                loaded,
                Change(events=events, tasks={}, state=after),
                version,
                actor=actor.username,
                now=now,
            )
    except Rollback as rollback:
        return Outcome(problems=rollback.problems)
    return Outcome(saved=saved, reference=ref, warnings=warnings)


async def _existing(session: Session, case_id: int) -> Saved | None:
    loaded = await case_store.load(session, case_id=case_id)
    return None if loaded is None else Saved(loaded.case, loaded.visits, loaded.tasks)


def _scope_of(actor: Principal) -> case_reads.CaseScope:
    """Where the caller may reach customers: everywhere (ADMIN) or their org subtree."""
    if access.is_admin(actor):
        return case_reads.CaseScope(everything=True)
    return case_reads.CaseScope(org_path=actor.org_path, whole_tree=True)
