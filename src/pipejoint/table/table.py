"""Base tables: declaration, introspection, drop. Data operations live in insert.py and delete.py.

A Table is a QueryExpression over one stored table. Its heading comes from the catalog, so a
class is only needed to declare a table, not to use one (see FreeTable and VirtualModule).
"""

from __future__ import annotations

import inspect
import logging
import re
import warnings
from typing import TYPE_CHECKING, Any, overload

from ..backends.session import require_no_transaction
from ..catalog.conventions import definition_text
from ..catalog.legacy import is_014_schema
from ..catalog.records import delete_record, ensure_lineage, read_record, write_record
from ..core.hints import class_level, class_level_property
from ..core.naming import (
    TIER_PREFIXES,
    class_name_to_table_name,
    master_node,
    master_of,
    node_name,
    split_full_name,
    split_node,
    table_name_to_class_name,
)
from ..definition.parser import parse_definition
from ..errors import DataJointError, DeclarationError, MissingTableError
from ..query.expression import QueryExpression
from ..query.nodes import Column, Source
from .context_names import class_name_in
from .declare import resolve_reference
from .prompt import ask_yes_no

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from typing import Literal, TypeVar

    import numpy as np
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from ..catalog.connection import Connection
    from ..core.hints import Row
    from ..query.restriction import Not, Restriction, Top
    from .insert_validate import ValidationResult

    _Table = TypeVar("_Table")  # a table class's instances (mypy takes no bound on a metaclass's self type)

logger = logging.getLogger("pipejoint")

# Names that also work on the class itself (`Session.insert1(...)`), as in DataJoint.
CLASS_LEVEL = {
    "key_source",
    "describe",
    "heading",
    "populate",
    "progress",
    "primary_key",
    "proj",
    "aggr",
    "aggregate",
    "join",
    "extend",
    "fetch",
    "fetch1",
    "to_dicts",
    "to_pandas",
    "to_arrays",
    "to_polars",
    "to_arrow",
    "keys",
    "head",
    "tail",
    "descendants",
    "ancestors",
    "parts",
    "parents",
    "children",
    "insert",
    "insert1",
    "update1",
    "alter",
    "drop",
    "drop_quick",
    "delete",
    "delete_quick",
    "restrict",
    "full_table_name",
    "is_declared",
    "make_sql",
    "cursor",
    "jobs",
    "preview",
    "validate",
    "insert_dataframe",
    "table_name",
    "node_name",
    "database",
    "connection",
    "job_metadata",
    "_repr_html_",
    "master",
}


def _is_tier_base(cls):
    """pipejoint's own tier classes (dj.Lookup, dj.Manual): no table, so their attributes stay plain
    (help() and inspect read them)."""
    return type.__getattribute__(cls, "_schema") is None and type.__getattribute__(cls, "__module__").startswith(
        "pipejoint."
    )


class TableMeta(type):
    """Lets table classes be used where instances are: `Session & key`, `Session.insert1(row)`."""

    def __getattribute__(cls, name: str) -> Any:
        if name in CLASS_LEVEL and not _is_tier_base(cls):
            return getattr(cls(), name)
        return super().__getattribute__(name)

    def _shared(cls: Any) -> Any:  # (Any: the operators below pass their `type[_Table]` self)
        """The instance that class-level restrictions start from (`Session & key`). It is kept with
        the class, so its heading is read from the catalog once, and replaced when the connection's
        catalog has changed since (a table declared or dropped)."""
        table = type.__getattribute__(cls, "_shared_instance")  # may be a base class's: checked below
        if type(table) is not cls or table._catalog_version != table._connection.catalog_version:
            table = cls()
            table._catalog_version = table._connection.catalog_version
            type.__setattr__(cls, "_shared_instance", table)
        return table

    @overload
    def __and__(cls, restriction: Top) -> QueryExpression: ...
    @overload
    def __and__(cls: type[_Table], restriction: Restriction) -> _Table: ...
    def __and__(cls, restriction: Restriction | Top) -> Any:
        return TableMeta._shared(cls) & restriction

    def __sub__(cls: type[_Table], restriction: Restriction) -> _Table:
        return TableMeta._shared(cls) - restriction

    def __mul__(cls, other: QueryExpression | type[QueryExpression]) -> QueryExpression:
        return cls() * other

    def __rmul__(cls, other: QueryExpression) -> QueryExpression:
        return other * cls()

    def __matmul__(cls, other: QueryExpression | type[QueryExpression]) -> QueryExpression:
        return cls() @ other

    def __rmatmul__(cls, other: QueryExpression) -> QueryExpression:
        return other @ cls()

    @overload
    def __xor__(cls, restriction: Top) -> QueryExpression: ...
    @overload
    def __xor__(cls: type[_Table], restriction: Restriction) -> _Table: ...
    def __xor__(cls, restriction: Restriction | Top) -> Any:
        return cls() ^ restriction

    def __add__(cls, other: QueryExpression | type[QueryExpression]) -> QueryExpression:
        return cls() + other

    def __iter__(cls) -> Iterator[dict[str, Any]]:
        return iter(cls())

    def __len__(cls) -> int:
        return len(cls())

    def __contains__(cls, item: Restriction) -> bool:
        return item in cls()

    def __neg__(cls) -> Not:
        return -cls()


class _KeptOnInstance:
    """A value computed on first use, then kept as a plain attribute of the instance.

    A non-data descriptor (functools.cached_property without its lock): `(T & key).fetch1()`
    makes a fresh instance and reads `_heading` and `_connection` many times, and restricted
    copies inherit them with the instance's __dict__.
    """

    def __init__(self, compute):
        self.compute = compute
        self.name = compute.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


class MissingDefinitionError(DeclarationError, NotImplementedError):
    """A table class without a definition; also NotImplementedError, which DataJoint raises here."""


class _TierRegexp:
    """``Manual.tier_regexp`` etc.: a regular expression matching the table names of a tier, as
    DataJoint offers it (a part's name is its master's name, `__`, its own)."""

    def __get__(self, instance, owner):
        base = r"[a-z][a-z0-9]*(_[a-z][a-z0-9]*)*"
        if owner.tier == "part":
            masters = "|".join(re.escape(p) for p in sorted(TIER_PREFIXES.values(), key=len, reverse=True))
            return rf"(?P<master>(?:{masters}){base})__(?P<part>{base})"
        if owner.tier is None:
            return None
        return rf"(?P<{owner.tier}>{re.escape(owner.tier_prefix)}{base})"


class Table(QueryExpression, metaclass=TableMeta):
    """A stored table. Subclass one of the tiers (Manual, Lookup, Imported, Computed, Part)."""

    tier: str | None = None
    tier_prefix = ""
    tier_regexp = _TierRegexp()
    _is_base_table = True
    _schema: Any = None  # the dj.Schema (schemas/, a layer above) the class was declared in
    _table_name: Any = None  # str, for FreeTable and once computed
    _shared_instance = None  # see TableMeta._shared

    def __init__(self) -> None:
        pass  # a base table: no WHERE, joins, grouping or order (QueryExpression's defaults)

    # --- identity ---
    @property
    def schema(self) -> Any:  # a dj.Schema
        return self._schema

    @class_level_property
    def database(self) -> str | None:
        if self._schema is None:
            raise DataJointError(
                f"Table class `{type(self).__name__}` is not properly configured: it is not associated with a "
                "schema, or its schema is not activated. Decorate it with @schema (and call schema.activate(name))."
            )
        return self._schema.database

    @_KeptOnInstance
    def _connection(self):
        if self._schema is None:
            raise DataJointError(
                f"Table class `{type(self).__name__}` is not properly configured: it is not associated with a "
                "schema, or its schema is not activated. Decorate it with @schema (and call schema.activate(name))."
            )
        return self._schema.connection

    @property
    def class_name(self) -> str:
        return type(self).__name__

    @class_level_property
    def table_name(self) -> str:
        if self._table_name is None:
            name = type(self).__name__
            if "_" in name and name[:1].isupper():  # accepted as DataJoint 2.x accepts it: underscores dropped
                warnings.warn(
                    f"Table class name `{name}` contains underscores. CamelCase names without underscores are "
                    f"recommended: the table is named as `{name.replace('_', '')}` would be.",
                    UserWarning,
                    stacklevel=2,
                )
                name = name.replace("_", "")
            type(self)._table_name = self.tier_prefix + class_name_to_table_name(name)
        return self._table_name

    @class_level_property
    def full_table_name(self) -> str:
        return self._connection.backend.full_table_name(self.database, self.table_name)

    @class_level_property
    def node_name(self) -> str:
        return node_name(self.database, self.table_name)

    # --- heading and the expression fields it implies ---
    @property
    def _record(self):
        record = read_record(self._connection, self.database, self.table_name)
        if record is None:
            raise MissingTableError(
                f"Table {self.node_name} is not declared. Declare it by decorating its class with @schema "
                "(with create_tables=True), or check the schema name."
            )
        return record

    @_KeptOnInstance
    def _heading(self):
        return self._record.heading

    @_KeptOnInstance
    def _columns(self):
        # kept with the heading (one per catalog record), so a fresh `Table()` does not rebuild them
        cache = self._heading.cache
        columns = cache.get("columns")
        if columns is None:
            columns = cache["columns"] = {
                n: Column(0, n) for n in self._heading.all_attributes
            }  # hidden too, for proj()
        return columns

    def _forget_heading(self):
        for name in ("_heading", "_columns", "_frame_shape"):
            self.__dict__.pop(name, None)

    @property
    def _sources(self):
        sources = self.__dict__.get("_cached_sources")
        if sources is None:
            sources = self._cached_sources = (Source(self.database, self.table_name),)
        return sources

    def _frame(self):
        heading = self._heading
        frame = self._frame_shape
        if frame is None or frame[0] is not heading:  # kept with the heading too
            frame = heading.cache.get("frame")
            if frame is None:
                frame = heading.cache["frame"] = super()._frame()
            self._frame_shape = frame
        return frame

    def _params(self, out):
        for condition, _ in self._where:  # a base table has no subqueries
            condition.params(out)
        return out

    @class_level_property
    def is_declared(self) -> bool:
        return read_record(self._connection, self.database, self.table_name) is not None

    # --- declaration ---
    def declare(self, context: Mapping[str, Any] | None = None) -> None:
        """Create the table from its definition (does nothing if it exists)."""
        connection = self._connection
        require_no_transaction(connection, f"Declaring table `{self.class_name}`")
        if self.is_declared:
            self._check_existing(context)
            return
        definition = getattr(self, "definition", None)
        if not isinstance(definition, str):
            raise MissingDefinitionError(
                f"Table class `{self.class_name}` has no `definition` string: add one (is it misspelled?)."
            )
        if len(self.table_name) > connection.backend.max_name_length:
            raise DeclarationError(
                f"Table name `{self.table_name}` is longer than {connection.backend.max_name_length} characters: "
                "choose a shorter class name."
            )
        spec = parse_definition(
            definition, self.database, self.table_name, context or {}, self.tier, resolve_reference=resolve_reference
        )
        self._check_tier_rules(spec)
        from ..definition.ddl import column_comments_014, create_table_statements, drop_table_statement

        backend = connection.backend
        comments = None
        if is_014_schema(backend.list_tables(connection, self.database)):
            comments = column_comments_014(spec)  # 0.14's clients read the schema: its comment convention
        statements = create_table_statements(backend, spec, comments=comments)
        ensure_lineage(connection, self.database)  # before the transaction: MySQL commits on CREATE
        created = False
        try:
            with connection.transaction:
                for statement in statements:
                    connection.execute(statement)
                    created = True
                write_record(connection, spec, self.tier, self.class_name, definition)
        except Exception:
            # MySQL commits DDL implicitly; remove what a failed declaration left behind.
            if created and self.table_name in backend.list_tables(connection, self.database):
                connection.execute(drop_table_statement(backend, self.database, self.table_name))
            connection.catalog_cache_clear()
            raise
        connection.catalog_cache_clear()
        self._forget_heading()

    def _check_existing(self, context):
        """A class whose table exists already binds to it; when its definition does not describe the
        table, one warning lists every difference and the call that applies it (drift)."""
        record = self._record
        definition = getattr(self, "definition", None)
        if record.origin != "server" or not isinstance(definition, str):
            return  # pipejoint's catalog: the table was declared from a definition already
        spec = parse_definition(
            definition, self.database, self.table_name, context or {}, self.tier, resolve_reference=resolve_reference
        )
        from .alter import drift_message
        from .alter_plan import plan_alter

        plan = plan_alter(spec, record, self._connection.backend)  # no queries: the record is loaded
        if plan:
            logger.warning(drift_message(plan, self.class_name))

    @class_level
    def alter(
        self, prompt: bool = True, context: Mapping[str, Any] | None = None, rename: Mapping[str, str] | None = None
    ) -> list[str]:
        """Change the table to what the class's definition says, keeping its rows (table/alter.py).

        Secondary attributes, foreign keys, indexes and the table comment; a rename is spelled
        `rename={"new": "old"}` or, as in DataJoint, by starting the new attribute's comment with
        `{old}`. Shows the change and asks when `prompt` is on; returns the statements run.
        """
        from .alter import alter

        return alter(self, prompt, self._alter_context(context), rename)

    def _alter_context(self, context, depth=2):
        """Where a definition's `-> Parent` names are looked up: the given context, else the
        schema's context and the caller's names (as DataJoint does), with a part's master."""
        if context is None:
            import inspect

            frame = inspect.currentframe()
            for _ in range(depth):
                frame = frame.f_back if frame is not None else None
            caller = {**frame.f_globals, **frame.f_locals} if frame is not None else {}
            del frame
            schema_context = getattr(self._schema, "context", None) or {}
            context = {**schema_context, **caller}
        context = {**context, type(self).__name__: type(self)}
        master = getattr(type(self), "_master", None)
        if master is not None:
            context.update(master=master, self=type(self))
        return context

    def _check_tier_rules(self, spec):
        """Tier-specific rules on a parsed definition (parts need their master, etc.)."""

    # --- introspection ---
    @class_level
    def describe(self, context: Mapping[str, Any] | None = None, printout: bool = False) -> str:
        """A definition that declares this same table again. Referenced tables are named as `context`
        (by default the caller's namespace, as in DataJoint) holds their classes, modules included
        (``-> acquisition.Session``), so the text declares the table again in any schema with that
        context; a part names its master ``master``."""
        if context is None:
            frame = inspect.currentframe().f_back
            context = {**frame.f_globals, **frame.f_locals}
            del frame
        record = self._record
        text = definition_text(
            record.heading, record.foreign_keys, record.indexes, lambda fk: self._describe_foreign_key(fk, context)
        )
        if printout:
            print(text)
        return text

    def _describe_foreign_key(self, fk, context=None):
        parent_record = read_record(self._connection, fk.parent_schema, fk.parent_table)
        class_name = parent_record.class_name if parent_record else table_name_to_class_name(fk.parent_table)
        found = class_name_in(context, fk.parent_schema, fk.parent_table, Table) if context else None
        if self._is_master_reference(fk):
            reference = "master"
        elif (
            fk.parent_schema == self.database
            and master_of(fk.parent_table) is not None
            and master_of(fk.parent_table) == master_of(self.table_name)
        ):
            reference = f"master.{class_name}"
        elif found is not None:
            reference = found
        elif fk.parent_schema != self.database:
            reference = f"{fk.parent_schema}.{class_name}"
        else:
            reference = class_name
        renames = {c: p for c, p in fk.attr_map.items() if c != p}
        if renames:
            reference += ".proj(" + ", ".join(f"{c}='{p}'" for c, p in renames.items()) + ")"
        options = [o for o, on in (("nullable", fk.nullable), ("unique", fk.unique)) if on]
        return f"-> {'[' + ', '.join(options) + '] ' if options else ''}{reference}"

    def _is_master_reference(self, fk):
        return False

    @class_level
    def parents(
        self, primary: bool | None = None, as_objects: bool = False, foreign_key_info: bool = False
    ) -> list[Any]:
        graph = self._connection.dependencies
        graph.load(force=False)
        result = graph.parents(self.node_name, primary)
        return self._neighbor_list(result, as_objects, foreign_key_info)

    @class_level
    def children(
        self, primary: bool | None = None, as_objects: bool = False, foreign_key_info: bool = False
    ) -> list[Any]:
        graph = self._connection.dependencies
        graph.load(force=False)
        result = graph.children(self.node_name, primary)
        return self._neighbor_list(result, as_objects, foreign_key_info)

    def _neighbor_list(self, neighbors, as_objects, foreign_key_info):
        items = []
        for name, edges in sorted(neighbors.items()):
            for props in edges:
                target = FreeTable(self._connection, name) if as_objects else self._full_name(name)
                items.append((target, props) if foreign_key_info else target)
        if not foreign_key_info:
            items = list(dict.fromkeys(items)) if not as_objects else items
        return items

    @class_level
    def ancestors(self, as_objects: bool = False) -> list[Any]:
        graph = self._connection.dependencies
        graph.load(force=False)
        names = graph.ancestors(self.node_name)
        return [FreeTable(self._connection, n) for n in names] if as_objects else [self._full_name(n) for n in names]

    @class_level
    def descendants(self, as_objects: bool = False) -> list[Any]:
        graph = self._connection.dependencies
        graph.load(force=False)
        names = graph.descendants(self.node_name)
        return [FreeTable(self._connection, n) for n in names] if as_objects else [self._full_name(n) for n in names]

    @class_level
    def parts(self, as_objects: bool = False) -> list[Any]:
        names = [
            node_name(self.database, t)
            for t in self._connection.backend.list_tables(self._connection, self.database)
            if master_of(t) == self.table_name
        ]
        return [FreeTable(self._connection, n) for n in names] if as_objects else [self._full_name(n) for n in names]

    def _full_name(self, node):
        """A dependency-graph node as the backend writes full_table_name (as DataJoint's methods list tables)."""
        return self._connection.backend.full_table_name(*split_node(node))

    # --- data operations (insert.py, delete.py) ---
    @class_level
    def insert(
        self,
        rows: Iterable[Row]
        | QueryExpression
        | type[QueryExpression]
        | pd.DataFrame
        | pl.DataFrame
        | pa.Table
        | pa.RecordBatch
        | np.ndarray,
        replace: bool = False,
        skip_duplicates: bool = False,
        ignore_extra_fields: bool = False,
        allow_direct_insert: bool | None = None,
        chunk_size: int | None = None,
    ) -> None:
        return _inserts()[0](
            self,
            rows,
            replace=replace,
            skip_duplicates=skip_duplicates,
            ignore_extra_fields=ignore_extra_fields,
            allow_direct_insert=allow_direct_insert,
            chunk_size=chunk_size,
        )

    @class_level
    def validate(self, rows: Any, ignore_extra_fields: bool = False) -> ValidationResult:
        """Check rows as insert() would, without writing: a ValidationResult listing every problem."""
        from .insert_validate import validate

        return validate(self, rows, ignore_extra_fields=ignore_extra_fields)

    @class_level
    def insert_dataframe(self, df: pd.DataFrame, index_as_pk: bool | None = None, **insert_kwargs: Any) -> None:
        """Insert a DataFrame whose index may hold the primary key (as to_pandas() returns it)."""
        from .insert_validate import insert_dataframe

        return insert_dataframe(self, df, index_as_pk=index_as_pk, **insert_kwargs)

    @class_level
    def insert1(self, row: Row, **kwargs: Any) -> None:
        return _inserts()[1](self, row, **kwargs)

    @property
    def staged_insert1(self) -> Any:
        """``with table.staged_insert1 as staged:`` writes <object@> values straight into their store,
        then inserts the row (storage/staged.py)."""
        from ..storage.staged import staged_insert1

        return staged_insert1(self)

    @class_level
    def update1(self, row: Mapping[str, Any]) -> None:
        from .insert import update1

        return update1(self, row)

    @class_level
    def delete_quick(self, get_count: bool = False) -> int | None:
        from .delete import delete_quick

        return delete_quick(self, get_count=get_count)

    @class_level
    def delete(
        self,
        transaction: bool = True,
        prompt: bool | None = None,
        part_integrity: Literal["enforce", "ignore", "cascade"] = "enforce",
        safemode: bool | None = None,
        force_parts: bool | None = None,
        force_masters: bool | None = None,
        dry_run: bool = False,
    ) -> int | dict[str, int]:
        from .delete import delete

        return delete(
            self,
            FreeTable,
            transaction=transaction,
            prompt=prompt,
            part_integrity=part_integrity,
            safemode=safemode,
            force_parts=force_parts,
            force_masters=force_masters,
            dry_run=dry_run,
        )

    # --- drop ---
    @class_level
    def drop_quick(self) -> None:
        """Drop this table only (fails if other tables depend on it)."""
        from ..definition.ddl import drop_table_statement

        if self._where:
            raise DataJointError("A restricted table cannot be dropped: drop the table itself.")
        connection = self._connection
        require_no_transaction(connection, f"Dropping {self.node_name}")
        if not self.is_declared:
            logger.info("Nothing to drop: %s is not declared", self.node_name)
            return
        children = list(connection.dependencies.load().children(self.node_name))
        if children:
            raise DataJointError(
                f"Cannot drop {self.node_name}: tables {', '.join(children)} depend on it. "
                "Use drop() to drop them together."
            )
        connection.execute(drop_table_statement(connection.backend, self.database, self.table_name))
        for statement in connection.backend.after_drop(self.database):
            connection.execute(statement)
        delete_record(connection, self.database, self.table_name)
        self._forget_heading()
        logger.info("Dropped table %s", self.node_name)

    @class_level
    def drop(
        self, prompt: bool | None = None, force: bool = False, part_integrity: Literal["enforce", "ignore"] = "enforce"
    ) -> None:
        """Drop this table and every table that depends on it, after listing them."""
        if part_integrity not in ("enforce", "ignore"):
            raise ValueError(
                f"drop() of {self.class_name}: part_integrity must be 'enforce' or 'ignore', not {part_integrity!r} "
                "('cascade' is for delete()). Nothing was dropped."
            )
        if self._where:
            raise DataJointError("A restricted table cannot be dropped: drop the table itself.")
        connection = self._connection
        require_no_transaction(connection, f"Dropping {self.node_name}")
        graph = connection.dependencies.load()
        if self.node_name not in graph.graph:
            logger.info("Nothing to drop: %s is not declared", self.node_name)
            return
        names = graph.descendants(self.node_name)
        prompt = connection.config["safemode"] if prompt is None else prompt
        if force:
            prompt = False
        if part_integrity == "enforce":
            self._check_part_drop(names)
        counts = {name: len(FreeTable(connection, name)) for name in names}
        for name in names:
            print(f"{name} ({counts[name]} rows)")
        if prompt and not ask_yes_no("Proceed?"):
            print("Drop cancelled.")
            return
        for name in reversed(names):
            FreeTable(connection, name).drop_quick()
        print("Tables dropped. Restart the kernel if their classes are still in use.")

    def _check_part_drop(self, names):
        """A part cannot be dropped without its master (its master's definition names it)."""
        for name in names:
            master = master_node(name)
            if master is not None and master not in names:
                raise DataJointError(
                    f"Cannot drop part table {name} without its master {master}: drop the master, "
                    "or pass part_integrity='ignore'."
                )

    def __repr__(self) -> str:
        return super().__repr__()


class FreeTable(Table):
    """A table used by its name alone, without a class: `dj.FreeTable(conn, 'schema.table')`."""

    @overload
    def __init__(self, connection: Connection, full_table_name: str) -> None: ...
    @overload
    def __init__(self, connection: str) -> None: ...  # the legacy form, on dj.conn(): FreeTable('schema.table')
    def __init__(self, connection: Any, full_table_name: str | None = None) -> None:
        super().__init__()
        if full_table_name is None:
            from ..catalog.connection import conn

            connection, full_table_name = conn(), connection
        schema, table = split_full_name(full_table_name)
        self._free_connection = connection
        self._free_schema = schema
        self._table_name = table
        record = read_record(connection, schema, table)
        self.tier = record.tier if record else None

    @property
    def _connection(self):
        return self._free_connection

    @property
    def database(self) -> str:
        return self._free_schema

    @property
    def table_name(self) -> str:
        return self._table_name

    @property
    def class_name(self) -> str:
        record = read_record(self._connection, self.database, self.table_name)
        return record.class_name if record else table_name_to_class_name(self.table_name)

    def __repr__(self) -> str:
        return f"FreeTable({self.node_name})\n" + super().__repr__()


def _inserts():
    """table/insert.py's (insert, insert1), imported on the first insert (not at import time) and kept."""
    global _insert_functions
    if _insert_functions is None:
        from .insert import insert, insert1

        _insert_functions = (insert, insert1)
    return _insert_functions


_insert_functions = None
