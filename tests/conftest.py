"""Fixtures: every database test runs on SQLite, PostgreSQL and MySQL/MariaDB.

Servers are real (no mocks). Where a server is not reachable its tests are skipped with a
message naming it, except in CI (CI=true), where a missing server is a failure.
Plain helper functions are in helpers.py.
"""

from __future__ import annotations

import pytest

import pipejoint as dj
from helpers import BACKENDS, STORE_KINDS, drop_schema, open_connection, store_spec, unique_name


@pytest.fixture(scope="session", autouse=True)
def _no_prompts():
    dj.config["safemode"] = False
    yield


@pytest.fixture(scope="session", params=BACKENDS)
def backend_connection(request, tmp_path_factory):
    """(connection, settings) for one backend, shared by the tests of a session."""
    connection, settings = open_connection(request.param, str(tmp_path_factory.mktemp(request.param)))
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
        drop_schema(connection, schema.database)


@pytest.fixture
def schema(make_schema):
    return make_schema()


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    """The name of a configured, empty store ('main', also the default) of each kind."""
    spec = store_spec(request.param, tmp_path)
    with dj.config.override(stores={"default": "main", "main": spec}, download_path=str(tmp_path / "downloads")):
        yield "main"
