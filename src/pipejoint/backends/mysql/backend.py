"""MySQL and MariaDB through PyMySQL. A DataJoint schema is a MySQL database.

Sessions run in strict mode so bad values are rejected rather than silently truncated.
Databases use utf8mb4 with a binary collation, so string comparison is case-sensitive as on
SQLite and PostgreSQL and the same restriction gives the same rows on every backend.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL

from ...errors import (
    AccessError,
    DataJointError,
    DuplicateError,
    IntegrityError,
    LostConnectionError,
    MissingAttributeError,
    MissingTableError,
    QuerySyntaxError,
    TableChangedError,
    UnknownAttributeError,
)
from .. import ARGUMENT_CONVENTIONS
from ..base import Backend
from .rewrites import REWRITES

_INTEGERS = {
    "int8": "tinyint",
    "uint8": "tinyint unsigned",
    "int16": "smallint",
    "uint16": "smallint unsigned",
    "int24": "mediumint",
    "uint24": "mediumint unsigned",
    "int32": "int",
    "uint32": "int unsigned",
    "int64": "bigint",
    "uint64": "bigint unsigned",
    "year": "year",
}
_ERROR_CODES = {
    1062: DuplicateError,
    1586: DuplicateError,
    1216: IntegrityError,
    1217: IntegrityError,
    1451: IntegrityError,
    1452: IntegrityError,
    3730: IntegrityError,
    3819: IntegrityError,  # MySQL CHECK
    4025: IntegrityError,  # MariaDB CHECK
    1264: IntegrityError,  # out of range
    1265: IntegrityError,  # data truncated (bad enum value)
    1366: IntegrityError,  # incorrect value
    1406: IntegrityError,  # data too long
    1292: IntegrityError,  # incorrect date/time value
    1048: MissingAttributeError,
    1364: MissingAttributeError,
    1146: MissingTableError,
    1412: TableChangedError,  # re-created by another client since this transaction saw it
    1049: MissingTableError,
    1046: MissingTableError,  # no database selected: an unqualified table name
    1054: UnknownAttributeError,
    1064: QuerySyntaxError,
    1044: AccessError,
    1045: AccessError,
    1142: AccessError,
    1143: AccessError,
}
_LOST = {0, 2006, 2013, 2014, 2045, 2055}
SYSTEM_SCHEMAS = ("information_schema", "mysql", "performance_schema", "sys")  # the server's own databases
SQL_MODE = (
    "STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY"
)


class PipejointMySQL(MySQL):
    """MySQL as MariaDB reads it: REGEXP where sqlglot writes REGEXP_LIKE()."""

    class Generator(MySQL.Generator):
        TRANSFORMS = {
            **MySQL.Generator.TRANSFORMS,
            # MariaDB has the REGEXP operator but no REGEXP_LIKE()
            exp.RegexpLike: lambda self, e: f"{self.sql(e, 'this')} REGEXP {self.sql(e, 'expression')}",
        }


class MySQLBackend(Backend):
    name = "mysql"
    dialect = PipejointMySQL()
    paramstyle = "format"
    inline_indexes = True
    inline_column_comments = True
    keeps_lineage_table = True
    default_port = 3306
    fragment_rewrites = REWRITES
    has_sessions = True
    current_user_sql = "USER()"  # user@host, as DataJoint reports it

    def key_after(self, columns, markers):
        """``a > x OR (a = x AND b > y)``: MariaDB reads a row value ``(a, b) > (x, y)`` as no index
        range (a full index scan per page of an iteration), and this form as ranges of the primary
        key that start at the key."""
        terms = []
        for i, column in enumerate(columns):
            equal = [exp.EQ(this=c.copy(), expression=m.copy()) for c, m in zip(columns[:i], markers[:i])]
            after = exp.GT(this=column.copy(), expression=markers[i].copy())
            terms.append(exp.and_(*equal, after) if equal else after)
        return exp.or_(*[exp.Paren(this=t) for t in terms]) if len(terms) > 1 else terms[0]

    def connect(self):
        try:
            import pymysql
        except ModuleNotFoundError as error:
            raise DataJointError(
                'The MySQL backend needs PyMySQL: pip install "pipejoint[mysql]", or in a clone of '
                'pipejoint, from its folder: pip install -e ".[mysql]"'
            ) from error
        s = self.settings
        try:
            return pymysql.connect(
                host=s.get("host") or "localhost",
                port=int(s.get("port") or self.default_port),
                user=s.get("user") or "root",
                password=s.get("password") or "",
                charset="utf8mb4",
                autocommit=True,
                connect_timeout=10,
                init_command=f"SET SESSION sql_mode = '{SQL_MODE}'",
                **_tls_options(s.get("use_tls")),
            )
        except pymysql.err.OperationalError as error:
            raise LostConnectionError(
                f"Cannot connect to MySQL at {self.describe_target()}: {error.args[-1]}"
            ) from None

    def connection_id(self, raw):
        return raw.thread_id()

    encoders = {"uuid": "uuid_bytes", "json": "json_dumps", "bool": "int_from_number"}
    decoders = {"bool": "to_bool", "uuid": "uuid_from_bytes", "json": "json_loads", "time": "time_from_timedelta"}

    def select_value(self, node, attr_type):
        # The text protocol prints FLOAT with 6 digits; DOUBLE carries the exact float32 value.
        if attr_type.storage_core == "float32":
            return exp.Cast(this=node, to=exp.DataType.build("double"))
        return node

    def insert_defaults(self, table):
        """MySQL has no DEFAULT VALUES; an empty column list and an empty row mean the same."""
        return exp.Insert(
            this=exp.Schema(this=table, expressions=[]), expression=exp.Values(expressions=[exp.Tuple(expressions=[])])
        )

    def on_conflict(self, mode, key_names, other_names, target=None):
        if mode is None:
            return None

        def column(name):  # qualified, so INSERT ... SELECT's own columns do not make it ambiguous
            if target is None:
                return exp.column(name, quoted=True)
            return exp.Column(
                this=exp.to_identifier(name, quoted=True),
                table=exp.to_identifier(target[1], quoted=True),
                db=exp.to_identifier(target[0], quoted=True),
            )

        if mode == "skip" or not other_names:
            first = key_names[0]
            updates = [exp.EQ(this=column(first), expression=column(first))]
        else:
            updates = [
                exp.EQ(
                    this=column(n), expression=exp.Anonymous(this="VALUES", expressions=[exp.column(n, quoted=True)])
                )
                for n in other_names
            ]
        return exp.OnConflict(duplicate=True, expressions=updates, action=exp.var("UPDATE"))

    def describe_target(self):
        s = self.settings
        return f"{s.get('user') or 'root'}@{s.get('host') or 'localhost'}:{s.get('port') or self.default_port}"

    def begin_sql(self):
        return "START TRANSACTION"

    def quote(self, name):
        return "`" + name.replace("`", "``") + "`"

    # --- types ---
    def column_type(self, t, type_schema=None):
        core = t.storage_core
        if t.is_integer:
            return _INTEGERS[core] + (" AUTO_INCREMENT" if t.autoincrement else "")
        if core == "enum":
            return "enum(" + ",".join(exp.Literal.string(v).sql(self.dialect) for v in t.values) + ")"
        return {
            "float32": "float",
            "float64": "double",
            "bool": "tinyint",
            "decimal": f"decimal({t.precision},{t.scale})",
            "char": f"char({t.length})",
            "varchar": f"varchar({t.length})",
            "date": "date",
            "datetime": f"datetime({t.fsp})" if t.fsp else "datetime",
            "timestamp": f"timestamp({t.fsp})" if t.fsp else "timestamp",
            "time": f"time({t.fsp})" if t.fsp else "time",
            "uuid": "binary(16)",
            "json": "json",
            "bytes": "longblob",
            "blob": "longblob",
            "text": "longtext",
        }[core]

    def checks(self, column, t):
        core = t.storage_core
        if core == "bool":
            return [exp.In(this=column.copy(), expressions=[exp.Literal.number(0), exp.Literal.number(1)])]
        if core in ("float32", "float64", "decimal") and t.unsigned:
            return [self.range_check(column, 0, None)]
        if core == "time":
            # MySQL TIME is a duration up to 838 hours; a time of day stays within one day.
            return [
                exp.Between(
                    this=column.copy(), low=exp.Literal.string("00:00:00"), high=exp.Literal.string("23:59:59.999999")
                )
            ]
        return []

    def table_suffix(self, comment, types=()):
        suffix = " ENGINE=InnoDB"
        if comment:
            suffix += " COMMENT=" + exp.Literal.string(comment).sql(dialect=self.dialect)
        return suffix

    def rename_table_statement(self, schema, old, new):
        return f"RENAME TABLE {self.full_table_name(schema, old)} TO {self.full_table_name(schema, new)}"

    # --- alter: ALTER TABLE (alter.py) ---
    def alter_statements(self, conn, schema, table_name, changes, rebuild):
        from .alter import alter_statements

        return alter_statements(self, conn, schema, table_name, changes)

    # --- schemas ---
    def create_schema(self, conn, name):
        conn.execute(f"CREATE DATABASE IF NOT EXISTS {self.quote(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")

    def drop_schema(self, conn, name):
        if name.lower() in SYSTEM_SCHEMAS:  # a root login could drop `mysql` itself
            raise AccessError(f"`{name}` is the server's own database: pipejoint never drops it.")
        conn.execute(f"DROP DATABASE IF EXISTS {self.quote(name)}")

    def schema_exists(self, conn, name):
        """Whether the database exists, MySQL's own included (information_schema is there, not to be created)."""
        placeholder = self.placeholder
        query = f"SELECT 1 FROM information_schema.schemata WHERE schema_name = {placeholder}"
        return bool(conn.execute(query, (name,)).fetchall())

    def list_schemas(self, conn):
        rows = conn.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN "
            f"({', '.join(repr(n) for n in SYSTEM_SCHEMAS)}) ORDER BY schema_name"
        ).fetchall()
        return [r[0] for r in rows]

    def list_tables(self, conn, schema):
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name",
            (schema,),
        ).fetchall()
        return [r[0] for r in rows]

    # --- introspection (introspect.py) ---
    def introspect(self, conn, schemas):
        from .introspect import introspect

        return introspect(conn, schemas)

    def tables_by_schema(self, conn, schemas):
        from .introspect import tables_by_schema

        return tables_by_schema(conn, schemas)

    # --- errors ---
    value_limit_fix = (
        "Raise max_allowed_packet on the MySQL server (SET GLOBAL max_allowed_packet = 1073741824; or "
        "max_allowed_packet = 1G under [mysqld] in my.cnf) and reconnect, or keep large values in an object "
        "store (<blob@store>)."
    )

    def max_value_bytes(self, connection):
        """The server's max_allowed_packet: a larger statement makes the server drop the connection."""
        if getattr(self, "_max_packet", None) is None:
            self._max_packet = int(connection.execute("SELECT @@max_allowed_packet").fetchone()[0])
        return self._max_packet

    def executemany_is_one_statement(self, sql, rows):
        """PyMySQL's executemany sends an INSERT's rows as one statement while its text stays under
        the cursor's max_stmt_length: judged here from an upper bound of each value's quoted length."""
        from pymysql.cursors import RE_INSERT_VALUES, Cursor

        if len(rows) > 1000 or not RE_INSERT_VALUES.match(sql):
            return False
        size = len(sql) * 2
        for row in rows:
            for value in row:
                if isinstance(value, str):
                    size += 8 * len(value) + 8  # 4 bytes a character, each maybe escaped
                elif isinstance(value, (bytes, bytearray, memoryview)):
                    size += 2 * len(value) + 16
                else:
                    size += 48
        return size <= Cursor.max_stmt_length

    def translate_error(self, error, sql=""):
        import pymysql

        if not isinstance(error, pymysql.err.MySQLError):
            return None
        code = error.args[0] if error.args and isinstance(error.args[0], int) else None
        message = error.args[1] if len(error.args) > 1 else str(error)
        if self.is_lost_connection(error):
            return LostConnectionError(f"Lost the connection to MySQL: {message}")
        if code is None and isinstance(error, pymysql.err.ProgrammingError):  # PyMySQL's own %-formatting failed
            return QuerySyntaxError(f"{message}: {ARGUMENT_CONVENTIONS} SQL: {sql}")
        cls = _ERROR_CODES.get(code)
        if cls is not None:
            return cls(message if cls is not QuerySyntaxError else f"{message} in SQL: {sql}")
        return DataJointError(f"MySQL error {code}: {message}")

    def is_lost_connection(self, error):
        import pymysql

        if isinstance(error, pymysql.err.InterfaceError):
            return True
        code = error.args[0] if getattr(error, "args", None) and isinstance(error.args[0], int) else None
        return isinstance(error, pymysql.err.OperationalError) and code in _LOST

    def live_sessions(self, conn):
        """Sessions in the process list: every user's with the PROCESS privilege, else only this account's."""
        ids = {int(r[0]) for r in conn.execute("SELECT ID FROM information_schema.PROCESSLIST").fetchall()}
        sees_all = conn.execute(
            "SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'PROCESS'"
        ).fetchone()[0]
        return ids, bool(sees_all)

    def is_transient(self, error):
        """Deadlock (1213) or lock wait timeout (1205) between concurrent workers: retry."""
        code = error.args[0] if getattr(error, "args", None) and isinstance(error.args[0], int) else None
        return code in (1205, 1213)


def _tls_options(use_tls):
    """PyMySQL's TLS arguments for DataJoint's ``use_tls``: None uses TLS when the server offers it
    (PyMySQL's default), False never, True requires it, a dict gives PyMySQL's ssl options."""
    if use_tls is False:
        return {"ssl_disabled": True}
    if use_tls is True:
        return {"ssl": {"verify_mode": False}}  # required; the server's certificate is not checked, as in DataJoint
    if isinstance(use_tls, dict):
        return {"ssl": use_tls}
    return {}
