"""GraphQL inputs of definitions decoded by metamodel.decode, the decoder files go through.

GraphQL checks an input's shape against the schema; the decoder then builds the frozen spec by
the same declared types as a metamodel file, so a definition means one thing whichever way it
comes in, and a field that is still wrong is refused with its path under `input`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import strawberry

from metamodel import decode
from schema import common
from schema.common import ErrorCode, user_error

Spec = TypeVar("Spec")


def plain(value: Any) -> Any:
    """An input object as plain data in the files' snake_case (`from_` is `from`); no UNSET."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            given = getattr(value, f.name)
            if given is not strawberry.UNSET and given is not None:
                found[f.name.rstrip("_")] = plain(given)
        return found
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def decoded(read: Callable[..., Spec], value: Any) -> Spec | list[common.UserError]:
    """The spec `read` (a metamodel.decode function) makes of the input, or where it is wrong."""
    try:
        return read(plain(value), at="input")
    except decode.Malformed as malformed:
        return [user_error(ErrorCode.VALIDATION, malformed.message, malformed.parts)]
