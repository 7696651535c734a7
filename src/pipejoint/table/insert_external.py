"""The ``~external_<store>`` rows of DataJoint 0.14 store values, written as 0.14 wrote them.

An insert into a 0.14 table with ``blob@store``, ``attach@store`` or ``filepath@store``
attributes encodes its values through ``storage.legacy``, which uploads the objects and collects
one ``~external`` row per object. Those rows are written here, after the uploads and before the
rows that refer to them (their foreign keys require it), in the insert's transaction: if the
insert fails, they go with it. An object already tracked keeps its row (its timestamp renewed,
as 0.14 did); a filepath's row is looked up first, since 0.14 keeps one content per path.
"""

from __future__ import annotations

import contextlib

from sqlglot import exp

from ..core.types import parse_type
from ..query.compiler import Context, finish
from ..query.legacy import external_rows
from ..storage import legacy
from .insert_encoding import writes_014_objects

_COLUMNS = ("hash", "size", "attachment_name", "filepath", "contents_hash")
_UUID = parse_type("uuid")


def tracking(table):
    """The block in which the table's 0.14 store values are encoded (nothing for other tables)."""
    if not writes_014_objects(table.heading):
        return contextlib.nullcontext()
    connection = table._connection

    def lookup(schema, store, hash_uuid):
        return external_rows(connection, schema, store, [hash_uuid]).get(hash_uuid)

    return legacy.tracking(lookup, config=connection.config)


def write_tracked(connection):
    """Write the ``~external`` rows collected so far (call after the uploads, before the rows)."""
    groups = {}
    for entry in legacy.take_tracked():
        groups.setdefault((entry.schema, entry.store, entry.filepath is None), []).append(entry)
    backend = connection.backend
    encode_uuid = backend.encoder(_UUID) or (lambda v: v)
    for (schema, store, shared), group in groups.items():
        sql = _insert_statement(connection, schema, store, shared)
        rows = [
            (
                encode_uuid(e.hash),
                e.size,
                e.attachment_name,
                e.filepath,
                None if e.contents_hash is None else encode_uuid(e.contents_hash),
            )
            for e in group
        ]
        connection.executemany(sql, rows)


def _insert_statement(connection, schema, store, shared):
    """INSERT of ~external rows; with ``shared`` (blobs, attachments) a hash already there only
    renews its timestamp (0.14's ``ON DUPLICATE KEY UPDATE timestamp=CURRENT_TIMESTAMP``)."""
    cache_key = ("insert ~external", schema, store, shared)
    sql = connection.cache.get(cache_key)
    if sql is not None:
        return sql
    backend = connection.backend
    ctx = Context()
    names = [*_COLUMNS, "timestamp"]
    target = exp.Schema(
        this=backend.table(schema, legacy.EXTERNAL_PREFIX + store),
        expressions=[exp.to_identifier(n, quoted=True) for n in names],
    )
    values = [ctx.param() for _ in _COLUMNS] + [exp.CurrentTimestamp()]
    statement = exp.Insert(this=target, expression=exp.Values(expressions=[exp.Tuple(expressions=values)]))
    if shared:
        statement.set("conflict", backend.on_conflict("replace", ["hash"], ["timestamp"]))
    return connection.cache.put(cache_key, finish(backend, statement, ctx).sql)
