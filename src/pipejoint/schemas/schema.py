"""Schemas: a namespace of tables, and the decorator that declares table classes in it.

On PostgreSQL a schema is a schema, on MySQL a database, on SQLite a prefix of table names in
one file (so foreign keys between schemas are enforced everywhere).
"""

from __future__ import annotations

import inspect
import logging
import re
from typing import TYPE_CHECKING, Any, overload

from ..backends.session import require_no_transaction
from ..catalog.connection import conn as global_connection
from ..catalog.records import read_schema, rebuild_lineage
from ..core.naming import TIER_PREFIXES, class_name_to_table_name, split_node
from ..errors import DataJointError
from ..settings import refuse_in_thread_safe_mode

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import TypeVar

    from ..catalog.connection import Connection
    from ..core.hints import PopulateResult
    from ..populate.schema_jobs import JobTable014, SchemaJobs
    from ..query.restriction import Restriction
    from ..table.table import FreeTable, Table
    from .overview import JobError, SchemaOverview

    _TableClass = TypeVar("_TableClass", bound=type[Table])

logger = logging.getLogger("pipejoint")
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _caller_context(depth=2):
    """The names visible where the decorator or Schema was called: globals, then locals."""
    frame = inspect.currentframe()
    for _ in range(depth):
        frame = frame.f_back
    try:
        return {**frame.f_globals, **frame.f_locals}
    finally:
        del frame


class Schema:
    """``schema = dj.Schema('lab')``, then decorate table classes with ``@schema``."""

    def __init__(
        self,
        schema_name: str | None = None,
        context: dict[str, Any] | None = None,
        *,
        connection: Connection | None = None,
        create_schema: bool = True,
        create_tables: bool | None = None,
        add_objects: dict[str, Any] | None = None,
    ) -> None:
        if connection is None:
            refuse_in_thread_safe_mode(f"dj.Schema({schema_name!r}) without connection=")
        self.database: str | None = None
        self.context = context
        self._connection = connection
        self.create_schema = create_schema
        self.create_tables = create_tables
        self.add_objects = add_objects or {}
        self._queue: list[tuple[type[Table], Mapping[str, Any]]] = []
        if schema_name is not None:
            self.activate(
                schema_name,
                connection=connection,
                create_schema=create_schema,
                create_tables=create_tables,
                add_objects=add_objects,
            )

    # --- activation ---
    def activate(
        self,
        schema_name: str | None = None,
        *,
        connection: Connection | None = None,
        create_schema: bool | None = None,
        create_tables: bool | None = None,
        add_objects: dict[str, Any] | None = None,
    ) -> None:
        """Bind to a database schema (creating it if allowed) and declare any queued classes."""
        if schema_name is None:
            if self.database is None:
                raise DataJointError("Schema.activate() needs a schema name.")
            return
        if self.database is not None and self.database != schema_name:
            raise DataJointError(f"This schema object is already activated for schema `{self.database}`.")
        if not _SCHEMA_NAME.match(schema_name):
            raise DataJointError(
                f"Schema name `{schema_name}` is not valid: use letters, digits and underscores, "
                "starting with a letter, e.g. `my_lab`."
            )
        if connection is not None:
            self._connection = connection
        if create_schema is not None:
            self.create_schema = create_schema
        if create_tables is not None:
            self.create_tables = create_tables
        if add_objects:
            self.add_objects.update(add_objects)
        self.database = schema_name
        connection = self.connection
        backend = connection.backend
        if not backend.schema_exists(connection, schema_name):
            if not self.create_schema:
                self.database = None
                raise DataJointError(
                    f"Schema `{schema_name}` does not exist and create_schema=False: check the name, "
                    "or create it with dj.Schema(name)."
                )
            require_no_transaction(connection, f"Creating schema `{schema_name}`")
            backend.create_schema(connection, schema_name)
            logger.info("Created schema `%s`", schema_name)
        connection.schemas[schema_name] = self
        queued, self._queue = self._queue, []
        for cls, context in queued:
            self._process(cls, context)

    @property
    def _creates_tables(self):
        return self.connection.config["database.create_tables"] if self.create_tables is None else self.create_tables

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = global_connection()
        return self._connection

    def is_activated(self) -> bool:
        return self.database is not None

    @property
    def exists(self) -> bool:
        if self.database is None:
            raise DataJointError("This schema is not activated: call schema.activate(name).")
        return self.connection.backend.schema_exists(self.connection, self.database)

    # --- the decorator ---
    @overload
    def __call__(self, cls: _TableClass, *, context: Mapping[str, Any] | None = None) -> _TableClass: ...
    @overload
    def __call__(
        self, cls: None = None, *, context: Mapping[str, Any] | None = None
    ) -> Callable[[_TableClass], _TableClass]: ...
    def __call__(self, cls: Any = None, *, context: Mapping[str, Any] | None = None) -> Any:
        if cls is None:
            return lambda c: self(c, context=context)
        context = context if context is not None else (self.context if self.context is not None else _caller_context())
        from ..table.tiers import Part

        if issubclass(cls, Part):
            raise DataJointError(
                f"Part table `{cls.__name__}` is declared with its master: nest the class inside the master "
                "class and decorate the master."
            )
        if self.database is None:
            self._queue.append((cls, context))
        else:
            self._process(cls, context)
        return cls

    def _process(self, cls, context):
        from ..table.tiers import Lookup, Part

        context = {**context, **self.add_objects, cls.__name__: cls, "self": cls}  # `-> self.source`, as DataJoint
        cls._schema = self
        cls._table_name = None
        instance = cls()
        if self._creates_tables:
            instance.declare(context)
        elif not instance.is_declared:
            logger.info("Table %s is not declared (create_tables=False)", instance.node_name)
        for name, member in _members_in_order(cls):  # parts inherited from a base class are this class's parts too
            if isinstance(member, type) and issubclass(member, Part) and name[:1].isupper():
                member._master = cls
                member._schema = self
                member._table_name = None
                part = member()
                if self._creates_tables:
                    part.declare({**context, "master": cls, "self": member})
        if issubclass(cls, Lookup) and self._creates_tables:
            _sync_lookup_contents(instance)
        doc = cls.__doc__ or ""
        definition = getattr(cls, "definition", "")
        if isinstance(definition, str) and definition.strip() and definition not in doc:
            cls.__doc__ = (doc + "\n" if doc else "") + definition  # as written: help() shows it as declared

    # --- drift ---
    def diff(self, context: Mapping[str, Any] | None = None) -> dict[str, list[str]]:
        """{table: [difference, ...]} for every table of this schema whose class (found in `context`,
        by default the schema's or the caller's names, with their part tables) has a definition that
        does not describe it. `Cls.alter()` applies a class's definition."""
        context = context if context is not None else (self.context if self.context is not None else _caller_context())
        from ..table.alter import drift
        from ..table.table import Table
        from ..table.tiers import Part

        classes = []
        for value in dict(context).values():
            if not (isinstance(value, type) and issubclass(value, Table)):
                continue  # a module, a function, a number: the context holds all the caller's names
            bound = getattr(value, "_schema", None)
            if bound is not None and bound.database == self.database:
                classes.append(value)
                classes += [
                    member
                    for name, member in vars(value).items()
                    if isinstance(member, type) and issubclass(member, Part) and name[:1].isupper()
                ]
        found = {}
        for cls in dict.fromkeys(classes):
            table = cls()
            differences = drift(table, table._alter_context(dict(context)))
            if differences:
                found[table.node_name] = differences
        return found

    def migrate(
        self,
        rename: Mapping[Any, Any] | None = None,
        key: list[Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        """A Migration (table/alter_migrate.py): `rename={"Session": "Recording"}` renames tables
        (class or table names; parts follow their master); `key=[Session]` applies the classes'
        definitions whose primary keys differ from their tables', cascading to the tables that
        depend on them. `.plan()` shows the statements and the rows they touch, `.apply()` runs them."""
        from ..table.alter_migrate import Migration

        context = context if context is not None else (self.context if self.context is not None else _caller_context())
        return Migration(self, rename, key, context)

    def rebuild_lineage(self) -> None:
        """Write the schema's ~lineage table again from its tables and foreign keys (DataJoint 2.x), e.g. after
        tables were declared by a client that kept none; creates it where it is missing (not in 0.14 schemas)."""
        if self.database is None:
            raise DataJointError("This schema is not activated: call schema.activate(name) first.")
        require_no_transaction(self.connection, "rebuild_lineage()")
        rebuild_lineage(self.connection, self.database)

    # --- contents ---
    def list_tables(self) -> list[str]:
        """Table names of this schema, parents before children (hidden tables left out)."""
        connection = self.connection
        graph = connection.dependencies.load()
        nodes = [n for n in graph.graph.nodes if split_node(n)[0] == self.database]
        return [split_node(n)[1] for n in graph.topo_sort(nodes)]

    def __iter__(self) -> Iterator[FreeTable]:
        from ..table.table import FreeTable

        for name in self.list_tables():
            yield FreeTable(self.connection, f"{self.database}.{name}")

    def __contains__(self, name: str) -> bool:
        return self._find_table_name(name) is not None

    def _find_table_name(self, name):
        tables = read_schema(self.connection, self.database)
        if name in tables:
            return name
        snake = class_name_to_table_name(name) if name[:1].isupper() and name.isalnum() else name
        for prefix in TIER_PREFIXES.values():
            if prefix + snake in tables:
                return prefix + snake
        return None

    def get_table(self, name: str) -> FreeTable:
        from ..table.table import FreeTable

        table_name = self._find_table_name(name)
        if table_name is None:
            raise DataJointError(
                f"Schema `{self.database}` has no table `{name}`: it does not exist. Tables: {', '.join(self.list_tables())}."
            )
        return FreeTable(self.connection, f"{self.database}.{table_name}")

    __getitem__ = get_table

    def make_classes(self, into: dict[str, Any] | None = None) -> None:
        """Create classes for tables that have none in `into` (default: the caller's namespace)."""
        from .classes import make_classes

        if into is None:
            into = self.context if self.context is not None else inspect.currentframe().f_back.f_locals  # type: ignore[union-attr]
        make_classes(self, into)

    def spawn_missing_classes(
        self, context: dict[str, Any] | None = None, *, into: dict[str, Any] | None = None
    ) -> None:
        """make_classes under DataJoint's name; its argument is `context` (0.14) or `into`."""
        into = context if context is not None else into
        if into is None:
            into = self.context if self.context is not None else inspect.currentframe().f_back.f_locals  # type: ignore[union-attr]
        self.make_classes(into=into)

    # --- populate and jobs (autopopulate.py, jobs.py) ---
    @property
    def jobs(self) -> SchemaJobs | JobTable014:
        """The job queues of this schema's tables (a list of `Job`, as in DataJoint 2.x), which also
        restrict and delete together: `(schema.jobs & {'status': 'error'}).delete()`. A DataJoint 0.14
        schema gives its `~jobs` table."""
        from ..populate.schema_jobs import schema_jobs

        if self.database is None:
            raise DataJointError("This schema is not activated: call schema.activate(name) before using its jobs.")
        return schema_jobs(self)

    def overview(self) -> SchemaOverview:
        """Every table with its tier, row count, comment and, for Imported and Computed tables, populate
        progress (made, pending, reserved, errors). Reading it changes nothing in the database."""
        from .overview import schema_overview

        return schema_overview(self)

    def latest_errors(self, table: str | None = None, limit: int = 10) -> list[JobError]:
        """The newest failed make() calls recorded in the job queues, newest first."""
        from .overview import latest_errors

        return latest_errors(self, table=table, limit=limit)

    def populate(self, *restrictions: Restriction, **kwargs: Any) -> dict[str, PopulateResult]:
        """Populate every auto-populated table of this schema, parents first; {class name: result}."""
        from ..populate.autopopulate import populate_schema

        return populate_schema(self, *restrictions, **kwargs)

    # --- store objects (gc.py) ---
    def gc(self, **kwargs: Any) -> dict[str, Any]:
        """Objects of this schema in the stores that no row refers to: ``dj.gc(self, **kwargs)``.

        A dry run unless ``dry_run=False``; ``store=`` limits it to one store; objects younger than
        ``min_age`` seconds (default one hour) are spared. Returns gc's report (a dict).
        """
        from ..storage.gc import collect

        return collect(self, **kwargs)

    # --- drop ---
    def drop(self, prompt: bool | None = None, force: bool = False) -> None:
        """Drop the schema with all its tables (after asking, when safemode is on)."""
        from ..table.prompt import ask_yes_no

        if self.database is None:
            raise DataJointError("This schema is not activated: nothing to drop.")
        connection = self.connection
        require_no_transaction(connection, f"Dropping schema `{self.database}`")
        if not self.exists:
            logger.info("Schema `%s` does not exist", self.database)
            return
        prompt = connection.config["safemode"] if prompt is None else prompt
        if force:
            prompt = False
        graph = connection.dependencies.load()
        outside = sorted(
            child
            for node in graph.graph.nodes
            if split_node(node)[0] == self.database
            for child in graph.graph.successors(node)
            if split_node(child)[0] != self.database
        )
        if outside:
            raise DataJointError(
                f"Cannot drop schema `{self.database}`: tables in other schemas depend on it "
                f"({', '.join(outside)}). Drop those first."
            )
        if prompt and not ask_yes_no(f"Drop schema `{self.database}` with all its tables and data?"):
            print("Drop cancelled.")
            return
        connection.backend.drop_schema(connection, self.database)
        connection.catalog_cache_clear()
        connection.schemas.pop(self.database, None)
        logger.info("Dropped schema `%s`", self.database)

    def __repr__(self) -> str:
        return f"Schema `{self.database}`" if self.database else "Schema (not activated)"


schema = Schema


def _sync_lookup_contents(table):
    """Insert the class's `contents` rows that the table does not hold yet. Read from the
    instance, so that `contents` may be a property computing the rows."""
    contents = getattr(table, "contents", None)
    if contents is None:
        return
    rows = list(contents)
    if rows and len(rows) > len(table):
        table.insert(rows, skip_duplicates=True, allow_direct_insert=True)


def list_schemas(connection: Connection | None = None) -> list[str]:
    """Names of all schemas in the database."""
    connection = connection or global_connection()
    return list(connection.backend.list_schemas(connection))


__all__ = ["Schema", "schema", "list_schemas"]


def _members_in_order(cls):
    """(name, member) of a class and its bases, as written in the classes (no descriptor runs), each
    name once with its most derived value, in the order the classes define them."""
    members = {}
    for klass in reversed(cls.__mro__[:-1]):  # object's own attributes are no parts
        for name, member in vars(klass).items():
            members[name] = member
    return list(members.items())
