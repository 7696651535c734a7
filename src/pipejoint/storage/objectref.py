"""Lazy references to objects in a store, returned on fetch of ``<object@>``, ``<filepath@>`` and ``<npy@>``.

Fetching a row never downloads a large object: the reference knows where it is and opens it
with fsspec when asked (``ref.open()``, ``ref.fsmap`` for Zarr, ``np.asarray(npy_ref)``).
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile

from ..errors import DataJointError, MissingExternalFile, ObjectChangedError


class ObjectRef:
    """A file or folder in a store."""

    def __init__(
        self,
        path,
        store,
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
    def from_json(cls, data):
        if isinstance(data, str):
            data = json.loads(data)
        return cls(**data)

    def to_json(self):
        data = {
            "path": self.path,
            "store": self.store,
            "size": self.size,
            "hash": self.hash,
            "ext": self.ext,
            "is_dir": self.is_dir,
            "timestamp": self.timestamp,
            "item_count": self.item_count,
        }
        data.update(self.extra)
        return {k: v for k, v in data.items() if v is not None}

    # --- location ---
    @property
    def _store(self):
        from .stores import get_store

        return get_store(self.store)

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
            raise DataJointError(f"{self.path} is a folder: open a file inside it, ref.open('name').")
        try:
            return self._store.open(self._sub(subpath), mode)
        except FileNotFoundError:
            raise MissingExternalFile(f"{self._sub(subpath)} is missing from store '{self.store}'.") from None

    def read(self, subpath=None):
        with self.open(subpath) as f:
            return f.read()

    def listdir(self, subpath=""):
        full = self._store.full_path(self._sub(subpath))
        return sorted(posixpath.basename(p.rstrip("/")) for p in self.fs.ls(full, detail=False))

    def walk(self):
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

    def __repr__(self):
        kind = "folder" if self.is_dir else "file"
        return f"ObjectRef({kind} {self.path!r} in store {self.store!r}, {self.size} bytes)"


class NpyRef:
    """A numpy array saved as .npy in a store; shape and dtype are known without reading it."""

    def __init__(self, path, store, dtype, shape, **extra):
        self.path = path
        self.store = store
        self._dtype = dtype
        self.shape = tuple(shape)
        self.extra = extra
        self._array = None
        self._cache_file = None

    @property
    def dtype(self):
        import numpy as np

        return np.dtype(self._dtype)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def is_loaded(self):
        return self._array is not None

    def to_json(self):
        return {"path": self.path, "store": self.store, "dtype": self._dtype, "shape": list(self.shape), **self.extra}

    def load(self, mmap_mode=None):
        """The array; with mmap_mode ('r', 'c', ...) memory-mapped instead of read (cached)."""
        import numpy as np

        if self._array is not None:
            return self._array
        from .stores import get_store

        store = get_store(self.store)
        if not store.exists(self.path):
            raise MissingExternalFile(f"{self.path} is missing from store '{self.store}'.")
        if store.is_local:
            local = store.full_path(self.path)
        elif mmap_mode:
            handle, local = tempfile.mkstemp(suffix=".npy", prefix="pipejoint-")
            os.close(handle)
            store.fs.get(store.full_path(self.path), local)
            self._cache_file = local
        else:
            import io

            self._array = np.load(io.BytesIO(store.get_bytes(self.path)), allow_pickle=False)
            return self._array
        self._array = np.load(local, mmap_mode=mmap_mode, allow_pickle=False)
        return self._array

    def __array__(self, dtype=None, copy=None):
        import numpy as np

        array = self.load()
        return np.asarray(array, dtype=dtype) if dtype is not None else array

    def __getitem__(self, index):
        return self.load(mmap_mode="r")[index]

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __del__(self):
        if self._cache_file:
            try:
                os.remove(self._cache_file)
            except OSError:
                pass

    def __repr__(self):
        return f"NpyRef({self.path!r} in store {self.store!r}, shape={self.shape}, dtype={self._dtype})"
