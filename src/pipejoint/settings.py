"""Configuration: defaults < config file < environment variables < assignments in code.

Keys are dotted (``database.host``) as in DataJoint. Both ``config["database.host"]`` and
``config.database.host`` work.

The backend is chosen as a DataJoint user expects (``Config.choose_backend``): ``database.backend``
when it is set; otherwise a configured server (a host, port, user or password, from a file, the
environment, code or the connection's arguments) means MySQL, as in DataJoint; only with neither
is it SQLite, in ``./pipejoint.db`` unless ``database.name`` names another file. Configuring a
server never ends in a local SQLite file.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DataJointError, ThreadSafetyError

if TYPE_CHECKING:
    from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping

logger = logging.getLogger("pipejoint")

BACKENDS = ("sqlite", "postgresql", "mysql")
BACKEND_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "mariadb": "mysql", "sqlite3": "sqlite"}
# Looked for in the working directory, then (all but DataJoint 0.14's dj_local_conf.json) in its
# parents up to the project's root (a folder with .git or .hg), as DataJoint 2.x finds datajoint.json.
CONFIG_FILES = ("pipejoint.toml", "pipejoint.json", "datajoint.json", "dj_local_conf.json")
PARENT_CONFIG_FILES = ("pipejoint.toml", "pipejoint.json", "datajoint.json")
GLOBAL_CONFIG_FILE = "~/.datajoint_config.json"  # DataJoint 0.14's per-user file, when no project file is found
SECRETS_DIRS = (".secrets", "/run/secrets/datajoint")  # DataJoint 2.x: one file per secret setting
SECRET_KEYS = ("database.user", "database.password")
# Any of these, when configured, means a database server: with no database.backend, MySQL.
SERVER_KEYS = ("database.host", "database.port", "database.user", "database.password")
DEFAULT_PORTS = {"mysql": 3306, "postgresql": 5432}

DEFAULTS: dict[str, Any] = {
    "database.backend": None,  # not set: chosen by Config.choose_backend()
    "database.host": "localhost",  # as DataJoint reports it; used only once a server backend is chosen
    "database.port": None,
    "database.user": None,
    "database.password": None,
    "database.name": None,
    "database.reconnect": True,
    "database.create_tables": True,
    "database.busy_timeout": 30.0,
    "database.use_tls": None,  # None: TLS when the server offers it; True: required; False: never; or a dict
    "connection.init_function": None,  # DataJoint 0.14: SQL run on every new connection
    "connection.charset": "",  # DataJoint's key, accepted and unused: MySQL connections always use utf8mb4
    "display.limit": 12,
    "display.width": 14,
    "display.show_tuple_count": True,
    "display.diagram_direction": "auto",
    "query.dialect": "mysql",
    "safemode": True,
    "loglevel": "INFO",
    "download_path": ".",
    "query_cache": None,  # DataJoint 0.14: the folder of conn.set_query_cache()'s cached results
    "jobs.lease_seconds": 60,  # SQLite only: servers know when a worker's session is gone
    "jobs.max_retries": 0,
    "jobs.retry_backoff": 1.0,
    "jobs.keep_completed": False,
    "jobs.default_priority": 5,
    "jobs.add_job_metadata": False,
    "jobs.start_method": None,  # populate(processes=N): None = fork where safe, else spawn
    # DataJoint 2.x's keys, accepted so its code runs: new primary-key attributes in Computed
    # tables are always allowed here (DESIGN.md), job tables are refreshed on every populate,
    # and dead workers are found through the server's sessions rather than a staleness timeout.
    "jobs.allow_new_pk_fields_in_computed_tables": False,
    "jobs.auto_refresh": True,
    "jobs.stale_timeout": 3600,
    "jobs.version_method": None,
    "stores": {},
}

ENV_VARS = {
    "DJ_HOST": "database.host",
    "DJ_USER": "database.user",
    "DJ_PASS": "database.password",
    "DJ_PORT": "database.port",
    "DJ_BACKEND": "database.backend",
    "DJ_DATABASE_NAME": "database.name",
    "DJ_USE_TLS": "database.use_tls",
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
    if key == "database.use_tls" and isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
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


def split_host_port(host: Any, port: Any = None) -> tuple[Any, Any]:
    """``"db.lab.org:3307"`` -> ("db.lab.org", 3307): a port written in the host wins, as in
    DataJoint. IPv6 addresses are written in brackets (``"[::1]:3306"``)."""
    if not isinstance(host, str):
        return host, port
    if host.startswith("["):
        address, _, rest = host[1:].partition("]")
        return address, int(rest[1:]) if rest.startswith(":") and rest[1:] else port
    if host.count(":") == 1:
        name, _, text = host.partition(":")
        if text.isdigit():
            return name, int(text)
    return host, port


class Config:
    """The process-wide settings object, ``dj.config``."""

    source_file: str | None  # the file the settings were loaded from

    def __init__(self, load_files: bool = True) -> None:
        self._values = copy.deepcopy(DEFAULTS)
        self._sources: dict[str, str] = {}  # key -> where it was set (a file, a variable, "code")
        self.source_file = None
        if load_files and not _true(os.environ.get("DJ_IGNORE_CONFIG_FILE")):
            self._load_first_file()
        self._load_environment()
        if load_files and not _true(os.environ.get("DJ_IGNORE_CONFIG_FILE")):
            self._load_secrets()
        self._apply_loglevel()

    # --- mapping interface ---
    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            raise KeyError(f"Setting {key!r} not found. Known settings: {', '.join(sorted(self._values))}")
        if key == "database.backend":
            return self.choose_backend()[0]
        if key == "database.port" and self._values[key] is None:  # as DataJoint reports it: the backend's own
            return DEFAULT_PORTS.get(self.choose_backend()[0])
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self._values and not key.startswith(("stores.", "custom.")):
            raise KeyError(f"Setting {key!r} not found. Known settings: {', '.join(sorted(self._values))}")
        self._set(key, value, "code")
        if key == "loglevel":
            self._apply_loglevel()

    def __delitem__(self, key: str) -> None:
        self._values[key] = copy.deepcopy(DEFAULTS.get(key))
        self._sources.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def keys(self) -> KeysView[str]:
        return self._values.keys()

    def items(self) -> ItemsView[str, Any]:
        return self._values.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._values else default

    def update(self, other: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), **kwargs: Any) -> None:
        for key, value in dict(other, **kwargs).items():
            self[key] = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._values:
            return self[name]
        if any(k.startswith(name + ".") for k in self._values):
            return _Group(self, name)
        raise AttributeError(f"No setting {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name == "source_file":
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "database.password" and v else self.get(k)) for k, v in self._values.items()}
        return "pipejoint config " + json.dumps(shown, indent=2, default=str)

    def _set(self, key, value, source):
        self._values[key] = _coerce(key, value)
        self._sources[key] = source

    # --- the backend ---
    def is_set(self, key: str) -> bool:
        """Whether a setting was given a value (by a file, the environment or code), not left at its default."""
        return key in self._sources and self._values.get(key) not in (None, "")

    def source_of(self, key: str) -> str | None:
        """Where a setting got its value: a file's path, an environment variable, or "code"."""
        return self._sources.get(key) if self.is_set(key) else None

    def choose_backend(self, backend: str | None = None, server_arguments: Iterable[str] = ()) -> tuple[str, str]:
        """(backend, why): the backend a new connection uses, and the reason, for messages.

        `backend` and `server_arguments` (the names of host/user/password/port arguments given to
        the connection) come from the call; they outrank the configuration.
        """
        server_arguments = list(server_arguments)
        if backend is not None:
            return _coerce("database.backend", backend), "the connection was opened with backend=" + repr(backend)
        if self.is_set("database.backend"):
            chosen = self._values["database.backend"]
            why = f"database.backend is {chosen!r} ({self._describe_source('database.backend')})"
            if chosen == "sqlite" and server_arguments:
                raise DataJointError(
                    f"The connection was given {', '.join(server_arguments)} for a database server, but {why}, "
                    "which keeps the data in a local file. Set dj.config['database.backend'] to 'mysql' or "
                    "'postgresql' (or pass backend=...) to use the server; drop those arguments to use SQLite."
                )
            return chosen, why
        if server_arguments:
            return "mysql", f"the connection was given {', '.join(server_arguments)} and no backend (as in DataJoint)"
        by_source: dict[str, list[str]] = {}
        for key in SERVER_KEYS:
            if self.is_set(key):
                by_source.setdefault(self._describe_source(key), []).append(key)
        if by_source:
            where = "; ".join(f"{' and '.join(keys)} {source}" for source, keys in by_source.items())
            return "mysql", f"a database server is configured ({where}) and database.backend is not, as in DataJoint"
        return "sqlite", "no database server and no backend are configured"

    def _describe_source(self, key):
        source = self._sources.get(key)
        if source == "code":
            return "set in code"
        if source and source.startswith("DJ_"):
            return f"from the environment variable {source}"
        return f"from {source}"

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
                self._set(key, value, str(path))
            else:
                logger.warning("Ignoring unknown setting %r in %s", key, path)
        self.source_file = str(path)
        self._apply_loglevel()

    def save(self, path: str | os.PathLike[str] = "pipejoint.json") -> None:
        """Write the current settings (except the password) to a JSON file, with the backend they
        choose written out, so that the file chooses the same one when it is read back."""
        data = {k: v for k, v in self._values.items() if k != "database.password"}
        data["database.backend"] = self["database.backend"]
        Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n")

    def _load_first_file(self):
        path = find_config_file()
        if path is not None:
            self.load(path)

    def _load_environment(self):
        for var, key in ENV_VARS.items():
            value = os.environ.get(var)
            if value in (None, "") or (key == "database.port" and self._sources.get(key) == "DJ_HOST"):
                continue  # (a port written in DJ_HOST wins over DJ_PORT, as in DataJoint)
            if key == "database.host":
                value, port = split_host_port(value)
                if port is not None:
                    self._set("database.port", port, var)
            self._set(key, value, var)

    def _load_secrets(self):
        """DataJoint 2.x's secrets: one file per setting (``database.password``) in ``.secrets/``
        beside the config file, else in /run/secrets/datajoint; read for settings nothing else gave."""
        folders = [Path(self.source_file).parent / SECRETS_DIRS[0]] if self.source_file else []
        for folder in [*folders, Path(SECRETS_DIRS[1])]:
            if not folder.is_dir():
                continue
            for key in SECRET_KEYS:
                path = folder / key
                if path.is_file() and not self.is_set(key):
                    self._set(key, path.read_text().strip(), str(path))
            return

    def _apply_loglevel(self):
        logger.setLevel(str(self._values.get("loglevel", "INFO")).upper())

    @contextlib.contextmanager
    def override(self, **kwargs: Any) -> Iterator[Config]:
        """Temporarily change settings; nested keys use ``__`` (``override(display__limit=5)``)
        or, as in DataJoint 2.x, a dict per group (``override(jobs={"keep_completed": True})``)."""
        saved = copy.deepcopy(self._values), dict(self._sources)
        try:
            changes = _flatten({key.replace("__", "."): value for key, value in kwargs.items()})
            for key, value in changes.items():
                self[key] = value
            yield self
        finally:
            self._values, self._sources = saved
            self._apply_loglevel()

    @staticmethod
    def save_template(
        path: str | os.PathLike[str] = "datajoint.json", minimal: bool = True, create_secrets_dir: bool = True
    ) -> Path:
        """Write a starting configuration file (DataJoint 2.x's ``save_template``), never over an
        existing one, and beside it a ``.secrets/`` folder for the login, one file per setting,
        which git ignores. Credentials never go in the file itself. Returns the file's path."""
        path = Path(path)
        if path.exists():
            raise FileExistsError(f"{path} exists already: remove it, or give save_template() another path.")
        template: dict[str, Any] = {"database": {"host": "localhost", "port": 3306}}
        if not minimal:
            template["database"].update(reconnect=True, use_tls=None)
            template["connection"] = {"charset": ""}
            template["display"] = {k.split(".")[1]: DEFAULTS[k] for k in DEFAULTS if k.startswith("display.")}
            template.update({k: DEFAULTS[k] for k in ("loglevel", "safemode", "query_cache", "download_path")})
            template["stores"] = {"default": "main", "main": {"protocol": "file", "location": "/data/my-lab/main"}}
        path.write_text(json.dumps(template, indent=2) + "\n")
        if create_secrets_dir:
            folder = path.parent / SECRETS_DIRS[0]
            folder.mkdir(exist_ok=True)
            for key in SECRET_KEYS:
                if not (folder / key).exists():
                    (folder / key).write_text(f"your {key.split('.')[1]}\n")
            if not (folder / ".gitignore").exists():
                (folder / ".gitignore").write_text("# the login stays out of version control\n*\n!.gitignore\n")
        return path.resolve()

    def connection_settings(self) -> dict[str, Any]:
        """The settings a connection is made from, as a plain dict (the backend left to choose_backend())."""
        return {k.split(".", 1)[1]: v for k, v in self._values.items() if k.startswith("database.")}


def find_config_file(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The configuration file a process started in `start` (the working directory) reads, if any."""
    folder = Path(start or Path.cwd()).resolve()
    names = CONFIG_FILES
    while True:
        for name in names:
            if (folder / name).is_file():
                return folder / name
        if (folder / ".git").exists() or (folder / ".hg").exists() or folder == folder.parent:
            break
        folder, names = folder.parent, PARENT_CONFIG_FILES
    home = Path(GLOBAL_CONFIG_FILE).expanduser()
    return home if home.is_file() else None


def _true(text):
    return str(text or "").strip().lower() in ("1", "true", "yes", "on")


def thread_safe() -> bool:
    """Whether DJ_THREAD_SAFE (true, 1 or yes) turns on DataJoint's thread-safe mode. Read at each
    use of a process-wide object, as DataJoint does, so it holds from the process's start."""
    return os.environ.get("DJ_THREAD_SAFE", "").lower() in ("true", "1", "yes")


def refuse_in_thread_safe_mode(what: str) -> None:
    """Raise ThreadSafetyError when thread-safe mode is on: `what` is process-wide state."""
    if thread_safe():
        raise ThreadSafetyError(
            f"{what} is refused: DJ_THREAD_SAFE={os.environ.get('DJ_THREAD_SAFE')} turns off the process-wide "
            "settings (dj.config) and connection (dj.conn()). Make an isolated instance, lab = dj.Instance(host, "
            "user, password, backend=...), and use lab.Schema(name), lab.FreeTable(name), lab.connection and "
            "lab.config instead."
        )


class ProcessConfig:
    """``dj.config``: the process's settings (``config`` below), refused in thread-safe mode.

    pipejoint itself reads settings through the connection at hand (``connection.config``), which
    for ``dj.conn()`` is ``config`` itself, so only the user's own reads pass through this check.
    """

    __slots__ = ()
    save_template = staticmethod(Config.save_template)  # writes a file, reads no setting: allowed in thread-safe mode

    def __getattr__(self, name: str) -> Any:
        refuse_in_thread_safe_mode("dj.config")
        return getattr(config, name)

    def __setattr__(self, name: str, value: Any) -> None:
        refuse_in_thread_safe_mode("dj.config")
        setattr(config, name, value)

    def __getitem__(self, key: str) -> Any:
        refuse_in_thread_safe_mode("dj.config")
        return config[key]

    def __setitem__(self, key: str, value: Any) -> None:
        refuse_in_thread_safe_mode("dj.config")
        config[key] = value

    def __delitem__(self, key: str) -> None:
        refuse_in_thread_safe_mode("dj.config")
        del config[key]

    def __contains__(self, key: object) -> bool:
        refuse_in_thread_safe_mode("dj.config")
        return key in config

    def __iter__(self) -> Iterator[str]:
        refuse_in_thread_safe_mode("dj.config")
        return iter(config)

    def __repr__(self) -> str:
        if thread_safe():
            return "pipejoint config (off in thread-safe mode: use dj.Instance(...).config)"
        return repr(config)


config = Config()
public_config = ProcessConfig()  # what ``dj.config`` is
