"""What every database backend provides. The only place where dialects differ is this package.

A backend knows how to connect, how its columns represent each core type (and which CHECK
constraints make up for types it lacks), how schemas map to its namespaces, how to render a
sqlglot tree in its dialect, and how to turn its driver's exceptions into pipejoint errors.
"""

from __future__ import annotations

import datetime
import json
import operator
import re
import uuid
from dataclasses import dataclass, field

from sqlglot import exp

from ..core.types import AttributeType
from ..core.values import to_float32
from ..errors import DataJointError
from .rewriting import rewrite

# The DBAPI paramstyles our drivers use, and the marker each puts where a value goes in SQL text.
PLACEHOLDERS = {"qmark": "?", "format": "%s"}


_QUOTED: dict = {}  # (backend class, name) -> quoted identifier (Backend.quote)


class Backend:
    name = "base"
    dialect = None  # sqlglot dialect (name or instance)
    paramstyle = "qmark"  # the driver's DBAPI paramstyle: "qmark" (?) or "format" (%s)
    inline_indexes = False  # MySQL declares indexes inside CREATE TABLE
    inline_column_comments = False  # MySQL keeps column comments in CREATE TABLE
    # The database indexes no foreign key by itself (PostgreSQL), so tables get the supporting
    # index DataJoint declares; MySQL indexes them itself, and SQLite's tables stay as they were.
    declares_foreign_key_indexes = False
    # The schema keeps DataJoint 2.x's ~lineage table (every backend pipejoint ships).
    keeps_lineage_table = False
    max_name_length = 64
    # A failed statement leaves the open transaction unusable until it is rolled back (PostgreSQL),
    # so nothing more can be asked after an error unless a savepoint was taken before it.
    error_aborts_transaction = False
    one_writer_per_file = False  # SQLite: one write lock for the whole database
    # The database has no table or column comments (SQLite): the backend keeps the strings DataJoint
    # writes there in a hidden table of the schema, written by after_create and read by introspect().
    # Writing them is a row insert, so an earlier pipejoint's `~catalog` is upgraded to them on first
    # open (catalog/catalog_v1.py); on the servers a comment is part of the column's definition.
    keeps_comments_table = False
    # The server has MySQL's native types (tinyint, int unsigned, double, longblob): a column declared
    # with one reads back as declared. PostgreSQL stores them as other types, so their declared
    # spelling goes into the column comment like a core type's.
    keeps_native_types = True

    def __init__(self, settings):
        self.settings = settings
        # The value marker of SQL text for this driver ("?" or "%s"), set from paramstyle: the one
        # rule for SQL written by hand (catalog records, jobs, populate); the compiler uses it too.
        self.placeholder = PLACEHOLDERS[self.paramstyle]

    def max_value_bytes(self, connection):
        """The largest single value an INSERT can carry (None: no limit short of the type's own)."""
        return None

    value_limit_fix = ""  # how to raise max_value_bytes, for the error message

    # --- connecting -------------------------------------------------------------------
    def connect(self):
        """Open and return a DBAPI connection in autocommit mode."""
        raise NotImplementedError

    def describe_target(self):
        """Where this backend connects, for messages (no password)."""
        s = self.settings
        return f"{s.get('user')}@{s.get('host')}:{s.get('port') or self.default_port}"

    default_port = None

    def settings_for_another_process(self, settings):
        """Connection settings a worker process (maybe in another directory) uses to reach the same database."""
        return settings

    def begin_sql(self):
        return "BEGIN"

    def ping(self, raw):
        raw.cursor().execute("SELECT 1")

    def connection_id(self, raw) -> int:
        """The server's id of this session (DataJoint's ``conn.connection_id``)."""
        raise NotImplementedError

    current_user_sql = "current_user"  # an expression: SELECT it

    def current_user(self, session) -> str:
        """The user the session is logged in as (DataJoint's ``conn.get_user()``)."""
        return session.execute(f"SELECT {self.current_user_sql}").fetchone()[0]

    # --- SQL written by the user (connection.query) -------------------------------------
    def user_statement(self, sql, args):
        """SQL written to DataJoint's conventions (``%s`` for each argument, ``%%`` for a literal
        ``%``) and its arguments, in the form this driver runs. PyMySQL and psycopg read those
        conventions themselves whenever arguments are given, even none (``()``), as DataJoint's
        drivers do; with ``args=None`` the text goes to the server untouched."""
        return sql, args

    # --- names ------------------------------------------------------------------------
    def table(self, schema, table_name) -> exp.Table:
        """A sqlglot table reference for a table of a schema."""
        return exp.Table(this=exp.to_identifier(table_name, quoted=True), db=exp.to_identifier(schema, quoted=True))

    def quote(self, name):
        """The quoted identifier, remembered: hand-written statements (job protocol, catalog reads)
        quote the same few names on every call, and the dialect's generator costs ~20 µs each time."""
        key = (type(self), name)
        text = _QUOTED.get(key)
        if text is None:
            text = _QUOTED[key] = exp.to_identifier(name, quoted=True).sql(dialect=self.dialect)
        return text

    def full_table_name(self, schema, table_name):
        return self.table(schema, table_name).sql(dialect=self.dialect)

    # --- rendering --------------------------------------------------------------------
    # {sqlglot node class: rewrite} that makes MySQL-flavoured fragments mean here what they mean
    # in MySQL (each engine's rewrites.py); None renders the tree as sqlglot transpiles it
    fragment_rewrites = None
    key_array_condition = None  # (columns, markers, attributes) -> condition, where parameters are limited
    nulls_sort_low = True  # NULL comes before every value in ascending order (MySQL, SQLite; not PostgreSQL)

    def order_item(self, column, desc, nullable):
        """An ORDER BY item. NULLs sort as in MySQL (first when ascending); a column that is never
        NULL gets the engine's plain order, which its index can serve: on PostgreSQL an
        ``ASC NULLS FIRST`` is not the primary key index's order, so the engine scans and sorts."""
        nulls_first = not desc if nullable else (desc != self.nulls_sort_low)
        return exp.Ordered(this=column, desc=desc, nulls_first=nulls_first)

    def key_after(self, columns, markers):
        """The rows after a key in key order, ``(a, b) > (x, y)``: a row value, which SQLite and
        PostgreSQL run as one range of the primary-key index starting at the key."""
        if len(columns) == 1:
            return exp.GT(this=columns[0], expression=markers[0])
        return exp.GT(this=exp.Tuple(expressions=columns), expression=exp.Tuple(expressions=markers))

    def render(self, tree, has_params=False):
        """Render a sqlglot tree as SQL text for this backend's driver."""
        if self.fragment_rewrites is not None:
            tree = rewrite(tree, self.fragment_rewrites)
        if has_params and self.paramstyle == "format":
            tree = escape_percent(tree)
        return tree.sql(dialect=self.dialect)

    # --- types ------------------------------------------------------------------------
    def column_type(self, attr_type: AttributeType, type_schema=None) -> str:
        """The column's SQL type. `type_schema` is where types the column is made of live (PostgreSQL's enums)."""
        raise NotImplementedError

    def type_statements(self, attr_type: AttributeType, type_schema) -> list:
        """Statements that create the types a column needs before CREATE TABLE (PostgreSQL's enums)."""
        return []

    def after_drop(self, schema) -> list:
        """Statements run after DROP TABLE (PostgreSQL removes enum types no column uses any more)."""
        return []

    def after_drop_table(self, conn, schema, table_name) -> list:
        """Statements run after a table was dropped (SQLite forgets its comments)."""
        return []

    def checks(self, column: exp.Expression, attr_type: AttributeType) -> list:
        """CHECK conditions that make the column enforce its declared type."""
        return []

    @staticmethod
    def range_check(column, low, high):
        if low == 0 and high is None:
            return exp.GTE(this=column.copy(), expression=exp.Literal.number(0))
        return exp.Between(this=column.copy(), low=exp.Literal.number(low), high=exp.Literal.number(high))

    @staticmethod
    def enum_check(column, values):
        return exp.In(this=column.copy(), expressions=[exp.Literal.string(v) for v in values])

    def default_value(self, attr) -> exp.Expression | None:
        """The DEFAULT clause for an attribute, or None when it has none."""
        default = attr.default
        if attr.nullable:
            return exp.Null()
        if default is None:
            return None
        upper = default.upper()
        if upper.startswith("CURRENT_TIMESTAMP"):
            return self.current_timestamp_default(attr)
        return literal_for_default(default, attr.attr_type, self)

    def current_timestamp_default(self, attr):
        fsp = attr.attr_type.fsp
        return exp.CurrentTimestamp(this=exp.Literal.number(fsp) if fsp else None)

    def bool_literal(self, value):
        return exp.Literal.number(1 if value else 0)

    # --- DDL --------------------------------------------------------------------------
    autoincrement_is_primary_key = False  # SQLite: INTEGER PRIMARY KEY AUTOINCREMENT

    def table_suffix(self, comment, types=()):
        """Text after CREATE TABLE (...): table options and comment; `types`: the columns' stored types."""
        return ""

    def after_create(self, schema, table_name, columns, comment):
        """Statements run after CREATE TABLE: the table's and columns' comments where they are not
        part of it (PostgreSQL's COMMENT ON, SQLite's ~comments). `columns` is (name, comment) pairs."""
        return []

    # --- alter (backends/alter.py: the changes; each engine's alter.py: the SQL) ---------
    # The table is changed by rebuilding it (SQLite, whose ALTER TABLE changes no column or
    # constraint): alter_statements gets a Rebuild, and foreign_key_violations checks the result.
    rebuilds_to_alter = False

    def alter_statements(self, conn, schema, table_name, changes, rebuild) -> list:
        """The statements that apply `changes` (backends/alter.py) to a table, in order."""
        raise NotImplementedError(f"{self.name} cannot alter tables")

    def alter_outside_transaction(self) -> tuple[list, list]:
        """Statements to run before and after the altering transaction (SQLite's foreign_keys pragma,
        which cannot change inside one)."""
        return [], []

    def rename_table_statement(self, schema, old, new) -> str:
        """Rename a table within its schema; foreign keys of other tables follow it."""
        return f"ALTER TABLE {self.full_table_name(schema, old)} RENAME TO {self.quote(new)}"

    def type_is_guess(self, attr_type) -> bool:
        """The type was read from a column that says little of it (SQLite's INT, REAL, TEXT, BLOB in a
        table made without pipejoint): a definition's narrower type for it is no difference."""
        return False

    def foreign_key_violations(self, conn, schema, table_name) -> list:
        """Rows of the table, or of tables referring to it, that break a foreign key after a rebuild
        (as (table, rowid, parent) triples); servers check their foreign keys on ALTER themselves."""
        return []

    def serialized_column_statements(self, schema, table_name, names):
        """Statements for columns holding serialized values (blobs, attachments), after CREATE TABLE."""
        return []

    def autoincrement_constraints(self, attr, pk_names):
        """Column constraints for an auto_increment attribute (most backends put it in the type)."""
        return []

    def create_schema(self, conn, name):
        raise NotImplementedError

    def drop_schema(self, conn, name):
        raise NotImplementedError

    def list_schemas(self, conn):
        raise NotImplementedError

    def list_tables(self, conn, schema):
        raise NotImplementedError

    def schema_exists(self, conn, name):
        return name in self.list_schemas(conn)

    # --- introspection ----------------------------------------------------------------
    def catalog_fingerprint(self, conn):
        """A value that changes whenever any client declares, drops or alters a table, a foreign
        key, a comment or an index anywhere in the database; None when the backend has no exact
        one (the table graph is then read again on every cascade)."""
        return None

    def tables_by_schema(self, conn, schemas):
        """{schema: [table name, ...]} of the given schemas, in one query (hidden tables included)."""
        return {schema: self.list_tables(conn, schema) for schema in schemas}

    def introspect(self, conn, schemas):
        """{schema: SchemaFacts}: what the database's catalog (with SQLite's ~comments) says about
        every table of the schemas. A few queries for all the schemas together, never one per table.
        """
        raise NotImplementedError

    def on_conflict(self, mode, key_names, other_names, target=None):
        """The clause that skips ("skip") rows whose key or any unique attribute exists, or overwrites
        ("replace") rows whose key exists.

        `target` is (schema, table) of the table inserted into, for backends that qualify names.

        PostgreSQL and SQLite share the standard ON CONFLICT form; MySQL overrides this.
        """
        if mode is None:
            return None
        if mode == "skip":  # any unique index, not only the primary key, as MySQL's INSERT IGNORE
            return exp.OnConflict(action=exp.var("DO NOTHING"))
        keys = [exp.to_identifier(n, quoted=True) for n in key_names]
        if not other_names:
            return exp.OnConflict(conflict_keys=keys, action=exp.var("DO NOTHING"))
        updates = [
            exp.EQ(this=exp.column(n, quoted=True), expression=exp.column(n, table="excluded", quoted=True))
            for n in other_names
        ]
        return exp.OnConflict(conflict_keys=keys, action=exp.var("DO UPDATE"), expressions=updates)

    def insert_defaults(self, table: exp.Table) -> exp.Insert:
        """An INSERT of one row made of defaults only (standard SQL: DEFAULT VALUES; MySQL overrides)."""
        return exp.Insert(this=table, default=True)

    # --- batch insert -----------------------------------------------------------------
    # Rows sent by one INSERT ... VALUES (...), (...) instead of executemany, where the driver steps
    # a statement per row (SQLite: about half the cost per row); 0: executemany (or COPY).
    rows_per_insert = 0
    max_parameters = 0  # parameters one statement may bind (with rows_per_insert)
    # A batch of up to this many rows (with no bytes or blob column) goes as one multi-row INSERT
    # even where larger ones go by COPY: one round trip, where PostgreSQL's COPY takes two.
    few_rows_per_insert = 0

    def executemany_is_one_statement(self, sql, rows):
        """Whether the driver's executemany sends these rows as one statement, which a failure undoes
        by itself (then a batch insert needs no savepoint for its diagnosis); unknown: False."""
        return False

    def copy_statement(self, schema, table_name, names):
        """A bulk-load statement (PostgreSQL COPY) for plain inserts, or None to use executemany."""
        return None

    def copy_rows(self, raw, statement, rows):
        raise NotImplementedError

    # --- values -----------------------------------------------------------------------
    def select_value(self, node, attr_type):
        """How a column is selected; MySQL widens float32 so its full value reaches the driver."""
        return node

    encoders = {}  # storage core type -> converter name, for values sent to the driver
    decoders = {}  # storage core type -> converter name, for values read from the driver

    def encoder(self, attr_type):
        """A function turning a validated Python value into a driver parameter, or None."""
        name = self.encoders.get(attr_type.storage_core)
        return CONVERTERS[name] if name else None

    def decoder(self, attr_type):
        """A function turning a driver value into the Python value users get, or None."""
        core = attr_type.storage_core
        if core == "decimal":
            return _decimal_from_number(attr_type.scale)
        name = self.decoders.get(core)
        return CONVERTERS[name] if name else None

    def value_encoder(self, attr_type):
        """fn(value) -> what encode() gives, for values bound again and again (populate's keys): plain
        values are checked inline. Raises ValueError for anything encode() has to look at."""
        from ..core.values import quick_normalizer

        normalize, encode = quick_normalizer(attr_type), self.encoder(attr_type)
        return normalize if encode is None else (lambda value: encode(normalize(value)))

    def encode(self, value, attr):
        """One value bound in a restriction, encoded for the driver."""
        from ..core.values import normalize

        if value is None:
            return None
        value = normalize(value, attr)
        encode = self.encoder(attr.attr_type) if attr is not None else None
        return encode(value) if encode else value

    # --- errors -----------------------------------------------------------------------
    def translate_error(self, error, sql=""):
        """Return a pipejoint error for a driver exception, or None to re-raise it."""
        return None

    def is_lost_connection(self, error):
        return False

    def is_transient(self, error):
        """True when a retry may succeed (e.g. SQLite busy)."""
        return False

    # --- jobs -------------------------------------------------------------------------
    # Job times are read off the database's clock, at DataJoint's precision (datetime(3)), so that
    # workers on hosts with skewed clocks, and DataJoint's workers, agree on them.
    now_sql = "CURRENT_TIMESTAMP(3)"

    def now_plus_sql(self, seconds: float) -> str:
        """The database's time `seconds` from now (negative: ago), as a SQL expression."""
        return f"({self.now_sql} + INTERVAL {round(seconds * 1e6)} MICROSECOND)"

    has_sessions = False  # a server's sessions, which live_sessions() lists

    def live_sessions(self, conn) -> tuple[set[int], bool] | None:
        """The ids of the server's open sessions, and whether this session sees every user's.

        A job reserved by a session that is gone was abandoned by a dead worker: the server's own
        knowledge of dead sessions frees it at once, for DataJoint's workers as for ours. None when
        the database has no sessions (SQLite).
        """
        return None


# --- what introspect() reports: the raw facts of the server's catalog ----------------------------


@dataclass(frozen=True)
class ColumnFacts:
    """One column as the server describes it.

    ``type`` is the column's type written in the definition language (``int unsigned``,
    ``varchar(32)``, ``enum('a','b')``, ``datetime(3)``); the backend maps its own spelling
    (``sql_type``) to it, choosing the closest type pipejoint knows for types it has none for.
    ``default`` is the default's value without SQL quotes (None: no default, or NULL), and
    ``default_is_expression`` says it is an expression such as CURRENT_TIMESTAMP(3) rather than a
    literal. ``key_position`` is the 1-based position in the primary key (None: not in it).
    """

    name: str
    sql_type: str
    type: str
    nullable: bool
    default: str | None = None
    default_is_expression: bool = False
    comment: str = ""
    key_position: int | None = None
    autoincrement: bool = False


@dataclass(frozen=True)
class ForeignKeyFacts:
    """A foreign key: child columns -> parent columns, in the constraint's order."""

    name: str
    columns: tuple
    parent_schema: str
    parent_table: str
    parent_columns: tuple


@dataclass(frozen=True)
class IndexFacts:
    """A secondary index over plain columns (the primary key and expression indexes are left out)."""

    name: str
    columns: tuple
    unique: bool


@dataclass
class TableFacts:
    name: str
    comment: str = ""
    columns: list = field(default_factory=list)  # ColumnFacts in the table's order
    foreign_keys: list = field(default_factory=list)
    indexes: list = field(default_factory=list)


@dataclass
class SchemaFacts:
    """Every table of a schema (hidden ones included), by name, and PostgreSQL's enum types by name."""

    name: str
    tables: dict = field(default_factory=dict)
    enum_types: dict = field(default_factory=dict)  # type name -> labels in order


def sql_placeholders(count, placeholder="%s"):
    """`%s, %s, ...`: one marker per value of an IN list."""
    return ", ".join([placeholder] * count)


def escape_percent(tree):
    """Double `%` in literals and turn `a % b` into MOD(a, b): %s-style drivers read `%` as a marker."""
    tree = tree.copy()
    for literal in tree.find_all(exp.Literal):
        if literal.is_string and "%" in literal.this:
            literal.set("this", literal.this.replace("%", "%%"))
    for mod in list(tree.find_all(exp.Mod)):
        mod.replace(exp.Anonymous(this="MOD", expressions=[mod.this, mod.expression]))
    return tree


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def unquote(text):
    """Strip one level of SQL or Python quotes from a default written in a definition."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        q = text[0]
        return text[1:-1].replace(q * 2, q).replace("\\" + q, q)
    return text


def literal_for_default(default, attr_type, backend):
    """A typed SQL literal for a definition default such as `5`, `"mouse"` or `'a'`."""
    value = unquote(default.strip())
    if attr_type.core == "bool":
        lowered = value.lower()
        if lowered in ("true", "1"):
            return backend.bool_literal(True)
        if lowered in ("false", "0"):
            return backend.bool_literal(False)
        raise DataJointError(f"Default `{default}` is not a boolean: use true or false.")
    if attr_type.is_numeric:
        if not _NUMBER.match(value):
            raise DataJointError(f"Default `{default}` is not a number for type {attr_type.declared}.")
        return exp.Literal.number(value)
    return exp.Literal.string(value)


# --- value conversion between Python and the drivers -----------------------------------------
# Each backend maps a storage core type to an encoder (Python value -> driver parameter) and a
# decoder (driver value -> Python value). None means the driver already does the right thing.


def _uuid_bytes(value):
    return value.bytes


def _uuid_from_bytes(value):
    return None if value is None else uuid.UUID(bytes=bytes(value))


def _json_dumps(value):
    return json.dumps(value, separators=(",", ":"))


def _json_loads(value):
    return None if value is None else json.loads(value)


def _to_bool(value):
    return None if value is None else bool(value)


def _time_from_timedelta(value):
    if value is None:
        return None
    if isinstance(value, datetime.time):
        return value
    seconds = value.total_seconds()
    return (datetime.datetime.min + value).time() if 0 <= seconds < 86400 else value


def _decimal_from_number(scale):
    from decimal import Context, Decimal

    quantum = Decimal(1).scaleb(-scale)
    wide = Context(prec=100)

    def decode(value):
        return (
            None
            if value is None
            else Decimal(repr(value) if isinstance(value, float) else value).quantize(quantum, context=wide)
        )

    return decode


def _int_from_number(value):
    return None if value is None else int(value)


def _rstrip(value):
    return None if value is None else value.rstrip(" ")


def _to_bytes(value):
    return None if value is None else bytes(value)


def _to_float(value):
    return float(value)


def _sqlite_decimal(value):
    """SQLite keeps decimals as REAL: exact to 15 significant digits, refused beyond."""
    digits = len(value.normalize().as_tuple().digits) if value else 1
    if digits > 15:
        raise ValueError(
            f"{value} has {digits} significant digits; SQLite stores decimals exactly only up to 15. "
            "Round the value, or use PostgreSQL or MySQL for exact wider decimals"
        )
    return float(value)


def _sqlite_uint64(value):
    if value > 2**63 - 1:
        raise ValueError(
            f"{value} is above 2^63-1, the largest integer SQLite stores; use PostgreSQL or MySQL for larger uint64"
        )
    return value


def _rstrip_text(value):
    return value.rstrip(" ")


def _to_float32(value):
    return to_float32(value)


CONVERTERS = {
    "to_float32": _to_float32,
    "sqlite_decimal": _sqlite_decimal,
    "sqlite_uint64": _sqlite_uint64,
    "rstrip_text": _rstrip_text,
    # normalized values of one type: the type's own method, called from C (map) over a column
    "iso_date": datetime.date.isoformat,
    "iso_datetime_space": operator.methodcaller("isoformat", " "),
    "iso_time": datetime.time.isoformat,
    "uuid_bytes": _uuid_bytes,
    "uuid_from_bytes": _uuid_from_bytes,
    "json_dumps": _json_dumps,
    "json_loads": _json_loads,
    "to_bool": _to_bool,
    # decoders are never given None: the parsers themselves, called from C (map) over a column
    "date_from_text": datetime.date.fromisoformat,
    "datetime_from_text": datetime.datetime.fromisoformat,
    "time_from_text": datetime.time.fromisoformat,
    "time_from_timedelta": _time_from_timedelta,
    "int_from_number": _int_from_number,
    "rstrip": _rstrip,
    "to_bytes": _to_bytes,
    "to_float": _to_float,
}
