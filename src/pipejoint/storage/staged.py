"""Staged inserts: write an ``<object@>`` straight into its store, then insert the row.

``with table.staged_insert1 as staged:`` -- set the key in ``staged.rec``, write through
``staged.open(field, ext)`` (a file) or ``staged.store(field, ext)`` (an fsspec mapping, e.g. for
Zarr), and on a clean exit the object's metadata is computed from what was written and the row
inserted. On an exception, what was written is removed and no row is inserted. This avoids a local
copy of objects too large to stage on disk first. The objects go where ``<object@>`` puts them
(storage/paths.py).
"""

from __future__ import annotations

from typing import Any

from ..errors import DataJointError
from .codecs.stored import folder_manifest, now, object_path
from .stores import get_store, resolve_store_name


class StagedInsert:
    """One row being staged: ``rec`` holds its values, ``open``/``store`` give places to write objects."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self.rec: dict[str, Any] = {}
        self._staged: dict[str, tuple[Any, str, str | None]] = {}  # field -> (store, path, ext)

    @property
    def fs(self):
        """The fsspec filesystem of the default store."""
        config = self._table._connection.config
        return get_store(resolve_store_name(None, config=config), config).fs

    def _place(self, field: str, ext: str) -> tuple[Any, str]:
        if field in self._staged:
            store, path, _ = self._staged[field]
            return store, path
        heading = self._table.heading
        if field not in heading.names:
            raise DataJointError(f"Staged insert into {self._table.class_name}: no attribute `{field}`.")
        attr = heading[field]
        if attr.codec != "object":
            raise DataJointError(
                f"Staged insert into {self._table.class_name}: `{field}` is not an <object@> attribute; "
                "set its value in staged.rec instead."
            )
        missing = [k for k in heading.primary_key if k not in self.rec]
        if missing:
            raise DataJointError(
                f"Primary key values must be set in staged.rec before store() or open() on "
                f"{self._table.class_name}: missing {', '.join(missing)}."
            )
        config = self._table._connection.config
        store = get_store(resolve_store_name(attr.store, field=field, config=config), config)
        ext = ("." + ext if ext and not ext.startswith(".") else ext) or None
        key = {"_schema": self._table.database, "_table": self._table.table_name, "_field": field}
        key.update({k: self.rec[k] for k in heading.primary_key})
        path = object_path(store, key, ext or "")
        self._staged[field] = (store, path, ext)
        return store, path

    def open(self, field: str, ext: str = "", mode: str = "wb"):
        """A file opened for writing at the place of ``field``'s object."""
        store, path = self._place(field, ext)
        full = store.full_path(path)
        store.fs.makedirs(full.rsplit("/", 1)[0], exist_ok=True)
        return store.fs.open(full, mode)

    def store(self, field: str, ext: str = ""):
        """An fsspec mapping (``fsspec.FSMap``) over a folder object for ``field``, e.g. ``zarr.open(m)``."""
        store, path = self._place(field, ext)
        return store.fs.get_mapper(store.full_path(path))

    def _metadata(self, field: str) -> dict[str, Any]:
        store, path, ext = self._staged[field]
        if not store.exists(path):
            raise DataJointError(
                f"Staged insert into {self._table.class_name}: nothing was written for `{field}`; "
                "write through staged.open() or staged.store(), or do not ask for them."
            )
        meta = {"path": path, "store": store.name, "ext": ext, "timestamp": now()}
        if store.isdir(path):
            files = store.walk_files(path)
            sizes = {p[len(path) + 1 :]: int(info.get("size") or 0) for p, info in files.items()}
            manifest = folder_manifest(sizes)
            store.put_bytes(path + ".manifest.json", manifest.encode())
            return dict(meta, size=sum(sizes.values()), is_dir=True, item_count=len(sizes))
        size = int(store.info(path).get("size") or 0)
        return dict(meta, size=size, is_dir=False, item_count=None, hash=store.checksum(path))

    def _cleanup(self) -> None:
        for store, path, _ in self._staged.values():
            for target in (path, path + ".manifest.json"):
                try:
                    if store.exists(target):
                        store.delete(target, recursive=store.isdir(target))
                except Exception:  # keep the original error; gc removes what is left
                    pass


class staged_insert1:
    """The context manager behind ``table.staged_insert1``."""

    def __init__(self, table: Any) -> None:
        self._staged = StagedInsert(table)

    def __enter__(self) -> StagedInsert:
        return self._staged

    def __exit__(self, kind, error, traceback) -> None:
        staged = self._staged
        if kind is None:
            try:
                row = dict(staged.rec, **{field: staged._metadata(field) for field in staged._staged})
                staged._table.insert1(row)
                return
            except BaseException:
                staged._cleanup()
                raise
        staged._cleanup()
