"""Run metadata of computed rows: when each was made, how long make() took, on which host, with
which code.

With dj.config["jobs.add_job_metadata"] = True, Computed and Imported tables declared from then
on get hidden attributes (names starting with `_`, as DataJoint 2.x's `_job_*` columns):

    _job_start_time   datetime(3)    when make() started
    _job_duration     float32        seconds make() took, up to its inserts
    _job_version      varchar(64)    git commit of the file that defines the table class
                                     ("+dirty" when that file has uncommitted changes; ""
                                     outside a git repository)
    _job_host         varchar(255)   the host that ran make() (pipejoint's; DataJoint has none)

The first three are declared as DataJoint 2.x declares them (types, defaults, comments), so
DataJoint's populate fills them in pipejoint's tables and pipejoint's in DataJoint's.

populate() fills them in the transaction that stores the rows. fetch() and to_dicts() leave them
out; name them to get them: `Table.fetch("KEY", "_job_duration")`, `Table.proj("_job_host")`,
or `Table.job_metadata()` for all four.
"""

from __future__ import annotations

import datetime
import inspect
import os
import socket
import subprocess
import time

from ..core.heading import Attribute
from ..core.types import parse_type
from ..errors import DataJointError

COLUMNS = (  # name, type, default, comment
    ("_job_start_time", "datetime(3)", "null", "when computation began"),
    ("_job_duration", "float32", "null", "computation duration in seconds"),
    ("_job_version", "varchar(64)", '""', "code version"),
    ("_job_host", "varchar(255)", "null", "host that ran make()"),
)
NAMES = tuple(name for name, _, _, _ in COLUMNS)


def metadata_attributes(schema, table_name):
    return [
        Attribute(
            name,
            parse_type(declared),
            in_key=False,
            nullable=default == "null",
            default=None if default == "null" else default,
            comment=comment,
            lineage=f"{schema}.{table_name}.{name}",
        )
        for name, declared, default, comment in COLUMNS
    ]


def _git(directory, *args):
    try:
        return subprocess.run(["git", "-C", directory, *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None


def code_version(table):
    """The git commit of the file that defines the table's class (with "+dirty" when the file has
    uncommitted changes), or None when it is not in a git repository."""
    try:
        path = inspect.getsourcefile(type(table))
    except TypeError:
        return None
    if not path or not os.path.isfile(path):
        return None
    directory = os.path.dirname(os.path.abspath(path))
    head = _git(directory, "rev-parse", "HEAD")
    if head is None or head.returncode != 0:
        return None
    changed = _git(directory, "status", "--porcelain", "--", os.path.abspath(path))
    dirty = changed is not None and changed.returncode == 0 and changed.stdout.strip() != ""
    return head.stdout.strip()[:40] + ("+dirty" if dirty else "")


class RunMetadata:
    """Fills the hidden run-metadata attributes of the rows made for one key; one per populate()."""

    def __init__(self, table):
        self.table = table
        self.version = code_version(table) or ""  # DataJoint's column is NOT NULL DEFAULT ""
        self.host = socket.gethostname()
        self._sql = None

    def record(self, key, start):
        """Inside make's transaction: every row made for `key` (tables may add key attributes)."""
        table = self.table
        connection = table._connection
        backend = connection.backend
        attrs = table.heading.all_attributes
        names = [n for n in table.heading.primary_key if n in key]
        filled = [n for n in NAMES if n in attrs]  # tables DataJoint declared have no _job_host
        if self._sql is None:
            p = backend.placeholder
            sets = ", ".join(f"{backend.quote(n)} = {p}" for n in filled)
            where = " AND ".join(f"{backend.quote(n)} = {p}" for n in names)
            self._sql = f"UPDATE {table.full_table_name} SET {sets} WHERE {where}"
        started = datetime.datetime.fromtimestamp(start)
        values = {
            "_job_start_time": started.replace(microsecond=started.microsecond // 1000 * 1000),
            "_job_duration": time.time() - start,
            "_job_host": self.host,
            "_job_version": self.version,
        }
        args = [None if values[n] is None else backend.encode(values[n], attrs[n]) for n in filled]
        args += [backend.encode(key[n], attrs[n]) for n in names]
        connection.execute(self._sql, args)


def fetch_metadata(table, restrictions):
    """[{key..., _job_start_time, _job_duration, _job_host, _job_version}] of the restricted rows."""
    if NAMES[0] not in table.heading:
        raise DataJointError(
            f"{table.node_name} has no run metadata: it was declared while dj.config['jobs.add_job_metadata'] was "
            "off. Set it to True before declaring the table (drop and declare it again to add the attributes)."
        )
    restricted = table
    for r in restrictions:
        restricted = restricted & r
    return restricted.proj(*[n for n in NAMES if n in table.heading]).to_dicts(order_by="KEY")
