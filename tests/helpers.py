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
