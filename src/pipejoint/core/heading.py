"""Attributes and headings: what a table or query result is made of.

A heading is rebuilt from the catalog alone (no Python class needed), so every field here
is plain data that serializes to JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import UnknownAttributeError
from .types import AttributeType, mysql_spelling, parse_type

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    import numpy as np

BUILTIN_CODECS = ("blob", "attach", "filepath", "hash", "npy", "object")
_IDENTIFIER = re.compile(r"`?[A-Za-z_]\w*`?")
ATTRIBUTE_PROPERTIES = (  # DataJoint 0.14's Attribute fields, for todict()
    "name", "type", "in_key", "nullable", "default", "comment", "autoincrement", "numeric", "string", "uuid",
    "json", "is_blob", "is_attachment", "is_filepath", "is_external", "is_hidden", "adapter", "store",
    "unsupported", "attribute_expression", "dtype",
)  # fmt: skip


@dataclass(frozen=True)
class Attribute:
    """One attribute of a heading.

    ``default`` is the default as written in the definition (``None`` when there is none,
    the string ``"null"`` for nullable attributes). ``lineage`` names where the attribute
    was first defined (``schema.table.attr``), followed through foreign keys and renames.
    ``expression`` is set for attributes computed by a projection (SQL in the user's dialect).
    Attributes whose names start with ``_`` are hidden (left out of fetch results) unless
    ``revealed``: named explicitly in a projection or fetch.
    """

    name: str
    attr_type: AttributeType
    in_key: bool = False
    nullable: bool = False
    default: str | None = None
    comment: str = ""
    lineage: str | None = None
    expression: object = None
    revealed: bool = False

    @property
    def type(self) -> str:
        return self.attr_type.declared

    @property
    def original_type(self) -> str:
        return self.attr_type.declared

    @property
    def core(self) -> str:
        return self.attr_type.core

    @property
    def numeric(self) -> bool:
        return self.attr_type.is_numeric

    @property
    def string(self) -> bool:
        return self.attr_type.is_string

    @property
    def uuid(self) -> bool:
        return self.attr_type.is_uuid

    @property
    def json(self) -> bool:
        return self.attr_type.core == "json"

    @property
    def is_blob(self) -> bool:
        return self.attr_type.is_blob

    @property
    def codec(self) -> str | None:
        return self.attr_type.codec

    @property
    def store(self) -> str | None:
        return self.attr_type.store

    @property
    def autoincrement(self) -> bool:
        return self.attr_type.autoincrement

    @property
    def is_hidden(self) -> bool:
        return self.name.startswith("_") and not self.revealed

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype this attribute fetches as: its integer type when not nullable, float64 for
        every float (as DataJoint), bool when not nullable, object otherwise."""
        import numpy as np

        t = self.attr_type
        if t.is_integer and not self.nullable:
            return np.dtype({"int24": "int32", "uint24": "uint32", "year": "uint16"}.get(t.core, t.core))
        if t.core in ("float32", "float64"):
            return np.dtype("float64")
        if t.core == "bool" and not self.nullable:
            return np.dtype(bool)
        return np.dtype(object)

    @property
    def has_default(self) -> bool:
        return self.nullable or self.default is not None or self.autoincrement

    # --- DataJoint 0.14's attribute properties, as the book prints them ---
    @property
    def is_attachment(self) -> bool:
        return self.attr_type.codec == "attach"

    @property
    def is_filepath(self) -> bool:
        return self.attr_type.codec == "filepath"

    @property
    def is_external(self) -> bool:
        """Kept in a store, the table holding only a reference (0.14's ``blob@store``, ``attach@store``)."""
        return self.attr_type.store is not None

    @property
    def adapter(self) -> str | None:
        """The name of the adapted type (``<name>``, a ``dj.AttributeAdapter`` or codec) when it is not
        one of DataJoint's own; 0.14 gave the adapter object, which ``dj.get_codec(name)`` returns."""
        codec = self.attr_type.codec
        return None if codec is None or codec in BUILTIN_CODECS else codec

    @property
    def unsupported(self) -> bool:
        return False  # a column of a type pipejoint cannot read is refused when the table is opened

    @property
    def attribute_expression(self) -> str | None:
        """The SQL a projection computes this attribute with (None for a column)."""
        return self.expression if isinstance(self.expression, str) else None

    @property
    def original_name(self) -> str:
        expression = self.attribute_expression
        if expression is not None and _IDENTIFIER.fullmatch(expression.strip()):
            return expression.strip().strip("`")
        return self.name

    @property
    def sql_type(self) -> str:
        """The column's type as DataJoint declares it on MySQL (``int``, ``varchar(16)``, ``longblob``)."""
        return mysql_spelling(self.attr_type)

    @property
    def sql_comment(self) -> str:
        return (":uuid:" if self.uuid else "") + self.comment

    @property
    def sql(self) -> str:
        """The attribute's column declaration as DataJoint prints it (```name` int NOT NULL COMMENT "..."``),
        in DataJoint's MySQL spelling on every backend; each backend's own DDL is what ``describe``'s table
        was declared with."""
        return f'`{self.name}` {self.sql_type} NOT NULL COMMENT "{self.sql_comment}"'

    def todict(self) -> dict[str, Any]:
        """The properties DataJoint's Attribute namedtuple has, as a dict."""
        return {name: getattr(self, name) for name in ATTRIBUTE_PROPERTIES}

    def to_catalog(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.attr_type.declared,
            "in_key": self.in_key,
            "nullable": self.nullable,
            "default": self.default,
            "comment": self.comment,
            "lineage": self.lineage,
        }

    @classmethod
    def from_catalog(cls, data: Mapping[str, Any]) -> Attribute:
        return cls(
            name=data["name"],
            attr_type=parse_type(data["type"]),
            in_key=data["in_key"],
            nullable=data["nullable"],
            default=data["default"],
            comment=data.get("comment", ""),
            lineage=data.get("lineage"),
        )

    def definition_line(self) -> str:
        """The attribute as a definition line, for describe()."""
        default = ""
        if self.nullable:
            default = " = null"
        elif self.default is not None:
            default = f" = {self.default}"
        comment = f"  # {self.comment}" if self.comment else ""
        return f"{self.name}{default} : {self.attr_type.declared}{comment}"


class Heading:
    """An ordered set of attributes with a primary key."""

    def __init__(self, attributes: Iterable[Attribute], table_comment: str = "") -> None:
        self._attributes = {a.name: a for a in attributes}
        self.table_comment = table_comment
        # A heading never changes: compute the views once (they are read on every query).
        self._visible = {n: a for n, a in self._attributes.items() if not a.is_hidden}
        self._names = tuple(self._visible)
        self._primary_key = tuple(n for n, a in self._visible.items() if a.in_key)
        self._secondary = tuple(n for n, a in self._visible.items() if not a.in_key)
        # data derived from this heading alone (fetch decoders per backend, ...): it lives and dies with the
        # heading, and a table's heading with its catalog record in the connection's bounded cache
        self.cache: dict[Any, Any] = {}

    # --- mapping-like access ---
    def __getitem__(self, name: str) -> Attribute:
        try:
            return self._attributes[name]
        except KeyError:
            raise UnknownAttributeError(
                f"Attribute `{name}` is not in the heading. Available: {', '.join(self.names)}."
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._attributes

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __bool__(self) -> bool:
        return bool(self._attributes)

    @property
    def attributes(self) -> Mapping[str, Attribute]:
        """Visible attributes by name (hidden ones, starting with `_`, are left out). Read-only."""
        return self._visible

    @property
    def all_attributes(self) -> dict[str, Attribute]:
        return dict(self._attributes)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    @property
    def primary_key(self) -> list[str]:
        return list(self._primary_key)

    @property
    def secondary_attributes(self) -> list[str]:
        return list(self._secondary)

    @property
    def blobs(self) -> list[str]:
        return [n for n, a in self.attributes.items() if a.is_blob]

    @property
    def non_blobs(self) -> list[str]:
        return [n for n, a in self.attributes.items() if not a.is_blob]

    @property
    def as_dtype(self) -> np.dtype:
        """A numpy structured dtype with one field per visible attribute, as fetch builds its arrays."""
        import numpy as np

        return np.dtype([(name, attr.dtype) for name, attr in self.attributes.items()])

    def select(self, names: Iterable[str]) -> Heading:
        """A heading of only the named attributes, in the given order."""
        return Heading([self[n] for n in names], self.table_comment)

    def set_primary_key(self, key_names: Iterable[str]) -> Heading:
        """A copy whose primary key is exactly `key_names` (used by join, U and aggregation)."""
        key = set(key_names)
        ordered = list(key_names) + [n for n in self._attributes if n not in key]
        return Heading([replace(self._attributes[n], in_key=n in key) for n in ordered], self.table_comment)

    def to_catalog(self) -> list[dict[str, Any]]:
        return [a.to_catalog() for a in self._attributes.values()]

    @classmethod
    def from_catalog(cls, data: Iterable[Mapping[str, Any]], table_comment: str = "") -> Heading:
        return cls([Attribute.from_catalog(d) for d in data], table_comment)

    def __repr__(self) -> str:
        lines = [f"# {self.table_comment}"] if self.table_comment else []
        keys = [a for a in self.attributes.values() if a.in_key]
        rest = [a for a in self.attributes.values() if not a.in_key]
        lines += [a.definition_line() for a in keys] + ["---"] + [a.definition_line() for a in rest]
        return "\n".join(lines)
