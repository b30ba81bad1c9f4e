"""Relay paging arguments to keyset windows, and pages back to cursors and pageInfo.

`first`/`after` read forwards from a cursor (or the list's start); `last`/`before` read the
rows just before a cursor (or the list's end), in reverse, and hand them back in list order.
Giving both `after` and `before` pages within the range between them; giving both `first` and
`last` is refused (the Relay spec discourages it, and one direction keeps a page one
statement).

pageInfo is what one statement can tell, as the Relay spec allows: the page reads one row more
than it returns, so `hasNextPage` (reading forwards) and `hasPreviousPage` (reading backwards)
are exact; the other direction is answered from the arguments alone, true when a cursor bounds
that side (a row stood there when the cursor was issued) and false when the page starts at the
list's end.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLError

from database import keyset, ordering
from metamodel import filters as f
from resolvers import cursors
from schema.common import PageInfo

DEFAULT_PAGE = 50
MAX_PAGE = 200


def invalid(message: str, argument: str) -> GraphQLError:
    """A VALIDATION error of a paging argument, with its name as the path."""
    return GraphQLError(message, extensions={"code": "VALIDATION", "path": [argument]})


def page_size(first: int | None, argument: str = "first") -> int:
    """`first` (or `last`), checked against the page size limit."""
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise invalid(f"{argument} must be between 0 and {MAX_PAGE}", argument)
    return size


def _key_name(order: f.Order) -> str:
    field = order.field
    name = f"data.{field.code}.{field.type.value}" if isinstance(field, f.DataField) else field
    return f"{name}:{'DESC' if order.descending else 'ASC'}"


def case_ordering(list_name: str, orders: Sequence[f.Order]) -> tuple[str, int]:
    """What a case list's cursors are bound to (its name and deciding keys), and their count.

    An item's type is part of it, so a cursor is refused once its item changed type.
    """
    keys = ordering.normalize(orders)
    return "|".join([list_name, *(_key_name(o) for o in keys)]), len(keys)


def _position(
    key: bytes, bound_to: str, width: int, cursor: str | None, argument: str
) -> keyset.Position | None:
    if not cursor:  # an empty string too: clients send it for "from the start"
        return None
    try:
        found = cursors.decode(key, bound_to, cursor, width=width)
    except cursors.CursorError as error:
        raise invalid(
            f"'{argument}' is not a cursor of this list and ordering: pass a cursor the list "
            "returned, with the same orderBy",
            argument,
        ) from error
    return keyset.RowPosition(found.row_id) if isinstance(found, cursors.RowRef) else found


def window(
    key: bytes,
    bound_to: str,
    width: int,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
) -> keyset.Window:
    """The window the arguments ask for; VALIDATION for sizes out of range or foreign cursors."""
    if first is not None and last is not None:
        raise invalid("give first or last, not both", "last")
    backwards = last is not None
    return keyset.Window(
        size=page_size(last, "last") if backwards else page_size(first),
        after=_position(key, bound_to, width, after, "after"),
        before=_position(key, bound_to, width, before, "before"),
        backwards=backwards,
    )


def edge_cursors(key: bytes, bound_to: str, positions: Sequence[Sequence[object]]) -> list[str]:
    """The cursor of each row of a page, from its position."""
    return [cursors.encode(key, bound_to, p) for p in positions]


def page_info(chosen: keyset.Window, edge_cursors: Sequence[str], more: bool) -> PageInfo:
    """The pageInfo of a page read through `chosen` (see the module note on what it tells)."""
    return PageInfo(
        has_next_page=chosen.before is not None if chosen.backwards else more,
        has_previous_page=more if chosen.backwards else chosen.after is not None,
        start_cursor=edge_cursors[0] if edge_cursors else None,
        end_cursor=edge_cursors[-1] if edge_cursors else None,
    )


def gone(argument: str) -> GraphQLError:
    """The row a long cursor named by id no longer exists."""
    return invalid(f"the row '{argument}' stands for is gone: start from the first page", argument)
