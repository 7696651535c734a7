"""Configuration: defaults < config file < environment variables < assignments in code.

Keys are dotted (``database.host``) as in DataJoint. Both ``config["database.host"]`` and
``config.database.host`` work. With nothing configured, pipejoint uses SQLite in ``./pipejoint.db``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DataJointError

if TYPE_CHECKING:
    from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping

logger = logging.getLogger("pipejoint")

BACKENDS = ("sqlite", "postgresql", "mysql")
BACKEND_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "mariadb": "mysql", "sqlite3": "sqlite"}
CONFIG_FILES = ("pipejoint.toml", "pipejoint.json", "datajoint.json", "dj_local_conf.json")

DEFAULTS: dict[str, Any] = {
    "database.backend": "sqlite",
    "database.host": "localhost",
    "database.port": None,
    "database.user": None,
    "database.password": None,
    "database.name": None,
    "database.reconnect": True,
    "database.create_tables": True,
    "database.busy_timeout": 30.0,
    "connection.charset": "",  # DataJoint's key, accepted and unused: MySQL connections always use utf8mb4
    "display.limit": 12,
    "display.width": 14,
    "display.show_tuple_count": True,
    "display.diagram_direction": "TB",
    "query.dialect": "mysql",
    "safemode": True,
    "loglevel": "INFO",
    "download_path": ".",
    "jobs.lease_seconds": 60,  # SQLite only: servers know when a worker's session is gone
    "jobs.max_retries": 0,
    "jobs.retry_backoff": 1.0,
    "jobs.keep_completed": False,
    "jobs.default_priority": 5,
    "jobs.add_job_metadata": False,
    "jobs.start_method": None,  # populate(processes=N): None = fork where safe, else spawn
    "stores": {},
}

ENV_VARS = {
    "DJ_HOST": "database.host",
    "DJ_USER": "database.user",
    "DJ_PASS": "database.password",
    "DJ_PORT": "database.port",
    "DJ_BACKEND": "database.backend",
    "DJ_DATABASE_NAME": "database.name",
    "DJ_SAFEMODE": "safemode",
    "DJ_LOG_LEVEL": "loglevel",
    "DJ_DIAGRAM_DIRECTION": "display.diagram_direction",
}


def _coerce(key, value):
    """Bring a value from a file or the environment to the type of its default."""
    default = DEFAULTS.get(key)
    if key == "database.backend" and value is not None:
        value = str(value).lower()
        value = BACKEND_ALIASES.get(value, value)
        if value not in BACKENDS:
            raise DataJointError(f"Unknown database.backend {value!r}: choose one of {', '.join(BACKENDS)}.")
        return value
    if key == "database.port" and value not in (None, ""):
        return int(value)
    if isinstance(value, str) and isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(value, str) and isinstance(default, int) and not isinstance(default, bool):
        return int(value)
    if isinstance(value, str) and isinstance(default, float):
        return float(value)
    return value


def _flatten(data, prefix=""):
    """Turn nested dicts from a file into dotted keys; `stores` stays a dict."""
    flat = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and full != "stores":
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = value
    return flat


class _Group:
    """Attribute access to one group of keys: ``config.database.host``."""

    def __init__(self, config: Config, prefix: str) -> None:
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name: str) -> Any:
        key = f"{self._prefix}.{name}"
        if key not in self._config:
            raise AttributeError(f"No setting {key!r}")
        return self._config[key]

    def __setattr__(self, name: str, value: Any) -> None:
        self._config[f"{self._prefix}.{name}"] = value


class Config:
    """The process-wide settings object, ``dj.config``."""

    source_file: str | None  # the file the settings were loaded from

    def __init__(self, load_files: bool = True) -> None:
        self._values = copy.deepcopy(DEFAULTS)
        self.source_file = None
        if load_files:
            self._load_first_file()
        self._load_environment()
        self._apply_loglevel()

    # --- mapping interface ---
    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            raise KeyError(f"Setting {key!r} not found. Known settings: {', '.join(sorted(self._values))}")
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self._values and not key.startswith(("stores.", "custom.")):
            raise KeyError(f"Setting {key!r} not found. Known settings: {', '.join(sorted(self._values))}")
        self._values[key] = _coerce(key, value)
        if key == "loglevel":
            self._apply_loglevel()

    def __delitem__(self, key: str) -> None:
        self._values[key] = copy.deepcopy(DEFAULTS.get(key))

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def keys(self) -> KeysView[str]:
        return self._values.keys()

    def items(self) -> ItemsView[str, Any]:
        return self._values.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def update(self, other: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), **kwargs: Any) -> None:
        for key, value in dict(other, **kwargs).items():
            self[key] = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._values:
            return self._values[name]
        if any(k.startswith(name + ".") for k in self._values):
            return _Group(self, name)
        raise AttributeError(f"No setting {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name == "source_file":
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "database.password" and v else v) for k, v in self._values.items()}
        return "pipejoint config " + json.dumps(shown, indent=2, default=str)

    # --- files and environment ---
    def load(self, path: str | os.PathLike[str]) -> None:
        """Load settings from a JSON or TOML file (nested tables or dotted keys)."""
        path = Path(path)
        text = path.read_text()
        if path.suffix == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                try:
                    import tomli as tomllib  # type: ignore[no-redef]
                except ModuleNotFoundError as error:
                    raise DataJointError(
                        f"Reading {path} needs a TOML parser on Python 3.10: pip install tomli, "
                        "or use pipejoint.json instead."
                    ) from error
            data = tomllib.loads(text)
        else:
            data = json.loads(text)
        for key, value in _flatten(data).items():
            if key == "stores" and isinstance(value, dict):
                self._values["stores"] = {**self._values.get("stores", {}), **value}
            elif key in self._values:
                self._values[key] = _coerce(key, value)
            else:
                logger.warning("Ignoring unknown setting %r in %s", key, path)
        self.source_file = str(path)
        self._apply_loglevel()

    def save(self, path: str | os.PathLike[str] = "pipejoint.json") -> None:
        """Write the current settings (except the password) to a JSON file."""
        data = {k: v for k, v in self._values.items() if k != "database.password"}
        Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n")

    def _load_first_file(self):
        for name in CONFIG_FILES:
            if Path(name).is_file():
                self.load(name)
                return

    def _load_environment(self):
        for var, key in ENV_VARS.items():
            value = os.environ.get(var)
            if value in (None, ""):
                continue
            if key == "database.host" and ":" in value and not value.startswith("["):
                value, port = value.rsplit(":", 1)
                self._values["database.port"] = int(port)
            self._values[key] = _coerce(key, value)

    def _apply_loglevel(self):
        logger.setLevel(str(self._values.get("loglevel", "INFO")).upper())

    @contextlib.contextmanager
    def override(self, **kwargs: Any) -> Iterator[Config]:
        """Temporarily change settings; nested keys use ``__``: ``override(display__limit=5)``."""
        saved = copy.deepcopy(self._values)
        try:
            for key, value in kwargs.items():
                self[key.replace("__", ".")] = value
            yield self
        finally:
            self._values = saved
            self._apply_loglevel()

    def connection_settings(self) -> dict[str, Any]:
        """The settings a connection is made from, as a plain dict."""
        return {k.split(".", 1)[1]: v for k, v in self._values.items() if k.startswith("database.")}


config = Config()
