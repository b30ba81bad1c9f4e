"""What building output needs of a request, as a protocol the request's context satisfies.

The builders of Case, Task, Fee and Customer objects (`resolvers.objects` and the modules it
uses) are what the request's loaders call, so the context imports them; typed against this
protocol instead of the context class, they need not import the context back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from casework.calendar import WorkCalendar
from database.records import OrgUnitRecord
from database.session import Database
from database.user_repo import Principal
from metamodel.specs import BusinessTypeVersion


class Versions(Protocol):
    """Published business type versions, by code and number."""

    async def get(self, db: Database, code: str, number: int) -> BusinessTypeVersion:
        """The version (read once, then kept)."""


class Reader(Protocol):
    """The parts of a request's context that output is built from."""

    @property
    def db(self) -> Database:
        """The database."""

    @property
    def principal(self) -> Principal | None:
        """The caller."""

    @property
    def cursor_key(self) -> bytes:
        """The key that signs page cursors (derived from the server's secret)."""

    @property
    def versions(self) -> Versions:
        """Published versions."""

    @property
    def generated(self) -> Mapping[str, Any]:
        """The generated types of each business type served, by code."""

    def now(self) -> dt.datetime:
        """The one instant of the request."""

    async def calendar(self) -> WorkCalendar:
        """The working-day calendar."""

    async def stage_names(self) -> dict[str, str]:
        """Stage names by code."""

    async def post_names(self) -> dict[str, str]:
        """Post names by code."""

    async def codes(self) -> tuple[dict[int, str], dict[int, tuple[str, str]], dict[int, str]]:
        """Business type codes, org unit (code, name) and business type names by id."""

    async def org_units(self) -> Mapping[int, OrgUnitRecord]:
        """The org tree: every unit by id, with its path."""
