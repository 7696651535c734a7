"""The one cache of a connection: data derived from the database, kept for reuse.

Compiled SQL, catalog records, prepared statements: everything a connection derives and reuses
goes here, under one policy, so that nothing grows without bound. The cache holds at most
CACHE_SIZE entries; past that the least recently used one goes.

A key is a tuple whose first item names its purpose ("catalog", "insert", "delete", "count", ...;
a compiled SELECT is keyed by the query's shape alone, whose first item is a tuple, so it never
equals a purpose's name). A purpose can be dropped on its own with ``clear(purpose)``; a change
of the catalog drops everything (``clear()``), since all of it may derive from the catalog.

Data derived from one heading alone (fetch decoders, restriction binders) stays on the heading
(``Heading.cache``): it goes with its heading, and a table's heading goes with its catalog record
from this cache.
"""

from __future__ import annotations

from collections import OrderedDict

CACHE_SIZE = 4096  # entries; a compiled query is a few hundred bytes, a schema's catalog a few kB


class LRUCache:
    """A bounded mapping that forgets the least recently used entry first. Values are never None."""

    __slots__ = ("_data", "size")

    def __init__(self, size=CACHE_SIZE):
        self._data = OrderedDict()
        self.size = size

    def get(self, key):
        """The value kept under `key`, or None. A hit costs one dict lookup and one move."""
        data = self._data
        value = data.get(key)
        if value is not None:
            data.move_to_end(key)
        return value

    def put(self, key, value):
        """Keep `value` under `key` and return it."""
        data = self._data
        data[key] = value
        data.move_to_end(key)
        if len(data) > self.size:
            data.popitem(last=False)
        return value

    def pop(self, key):
        """Forget `key`; its value, or None when it was not kept."""
        return self._data.pop(key, None)

    def clear(self, purpose=None):
        """Forget everything, or only the entries of one purpose."""
        if purpose is None:
            self._data.clear()
            return
        for key in [k for k in self._data if k[0] == purpose]:
            del self._data[key]

    def __contains__(self, key):
        return key in self._data

    def __len__(self):
        return len(self._data)
