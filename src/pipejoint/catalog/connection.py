"""The user-facing connection: ``dj.conn()`` and ``dj.Connection``.

A database session (backends/session.py) that also knows the pipeline stored in it: the graph of
tables and foreign keys (``conn.dependencies``), the schemas opened on it, and when its catalog
changed last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..backends.session import Session
from ..settings import refuse_in_thread_safe_mode

if TYPE_CHECKING:
    from .dependencies import Dependencies


class DatabaseAdapter:
    """The SQL spelling of one backend, under DataJoint's adapter names."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def quote_identifier(self, name: str) -> str:
        """`name` quoted as this database quotes identifiers (backticks on MySQL, double quotes elsewhere)."""
        return self.backend.quote(name)

    def __repr__(self) -> str:
        return f"DatabaseAdapter({self.backend.name})"


class Connection(Session):
    """A database connection with pipejoint's error translation, transactions and table graph.

    Arguments left as None come from ``config`` (default ``dj.config``), kept as ``self.config``.
    """

    catalog_version = 0  # counts changes of the catalog seen by this connection
    _dependencies: Dependencies | None = None

    @property
    def schemas(self) -> dict[str, Any]:
        """The dj.Schema objects activated on this connection, by name (schemas/ registers them)."""
        return self.__dict__.setdefault("_schemas", {})

    def catalog_cache_clear(self) -> None:
        """Forget what was derived from the catalog (records, compiled SQL) and the table graph,
        after a declare or drop."""
        self.catalog_version += 1
        self.cache.clear()
        if self._dependencies is not None:
            self._dependencies.clear()

    @property
    def adapter(self) -> DatabaseAdapter:
        """This connection's SQL spelling, as DataJoint's ``connection.adapter`` offers it
        (``quote_identifier``); ``pipejoint.declare`` reads the backend from it."""
        return DatabaseAdapter(self.backend)

    @property
    def dependencies(self) -> Dependencies:
        """The table graph of the whole database (networkx), loaded on first use."""
        if self._dependencies is None:
            from .dependencies import Dependencies  # (on first use: dj.conn() alone stays light)

            self._dependencies = Dependencies(self)
        return self._dependencies


_connection: Connection | None = None


def conn(
    host: str | None = None,
    user: str | None = None,
    password: str | None = None,
    *,
    reset: bool = False,
    use_tls: bool | dict | None = None,
    init_fun: str | None = None,
    backend: str | None = None,
    port: int | str | None = None,
    database_name: str | None = None,
) -> Connection:
    """The process-wide connection, created from the arguments and ``dj.config`` on first use.

    As in DataJoint, later calls return the same connection, and ``reset=True`` makes a new one.
    Arguments naming another database or user than the current connection's also make a new one
    (DataJoint would return the current connection, to a database the caller did not ask for).
    """
    global _connection
    refuse_in_thread_safe_mode("dj.conn()")
    arguments = {
        "host": host,
        "user": user,
        "password": password,
        "port": port,
        "backend": backend,
        "database_name": database_name,
        "use_tls": use_tls,
        "init_fun": init_fun,
    }
    given = any(v is not None for v in arguments.values())
    if _connection is not None and not reset and (not given or _connection.reaches(**arguments)):
        return _connection
    if _connection is not None:
        _connection.close()
    _connection = Connection(
        host, user, password, port, init_fun, use_tls, backend=backend, database_name=database_name
    )
    return _connection


def _forget_connection() -> None:
    """Drop the process-wide connection (used after fork: a child must not share the parent's)."""
    global _connection
    _connection = None


__all__ = ["Connection", "conn"]
