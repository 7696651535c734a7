"""DataJoint 0.14's storage conventions: what its column comments and hidden tables mean.

Most labs' MySQL/MariaDB schemas were made by DataJoint 0.14. Its tables use the same tier
prefixes and table comments as 2.x, but its column comments differ:

* ``:uuid:`` on ``binary(16)``: a uuid (as in 2.x);
* ``:blob@store:``, ``:attach@store:``, ``:filepath@store:`` (no angle brackets) on ``binary(16)``:
  an object in a store, tracked in the schema's ``~external_<store>`` table; the column holds its
  hash (a uuid) and has a foreign key to that table (2.x writes ``:<blob@store>:`` on a json column);
* ``:attach:`` on ``longblob``: a file's name and content in the row (2.x: ``:<attach>:``);
* ``:<adapter>:``: an adapted type (``dj.AttributeAdapter``) stored as its ``attribute_type``;
  on ``binary(16)`` that type is one of the store types above;
* no comment marker on ``longblob`` (and ``blob``, ``mediumblob``, ``tinyblob``): a serialized
  blob. DataJoint 2.x reads such columns as raw bytes; pipejoint decodes a value as a blob when it
  starts with the blob header and returns the bytes otherwise (DESIGN.md, principle 4). Writes
  follow the schema: in a 0.14 schema (``is_014_schema``) every value is serialized as 0.14 did,
  bytes too; elsewhere bytes are kept raw, as DataJoint 2.x keeps them.

Its hidden tables: ``~jobs`` (one job table per schema, keyed by table name and key hash),
``~log`` (events), ``~external_<store>`` (hash, size, attachment_name, filepath, contents_hash,
timestamp). None of them is a step of the pipeline.

This module maps a column's SQL type and comment to an attribute type; the reader of the
server's catalog calls it for the columns whose comment is 0.14's.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..core.types import BLOB_TYPES, AttributeType, parse_type
from ..storage.legacy import EXTERNAL_PREFIX, EXTERNAL_SCHEMA, SERIALIZED_014, external_schema

JOBS_TABLE = "~jobs"
LOG_TABLE = "~log"
LINEAGE_TABLE = "~lineage"  # DataJoint 2.x's (catalog/lineage.py)
JOBS_COLUMNS_014 = frozenset({"table_name", "key_hash", "status", "key", "connection_id", "timestamp"})
__all__ = ["attribute_type_014", "external_schema", "is_014_schema", "is_hidden_table", "split_comment"]

_MARKER = re.compile(r"^:(?P<type>[^:]*):(?P<comment>.*)$", re.S)
_STORE_TYPE = re.compile(r"^(?P<kind>blob|attach|filepath)@(?P<store>[a-z][\-\w]*)$", re.I)
_ADAPTED = re.compile(r"^<(?P<name>[A-Za-z_]\w*)>$")
_UUID_COLUMN = re.compile(r"^binary\s*\(\s*16\s*\)$", re.I)


def is_hidden_table(table_name):
    """0.14's bookkeeping tables: ``~jobs``, ``~log``, ``~external_<store>``."""
    return table_name in (JOBS_TABLE, LOG_TABLE) or table_name.startswith(EXTERNAL_PREFIX)


def is_014_schema(table_names, tables=None):
    """A schema DataJoint 0.14 (or 0.12, 0.13: the same format) made or still uses.

    ``table_names``: every table of the schema, hidden ones included; ``tables``: optionally the
    server's description of them ({name: TableFacts}), for the evidence in columns.

    Evidence for 0.14, any one suffices: its ``~log`` (0.14 writes it when it creates a schema,
    declares a table or its jobs table, so a schema 0.14 made has one even before its first table;
    DataJoint 2.x and pipejoint never make one), a ``~external_<store>`` table, a ``~jobs`` with
    0.14's columns (``connection_id``, no ``token``), or a column comment in a form only 0.14
    writes (``:blob@store:``, ``:attach@store:``, ``:filepath@store:`` on binary(16), ``:attach:``).
    Evidence against, which wins: ``~lineage`` (DataJoint 2.x, its migration of a 0.14 schema, and
    pipejoint on a server write it). A schema with none of these (a database an administrator
    made empty, plain SQL tables) is not 0.14's: nothing in it says how 0.14 would write there.

    In a 0.14 schema nothing of 2.x is written (no ``~lineage``: lineage is computed from the
    foreign keys), and ``longblob`` columns hold serialized blobs.
    """
    names = set(table_names)
    if LINEAGE_TABLE in names:
        return False
    if LOG_TABLE in names or any(t.startswith(EXTERNAL_PREFIX) for t in names):
        return True
    if not tables:
        return False
    jobs = tables.get(JOBS_TABLE)
    if jobs is not None:
        columns = {c.name for c in jobs.columns}
        if columns >= JOBS_COLUMNS_014 and "token" not in columns:
            return True
    return any(
        _marks_014(column.sql_type, column.comment)
        for name, facts in tables.items()
        if not name.startswith("~")
        for column in facts.columns
    )


def _marks_014(column_type, comment):
    """True for a column comment only DataJoint 0.14 writes."""
    declared, _ = split_comment(comment)
    if declared is None:
        return False
    column_type = " ".join(column_type.split()).lower()
    if declared.lower() == "attach":
        return column_type in BLOB_TYPES
    return bool(_STORE_TYPE.match(declared)) and bool(_UUID_COLUMN.match(column_type))


def split_comment(comment):
    """(type in the comment marker or None, the user's comment)."""
    match = _MARKER.match(comment or "")
    if match is None:
        return None, comment or ""
    return match.group("type"), match.group("comment")


def attribute_type_014(schema, column_type, comment, in_014_schema=False):
    """The attribute type and user comment of a column in DataJoint 0.14's conventions.

    Returns None when the column carries nothing 0.14-specific (a plain native column, or a 2.x
    marker such as ``:int32:`` or ``:<blob@store>:``), for the general reader to handle.
    ``schema`` is the column's own schema: 0.14 tracks a table's store objects in that schema's
    ``~external_<store>`` tables. ``in_014_schema`` (``is_014_schema``): a native blob column
    there holds serialized blobs, and new values are written serialized, exactly as 0.14 packs them.
    """
    declared, user_comment = split_comment(comment)
    column_type = " ".join(column_type.split())
    if declared is None:  # native: a longblob's values are read as blobs when they have the blob header
        if in_014_schema and column_type.lower() in BLOB_TYPES:  # and bytes otherwise (codecs.pipeline)
            native = parse_type(column_type)
            return replace(native, extra={SERIALIZED_014: True}), comment or ""
        return None
    on_uuid_column = bool(_UUID_COLUMN.match(column_type))
    if declared.lower() == "uuid" and on_uuid_column:
        return parse_type("uuid"), user_comment
    if declared.lower() == "attach" and column_type.lower() in BLOB_TYPES:
        return parse_type("attach"), user_comment
    if (match := _STORE_TYPE.match(declared)) and on_uuid_column:
        kind, store = match.group("kind").lower(), match.group("store")
        return AttributeType(declared, "codec", codec=kind, store=store, extra={EXTERNAL_SCHEMA: schema}), user_comment
    if match := _ADAPTED.match(declared):  # on binary(16), the adapter's type is a store type above
        extra = {EXTERNAL_SCHEMA: schema} if on_uuid_column else {}
        return AttributeType(declared, "codec", codec=match.group("name"), extra=extra), user_comment
    return None
