"""Garbage collection of store objects no row refers to: ``dj.gc(schema)`` (a dry run) or
``dj.gc(schema, dry_run=False)``.

Deleting rows never deletes objects (a hash-addressed object may be shared by many rows), and
a failed insert inside a caller's transaction may leave objects behind. They all sit under the
store's ``_hash/{schema}/`` and ``_schema/[{partition}/]{schema}/`` prefixes, where this module looks for them.
An object is kept when any row of the schema refers to it, to a folder holding it, or to the
object whose manifest it is. ``filepath`` objects (the user's own files) are never touched.

Objects that an insert has uploaded but whose rows are not committed yet look unreferenced, and
so do objects written after the references were read. Deleting them would lose data, so objects
younger than ``min_age`` seconds (default DEFAULT_MIN_AGE, one hour) are spared and listed under
``recent``, and so is an old object that an insert has found already stored and is sharing again
(it writes a ``{path}.inuse-{token}`` marker next to it until its rows are committed). Pass
``min_age=0`` only when no insert into the schemas can be running, and a larger value when
transactions that insert objects stay open longer than an hour.
"""

from __future__ import annotations

import os
import sys
import time
import types

from ..errors import DataJointError

DEFAULT_MIN_AGE = 3600  # seconds: objects younger than this may belong to an insert still in progress


def references(*schemas):
    """{store name: set of paths} that rows of the schemas refer to, through their codecs.

    The schemas are dj.Schema objects: their tables are read through the tables' own cursor(),
    as stored (a codec's outer layers are not decoded, so no object is read from a store).
    """
    from .codecs import pipeline

    found = {}
    for schema in schemas:
        backend = schema.connection.backend
        for table in schema:
            for attr in table.heading.attributes.values():
                if attr.codec is None:
                    continue
                chain = pipeline.chain_of(attr)
                if not chain.uses_store:
                    continue
                decode = backend.decoder(chain.stored_type)
                query = table.proj(attr.name)
                position = query.heading.names.index(attr.name)
                rows = query.cursor().fetchall()
                inner = chain.links[-1][0]
                for row in rows:
                    stored = row[position]
                    if stored is None:
                        continue
                    stored = decode(stored) if decode else stored
                    for store, path in inner.referenced_paths(stored):
                        found.setdefault(store, set()).add(path)
                    for codec, _ in chain.links[:-1]:  # outer codecs may refer to more (custom ones)
                        if type(codec).referenced_paths is not type(inner).referenced_paths:
                            for store, path in codec.referenced_paths(stored):
                                found.setdefault(store, set()).add(path)
    return found


def _is_live(path, referenced):
    if path in referenced:
        return True
    if path.endswith(".manifest.json") and path[: -len(".manifest.json")] in referenced:
        return True
    parent = path
    while "/" in parent:
        parent = parent.rsplit("/", 1)[0]
        if parent in referenced:
            return True
    return False


def _mtime(info):
    value = info.get("mtime") or info.get("LastModified") or info.get("last_modified")
    if value is None:
        return None
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _marked_in_use(target, schemas):
    """Paths of the hash-addressed objects that an insert has marked as in use (storage.mark_in_use)."""
    from .stores import IN_USE_MARK

    marked = set()
    for schema in schemas:
        for path in target.walk_files(f"{target.hash_prefix}/{schema.database}"):
            if IN_USE_MARK in path:
                marked.add(path.split(IN_USE_MARK)[0])
    return marked


def _is_young(info, now, min_age):
    """Younger than min_age seconds, or of unknown age (then it might be)."""
    mtime = _mtime(info)
    return mtime is None or now - mtime < min_age


def collect(*schemas, store=None, dry_run=True, min_age=DEFAULT_MIN_AGE, verbose=False):
    """List (and with ``dry_run=False`` delete) objects of the schemas that no row refers to.

    ``min_age`` (seconds, default one hour): unreferenced objects younger than this, or whose age
    the store does not tell, are spared and listed under ``recent``, since an insert still in
    progress in another process may be about to commit rows that refer to them. ``min_age=0``
    collects them too: use it only when nothing inserts into these schemas meanwhile.

    Returns a dict: ``orphaned`` [(store, path)], ``orphaned_bytes``, ``recent`` [(store, path)],
    ``referenced``, ``stored``, ``deleted``, ``bytes_freed``, ``errors``, ``dry_run``.
    """
    from .stores import IN_USE_MARK, get_store, store_specs

    schemas = [s() if isinstance(s, type) else s for s in schemas]
    if not schemas:
        raise DataJointError("dj.gc needs the schemas to check, e.g. dj.gc(schema) or dj.gc(schema1, schema2).")
    for s in schemas:
        if getattr(s, "database", None) is None:
            raise DataJointError(f"dj.gc: {s!r} is not an activated dj.Schema; pass the schema objects.")
    referenced = references(*schemas)
    config = schemas[0].connection.config  # the stores of the schemas' connection (a dj.Instance's own)
    names = [store] if store else [n for n, spec in store_specs(config).items() if isinstance(spec, dict)]
    report = {
        "dry_run": dry_run,
        "referenced": sum(len(v) for v in referenced.values()),
        "stored": 0,
        "orphaned": [],
        "orphaned_bytes": 0,
        "recent": [],
        "deleted": 0,
        "bytes_freed": 0,
        "errors": [],
    }
    now = time.time()
    doomed = {}
    for name in names:
        try:
            target = get_store(name, config)
        except DataJointError as error:
            report["errors"].append(f"store '{name}': {error}")
            continue
        refs = referenced.get(name, set())
        for schema in schemas:
            for prefix in (target.hash_prefix, target.schema_prefix):
                try:
                    files = _schema_files(target, prefix, schema.database)
                except Exception as error:  # an unreachable store: report, and refuse to delete anything
                    report["errors"].append(f"store '{name}', listing {prefix}/{schema.database}: {error}")
                    continue
                report["stored"] += len(files)
                young = {path for path, info in files.items() if min_age > 0 and _is_young(info, now, min_age)}
                shared_now = {path.split(IN_USE_MARK)[0] for path in young if IN_USE_MARK in path}
                for path, info in sorted(files.items()):
                    if _is_live(path, refs):
                        continue
                    if path in young or path in shared_now:  # maybe an insert still in progress
                        report["recent"].append((name, path))
                        continue
                    report["orphaned"].append((name, path))
                    report["orphaned_bytes"] += int(info.get("size") or 0)
                    doomed.setdefault(name, (target, []))[1].append((path, int(info.get("size") or 0)))
    if verbose:
        for name, path in report["orphaned"]:
            print(f"{'would delete' if dry_run else 'deleting'} {name}:{path}")
        if report["recent"]:
            print(
                f"sparing {len(report['recent'])} unreferenced objects younger than {min_age} s "
                "(an insert may still be committing them); min_age=0 collects them"
            )
    if dry_run or not doomed:
        return report
    if report["errors"]:
        raise DataJointError(
            "dj.gc refused to delete: some stores could not be listed, so references may be incomplete: "
            + "; ".join(report["errors"])
            + ". Fix the store configuration and run it again."
        )
    for name, (target, items) in doomed.items():
        if min_age > 0:  # an insert that began to share an object since the listing: spare it too
            try:
                marked = _marked_in_use(target, schemas)
            except Exception as error:
                report["errors"].append(f"store '{name}': listing again before deleting failed: {error}")
                continue
            for path, size in items:
                if path in marked:
                    report["orphaned"].remove((name, path))
                    report["orphaned_bytes"] -= size
                    report["recent"].append((name, path))
            items = [(p, size) for p, size in items if p not in marked]
            if not items:
                continue
        try:
            target.fs.rm([target.full_path(p) for p, _ in items])
            report["deleted"] += len(items)
            report["bytes_freed"] += sum(size for _, size in items)
        except Exception as error:
            report["errors"].append(f"store '{name}': deleting failed: {error}")
        if target.is_local:
            _remove_empty_parents(target, [p for p, _ in items])
    return report


def _schema_files(target, prefix, database):
    """{path: info} of the files of one schema under a store prefix. Schema-addressed objects of a
    store with a ``partition_pattern`` lie under ``{prefix}/{attr}={value}/.../{database}/``
    (storage/paths.py), so then the whole prefix is listed and filtered."""
    prefix = prefix.strip("/")
    if not target.spec.get("partition_pattern"):
        return target.walk_files(f"{prefix}/{database}" if prefix else database)
    found = {}
    for path, info in target.walk_files(prefix).items():
        segments = path[len(prefix) + 1 :].split("/") if prefix else path.split("/")
        while segments and "=" in segments[0]:  # partition segments; a schema name has no '='
            segments.pop(0)
        if segments and segments[0] == database:
            found[path] = info
    return found


def _remove_empty_parents(target, paths):
    """Remove the folders that deleting ``paths`` left empty, up to the store's prefixes."""
    stops = {target.root.rstrip("/")} | {
        target.full_path(p.strip("/")) for p in (target.hash_prefix, target.schema_prefix) if p
    }
    for path in paths:
        folder = os.path.dirname(target.full_path(path))
        while folder not in stops and folder.startswith(target.root):
            try:
                os.rmdir(folder)  # only succeeds when empty
            except OSError:
                break
            folder = os.path.dirname(folder)


class GarbageCollector:
    """DataJoint 2.x's form: ``GarbageCollector(schema, store=None).collect(dry_run=True)``."""

    def __init__(self, *schemas, store=None):
        self.schemas = schemas
        self.store = store

    def references(self):
        return references(*self.schemas)

    def collect(self, dry_run=True, verbose=False, min_age=DEFAULT_MIN_AGE):
        return collect(*self.schemas, store=self.store, dry_run=dry_run, min_age=min_age, verbose=verbose)


class _CallableModule(types.ModuleType):
    """``dj.gc(schema)`` and ``dj.gc.collect(schema)`` both work."""

    def __call__(self, *schemas, **kwargs):
        return collect(*schemas, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
