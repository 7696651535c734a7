"""``dj.Instance``: a connection and settings of its own, beside the process-wide ``dj.conn()`` (DataJoint 2.x).

An application that serves several labs or users opens one Instance per database or login:
``lab = dj.Instance(host, user, password, backend=...)``, then ``lab.Schema("name")`` and
``lab.FreeTable("schema.table")`` work on that connection only. ``lab.config`` holds the settings
the instance was made with: a copy of ``dj.config`` with its host, user, port, backend and any
``config_overrides`` (``safemode=False``, ``display__limit=5``, ``stores={...}``). Every setting
pipejoint reads while working for the instance's tables (safemode, display, stores, jobs,
query_cache, ...) comes from ``lab.config``, through ``lab.connection.config``: two instances may
run with different settings at the same time, and changing one changes nothing elsewhere.

On SQLite an instance is a database file: ``dj.Instance(backend="sqlite", database__name="lab.db")``.

Thread-safe mode (``DJ_THREAD_SAFE=true``, as in DataJoint) refuses the process-wide objects,
``dj.config``, ``dj.conn()`` and ``dj.Schema(...)`` without ``connection=``, with a
ThreadSafetyError; Instances work as always.
"""

from __future__ import annotations

import copy
from typing import Any

from .catalog.connection import Connection
from .errors import DataJointError
from .settings import DEFAULT_PORTS, Config, _flatten, split_host_port, thread_safe
from .settings import config as process_config

_load_thread_safe = thread_safe  # DataJoint's name: whether DJ_THREAD_SAFE turns thread-safe mode on


class Instance:
    """Its own connection and the settings it was made with (``config``, ``connection``)."""

    def __init__(
        self,
        host: str | None = None,
        user: str | None = None,
        password: str | None = None,
        port: int | None = None,
        use_tls: bool | dict | None = None,
        backend: str | None = None,
        **config_overrides: Any,
    ) -> None:
        self.config = _copy_of(process_config)
        _override(self.config, config_overrides)
        host, port = split_host_port(host, port)  # "db.lab.org:3307": the port written in the host wins
        given = {"host": host, "user": user, "password": password, "port": port}
        server_arguments = [name for name, value in given.items() if value is not None]
        chosen, _ = self.config.choose_backend(backend, server_arguments=server_arguments)
        if chosen not in DEFAULT_PORTS and server_arguments:
            raise DataJointError(
                f"dj.Instance(backend={chosen!r}) keeps its data in a local file and takes no "
                f"{', '.join(server_arguments)}: name the file with database__name='lab.db', or give "
                "backend='mysql' or 'postgresql' to use a server."
            )
        self.config["database.backend"] = chosen
        for name in ("host", "user", "password"):
            if given[name] is not None:
                self.config[f"database.{name}"] = given[name]
        if port is None and "database__port" not in config_overrides:
            port = DEFAULT_PORTS.get(chosen)  # the backend's own, as DataJoint re-derives it
        if port is not None:
            self.config["database.port"] = port
        if use_tls is not None:
            self.config["database.use_tls"] = use_tls
        self.connection = Connection(host, user, password, port, None, use_tls, backend=chosen, config=self.config)

    def Schema(self, schema_name: str | None = None, context: Any = None, **kwargs: Any) -> Any:
        """``dj.Schema`` on this instance's connection."""
        from .schemas.schema import Schema

        return Schema(schema_name, context, connection=self.connection, **kwargs)

    def FreeTable(self, full_table_name: str) -> Any:
        """``dj.FreeTable`` on this instance's connection."""
        from .table.table import FreeTable

        return FreeTable(self.connection, full_table_name)

    def __repr__(self) -> str:
        return f"pipejoint Instance: {self.connection!r}"


def _copy_of(config: Config) -> Config:
    """A Config holding the same values and their sources, read from no file or variable again."""
    other = copy.copy(config)
    other._values = copy.deepcopy(config._values)
    other._sources = dict(config._sources)
    return other


def _override(config: Config, overrides: dict[str, Any]) -> None:
    """Apply ``dj.Instance(**config_overrides)``: top-level names (``safemode``), ``group__key``
    (``display__limit``) or a dict per group (``jobs={...}``), as ``dj.config.override`` takes them."""
    changes = _flatten({key.replace("__", "."): value for key, value in overrides.items()})
    for key, value in changes.items():
        try:
            config[key] = value
        except KeyError:
            known = ", ".join(sorted(k.replace(".", "__") for k in config))
            raise DataJointError(
                f"dj.Instance({key.replace('.', '__')}=...): there is no such setting. Settings are given "
                f"as their name or group__key: {known}."
            ) from None
