"""Helpers shared by the tests: test servers, unique names, stores.

Fixtures live in conftest.py; this module holds the plain functions tests import.
The servers are found through PJ_TEST_* variables, defaulting to the local ones. S3 stores are
served on loopback by moto's server mode, a real S3-compatible HTTP server (no mocks of our code),
started once per test process on a free port and stopped at exit.
"""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import uuid

import pytest

from pipejoint.catalog.connection import Connection
from pipejoint.errors import LostConnectionError

BACKENDS = ("sqlite", "postgresql", "mysql")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def server_settings(backend, tmp_dir=None):
    """Connection settings for a backend, as keyword arguments of Connection."""
    if backend == "sqlite":
        return {"backend": "sqlite", "database_name": os.path.join(tmp_dir, "pipejoint-test.db")}
    if backend == "postgresql":
        return {
            "backend": "postgresql",
            "host": os.environ.get("PJ_TEST_PG_HOST", "127.0.0.1"),
            "port": int(os.environ.get("PJ_TEST_PG_PORT", "5432")),
            "user": os.environ.get("PJ_TEST_PG_USER", "postgres"),
            "password": os.environ.get("PJ_TEST_PG_PASSWORD", ""),
            "database_name": os.environ.get("PJ_TEST_PG_DATABASE", "test"),
        }
    return {
        "backend": "mysql",
        "host": os.environ.get("PJ_TEST_MYSQL_HOST", "127.0.0.1"),
        "port": int(os.environ.get("PJ_TEST_MYSQL_PORT", "3306")),
        "user": os.environ.get("PJ_TEST_MYSQL_USER", "root"),
        "password": os.environ.get("PJ_TEST_MYSQL_PASSWORD", ""),
    }


# server_settings() keys -> the dj.config keys that make the global connection use them
CONFIG_KEYS = {
    "backend": "database.backend",
    "host": "database.host",
    "port": "database.port",
    "user": "database.user",
    "password": "database.password",
    "database_name": "database.name",
}


def environment_for(settings):
    """DJ_* environment variables that make a fresh process connect the same way."""
    env = {"DJ_BACKEND": settings["backend"]}
    if settings["backend"] == "sqlite":
        env["DJ_DATABASE_NAME"] = settings["database_name"]
        return env
    env.update(
        {
            "DJ_HOST": settings["host"],
            "DJ_PORT": str(settings["port"]),
            "DJ_USER": settings["user"],
            "DJ_PASS": settings["password"] or "",
        }
    )
    if settings.get("database_name"):
        env["DJ_DATABASE_NAME"] = settings["database_name"]
    return env


def connect(settings):
    """A new Connection made from server_settings() (another process would connect the same way)."""
    kwargs = dict(settings)
    return Connection(
        kwargs.pop("host", None),
        kwargs.pop("user", None),
        kwargs.pop("password", None) or None,
        kwargs.pop("port", None),
        backend=kwargs.pop("backend"),
        database_name=kwargs.pop("database_name", None),
    )


def open_connection(backend, tmp_dir):
    """A connection to a backend's test server, or a skip (a failure in CI) naming the server."""
    settings = server_settings(backend, tmp_dir)
    try:
        return connect(settings), settings
    except LostConnectionError as error:
        message = f"{backend} server not reachable: {error}"
        if IN_CI:
            pytest.fail(message + " (CI=true: every backend must run)")
        pytest.skip(message)


_counter = itertools.count()


def unique_name(prefix="t"):
    return f"{prefix}_{uuid.uuid4().hex[:8]}_{next(_counter)}"


def drop_schema(connection, name):
    """Drop a test schema, first dropping schemas that depend on it."""
    if name in connection.backend.list_schemas(connection):
        connection.backend.drop_schema(connection, name)
    connection.catalog_cache_clear()


def require_extra(module, hint):
    """Import an optional extra's package for a test module, or skip it naming the install command;
    in CI (where the test extra installs every one) a missing package fails instead."""
    try:
        return __import__(module)
    except ImportError:
        if IN_CI:
            pytest.fail(f"{module} is missing in CI: {hint}", pytrace=False)
        pytest.skip(f"{module} is not installed: {hint}", allow_module_level=True)


def schema_state(connection, name):
    """{table name: sorted rows} of every table in a schema, hidden ones included: compare it before
    and after an operation that must change nothing."""
    state = {}
    for table in connection.backend.list_tables(connection, name):
        full_name = connection.backend.full_table_name(name, table)
        state[table] = sorted(map(repr, connection.query(f"SELECT * FROM {full_name}").fetchall()))
    return state


_server = {}
STORE_KINDS = ("file", "s3")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_endpoint():
    """host:port of the moto server, started on first use."""
    if "endpoint" not in _server:
        try:
            from moto.server import ThreadedMotoServer
        except ModuleNotFoundError:
            message = 'S3 store tests need moto\'s server: pip install "moto[server]" s3fs boto3'
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(message)
            pytest.skip(message)
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        atexit.register(server.stop)
        _server["endpoint"] = f"127.0.0.1:{port}"
    return _server["endpoint"]


def store_spec(kind, tmp_path):
    """A fresh, empty store of the given kind."""
    if kind == "file":
        location = tmp_path / "store"
        location.mkdir(exist_ok=True)
        return {"protocol": "file", "location": str(location)}
    endpoint = s3_endpoint()
    import boto3

    bucket = f"pj-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=f"http://{endpoint}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)
    return {
        "protocol": "s3",
        "endpoint": endpoint,
        "bucket": bucket,
        "location": "lab/data",
        "access_key": "testing",
        "secret_key": "testing",
        "secure": False,
    }


def stored_files(name="main", prefix=""):
    """Relative paths of every file in the store (under prefix)."""
    from pipejoint.storage.stores import get_store

    return sorted(get_store(name).walk_files(prefix))


def configure_datajoint(settings, stores=None, download_path=None):
    """DataJoint 2.3.5 (a test dependency) connected to the same server as `settings`: its global
    config set the way a user sets it, and a fresh connection. Returns the datajoint module."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no datajoint.json here; MariaDB is "best effort" for DataJoint
        import datajoint

        config = datajoint.config
        config.database.backend = settings["backend"]
        config["database.host"] = settings["host"]
        config["database.port"] = settings["port"]
        config["database.user"] = settings["user"]
        config["database.password"] = settings["password"] or ""
        config["database.use_tls"] = False  # the test servers have no TLS: no failed attempt first
        if settings["backend"] == "postgresql":
            config["database.name"] = settings["database_name"]
        config["safemode"] = False
        config["stores"] = dict(stores or {})
        if download_path is not None:
            config["download_path"] = str(download_path)
        datajoint.conn(reset=True)
    return datajoint


# --- DataJoint 0.14 fixtures ----------------------------------------------------------------

DJ014_FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "datajoint014")


def dj014_manifest():
    """tests/fixtures/datajoint014/manifest.json: what DataJoint 0.14 wrote and fetched back."""
    if "dj014" not in _server:
        import json

        with open(os.path.join(DJ014_FIXTURES, "manifest.json")) as f:
            _server["dj014"] = json.load(f)
    return _server["dj014"]


def raw_mysql(settings):
    """A plain PyMySQL connection to the MySQL test server (autocommit), independent of pipejoint."""
    import pymysql

    return pymysql.connect(
        host=settings["host"],
        port=settings["port"],
        user=settings["user"],
        password=settings["password"] or "",
        charset="utf8mb4",
        autocommit=True,
    )


def split_sql(text):
    """The statements of a SQL dump, split at semicolons outside quotes and comments."""
    statements, start, i, n = [], 0, 0, len(text)
    quote = None
    while i < n:
        c = text[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 2
                continue
            if c == quote:
                if i + 1 < n and text[i + 1] == quote:  # a doubled quote inside the string
                    i += 2
                    continue
                quote = None
        elif c in "'\"`":
            quote = c
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        elif text.startswith("-- ", i) or (c == "#" and (i == 0 or text[i - 1] == "\n")):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c == ";":
            statement = text[start:i].strip()
            if statement:
                statements.append(statement)
            start = i + 1
        i += 1
    rest = text[start:].strip()
    if rest:
        statements.append(rest)
    return statements


def rename_schemas_in_dump(text, names):
    """The dump with every backquoted original schema name replaced by the new one.

    Schema names appear in a dump only backquoted: cross-schema foreign keys (`pj014_subject`.`subject`),
    0.14's table comments (`job reservation table for `pj014_lab``) and ~log events.
    """
    for original, new in names.items():
        text = text.replace(f"`{original}`", f"`{new}`")
    return text


class Loaded014:
    """The DataJoint 0.14 fixtures loaded into fresh schemas, with their store files in a folder."""

    def __init__(self, names, stores, root, manifest):
        self.names = names  # label ('lab', 'subject') -> loaded schema name
        self.stores = stores  # store name -> spec for dj.config['stores'] (location, stage)
        self.root = root
        self.manifest = manifest

    @property
    def lab(self):
        return self.names["lab"]

    @property
    def subject(self):
        return self.names["subject"]

    def schema_of(self, label):
        return self.names[label]


def load_datajoint014(settings, folder):
    """Load the 0.14 dumps into fresh schemas and lay out the store files under `folder`.

    Every original schema name is rewritten to its new one, in the dump (foreign keys across
    schemas name their schema) and in the store (0.14 keeps objects under {location}/{schema}/).
    Stores with a stage get an empty stage folder: reading a filepath copies the file there.
    """
    import shutil

    manifest = dj014_manifest()
    originals = manifest["schemas"]
    names = {label: unique_name(f"pj014{label}") for label in manifest["load_order"]}
    renames = {originals[label]: names[label] for label in names}
    raw = raw_mysql(settings)
    try:
        with raw.cursor() as cursor:
            for label in manifest["load_order"]:
                with open(os.path.join(DJ014_FIXTURES, manifest["dumps"][label]["file"])) as f:
                    text = rename_schemas_in_dump(f.read(), renames)
                cursor.execute(f"CREATE DATABASE `{names[label]}`")
                cursor.execute(f"USE `{names[label]}`")
                for statement in split_sql(text):
                    cursor.execute(statement)
    finally:
        raw.close()
    stores = {}
    for name, info in manifest["stores"].items():
        location = os.path.join(folder, "store", name)
        source = os.path.join(DJ014_FIXTURES, info["files"])
        os.makedirs(location)
        for entry in os.listdir(source):
            shutil.copytree(os.path.join(source, entry), os.path.join(location, renames.get(entry, entry)))
        spec = {"protocol": info["protocol"], "location": location}
        if info["subfolding"] != [2, 2]:  # 0.14's default; a lab's configuration usually leaves it out
            spec["subfolding"] = info["subfolding"]
        if info["stage"]:
            spec["stage"] = os.path.join(folder, "stage", name)
            os.makedirs(spec["stage"])
        stores[name] = spec
    return Loaded014(names, stores, folder, manifest)


def drop_datajoint014(settings, loaded):
    """Drop the schemas load_datajoint014 made (the referencing one first)."""
    raw = raw_mysql(settings)
    try:
        with raw.cursor() as cursor:
            for label in reversed(loaded.manifest["load_order"]):
                cursor.execute(f"DROP DATABASE IF EXISTS `{loaded.names[label]}`")
    finally:
        raw.close()


def mysql_snapshot(settings, schemas):
    """Everything in the schemas, for before/after comparisons: each table's CREATE statement and rows."""
    raw = raw_mysql(settings)
    snapshot = {}
    try:
        with raw.cursor() as cursor:
            for schema in schemas:
                cursor.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name",
                    (schema,),
                )
                for (table,) in cursor.fetchall():
                    cursor.execute(f"SHOW CREATE TABLE `{schema}`.`{table}`")
                    create = cursor.fetchone()[1]
                    cursor.execute(f"SELECT * FROM `{schema}`.`{table}`")
                    rows = sorted(cursor.fetchall(), key=repr)
                    snapshot[f"{schema}.{table}"] = (create, rows)
    finally:
        raw.close()
    return snapshot


def hidden_table_014(connection, schema, table_name):
    """A pipejoint table over one of 0.14's hidden tables (~log, ~external_<store>, ~jobs), its
    heading read from information_schema with 0.14's column rules (pipejoint.catalog.legacy).
    Hidden tables have no class and no record by design; this reads them only to compare their
    values with what 0.14 fetched. User tables open through FreeTable / VirtualModule."""
    from pipejoint.catalog.legacy import attribute_type_014
    from pipejoint.core.heading import Attribute, Heading
    from pipejoint.core.types import parse_type
    from pipejoint.table.table import FreeTable

    rows = connection.query(
        "SELECT column_name, column_type, column_comment, column_key = 'PRI', is_nullable = 'YES' "
        "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table_name),
    ).fetchall()
    attributes = []
    for name, column_type, comment, in_key, nullable in rows:
        found = attribute_type_014(schema, column_type, comment)
        attr_type, comment = found if found else (parse_type(column_type), comment)
        attributes.append(
            Attribute(
                name,
                attr_type,
                in_key=bool(in_key),
                nullable=bool(nullable),
                default="null" if nullable else None,
                comment=comment,
            )
        )
    table = FreeTable(connection, f"{schema}.{table_name}")
    table.__dict__["_heading"] = Heading(attributes)
    return table


# --- DataJoint 0.14 itself, in its own virtual environment -----------------------------------------

DJ014_VERSION = "0.14.6"


def datajoint014_python():
    """The Python of a virtual environment holding DataJoint 0.14.6, for tests that run 0.14 itself.

    ``PJ_TEST_DJ014_PYTHON`` names one; otherwise it is made on first use under the user's cache
    folder (``python -m venv`` and ``pip install datajoint==0.14.6`` from the package index) and
    reused afterwards. When it cannot be made (no index reachable), the test is skipped, saying
    why; in CI (CI=true) that is a failure.
    """
    import fcntl
    import subprocess
    import sys

    explicit = os.environ.get("PJ_TEST_DJ014_PYTHON")
    if explicit:
        return explicit
    if "dj014 failure" in _server:  # tried once in this process: the next tests skip at once
        pytest.skip(_server["dj014 failure"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    venv = os.path.join(cache, "pipejoint-tests", f"datajoint-{DJ014_VERSION}")
    python = os.path.join(venv, "bin", "python")
    done = os.path.join(venv, ".installed")
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one test process makes it; the others wait and reuse it
        if os.path.exists(done):
            return python
        steps = (
            [sys.executable, "-m", "venv", "--clear", venv],
            [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", f"datajoint=={DJ014_VERSION}"],
        )
        for step in steps:
            try:
                result = subprocess.run(step, capture_output=True, text=True, timeout=900)
            except (OSError, subprocess.TimeoutExpired) as error:
                result = None
                reason = str(error)
            if result is None or result.returncode != 0:
                reason = reason if result is None else (result.stderr.strip().splitlines() or ["?"])[-1]
                message = (
                    f"DataJoint {DJ014_VERSION} could not be installed in {venv} ({' '.join(step[:4])} ...: "
                    f"{reason}); set PJ_TEST_DJ014_PYTHON to a Python that has it"
                )
                if IN_CI:
                    pytest.fail(message)
                _server["dj014 failure"] = message
                pytest.skip(message)
        with open(done, "w") as f:
            f.write(DJ014_VERSION + "\n")
    return python
