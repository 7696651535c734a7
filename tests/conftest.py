"""Test fixtures: every database test runs on SQLite, PostgreSQL and MySQL/MariaDB.

Servers are real (no mocks). Where a server is not reachable its tests are skipped with a
message naming it, except in CI (CI=true), where a missing server is a failure.
The servers are found through PJ_TEST_* variables, defaulting to the local ones.
"""

from __future__ import annotations

import itertools
import os
import uuid

import pytest

import pipejoint as dj
from pipejoint.backends.connection import Connection
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


def environment_for(settings):
    """DJ_* environment variables that make a fresh process connect the same way."""
    env = {"DJ_BACKEND": settings["backend"]}
    if settings["backend"] == "sqlite":
        env["DJ_DATABASE_NAME"] = settings["database_name"]
        return env
    env.update({"DJ_HOST": settings["host"], "DJ_PORT": str(settings["port"]), "DJ_USER": settings["user"],
                "DJ_PASS": settings["password"] or ""})
    if settings.get("database_name"):
        env["DJ_DATABASE_NAME"] = settings["database_name"]
    return env


def _open(backend, tmp_dir):
    settings = server_settings(backend, tmp_dir)
    kwargs = dict(settings)
    try:
        return Connection(
            kwargs.pop("host", None), kwargs.pop("user", None), kwargs.pop("password", None) or None,
            kwargs.pop("port", None), backend=kwargs.pop("backend"), database_name=kwargs.pop("database_name", None),
        ), settings
    except LostConnectionError as error:
        message = f"{backend} server not reachable: {error}"
        if IN_CI:
            pytest.fail(message + " (CI=true: every backend must run)")
        pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _no_prompts():
    dj.config["safemode"] = False
    yield


@pytest.fixture(scope="session", params=BACKENDS)
def backend_connection(request, tmp_path_factory):
    """(connection, settings) for one backend, shared by the tests of a session."""
    connection, settings = _open(request.param, str(tmp_path_factory.mktemp(request.param)))
    yield connection, settings
    connection.close()


@pytest.fixture
def connection(backend_connection):
    connection, _ = backend_connection
    if connection.in_transaction:
        connection.cancel_transaction()
    return connection


@pytest.fixture
def settings(backend_connection):
    return backend_connection[1]


_counter = itertools.count()


def unique_name(prefix="t"):
    return f"{prefix}_{uuid.uuid4().hex[:8]}_{next(_counter)}"


@pytest.fixture
def make_schema(connection):
    """Factory for fresh schemas on the test's backend; all are dropped afterwards."""
    created = []

    def make(name=None, **kwargs):
        schema = dj.Schema(name or unique_name(), connection=connection, **kwargs)
        created.append(schema)
        return schema

    yield make
    if connection.in_transaction:
        connection.cancel_transaction()
    for schema in reversed(created):
        _drop_schema(connection, schema.database)


def _drop_schema(connection, name):
    """Drop a test schema, first dropping schemas that depend on it."""
    if name in connection.backend.list_schemas(connection):
        connection.backend.drop_schema(connection, name)
    connection.catalog_cache_clear()


@pytest.fixture
def schema(make_schema):
    return make_schema()
