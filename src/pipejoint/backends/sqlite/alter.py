"""Changing a table on SQLite: the rebuild of https://www.sqlite.org/lang_altertable.html
("Making Other Kinds Of Table Schema Changes"), since its ALTER TABLE changes no column type,
default, nullability or constraint.

With foreign keys off (outside the transaction: the pragma is a no-op inside one), in one
transaction: create the new table under a temporary name, copy the rows, drop the old table,
rename the new one (references from other tables name the table, so they now point at it),
create its indexes, and check every foreign key from and to it with PRAGMA foreign_key_check
before committing. STRICT types and the new CHECK constraints refuse values the new type cannot
hold, which rolls the whole change back.
"""

from __future__ import annotations


def _name(schema, table_name):
    return '"' + f"{schema}.{table_name}".replace('"', '""') + '"'


def alter_statements(backend, schema, table_name, rebuild):
    q = backend.quote
    old, new = _name(schema, table_name), _name(schema, rebuild.temporary)
    columns = ", ".join(q(name) for name, _ in rebuild.copy)
    sources = ", ".join(source for _, source in rebuild.copy)
    return [
        f"DROP TABLE IF EXISTS {new}",
        rebuild.create,
        f"INSERT INTO {new} ({columns}) SELECT {sources} FROM {old} AS t",
        f"DROP TABLE {old}",
        f"ALTER TABLE {new} RENAME TO {q(f'{schema}.{table_name}')}",
        *rebuild.after,
    ]


def foreign_key_violations(conn, schema, table_name):
    """(table, rowid, parent) of rows breaking a foreign key in the table or in a table referring to it."""
    stored = f"{schema}.{table_name}"
    children = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT m.name FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f "
            "WHERE m.type = 'table' AND f.\"table\" = ?",
            (stored,),
        ).fetchall()
    ]
    found = []
    for name in dict.fromkeys([stored, *children]):
        found += conn.execute(f"PRAGMA foreign_key_check({_name(*name.split('.', 1))})").fetchall()
    return [tuple(row[:3]) for row in found]
