"""The definition language: a table definition string becomes a TableSpec.

Everything is checked here, before any SQL runs, so a bad definition leaves nothing behind.
Each error quotes the offending line and says what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..core.heading import Attribute, Heading
from ..core.types import parse_type
from ..errors import DeclarationError

_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_INDEX = re.compile(r"^(?P<unique>unique\s+)?index\s*\((?P<args>[^)]*)\)\s*(#.*)?$", re.I)
_FOREIGN_KEY = re.compile(r"^->\s*(\[(?P<options>[^\]]*)\])?\s*(?P<ref>.+?)\s*(#.*)?$")
_SEPARATOR = re.compile(r"^-{3,}\s*(#.*)?$")


@dataclass
class ForeignKeySpec:
    """A dependency on a parent table. ``attr_map`` maps child attribute -> parent attribute."""

    parent_schema: str
    parent_table: str
    attr_map: dict
    nullable: bool = False
    unique: bool = False
    primary: bool = True
    line: str = ""

    @property
    def parent(self):
        return f"{self.parent_schema}.{self.parent_table}"

    @property
    def renamed(self):
        return any(child != parent for child, parent in self.attr_map.items())

    def to_catalog(self):
        return {
            "parent": [self.parent_schema, self.parent_table],
            "attr_map": self.attr_map,
            "nullable": self.nullable,
            "unique": self.unique,
            "primary": self.primary,
        }

    @classmethod
    def from_catalog(cls, data):
        schema, table = data["parent"]
        return cls(schema, table, dict(data["attr_map"]), data["nullable"], data["unique"], data["primary"])


@dataclass
class IndexSpec:
    attributes: tuple
    unique: bool = False

    def to_catalog(self):
        return {"attributes": list(self.attributes), "unique": self.unique}

    @classmethod
    def from_catalog(cls, data):
        return cls(tuple(data["attributes"]), data["unique"])


@dataclass
class TableSpec:
    """Everything a definition declares, ready for DDL and the catalog."""

    schema: str
    table_name: str
    comment: str = ""
    attributes: list = field(default_factory=list)
    foreign_keys: list = field(default_factory=list)
    indexes: list = field(default_factory=list)
    copied: set = field(default_factory=set)  # attributes a foreign key copied from its parent

    @property
    def heading(self):
        return Heading(self.attributes, self.comment)

    @property
    def primary_key(self):
        return [a.name for a in self.attributes if a.in_key]


def split_unquoted(text, separator):
    """Split at the first `separator` outside quotes and parentheses: (before, after) or (text, None)."""
    quote, depth = None, 0
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            return text[:i], text[i + 1 :]
    return text, None


def line_error(table, line, problem, fix):
    """The error for one line of a definition: it quotes the line and says what to write instead."""
    return DeclarationError(f"Table `{table}`, line `{line}`: {problem} {fix}")


def _fail(table, line, problem, fix):
    raise line_error(table, line, problem, fix)


def parse_attribute(line, in_key, table):
    """An attribute line `name [= default] : type [# comment]`."""
    head, rest = split_unquoted(line, ":")
    if rest is None:
        _fail(
            table,
            line,
            "is not an attribute, foreign key or index.",
            "Write an attribute as `name : type  # comment`, e.g. `session_id : int32`.",
        )
    type_text, comment = split_unquoted(rest, "#")
    name, default = split_unquoted(head, "=")
    name = name.strip()
    if name.startswith("_"):
        _fail(
            table,
            line,
            f"attribute name `{name}` starts with an underscore: such names are reserved for platform-managed "
            "hidden attributes (`_singleton`, `_job_start_time`, ...).",
            "Choose a name that starts with a letter.",
        )
    if not _ATTRIBUTE_NAME.match(name):
        _fail(
            table,
            line,
            f"`{name}` is not a valid attribute name.",
            "Use lowercase letters, digits and underscores, starting with a letter, e.g. `session_id`.",
        )
    default = default.strip() if default is not None else None
    if default == "":
        _fail(
            table,
            line,
            "has `=` but no default value.",
            "Write a value after `=`, or `= null` for an optional attribute.",
        )
    comment = (comment or "").strip()
    if comment.startswith(":"):
        _fail(
            table,
            line,
            f"the comment of `{name}` starts with a colon, which marks a type in DataJoint's column comments.",
            "Start the comment with another character.",
        )
    try:
        attr_type = parse_type(type_text)
    except DeclarationError as error:
        _fail(table, line, str(error), "")
    nullable = default is not None and default.lower() == "null"
    if in_key and nullable:
        _fail(
            table,
            line,
            f"primary-key attribute `{name}` cannot be nullable.",
            "Move it below the `---` line, or give it a non-null value.",
        )
    if not in_key and attr_type.autoincrement:
        _fail(table, line, f"`{name}` is auto_increment but not in the primary key.", "Move it above the `---` line.")
    if in_key and (attr_type.is_blob or attr_type.is_json or attr_type.core in ("text", "codec", "float32", "float64")):
        _fail(
            table,
            line,
            f"type {attr_type.declared} cannot be part of the primary key.",
            "Use an integer, string, date, uuid or enum key; move this attribute below `---`.",
        )
    if default is not None and not nullable and (attr_type.is_blob or attr_type.is_codec):
        _fail(
            table, line, f"{attr_type.declared} attributes can only default to null.", "Write `= null` or no default."
        )
    if default is not None and not nullable:
        default = _normalize_default(default, attr_type, table, line)
    return Attribute(
        name, attr_type, in_key=in_key, nullable=nullable, default=None if nullable else default, comment=comment
    )


def _normalize_default(default, attr_type, table, line):
    """Check a default against its type early, so the error names the line rather than the SQL."""
    from ..backends.base import unquote

    upper = default.upper()
    if upper.startswith("CURRENT_TIMESTAMP"):
        if attr_type.core not in ("datetime", "timestamp"):
            _fail(
                table, line, "CURRENT_TIMESTAMP is only a default for datetime and timestamp.", "Use a literal value."
            )
        return default
    value = unquote(default)
    if attr_type.core == "enum" and value not in attr_type.values:
        _fail(table, line, f"default {default} is not one of the enum values {attr_type.values}.", "Pick one of them.")
    if attr_type.core in ("char", "varchar") and len(value) > attr_type.length:
        _fail(table, line, f"default {default} is longer than {attr_type.length} characters.", "Shorten it.")
    if attr_type.is_integer:
        try:
            number = int(value)
        except ValueError:
            _fail(table, line, f"default {default} is not an integer.", "Write a whole number.")
        low, high = attr_type.integer_range
        if not low <= number <= high:
            _fail(
                table,
                line,
                f"default {default} is outside the range {low}..{high} of {attr_type.declared}.",
                "Pick a value in range.",
            )
    if attr_type.core in ("float32", "float64", "decimal"):
        try:
            float(value)
        except ValueError:
            _fail(table, line, f"default {default} is not a number.", "Write a number.")
    if attr_type.core == "bool" and value.lower() not in ("true", "false", "0", "1"):
        _fail(table, line, f"default {default} is not a boolean.", "Write true or false.")
    return default


def _strip_autoincrement(attr_type):
    if not attr_type.autoincrement:
        return attr_type
    declared = re.sub(r"\s+auto_increment", "", attr_type.declared, flags=re.I)
    if declared.lower() == "serial":
        declared = "bigint unsigned"
    return replace(parse_type(declared))


def parse_foreign_key(line, in_key, context, spec, table, resolve_reference):
    """A `-> Parent` line. `resolve_reference(ref, context, table, line)` evaluates the reference in the
    declaration context and returns (parent table, {new name: parent attribute}); the table layer supplies it."""
    match = _FOREIGN_KEY.match(line)
    if not match:
        _fail(table, line, "is not a valid foreign key.", "Write `-> Parent` or `-> [nullable] Parent`.")
    options = [o.strip().lower() for o in (match.group("options") or "").split(",") if o.strip()]
    for option in options:
        if option not in ("nullable", "unique"):
            _fail(table, line, f"`{option}` is not a foreign key option.", "Options are [nullable] and [unique].")
    nullable = "nullable" in options
    if nullable and in_key:
        _fail(
            table,
            line,
            "a foreign key in the primary key cannot be nullable.",
            "Move `-> [nullable] ...` below the `---` line.",
        )
    if resolve_reference is None:
        _fail(table, line, "foreign keys cannot be declared here.", "Remove the `->` line.")
    parent, renames = resolve_reference(match.group("ref"), context, table, line)
    if not parent.is_declared:
        _fail(
            table,
            line,
            f"the parent table {parent.full_table_name} is not declared in the database.",
            "Declare the parent first (its schema must be activated with create_tables=True).",
        )
    if (parent.database, parent.table_name) == (spec.schema, spec.table_name):
        _fail(
            table,
            line,
            "a table cannot depend on itself (a cycle).",
            "Refer to the table through a renamed foreign key in another table, e.g. a separate link table.",
        )
    parent_heading = parent.heading
    inverse = {old: new for new, old in renames.items()}
    attr_map = {}
    existing = {a.name: a for a in spec.attributes}
    for parent_name in parent_heading.primary_key:
        child_name = inverse.get(parent_name, parent_name)
        attr_map[child_name] = parent_name
        if child_name in existing:
            continue
        parent_attr = parent_heading[parent_name]
        attr = Attribute(
            child_name,
            _strip_autoincrement(parent_attr.attr_type),
            in_key=in_key,
            nullable=nullable,
            default=None,
            comment=parent_attr.comment,
            lineage=parent_attr.lineage,
        )
        spec.attributes.append(attr)
        spec.copied.add(child_name)
        existing[child_name] = attr
    unknown = set(renames) - set(attr_map)
    if unknown:
        _fail(
            table,
            line,
            f"renamed attribute(s) {sorted(unknown)} are not in the primary key of {parent.class_name}.",
            "A foreign key can only rename the parent's primary-key attributes.",
        )
    return ForeignKeySpec(parent.database, parent.table_name, attr_map, nullable, "unique" in options, in_key, line)


def parse_definition(definition, schema, table_name, context, tier=None, resolve_reference=None):
    """Parse a definition string into a TableSpec (no SQL runs here).

    `context` is the declaration's namespace (parent tables, legacy adapters); foreign keys are
    evaluated in it by `resolve_reference` (see parse_foreign_key).
    """
    if not isinstance(definition, str) or not definition.strip():
        raise DeclarationError(f"Table `{table_name}` has an empty definition: write at least one attribute.")
    spec = TableSpec(schema, table_name)
    lines = [line.strip() for line in definition.strip().splitlines()]
    if lines and lines[0].startswith("#"):
        spec.comment = lines.pop(0)[1:].strip()
        if spec.comment.startswith(":"):
            raise DeclarationError(
                f"Table `{table_name}`: the table comment `{spec.comment}` starts with a colon, which DataJoint "
                "reserves. Start the comment with another character."
            )
    in_key = True
    index_lines = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if _SEPARATOR.match(line):
            if not in_key:
                _fail(table_name, line, "is a second `---` separator.", "A definition has at most one `---` line.")
            in_key = False
            continue
        if line.startswith("->"):
            spec.foreign_keys.append(parse_foreign_key(line, in_key, context, spec, table_name, resolve_reference))
            continue
        if _INDEX.match(line):
            index_lines.append(line)
            continue
        attr = parse_attribute(line, in_key, table_name)
        if attr.attr_type.is_codec:
            _check_codec(attr, context, table_name, line)
        if any(a.name == attr.name for a in spec.attributes):
            _fail(table_name, line, f"attribute `{attr.name}` is declared twice.", "Remove or rename one of them.")
        spec.attributes.append(replace(attr, lineage=f"{schema}.{table_name}.{attr.name}"))
    names = {a.name for a in spec.attributes}
    for line in index_lines:
        match = _INDEX.match(line)
        attrs = tuple(a.strip().strip("`") for a in match.group("args").split(",") if a.strip())
        missing = [a for a in attrs if a not in names]
        if not attrs or missing:
            _fail(
                table_name,
                line,
                f"indexes unknown attribute(s) {missing}." if missing else "names no attributes.",
                f"Index attributes of this table: {', '.join(sorted(names))}.",
            )
        spec.indexes.append(IndexSpec(attrs, bool(match.group("unique"))))
    for fk in spec.foreign_keys:
        if fk.unique:
            spec.indexes.append(IndexSpec(tuple(fk.attr_map), True))
    if not any(a.in_key for a in spec.attributes):  # after the others, where DataJoint declares it
        spec.attributes.append(_singleton_attribute(schema, table_name))
    autoinc = [a for a in spec.attributes if a.autoincrement]
    if len(autoinc) > 1:
        raise DeclarationError(f"Table `{table_name}` has more than one auto_increment attribute; keep one.")
    return spec


def _check_codec(attr, context, table, line):
    """An unknown `<name>` or a store-only codec without `@` fails here, naming the registered codecs."""
    from ..storage.codecs import check_declared

    try:
        check_declared(attr.attr_type, context)
    except DeclarationError as error:
        _fail(table, line, f"attribute `{attr.name}`: {error}", "")


def _singleton_attribute(schema, table_name):
    """A table without key attributes holds at most one row: a hidden key with one allowed value."""
    return Attribute(
        "_singleton",
        parse_type("bool"),
        in_key=True,
        nullable=False,
        default="true",
        comment="singleton primary key",
        lineage=f"{schema}.{table_name}._singleton",
    )
