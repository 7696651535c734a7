"""Run metadata of computed rows (config `jobs.add_job_metadata`): when, how long, where, which code.

The values live in hidden attributes (names starting with `_`), so fetch() leaves them out;
`Table.job_metadata()` returns them.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import os
import socket
import subprocess
import time

from .heading import Attribute
from .types import parse_type

COLUMNS = (
    ("_job_start_time", "datetime(3)", "when make() started"),
    ("_job_duration", "float64", "seconds make() took"),
    ("_job_host", "varchar(255)", "host that ran make()"),
    ("_job_version", "varchar(64)", "git commit of the pipeline code"),
)


def metadata_attributes(schema, table_name):
    return [
        Attribute(name, parse_type(declared), in_key=False, nullable=True, default="null", comment=comment,
                  lineage=f"{schema}.{table_name}.{name}")
        for name, declared, comment in COLUMNS
    ]


@functools.lru_cache(maxsize=64)
def _git_commit(directory):
    try:
        result = subprocess.run(["git", "-C", directory, "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()[:40] if result.returncode == 0 else ""


def code_version(table):
    """The git commit of the file that defines the table's class, or '' outside a repository."""
    try:
        path = inspect.getsourcefile(type(table))
    except TypeError:
        return ""
    return _git_commit(os.path.dirname(os.path.abspath(path))) if path else ""


def _params(connection):
    return "?" if connection.backend.paramstyle == "qmark" else "%s"


def record_metadata(table, key, start):
    """Fill the hidden columns of the rows just made for `key` (inside make's transaction)."""
    connection = table._connection
    backend = connection.backend
    heading = table.heading
    p = _params(connection)
    started = datetime.datetime.fromtimestamp(start)
    values = {
        "_job_start_time": started.replace(microsecond=started.microsecond // 1000 * 1000),
        "_job_duration": time.time() - start,
        "_job_host": socket.gethostname(),
        "_job_version": code_version(table),
    }
    attrs = heading.all_attributes
    sets = ", ".join(f"{backend.quote(n)} = {p}" for n in values)
    where = " AND ".join(f"{backend.quote(n)} = {p}" for n in heading.primary_key)
    args = [backend.encode(v, attrs[n]) for n, v in values.items()]
    args += [backend.encode(key[n], attrs[n]) for n in heading.primary_key]
    connection.query(f"UPDATE {table.full_table_name} SET {sets} WHERE {where}", args)


def fetch_metadata(table, restrictions):
    """[{key..., _job_start_time, _job_duration, _job_host, _job_version}] for the restricted rows."""
    connection = table._connection
    backend = connection.backend
    heading = table.heading
    if "_job_start_time" not in heading.all_attributes:
        from .errors import DataJointError

        raise DataJointError(
            f"{table.node_name} has no run metadata: set dj.config['jobs.add_job_metadata'] = True before "
            "declaring the table."
        )
    restricted = table
    for r in restrictions:
        restricted = restricted & r
    wanted = {tuple(k[n] for n in heading.primary_key) for k in restricted.keys()}
    names = list(heading.primary_key) + [c[0] for c in COLUMNS]
    cursor = connection.query(f"SELECT {', '.join(backend.quote(n) for n in names)} FROM {table.full_table_name}")
    decoders = [backend.decoder(heading.all_attributes[n].attr_type) for n in names]
    rows = []
    for raw in cursor.fetchall():
        row = {n: (d(v) if d and v is not None else v) for n, v, d in zip(names, raw, decoders)}
        if tuple(row[n] for n in heading.primary_key) in wanted:
            rows.append(row)
    return rows
