"""Reference data per revision, shared by every request of a process, never copied per request.

A command asks for it after it has locked its case: a reorganisation holds the locks of the
cases whose tasks it moves until its new responsibilities are committed, so a command that read
the stamp before waiting for the lock would route its new tasks by the old ones.

One statement per unit of work (`reference_repo.stamp`) tells whether the copy is current;
only a change to names, the org tree, the calendar, responsibilities or fee rules makes the
next request load them again. Published versions never change: they are kept for good, with
their conditions compiled once (`lifecycle.prepare`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

from casework import lifecycle, routing
from casework.calendar import WorkCalendar
from database import metadata_repo, reference_repo, task_repo
from database.records import OrgUnitRecord
from database.reference_repo import ReferenceData
from database.session import Session
from metamodel.specs import BusinessTypeVersion


@dataclass(frozen=True)
class Reference:
    """One revision of the reference data, with what is derived from it once."""

    data: ReferenceData
    calendar: WorkCalendar
    type_ids: dict[str, int] = field(default_factory=dict)
    unit_ids: dict[str, int] = field(default_factory=dict)
    codes: tuple[dict[int, str], dict[int, tuple[str, str]], dict[int, str]] = ({}, {}, {})
    """Business type codes, org unit (code, name) and business type names by id."""
    stage_names: dict[str, str] = field(default_factory=dict)
    post_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, data: ReferenceData) -> Reference:
        """Derive the lookups once."""
        return cls(
            data=data,
            calendar=WorkCalendar(data.calendar_overrides),
            type_ids={code: i for i, (code, _) in data.business_types.items()},
            unit_ids={u.code: i for i, u in data.org_units.items()},
            codes=(
                {i: code for i, (code, _) in data.business_types.items()},
                {i: (u.code, u.name) for i, u in data.org_units.items()},
                {i: name for i, (_, name) in data.business_types.items()},
            ),
            stage_names=dict(data.stage_names),
            post_names=dict(data.post_names),
        )

    def type_code(self, type_id: int) -> str:
        """A business type's code by id ('' for an unknown id)."""
        found = self.data.business_types.get(type_id)
        return found[0] if found else ""

    def unit(self, unit_id: int) -> OrgUnitRecord | None:
        """An org unit by id."""
        return self.data.org_units.get(unit_id)

    def unit_by_code(self, code: str) -> OrgUnitRecord | None:
        """An org unit by code."""
        found = self.unit_ids.get(code)
        return None if found is None else self.data.org_units[found]

    def route(
        self, *, business_type: str, stage: str, org_path: str, now: dt.datetime
    ) -> str | None:
        """The post a new task of `stage` goes to, for a case in the unit at `org_path`."""
        chosen = routing.route(
            self.data.responsibilities,
            business_type=business_type,
            stage=stage,
            org_path=task_repo.path_codes(org_path),
            now=now,
        )
        return chosen.post if chosen else None


class ReferenceCache:
    """The process's current Reference and its published versions."""

    def __init__(self) -> None:
        self._current: Reference | None = None
        self._lock = asyncio.Lock()
        self._versions: dict[tuple[str, int], BusinessTypeVersion] = {}
        self._definitions: dict[tuple[str, int], lifecycle.Definition] = {}

    async def get(self, session: Session, stamp: reference_repo.Stamp | None = None) -> Reference:
        """The reference data as of `session`'s transaction: reloaded only when it moved.

        `stamp`: the stamp the caller read already (in the same request), to save reading it.
        """
        if stamp is None:
            stamp = await reference_repo.stamp(session)
        current = self._current
        if current is not None and current.data.stamp == stamp:
            return current
        async with self._lock:  # one reload per change, however many requests ask at once
            current = self._current
            if current is None or current.data.stamp != stamp:
                current = Reference.of(await reference_repo.load(session, stamp))
                if self._current is None or self._current.data.stamp <= stamp:
                    self._current = current
        return current

    def current_at(self, stamp: reference_repo.Stamp | None) -> Reference | None:
        """The reference data if it is that of `stamp` (no statement; None: `get` must read)."""
        current = self._current
        if stamp is not None and current is not None and current.data.stamp == stamp:
            return current
        return None

    def put(self, version: BusinessTypeVersion) -> None:
        """Remember a published version already at hand."""
        self._versions[(version.code, version.version)] = version

    async def version(self, session: Session, code: str, number: int) -> BusinessTypeVersion:
        """A published version, read once."""
        key = (code, number)
        found = self._versions.get(key)
        if found is None:
            found = await metadata_repo.get_version(session, code, number)
            if found is None:
                raise LookupError(f"{code} has no published version {number}")
            self._versions[key] = found
        return found

    def known_version(self, code: str, number: int) -> BusinessTypeVersion | None:
        """A published version if this process has read it already (no I/O)."""
        return self._versions.get((code, number))

    def known_definition(self, code: str, number: int) -> lifecycle.Definition | None:
        """A prepared version if this process has prepared it already (no I/O)."""
        return self._definitions.get((code, number))

    async def definition(self, session: Session, code: str, number: int) -> lifecycle.Definition:
        """A published version prepared for the engine, once per process."""
        key = (code, number)
        found = self._definitions.get(key)
        if found is None:
            found = lifecycle.prepare(await self.version(session, code, number))
            self._definitions[key] = found
        return found
