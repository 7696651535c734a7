"""Fetching DataJoint 0.14's store attributes (``blob@store``, ``attach@store``, ``filepath@store``,
and adapted types over them).

Such a column holds a hash; the schema's ``~external_<store>`` table says what it refers to
(an attachment's name, a filepath and its checksum). A column's hashes are looked up in one
query (per ``LOOKUP_BATCH`` hashes), before the objects are read from the store in parallel, so
no query runs on the transfer threads. The rows are read through the compiler like any query.
"""

from __future__ import annotations

import uuid

from ..core.heading import Attribute, Heading
from ..core.types import parse_type
from ..errors import DataJointError
from ..storage import legacy
from ..storage.codecs import resolve
from ..storage.codecs.pipeline import download_folder
from .compiler import compile_query
from .nodes import Column, Source
from .relation import Relation
from .restriction import make_condition

LOOKUP_BATCH = 500

_EXTERNAL_HEADING = Heading(
    [
        Attribute("hash", parse_type("uuid"), in_key=True),
        Attribute("size", parse_type("bigint unsigned")),
        Attribute("attachment_name", parse_type("varchar(255)"), nullable=True, default="null"),
        Attribute("filepath", parse_type("varchar(1000)"), nullable=True, default="null"),
        Attribute("contents_hash", parse_type("uuid"), nullable=True, default="null"),
    ],
    "external storage tracking (DataJoint 0.14)",
)


def external_table(connection, schema, store):
    """The relation of ``schema``.``~external_<store>`` (its layout is fixed by DataJoint 0.14)."""
    relation = Relation()
    relation._connection = connection
    relation._heading = _EXTERNAL_HEADING
    relation._sources = (Source(schema, legacy.EXTERNAL_PREFIX + store),)
    relation._columns = {name: Column(0, name) for name in _EXTERNAL_HEADING.names}
    return relation


def external_rows(connection, schema, store, hashes):
    """{hash: ~external row} for the given hashes (uuids)."""
    wanted = list(dict.fromkeys(hashes))
    names = _EXTERNAL_HEADING.names
    uuid_decoder = connection.backend.decoder(_EXTERNAL_HEADING["hash"].attr_type)
    rows = {}
    table = external_table(connection, schema, store)
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start : start + LOOKUP_BATCH]
        query = table._with_condition(make_condition([{"hash": h} for h in batch], table, semantic_check=False))
        compiled = compile_query(query)
        for values in connection.execute(compiled.sql, compiled.arguments(query)).fetchall():
            row = dict(zip(names, values))
            for name in ("hash", "contents_hash"):
                if row[name] is not None and uuid_decoder is not None:
                    row[name] = uuid_decoder(row[name])
            rows[row["hash"]] = row
    return rows


class ExternalDecoder:
    """Decodes one 0.14 store column: fn(hash bytes) -> value; ``prepare(values)`` looks up a whole
    column's hashes at once and returns the function for its values."""

    parallel = True  # objects are read on the transfer pool, after prepare()

    def __init__(self, connection, attr, squeeze=False):
        self.connection = connection
        self.attr = attr
        self.squeeze = squeeze
        self.schema = legacy.external_schema(attr.attr_type)
        try:
            links = resolve(attr.codec, attr.store).links
        except DataJointError as error:  # an adapter that is not defined here fails on first use
            self.error = error
            return
        self.error = None
        position = next((i for i, (_, store) in enumerate(links) if store is not None), None)
        if position is None or links[position][0].name not in legacy.EXTERNAL_KINDS:
            self.error = DataJointError(
                f"`{attr.name}` ({attr.type}) is a DataJoint 0.14 store attribute, but its type resolves to no "
                f"blob@, attach@ or filepath@ store type: check the adapter's attribute_type."
            )
            return
        codec, self.store = links[position]
        self.kind = codec.name
        self.outer = [c for c, _ in reversed(links[:position])]  # adapters, applied innermost first

    def _check(self):
        if self.error is not None:
            raise type(self.error)(f"Cannot decode `{self.attr.name}`: {self.error}") from None

    def prepare(self, values):
        self._check()
        hashes = [uuid.UUID(bytes=bytes(v)) for v in values]
        rows = external_rows(self.connection, self.schema, self.store, hashes)
        download_path = download_folder()
        return lambda value: self._decode(value, rows, download_path)

    def __call__(self, value):
        return self.prepare([value])(value)

    def _decode(self, value, rows, download_path):
        hash_uuid = uuid.UUID(bytes=bytes(value))
        obj = legacy.read_object(
            self.kind,
            self.store,
            self.schema,
            hash_uuid,
            rows.get(hash_uuid),
            squeeze=self.squeeze,
            download_path=download_path,
            config=self.connection.config,
        )
        if self.outer:
            key = {"_field": self.attr.name, "_squeeze": self.squeeze, "_download_path": download_path}
            key["_config"] = self.connection.config
            for codec in self.outer:
                obj = codec.decode(obj, key=key)
        return obj
