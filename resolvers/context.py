"""What every resolver gets: the database, the caller, the clock and per-request loaders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from casework import lifecycle
from casework.calendar import WorkCalendar
from database import case_repo, fee_repo, metadata_repo, task_repo, throttle_repo
from database.session import Database
from database.user_repo import Principal
from metamodel.snapshot import MetamodelSnapshot
from metamodel.specs import BusinessTypeVersion
from schema.case_types import CaseEvent, StageRef
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
    """Published versions by (type, number); they never change, so they are kept for good."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, int], BusinessTypeVersion] = {}
        self._definitions: dict[tuple[str, int], lifecycle.Definition] = {}

    async def definition(self, db: Database, code: str, number: int) -> lifecycle.Definition:
        """The version prepared for the engine (conditions compiled once per process)."""
        key = (code, number)
        found = self._definitions.get(key)
        if found is None:
            found = lifecycle.prepare(await self.get(db, code, number))
            self._definitions[key] = found
        return found

    def put(self, version: BusinessTypeVersion) -> None:
        """Remember a version already at hand."""
        self._versions[(version.code, version.version)] = version

    async def get(self, db: Database, code: str, number: int) -> BusinessTypeVersion:
        """The version, read once from the database."""
        key = (code, number)
        found = self._versions.get(key)
        if found is None:
            async with db.read() as session:
                found = await metadata_repo.get_version(session, code, number)
            if found is None:
                raise LookupError(f"{code} has no published version {number}")
            self._versions[key] = found
        return found


@dataclass
class Loaders:
    """Per-request DataLoaders, so sibling fields of a page batch their queries."""

    current_stages: DataLoader[int, list[StageRef]]
    events: DataLoader[int, list[CaseEvent]]
    tasks: DataLoader[int, list[Any]]
    cases: DataLoader[int, Any]
    fees: DataLoader[int, list[Any]]


def make_loaders(
    db: Database,
    stage_names: Callable[[], Awaitable[dict[str, str]]],
    task_objects: Callable[[Sequence[Any]], Awaitable[list[Any]]],
    case_objects: Callable[[Sequence[Any]], Awaitable[list[Any]]],
) -> Loaders:
    """Fresh loaders for one request."""

    async def load_stages(ids: Sequence[int]) -> list[list[StageRef]]:
        names = await stage_names()
        async with db.read() as session:
            found = await case_repo.current_stages(session, ids)
        return [[StageRef(code=c, name=names.get(c, c)) for c in found[i]] for i in ids]

    async def load_events(ids: Sequence[int]) -> list[list[CaseEvent]]:
        async with db.read() as session:
            found = await case_repo.events(session, ids)
        return [
            [
                CaseEvent(
                    seq=e.seq,
                    at=e.at,
                    actor=e.actor,
                    action=e.action,
                    data=cast(JSON, e.data),
                    hash=e.hash,
                )
                for e in found[i]
            ]
            for i in ids
        ]

    async def load_tasks(ids: Sequence[int]) -> list[list[Any]]:
        async with db.read() as session:
            found = await task_repo.by_case(session, ids)
        built = await task_objects([t for i in ids for t in found[i]])
        by_id = iter(built)
        return [[next(by_id) for _ in found[i]] for i in ids]

    async def load_cases(ids: Sequence[int]) -> list[Any]:
        async with db.read() as session:
            rows = {r.id: r for r in await case_repo.get_many(session, ids)}
        built = await case_objects([rows[i] for i in ids if i in rows])
        by_id = {r.id: b for r, b in zip([rows[i] for i in ids if i in rows], built, strict=True)}
        return [by_id.get(i) for i in ids]

    async def load_fees(ids: Sequence[int]) -> list[list[Any]]:
        # Rows: each case turns them into output with what its reader may see.
        async with db.read() as session:
            found = await fee_repo.fees(session, ids)
        return [list(found[i]) for i in ids]

    return Loaders(
        current_stages=DataLoader(load_fn=load_stages),
        fees=DataLoader(load_fn=load_fees),
        events=DataLoader(load_fn=load_events),
        tasks=DataLoader(load_fn=load_tasks),
        cases=DataLoader(load_fn=load_cases),
    )


@dataclass
class Context:
    """The context of one GraphQL request."""

    db: Database
    principal: Principal | None
    credentials: Credentials
    versions: VersionCache
    build_schema: Callable[[MetamodelSnapshot], Any]
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    source_address: str = "unknown"
    """The caller's address as wrong guesses are counted against it (an IPv6 caller's /64)."""
    metadata_changed: Callable[[], Awaitable[None]] | None = None
    generated: Mapping[str, Any] = field(default_factory=dict)
    reference_cache: ReferenceCache = field(default_factory=ReferenceCache)
    """The process's reference data (the server shares one among all requests)."""
    loaders: Loaders = field(init=False)
    _cache: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from resolvers import objects  # the builders need this context type

        self.loaders = make_loaders(
            self.db,
            self.stage_names,
            lambda rows: objects.tasks(self, rows),
            lambda rows: objects.cases(self, rows),
        )

    async def reference(self) -> Reference:
        """The reference data, checked current once per request (or taken from a command)."""
        found = self._cache.get("reference")
        if found is None:
            async with self.db.read() as session:
                found = await self.reference_cache.get(session)
            self._cache["reference"] = found
        reference: Reference = found
        return reference

    def use_reference(self, reference: Reference | None) -> None:
        """The reference data a command just read in its own transaction: no need to ask again."""
        if reference is not None:
            self._cache["reference"] = reference

    async def calendar(self) -> WorkCalendar:
        """The working-day calendar with the current overrides."""
        return (await self.reference()).calendar

    async def case_fees(self, case_pk: int, hidden: frozenset[str]) -> list[Any]:
        """A case's fees (for `Case.fees`), without the working of items hidden from the reader."""
        from resolvers.fees import fee_out  # the builder lives with the fee resolvers

        return [fee_out(row, hidden) for row in await self.loaders.fees.load(case_pk)]

    async def customer(self, number: str) -> Any:
        """The archive record of a customer (for `Case.customer`)."""
        from resolvers import customers

        return await customers.customer_by_number(self, number)

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
