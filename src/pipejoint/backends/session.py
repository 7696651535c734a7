"""The driver session with one database: queries, transactions, reconnects, error translation.

Outside a transaction every statement commits on its own (autocommit). ``with conn.transaction:``
groups statements: commit on success, rollback on any exception. A connection lost outside a
transaction is restored and the statement re-run; inside one, that cannot be done safely, so the
transaction is reported lost.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from typing import TYPE_CHECKING, Any

from ..errors import LostConnectionError, MissingTableError, TransactionError
from ..settings import config
from . import get_backend
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


class Session:
    """A database connection with pipejoint's error translation and transactions. The user-facing
    ``dj.Connection`` (catalog/connection.py) adds the pipeline's table graph to it.

    Arguments left as None come from ``dj.config``.
    """

    def __init__(
        self,
        host: str | None = None,
        user: str | None = None,
        password: str | None = None,
        port: int | str | None = None,
        *,
        backend: str | None = None,
        database_name: str | None = None,
    ) -> None:
        settings = config.connection_settings()
        overrides = {"host": host, "user": user, "password": password, "port": port, "name": database_name}
        settings.update({k: v for k, v in overrides.items() if v is not None})
        if host and ":" in str(host) and port is None:
            settings["host"], settings["port"] = str(host).rsplit(":", 1)
        backend_name = backend or settings.get("backend") or "sqlite"
        from ..settings import _coerce

        backend_name = _coerce("database.backend", backend_name)
        self.backend = get_backend(backend_name, settings)
        self.settings = settings
        self._raw: Any = None  # the driver's connection
        self._in_transaction = False
        self.cache = LRUCache()  # compiled SQL, catalog records and other derived data (cache.py)
        self.connect()

    # --- connecting ---
    def connect(self) -> None:
        """(Re)open the underlying connection."""
        with contextlib.suppress(Exception):
            if self._raw is not None:
                self._raw.close()
        self._kept_cursor = None
        self._raw = self.backend.connect()
        self._in_transaction = False
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

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def __repr__(self) -> str:
        state = "connected" if self._raw is not None else "disconnected"
        return f"pipejoint connection ({state}) {self.backend.describe_target()}"

    # --- queries ---
    def query(
        self,
        sql: str,
        args: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        as_dict: bool = False,
        reconnect: bool | None = None,
    ) -> Any:
        """Run one statement and return its cursor. Driver errors become pipejoint errors."""
        cursor = self._execute(sql, args, reconnect, keep=False)
        return DictCursor(cursor) if as_dict else cursor

    def rows_unless_missing(self, sql, args=None):
        """All rows of a read of tables another client may have just dropped; [] when they are gone.
        Inside a transaction a savepoint keeps that failure from aborting it (PostgreSQL)."""
        savepoint = self._in_transaction and self.backend.error_aborts_transaction
        if savepoint:
            self.query("SAVEPOINT pj_read")
        try:
            rows = self.query(sql, args).fetchall()
        except MissingTableError:
            if savepoint:
                self.query("ROLLBACK TO SAVEPOINT pj_read", reconnect=False)
            return []
        if savepoint:
            self.query("RELEASE SAVEPOINT pj_read")
        return rows

    def first_rows(self, sql: str, args: Sequence[Any] | Mapping[str, Any] | None, limit: int) -> list[Any]:
        """At most `limit` rows of a query, for short reads (fetch1, len, bool).

        They run on a cursor the connection keeps, since making a cursor per query costs about
        2 µs with psycopg. When `limit` rows came back, more may be pending: that cursor is closed
        then, so that no half-read statement stays open (SQLite would keep its table locked).
        """
        cursor = self._execute(sql, args, None, keep=True)
        rows = cursor.fetchmany(limit)
        if len(rows) >= limit:
            self._kept_cursor = None
            cursor.close()
        return rows

    def _execute(self, sql, args, reconnect, keep):
        if self._raw is None:
            self.connect()
        try:
            if keep:
                cursor = self._kept_cursor
                if cursor is None:
                    cursor = self._kept_cursor = self._raw.cursor()
            else:
                cursor = self._raw.cursor()
            if args:
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

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        """Run one statement for many parameter rows (batch insert)."""
        if self._raw is None:
            self.connect()
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
        self.query(self.backend.begin_sql())
        self._in_transaction = True

    def commit_transaction(self) -> None:
        if not self._in_transaction:
            raise TransactionError("No transaction is open to commit.")
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
        self._in_transaction = False
        with contextlib.suppress(Exception):
            self._raw.rollback()

    @property
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Self]:
        """``with conn.transaction:`` commits on success and rolls back on any exception."""
        self.start_transaction()
        try:
            yield self
        except BaseException:
            self.cancel_transaction()
            raise
        else:
            self.commit_transaction()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Self]:
        """A transaction unless one is already open (then the outer one decides)."""
        if self._in_transaction:
            yield self
        else:
            with self.transaction:
                yield self


def require_no_transaction(connection: Session, action: str) -> None:
    if connection.in_transaction:
        raise TransactionError(f"{action} cannot run inside a transaction: commit or roll back first.")


__all__ = ["Session", "live_connections", "require_no_transaction"]
