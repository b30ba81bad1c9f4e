"""What every resolver gets: the database, the caller, the clock and per-request loaders."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from casework import lifecycle
from casework.calendar import WorkCalendar
from database import (
    case_reads,
    deadline_reads,
    fee_reads,
    task_reads,
    throttle_repo,
)
from database.records import FeeRecord, OrgUnitRecord, PaymentRecord
from database.session import Database
from database.user_repo import Principal
from metamodel.snapshot import MetamodelSnapshot
from metamodel.specs import BusinessTypeVersion
from resolvers import customers, objects
from resolvers.deadline_out import deadline_out
from resolvers.reader import Reader
from schema.case_types import CaseEvent, StageRef
from schema.customer_types import Customer
from schema.deadline_types import Deadline
from schema.fee_types import Fee
from schema.task_types import Task
from service.reference import Reference, ReferenceCache


class LockoutPolicy(Protocol):
    """How wrong passwords are answered."""

    @property
    def limits(self) -> throttle_repo.Limits:
        """How many wrong passwords are checked, per address and account, before lock-outs."""

    def delay(self, failures: int) -> float:
        """Seconds to wait before checking a password from an address with `failures` so far."""


class Credentials(Protocol):
    """Password checking and token issuing, provided by the server (which holds the secret)."""

    @property
    def lockout(self) -> LockoutPolicy:
        """The failed-login policy."""

    async def hash_password(self, password: str) -> str:
        """An argon2 hash of a password (computed off the event loop)."""

    async def verify_password(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches `password_hash` (None: an unknown user, at the same cost)."""

    def issue_token(
        self, principal: Principal, *, now: dt.datetime | None = None
    ) -> tuple[str, dt.datetime]:
        """A signed token for the principal and when it expires (tokens live in wall-clock time)."""


class VersionCache:
    """Published versions for the read path, kept in the process's shared ReferenceCache.

    They never change, so a version read once is never read again; a miss opens a read.
    """

    def __init__(self, shared: ReferenceCache) -> None:
        self._shared = shared

    async def definition(self, db: Database, code: str, number: int) -> lifecycle.Definition:
        """The version prepared for the engine (conditions compiled once per process)."""
        found = self._shared.known_definition(code, number)
        if found is None:
            async with db.read() as session:
                found = await self._shared.definition(session, code, number)
        return found

    def put(self, version: BusinessTypeVersion) -> None:
        """Remember a version already at hand."""
        self._shared.put(version)

    async def get(self, db: Database, code: str, number: int) -> BusinessTypeVersion:
        """The version, read once from the database."""
        found = self._shared.known_version(code, number)
        if found is None:
            async with db.read() as session:
                found = await self._shared.version(session, code, number)
        return found


@dataclass
class Loaders:
    """Per-request DataLoaders, so every Case field of a page batches its queries.

    Each loader answers a whole page in a fixed number of statements: the statements a list
    costs do not grow with its size.
    """

    current_stages: DataLoader[int, list[StageRef]]
    events: DataLoader[int, list[CaseEvent]]
    tasks: DataLoader[int, list[Task]]
    cases: DataLoader[int, Any]
    fees: DataLoader[int, list[FeeRecord]]
    payments: DataLoader[int, list[PaymentRecord]]
    customers: DataLoader[str, Customer | None]
    deadlines: DataLoader[int, list[Deadline]]


def make_loaders(ctx: Reader) -> Loaders:
    """Fresh loaders for one request, building output with what the request may see."""
    db = ctx.db

    async def load_stages(ids: Sequence[int]) -> list[list[StageRef]]:
        names = await ctx.stage_names()
        async with db.read() as session:
            found = await case_reads.current_stages(session, ids)
        return [[StageRef(code=c, name=names.get(c, c)) for c in found[i]] for i in ids]

    async def load_events(ids: Sequence[int]) -> list[list[CaseEvent]]:
        async with db.read() as session:
            found = await case_reads.events(session, ids)
        return [
            [
                CaseEvent(
                    seq=e.seq,
                    at=e.at,
                    actor=e.actor,
                    action=e.action,
                    data=cast(JSON, dict(e.data)),
                    hash=e.hash,
                )
                for e in found[i]
            ]
            for i in ids
        ]

    async def load_tasks(ids: Sequence[int]) -> list[list[Task]]:
        async with db.read() as session:
            found = await task_reads.by_case(session, ids)
        built = await objects.tasks(ctx, [t for i in ids for t in found[i]])
        by_id = iter(built)
        return [[next(by_id) for _ in found[i]] for i in ids]

    async def load_cases(ids: Sequence[int]) -> list[Any]:
        async with db.read() as session:
            records = {r.id: r for r in await case_reads.get_many(session, ids)}
        present = [records[i] for i in ids if i in records]
        built = await objects.cases(ctx, present)
        by_id = {r.id: b for r, b in zip(present, built, strict=True)}
        return [by_id.get(i) for i in ids]

    async def load_fees(ids: Sequence[int]) -> list[list[FeeRecord]]:
        # Records: each case turns them into output with what its reader may see.
        async with db.read() as session:
            found = await fee_reads.fees(session, ids)
        return [list(found[i]) for i in ids]

    async def load_payments(ids: Sequence[int]) -> list[list[PaymentRecord]]:
        async with db.read() as session:
            found = await fee_reads.payments_by_fee(session, ids)
        return [found[i] for i in ids]

    async def load_customers(numbers: Sequence[str]) -> list[Customer | None]:
        found = await customers.customers_by_number(ctx, numbers)
        return [found.get(n) for n in numbers]

    async def load_deadlines(ids: Sequence[int]) -> list[list[Deadline]]:
        names = await ctx.stage_names()
        async with db.read() as session:
            found = await deadline_reads.by_case(session, ids)
        return [[deadline_out(d, names) for d in found[i]] for i in ids]

    return Loaders(
        deadlines=DataLoader(load_fn=load_deadlines),
        current_stages=DataLoader(load_fn=load_stages),
        fees=DataLoader(load_fn=load_fees),
        payments=DataLoader(load_fn=load_payments),
        events=DataLoader(load_fn=load_events),
        tasks=DataLoader(load_fn=load_tasks),
        cases=DataLoader(load_fn=load_cases),
        customers=DataLoader(load_fn=load_customers),
    )


@dataclass
class Context:
    """The context of one GraphQL request."""

    db: Database
    principal: Principal | None
    credentials: Credentials
    build_schema: Callable[[MetamodelSnapshot], Any]
    cursor_key: bytes = field(repr=False)
    """Signs page cursors (`resolvers.cursors`); the server derives it from its secret."""
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    source_address: str = "unknown"
    """The caller's address as wrong guesses are counted against it (an IPv6 caller's /64)."""
    metadata_changed: Callable[[], Awaitable[None]] | None = None
    generated: Mapping[str, Any] = field(default_factory=dict)
    reference_cache: ReferenceCache = field(default_factory=ReferenceCache)
    """The process's reference data (the server shares one among all requests)."""
    compiled_queries: bool = True
    """Whether case lists and cases may be answered by the query compiler (`compiled_cases`)."""
    stamp: tuple[int, int] | None = None
    verify_stamps: tuple[tuple[int, int], int] | None = None
    """(stamp, security revision) the caller was taken at without reading them: a compiled read
    reads them in its own statement and refuses (`StaleStamps`) if they moved."""
    """The reference stamp the request read already with its caller (None: not yet read)."""
    versions: VersionCache = field(init=False)
    """Published versions, from `reference_cache`."""
    _loaders: Loaders | None = field(default=None, init=False, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.versions = VersionCache(self.reference_cache)

    @property
    def loaders(self) -> Loaders:
        """The request's loaders, made at first use (a compiled read needs none)."""
        if self._loaders is None:
            self._loaders = make_loaders(self)
        return self._loaders

    def _reading(self, key: str) -> asyncio.Lock:
        """Held while `key` is read: the sibling fields of a page ask at once, one reads."""
        return self._locks.setdefault(key, asyncio.Lock())

    async def reference(self) -> Reference:
        """The reference data, checked current once per request (or taken from a command)."""
        async with self._reading("reference"):
            if "reference" not in self._cache:
                known = self.reference_cache.current_at(self.stamp)
                if known is not None:  # the stamp the caller was read at: no session needed
                    self._cache["reference"] = known
                else:
                    async with self.db.read() as session:
                        found = await self.reference_cache.get(session, self.stamp)
                    self._cache["reference"] = found
        reference: Reference = self._cache["reference"]
        return reference

    def use_reference(self, reference: Reference | None) -> None:
        """The reference data a command just read in its own transaction: no need to ask again."""
        if reference is not None:
            self._cache["reference"] = reference

    async def calendar(self) -> WorkCalendar:
        """The working-day calendar with the current overrides."""
        return (await self.reference()).calendar

    async def case_fees(self, case_pk: int, hidden: frozenset[str]) -> list[Fee]:
        """A case's fees (for `Case.fees`), without the working of items hidden from the reader."""
        return [objects.fee_out(fee, hidden) for fee in await self.loaders.fees.load(case_pk)]

    async def fee_payments(self, fee_item_id: int) -> list[Any]:
        """A fee's payments and refunds (for `Fee.payments`), batched over the page."""
        return [objects.payment_out(p) for p in await self.loaders.payments.load(fee_item_id)]

    async def customer(self, number: str) -> Customer | None:
        """The archive record of a customer (for `Case.customer`), batched over the page."""
        return await self.loaders.customers.load(number)

    async def post_names(self) -> dict[str, str]:
        """Post names by code."""
        return (await self.reference()).post_names

    def now(self) -> dt.datetime:
        """The time of this request, read once so one request sees one instant."""
        if "now" not in self._cache:
            self._cache["now"] = self.clock()
        value: dt.datetime = self._cache["now"]
        return value

    async def stage_names(self) -> dict[str, str]:
        """Stage names by code."""
        return (await self.reference()).stage_names

    async def codes(self) -> tuple[dict[int, str], dict[int, tuple[str, str]], dict[int, str]]:
        """Business type codes, org unit (code, name) and business type names by id."""
        return (await self.reference()).codes

    async def org_units(self) -> Mapping[int, OrgUnitRecord]:
        """The org tree: every unit by id, with its path."""
        return (await self.reference()).data.org_units
