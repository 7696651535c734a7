"""DataJoint 0.14's query cache: the results of reads kept on disk, for analyses that re-run.

``dj.config['query_cache']`` names a folder; ``conn.set_query_cache("some_key")`` turns caching on,
``conn.set_query_cache()`` turns it off, ``conn.purge_query_cache()`` deletes the cached results.
While it is on, every statement that reads (SELECT, WITH, ...) is answered from the file keyed by
the cache key, the SQL and its arguments when there is one, and otherwise run once and its rows
written there; a statement that could change the database is refused, as in DataJoint 0.14, since
cached results would silently go stale.

The session checks one attribute (``_query_cache``) per statement, so with caching off nothing
else runs. Files are pickles (the rows hold driver values: datetimes, decimals, bytes, UUIDs):
point ``query_cache`` at a folder only you write to.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from ..errors import DataJointError

CONFIG_KEY = "query_cache"
PREFIX = "pj-query-"  # the cache's files; purge deletes only these, never the folder's other files
SUFFIX = ".pickle"
READS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "EXPLAIN", "PRAGMA", "(")  # statements that may be cached


class CachedCursor:
    """A finished cursor over rows read from the cache (or just cached): the DBAPI reads only."""

    rowcount = -1
    lastrowid = None

    def __init__(self, rows: list[tuple], description: tuple | None) -> None:
        self._rows = rows
        self._next = 0
        self.description = description
        self.rowcount = len(rows)

    def fetchone(self) -> tuple | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchmany(self, size: int = 1) -> list[tuple]:
        rows = self._rows[self._next : self._next + size]
        self._next += len(rows)
        return rows

    def fetchall(self) -> list[tuple]:
        rows = self._rows[self._next :]
        self._next = len(self._rows)
        return rows

    def __iter__(self):
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        pass


def folder(config: Any) -> Path:
    """The cache folder `config` (the connection's settings) names; an error telling how to set it when there is none."""
    path = config.get(CONFIG_KEY)
    if not path:
        raise DataJointError(
            f"Query caching is on but no folder is configured: set dj.config['{CONFIG_KEY}'] to a folder "
            "path, or turn caching off with conn.set_query_cache()."
        )
    return Path(path)


def reads(sql: str) -> bool:
    return sql.lstrip()[:8].upper().startswith(READS)


def refuse_write(sql: str) -> None:
    raise DataJointError(
        "Only reads (SELECT) run while query caching is on: turn it off with conn.set_query_cache() "
        f"before inserting, deleting, declaring or altering. Refused: {sql.strip()[:120]}"
    )


def cache_file(config: Any, key: str, sql: str, args: Any) -> Path:
    digest = hashlib.sha256()
    digest.update(str(key).encode())
    digest.update(b"\0")
    digest.update(sql.encode())
    digest.update(b"\0")
    if isinstance(args, (list, tuple)):
        args = tuple(_plain(a) for a in args)
    digest.update(pickle.dumps(args, protocol=4))
    return folder(config) / f"{PREFIX}{digest.hexdigest()[:32]}{SUFFIX}"


def read(path: Path) -> CachedCursor | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    rows, description = pickle.loads(data)
    return CachedCursor(rows, description)


def write(path: Path, cursor: Any) -> CachedCursor:
    """Keep the rows of a just-run cursor in `path` (written whole, then renamed into place)."""
    description = None
    if cursor.description:
        description = tuple((d[0], None, None, None, None, None, None) for d in cursor.description)
    rows = [tuple(_plain(v) for v in row) for row in cursor.fetchall()] if description else []
    cursor.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    partial.write_bytes(pickle.dumps((rows, description), protocol=4))
    os.replace(partial, path)
    return CachedCursor(rows, description)


def purge(config: Any) -> int:
    """Delete the cached results in the folder `config` names; the number of files deleted."""
    path = config.get(CONFIG_KEY)
    if not path or not Path(path).is_dir():
        return 0
    count = 0
    for item in Path(path).iterdir():
        if item.name.startswith(PREFIX) and item.is_file():
            item.unlink(missing_ok=True)
            count += 1
    return count


def _plain(value: Any) -> Any:
    """memoryview (some drivers' bytes) as bytes, so that it pickles."""
    return bytes(value) if isinstance(value, memoryview) else value
