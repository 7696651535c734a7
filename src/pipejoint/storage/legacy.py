"""DataJoint 0.14's objects in stores: ``blob@store``, ``attach@store``, ``filepath@store``.

0.14 keeps an object's bytes in the store and one row per object in the schema's
``~external_<store>`` table (hash, size, attachment_name, filepath, contents_hash); a table's
attribute holds the object's hash, a uuid. The bytes lie under the store's location at

* blob: ``{schema}/{subfolders}/{hash}`` (hash: md5 of the serialized blob, as 32 hex digits);
* attach: ``{schema}/{subfolders}/{hash}.{attachment name}`` (hash: md5 of name + NUL + content);
* filepath: the row's ``filepath``, relative to the store's location (and to its ``stage``, the
  local folder 0.14 copied files from and back to); ``contents_hash`` is the md5 of the content.

Subfolders are the hash's leading characters, by the store's ``subfolding`` (0.14's default
(2, 2): ``0123abcd…`` lies in ``01/23/``). This module reads those objects given the
``~external`` row (the query layer looks the rows up), and writes new ones as 0.14 did
(``encoder``): the object goes to the store while the insert stages its uploads, and its
``~external`` row is recorded (``tracking``) for the insert to write before the rows that refer
to it, in the same transaction. The same content gives the same hash, so an object already
stored, by 0.14 or by pipejoint, is shared and its row reused, as in 0.14.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import posixpath
import secrets
import uuid
from dataclasses import dataclass

from ..errors import DataJointError, MissingExternalFile, StoreError
from . import blob
from .codecs.builtin import write_attachment
from .codecs.pipeline import SERIALIZED_014, pack_014
from .codecs.registry import resolve
from .stores import CHUNK, get_store, store_specs, upload

DEFAULT_SUBFOLDING = (2, 2)
EXTERNAL_PREFIX = "~external_"
EXTERNAL_KINDS = ("blob", "attach", "filepath")
EXTERNAL_COLUMNS = ("hash", "size", "attachment_name", "filepath", "contents_hash")
EXTERNAL_SCHEMA = "external_schema"  # AttributeType.extra key: the schema of the ~external tables
__all__ = [
    "EXTERNAL_PREFIX",
    "EXTERNAL_SCHEMA",
    "SERIALIZED_014",
    "ExternalEntry",
    "encoder",
    "external_schema",
    "read_object",
    "take_tracked",
    "tracking",
]


def external_schema(attr_type):
    """The schema whose ``~external_<store>`` tables track this attribute's objects (0.14), or None."""
    return attr_type.extra.get(EXTERNAL_SCHEMA)


def subfold(name, folds):
    """``subfold('aBCdefg', (2, 3))`` -> ``['ab', 'cde']``, as 0.14 names its folders."""
    out, pos = [], 0
    for width in folds:
        out.append(name[pos : pos + width].lower())
        pos += width
    return out


def subfolding(store):
    configured = store.spec.get("subfolding")
    return DEFAULT_SUBFOLDING if configured is None else tuple(int(w) for w in configured)


def object_path(store, schema, hash_uuid, suffix=""):
    """Where 0.14 put a blob (suffix '') or an attachment (suffix '.' + its name), relative to the location."""
    hex_hash = hash_uuid.hex
    return posixpath.join(schema, *subfold(hex_hash, subfolding(store)), hex_hash + suffix)


def md5_uuid(data):
    return uuid.UUID(bytes=hashlib.md5(data).digest())


def read_object(kind, store_name, schema, hash_uuid, row, *, squeeze=False, download_path=None, config=None):
    """The value of one 0.14 store attribute: an unpacked blob, or the path of a local file.
    `config`: the settings of the connection read from (its stores, download_path); None: dj.config."""
    if row is None:
        raise MissingExternalFile(
            f"Object {hash_uuid} is not in `{schema}`.`~external_{store_name}`: the row that refers to it "
            "was written without its tracking entry. Restore the entry, or delete the row."
        )
    store = get_store(store_name, config)
    if kind == "blob":
        return blob.unpack(read_blob_bytes(store, schema, hash_uuid, row), squeeze=squeeze)
    if kind == "attach":
        return read_attachment(store, schema, hash_uuid, row, download_path or (config or {}).get("download_path"))
    if kind == "filepath":
        return read_filepath(store, row)
    raise DataJointError(f"Unknown DataJoint 0.14 store type {kind}@{store_name}.")


def read_blob_bytes(store, schema, hash_uuid, row):
    try:
        return store.get_bytes(object_path(store, schema, hash_uuid))
    except MissingExternalFile:
        if not row.get("filepath"):  # blobs migrated from DataJoint 0.11 name their path
            raise
        return store.get_bytes(row["filepath"])


def read_attachment(store, schema, hash_uuid, row, folder):
    """Write the attachment into ``folder`` (config['download_path'] by default) and return its path."""
    from ..settings import config

    name = row["attachment_name"]
    data = store.get_bytes(object_path(store, schema, hash_uuid, "." + name))
    folder = folder or config["download_path"]
    os.makedirs(folder, exist_ok=True)
    return write_attachment(folder, name, data)


def read_filepath(store, row):
    """The file's path in the store's stage, copied there from the store when missing or changed
    (as 0.14 did), its content checked against ``contents_hash``. Without a stage, a file store's
    own path."""
    relative = row["filepath"]
    expected = row.get("contents_hash")
    stage = store.spec.get("stage")
    if not stage:
        if store.is_local:
            return os.path.join(store.root, *relative.split("/"))
        raise StoreError(
            f"Store '{store.name}' has no 'stage': DataJoint 0.14 filepaths are copied to a local folder. "
            f"Add dj.config['stores']['{store.name}']['stage'] = '/local/folder'."
        )
    local = os.path.join(os.path.abspath(os.path.expanduser(stage)), *relative.split("/"))
    if os.path.isfile(local) and (expected is None or _md5_file(local) == expected):
        return local
    os.makedirs(os.path.dirname(local), exist_ok=True)
    temporary = f"{local}.{secrets.token_hex(6)}.part"
    digest = hashlib.md5()
    try:
        with store.open(relative) as source, open(temporary, "wb") as target:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                target.write(chunk)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise MissingExternalFile(
            f"The file {relative} is missing from store '{store.name}' ({store.full_path(relative)})."
        ) from None
    if expected is not None and uuid.UUID(bytes=digest.digest()) != expected:
        os.remove(temporary)
        raise DataJointError(
            f"The file {relative} in store '{store.name}' does not match its checksum in ~external_{store.name}: "
            "it was changed after it was recorded. Restore the original."
        )
    os.replace(temporary, local)
    return local


def _md5_file(path, init=b""):
    """The md5 of ``init`` followed by the file's content, as a uuid (0.14's ``uuid_from_file``)."""
    digest = hashlib.md5(init)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return uuid.UUID(bytes=digest.digest())


# --- writing, as 0.14 did -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExternalEntry:
    """One row of ``{schema}.~external_{store}`` as 0.14 writes it (its timestamp is the server's)."""

    schema: str
    store: str
    hash: uuid.UUID
    size: int
    attachment_name: str | None = None
    filepath: str | None = None
    contents_hash: uuid.UUID | None = None


class Tracking:
    """The ``~external`` rows an insert must write before its own rows, collected while its values are
    encoded. ``lookup(schema, store, hash)`` gives the row already in the table, or None; ``config``
    is the settings of the table's connection, whose stores the objects go to (None: dj.config)."""

    def __init__(self, lookup, config=None):
        self.lookup = lookup
        self.config = config
        self.entries = {}

    def add(self, entry):
        self.entries.setdefault((entry.schema, entry.store, entry.hash), entry)

    def recorded(self, schema, store, hash_uuid):
        """(True, contents_hash) when the hash has a row, written or about to be; (False, None) otherwise."""
        pending = self.entries.get((schema, store, hash_uuid))
        if pending is not None:
            return True, pending.contents_hash
        row = self.lookup(schema, store, hash_uuid)
        return (False, None) if row is None else (True, row.get("contents_hash"))

    def take(self):
        """The rows collected since the last call, to be written now."""
        entries = list(self.entries.values())
        self.entries.clear()
        return entries


_tracking = contextvars.ContextVar("pipejoint_014_tracking", default=None)


@contextlib.contextmanager
def tracking(lookup, config=None):
    """Collect the ``~external`` rows of the 0.14 store values encoded in the block (nested blocks
    share the outer one)."""
    current = _tracking.get()
    if current is not None:
        yield current
        return
    collector = Tracking(lookup, config)
    token = _tracking.set(collector)
    try:
        yield collector
    finally:
        _tracking.reset(token)


def take_tracked():
    """The ``~external`` rows collected in the current ``tracking`` block since the last call."""
    current = _tracking.get()
    return [] if current is None else current.take()


def _collector():
    current = _tracking.get()
    if current is None:
        raise DataJointError(
            "DataJoint 0.14 store values are written by insert(), insert1() and update1(), which write their "
            "~external rows too; they cannot be encoded on their own."
        )
    return current


def encoder(attr):
    """fn(value, key=None) -> the hash (a uuid) to store in a 0.14 store attribute, writing the value
    as 0.14 did. Adapted types apply their adapter first (``put``), as 0.14 did."""
    schema = external_schema(attr.attr_type)
    links = resolve(attr.codec, attr.store).links
    position = next((i for i, (_, store) in enumerate(links) if store is not None), None)
    if position is None or links[position][0].name not in EXTERNAL_KINDS:
        raise DataJointError(
            f"`{attr.name}` ({attr.type}) is a DataJoint 0.14 store attribute, but its type resolves to no "
            "blob@, attach@ or filepath@ store type: check the adapter's attribute_type."
        )
    outer = links[:position]
    codec, store_name = links[position]
    write = _WRITERS[codec.name]

    def encode(value, key=None):
        for adapter, adapter_store in outer:
            value = adapter._encode(value, key, adapter_store)
        collector = _collector()
        store = _store_014(store_name, codec.name, collector.config)
        hash_uuid, entry = write(store, schema, value, collector)
        if entry is not None:
            collector.add(entry)
        return hash_uuid

    return encode


def _store_014(name, kind, config=None):
    """The configured store (in `config`, the settings of the table's connection), or an error saying
    that 0.14's configuration of it is needed here."""
    if not isinstance(store_specs(config).get(name), dict):
        stage = ", 'stage': '/local/stage'" if kind == "filepath" else ""
        raise StoreError(
            f"store '{name}' is not configured: this {kind}@{name} attribute of DataJoint 0.14 keeps its objects "
            f"there. Set dj.config['stores']['{name}'] to the configuration DataJoint 0.14 uses for it (the same "
            f"protocol and location{', and its stage' if stage else ''}), e.g. "
            f"{{'protocol': 'file', 'location': '/data/{name}'{stage}}}"
        )
    return get_store(name, config)


def _upload_once(store, path, write):
    """Put an object at ``path`` unless it is there already (its name is its content's hash: an
    existing one is the same object, shared, and never removed if the insert fails)."""

    def run():
        if store.exists(path):
            return []
        write()
        return [(store, path, False)]

    upload((store.name, path), run)


def _write_blob(store, schema, value, collector):
    packed = pack_014(value)
    hash_uuid = md5_uuid(packed)
    path = object_path(store, schema, hash_uuid)
    _upload_once(store, path, lambda: store.put_bytes(path, packed))
    return hash_uuid, ExternalEntry(schema, store.name, hash_uuid, len(packed))


def _write_attachment(store, schema, value, collector):
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"an attach@{store.name} attribute takes the path of a file, not {type(value).__name__}")
    local = os.fspath(value)
    if not os.path.isfile(local):
        raise ValueError(f"{local} is not a file: give the path of an existing file")
    name = os.path.basename(local)
    hash_uuid = _md5_file(local, (name + "\0").encode())  # the name and the content, as 0.14 hashed them
    path = object_path(store, schema, hash_uuid, "." + name)
    _upload_once(store, path, lambda: store.put_file(local, path))
    return hash_uuid, ExternalEntry(schema, store.name, hash_uuid, os.path.getsize(local), attachment_name=name)


def _stage_path(store, value):
    """(local path, path relative to the store's stage) of a filepath value; the file must lie in the stage."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"a filepath@{store.name} attribute takes the path of a file, not {type(value).__name__}")
    stage = store.spec.get("stage")
    if not stage:
        raise StoreError(
            f"store '{store.name}' has no 'stage': DataJoint 0.14 records a filepath relative to the store's stage, "
            f"the local folder its files are placed in. Add dj.config['stores']['{store.name}']['stage'] = "
            "'/local/folder' (the stage DataJoint 0.14 uses)"
        )
    stage = os.path.abspath(os.path.expanduser(stage))
    local = os.path.abspath(os.path.expanduser(os.fspath(value)))
    relative = os.path.relpath(local, stage) if os.path.splitdrive(local)[0] == os.path.splitdrive(stage)[0] else ".."
    if relative == os.curdir or relative.split(os.sep)[0] == os.pardir:
        raise ValueError(
            f"{local} is not in the stage of store '{store.name}' ({stage}): DataJoint 0.14 records a filepath "
            f"relative to the stage. Copy the file into {stage} and insert that path"
        )
    if not os.path.isfile(local):
        raise ValueError(f"{local} is not a file: place the file in the stage of store '{store.name}' first")
    return local, relative.replace(os.sep, "/")


def _write_filepath(store, schema, value, collector):
    """0.14's filepath: the hash is the md5 of the path relative to the stage, ``contents_hash`` the
    md5 of the content; the file is copied to the same path under the store's location. A path
    recorded before keeps its row, and must keep its content."""
    local, relative = _stage_path(store, value)
    hash_uuid = md5_uuid(relative.encode())
    contents_hash = _md5_file(local)
    known, recorded = collector.recorded(schema, store.name, hash_uuid)
    if known:
        if recorded != contents_hash:
            raise DataJointError(
                f"a different version of '{relative}' is already recorded in `{schema}`.`{EXTERNAL_PREFIX}{store.name}` "
                "(DataJoint 0.14 keeps one content per path). Give the new version its own file name in the stage"
            )
        return hash_uuid, None  # recorded with this content: nothing to write, as in 0.14

    def run():
        existed = store.exists(relative)
        if existed and store.checksum(relative) == contents_hash.hex:
            return []  # already there (the stage may be the store's location itself)
        store.put_file(local, relative)
        return [] if existed else [(store, relative, False)]

    upload((store.name, relative), run)
    return hash_uuid, ExternalEntry(
        schema, store.name, hash_uuid, os.path.getsize(local), filepath=relative, contents_hash=contents_hash
    )


_WRITERS = {"blob": _write_blob, "attach": _write_attachment, "filepath": _write_filepath}
