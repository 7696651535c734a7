"""AutoPopulate: Imported and Computed tables fill themselves by calling make() for missing keys.

Each key is one transaction: the master row and its parts are stored together or not at all.
make() comes in three forms: a plain method, a generator (fetch, then compute outside the
transaction, then insert), and make_fetch / make_compute / make_insert.
"""

from __future__ import annotations

import inspect
import logging
import random
import traceback

from .connection import require_no_transaction
from .errors import DataJointError
from .insert import making

logger = logging.getLogger("pipejoint")


class AutoPopulate:
    """Mixin for tables filled by populate()."""

    _key_source = None

    @property
    def key_source(self):
        """The keys make() is called for: the join of the primary-key parents' keys."""
        if self._key_source is not None:
            return self._key_source
        from .table import FreeTable

        record = self._record
        primary = [fk for fk in record.foreign_keys if fk.primary]
        if not primary:
            raise DataJointError(
                f"{self.node_name} has no foreign keys in its primary key, so populate() has no keys to make: "
                "add `-> Parent` above `---`, or define a key_source property."
            )
        source = None
        for fk in primary:
            parent = FreeTable(self._connection, f"{fk.parent_schema}.{fk.parent_table}")
            renames = {c: p for c, p in fk.attr_map.items() if c != p}
            part = parent.proj(**renames)
            source = part if source is None else source * part
        return source

    def _target(self):
        return self

    def _jobs_key_source(self, restrictions):
        source = self.key_source
        if isinstance(source, type):
            source = source()
        for r in restrictions:
            source = source & r
        missing = [k for k in source.heading.primary_key if k not in self.heading.names]
        if missing:
            raise DataJointError(
                f"The key_source of {self.node_name} has attributes {missing} that the table lacks."
            )
        return source

    def _todo(self, restrictions):
        source = self._jobs_key_source(restrictions)
        return source.proj() - self.proj()

    # --- making one key ---
    def _make_one(self, key, make_kwargs):
        """Run make() for one key inside a transaction (fetch/compute outside, for the other forms)."""
        connection = self._connection
        kwargs = make_kwargs or {}
        token = making.set(making.get() | {self.node_name} | {p for p in self.parts()})
        try:
            if hasattr(self, "make_fetch") and hasattr(self, "make_compute") and hasattr(self, "make_insert"):
                fetched = self.make_fetch(dict(key), **kwargs)
                computed = self.make_compute(dict(key), *_as_tuple(fetched))
                with connection.transaction:
                    if self._already_made(key):
                        return False
                    again = self.make_fetch(dict(key), **kwargs)
                    if not _same(again, fetched):
                        raise DataJointError(
                            f"The inputs of {self.node_name} for key {key} changed between make_fetch and "
                            "make_insert; nothing was inserted for this key. Populate again."
                        )
                    self.make_insert(dict(key), *_as_tuple(computed))
                return True
            make = getattr(self, "make", None) or getattr(self, "_make_tuples", None)
            if make is None:
                raise DataJointError(f"Table {self.class_name} has no make() method to populate it.")
            if inspect.isgeneratorfunction(make):
                return self._make_generator(make, key, kwargs)
            with connection.transaction:
                if self._already_made(key):
                    return False
                make(dict(key), **kwargs)
            return True
        finally:
            making.reset(token)

    def _make_generator(self, make, key, kwargs):
        """Generator make: `fetched = yield`, then `computed = yield fetched`, then insert and a final yield."""
        connection = self._connection
        generator = make(dict(key), **kwargs)
        fetched = next(generator)
        computed = generator.send(fetched)
        with connection.transaction:
            if self._already_made(key):
                generator.close()
                return False
            again_generator = make(dict(key), **kwargs)
            again = next(again_generator)
            again_generator.close()
            if not _same(again, fetched):
                raise DataJointError(
                    f"The inputs of {self.node_name} for key {key} changed while computing; nothing was inserted."
                )
            try:
                generator.send(computed)
            except StopIteration:
                pass
        return True

    def _already_made(self, key):
        return bool(self & key)

    # --- populate ---
    def populate(self, *restrictions, suppress_errors=False, return_exception_objects=False,
                 reserve_jobs=False, max_calls=None, display_progress=False, processes=1,
                 make_kwargs=None, priority=None, refresh=None, order="original", limit=None,
                 keys=None):
        """Call make() for every key of key_source (restricted) not yet in the table."""
        connection = self._connection
        require_no_transaction(connection, "populate()")
        if self._where:
            raise DataJointError("populate() is called on the table, with restrictions as arguments: T.populate(cond).")
        if reserve_jobs or processes != 1:
            raise DataJointError(
                "populate(reserve_jobs=True) and processes > 1 need the jobs table, which is not available in this "
                "version yet; run populate() without them."
            )
        if order not in ("original", "reverse", "random"):
            raise DataJointError("populate(order=...) takes 'original', 'reverse' or 'random'.")
        todo = keys if keys is not None else self._todo(restrictions).keys(order_by="KEY")
        if order == "reverse":
            todo = todo[::-1]
        elif order == "random":
            random.shuffle(todo)
        cap = min(x for x in (max_calls, limit, len(todo)) if x is not None)
        todo = todo[:cap]
        bar = None
        if display_progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=self.class_name, unit="key")
        success, errors = 0, []
        try:
            for key in todo:
                try:
                    if self._make_one(key, make_kwargs):
                        success += 1
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as error:
                    logger.debug("make(%s) failed:\n%s", key, traceback.format_exc())
                    if not suppress_errors:
                        raise
                    errors.append((key, error if return_exception_objects else f"{type(error).__name__}: {error}"))
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return {"success_count": success, "error_list": errors}

    def progress(self, *restrictions, display=False):
        """(remaining, total) keys of key_source."""
        source = self._jobs_key_source(restrictions)
        total = len(source.proj())
        remaining = len(source.proj() - self.proj())
        if display:
            done = total - remaining
            percent = 100 * done / total if total else 100
            print(f"{self.class_name}: completed {done} of {total} ({percent:.1f}%), {remaining} remaining")
        return remaining, total


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def _same(a, b):
    """Deep equality that understands numpy arrays (for the make_fetch re-check)."""
    import numpy as np

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b
