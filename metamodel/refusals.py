"""A refusal of metamodel.decode in the words of a metamodel file, with the path of the field.

msgspec says `Expected `array`, got `str` - at `$.business_types[0].transitions[2].to``; a
person reads `business_types[0].transitions[2].to: must be a list, not the text 'connect'`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from metamodel.specs import BusinessGroup, FeeRuleStatus, ItemType, TimeUnit


class Malformed(ValueError):
    """A field has the wrong shape; `path` names it (`where`, when known, the file)."""

    def __init__(self, path: str, message: str, where: str | None = None) -> None:
        self.path, self.message, self.where = path, message, where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{path}: {message}")

    def in_file(self, where: str) -> Malformed:
        """The same problem, naming the file it is in."""
        return Malformed(self.path, self.message, where)

    @property
    def parts(self) -> tuple[str | int, ...]:
        """The path as names and indexes: `a.b[2].c` -> ("a", "b", 2, "c")."""
        return tuple(_steps("." + self.path))


_ENUMS: dict[str, type[Any]] = {
    "type": ItemType,
    "unit": TimeUnit,
    "group": BusinessGroup,
    "status": FeeRuleStatus,
}
"""The enumerations by the field names they are declared under, to name them in a refusal."""
_KINDS = {
    "array": "a list",
    "object": "a mapping of fields",
    "str": "a text",
    "int": "a whole number",
    "bool": "true or false",
}
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"


def _steps(path: str) -> list[str | int]:
    return [int(i) if i else str(k) for k, i in _STEP.findall(path)]


def _at(raw: Any, steps: list[str | int]) -> Any:
    """The value at `steps` inside `raw` (None where the path leaves the data)."""
    for step in steps:
        if isinstance(step, int) and isinstance(raw, list) and step < len(raw):
            raw = raw[step]
        elif isinstance(step, str) and isinstance(raw, Mapping):
            raw = raw.get(step)
        else:
            return None
    return raw


def refusal(error: str, raw: Any, prefix: str, *, sections: Sequence[str] = ()) -> Malformed:
    """Msgspec's refusal in the words of a metamodel file, with the path of the field."""
    found = _AT.match(error)
    assert found is not None  # the pattern matches any text
    message, path = found["message"], (found["path"] or "")
    steps = _steps(path)
    value = _at(raw, steps)
    where = prefix + path if prefix else path.lstrip(".")
    if m := re.match(r"Object missing required field `(.+)`", message):
        return Malformed(where or "(top)", f"the field '{m[1]}' is missing")
    if m := re.match(r"Object contains unknown field `(.+)`", message):
        inner = f"{where}.{m[1]}" if where else m[1]
        if not where and sections:
            known = ", ".join(sections)
            return Malformed(inner, f"is not a section; the sections are {known}")
        return Malformed(inner, "is not a field here")
    if m := re.match(r"Expected `([a-z]+)", message):
        expected = _KINDS.get(m[1], m[1])
        return Malformed(where or "(top)", f"must be {expected}, not {_kind(value)}")
    if message.startswith("Invalid enum value"):
        last = steps[-1] if steps else ""
        enum = _ENUMS.get(str(last))
        named = enum.__name__ if enum else "value"
        return Malformed(where, f"{value!r} is not a valid {named}")
    return Malformed(where or "(top)", message)
