"""DataJoint's ``datajoint.declare`` names, over pipejoint's own definition language.

Code written for DataJoint (its test suite, some lab tooling) imports ``declare``,
``match_type``, ``CORE_TYPE_SQL`` and friends from here to see what a definition turns into.
Everything below answers with pipejoint's parser (definition/parser.py), types
(core/types.py) and DDL (definition/ddl.py): the SQL is the SQL pipejoint runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .backends import get_backend
from .core.types import parse_type
from .definition.ddl import create_table_statements
from .definition.parser import parse_attribute, parse_definition, split_unquoted
from .errors import DeclarationError

# Core types by name, with the MySQL column each becomes (DataJoint's storage format on MySQL);
# None where the column type is the declared text itself (char(n), enum(...), ...).
_CORE_EXAMPLES = [
    "float32",
    "float64",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint64",
    "uint32",
    "uint16",
    "uint8",
    "bool",
    "uuid",
    "json",
    "bytes",
    "date",
    "datetime",
]
_MYSQL = get_backend("mysql", {})
CORE_TYPE_SQL: dict[str, str | None] = {name: _MYSQL.column_type(parse_type(name)) for name in _CORE_EXAMPLES}
CORE_TYPE_SQL.update(char=None, varchar=None, enum=None, decimal=None)
CORE_TYPE_NAMES = {name.upper() for name in CORE_TYPE_SQL}
SPECIAL_TYPES = CORE_TYPE_NAMES | {"CODEC"}  # types whose declared name the column comment keeps
NATIVE_TYPES = {"INTEGER", "NUMERIC", "FLOAT", "STRING", "TEMPORAL", "NATIVE_BLOB", "NATIVE_TEXT"}

_CORE_SPELLING = re.compile(
    r"(?P<name>u?int(8|16|32|64)|float32|float64|bool|uuid|bytes|date|datetime)(\s*\(\s*\d\s*\))?$"
    r"|(?P<json>jsonb?)$|(?P<string>char|varchar)\s*\(\s*\d+\s*\)$|(?P<enum>enum)\s*\(.+\)$"
    r"|(?P<decimal>decimal)\s*\(\s*\d+\s*,\s*\d+\s*\)$",
    re.I | re.S,
)


def match_type(attribute_type: str) -> str:
    """The category of a declared type: a core type's name in capitals (``FLOAT32``, ``VARCHAR``),
    ``CODEC`` for ``<codec>``, or the kind of a native MySQL type (``INTEGER``, ``FLOAT``, ...).
    Unknown types raise DeclarationError, as declaring them would."""
    text = " ".join(attribute_type.strip().split())
    attr_type = parse_type(text)  # raises for unknown types
    if attr_type.is_codec and text.startswith("<"):
        return "CODEC"
    match = _CORE_SPELLING.match(text)
    if match:
        if match.group("json"):
            return "JSON"
        return next(g for g in (match.group(k) for k in ("name", "string", "enum", "decimal")) if g).upper()
    core = attr_type.core
    if core == "year":
        return "TEMPORAL"
    if attr_type.is_integer or core == "bool":
        return "INTEGER"
    if attr_type.is_float:
        return "FLOAT"
    if core == "decimal":
        return "NUMERIC"
    if core in ("char", "varchar"):
        return "STRING"
    if core in ("time", "timestamp", "year", "date", "datetime"):
        return "TEMPORAL"
    if core == "text":
        return "NATIVE_TEXT"
    if attr_type.is_codec or core == "blob":
        return "NATIVE_BLOB"
    return core.upper()


class _AttributeParser:
    """Reads one attribute line (``name [= default] : type [# comment]``) into its parts, as
    DataJoint's ``attribute_parser.parse_string`` does; bad lines raise DeclarationError."""

    _LINE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\s*(=\s*(?P<default>.+?))?\s*$")

    def parse_string(self, line: str, parse_all: bool = True) -> dict[str, Any]:
        head, rest = split_unquoted(line.strip(), ":")
        match = self._LINE.match(head.strip())
        if rest is None or match is None:
            raise DeclarationError(f"`{line}` is not an attribute line: write `name : type  # comment`.")
        type_text, comment = split_unquoted(rest, "#")
        return {
            "name": match.group("name"),
            "default": match.group("default") or "",
            "type": type_text.strip(),
            "comment": (comment or "").strip(),
        }


attribute_parser = _AttributeParser()


def _backend_of(adapter: Any):
    if adapter is None:
        return _MYSQL
    return getattr(adapter, "backend", adapter)


def compile_attribute(
    line: str, in_key: bool, foreign_key_sql: list, context: Mapping[str, Any] | None, adapter: Any
) -> tuple[str, str, str | None, str | None]:
    """One attribute line as (name, column SQL, store, comment); ``adapter`` is
    ``connection.adapter`` (MySQL's spelling when None)."""
    from .definition.ddl import column_comments, column_definition
    from .definition.parser import TableSpec

    attr = parse_attribute(line.strip(), in_key, "<attribute>")
    backend = _backend_of(adapter)
    spec = TableSpec("schema", "table", attributes=[attr])
    comment = column_comments(backend, spec)[attr.name]
    sql = backend.render(column_definition(backend, attr, [attr.name] if in_key else [], comment))
    return attr.name, sql, attr.attr_type.store, attr.comment or None


def declare(
    full_table_name: str, definition: str, context: Mapping[str, Any] | None, adapter: Any
) -> tuple[str, list, list, dict, list, list]:
    """What declaring `definition` as `full_table_name` would run, without running it:
    (CREATE TABLE statement, stores used, primary key, {attribute: (parent table, parent attribute)}
    for foreign keys, statements before, statements after)."""
    from .core.naming import split_full_name
    from .table.declare import resolve_reference

    backend = _backend_of(adapter)
    schema, table_name = split_full_name(full_table_name)
    spec = parse_definition(definition, schema, table_name, dict(context or {}), resolve_reference=resolve_reference)
    statements = create_table_statements(backend, spec)
    position = next(i for i, s in enumerate(statements) if s.upper().startswith("CREATE TABLE"))
    stores = sorted({a.attr_type.store for a in spec.attributes if a.attr_type.store})
    fk_map = {
        child: (backend.full_table_name(fk.parent_schema, fk.parent_table), parent)
        for fk in spec.foreign_keys
        for child, parent in fk.attr_map.items()
    }
    return statements[position], stores, spec.primary_key, fk_map, statements[:position], statements[position + 1 :]


__all__ = [
    "CORE_TYPE_SQL",
    "SPECIAL_TYPES",
    "NATIVE_TYPES",
    "attribute_parser",
    "compile_attribute",
    "declare",
    "match_type",
]
