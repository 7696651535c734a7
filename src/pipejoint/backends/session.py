"""The driver session with one database: queries, transactions, reconnects, error translation.

Outside a transaction every statement commits on its own (autocommit). ``with conn.transaction:``
groups statements: commit on success, rollback on any exception. A connection lost outside a
transaction is restored and the statement re-run; inside one, that cannot be done safely, so the
transaction is reported lost.

Which database a new session opens follows ``dj.config`` and the arguments, as DataJoint's users
expect (``settings.Config.choose_backend``): a configured server never ends in a SQLite file.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
import weakref
from typing import TYPE_CHECKING, Any

from ..errors import LostConnectionError, MissingTableError, QuerySyntaxError, TableChangedError, TransactionError
from ..settings import Config, split_host_port
from ..settings import config as process_config
from . import ARGUMENT_CONVENTIONS, get_backend, query_cache
from .cache import LRUCache

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from typing_extensions import Self

_live: weakref.WeakSet[Session] = weakref.WeakSet()  # every Session of this process, for closing them before a fork


def live_connections() -> list[Session]:
    """The sessions (connections) of this process that are still referenced."""
    return list(_live)


logger = logging.getLogger("pipejoint")


class DictCursor:
    """Wraps a DBAPI cursor so rows come back as dicts."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._names = [d[0] for d in cursor.description] if cursor.description else []

    def fetchone(self) -> dict[str, Any] | None:
        row = self._cursor.fetchone()
        return None if row is None else dict(zip(self._names, row))

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(zip(self._names, row)) for row in self._cursor.fetchall()]

    def fetchmany(self, size: int) -> list[dict[str, Any]]:
        return [dict(zip(self._names, row)) for row in self._cursor.fetchmany(size)]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self._cursor:
            yield dict(zip(self._names, row))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def connection_target(
    host: str | None = None,
    user: str | None = None,
    password: str | None = None,
    port: int | str | None = None,
    *,
    backend: str | None = None,
    database_name: str | None = None,
    use_tls: bool | dict | None = None,
    init_fun: str | None = None,
    config: Config = process_config,
) -> tuple[str, str, dict[str, Any]]:
    """(backend, why it was chosen, settings) of a new connection: its arguments, then `config`
    (``dj.config`` unless an Instance gives its own)."""
    given = {"host": host, "user": user, "password": password, "port": port}
    name, why = config.choose_backend(backend, [k for k, v in given.items() if v is not None])
    settings = config.connection_settings()
    settings.update({k: v for k, v in given.items() if v is not None})
    if database_name is not None:
        settings["name"] = database_name
    if use_tls is not None:
        settings["use_tls"] = use_tls
    settings["host"], settings["port"] = split_host_port(settings.get("host"), settings.get("port"))
    settings["init_function"] = init_fun if init_fun is not None else config["connection.init_function"]
    settings["backend"] = name
    return name, why, settings


class Session:
    """A database connection with pipejoint's error translation and transactions. The user-facing
    ``dj.Connection`` (catalog/connection.py) adds the pipeline's table graph to it.

    Arguments left as None come from ``config`` (``dj.config`` unless given; DataJoint 2.x calls it
    ``config_override``), which the session keeps as ``self.config``: pipejoint reads every setting
    for work on this connection from it, so a ``dj.Instance``'s settings stay its own. As in
    DataJoint, a host may carry the port (``"db.lab.org:3306"``), and the fifth argument is
    DataJoint 0.14's ``init_fun`` (SQL run on every new connection) or DataJoint 2.x's ``use_tls``.
    """

    connection_id: int | None = None  # the server's id of the session (DataJoint's conn.connection_id)
    _step_savepoint = False  # atomic()'s savepoint is set in the open transaction
    _begin_at_write = False  # a deferred transaction whose BEGIN waits for its first write
    _in_step = False  # an atomic() step is running under it
    _query_cache: str | None = None  # DataJoint 0.14's query cache key while caching is on (query_cache.py)
    _clean_savepoint = False  # the step savepoint is set and nothing was written since (see atomic)

    def __init__(
        self,
        host: str | None = None,
        user: str | None = None,
        password: str | None = None,
        port: int | str | None = None,
        init_fun: str | bool | dict | None = None,
        use_tls: bool | dict | None = None,
        *,
        backend: str | None = None,
        database_name: str | None = None,
        config: Config | None = None,
        config_override: Config | None = None,
    ) -> None:
        if isinstance(init_fun, (bool, dict)) and use_tls is None:  # DataJoint 2.x: Connection(h, u, p, port, use_tls)
            init_fun, use_tls = None, init_fun
        self.config = next((c for c in (config, config_override) if c is not None), process_config)
        name, self.backend_reason, settings = connection_target(
            host,
            user,
            password,
            port,
            backend=backend,
            database_name=database_name,
            use_tls=use_tls,
            init_fun=init_fun,
            config=self.config,
        )
        self.backend = get_backend(name, settings)
        self.settings = settings
        self._raw: Any = None  # the driver's connection
        self._in_transaction = False
        self.cache = LRUCache()  # compiled SQL, catalog records and other derived data (cache.py)
        try:
            self.connect()
        except LostConnectionError as error:
            raise LostConnectionError(
                f"{error}. pipejoint chose {name} because {self.backend_reason}. Check that the server runs "
                "and accepts these settings; to keep the data in a local SQLite file instead, set "
                "dj.config['database.backend'] = 'sqlite' (or DJ_BACKEND=sqlite)."
            ) from None

    def reaches(self, **arguments: Any) -> bool:
        """Whether a new connection made with these arguments would reach this one's database as this one's user."""
        name, _, settings = connection_target(**arguments, config=self.config)
        return (
            name == self.backend.name
            and get_backend(name, settings).describe_target() == self.backend.describe_target()
        )

    # --- connecting ---
    def connect(self) -> None:
        """(Re)open the underlying connection."""
        with contextlib.suppress(Exception):
            if self._raw is not None:
                self._raw.close()
        self._kept_cursor = None
        self._raw = self.backend.connect()
        self._in_transaction = False
        init_function = self.settings.get("init_function")
        if init_function:
            self._raw.cursor().execute(init_function)
        self.connection_id = self.backend.connection_id(self._raw)
        _live.add(self)

    def close(self) -> None:
        self._kept_cursor = None
        if self._raw is not None:
            with contextlib.suppress(Exception):
                self._raw.close()
            self._raw = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_connected(self) -> bool:
        if self._raw is None:
            return False
        try:
            self.backend.ping(self._raw)
        except Exception:
            return False
        return True

    def ping(self) -> None:
        self.backend.ping(self._raw)

    def get_user(self) -> str:
        """The user this connection is logged in as (``user@host`` on MySQL)."""
        return self.backend.current_user(self)

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def __repr__(self) -> str:
        state = "connected" if self._raw is not None else "disconnected"
        return f"pipejoint connection ({state}) {self.backend.describe_target()}"

    # --- DataJoint 0.14's query cache (query_cache.py) ---
    def set_query_cache(self, query_cache: str | None = None) -> None:
        """Cache the results of reads under dj.config['query_cache'], keyed by `query_cache` (a string
        naming the state of the data), the SQL and its arguments; None (or nothing) turns caching off.
        While it is on, statements that would change the database are refused."""
        self._query_cache = str(query_cache) if query_cache else None

    def purge_query_cache(self) -> None:
        """Delete every cached result in dj.config['query_cache']."""
        query_cache.purge(self.config)

    def _cached_execute(self, sql, args, reconnect):
        """A read answered from the query cache, or run and then cached; anything else is refused."""
        if not query_cache.reads(sql):
            query_cache.refuse_write(sql)
        path = query_cache.cache_file(self.config, self._query_cache, sql, args)
        cursor = query_cache.read(path)
        if cursor is not None:
            return cursor
        key, self._query_cache = self._query_cache, None  # run it for real once
        try:
            return query_cache.write(path, self._execute(sql, args, reconnect, keep=False))
        finally:
            self._query_cache = key

    # --- queries ---
    def query(
        self,
        sql: str,
        args: Sequence[Any] | Mapping[str, Any] | None = (),
        *,
        as_dict: bool = False,
        suppress_warnings: bool = True,
        reconnect: bool | None = None,
    ) -> Any:
        """Run one statement written by the user and return its cursor; driver errors become
        pipejoint errors.

        The SQL goes to the server as written, with DataJoint's conventions on every backend: ``%s``
        (or ``%(name)s``) marks each argument and ``%%`` is a literal ``%``, even with no arguments;
        with ``args=None`` the text is sent untouched. PyMySQL and psycopg read these conventions
        themselves; on SQLite they are translated to sqlite3's (``?``, ``:name``, ``%``), so SQL
        written for DataJoint runs there too.
        """
        with warnings.catch_warnings():
            if suppress_warnings:
                warnings.simplefilter("ignore")
            try:
                statement, args = self.backend.user_statement(sql, args)
                cursor = self._execute(statement, args, reconnect, keep=False)
            except (TypeError, ValueError, KeyError) as error:  # the driver could not fill in the arguments
                raise QuerySyntaxError(f"{error}: {ARGUMENT_CONVENTIONS} SQL: {sql}") from None
        if sql.lstrip()[:6].upper().startswith(_DDL):  # the user changed tables: what we knew of them may be stale
            self.catalog_cache_clear()
        return DictCursor(cursor) if as_dict else cursor

    def catalog_cache_clear(self) -> None:
        """Forget what was derived from the catalog (the Connection forgets its table graph too)."""
        self.cache.clear()

    def execute(
        self,
        sql: str,
        args: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        as_dict: bool = False,
        reconnect: bool | None = None,
    ) -> Any:
        """Run one statement of pipejoint's own SQL, written for this driver (arguments marked with
        ``backend.placeholder``, a ``%`` left as it is when there are no arguments); return its cursor."""
        cursor = self._execute(sql, args or None, reconnect, keep=False)
        return DictCursor(cursor) if as_dict else cursor

    def rows_unless_missing(self, sql, args=None):
        """All rows of a read of tables another client may have just dropped; [] when they are gone.
        Inside a transaction a savepoint keeps that failure from aborting it (PostgreSQL)."""
        savepoint = self._in_transaction and self.backend.error_aborts_transaction
        if savepoint:
            self.execute("SAVEPOINT pj_read")
        try:
            rows = self.execute(sql, args).fetchall()
        except (MissingTableError, TableChangedError):
            if savepoint:
                self.execute("ROLLBACK TO SAVEPOINT pj_read", reconnect=False)
            return []
        if savepoint:
            self.execute("RELEASE SAVEPOINT pj_read")
        return rows

    def first_rows(self, sql: str, args: Sequence[Any] | Mapping[str, Any] | None, limit: int) -> list[Any]:
        """At most `limit` rows of a query, for short reads (fetch1, len, bool).

        They run on a cursor the connection keeps, since making a cursor per query costs about
        2 µs with psycopg. When `limit` rows came back, more may be pending: that cursor is closed
        then, so that no half-read statement stays open (SQLite would keep its table locked).
        """
        cursor = self._execute(sql, args or None, None, keep=True)
        rows = cursor.fetchmany(limit)
        if len(rows) >= limit:
            self._kept_cursor = None
            cursor.close()
        return rows

    def _execute(self, sql, args, reconnect, keep):
        """Run a statement; args None: the text goes to the driver with no arguments at all."""
        if self._query_cache is not None:
            return self._cached_execute(sql, args, reconnect)
        if self._raw is None:
            if self._in_transaction:  # closed inside a transaction: its statements are gone
                self._in_transaction = False
                raise LostConnectionError("The connection was closed during a transaction.")
            self.connect()
        if self._begin_at_write and _writes(sql):
            self._begin_now()
        if self._clean_savepoint and _writes(sql):
            self._clean_savepoint = False  # a step rolled back to it would undo this write too
        try:
            if keep:
                cursor = self._kept_cursor
                if cursor is None:
                    cursor = self._kept_cursor = self._raw.cursor()
            else:
                cursor = self._raw.cursor()
            if args is not None:
                cursor.execute(sql, args)
            else:
                cursor.execute(sql)
        except Exception as error:
            if self.backend.is_lost_connection(error):
                if self._in_transaction:
                    self._in_transaction = False
                    raise LostConnectionError("The connection was lost during a transaction.") from None
                if reconnect is None:
                    reconnect = self.settings.get("reconnect", True)
                if reconnect:
                    logger.warning("Reconnecting to %s", self.backend.describe_target())
                    self.connect()
                    return self._execute(sql, args, False, keep)
            raise self._translate(error, sql) from None
        return cursor

    def run_step(self, sql: str, args: Sequence[Any]) -> Any:
        """Run one write statement as an atomic step (insert1): on its own it commits by itself, a
        single statement being atomic on every backend; inside a transaction it is a step of it, as
        in ``atomic()`` (under a savepoint where an error aborts the whole transaction)."""
        if self._in_transaction and self.backend.error_aborts_transaction and not self._in_step:
            with self.atomic():
                return self._execute(sql, args, None, keep=True)
        return self._execute(sql, args, None, keep=True)

    def write_savepoint(self) -> str:
        """A savepoint to take a multi-row write back to (insert's diagnosis): the step's own when
        nothing was written since it was set, at no cost; else a new one. Returns its name."""
        if self._clean_savepoint:
            self._clean_savepoint = False  # the caller writes next
            return "pj_step"
        self.execute("SAVEPOINT pj_insert")
        return "pj_insert"

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        """Run one statement for many parameter rows (batch insert)."""
        if self._query_cache is not None:
            query_cache.refuse_write(sql)
        if self._raw is None:
            self.connect()
        if self._begin_at_write:
            self._begin_now()
        self._clean_savepoint = False
        try:
            cursor = self._raw.cursor()
            cursor.executemany(sql, rows)
        except Exception as error:
            if self.backend.is_lost_connection(error) and self._in_transaction:
                self._in_transaction = False
                raise LostConnectionError("The connection was lost during a transaction.") from None
            raise self._translate(error, sql) from None
        return cursor

    def _translate(self, error, sql):
        translated = self.backend.translate_error(error, sql)
        return translated if translated is not None else error

    # --- transactions ---
    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    def start_transaction(self) -> None:
        if self._in_transaction:
            raise TransactionError(
                "A transaction is already open on this connection: nested transactions are not "
                "supported. Put all the statements in the outer `with conn.transaction:` block."
            )
        if self.backend.error_aborts_transaction:  # the first step's savepoint rides with BEGIN (see atomic)
            self.execute(self.backend.begin_sql() + "; SAVEPOINT pj_step")
            self._clean_savepoint = self._step_savepoint = True
        else:
            self.execute(self.backend.begin_sql())
            self._step_savepoint = False  # none yet in this transaction (see atomic)
        self._in_transaction = True

    def _begin_now(self) -> None:
        self._begin_at_write = False
        try:
            self._raw.cursor().execute(self.backend.begin_sql())
        except Exception as error:
            raise self._translate(error, "BEGIN") from None

    @contextlib.contextmanager
    def deferred_transaction(self) -> Iterator[Self]:
        """A transaction whose write lock is taken at its first write, where the database has one
        lock for the whole file (SQLite): make() reads and computes while other workers write, and
        its writes still commit together or not at all. Its reads see each committed change, as
        DataJoint's make() reads do on MySQL. Elsewhere, an ordinary transaction."""
        if not self.backend.one_writer_per_file:
            with self.transaction:
                yield self
            return
        if self._in_transaction:
            raise TransactionError(
                "A transaction is already open on this connection: nested transactions are not supported."
            )
        if self._raw is None:
            self.connect()
        self._in_transaction = True
        self._step_savepoint = False
        self._begin_at_write = True
        try:
            yield self
        except BaseException:
            self._begin_at_write = False
            self.cancel_transaction()
            raise
        else:
            self._begin_at_write = False
            if self._in_transaction:
                self.commit_transaction()

    def commit_transaction(self) -> None:
        if not self._in_transaction:
            raise TransactionError("No transaction is open to commit.")
        self._clean_savepoint = False
        try:
            self._raw.commit()
        except Exception as error:
            self._in_transaction = False
            raise self._translate(error, "COMMIT") from None
        self._in_transaction = False

    def cancel_transaction(self) -> None:
        """Roll back the open transaction (does nothing when none is open)."""
        if not self._in_transaction:
            return
        self._in_transaction = self._clean_savepoint = False
        with contextlib.suppress(Exception):
            self._raw.rollback()

    @property
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Self]:
        """``with conn.transaction:`` commits on success and rolls back on any exception.

        A transaction lost inside the block was reported then (LostConnectionError); if the block
        caught that and went on, there is nothing left to commit at its end, as in DataJoint.
        """
        self.start_transaction()
        try:
            yield self
        except BaseException:
            self.cancel_transaction()
            raise
        else:
            if self._in_transaction:
                self.commit_transaction()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Self]:
        """A transaction unless one is already open (then the outer one decides).

        Inside an open transaction on a backend where any error aborts the whole transaction
        (PostgreSQL), the step runs under a savepoint: when it fails, only the step is undone and
        the transaction goes on, as on SQLite and MySQL (an error caught inside make() or a
        `with conn.transaction:` block). The savepoint is released lazily, together with setting
        the next one, so a step costs one round trip more; the first savepoint is set with BEGIN, in
        the same round trip, and a savepoint serves the next step as long as nothing was written since.
        """
        if not self._in_transaction:
            with self.transaction:
                yield self
            return
        if not self.backend.error_aborts_transaction or self._in_step:
            yield self
            return
        if not self._clean_savepoint:  # (a clean one, set with BEGIN or by the last step, serves as it is)
            self.execute(
                "RELEASE SAVEPOINT pj_step; SAVEPOINT pj_step" if self._step_savepoint else "SAVEPOINT pj_step"
            )
            self._step_savepoint = self._clean_savepoint = True
        self._in_step = True
        try:
            yield self
        except BaseException:
            if self._in_transaction and self._raw is not None:
                with contextlib.suppress(Exception):
                    self.execute("ROLLBACK TO SAVEPOINT pj_step", reconnect=False)
                    self._clean_savepoint = True
            raise
        finally:
            self._in_step = False


_READS = ("SELECT", "PRAGMA", "WITH", "EXPLAIN")
_DDL = ("CREATE", "DROP", "ALTER", "RENAME")


_seen_writes: dict[str, bool] = {}  # pipejoint's statements are few and repeat: each is judged once


def _writes(sql: str) -> bool:
    """Whether a statement may write (anything but a read starts a deferred transaction)."""
    writes = _seen_writes.get(sql)
    if writes is None:
        writes = not sql.lstrip()[:7].upper().startswith(_READS)
        if len(_seen_writes) < 4096:
            _seen_writes[sql] = writes
    return writes


def require_no_transaction(connection: Session, action: str) -> None:
    if connection.in_transaction:
        raise TransactionError(f"{action} cannot run inside a transaction: commit or roll back first.")


__all__ = ["Session", "connection_target", "live_connections", "require_no_transaction"]
