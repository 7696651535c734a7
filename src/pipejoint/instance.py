"""``dj.Instance``: a database connection of its own, beside the process-wide ``dj.conn()`` (DataJoint 2.x).

An application that serves several labs or users opens one Instance per database or login:
``lab = dj.Instance(host, user, password, backend=...)``, then ``lab.Schema("name")`` and
``lab.FreeTable("schema.table")`` work on that connection only. ``lab.config`` holds the settings
the instance was made with: a copy of ``dj.config`` with its host, user, port and backend. The
connection is made from those; the other settings (safemode, display, stores) still come from
``dj.config``, which pipejoint reads as the process's settings.

DataJoint's thread-safe mode (``DJ_THREAD_SAFE``), which disables ``dj.config`` and ``dj.conn()``
altogether, is not provided: ``_load_thread_safe()`` reads the variable as DataJoint does.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from .catalog.connection import Connection
from .settings import DEFAULT_PORTS, Config
from .settings import config as process_config


def _load_thread_safe() -> bool:
    """Whether DJ_THREAD_SAFE asks for DataJoint's thread-safe mode (true, 1 or yes)."""
    return os.environ.get("DJ_THREAD_SAFE", "").lower() in ("true", "1", "yes")


class Instance:
    """Its own connection and the settings it was made with (``config``, ``connection``)."""

    def __init__(
        self,
        host: str,
        user: str,
        password: str,
        port: int | None = None,
        use_tls: bool | dict | None = None,
        backend: str | None = None,
    ) -> None:
        self.config = _copy_of(process_config)
        self.config["database.host"] = host
        self.config["database.user"] = user
        self.config["database.password"] = password
        chosen, _ = self.config.choose_backend(backend, server_arguments=["host"])
        self.config["database.backend"] = chosen
        if port is None and ":" not in str(host):
            port = DEFAULT_PORTS.get(chosen)
        if port is not None:
            self.config["database.port"] = port
        if use_tls is not None:
            self.config["database.use_tls"] = use_tls
        self.connection = Connection(host, user, password, port, None, use_tls, backend=chosen)

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
