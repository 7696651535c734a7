"""Lazy references to objects in a store, returned on fetch of ``<object@>``, ``<filepath@>`` and ``<npy@>``.

Fetching a row never downloads a large object: the reference knows where it is and opens it
with fsspec when asked (``ref.open()``, ``ref.fsmap`` for Zarr, ``np.asarray(npy_ref)``).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import posixpath
import tempfile

from ..errors import DataJointError, MissingExternalFile, ObjectChangedError


class ObjectRef:
    """A file or folder in a store."""

    _config = None  # the settings its store is configured in (a dj.Instance's), None: dj.config

    def __init__(
        self,
        path,
        store=None,
        size=None,
        hash=None,
        ext=None,
        is_dir=False,
        timestamp=None,
        item_count=None,
        mime_type=None,
        **extra,
    ):
        self.path = path
        self.store = store
        self.size = size
        self.hash = hash
        self.ext = ext
        self.is_dir = bool(is_dir)
        self.timestamp = timestamp
        self.item_count = item_count
        self.mime_type = mime_type
        self.extra = extra

    @classmethod
    def from_json(cls, data, backend=None, config=None):
        """From the JSON a row stores (a dict or its text). ``backend`` is accepted for DataJoint's
        signature and not used: the store is found by name, in `config` (the settings of the
        connection it was fetched on), when the object is read."""
        data = dict(json.loads(data) if isinstance(data, str) else data)
        if isinstance(data.get("timestamp"), str):  # a datetime, as DataJoint gives it
            try:
                data["timestamp"] = datetime.datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00"))
            except ValueError:
                pass
        ref = cls(**data)
        ref._config = config
        return ref

    def to_json(self):
        timestamp = self.timestamp
        data = {
            "path": self.path,
            "store": self.store,
            "size": self.size,
            "hash": self.hash,
            "ext": self.ext,
            "is_dir": self.is_dir,
            "timestamp": timestamp.isoformat() if hasattr(timestamp, "isoformat") else timestamp,
            "item_count": self.item_count,
            "mime_type": self.mime_type,
        }
        data.update(self.extra)
        return {k: v for k, v in data.items() if v is not None}

    # --- location ---
    @property
    def _store(self):
        from .stores import get_store, resolve_store_name

        return get_store(resolve_store_name(self.store, config=self._config), self._config)

    @property
    def fs(self):
        return self._store.fs

    @property
    def full_path(self):
        return self._store.full_path(self.path)

    @property
    def url(self):
        store = self._store
        return f"{'file' if store.is_local else 's3'}://{self.full_path}"

    @property
    def fsmap(self):
        """A key-value mapping of the folder, e.g. for ``zarr.open(ref.fsmap)``."""
        return self.fs.get_mapper(self.full_path)

    def __fspath__(self):
        """A local path, so ``open(ref)`` and ``np.load(ref)`` work for objects on a local store."""
        if not self._store.is_local:
            raise DataJointError(
                f"{self.path} is in remote store '{self.store}': use ref.open(), ref.read() or ref.download(dir)."
            )
        return self.full_path

    def _sub(self, subpath):
        return posixpath.join(self.path, subpath) if subpath else self.path

    # --- reading ---
    def exists(self, subpath=None):
        return self._store.exists(self._sub(subpath))

    def open(self, subpath=None, mode="rb"):
        if self.is_dir and not subpath:
            raise DataJointError(f"Cannot open {self.path}: it is a folder; open a file inside it, ref.open('name').")
        if subpath and not self.is_dir:
            raise DataJointError(f"Cannot open {subpath!r} inside {self.path}: it is a file, not a folder.")
        try:
            return self._store.open(self._sub(subpath), mode)
        except FileNotFoundError:
            raise MissingExternalFile(f"{self._sub(subpath)} is missing from store '{self.store}'.") from None

    def read(self, subpath=None):
        if self.is_dir and not subpath:
            raise DataJointError(f"Cannot read {self.path}: it is a folder; use listdir(), walk() or read('name').")
        with self.open(subpath) as f:
            return f.read()

    def _require_dir(self, method):
        if not self.is_dir:
            raise DataJointError(f"Cannot {method}() {self.path}: it is a file; use read() or open().")

    def listdir(self, subpath=""):
        self._require_dir("listdir")
        full = self._store.full_path(self._sub(subpath))
        return sorted(posixpath.basename(p.rstrip("/")) for p in self.fs.ls(full, detail=False))

    def walk(self):
        self._require_dir("walk")
        prefix = self.full_path.rstrip("/") + "/"
        for folder, dirs, files in self.fs.walk(self.full_path):
            rel = folder[len(prefix) :] if folder.startswith(prefix) else ""
            yield rel, dirs, files

    def download(self, destination, subpath=None):
        """Copy the object (or a file inside a folder) to a local directory; returns the local path."""
        source = self._store.full_path(self._sub(subpath))
        os.makedirs(os.fspath(destination), exist_ok=True)
        target = os.path.join(os.fspath(destination), posixpath.basename(source.rstrip("/")))
        self.fs.get(source, target, recursive=self.is_dir and not subpath)
        return target

    def verify(self):
        """Check the stored size and checksum; raises ObjectChangedError when they differ."""
        store = self._store
        if not store.exists(self.path):
            raise MissingExternalFile(f"{self.path} is missing from store '{self.store}'.")
        if self.is_dir:
            total = sum(int(info.get("size") or 0) for info in store.walk_files(self.path).values())
            if self.size is not None and total != self.size:
                raise ObjectChangedError(f"{self.path}: folder holds {total} bytes, {self.size} were recorded.")
            return True
        size = int(store.info(self.path).get("size") or 0)
        if self.size is not None and size != self.size:
            raise ObjectChangedError(f"{self.path}: file has {size} bytes, {self.size} were recorded.")
        if self.hash and store.checksum(self.path) != self.hash:
            raise ObjectChangedError(f"{self.path}: checksum differs from the one recorded; the file was changed.")
        return True

    def __eq__(self, other):
        return isinstance(other, ObjectRef) and (self.store, self.path) == (other.store, other.path)

    def __hash__(self):
        return hash((self.store, self.path))

    def __str__(self):
        return self.path

    def __repr__(self):
        kind = "folder" if self.is_dir else "file"
        return f"ObjectRef({kind} {self.path!r} in store {self.store!r}, {self.size} bytes)"


class NpyRef:
    """A numpy array saved as .npy in a store; shape and dtype are known without reading it.

    ``NpyRef(metadata, backend=None)`` as DataJoint constructs it: ``metadata`` is the stored JSON
    (path, store, dtype, shape). ``backend`` reads the file: a pipejoint Store, or any object with
    ``get_buffer(path)`` (and ``protocol``); by default the store named in the metadata.
    """

    def __init__(self, metadata=None, backend=None, *, config=None, **fields):
        meta = dict(metadata or {}, **fields)
        missing = [k for k in ("path", "dtype", "shape") if k not in meta]
        if missing:
            raise DataJointError(f"NpyRef needs {', '.join(missing)} in its metadata; got {sorted(meta)}.")
        self._meta = meta
        self._backend = backend
        self._config = config  # the settings its store is configured in (a dj.Instance's), None: dj.config
        self._array = None
        self._cache_file = None

    path = property(lambda self: self._meta["path"], doc="Path of the .npy file in its store.")
    store = property(lambda self: self._meta.get("store"), doc="Store name (None: the default store).")
    shape = property(lambda self: tuple(self._meta["shape"]))

    @property
    def dtype(self):
        import numpy as np

        return np.dtype(self._meta["dtype"])

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def is_loaded(self):
        return self._array is not None

    def to_json(self):
        return dict(self._meta, shape=list(self.shape))

    def _source(self):
        if self._backend is not None:
            return self._backend
        from .stores import get_store, resolve_store_name

        return get_store(resolve_store_name(self.store, config=self._config), self._config)

    def _bytes(self, source):
        if hasattr(source, "exists") and not source.exists(self.path):
            raise MissingExternalFile(f"{self.path} is missing from store '{self.store}'.")
        read = getattr(source, "get_bytes", None) or source.get_buffer
        return read(self.path)

    def load(self, mmap_mode=None):
        """The array, read once and cached. With ``mmap_mode`` ('r', 'r+', 'c') a memory map instead:
        of the file itself on a local store, else of a temporary local copy."""
        import io

        import numpy as np

        source = self._source()
        if mmap_mode is None:
            if self._array is None:
                self._array = np.load(io.BytesIO(self._bytes(source)), allow_pickle=False)
            return self._array
        if getattr(source, "is_local", False):
            if not source.exists(self.path):
                raise MissingExternalFile(f"{self.path} is missing from store '{self.store}'.")
            return np.load(source.full_path(self.path), mmap_mode=mmap_mode, allow_pickle=False)
        if self._cache_file is None:
            handle, local = tempfile.mkstemp(suffix=".npy", prefix="pipejoint-")
            with os.fdopen(handle, "wb") as f:
                f.write(self._bytes(source))
            self._cache_file = local
        return np.load(self._cache_file, mmap_mode=mmap_mode, allow_pickle=False)

    def __array__(self, dtype=None, copy=None):
        import numpy as np

        array = self.load()
        return np.asarray(array, dtype=dtype) if dtype is not None else array

    def __getitem__(self, index):
        if self._array is not None:
            return self._array[index]
        return self.load(mmap_mode="r")[index]  # reads only the part asked for

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-dimensional array")
        return self.shape[0]

    def __del__(self):
        if getattr(self, "_cache_file", None):  # not set when __init__ failed
            try:
                os.remove(self._cache_file)
            except OSError:
                pass

    def __repr__(self):
        state = "loaded" if self.is_loaded else "not loaded"
        return f"NpyRef({self.path!r} in store {self.store!r}, shape={self.shape}, dtype={self.dtype}, {state})"
