"""SQLite: the embedded default. One file holds every schema.

Foreign keys between schemas must be enforced, which attached databases cannot do, so a schema
is a prefix of the stored table name: table `session` of schema `lab` is stored as `"lab.session"`.
Tables are STRICT (SQLite >= 3.37) so column types are enforced; CHECK constraints supply ranges,
lengths, enums and date formats that SQLite has no types for. SQLite has no comments: each
schema's hidden `~comments` table holds the strings the servers keep in table and column
comments (introspect.py), and `~lineage` is DataJoint's, as on the servers.
"""

from __future__ import annotations

import getpass
import os
import re
import sqlite3
from pathlib import Path

from sqlglot import exp

from ...errors import (
    DataJointError,
    DuplicateError,
    IntegrityError,
    MissingAttributeError,
    MissingTableError,
    QuerySyntaxError,
    UnknownAttributeError,
)
from .. import ARGUMENT_CONVENTIONS
from ..base import Backend
from .rewrites import REWRITES

SCHEMA_REGISTRY = "~schemas"
MIN_VERSION = (3, 37, 0)
_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_TIME_GLOB = "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
_USER_MARKERS = re.compile(r"%(?:\((\w+)\)s|s|%|.?)", re.DOTALL)  # DataJoint's markers in SQL a user writes


def _user_marker(match):
    text = match.group(0)
    if text == "%%":
        return "%"
    if text == "%s":
        return "?"
    if match.group(1):
        return f":{match.group(1)}"
    raise ValueError(f"a lone % at {text!r}")  # as PyMySQL refuses it, so SQL that runs here runs there


def _glob(column, pattern):
    return exp.Glob(this=column.copy(), expression=exp.Literal.string(pattern))


def _not_null(expression):
    return exp.Not(this=exp.Is(this=expression, expression=exp.Null()))


def _null_or(column, condition):
    """SQLite CHECKs that test IS NULL must let NULL through for nullable columns explicitly."""
    return exp.Or(this=exp.Is(this=column.copy(), expression=exp.Null()), expression=exp.Paren(this=condition))


# A table whose rows stay small is kept in its primary key's b-tree (WITHOUT ROWID), as InnoDB keeps
# every table: a row is written to one b-tree instead of to the rowid table and the key's index.
# SQLite advises it for rows under ~1/20 of a page; tables with blobs, JSON, long text or an
# auto_increment key (the rowid itself) keep the rowid. Tables made before keep their form.
_SMALL_ROW_BYTES = 200
_FIXED_BYTES = {"bool": 9, "float32": 9, "float64": 9, "decimal": 9, "date": 10, "time": 15, "uuid": 16}


def _small_rows(types):
    size = 0
    for t in types:
        core = t.storage_core
        if t.autoincrement:
            return False
        if t.is_integer:
            size += 9
        elif core in _FIXED_BYTES:
            size += _FIXED_BYTES[core]
        elif core in ("datetime", "timestamp"):
            size += 26
        elif core in ("char", "varchar"):
            size += t.length
        elif core == "enum":
            size += max(map(len, t.values), default=0)
        else:
            return False
    return bool(types) and size <= _SMALL_ROW_BYTES


def _call(name, *args):
    return exp.Anonymous(this=name, expressions=[a.copy() for a in args])


class SQLiteBackend(Backend):
    name = "sqlite"
    dialect = "sqlite"
    paramstyle = "qmark"

    def connect(self):
        if sqlite3.sqlite_version_info < MIN_VERSION:
            raise DataJointError(
                f"pipejoint needs SQLite {'.'.join(map(str, MIN_VERSION))} or newer for STRICT tables; "
                f"this Python has {sqlite3.sqlite_version}. Upgrade Python, or use PostgreSQL or MySQL."
            )
        path = self.database_path()
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        raw = sqlite3.connect(
            path,
            timeout=float(self.settings.get("busy_timeout") or 30.0),
            isolation_level=None,
            check_same_thread=False,
        )
        raw.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            raw.execute("PRAGMA journal_mode = WAL")
            raw.execute("PRAGMA synchronous = NORMAL")
        raw.execute(f'CREATE TABLE IF NOT EXISTS "{SCHEMA_REGISTRY}" (name TEXT PRIMARY KEY) STRICT')
        from .functions import register_functions

        register_functions(raw)
        return raw

    def database_path(self):
        return self.settings.get("name") or "pipejoint.db"

    def describe_target(self):
        return f"sqlite:{self.database_path()}"

    def connection_id(self, raw):
        return os.getpid()  # one process, one file: there is no server session to name

    def current_user(self, session):
        return f"{getpass.getuser()}@localhost"

    def user_statement(self, sql, args):
        """DataJoint's conventions, as PyMySQL reads them, in sqlite3's: ``%s`` -> ``?``,
        ``%(name)s`` -> ``:name``, ``%%`` -> ``%``; so SQL written for DataJoint runs here too."""
        if args is None:
            return sql, None
        return _USER_MARKERS.sub(_user_marker, sql), args

    def settings_for_another_process(self, settings):
        name = settings.get("database.name") or "pipejoint.db"
        if name == ":memory:":
            raise DataJointError(
                "Worker processes cannot share an in-memory SQLite database: set dj.config['database.name'] to a file."
            )
        return dict(settings, **{"database.name": os.path.abspath(name)})  # workers may start elsewhere

    now_sql = "strftime('%Y-%m-%d %H:%M:%f', 'now')"  # as its CURRENT_TIMESTAMP(3) defaults are stored

    def now_plus_sql(self, seconds):
        return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '{seconds:+.6f} seconds')"

    one_writer_per_file = True

    def begin_sql(self):
        # IMMEDIATE takes the write lock up front, so two writers wait (busy timeout) instead
        # of failing when a read lock is upgraded.
        return "BEGIN IMMEDIATE"

    rows_per_insert = 1000
    max_parameters = 32766  # SQLITE_MAX_VARIABLE_NUMBER since 3.32

    encoders = {
        "date": "iso_date",
        "datetime": "iso_datetime_space",
        "timestamp": "iso_datetime_space",
        "time": "iso_time",
        "uuid": "uuid_bytes",
        "json": "json_dumps",
        "decimal": "sqlite_decimal",
        "bool": "int_from_number",
        "uint64": "sqlite_uint64",
        "char": "rstrip_text",
    }
    decoders = {
        "bool": "to_bool",
        "date": "date_from_text",
        "datetime": "datetime_from_text",
        "timestamp": "datetime_from_text",
        "time": "time_from_text",
        "uuid": "uuid_from_bytes",
        "json": "json_loads",
    }

    fragment_rewrites = REWRITES

    # --- names ---
    def table(self, schema, table_name):
        return exp.Table(this=exp.to_identifier(f"{schema}.{table_name}", quoted=True))

    # --- types ---
    def column_type(self, t, type_schema=None):
        core = t.storage_core
        if t.autoincrement:
            return "INTEGER"
        if t.is_integer or core == "bool":
            return "INT"
        if core in ("float32", "float64", "decimal"):
            return "REAL"
        if core in ("bytes", "blob", "uuid"):
            return "BLOB"
        return "TEXT"

    def checks(self, column, t):
        core = t.storage_core
        if t.is_integer and not t.autoincrement:
            low, high = t.integer_range
            return [self.range_check(column, low, min(high, 2**63 - 1))]
        if t.is_integer:
            return [self.range_check(column, 0, None)] if t.core.startswith("uint") else []
        if core == "bool":
            return [exp.In(this=column.copy(), expressions=[exp.Literal.number(0), exp.Literal.number(1)])]
        if core in ("float32", "float64") and t.unsigned:
            return [self.range_check(column, 0, None)]
        if core == "decimal":
            bound = 10 ** (t.precision - t.scale)
            checks = [exp.LT(this=_call("abs", column), expression=exp.Literal.number(bound))]
            return checks + ([self.range_check(column, 0, None)] if t.unsigned else [])
        if core in ("char", "varchar"):
            return [exp.LTE(this=_call("length", column), expression=exp.Literal.number(t.length))]
        if core == "enum":
            return [self.enum_check(column, t.values)]
        if core == "uuid":
            return [exp.EQ(this=_call("length", column), expression=exp.Literal.number(16))]
        if core == "json":
            return [_null_or(column, _call("json_valid", column))]  # json_valid(NULL) is 0
        if core == "date":
            return [self.date_check(column)]
        if core in ("datetime", "timestamp"):
            pattern = f"{_DATE_GLOB} {_TIME_GLOB}*"
            return [
                _null_or(column, exp.And(this=_glob(column, pattern), expression=_not_null(_call("julianday", column))))
            ]
        if core == "time":
            return [_glob(column, f"{_TIME_GLOB}*")]
        return []

    @staticmethod
    def date_check(column):
        """A date is stored as the text DATE() gives back for it: `DATE(d) IS d` refuses any other text
        (NULL IS NULL lets a nullable column's NULL through) at half the cost per row of the GLOB and
        DATE() pair that tables declared before it keep; `d >= '0'` refuses the negative years DATE()
        would also give back."""
        same = exp.Is(this=_call("date", column), expression=column.copy())
        return exp.And(this=same, expression=exp.GTE(this=column.copy(), expression=exp.Literal.string("0")))

    def current_timestamp_default(self, attr):
        fsp = attr.attr_type.fsp
        fmt = "%Y-%m-%d %H:%M:%f" if fsp else "%Y-%m-%d %H:%M:%S"
        return exp.Paren(this=_call("strftime", exp.Literal.string(fmt), exp.Literal.string("now")))

    def autoincrement_constraints(self, attr, pk_names):
        if list(pk_names) != [attr.name]:
            raise DataJointError(
                f"auto_increment attribute `{attr.name}` must be the only primary-key attribute on SQLite."
            )
        return [
            exp.ColumnConstraint(kind=exp.PrimaryKeyColumnConstraint()),
            exp.ColumnConstraint(kind=exp.AutoIncrementColumnConstraint()),
        ]

    autoincrement_is_primary_key = True

    def table_suffix(self, comment, types=()):
        return " STRICT, WITHOUT ROWID" if _small_rows(types) else " STRICT"

    # --- comments, introspection (introspect.py) ---
    keeps_lineage_table = True
    keeps_native_types = False  # INT, REAL, TEXT, BLOB: every declared type goes into the comment
    keeps_comments_table = True

    def after_create(self, schema, table_name, columns, comment):
        from .introspect import comment_statements

        return comment_statements(schema, table_name, columns, comment)

    def after_drop_table(self, conn, schema, table_name):
        from .introspect import forget_statements

        return forget_statements(schema, table_name, self.list_tables(conn, schema))

    # --- alter: rebuild the table (alter.py) ---
    rebuilds_to_alter = True

    def alter_statements(self, conn, schema, table_name, changes, rebuild):
        from .alter import alter_statements

        return alter_statements(self, schema, table_name, rebuild)

    def rename_table_statement(self, schema, old, new):
        # the stored name carries the schema; references in other tables are rewritten by SQLite
        return f"ALTER TABLE {self.full_table_name(schema, old)} RENAME TO {self.quote(f'{schema}.{new}')}"

    def type_is_guess(self, attr_type):
        from .introspect import _AFFINITY

        return attr_type.declared in set(_AFFINITY.values())

    def alter_outside_transaction(self):
        return ["PRAGMA foreign_keys = OFF"], ["PRAGMA foreign_keys = ON"]

    def foreign_key_violations(self, conn, schema, table_name):
        from .alter import foreign_key_violations

        return foreign_key_violations(conn, schema, table_name)

    def introspect(self, conn, schemas):
        from .introspect import introspect

        # each table's facts, kept while its CREATE statement, indexes and comments stay the same
        known = self.__dict__.setdefault("_table_facts", {})
        return introspect(conn, schemas, known)

    def tables_by_schema(self, conn, schemas):
        from .introspect import tables_by_schema

        return tables_by_schema(conn, schemas)

    # --- schemas ---
    def create_schema(self, conn, name):
        conn.execute(f'INSERT OR IGNORE INTO "{SCHEMA_REGISTRY}" (name) VALUES (?)', (name,))

    def drop_schema(self, conn, name):
        # Drop tables children-first by retrying; SQLite refuses to drop a referenced table
        # only when rows reference it, and the schema is going away entirely.
        conn.execute("PRAGMA foreign_keys = OFF")
        try:
            for table in self.list_tables(conn, name):
                conn.execute(f'DROP TABLE IF EXISTS "{name}.{table}"')
        finally:
            conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f'DELETE FROM "{SCHEMA_REGISTRY}" WHERE name = ?', (name,))

    def list_schemas(self, conn):
        return [r[0] for r in conn.execute(f'SELECT name FROM "{SCHEMA_REGISTRY}" ORDER BY name').fetchall()]

    def list_tables(self, conn, schema):
        prefix = schema + "."
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ? ORDER BY name",
            (len(prefix), prefix),
        ).fetchall()
        return [r[0][len(prefix) :] for r in rows]

    # --- errors ---
    def translate_error(self, error, sql=""):
        if not isinstance(error, sqlite3.Error):
            return None
        message = str(error)
        if isinstance(error, sqlite3.IntegrityError):
            if message.startswith("UNIQUE constraint failed") or "PRIMARY KEY" in message:
                return DuplicateError(f"Duplicate entry: {message}")
            if message.startswith("NOT NULL constraint failed"):
                return MissingAttributeError(f"Missing required value: {message}")
            return IntegrityError(f"The database rejected the change: {message}")
        if "no such table" in message:
            return MissingTableError(message)
        if "no such column" in message:
            return UnknownAttributeError(message)
        if "syntax error" in message or "incomplete input" in message:
            return QuerySyntaxError(f"{message} in SQL: {sql}")
        if isinstance(error, sqlite3.ProgrammingError) and "bindings" in message:
            return QuerySyntaxError(f"{message}: {ARGUMENT_CONVENTIONS} SQL: {sql}")
        if isinstance(error, sqlite3.OperationalError) and "locked" in message:
            return DataJointError(f"The SQLite database stayed locked beyond the busy timeout: {message}")
        return DataJointError(f"SQLite error: {message}")

    def is_lost_connection(self, error):
        return isinstance(error, sqlite3.ProgrammingError) and "closed" in str(error)

    def is_transient(self, error):
        return isinstance(error, sqlite3.OperationalError) and re.search(r"locked|busy", str(error)) is not None
