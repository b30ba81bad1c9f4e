r"""SQL that writes JSON text: each value formatted as the API's resolvers would serialise it.

The query compiler (`resolvers.compiled_cases`) has the database build a page's response as
text, so the server splices it into the response without decoding a value. For that text to
be byte for byte what the resolver path sends (msgspec's compact JSON), every value is written
here the way the API's scalars write it, on each database:

- strings through the database's own JSON quoting (`to_json(text)` on PostgreSQL, `json_quote`
  on SQLite), which escape exactly as msgspec does: `\\"`, `\\\\`, `\\b \\f \\n \\r \\t`, other
  control characters as lower-case `\\u00XX`, everything else as its UTF-8 bytes;
- instants as `datetime.isoformat()` of an aware UTC value: `YYYY-MM-DDTHH:MM:SS`, the
  microseconds only when there are any, then `+00:00`;
- decimals as the item codec reads a stored value (`value_forms.read_stored_decimal`): trailing
  fraction zeros dropped, zero without a sign, then padded to the item's scale (a longer
  fraction is kept, never rounded), in positional notation;
- enum options by their GraphQL names.

Every builder returns a SQL expression (text) that is never NULL: a missing or null value is
the JSON `null`. Names put into the SQL (item codes, JSON keys, literals) go through
`sql_string`, so nothing a caller sends reaches the text; values stay bind parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from metamodel.specs import ItemType

NULL = "'null'"
"""The JSON null, as a SQL string literal."""

PLAIN_TYPES = frozenset(
    {
        ItemType.STRING,
        ItemType.TEXT,
        ItemType.ID_NUMBER,
        ItemType.PHONE,
        ItemType.DATE,
        ItemType.INTEGER,
        ItemType.BOOLEAN,
    }
)
"""Item types whose stored JSON value is already what the API sends."""


def sql_string(text: str) -> str:
    """A SQL string literal (quotes doubled; both databases read it alike)."""
    if "\x00" in text:
        raise ValueError("a SQL literal cannot hold NUL")
    return "'" + text.replace("'", "''") + "'"


def json_key(name: str) -> str:
    """`"name":` as JSON text, for a response key (GraphQL names need no escaping)."""
    if not name.replace("_", "a").isalnum() or not name.isascii():
        raise ValueError(f"{name!r} is not a GraphQL name")
    return f'"{name}":'


def concat(parts: Sequence[str], *, postgresql: bool = False) -> str:
    """SQL concatenating text expressions (each never NULL).

    On PostgreSQL `concat()` builds the text once, where a chain of `||` copies what it has so
    far at every step; it takes at most 100 arguments, so longer lists nest.
    """
    if not postgresql:
        return "(" + " || ".join(parts) + ")"
    if len(parts) <= _MOST_ARGUMENTS:
        return "concat(" + ", ".join(parts) + ")"
    chunks = [parts[i : i + _MOST_ARGUMENTS] for i in range(0, len(parts), _MOST_ARGUMENTS)]
    return concat([concat(chunk, postgresql=True) for chunk in chunks], postgresql=True)


_MOST_ARGUMENTS = 90
"""Arguments per `concat()` call (PostgreSQL allows 100)."""


def json_object(members: Sequence[tuple[str, str]], *, postgresql: bool = False) -> str:
    """A JSON object from (response key, JSON-text expression) pairs, keys in that order."""
    parts: list[str] = []
    for index, (key, value) in enumerate(members):
        parts.append(sql_string(("{" if index == 0 else ",") + json_key(key)))
        parts.append(value)
    parts.append(sql_string("}" if members else "{}"))
    return concat(parts, postgresql=postgresql)


def enum_names(text: str, names: Mapping[str, str]) -> str:
    """A stored option value as its GraphQL enum name in JSON, null for none."""
    if not names:
        return NULL
    whens = " ".join(
        f"WHEN {sql_string(value)} THEN {sql_string(chr(34) + name + chr(34))}"
        for value, name in names.items()
    )
    return f"(CASE {text} {whens} ELSE 'null' END)"


@dataclass(frozen=True, slots=True)
class JsonDialect:
    """The JSON-writing SQL of one database."""

    name: str

    @property
    def postgresql(self) -> bool:
        """Whether this is PostgreSQL (else SQLite)."""
        return self.name == "postgresql"

    def object(self, members: Sequence[tuple[str, str]]) -> str:
        """A JSON object from (response key, JSON-text expression) pairs, keys in that order."""
        return json_object(members, postgresql=self.postgresql)

    # -- values in a JSON document (case data, a LIST entry) -----------------------------------

    def member_json(self, source: str, key: str) -> str:
        """A member's JSON text as stored (PostgreSQL) — strings re-quoted by the database."""
        if self.postgresql:
            return f"COALESCE(({source} -> {sql_string(key)})::text, 'null')"
        path = sql_string("$." + key)
        return f"COALESCE(CAST(json_extract({source}, {path}) AS TEXT), 'null')"

    def member_text(self, source: str, key: str) -> str:
        """A member's value as SQL text (NULL when missing or null)."""
        if self.postgresql:
            return f"({source} ->> {sql_string(key)})"
        return f"json_extract({source}, {sql_string('$.' + key)})"

    def item(
        self,
        source: str,
        key: str,
        kind: ItemType,
        *,
        scale: int | None = None,
        names: Mapping[str, str] | None = None,
    ) -> str:
        """A stored scalar item (or LIST field) as the API writes it, in JSON."""
        if kind in PLAIN_TYPES:
            if self.postgresql:
                return self.member_json(source, key)
            if kind is ItemType.INTEGER:
                return self.member_json(source, key)
            if kind is ItemType.BOOLEAN:
                path = sql_string("$." + key)
                return (
                    f"(CASE json_type({source}, {path}) WHEN 'true' THEN 'true' "
                    "WHEN 'false' THEN 'false' ELSE 'null' END)"
                )
            return self.quote(self.member_text(source, key))
        text = self.member_text(source, key)
        if kind is ItemType.ENUM:
            return enum_names(text, names or {})
        if kind is ItemType.DATETIME:
            return self._nullable(text, self._stored_instant(text))
        if kind is ItemType.MONEY:
            return self._nullable(text, self._decimal(text, 2))
        if kind is ItemType.DECIMAL:
            return self._nullable(text, self._decimal(text, scale))
        raise ValueError(f"no JSON form for items of type {kind}")

    # -- columns ---------------------------------------------------------------------------

    def quote(self, text: str) -> str:
        """A text expression as a JSON string, null for NULL."""
        if self.postgresql:
            return f"COALESCE(to_json({text})::text, 'null')"
        return f"json_quote({text})"

    def integer(self, column: str) -> str:
        """An integer column as a JSON number, null for NULL."""
        return f"COALESCE(CAST({column} AS TEXT), 'null')"

    def id_string(self, column: str) -> str:
        """An integer id column as the JSON string the ID scalar sends."""
        return f"('\"' || CAST({column} AS TEXT) || '\"')"

    def boolean(self, condition: str) -> str:
        """A SQL condition as JSON true or false."""
        return f"(CASE WHEN {condition} THEN 'true' ELSE 'false' END)"

    def instant(self, column: str) -> str:
        """A UTC datetime column as `datetime.isoformat()` writes it, null for NULL."""
        if self.postgresql:
            utc = f"({column} AT TIME ZONE 'UTC')"
            whole = f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
            micro = f"to_char({utc}, 'US')"
        else:  # SQLAlchemy keeps 'YYYY-MM-DD HH:MM:SS.ffffff'
            whole = f"(substr({column}, 1, 10) || 'T' || substr({column}, 12, 8))"
            micro = f"substr({column} || '.000000', 21, 6)"
        fraction = f"(CASE WHEN {micro} = '000000' THEN '' ELSE '.' || {micro} END)"
        return self._nullable(column, f"('\"' || {whole} || {fraction} || '+00:00\"')")

    def array(self, element: str, source: str, order: str) -> str:
        """A JSON array of `element` over the rows of `source` (FROM … WHERE …), in `order`."""
        if self.postgresql:
            aggregated = f"string_agg({element}, ',' ORDER BY {order})"
            return f"(SELECT COALESCE('[' || {aggregated} || ']', '[]') FROM {source})"
        rows = f"(SELECT {element} AS x FROM {source} ORDER BY {order})"
        return f"(SELECT COALESCE('[' || group_concat(x, ',') || ']', '[]') FROM {rows})"

    # -- pieces ------------------------------------------------------------------------------

    @staticmethod
    def _nullable(value: str, written: str) -> str:
        return f"(CASE WHEN {value} IS NULL THEN 'null' ELSE {written} END)"

    @staticmethod
    def _stored_instant(text: str) -> str:
        # Stored fixed-width and always UTC: YYYY-MM-DDTHH:MM:SS.ffffffZ (datatypes.to_json).
        micro = f"substr({text}, 21, 6)"
        fraction = f"(CASE WHEN {micro} = '000000' THEN '' ELSE '.' || {micro} END)"
        return f"('\"' || substr({text}, 1, 19) || {fraction} || '+00:00\"')"

    def _position(self, text: str) -> str:
        return f"strpos({text}, '.')" if self.postgresql else f"instr({text}, '.')"

    def _decimal(self, text: str, scale: int | None) -> str:
        """A stored decimal as the codec reads it (see the module note), as a JSON string."""
        if self.postgresql:  # numeric has one zero, no exponent in its text, and trim_scale
            number = f"trim_scale(({text})::numeric)"
            if scale:
                number = f"round({number}, greatest(scale({number}), {scale}))"
            return f"('\"' || ({number})::text || '\"')"
        point = self._position(text)
        stripped = f"(CASE WHEN {point} > 0 THEN rtrim(rtrim({text}, '0'), '.') ELSE {text} END)"
        # Zero has one form: '0' (also for '-0', '0.00' and '-0.0').
        number = f"(CASE WHEN {stripped} IN ('0', '-0', '', '-') THEN '0' ELSE {stripped} END)"
        if not scale:
            return f"('\"' || {number} || '\"')"
        dot = self._position(number)
        places = f"(CASE WHEN {dot} > 0 THEN length({number}) - {dot} ELSE 0 END)"
        padding = (
            f"(CASE WHEN {dot} > 0 THEN '' ELSE '.' END || "
            f"substr('0000000000', 1, {scale} - {places}))"
        )
        padded = f"(CASE WHEN {places} >= {scale} THEN {number} ELSE {number} || {padding} END)"
        return f"('\"' || {padded} || '\"')"


def for_dialect(name: str) -> JsonDialect:
    """The JSON-writing SQL of a database by SQLAlchemy dialect name."""
    if name not in ("postgresql", "sqlite"):
        raise ValueError(f"no JSON-writing SQL for {name}")
    return JsonDialect(name)
