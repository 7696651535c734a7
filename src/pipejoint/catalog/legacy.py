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
  starts with the blob header and returns the bytes otherwise (DESIGN.md, principle 4), and writes
  values serialized, as 0.14 did. Nothing here: the native type says it.

Its hidden tables: ``~jobs`` (one job table per schema, keyed by table name and key hash),
``~log`` (events), ``~external_<store>`` (hash, size, attachment_name, filepath, contents_hash,
timestamp). None of them is a step of the pipeline.

This module maps a column's SQL type and comment to an attribute type; the reader of the
server's catalog calls it for the columns whose comment is 0.14's.
"""

from __future__ import annotations

import re

from ..core.types import BLOB_TYPES, AttributeType, parse_type
from ..storage.legacy import EXTERNAL_PREFIX, EXTERNAL_SCHEMA, external_schema

JOBS_TABLE = "~jobs"
LOG_TABLE = "~log"
__all__ = ["attribute_type_014", "external_schema", "is_014_schema", "is_hidden_table", "split_comment"]

_MARKER = re.compile(r"^:(?P<type>[^:]*):(?P<comment>.*)$", re.S)
_STORE_TYPE = re.compile(r"^(?P<kind>blob|attach|filepath)@(?P<store>[a-z][\-\w]*)$", re.I)
_ADAPTED = re.compile(r"^<(?P<name>[A-Za-z_]\w*)>$")
_UUID_COLUMN = re.compile(r"^binary\s*\(\s*16\s*\)$", re.I)


def is_hidden_table(table_name):
    """0.14's bookkeeping tables: ``~jobs``, ``~log``, ``~external_<store>``."""
    return table_name in (JOBS_TABLE, LOG_TABLE) or table_name.startswith(EXTERNAL_PREFIX)


def is_014_schema(table_names):
    """A schema DataJoint 0.14 made: its ``~log`` or ``~external_<store>`` tables and no ``~lineage``
    (DataJoint 2.x writes neither of the first two). Its lineage is computed from its foreign keys,
    never written into it: 0.14 clients keep working on a schema that looks as they left it."""
    names = set(table_names)
    return "~lineage" not in names and (LOG_TABLE in names or any(t.startswith(EXTERNAL_PREFIX) for t in names))


def split_comment(comment):
    """(type in the comment marker or None, the user's comment)."""
    match = _MARKER.match(comment or "")
    if match is None:
        return None, comment or ""
    return match.group("type"), match.group("comment")


def attribute_type_014(schema, column_type, comment):
    """The attribute type and user comment of a column in DataJoint 0.14's conventions.

    Returns None when the column carries nothing 0.14-specific (a plain native column, or a 2.x
    marker such as ``:int32:`` or ``:<blob@store>:``), for the general reader to handle.
    ``schema`` is the column's own schema: 0.14 tracks a table's store objects in that schema's
    ``~external_<store>`` tables.
    """
    declared, user_comment = split_comment(comment)
    column_type = " ".join(column_type.split())
    if declared is None:  # native, longblob too: parse_type gives <blob>, whose values are read as
        return None  # blobs when they have the blob header and as bytes otherwise (codecs.pipeline)
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
