"""Why an insert failed, in words the user can act on.

A bad value names the table, the row and the attribute (``row_error``). When the database refuses
rows, its message alone does not say which row: ``duplicate_error`` finds the repeated key among
the rows sent or in the table, ``integrity_error`` the parent row that is missing.
"""

from __future__ import annotations

from ..errors import DuplicateError, IntegrityError


def row_error(cls, table, row_index, attr_name, message, fix=""):
    """An error of class ``cls`` about one value: the table, the row (``None``: the only one), the attribute."""
    where = f"row {row_index}" if row_index is not None else "the row"
    return cls(
        f"Cannot insert into {table.node_name}, {where}, attribute `{attr_name}`: {message}.{(' ' + fix) if fix else ''}"
    )


def integrity_error(connection, plan, rows, indices, error, lookup):
    """An IntegrityError that names the row, the foreign key attributes and the parent missing.

    The parents are looked up where the connection can still run a query (PostgreSQL aborts the
    transaction on a single failed row); otherwise every foreign key the row could violate is named.
    """
    table = plan.table
    try:
        foreign_keys = list(table._record.foreign_keys)
    except Exception:
        foreign_keys = []
    fix = "Insert the parent rows first, or correct the values of these attributes."
    candidates = []  # (row index, fk, values)
    for fk in foreign_keys:
        if not all(c in plan.names for c in fk.attr_map):
            continue
        positions = [plan.names.index(c) for c in fk.attr_map]
        for index, row in zip(indices, rows):
            values = [row[p] for p in positions]
            if any(v is None for v in values):
                continue
            candidates.append((index, fk, values))
    missing = []
    if lookup and candidates:
        try:
            for index, fk, values in candidates:
                condition = " AND ".join(
                    f"{connection.backend.quote(p)} = {connection.backend.placeholder}" for p in fk.attr_map.values()
                )
                sql = (
                    f"SELECT 1 FROM {connection.backend.full_table_name(fk.parent_schema, fk.parent_table)} "
                    f"WHERE {condition}"
                )
                if connection.execute(sql, values, reconnect=False).fetchone() is None:
                    missing.append((index, fk, values))
                    break
        except Exception:
            missing = []
    if not missing and len(rows) == 1:
        missing = candidates
    if not missing:
        return IntegrityError(
            f"Cannot insert into {table.node_name}: {error}. Check the foreign key attributes "
            f"({', '.join(c for fk in foreign_keys for c in fk.attr_map) or 'none'}): {fix}"
        )
    parts = [
        f"no row of `{fk.parent_schema}`.`{fk.parent_table}` has {_key_text(list(fk.attr_map.values()), values)}"
        f" (attribute{'s' if len(fk.attr_map) > 1 else ''} {', '.join(f'`{c}`' for c in fk.attr_map)})"
        for _, fk, values in missing
    ]
    return IntegrityError(f"Cannot insert into {table.node_name}, row {missing[0][0]}: {' or '.join(parts)}. {fix}")


def duplicate_error(connection, plan, rows, indices, error, lookup):
    """A DuplicateError that names the key: found among the rows sent, else in the table."""
    table = plan.table
    key_names = table.heading.primary_key
    fix = "Pass skip_duplicates=True to keep the existing rows, or replace=True to overwrite them."
    if not all(k in plan.names for k in key_names):
        return DuplicateError(f"Cannot insert into {table.node_name}: {error}. {fix}")
    positions = [plan.names.index(k) for k in key_names]
    seen = {}
    for index, row in zip(indices, rows):
        key = tuple(row[p] for p in positions)
        if key in seen:
            return DuplicateError(
                f"Cannot insert into {table.node_name}: rows {seen[key]} and {index} have the same primary key "
                f"{_key_text(key_names, key)}. {fix}"
            )
        seen[key] = index
    if len(rows) == 1:
        key = tuple(rows[0][p] for p in positions)
        return DuplicateError(
            f"Cannot insert into {table.node_name}, row {indices[0]}: the primary key "
            f"{_key_text(key_names, key)} is already in the table. {fix}"
        )
    try:  # a key already in the table
        if not lookup:
            raise LookupError
        for index, row in zip(indices, rows):
            key = tuple(row[p] for p in positions)
            condition = " AND ".join(
                f"{connection.backend.quote(k)} = {connection.backend.placeholder}" for k in key_names
            )
            sql = f"SELECT 1 FROM {connection.backend.full_table_name(table.database, table.table_name)} WHERE {condition}"
            if connection.execute(sql, list(key), reconnect=False).fetchone() is not None:
                return DuplicateError(
                    f"Cannot insert into {table.node_name}, row {index}: the primary key {_key_text(key_names, key)} "
                    f"is already in the table. {fix}"
                )
    except Exception:
        pass
    return DuplicateError(f"Cannot insert into {table.node_name}: {error}. {fix}")


def _key_text(names, values):
    return "{" + ", ".join(f"{n!r}: {v!r}" for n, v in zip(names, values)) + "}"
