"""Attribute types: every spelling users write, reduced to one portable description.

DataJoint users write 2.x core types (``uint16``, ``float64``) and MySQL names from the book
(``smallint unsigned``, ``double``, ``longblob``). Both map to an ``AttributeType`` whose ``core``
name the backends turn into their own column types and CHECK constraints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import DeclarationError

INTEGER_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "uint8": (0, 2**8 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int24": (-(2**23), 2**23 - 1),
    "uint24": (0, 2**24 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
    "year": (1901, 2155),  # MySQL's calendar year, a whole number
}
MYSQL_INTEGERS = {"tinyint": "8", "smallint": "16", "mediumint": "24", "int": "32", "integer": "32", "bigint": "64"}
BLOB_TYPES = ("tinyblob", "blob", "mediumblob", "longblob")
TEXT_TYPES = ("tinytext", "text", "mediumtext", "longtext")

SUPPORTED = (
    "int8 int16 int32 int64 uint8 uint16 uint32 uint64, float32 float64, bool, decimal(p,s), "
    "char(n) varchar(n), enum('a','b'), date datetime(n) time timestamp, uuid, json, bytes, "
    "<blob> <codec> <codec@store>; MySQL names: tinyint smallint mediumint int bigint [unsigned], "
    "float double, boolean, year, tinyblob blob mediumblob longblob, text, serial"
)


@dataclass(frozen=True)
class AttributeType:
    """A parsed attribute type. ``declared`` is kept verbatim for describe() and the catalog."""

    declared: str
    core: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    values: tuple = ()
    fsp: int | None = None
    unsigned: bool = False
    autoincrement: bool = False
    codec: str | None = None
    store: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_integer(self):
        return self.core in INTEGER_RANGES

    @property
    def is_float(self):
        return self.core in ("float32", "float64")

    @property
    def is_numeric(self):
        return self.is_integer or self.is_float or self.core in ("decimal", "bool")

    @property
    def is_string(self):
        return self.core in ("char", "varchar", "enum", "text")

    @property
    def is_uuid(self):
        return self.core == "uuid"

    @property
    def is_json(self):
        return self.core == "json" or (self.codec is not None and self.store is not None)

    @property
    def is_blob(self):
        """True for values kept as bytes in the table (raw bytes or serialized)."""
        return self.storage_core in ("bytes", "blob") and self.store is None

    @property
    def is_codec(self):
        return self.codec is not None

    @property
    def storage_core(self):
        """The core type of the column that holds the value.

        A codec's column has the type at the end of its codec chain (``<attach@s>`` -> ``<hash@s>``
        -> json), which only the codec registry knows: code handling codec columns passes the
        resolved type (``storage.codecs.stored_type``). A codec type itself answers with its
        default column: json with a store, bytes without.
        """
        if self.codec is None:
            return self.core
        return "json" if self.store is not None else "bytes"

    @property
    def integer_range(self):
        return INTEGER_RANGES.get(self.core)


def _split_enum_values(inner, declared):
    """Split ``'a','b c','it''s'`` into values, honouring quotes."""
    values, pos = [], 0
    pattern = re.compile(r"\s*('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")\s*(,|$)")
    while pos < len(inner):
        match = pattern.match(inner, pos)
        if not match:
            raise DeclarationError(
                f"Cannot read the enum values in `{declared}`: write them as quoted strings, e.g. enum('low', 'high')."
            )
        quoted = match.group(1)
        values.append(quoted[1:-1].replace(quoted[0] * 2, quoted[0]))
        pos = match.end()
    if not values:
        raise DeclarationError(f"`{declared}` has no values: write e.g. enum('low', 'high').")
    return tuple(values)


_CODEC = re.compile(r"^<\s*(?P<name>[A-Za-z_][\w.]*)\s*(?:@\s*(?P<store>[\w-]*))?\s*>$")
_LEGACY_STORE = re.compile(r"^(?P<name>blob|attach|filepath)@(?P<store>[\w-]+)$", re.I)
_INT = re.compile(
    r"^(?P<kind>tinyint|smallint|mediumint|int|integer|bigint)\s*(\(\s*\d+\s*\))?"
    r"(?P<unsigned>\s+unsigned)?(?P<zerofill>\s+zerofill)?(?P<auto>\s+auto_increment)?$",
    re.I,
)
_CORE_INT = re.compile(r"^(?P<kind>u?int(8|16|32|64))(?P<auto>\s+auto_increment)?$", re.I)
_DECIMAL = re.compile(
    r"^(decimal|numeric|dec|fixed)\s*(\(\s*(?P<p>\d+)\s*(,\s*(?P<s>\d+)\s*)?\))?(?P<unsigned>\s+unsigned)?$",
    re.I,
)
_FLOAT = re.compile(
    r"^(?P<kind>float32|float64|float|double(\s+precision)?|real)\s*(\(\s*(?P<p>\d+)\s*(,\s*\d+\s*)?\))?"
    r"(?P<unsigned>\s+unsigned)?$",
    re.I,
)
_CHAR = re.compile(r"^(?P<kind>char|varchar)\s*\(\s*(?P<n>\d+)\s*\)$", re.I)
_TEMPORAL = re.compile(r"^(?P<kind>date|datetime|time|timestamp)\s*(\(\s*(?P<fsp>\d)\s*\))?$", re.I)
_ENUM = re.compile(r"^enum\s*\((?P<inner>.*)\)$", re.I | re.S)


def parse_type(declared: str) -> AttributeType:
    """Parse a type as written in a definition. Raises DeclarationError for unknown types."""
    text = " ".join(declared.strip().split())
    lower = text.lower()
    if m := _CODEC.match(text):
        store = m.group("store")
        name = m.group("name")
        return AttributeType(text, "codec", codec=name, store=store)
    if m := _LEGACY_STORE.match(text):
        return AttributeType(text, "codec", codec=m.group("name").lower(), store=m.group("store"))
    if lower == "attach":
        return AttributeType(text, "codec", codec="attach")
    if lower in BLOB_TYPES:
        return AttributeType(text, "blob", codec="blob")
    if lower == "bytes":
        return AttributeType(text, "bytes")
    if m := _CORE_INT.match(text):
        return AttributeType(text, m.group("kind").lower(), autoincrement=bool(m.group("auto")))
    if m := _INT.match(text):
        bits = MYSQL_INTEGERS[m.group("kind").lower()]
        core = ("uint" if m.group("unsigned") else "int") + bits
        return AttributeType(text, core, autoincrement=bool(m.group("auto")))
    if re.fullmatch(r"year\s*(\(\s*4\s*\))?", lower):  # MySQL's calendar year (MariaDB reports year(4))
        return AttributeType(text, "year")
    if lower == "serial":
        return AttributeType(text, "uint64", autoincrement=True)
    if lower in ("bool", "boolean"):
        return AttributeType(text, "bool")
    if m := _FLOAT.match(text):
        kind = m.group("kind").lower()
        if kind == "float32" or (kind == "float" and (m.group("p") is None or int(m.group("p")) <= 24)):
            core = "float32"
        else:
            core = "float64"
        return AttributeType(text, core, unsigned=bool(m.group("unsigned")))
    if m := _DECIMAL.match(text):
        precision = int(m.group("p")) if m.group("p") else 10
        scale = int(m.group("s")) if m.group("s") else 0
        if not 1 <= precision <= 65 or scale > precision:
            raise DeclarationError(f"`{text}`: decimal(p, s) needs 1 <= p <= 65 and s <= p, e.g. decimal(8, 2).")
        return AttributeType(text, "decimal", precision=precision, scale=scale, unsigned=bool(m.group("unsigned")))
    if m := _CHAR.match(text):
        length = int(m.group("n"))
        if length < 1 or length > 65535:
            raise DeclarationError(f"`{text}`: the length must be between 1 and 65535.")
        return AttributeType(text, m.group("kind").lower(), length=length)
    if m := _TEMPORAL.match(text):
        kind = m.group("kind").lower()
        fsp = int(m.group("fsp")) if m.group("fsp") else None
        if kind == "date" and fsp is not None:
            raise DeclarationError(f"`{text}`: date has no fractional seconds; use datetime({fsp}).")
        if fsp is not None and fsp > 6:
            raise DeclarationError(f"`{text}`: fractional seconds go up to 6 digits.")
        return AttributeType(text, kind, fsp=fsp)
    if m := _ENUM.match(text):
        return AttributeType(text, "enum", values=_split_enum_values(m.group("inner").strip(), text))
    if lower == "uuid":
        return AttributeType(text, "uuid")
    if lower in ("json", "jsonb"):
        return AttributeType(text, "json")
    if lower in TEXT_TYPES:
        return AttributeType(text, "text")
    raise DeclarationError(f"Unknown type `{text}`. Supported types: {SUPPORTED}.")


_MYSQL_NAMES = {
    "int8": "tinyint",
    "int16": "smallint",
    "int24": "mediumint",
    "int32": "int",
    "int64": "bigint",
    "float32": "float",
    "float64": "double",
    "bool": "tinyint",
    "uuid": "binary(16)",
    "json": "json",
    "bytes": "longblob",
    "year": "year",
    "date": "date",
}


def mysql_spelling(t: AttributeType) -> str:
    """A type in the book's MySQL names, as DataJoint 0.14 reports a column's type (``Attribute.sql_type``).

    These are names of the definition language itself (the book declares ``int``, ``longblob``), so they
    live here rather than in a backend: a codec's column is ``longblob`` (``json`` with a store).
    """
    core = t.storage_core
    if t.declared.lower() in BLOB_TYPES + TEXT_TYPES:
        return t.declared.lower()
    if t.is_integer and core.startswith("u"):
        return f"{_MYSQL_NAMES[core[1:]]} unsigned"
    if core in ("blob", "text"):
        return f"long{core}"
    unsigned = " unsigned" if t.unsigned else ""
    if core == "decimal":
        return f"decimal({t.precision},{t.scale}){unsigned}"
    if t.is_float:
        return _MYSQL_NAMES[core] + unsigned
    if core in ("char", "varchar"):
        return f"{core}({t.length})"
    if core in ("datetime", "time", "timestamp"):
        return f"{core}({t.fsp})" if t.fsp else core
    if core == "enum":
        return "enum(" + ",".join("'" + v.replace("'", "''") + "'" for v in t.values) + ")"
    return _MYSQL_NAMES[core]
