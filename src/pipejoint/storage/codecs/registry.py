"""The codec registry: ``dj.Codec`` subclasses register themselves by name and are used as ``<name>``.

A codec turns a Python value into something a column (or another codec) can hold and back.
Its stored type (``get_dtype`` or the ``dtype`` attribute) is a core type, a native type or
another codec, so codecs chain: ``<attach@s>`` -> ``<hash@s>`` -> ``json``.
"""

from __future__ import annotations

import inspect
import threading
from typing import TYPE_CHECKING, Any

from ...core.types import parse_type
from ...errors import CodecError, DataJointError

if TYPE_CHECKING:
    from ...core.types import AttributeType

_registry: dict[str, Codec] = {}
_lock = threading.RLock()
_version = [0]  # bumped on every (un)registration; caches of resolved chains key on it
_entry_points_loaded = [False]


class Codec:
    """Base class of codecs. Subclass it with a ``name`` to register::

        class GraphCodec(dj.Codec):
            name = "graph"
            def get_dtype(self, is_store):  return "<blob>"
            def encode(self, value, *, key=None):  return list(value.edges)
            def decode(self, stored, *, key=None):  return nx.Graph(stored)

    ``class Base(dj.Codec, register=False)`` defines a base class without registering it.
    """

    name: str | None = None
    dtype: str | None = None  # stored type, when it does not depend on whether a store is used
    store_only = False  # True: only usable as <name@store>
    in_table_only = False  # True: <name@store> is refused

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if register and cls.__dict__.get("name", None) is not None:
            register_codec(cls)

    def get_dtype(self, is_store: bool) -> str:
        """The stored type: a core or native type, or another codec such as ``<blob>``."""
        if self.dtype is None:
            raise CodecError(
                f"Codec <{self.name}> defines neither `dtype` nor get_dtype(): say how its values are stored."
            )
        return self.dtype

    def encode(self, value: Any, *, key: dict[str, Any] | None = None, store_name: str | None = None) -> Any:
        raise NotImplementedError(f"Codec <{self.name}> does not implement encode(value, *, key).")

    def decode(self, stored: Any, *, key: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError(f"Codec <{self.name}> does not implement decode(stored, *, key).")

    def validate(self, value: Any) -> None:
        """Raise TypeError or ValueError for a value this codec cannot encode (optional)."""

    def referenced_paths(self, stored: Any) -> list[tuple[str, str]]:
        """(store, path) pairs a stored value refers to; used by garbage collection."""
        if isinstance(stored, dict) and stored.get("path") and stored.get("store"):
            return [(stored["store"], stored["path"])]
        return []

    # --- calling conventions ---
    def _encode(self, value, key, store_name):
        if self._takes_store_name():
            return self.encode(value, key=key, store_name=store_name)
        return self.encode(value, key=key)

    def _takes_store_name(self):
        cached = self.__dict__.get("_store_kw")
        if cached is None:
            try:
                params = inspect.signature(self.encode).parameters
                cached = "store_name" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
            except (TypeError, ValueError):
                cached = False
            self.__dict__["_store_kw"] = cached
        return cached

    def __repr__(self) -> str:
        return f"<{self.name}> ({type(self).__name__})"


def register_codec(cls_or_instance: type[Codec] | Codec, name: str | None = None) -> Codec:
    """Register a codec class (or instance) under its name; the same name from another class is an error."""
    instance = cls_or_instance() if isinstance(cls_or_instance, type) else cls_or_instance
    name = name or instance.name
    if instance.name is None and isinstance(name, str):
        instance.name = name  # a legacy adapter known by the variable it was assigned to
    if not isinstance(name, str) or not name or not name.replace("_", "a").replace(".", "a").isalnum():
        raise CodecError(
            f"Codec class {type(instance).__name__} has name {name!r}: a codec name is a non-empty word "
            "such as 'graph' (letters, digits, underscores)."
        )
    with _lock:
        existing = _registry.get(name)
        if existing is not None and not _same_definition(type(existing), type(instance)):
            raise CodecError(
                f"Codec <{name}> already registered by {type(existing).__module__}.{type(existing).__qualname__}; "
                f"{type(instance).__module__}.{type(instance).__qualname__} cannot take the name. Choose another name "
                f"or unregister_codec('{name}') first."
            )
        _registry[name] = instance
        _version[0] += 1
    return instance


def _same_definition(a, b):
    """A class re-defined by re-running the same code (a notebook cell, a test) may replace itself."""
    return a is b or (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def unregister_codec(name: str) -> None:
    with _lock:
        _registry.pop(name.strip("<>").split("@")[0], None)
        _version[0] += 1


def _load_entry_points():
    if _entry_points_loaded[0]:
        return
    _entry_points_loaded[0] = True
    from importlib.metadata import entry_points

    for group in ("pipejoint.codecs", "datajoint.codecs", "datajoint.types"):
        for entry in entry_points(group=group):
            try:
                loaded = entry.load()
            except Exception:  # a broken plugin must not break every table
                continue
            if isinstance(loaded, type) and issubclass(loaded, Codec) and entry.name not in _registry:
                register_codec(loaded, entry.name if loaded.name is None else None)


def list_codecs() -> list[str]:
    """Names of the registered codecs."""
    return sorted(_registry)


def get_codec(name: str) -> Codec:
    """The codec registered as ``name`` (``<name>`` and ``<name@store>`` accepted)."""
    bare = name.strip().strip("<>").split("@")[0].strip()
    codec = _registry.get(bare)
    if codec is None:
        _load_entry_points()
        codec = _registry.get(bare)
    if codec is None:
        raise CodecError(
            f"Codec <{bare}> is not registered. Registered codecs: {', '.join(f'<{n}>' for n in sorted(_registry))}. "
            f"Define it (class MyCodec(dj.Codec): name = '{bare}' ...) or import the module that does before using it."
        )
    return codec


# --- chains -----------------------------------------------------------------------------------


class Chain:
    """The codecs an attribute's value passes through, outermost first, and the column's type."""

    def __init__(self, links, stored_type):
        self.links = links  # [(codec, store name or None)]; store "" = default store
        self.stored_type = stored_type  # AttributeType of the column (never a codec)

    @property
    def uses_store(self):
        return any(store is not None for _, store in self.links)


_chains: dict[tuple[str, str | None, int], Chain] = {}


def resolve(codec_name, store):
    """The Chain of ``<codec_name@store>``; raises CodecError for unknown codecs and cycles."""
    cache_key = (codec_name, store, _version[0])
    chain = _chains.get(cache_key)
    if chain is not None:
        return chain
    links, seen = [], []
    name, current_store = codec_name, store
    while True:
        if name in seen:
            path = " -> ".join(f"<{n}>" for n in seen + [name])
            raise CodecError(f"Circular codec reference: {path}. Make one of these codecs store a core type.")
        seen.append(name)
        codec = get_codec(name)
        _check_store_use(codec, current_store)
        links.append((codec, current_store))
        dtype = codec.get_dtype(current_store is not None)
        stored = parse_type(dtype)
        if stored.codec is None:
            break
        name = stored.codec
        if stored.store is not None:  # an inner codec without @ inherits the outer store
            current_store = stored.store
    chain = Chain(links, stored)
    _chains[cache_key] = chain
    return chain


def store_required(name: str) -> CodecError:
    """The error for a store-only codec used without ``@`` (DataJoint's wording: "requires @")."""
    return CodecError(f"<{name}> requires @, a store: write <{name}@store_name>, or <{name}@> for the default store.")


def _check_store_use(codec, store):
    if codec.store_only and store is None:
        raise store_required(codec.name)
    if codec.in_table_only and store is not None:
        raise CodecError(f"<{codec.name}> is kept in the table and takes no store: write <{codec.name}>.")


def is_registered(name: str) -> bool:
    return name in _registry


def stored_type(attr_type: AttributeType) -> AttributeType:
    """The type of the column that holds an attribute: its own type, or the end of its codec chain
    (``<attach@s>`` -> ``<hash@s>`` -> json). A chain that cannot be resolved (an unregistered codec)
    leaves the codec type, whose ``storage_core`` is its default column: json with a store, bytes without.
    """
    if attr_type.codec is None:
        return attr_type
    try:
        return resolve(attr_type.codec, attr_type.store).stored_type
    except DataJointError:
        return attr_type
