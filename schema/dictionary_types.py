"""GraphQL shapes of the data dictionary: its items, their options, what a change does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum

import strawberry
from graphql import GraphQLError

from schema.case_types import BusinessTypeRef
from schema.common import (
    ItemTypeEnum,
    UserError,
)
from schema.publish_types import SchemaChanges

U = strawberry.UNSET


@strawberry.type(description="One value of an ENUM item.")
class EnumOption:
    """An option of an ENUM item."""

    value: str = strawberry.field(description="The value stored and sent (UPPER_SNAKE).")
    label: str = strawberry.field(description="What people see.")


@strawberry.input(description="One value of an ENUM item.")
class EnumOptionInput:
    """An option of an ENUM item; `value` is UPPER_SNAKE."""

    value: str = strawberry.field(
        description="The value stored and sent (UPPER_SNAKE); fixed once cases may hold it."
    )
    label: str = strawberry.field(description="What people see.")


@strawberry.enum(description="Where the expression index of an item stands.")
class DataItemIndexState(Enum):
    """The states of an item index, from what is wanted and what the database holds."""

    PENDING = strawberry.enum_value(
        "PENDING", description="Wanted and not built yet: the background step builds it next."
    )
    BUILDING = strawberry.enum_value(
        "BUILDING", description="Being built (PostgreSQL builds it without blocking writes)."
    )
    READY = strawberry.enum_value("READY", description="Built and used by filters on the item.")
    INVALID = strawberry.enum_value(
        "INVALID", description="A build failed and left it unusable; it is dropped and rebuilt."
    )
    STALE = strawberry.enum_value(
        "STALE",
        description="Built on an expression the filters no longer use; it is rebuilt.",
    )
    DROPPING = strawberry.enum_value(
        "DROPPING", description="No longer wanted (no served version marks the item); dropped next."
    )


@strawberry.type(
    description=(
        "The expression index of an item: wanted while the latest published version of some "
        "business type marks the item indexed, built and dropped by a background step."
    )
)
class DataItemIndex:
    """An item's index as the database holds it."""

    name: str = strawberry.field(description="The index's name in the database.")
    state: DataItemIndexState = strawberry.field(description="Where the index stands.")
    size_bytes: float | None = strawberry.field(
        description=(
            "Its size on disk in bytes (a Float: Int stops at 2 GiB); null while it is not "
            "built, or where the database does not tell (SQLite without dbstat)."
        )
    )


IndexSource = Callable[[str], Awaitable[DataItemIndex | None]]
"""Looks up an item's index by code; one per list, so a list reads the catalog once."""


@strawberry.type(description="An entry of the data dictionary.")
class DataItem:
    """A typed field that business types use."""

    code: str = strawberry.field(
        description="The item's code (snake_case); generated fields are named after it."
    )
    label: str = strawberry.field(
        description="What people see the item called; the generated fields' description."
    )
    type: ItemTypeEnum = strawberry.field(description="The kind of value the item holds.")  # type: ignore[valid-type]
    options: list[EnumOption] = strawberry.field(
        description="The values of an ENUM item, in display order; empty for others."
    )
    unit: str | None = strawberry.field(
        description="The unit values are in, such as kVA; null when none."
    )
    min: str | None = strawberry.field(
        description="The smallest value accepted, in the item's literal form."
    )
    max: str | None = strawberry.field(
        description="The largest value accepted, in the item's literal form."
    )
    max_length: int | None = strawberry.field(
        description="The longest STRING or TEXT value accepted."
    )
    pattern: str | None = strawberry.field(
        description="A regular expression every STRING or TEXT value must match."
    )
    indexed: bool = strawberry.field(
        description="Whether filters on this item are served by a database index."
    )
    description: str | None = strawberry.field(
        description="What the item means, for administrators."
    )
    scale: int | None = strawberry.field(
        description=(
            "The digits after the point every value is given with: a DECIMAL's declared scale "
            "(630 reads 630.00 at scale 2), always 2 for MONEY; null for a DECIMAL without one "
            "(values then carry no trailing zeros) and for every other type."
        )
    )
    fields: list[DataItem] = strawberry.field(
        default_factory=list,
        description=(
            "A LIST item's fields: what each of its entries holds, typed like items; empty for "
            "other types."
        ),
    )
    min_count: int | None = strawberry.field(
        default=None, description="A LIST item's fewest entries when it has any; null: no limit."
    )
    max_count: int | None = strawberry.field(
        default=None,
        description="A LIST item's most entries; null: the limit every list has (2000).",
    )
    required: bool = strawberry.field(
        default=False,
        description="A LIST item's field every entry must fill; false for items themselves.",
    )

    index_source: strawberry.Private[IndexSource | None] = None
    is_field: strawberry.Private[bool] = False

    @strawberry.field(
        description=(
            "The item's expression index and its state (ADMIN only); null when the item is not "
            "indexed and no index is left to drop."
        )
    )
    async def index(self) -> DataItemIndex | None:
        """Read through the list's shared source: one catalog read for all of its items."""
        if self.is_field:
            return None  # the fields of a LIST item are never indexed
        if self.index_source is None:
            raise GraphQLError("the index state is not available here")
        return await self.index_source(self.code)


KEPT = " Omitted: an existing item keeps its value; null: cleared."


@strawberry.input(
    description=(
        "A data item to create or change. On an existing item, a field left out keeps its "
        "stored value and an explicit null clears it, so a partial upsert changes only what it "
        "names; a new item needs label and type."
    )
)
class UpsertDataItemInput:
    """min and max are strings in the item's own literal form, checked by its codec."""

    code: str = strawberry.field(
        description="The item's code (snake_case); it names the item everywhere and never changes."
    )
    label: str | None = strawberry.field(
        default=U,
        description=(
            "What people see the item called (the generated fields' description). Required for "
            "a new item; omitted or null, an existing item keeps its label."
        ),
    )
    type: ItemTypeEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U,
        description=(
            "The kind of value. Required for a new item; omitted or null, an existing item "
            "keeps its type. Fixed once a published version uses the item."
        ),
    )
    options: list[EnumOptionInput] | None = strawberry.field(
        default=U,
        description="The values of an ENUM item, in display order." + KEPT,
    )
    unit: str | None = strawberry.field(
        default=U, description="The unit values are in, such as kVA." + KEPT
    )
    min: str | None = strawberry.field(
        default=U, description="The smallest value accepted, in the item's literal form." + KEPT
    )
    max: str | None = strawberry.field(
        default=U, description="The largest value accepted, in the item's literal form." + KEPT
    )
    max_length: int | None = strawberry.field(
        default=U, description="The longest STRING or TEXT value accepted." + KEPT
    )
    pattern: str | None = strawberry.field(
        default=U,
        description="A regular expression every STRING or TEXT value must match." + KEPT,
    )
    indexed: bool | None = strawberry.field(
        default=U,
        description="Whether filters on this item are served by a database index." + KEPT,
    )
    description: str | None = strawberry.field(
        default=U, description="What the item means, for administrators." + KEPT
    )
    scale: int | None = strawberry.field(
        default=U,
        description=(
            "DECIMAL only: the digits after the point (0 to 10) values are given with; input "
            "with more is refused. MONEY is always 2 and takes no other; other types none. "
            "Fewer places on an item published versions use need allowBreaking. Omitted: an "
            "existing item keeps its scale while its type stays; null: cleared."
        ),
    )
    fields: list[UpsertDataItemInput] | None = strawberry.field(
        default=U,
        description=(
            "LIST only: the fields of each entry (1 to 50, unique codes, typed like items but "
            "never LIST, never indexed), each given whole: nothing is kept from a stored field. "
            "Removing a field or changing its type on an item published versions use is "
            "breaking; adding an optional one is not." + KEPT
        ),
    )
    min_count: int | None = strawberry.field(
        default=U,
        description="LIST only: the fewest entries a list that has any must have." + KEPT,
    )
    max_count: int | None = strawberry.field(
        default=U,
        description="LIST only: the most entries (at most 2000, the limit of every list)." + KEPT,
    )
    required: bool | None = strawberry.field(
        default=U,
        description=(
            "On a LIST item's field only: every entry must fill it. Items themselves are "
            "required per stage by a business type (requiredAt)."
        ),
    )


@strawberry.type(description="One property of a data item, before and after a change.")
class ItemPropertyChange:
    """A changed property; ENUM options appear one by one as `options.VALUE` (their label)."""

    property: str = strawberry.field(
        description=(
            "The property as named in UpsertDataItemInput (label, maxLength, …), or "
            "options.VALUE for one ENUM option."
        )
    )
    before: str | None = strawberry.field(
        description="The value before, as text; null where it was not set or did not exist."
    )
    after: str | None = strawberry.field(
        description="The value after, as text; null where it is cleared or removed."
    )


@strawberry.type(
    description="A business type whose published versions use a data item, and what changes for it."
)
class ItemImpact:
    """The effect of a data item change on one business type."""

    business_type: BusinessTypeRef = strawberry.field(
        description="The business type whose published versions use the item."
    )
    versions: list[int] = strawberry.field(
        description="The numbers of its published versions that use the item."
    )
    changes: list[ItemPropertyChange] = strawberry.field(
        description=(
            "How the item its latest such version froze differs from the item after the change: "
            "what the type takes up when it is next published."
        )
    )


@strawberry.type(
    description=(
        "The result of upsertDataItem: the dictionary entry, what changed in it, and which "
        "business types it affects."
    )
)
class UpsertDataItemPayload:
    """The result of upsertDataItem."""

    data_item: DataItem | None = strawberry.field(
        default=None, description="The dictionary entry as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )
    changes: list[ItemPropertyChange] = strawberry.field(
        default_factory=list,
        description="What the upsert changes in the dictionary entry (all set properties if new).",
    )
    impact: list[ItemImpact] = strawberry.field(
        default_factory=list,
        description=(
            "Every business type whose published versions use the item, with what changes for it; "
            "reported on a dry run and on a refusal too."
        ),
    )
    schema_changes: SchemaChanges | None = strawberry.field(
        default=None,
        description=(
            "What the change does to API clients at once (the dictionary-wide filters and the "
            "shared ENUM types), found as publishBusinessType finds them."
        ),
    )
