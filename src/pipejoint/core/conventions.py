"""DataJoint 2.x's column-comment convention: `:<declared type>:<user comment>`.

The server keeps a column's SQL type, which loses what the user declared (`uuid` is binary(16)
on MySQL, `<blob>` is longblob, `float32` is float). DataJoint writes the declared type in front
of the user's comment for its core types and codecs, and reads it back from there; native types
(`int`, `longblob`, `time`, ...) get no marker. This module is the one place that knows the rule,
for the DDL that writes comments and the catalog code that reads them.
"""

from __future__ import annotations

import re

from .types import AttributeType, parse_type

# DataJoint 2.3.5's core types (declare.CORE_TYPES): declared types that match one of these in full
# get a marker. Everything else DataJoint accepts is native and gets none.
_DATAJOINT_CORE = re.compile(
    r"(float32|float64|int64|int32|int16|int8|bool|uuid|jsonb?|bytes|date"
    r"|datetime(\s*\(\d+\))?|char\s*\(\d+\)|varchar\s*\(\d+\)|enum\s*\(.+\)"
    r"|decimal\s*\(\d+\s*,\s*\d+\))",
    re.I | re.S,
)


def declared_marker(declared_type) -> str | None:
    """The type DataJoint records in the comment for a declared type, or None for a native type.

    Beyond DataJoint's own core types and codecs, pipejoint's core types that DataJoint lacks
    (`uint8`..`uint64`, `boolean`) are marked with their core name so that a reader gets them back
    (DataJoint reads such a marker as a native type; its migrate tool writes `:uint32:` too).
    """
    attr_type = declared_type if isinstance(declared_type, AttributeType) else parse_type(declared_type)
    declared = attr_type.declared
    if attr_type.codec is not None:
        if attr_type.core != "codec":
            return None  # longblob, mediumblob, blob, tinyblob: native columns
        if declared.startswith("<"):
            return declared
        # 0.14's spellings (`attach`, `blob@store`, `filepath@store`) are recorded as 2.x writes them
        return f"<{attr_type.codec}@{attr_type.store}>" if attr_type.store is not None else f"<{attr_type.codec}>"
    if _DATAJOINT_CORE.fullmatch(declared):
        return declared
    if attr_type.core.startswith("uint") and re.fullmatch(r"uint\d+(\s+auto_increment)?", declared, re.I):
        return attr_type.core
    if attr_type.core.startswith("int") and re.fullmatch(r"int\d+\s+auto_increment", declared, re.I):
        return attr_type.core
    if declared.lower() == "boolean":
        return "bool"
    return None


def column_comment(declared_type, comment: str, mark_native: bool = False) -> str:
    """The column comment DataJoint writes: `:<type>:<comment>` for core types and codecs, else the comment.

    `mark_native` marks native types too (`:smallint unsigned:`, `:longblob:`), on a server that stores
    them as other types (PostgreSQL); DataJoint reads such a marker as the native type it names.
    """
    comment = comment or ""
    marker = declared_marker(declared_type)
    if marker is None and mark_native:
        attr_type = declared_type if isinstance(declared_type, AttributeType) else parse_type(declared_type)
        marker = attr_type.declared
    return comment if marker is None else f":{marker}:{comment}"


def column_comment_014(declared_type, comment: str) -> str:
    """The column comment DataJoint 0.14 writes: a marker only for the types its columns cannot tell
    (`:uuid:`, adapted `:<name>:`, `:attach:`, `:blob@store:`, ...), the user's comment otherwise.
    0.14 refuses any other marker (`:varchar(255):` is "Unknown attribute type" to it), so tables
    declared into a 0.14 schema carry 0.14's comments, for 0.14's clients to keep working."""
    comment = comment or ""
    attr_type = declared_type if isinstance(declared_type, AttributeType) else parse_type(declared_type)
    if attr_type.core == "uuid":
        return f":uuid:{comment}"
    if attr_type.codec is not None and attr_type.core == "codec":
        declared = attr_type.declared
        return f":{declared}:{comment}"
    return comment


def parse_column_comment(text) -> tuple:
    """(declared type or None, user comment) from a column comment, as DataJoint reads it.

    ``:int16:trial number`` -> ("int16", "trial number"); ``plain words`` -> (None, "plain words").
    The type ends at the first colon outside quotes, so ``:enum('a:b'):`` keeps its values.
    """
    text = text or ""
    if not text.startswith(":"):
        return None, text
    quote = None
    for i in range(1, len(text)):
        char = text[i]
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == ":":
            declared = text[1:i].strip()
            return (declared, text[i + 1 :]) if declared else (None, text)
    return None, text


def foreign_key_comment(parent_attr_type, parent_comment: str) -> str:
    """What DataJoint writes on a column copied from a parent by `-> Parent`: the parent's user comment,
    with only the `:uuid:` marker put back (the other core-type markers are not copied)."""
    return (":uuid:" if parent_attr_type.is_uuid else "") + (parent_comment or "")


def lineage_of(schema: str, table_name: str, attribute: str) -> str:
    """An attribute's lineage as the `~lineage` table holds it: `schema.table.attribute` of its origin."""
    return f"{schema}.{table_name}.{attribute}"
