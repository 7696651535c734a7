"""PostgreSQL through psycopg 3. A DataJoint schema is a PostgreSQL schema in `database.name`.

PostgreSQL has no unsigned integers, so unsigned ranges are CHECK constraints; uint64 is
numeric(20) with a range check. Enum columns use an enum type in the schema, named as DataJoint
names it (`enum_` and 8 hex digits of the md5 of the sorted values joined by `_`), so tables
with the same values share it, and DataJoint reads the column as the enum it declared.
"""

from __future__ import annotations

import hashlib

from sqlglot import exp

from ...errors import (
    AccessError,
    DataJointError,
    DuplicateError,
    IntegrityError,
    LostConnectionError,
    MissingAttributeError,
    MissingTableError,
    QuerySyntaxError,
    UnknownAttributeError,
)
from .. import ARGUMENT_CONVENTIONS
from ..base import Backend
from .rewrites import REWRITES

_INTEGERS = {
    "int8": "smallint",
    "uint8": "smallint",
    "int16": "smallint",
    "uint16": "integer",
    "int24": "integer",
    "uint24": "integer",
    "int32": "integer",
    "uint32": "bigint",
    "int64": "bigint",
    "uint64": "numeric(20)",
    "year": "smallint",
}
_NATIVE_RANGE = {"smallint": 16, "integer": 32, "bigint": 64}
_SQLSTATE_ERRORS = {
    "23505": DuplicateError,
    "23503": IntegrityError,
    "23514": IntegrityError,
    "23502": MissingAttributeError,
    "42P01": MissingTableError,
    "3F000": MissingTableError,
    "42703": UnknownAttributeError,
    "42601": QuerySyntaxError,
    "42501": AccessError,
}


class PostgresBackend(Backend):
    name = "postgresql"
    dialect = "postgres"
    paramstyle = "format"
    default_port = 5432
    declares_foreign_key_indexes = True
    keeps_lineage_table = True
    max_name_length = 63
    error_aborts_transaction = True
    fragment_rewrites = REWRITES
    has_sessions = True
    nulls_sort_low = False  # NULL sorts after every value ascending: the default order of an index

    def now_plus_sql(self, seconds):
        return f"({self.now_sql} + INTERVAL '{seconds:.6f} seconds')"

    def live_sessions(self, conn):
        """pg_stat_activity lists every user's sessions (their pids) to every user."""
        return {int(r[0]) for r in conn.execute("SELECT pid FROM pg_stat_activity").fetchall()}, True

    def connect(self):
        try:
            import psycopg
        except ModuleNotFoundError as error:
            raise DataJointError(
                'The PostgreSQL backend needs psycopg: pip install "pipejoint[postgres]", or in a clone of '
                'pipejoint, from its folder: pip install -e ".[postgres]"'
            ) from error
        s = self.settings
        try:
            return psycopg.connect(
                host=s.get("host") or "localhost",
                port=int(s.get("port") or self.default_port),
                user=s.get("user") or "postgres",
                password=s.get("password") or None,
                dbname=s.get("name") or "postgres",
                autocommit=True,
                connect_timeout=10,
                **_tls_options(s.get("use_tls")),
            )
        except psycopg.OperationalError as error:
            raise LostConnectionError(
                f"Cannot connect to PostgreSQL at {self.describe_target()}: {error}".strip()
            ) from None

    def connection_id(self, raw):
        return raw.info.backend_pid

    def describe_target(self):
        s = self.settings
        return f"{s.get('user') or 'postgres'}@{s.get('host') or 'localhost'}:{s.get('port') or self.default_port}/{s.get('name') or 'postgres'}"

    encoders = {}
    decoders = {
        "uint64": "int_from_number",
        "char": "rstrip",
        "bytes": "to_bytes",
        "blob": "to_bytes",
        "float32": "to_float32",
    }

    def encoder(self, attr_type):
        if attr_type.storage_core == "json":
            from psycopg.types.json import Jsonb

            return Jsonb
        return super().encoder(attr_type)

    def serialized_column_statements(self, schema, table_name, names):
        """Blobs are zlib-compressed already when that pays; PostgreSQL's own pglz attempt on every
        large value (tripped by the zeros of the blob header) would cost more than the insert."""
        table = self.full_table_name(schema, table_name)
        return [f"ALTER TABLE {table} ALTER COLUMN {self.quote(n)} SET STORAGE EXTERNAL" for n in names]

    def copy_statement(self, schema, table_name, names):
        columns = ", ".join(self.quote(n) for n in names)
        return f"COPY {self.full_table_name(schema, table_name)} ({columns}) FROM STDIN"

    few_rows_per_insert = 16  # measured: COPY is faster from about 20 rows on
    max_parameters = 65535

    def copy_rows(self, raw, statement, rows):
        """COPY: several times faster than executemany for large batches."""
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def select_value(self, node, attr_type):
        # date + interval is a timestamp here; MySQL keeps a date for day, month and year steps,
        # and the computed attribute's inferred type says so
        if attr_type.core == "date" and not isinstance(node, exp.Column):
            return exp.Cast(this=node, to=exp.DataType.build("date"))
        return node

    def key_array_condition(self, columns, markers, attributes):
        """(a, b) IN (SELECT * FROM UNNEST(%s::int[], %s::text[])): any number of keys in one parameter
        per attribute (PostgreSQL accepts at most 65,535 parameters)."""
        arrays = [
            exp.Cast(this=m, to=exp.DataType.build(self.column_type(a.attr_type) + "[]", dialect="postgres"))
            for m, a in zip(markers, attributes)
        ]
        # enum columns compare as text: the column's enum type (or, in schemas made before enum types,
        # varchar) need not be named here
        columns = [
            exp.Cast(this=c, to=exp.DataType.build("text")) if a.attr_type.storage_core == "enum" else c
            for c, a in zip(columns, attributes)
        ]
        keys = exp.select(exp.Star()).from_(exp.Unnest(expressions=arrays))
        left = columns[0] if len(columns) == 1 else exp.Tuple(expressions=columns)
        return exp.In(this=left, query=exp.Subquery(this=keys))

    # --- types ---
    def column_type(self, t, type_schema=None):
        core = t.storage_core
        if core == "enum":
            return "text" if type_schema is None else self._enum_type(t.values, type_schema)
        if t.is_integer:
            sql = _INTEGERS[core]
            if t.autoincrement:
                sql = "bigint" if sql == "numeric(20)" else sql
                return f"{sql} GENERATED BY DEFAULT AS IDENTITY"
            return sql
        return {
            "float32": "real",
            "float64": "double precision",
            "bool": "boolean",
            "decimal": f"numeric({t.precision},{t.scale})",
            "char": f"char({t.length})",
            "varchar": f"varchar({t.length})",
            "date": "date",
            "datetime": f"timestamp({t.fsp or 0})",
            "timestamp": f"timestamp({t.fsp or 0})",
            "time": f"time({t.fsp or 0})",
            "uuid": "uuid",
            "json": "jsonb",
            "bytes": "bytea",
            "blob": "bytea",
            "text": "text",
        }[core]

    def checks(self, column, t):
        core = t.storage_core
        if t.is_integer:
            low, high = t.integer_range
            native = _INTEGERS[core]
            bits = _NATIVE_RANGE.get(native)
            if bits is None or (low, high) != (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1):
                return [self.range_check(column, low, high)]
            return []
        if (core in ("float32", "float64", "decimal")) and t.unsigned:
            return [self.range_check(column, 0, None)]
        return []

    @staticmethod
    def enum_type_name(values):
        """DataJoint's name for the enum type of these values."""
        return "enum_" + hashlib.md5("_".join(sorted(values)).encode()).hexdigest()[:8]

    def _enum_type(self, values, type_schema):
        return f"{self.quote(type_schema)}.{self.quote(self.enum_type_name(values))}"

    def type_statements(self, t, type_schema):
        """CREATE TYPE for an enum column, unless the type exists (other tables share it)."""
        if t.storage_core != "enum":
            return []
        values = ", ".join(exp.Literal.string(v).sql(self.dialect) for v in t.values)
        return [
            f"DO $$ BEGIN CREATE TYPE {self._enum_type(t.values, type_schema)} AS ENUM ({values}); "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ]

    def after_drop(self, schema):
        """Drop the schema's DataJoint-named enum types that no column uses any more, as DataJoint does."""
        name = exp.Literal.string(schema).sql(self.dialect)
        return [
            "DO $$ DECLARE r record; BEGIN "
            "FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            f"WHERE n.nspname = {name} AND t.typtype = 'e' AND t.typname ~ '^enum_[0-9a-f]{{8}}$' "
            "AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.atttypid = t.oid AND NOT a.attisdropped) "
            f"LOOP BEGIN EXECUTE format('DROP TYPE %I.%I', {name}, r.typname); "
            "EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END; END LOOP; END $$"
        ]

    def bool_literal(self, value):
        return exp.Boolean(this=bool(value))

    def after_create(self, schema, table_name, columns, comment):
        table = self.full_table_name(schema, table_name)
        statements = []
        if comment:
            statements.append(f"COMMENT ON TABLE {table} IS {exp.Literal.string(comment).sql(self.dialect)}")
        for name, column_comment in columns:
            if column_comment:
                statements.append(
                    f"COMMENT ON COLUMN {table}.{self.quote(name)} IS "
                    f"{exp.Literal.string(column_comment).sql(self.dialect)}"
                )
        return statements

    # --- alter: ALTER TABLE (alter.py) ---
    def alter_statements(self, conn, schema, table_name, changes, rebuild):
        from .alter import alter_statements

        return alter_statements(self, conn, schema, table_name, changes)

    # --- schemas ---
    def create_schema(self, conn, name):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quote(name)}")

    def drop_schema(self, conn, name):
        if name == "information_schema" or name.startswith("pg_"):  # a superuser could drop them
            raise AccessError(f"`{name}` is the server's own schema: pipejoint never drops it.")
        conn.execute(f"DROP SCHEMA IF EXISTS {self.quote(name)} CASCADE")

    def schema_exists(self, conn, name):
        """Whether the schema exists, the server's own included (they are never to be created)."""
        return bool(conn.execute(f"SELECT 1 FROM pg_namespace WHERE nspname = {self.placeholder}", (name,)).fetchall())

    def list_schemas(self, conn):
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
            "AND nspname <> 'information_schema' ORDER BY nspname"
        ).fetchall()
        return [r[0] for r in rows]

    def list_tables(self, conn, schema):
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (schema,)
        ).fetchall()
        return [r[0] for r in rows]

    # --- introspection (introspect.py) ---
    keeps_native_types = False

    def introspect(self, conn, schemas):
        from .introspect import introspect

        return introspect(conn, schemas)

    def catalog_fingerprint(self, conn):
        from .introspect import catalog_fingerprint

        return catalog_fingerprint(conn)

    def tables_by_schema(self, conn, schemas):
        from .introspect import tables_by_schema

        return tables_by_schema(conn, schemas)

    # --- errors ---
    def translate_error(self, error, sql=""):
        import psycopg

        if not isinstance(error, psycopg.Error):
            return None
        state = getattr(error, "sqlstate", None) or ""
        message = str(error).strip()
        if self.is_lost_connection(error):
            return LostConnectionError(f"Lost the connection to PostgreSQL: {message}")
        if not state and isinstance(error, psycopg.ProgrammingError) and "placeholder" in message:
            return QuerySyntaxError(f"{message}: {ARGUMENT_CONVENTIONS} SQL: {sql}")
        cls = _SQLSTATE_ERRORS.get(state)
        if cls is not None:
            return cls(message if cls is not QuerySyntaxError else f"{message} in SQL: {sql}")
        if state.startswith("22"):  # data exception: out of range, bad text representation
            return IntegrityError(f"The database rejected a value: {message}")
        if state.startswith("23"):
            return IntegrityError(f"The database rejected the change: {message}")
        return DataJointError(f"PostgreSQL error {state}: {message}")

    def is_lost_connection(self, error):
        import psycopg

        state = getattr(error, "sqlstate", None) or ""
        return (
            state.startswith("08")
            or state in ("57P01", "57P02", "57P03")
            or (isinstance(error, psycopg.OperationalError) and not state)
            or isinstance(error, psycopg.InterfaceError)
        )

    def is_transient(self, error):
        """Deadlocks and serialization failures between concurrent workers: retry the transaction."""
        return (getattr(error, "sqlstate", None) or "") in ("40001", "40P01")


def _tls_options(use_tls):
    """libpq's sslmode for DataJoint's ``use_tls`` (None: libpq's default, TLS when offered)."""
    if use_tls is None:
        return {}
    if isinstance(use_tls, dict):
        return {"sslmode": "require", **use_tls}
    return {"sslmode": "require" if use_tls else "disable"}
