"""Object stores: directories and buckets configured in ``dj.config['stores']``, reached through fsspec.

A store spec names a protocol (``file`` or ``s3``) and a location::

    dj.config["stores"] = {
        "default": "main",
        "main": {"protocol": "file", "location": "/data/lab"},
        "cloud": {"protocol": "s3", "endpoint": "s3.amazonaws.com", "bucket": "lab",
                  "location": "pipeline", "access_key": "...", "secret_key": "..."},
    }

Writes are atomic: on a local disk a file is written under a temporary name and renamed;
on S3 an object only appears once its upload completes. Uploads made while rows are being
inserted run in parallel and are tracked (``staging``) so that a failed insert removes the
objects it created instead of leaving orphans. An insert that shares an object already stored
writes a small ``.inuse-`` marker beside it until its rows are committed, so that ``dj.gc``
running meanwhile does not delete it (see gc.py).
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import contextvars
import hashlib
import json
import os
import posixpath
import secrets
import threading

from ..errors import MissingExternalFile, StoreError
from .paths import MAX_TOKEN, MIN_TOKEN

CHUNK = 4 * 1024 * 1024  # bytes read at a time when hashing or copying files
MAX_WORKERS = 8  # parallel transfers
HASH_PREFIX = "_hash"
SCHEMA_PREFIX = "_schema"
_TMP_MARK = ".pjtmp-"
IN_USE_MARK = ".inuse-"  # {path}.inuse-{token}: an insert shares the object at path (see mark_in_use)


# --- configuration --------------------------------------------------------------------------


def store_specs(config=None):
    """All stores configured in `config` (the settings of the connection at hand; by default
    ``dj.config``): ``config['stores']`` merged with ``config['stores.<name>']`` keys."""
    if config is None:
        from ..settings import config

    specs = dict(config.get("stores") or {})
    for key in config:
        if key.startswith("stores.") and key.count(".") == 1:
            specs[key.split(".", 1)[1]] = config[key]
    return specs


def resolve_store_name(name, *, filepath=False, field=None, config=None):
    """The store to use for a declared ``@name``; an empty name means `config`'s default store."""
    if name:
        return name
    specs = store_specs(config)
    chosen = (specs.get("filepath_default") if filepath else None) or specs.get("default")
    if not chosen:
        where = f" for `{field}`" if field else ""
        raise StoreError(
            f"No default store is configured{where}: name one in the definition (e.g. <blob@main>) "
            "or set dj.config['stores']['default'] = 'main'."
        )
    return chosen


_stores: dict[tuple[str, str], Store] = {}  # (name, its settings as JSON) -> Store
_stores_lock = threading.Lock()


def get_store(name, config=None):
    """The Store named ``name`` in `config` (by default ``dj.config``), cached while its spec is unchanged."""
    specs = store_specs(config)
    spec = specs.get(name)
    if not isinstance(spec, dict):
        known = [k for k, v in specs.items() if isinstance(v, dict)]
        raise StoreError(
            f"Store '{name}' is requested but not configured in dj.config['stores'] (for a dj.Instance's tables: "
            "in its .config['stores']) "
            f"(configured: {', '.join(known) or 'none'}). Add e.g. "
            f"dj.config['stores']['{name}'] = {{'protocol': 'file', 'location': '/path/to/dir'}}."
        )
    signature = (name, json.dumps(spec, sort_keys=True, default=str))
    with _stores_lock:
        store = _stores.get(signature)
        if store is None:
            store = _stores[signature] = Store(name, spec)
    return store


def store_for(name, key, *, filepath=False):
    """The store a codec writes a declared ``@name`` to (or reads a stored one from), configured
    in the settings the codec's ``key`` carries (``_config``: those of the table's connection)."""
    key = key or {}
    config = key.get("_config")
    return get_store(resolve_store_name(name, filepath=filepath, field=key.get("_field"), config=config), config)


_REQUIRED = {"file": ("location",), "s3": ("endpoint", "bucket", "location")}
_KNOWN = {
    "protocol",
    "location",
    "endpoint",
    "bucket",
    "access_key",
    "secret_key",
    "secure",
    "subfolding",
    "hash_prefix",
    "schema_prefix",
    "filepath_prefix",
    "token_length",
    "partition_pattern",
    "stage",
    "proxy_server",
    "region",
}


class Store:
    """One configured store: an fsspec filesystem and a root path inside it."""

    def __init__(self, name, spec):
        self.name = name
        self.spec = dict(spec)
        protocol = str(spec.get("protocol", "")).lower()
        if protocol not in _REQUIRED:
            raise StoreError(f"Store '{name}' has protocol {spec.get('protocol')!r}: use 'file' or 's3'.")
        missing = [k for k in _REQUIRED[protocol] if not spec.get(k)]
        unknown = sorted(set(spec) - _KNOWN)
        if missing or unknown:
            problem = f"is missing {', '.join(missing)}" if missing else f"has unknown keys {', '.join(unknown)}"
            raise StoreError(
                f"Store '{name}' ({protocol}) {problem}. Required keys: protocol, {', '.join(_REQUIRED[protocol])}."
            )
        self.protocol = protocol
        self.hash_prefix = spec.get("hash_prefix", HASH_PREFIX)
        self.schema_prefix = spec.get("schema_prefix", SCHEMA_PREFIX)
        self.filepath_prefix = spec.get("filepath_prefix")
        self.subfolding = tuple(spec.get("subfolding") or ())
        self.token_length = max(MIN_TOKEN, min(MAX_TOKEN, int(spec.get("token_length", 8))))
        if protocol == "file":
            import fsspec

            location = os.path.abspath(os.path.expanduser(str(spec["location"])))
            if not os.path.isdir(location):
                raise StoreError(
                    f"Store '{name}': the local directory {location} does not exist. Create it, or fix 'location'."
                )
            self.fs = fsspec.filesystem("file")
            self.root = location.replace(os.sep, "/")
            self.is_local = True
        else:
            self.fs = _s3_filesystem(name, spec)
            self.root = f"{spec['bucket']}/{str(spec['location']).strip('/')}".rstrip("/")
            self.is_local = False

    def __repr__(self):
        return f"Store({self.name!r}, {self.protocol}://{self.root})"

    # --- paths ---
    def full_path(self, path):
        return f"{self.root}/{path}" if path else self.root

    def relative(self, full):
        full = full.rstrip("/")
        prefix = self.root.rstrip("/") + "/"
        return full[len(prefix) :] if full.startswith(prefix) else full

    def hash_path(self, schema, digest):
        folds, pos = [], 0
        for width in self.subfolding:
            folds.append(digest[pos : pos + width])
            pos += width
        return posixpath.join(self.hash_prefix, schema, *folds, digest)

    # --- reading ---
    def exists(self, path):
        return self.fs.exists(self.full_path(path))

    def info(self, path):
        return self.fs.info(self.full_path(path))

    def isdir(self, path):
        return self.fs.isdir(self.full_path(path))

    def get_bytes(self, path):
        try:
            return self.fs.cat_file(self.full_path(path))
        except FileNotFoundError:
            raise MissingExternalFile(
                f"The object {path} is missing from store '{self.name}' ({self.full_path(path)}). "
                "It was deleted outside pipejoint; restore it or delete the rows that refer to it."
            ) from None

    def open(self, path, mode="rb"):
        return self.fs.open(self.full_path(path), mode)

    def checksum(self, path):
        """MD5 of a file in the store, read in chunks (large files never sit in memory)."""
        digest = hashlib.md5()
        with self.open(path) as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def walk_files(self, prefix):
        """{relative path: info} of every file under ``prefix`` (nothing if it does not exist)."""
        full = self.full_path(prefix)
        try:
            found = self.fs.find(full, detail=True)
        except FileNotFoundError:
            return {}
        return {self.relative(p): info for p, info in found.items() if info.get("type") != "directory"}

    # --- writing (atomic) ---
    def put_bytes(self, path, data):
        self.put_chunks(path, [data])

    def put_chunks(self, path, chunks):
        """Write an object from an iterable of byte chunks; it appears complete or not at all."""

        def write(f):
            for chunk in chunks:
                f.write(chunk)

        self.write_with(path, write)

    def write_with(self, path, writer):
        """Call writer(file) to fill a new object; a half-written object is never visible."""
        full = self.full_path(path)
        if self.is_local:
            self.fs.makedirs(posixpath.dirname(full), exist_ok=True)
            temporary = f"{full}{_TMP_MARK}{secrets.token_hex(6)}"
            try:
                with open(temporary, "wb") as f:
                    writer(f)
                os.replace(temporary, full)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.remove(temporary)
                raise
        else:
            # an S3 object becomes visible only when its upload completes; a failed one is discarded
            f = self.fs.open(full, "wb")
            try:
                writer(f)
            except BaseException:
                with contextlib.suppress(Exception):
                    f.discard()
                f.closed = True  # never upload the discarded buffer later
                raise
            f.close()

    def put_file(self, local_path, path):
        self.put_chunks(path, _file_chunks(local_path))

    def put_folder(self, local_dir, path):
        """Copy a local folder; on a local store it appears at once (rename of a finished copy)."""
        files = []
        for folder, _, names in os.walk(local_dir):
            for n in sorted(names):
                source = os.path.join(folder, n)
                files.append((source, os.path.relpath(source, local_dir).replace(os.sep, "/")))
        if self.is_local:
            full = self.full_path(path)
            temporary = f"{full}{_TMP_MARK}{secrets.token_hex(6)}"
            try:
                os.makedirs(temporary)
                for source, rel in files:
                    target = os.path.join(temporary, rel)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(source, "rb") as src, open(target, "wb") as dst:
                        while chunk := src.read(CHUNK):
                            dst.write(chunk)
                os.replace(temporary, full)
            except BaseException:
                if os.path.exists(temporary):
                    self.fs.rm(temporary, recursive=True)
                raise
        else:
            try:
                parallel_map(lambda item: self.put_file(item[0], f"{path}/{item[1]}"), files)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.delete(path, recursive=True)
                raise
        return files

    def mark_in_use(self, path):
        """Write an empty ``{path}.inuse-{token}`` marker, returning its path: an insert is about to
        refer to this existing object. Garbage collection spares an unreferenced object while it has
        a marker younger than ``min_age``, so an old orphan that a new row shares again is not
        deleted under it. The insert removes its marker when it ends (gc removes markers left by
        inserts inside a caller's transaction). A marker rather than a new modification time of the
        object itself: on S3 that would mean copying the object, which adds a version on versioned
        buckets and resets its storage class."""
        marker = f"{path}{IN_USE_MARK}{secrets.token_hex(4)}"
        self.put_bytes(marker, b"")
        return marker

    def delete(self, path, recursive=False):
        full = self.full_path(path)
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(full, recursive=recursive)


def _s3_filesystem(name, spec):
    try:
        import s3fs  # noqa: F401
    except ModuleNotFoundError as error:
        raise StoreError(f"Store '{name}' uses S3, which needs s3fs: pip install s3fs") from error
    import fsspec

    access, secret = spec.get("access_key"), spec.get("secret_key")
    if bool(access) != bool(secret):
        raise StoreError(f"Store '{name}': give both access_key and secret_key, or neither (ambient credentials).")
    endpoint = str(spec["endpoint"])
    if "://" not in endpoint:
        endpoint = ("https://" if spec.get("secure", True) else "http://") + endpoint
    client = {"endpoint_url": endpoint}
    if spec.get("region"):
        client["region_name"] = spec["region"]
    options = {"client_kwargs": client, "use_listings_cache": False, "skip_instance_cache": True}
    if access:
        options.update(key=access, secret=secret)
    else:
        options["anon"] = False
    return fsspec.filesystem("s3", **options)


def _file_chunks(local_path, header=b""):
    if header:
        yield header
    with open(local_path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


# --- hashing --------------------------------------------------------------------------------


def content_hash(chunks):
    """DataJoint's content address: lowercase unpadded base32 of the MD5 (26 characters)."""
    digest = hashlib.md5()
    for chunk in chunks:
        digest.update(chunk)
    return base64.b32encode(digest.digest()).decode().rstrip("=").lower()


class FilePayload:
    """Bytes made of a small header and a (possibly large) file, read in chunks, never all at once."""

    def __init__(self, local_path, header=b""):
        self.local_path = local_path
        self.header = header
        self.size = len(header) + os.path.getsize(local_path)

    def chunks(self):
        return _file_chunks(self.local_path, self.header)


def payload_chunks(payload):
    if isinstance(payload, FilePayload):
        return payload.chunks()
    return [payload]


def payload_size(payload):
    return payload.size if isinstance(payload, FilePayload) else len(payload)


# --- parallel transfers and staging of an insert ------------------------------------------------

_executor = None
_executor_lock = threading.Lock()


def _pool():
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="pipejoint-io")
        return _executor


def parallel_map(fn, items):
    """fn over items on the transfer pool (in order); runs inline for a single item.

    Each call runs in a copy of the caller's context, so context variables such as the
    ``download_path`` of a fetch reach the pool's threads.
    """
    items = list(items)
    if len(items) <= 1 or threading.current_thread().name.startswith("pipejoint-io"):
        return [fn(item) for item in items]
    context = contextvars.copy_context()
    return list(_pool().map(lambda item: context.copy().run(fn, item), items))


_staging = contextvars.ContextVar("pipejoint_staging", default=None)


class Staging:
    """The uploads of one insert: run in parallel, awaited before rows are written, undone on failure."""

    def __init__(self, owns_transaction):
        self.owns_transaction = owns_transaction
        self.futures = {}
        self.created = []  # (store, path, recursive) written by this insert
        self._lock = threading.Lock()

    def submit(self, key, fn):
        """Run fn() (which returns a list of created (store, path, recursive)) once per key."""
        with self._lock:
            if key in self.futures:
                return
            self.futures[key] = _pool().submit(fn)

    def record(self, created):
        with self._lock:
            self.created.extend(created)

    def flush(self):
        """Wait for every pending upload; raise the first failure."""
        error = None
        for future in list(self.futures.values()):
            try:
                self.record(future.result())
            except BaseException as exc:  # wait for all before raising
                error = error or exc
        self.futures.clear()
        if error is not None:
            raise error

    def undo(self):
        with contextlib.suppress(BaseException):
            self.flush()
        for store, path, recursive in self.created:
            with contextlib.suppress(Exception):
                store.delete(path, recursive=recursive)
        self.created.clear()

    def remove_markers(self):
        """After the rows are committed, the in-use markers of shared objects have done their job."""
        for store, path, _ in self.created:
            if IN_USE_MARK in path:
                with contextlib.suppress(Exception):
                    store.delete(path)


@contextlib.contextmanager
def staging(owns_transaction=True):
    """Collect the uploads made while rows are encoded; remove them again if the insert fails.

    Only an insert that owns its transaction removes objects: inside a caller's transaction the
    caller may still commit earlier rows. Objects left behind are under the store's hash and
    schema prefixes, where ``dj.gc`` finds them.
    """
    current = _staging.get()
    if current is not None:
        yield current
        return
    stage = Staging(owns_transaction)
    token = _staging.set(stage)
    try:
        yield stage
        stage.flush()
        if stage.owns_transaction:  # the insert's rows are committed by now
            stage.remove_markers()
    except BaseException:
        if stage.owns_transaction:
            stage.undo()
        else:
            with contextlib.suppress(BaseException):
                stage.flush()
        raise
    finally:
        _staging.reset(token)


def flush():
    """Wait for the current insert's uploads (called before its rows are sent)."""
    stage = _staging.get()
    if stage is not None:
        stage.flush()


def upload(key, fn):
    """Run an upload now, or on the transfer pool when an insert is staging."""
    stage = _staging.get()
    if stage is None:
        fn()
    else:
        stage.submit(key, fn)
