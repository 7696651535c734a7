"""Built-in schema-addressed and referenced objects: ``<object@>``, ``<npy@>``, ``<filepath@>``.

``<object@>`` and ``<npy@>`` write to a path derived from the row, in DataJoint's layout
(storage/paths.py). ``<filepath@>`` records a file that
already lies under the store root, with its size and checksum.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import posixpath

from ...errors import DataJointError, InvalidValueError
from .. import stores as storage
from ..paths import build_object_path
from .registry import Codec, store_required


def now() -> str:
    """The time an object was stored, as DataJoint writes it."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def folder_manifest(sizes: dict[str, int]) -> str:
    """The ``{path}.manifest.json`` written beside a folder object: its files (relative paths,
    given with their sizes), total size and count."""
    return json.dumps(
        {"files": sorted(sizes), "total_size": sum(sizes.values()), "item_count": len(sizes), "created": now()}
    )


def object_path(store, key, ext):
    """Where a row's object goes in ``store``: DataJoint's layout (see storage/paths.py), with the
    store's ``schema_prefix``, ``partition_pattern`` and ``token_length``."""
    key = key or {}
    return build_object_path(
        key.get("_schema", "unknown"),
        key.get("_table", "unknown"),
        key.get("_field", "object"),
        {k: v for k, v in key.items() if not k.startswith("_")},
        ext,
        store.spec.get("partition_pattern"),
        store.token_length,
        schema_prefix=store.schema_prefix,
    )[0]


def _require_key(codec, key):
    if not key or "_table" not in key:
        raise DataJointError(f"<{codec}@> needs the row's primary key to place the object; insert full rows.")


class SchemaCodec(Codec, register=False):
    """Base of codecs whose objects live at a path derived from schema, table and key."""

    store_only = True

    def get_dtype(self, is_store):
        if not is_store:
            raise store_required(self.name)
        return "json"

    def _store(self, store_name, key):
        return storage.store_for(store_name, key)

    def build_path(self, store, key, ext):
        return object_path(store, key, ext)


class ObjectCodec(SchemaCodec):
    """A file or folder (e.g. a Zarr array), fetched as a lazy ObjectRef."""

    name = "object"

    def validate(self, value):
        if isinstance(value, dict):
            return
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
            return
        if isinstance(value, (bytes, bytearray, memoryview)):
            return
        if isinstance(value, (str, os.PathLike)):
            if not os.path.exists(value):
                raise ValueError(f"{os.fspath(value)} not found: give an existing file or folder")
            return
        raise TypeError(f"<object@> takes a file or folder path, bytes, or (ext, bytes); not {type(value).__name__}")

    def encode(self, value, *, key=None, store_name=None):
        self.validate(value)
        if isinstance(value, dict):  # metadata of an object placed by other means
            return value
        _require_key("object", key)
        store = self._store(store_name, key)
        if isinstance(value, (bytes, bytearray, memoryview)):
            value = ("", bytes(value))
        if isinstance(value, tuple):
            ext, data = value
            data = data.read() if hasattr(data, "read") else bytes(data)
            path = self.build_path(store, key, ext if not ext or ext.startswith(".") else "." + ext)
            storage.upload((store.name, path), lambda: (store.put_bytes(path, data), [(store, path, False)])[1])
            return {
                "path": path,
                "store": store.name,
                "size": len(data),
                "ext": ext or None,
                "is_dir": False,
                "item_count": None,
                "hash": hashlib.md5(data).hexdigest(),
                "timestamp": now(),
            }
        local = os.fspath(value)
        if os.path.isdir(local):
            return self._encode_folder(store, key, local)
        ext = "".join(_suffixes(local))
        path = self.build_path(store, key, ext)
        digest = hashlib.md5()
        with open(local, "rb") as f:
            while chunk := f.read(storage.CHUNK):
                digest.update(chunk)
        storage.upload((store.name, path), lambda: (store.put_file(local, path), [(store, path, False)])[1])
        return {
            "path": path,
            "store": store.name,
            "size": os.path.getsize(local),
            "ext": ext or None,
            "is_dir": False,
            "item_count": None,
            "hash": digest.hexdigest(),
            "timestamp": now(),
        }

    def _encode_folder(self, store, key, local):
        ext = "".join(_suffixes(local.rstrip(os.sep)))
        path = self.build_path(store, key, ext)
        files = [os.path.join(d, n) for d, _, names in os.walk(local) for n in names]
        sizes = {os.path.relpath(f, local).replace(os.sep, "/"): os.path.getsize(f) for f in files}
        total = sum(sizes.values())
        manifest = folder_manifest(sizes)

        def write():
            store.put_folder(local, path)
            store.put_bytes(path + ".manifest.json", manifest.encode())
            return [(store, path, True), (store, path + ".manifest.json", False)]

        storage.upload((store.name, path), write)
        return {
            "path": path,
            "store": store.name,
            "size": total,
            "ext": ext or None,
            "is_dir": True,
            "item_count": len(files),
            "timestamp": now(),
        }

    def decode(self, stored, *, key=None):
        from ..objectref import ObjectRef

        return ObjectRef.from_json(stored, config=(key or {}).get("_config"))


def _suffixes(path):
    name = os.path.basename(path)
    return ["." + s for s in name.split(".")[1:]] if "." in name.strip(".") else []


class NpyCodec(SchemaCodec):
    """A numpy array saved as .npy, fetched as a lazy, memory-mappable NpyRef."""

    name = "npy"

    def validate(self, value):
        import numpy as np

        if not isinstance(value, np.ndarray):
            raise InvalidValueError(
                f"<npy@> requires numpy.ndarray, not {type(value).__name__}; convert with np.asarray()"
            )
        if value.dtype.hasobject:
            raise InvalidValueError(
                "<npy@> cannot store object arrays (object dtype needs pickle); use <blob@> instead"
            )

    def encode(self, value, *, key=None, store_name=None):
        import numpy as np

        self.validate(value)
        _require_key("npy", key)
        store = self._store(store_name, key)
        path = self.build_path(store, key, ".npy")

        def write():
            store.write_with(path, lambda f: np.save(f, value, allow_pickle=False))
            return [(store, path, False)]

        storage.upload((store.name, path), write)
        return {"path": path, "store": store.name, "dtype": _dtype_name(value.dtype), "shape": list(value.shape)}

    def decode(self, stored, *, key=None):
        from ..objectref import NpyRef

        return NpyRef(stored, config=(key or {}).get("_config"))


def _dtype_name(dtype):
    """The dtype as DataJoint records it (`int16`), or numpy's code where that name does not read back."""
    import numpy as np

    name = str(dtype)
    try:
        return name if np.dtype(name) == dtype else dtype.str
    except TypeError:
        return dtype.str


class FilepathCodec(Codec):
    """A file (or folder) already under the store root, tracked with its size and checksum."""

    name = "filepath"
    store_only = True

    def get_dtype(self, is_store):
        if not is_store:
            raise store_required(self.name)
        return "json"

    def validate(self, value):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"<filepath@> takes a path inside the store, not {type(value).__name__}")

    def encode(self, value, *, key=None, store_name=None):
        self.validate(value)
        store = storage.store_for(store_name, key, filepath=True)
        path = os.fspath(value).replace(os.sep, "/")
        root = store.root.rstrip("/") + "/"
        if store.is_local and path.startswith(root):
            path = path[len(root) :]
        elif path.startswith("/") or "://" in path:
            raise ValueError(
                f"{path} is not under the root of store '{store.name}' ({store.root}); "
                "place the file there and give its path relative to the root"
            )
        path = posixpath.normpath(path)
        if path.startswith("..") or path == ".":
            raise ValueError(f"{value} points outside store '{store.name}'")
        for reserved in (store.hash_prefix, store.schema_prefix):
            if reserved and (path == reserved or path.startswith(reserved + "/")):
                raise ValueError(f"{path} is inside the store's managed area {reserved}/; put your files elsewhere")
        if store.filepath_prefix and not path.startswith(store.filepath_prefix.strip("/") + "/"):
            raise ValueError(f"{path} must be under {store.filepath_prefix} in store '{store.name}'")
        if not store.exists(path):
            raise ValueError(
                f"{path} does not exist in store '{store.name}' ({store.full_path(path)}); copy it there first"
            )
        if store.isdir(path):
            files = store.walk_files(path)
            size = sum(int(i.get("size") or 0) for i in files.values())
            return {
                "path": path,
                "store": store.name,
                "size": size,
                "is_dir": True,
                "item_count": len(files),
                "timestamp": now(),
            }
        size = int(store.info(path).get("size") or 0)
        return {
            "path": path,
            "store": store.name,
            "size": size,
            "is_dir": False,
            "hash": store.checksum(path),
            "timestamp": now(),
        }

    def decode(self, stored, *, key=None):
        from ..objectref import ObjectRef

        return ObjectRef.from_json(stored, config=(key or {}).get("_config"))

    def referenced_paths(self, stored):
        return []  # the user's files: garbage collection never touches them
