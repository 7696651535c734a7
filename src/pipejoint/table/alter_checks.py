"""Refuse, don't invent: the changes alter() will not make to the rows a table holds.

Before any DDL runs, each change the data cannot take is looked for in the table: a required
attribute with no default (MariaDB would fill it with '' or 0), a type or nullability that stored
values do not fit, a foreign key that rows violate, a unique index over repeated values. Each
refusal names the table, the attribute, a few blocking rows (their keys) and their count, and the
fix; the database is left as it was. The databases would refuse some of these themselves, with
messages that name no rows; others (MySQL outside strict mode) they would carry out by changing
the values.
"""

from __future__ import annotations

from sqlglot import exp

from ..errors import DuplicateIndexError, ForeignKeyViolationError, MissingDefaultError, NarrowingError

SAMPLE = 5


class _Table:
    """The altered table as the checks query it (under alias `t`)."""

    def __init__(self, connection, record):
        self.connection = connection
        self.backend = connection.backend
        self.name = self.backend.full_table_name(record.schema, record.table_name)
        self.node = f"`{record.schema}`.`{record.table_name}`"
        self.key = [n for n, a in record.heading.all_attributes.items() if a.in_key]

    def q(self, name):
        return self.backend.quote(name)

    def count(self, where="1 = 1"):
        return self.connection.execute(f"SELECT COUNT(*) FROM {self.name} AS t WHERE {where}").fetchone()[0]

    def blocking(self, where):
        """(count, a few keys as dicts) of the rows matching `where`."""
        count = self.count(where)
        if not count:
            return 0, []
        columns = ", ".join(f"t.{self.q(k)}" for k in self.key)
        order = ", ".join(f"t.{self.q(k)}" for k in self.key)
        rows = self.connection.execute(
            f"SELECT {columns} FROM {self.name} AS t WHERE {where} ORDER BY {order} LIMIT {SAMPLE}"
        ).fetchall()
        return count, [dict(zip(self.key, row)) for row in rows]


def _rows(count, keys, verb=""):
    """`3 rows (e.g. {...}, {...}) hold`: the count, a few keys, and the verb agreeing with them."""
    shown = ", ".join(str(k) for k in keys)
    verb = f" {verb if count != 1 else verb + 's'}" if verb else ""
    return f"{count} row{'s' if count != 1 else ''} (e.g. {shown}){verb}"


def check_plan(connection, plan, source):
    """Raise the refusal for the first change the table's rows cannot take. `source` maps the
    definition's attribute names to the table's (renames)."""
    table = _Table(connection, plan.record)
    _check_added(table, plan)
    for change in plan.changed:
        _check_changed(table, change)
    for fk in plan.foreign_keys_added:
        _check_foreign_key(table, fk, source, {a.name for a in plan.added})
    for index in plan.indexes_added:
        if index.unique:
            _check_unique(table, index, source, {a.name: a for a in plan.added})


def _check_added(table, plan):
    required = [a for a in plan.added if not a.nullable and a.default is None and not a.autoincrement]
    if not required:
        return
    count, keys = table.blocking("1 = 1")
    if not count:
        return
    attr = required[0]
    copied = attr.name in plan.spec.copied
    fix = (
        "Declare the foreign key `-> [nullable] ...` first, fill it in every row (update1), then remove "
        "[nullable] and alter() again."
        if copied
        else f"Give it a default (`{attr.name} = <value> : {attr.type}`) or make it nullable "
        f"(`{attr.name} = null : {attr.type}`), fill it in every row (update1), then make it required "
        "with another alter()."
    )
    raise MissingDefaultError(
        f"Table {table.node}: cannot add the required attribute `{attr.name}` ({attr.type}) without a default: "
        f"the table holds {_rows(count, keys)} that would need a value. {fix} Nothing was changed."
    )


def _narrowing_condition(table, old, new):
    """SQL matching rows whose value of the old column the new type cannot hold, or None."""
    column = f"t.{table.q(old.name)}"
    was, t = old.attr_type, new.attr_type
    if t.is_integer and (was.is_numeric or was.core == "bool"):
        low, high = t.integer_range
        condition = f"{column} < {low} OR {column} > {high}"
        if not was.is_integer and was.core != "bool":
            condition += f" OR {column} <> FLOOR({column})"
        return condition
    if t.core == "decimal" and was.is_numeric:
        bound = 10 ** (t.precision - t.scale)
        condition = f"ABS({column}) >= {bound}"
        if t.unsigned:
            condition += f" OR {column} < 0"
        return condition
    if t.core in ("float32", "float64") and t.unsigned and was.is_numeric:
        return f"{column} < 0"
    if t.core in ("char", "varchar") and (was.is_string or was.core == "enum"):
        length = exp.Length(this=exp.column(old.name, table="t", quoted=True)).sql(dialect=table.backend.dialect)
        return f"{length} > {t.length}"
    if t.core == "enum" and (was.is_string or was.core == "enum"):
        as_text = exp.Cast(this=exp.column(old.name, table="t", quoted=True), to=exp.DataType.build("text"))
        inside = exp.In(this=as_text, expressions=[exp.Literal.string(v) for v in t.values])  # enums compare as text
        return exp.Not(this=inside).sql(dialect=table.backend.dialect)
    return None


def _check_changed(table, change):
    old, new = change.old, change.new
    if change.nullable and not new.nullable:
        count, keys = table.blocking(f"t.{table.q(old.name)} IS NULL")
        if count:
            raise NarrowingError(
                f"Table {table.node}: attribute `{new.name}` cannot become required: {_rows(count, keys, 'hold')} "
                f"no value (NULL) in it. Fill those rows first (update1), or keep `{new.name}` nullable "
                "(`= null`). Nothing was changed."
            )
    if change.type:
        condition = _narrowing_condition(table, old, new)
        if condition is None:
            return
        count, keys = table.blocking(f"({condition})")
        if count:
            raise NarrowingError(
                f"Table {table.node}: attribute `{new.name}` cannot change from {old.type} to {new.type}: "
                f"{_rows(count, keys, 'hold')} values that {new.type} cannot store. Change those values first "
                f"(update1), or choose a type wide enough for them. Nothing was changed."
            )


def _check_foreign_key(table, fk, source, added):
    if any(child in added for child in fk.attr_map):
        return  # new columns: nullable (all NULL) or refused as required above
    backend = table.backend
    parent = backend.full_table_name(fk.parent_schema, fk.parent_table)
    pairs = [(source.get(child, child), parent_attr) for child, parent_attr in fk.attr_map.items()]
    present = " AND ".join(f"t.{table.q(c)} IS NOT NULL" for c, _ in pairs)
    match = " AND ".join(f"p.{table.q(p)} = t.{table.q(c)}" for c, p in pairs)
    count, keys = table.blocking(f"{present} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {match})")
    if count:
        columns = ", ".join(
            f"`{child}`" if source.get(child, child) == child else f"`{child}` (now `{old}`)"
            for child, old in zip(fk.attr_map, (c for c, _ in pairs))
        )
        raise ForeignKeyViolationError(
            f"Table {table.node}: cannot add the foreign key ({columns}) -> `{fk.parent_schema}`.`{fk.parent_table}`: "
            f"{_rows(count, keys, 'refer')} to no row of the parent. Insert the missing parent rows, or change or "
            "delete those rows, then alter() again. Nothing was changed."
        )


def _check_unique(table, index, source, added):
    new_columns = [a for a in index.attributes if a in added]
    if any(added[a].nullable for a in new_columns):
        return  # NULLs never collide
    columns = [source.get(a, a) for a in index.attributes if a not in added]
    names = ", ".join(index.attributes)
    if not columns:
        count, keys = table.blocking("1 = 1")
        duplicated = count if count > 1 else 0
    else:
        grouped = ", ".join(f"t.{table.q(c)}" for c in columns)
        present = " AND ".join(f"t.{table.q(c)} IS NOT NULL" for c in columns)
        groups = f"SELECT {grouped} FROM {table.name} AS t WHERE {present} GROUP BY {grouped} HAVING COUNT(*) > 1"
        match = " AND ".join(f"d.{table.q(c)} = t.{table.q(c)}" for c in columns)
        duplicated, keys = table.blocking(f"EXISTS (SELECT 1 FROM ({groups}) AS d WHERE {match})")
    if duplicated:
        raise DuplicateIndexError(
            f"Table {table.node}: cannot add the unique index ({names}): {_rows(duplicated, keys, 'repeat')} the "
            f"same values of ({names}). Make the values unique first (update1 or delete), or declare a plain "
            "`index (...)`. Nothing was changed."
        )
