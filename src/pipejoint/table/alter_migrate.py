"""Migrations beyond alter(): renaming tables, shown as a plan before they run.

`schema.migrate(rename={"Session": "Recording"})` returns a Migration; `plan()` gives the
statements and the rows of every table they touch (the renamed tables, their parts and their
jobs tables, and the tables whose foreign keys refer to them), `apply()` runs them. The
foreign keys of dependent tables follow a renamed table on every backend (SQLite rewrites them,
the servers keep them by identity); the metadata follows too: ``~lineage`` (the table's own rows,
and every lineage in the database that names the table as an origin), SQLite's ``~comments``,
an earlier pipejoint's ``~catalog``. Row counts are compared before and after, inside the
transaction, where DDL is transactional (PostgreSQL, SQLite); MySQL commits each RENAME by
itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..backends.session import require_no_transaction
from ..catalog.lineage import LINEAGE_TABLE
from ..catalog.records import CATALOG_TABLE, read_schema, rewrite_record
from ..core.naming import PART_SEPARATOR, class_name_to_table_name, node_name, split_node, tier_of
from ..errors import AlterError, DataJointError
from .prompt import ask_yes_no

logger = logging.getLogger("pipejoint")
COMMENTS_TABLE = "~comments"


@dataclass
class MigrationPlan:
    statements: list = field(default_factory=list)
    rows: dict = field(default_factory=dict)  # node name -> rows, before
    renames: dict = field(default_factory=dict)  # old table name -> new table name
    after: list = field(default_factory=list)  # metadata statements (comments) after the DDL

    def __str__(self):
        lines = [f"rename {old} -> {new}" for old, new in self.renames.items()]
        lines += [f"{n}: {c} rows" for n, c in self.rows.items()]
        return "\n".join(lines + [s + ";" for s in self.statements])


class Migration:
    """Renames of tables of one schema (see the module docstring)."""

    def __init__(self, schema, rename=None, key=None, context=None):
        self.schema = schema
        self.connection = schema.connection
        self.requested = dict(rename or {})
        self.key = list(key or [])
        self.context = context or {}
        self._entries = None

    # --- what changes ---
    def _renames(self):
        """{old table name: new table name}, parts following their masters."""
        records = read_schema(self.connection, self.schema.database)
        result = {}
        for old, new in self.requested.items():
            old_name = self._table_name(old, records)
            prefix = old_name[: len(old_name) - len(old_name.lstrip("#_"))]
            if isinstance(new, type):
                new_name = (
                    new().table_name if new._schema is not None else prefix + class_name_to_table_name(new.__name__)
                )
            elif new[:1].isupper():
                new_name = prefix + class_name_to_table_name(new)
            else:
                new_name = new
            if new_name in records:
                raise DataJointError(
                    f"Cannot rename `{old_name}` to `{new_name}` in schema `{self.schema.database}`: a table of that "
                    "name exists. Choose another name."
                )
            if tier_of(new_name) != tier_of(old_name):
                raise DataJointError(
                    f"Cannot rename `{old_name}` to `{new_name}`: the new name changes the table's tier (its prefix). "
                    f"Keep the prefix `{prefix}`."
                )
            result[old_name] = new_name
            for part in records:
                if part.startswith(old_name + PART_SEPARATOR):
                    result[part] = new_name + part[len(old_name) :]
        return result

    def _table_name(self, name, records):
        if isinstance(name, type):
            name = name.__name__
        if name in records:
            return name
        found = [t for t, r in records.items() if r.class_name == name]
        if not found:
            raise DataJointError(
                f"Schema `{self.schema.database}` has no table or class `{name}` to rename. "
                f"Its tables: {', '.join(sorted(records))}."
            )
        return found[0]

    def plan(self):
        """The MigrationPlan: the statements, and the rows of every table touched. Refusals of a key
        change (alter_keys.py) are raised here, before anything runs."""
        connection, database = self.connection, self.schema.database
        backend = connection.backend
        renames = self._renames()
        tables = backend.list_tables(connection, database)
        statements = []
        for old, new in renames.items():
            statements.append(backend.rename_table_statement(database, old, new))
            jobs_old, jobs_new = "~~" + old.lstrip("_"), "~~" + new.lstrip("_")
            if jobs_old in tables:
                statements.append(backend.rename_table_statement(database, jobs_old, jobs_new))
        plan = MigrationPlan(statements, {}, renames)
        graph = connection.dependencies
        graph.load(force=False)
        touched = []
        for old in renames:
            touched.append(node_name(database, old))
            touched += [n for n in graph.children(node_name(database, old)) if n not in touched]
        self._entries = []
        if self.key:
            from .alter_keys import check_entries, key_entries, key_statements

            for cls in self.key:
                table = cls() if isinstance(cls, type) else cls
                entries = key_entries(table, table._alter_context(dict(self.context)))
                check_entries(connection, entries)
                self._entries += entries
            sql, after = key_statements(connection, self._entries)
            plan.statements += sql
            plan.after = after
            touched += [node_name(e.spec.schema, e.spec.table_name) for e in self._entries]
        for node in dict.fromkeys(touched):
            schema, table = split_node(node)
            plan.rows[node] = _count(connection, schema, table)
        return plan

    # --- doing it ---
    def apply(self, prompt=True):
        """Run the plan in one transaction (where DDL is transactional), check that every touched
        table holds as many rows as before, and update the metadata."""
        connection = self.connection
        require_no_transaction(connection, "A migration")
        plan = self.plan()
        if prompt and not ask_yes_no(f"Migrate schema `{self.schema.database}`:\n{plan}\n\nExecute?"):
            logger.info("Migration declined: nothing was changed.")
            return None
        database = self.schema.database
        backend = connection.backend
        before, finally_ = backend.alter_outside_transaction() if self._entries else ([], [])
        for statement in before:
            connection.execute(statement)
        try:
            with connection.transaction:
                for statement in plan.statements:
                    connection.execute(statement)
                for entry in self._entries:
                    violations = backend.foreign_key_violations(connection, entry.spec.schema, entry.spec.table_name)
                    if violations:
                        raise AlterError(
                            f"Migration of schema `{database}`: {len(violations)} rows would break a foreign key "
                            f"(e.g. {violations[:3]}). The migration was rolled back."
                        )
                for statement in plan.after:
                    connection.execute(statement)
                for entry in self._entries:
                    r = entry.record
                    rewrite_record(connection, entry.spec, r.tier, r.class_name, r.definition)
                _rewrite_metadata(connection, database, plan.renames)
                renamed = {node_name(database, o): node_name(database, n) for o, n in plan.renames.items()}
                for node, before in plan.rows.items():
                    schema, table = split_node(renamed.get(node, node))
                    after = _count(connection, schema, table)
                    if after != before:
                        raise AlterError(
                            f"Migration of schema `{database}`: {node} held {before} rows before and {after} after. "
                            "The migration was rolled back."
                        )
        finally:
            for statement in finally_:
                connection.execute(statement)
            connection.catalog_cache_clear()
        return plan


def _count(connection, schema, table):
    return connection.execute(f"SELECT COUNT(*) FROM {connection.backend.full_table_name(schema, table)}").fetchone()[0]


def _rewrite_metadata(connection, database, renames):
    """~lineage (everywhere the renamed tables are an origin), ~comments, an earlier ~catalog."""
    backend = connection.backend
    p = backend.placeholder
    tables = backend.list_tables(connection, database)
    for meta in (LINEAGE_TABLE, COMMENTS_TABLE, CATALOG_TABLE):
        if meta in tables and (meta != COMMENTS_TABLE or backend.keeps_comments_table):
            full = backend.full_table_name(database, meta)
            for old, new in renames.items():
                connection.execute(f"UPDATE {full} SET table_name = {p} WHERE table_name = {p}", (new, old))
    if not backend.keeps_lineage_table:
        return
    prefixes = {f"{database}.{old}.": f"{database}.{new}." for old, new in renames.items()}
    for schema in backend.list_schemas(connection):
        if LINEAGE_TABLE not in backend.list_tables(connection, schema):
            continue
        full = backend.full_table_name(schema, LINEAGE_TABLE)
        rows = connection.execute(f"SELECT table_name, attribute_name, lineage FROM {full}").fetchall()
        for table_name, attribute, lineage in rows:
            for old, new in prefixes.items():
                if lineage and lineage.startswith(old):
                    connection.execute(
                        f"UPDATE {full} SET lineage = {p} WHERE table_name = {p} AND attribute_name = {p}",
                        (new + lineage[len(old) :], table_name, attribute),
                    )
