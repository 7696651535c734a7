"""Helpers for tests that share a database with DataJoint 2.3.5 (a test dependency).

DataJoint connects to the same test server as the test's pipejoint connection; its stores are
configured like pipejoint's. `database_dump` is the server's own dump tool's output for a schema,
to check that opening and reading a schema changes nothing in it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import warnings

import pytest

SQLITE_REASON = "DataJoint 2.3.5 has no SQLite backend: schemas made by DataJoint live on MySQL or PostgreSQL"


def require_server_catalog(connection, reason=SQLITE_REASON):
    """Skip on SQLite, where DataJoint cannot make schemas."""
    if connection.backend.name == "sqlite":
        pytest.skip(reason)


def datajoint_module():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import datajoint

    return datajoint


def datajoint_connection(settings):
    """A DataJoint 2.3.5 connection to the test server of `settings` (helpers.server_settings)."""
    datajoint = datajoint_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return datajoint.Connection(
            settings["host"],
            settings["user"],
            settings.get("password") or "",
            port=settings["port"],
            backend=settings["backend"],
            database_name=settings.get("database_name"),
        )


@contextlib.contextmanager
def datajoint_stores(stores, **more):
    """DataJoint's config with these stores (and other keys) for the duration of the block."""
    datajoint = datajoint_module()
    keys = {"stores": stores, **more}
    saved = {key: datajoint.config[key] for key in keys}
    try:
        for key, value in keys.items():
            datajoint.config[key] = value
        yield datajoint.config
    finally:
        for key, value in saved.items():
            datajoint.config[key] = value


def drop_datajoint_schema(connection, name):
    """Drop a schema made in a test (DataJoint's enum types on PostgreSQL go with it)."""
    if name in connection.backend.list_schemas(connection):
        connection.backend.drop_schema(connection, name)
    connection.catalog_cache_clear()


def database_dump(settings, schema):
    """The server's dump of one schema (structure, comments, indexes, rows), without timestamps."""
    if settings["backend"] == "sqlite":  # the file's own dump (sqlite3's iterdump), this schema's tables only
        import sqlite3

        raw = sqlite3.connect(settings["database_name"])
        try:
            prefix = f'"{schema}.'
            return "\n".join(line for line in raw.iterdump() if prefix in line or f"'{schema}." in line)
        finally:
            raw.close()
    if settings["backend"] == "mysql":
        tool = shutil.which("mariadb-dump") or shutil.which("mysqldump")
        command = [
            tool,
            "-h",
            settings["host"],
            "-P",
            str(settings["port"]),
            "-u",
            settings["user"],
            "--skip-dump-date",
            "--skip-comments",
            "--order-by-primary",
            "--skip-extended-insert",
            "--routines",
            "--hex-blob",
            schema,
        ]
        env = dict(os.environ, MYSQL_PWD=settings.get("password") or "")
    else:
        tool = shutil.which("pg_dump")
        command = [
            tool,
            "-h",
            settings["host"],
            "-p",
            str(settings["port"]),
            "-U",
            settings["user"],
            "-d",
            settings["database_name"],
            "--schema",
            schema,
            "--no-owner",
        ]
        env = dict(os.environ, PGPASSWORD=settings.get("password") or "")
    if tool is None:
        pytest.fail(f"The {settings['backend']} dump tool is not installed (it comes with the server's client package)")
    result = subprocess.run(command, env=env, capture_output=True, check=True)
    # pg_dump guards its output with a random \restrict token: not part of the database
    return b"\n".join(
        line for line in result.stdout.splitlines() if not line.startswith((b"\\restrict", b"\\unrestrict"))
    )
