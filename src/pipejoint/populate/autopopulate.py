"""AutoPopulate and its tiers, Imported and Computed: tables that fill themselves by calling make()
for missing keys.

Each key is one transaction: the master row and its parts are stored together or not at all.
make() comes in three forms: a plain method, a generator (fetch, then compute outside the
transaction, then insert), and make_fetch / make_compute / make_insert.

With reserve_jobs, workers coordinate through the schema's jobs table (jobs.py); with
processes > 1 or an executor, worker processes do the work (workers.py).
"""

from __future__ import annotations

import inspect
import logging
import numbers
import os
import random
import time
import traceback
from typing import TYPE_CHECKING, Any

from ..core.hints import class_level, class_level_property
from ..core.naming import TIER_PREFIXES
from ..errors import DataJointError, DuplicateError
from ..table.insert import making
from ..table.tiers import UserTable
from .progress import progress_bar
from .signals import interruption_record, sigterm_as_exit

if TYPE_CHECKING:
    import concurrent.futures
    from collections.abc import Mapping
    from typing import Literal

    from ..core.hints import Key, PopulateResult
    from ..query.expression import QueryExpression
    from ..query.restriction import Restriction
    from .jobs import Job

    _Mixin = UserTable  # for type checkers, AutoPopulate is the table class it is always mixed into
else:
    _Mixin = object

logger = logging.getLogger("pipejoint")
TRANSIENT_RETRIES = 60  # write conflicts between workers (SQLite busy, deadlocks) are retried this often


class AutoPopulate(_Mixin):
    """Mixin for tables filled by populate()."""

    _key_source: Any = None
    _upstream_key: dict | None = None  # the key of the make() call running (None outside make)
    _upstream: Any = None  # its Upstream, built on first use (upstream.py)

    @property
    def upstream(self) -> Any:
        """Inside make(): ``self.upstream[Ancestor]`` is that ancestor restricted to the rows the key
        reaches (DataJoint 2.x's ``Diagram.trace(self & key)``)."""
        if self._upstream_key is None:
            raise DataJointError(
                "self.upstream is only available inside make(). Outside make(), trace the rows with "
                "dj.Diagram.trace(table & key)."
            )
        if self._upstream is None:
            from .upstream import Upstream

            self._upstream = Upstream(self, self._upstream_key)
        return self._upstream

    @class_level_property
    def key_source(self) -> QueryExpression:
        """The keys make() is called for: the join of the primary-key parents' keys."""
        if self._key_source is not None:
            return self._key_source
        from ..table.table import FreeTable

        record = self._record
        primary = [fk for fk in record.foreign_keys if fk.primary]
        if not primary:
            raise DataJointError(
                f"{self.node_name} has no foreign keys in its primary key, so populate() has no keys to make: "
                "add `-> Parent` above `---`, or define a key_source property."
            )
        source: Any = None  # (a QueryExpression once the loop has run, as it does at least once)
        for fk in primary:
            parent = FreeTable(self._connection, f"{fk.parent_schema}.{fk.parent_table}")
            renames = {c: p for c, p in fk.attr_map.items() if c != p}
            part = parent.proj(**renames)
            source = part if source is None else source * part
        return source

    def _jobs_key_source(self, restrictions):
        source = self.key_source
        if isinstance(source, type):
            source = source()
        for r in restrictions:
            source = source & r
        missing = [k for k in source.heading.primary_key if k not in self.heading.names]
        if missing:
            raise DataJointError(
                f"The key_source of {self.node_name} has attributes {missing} that the table lacks: "
                "add them to the table's primary key, or project them away in key_source."
            )
        return source

    def _todo(self, restrictions):
        source = self._jobs_key_source(restrictions)
        return source.proj() - self.proj()

    @class_level_property
    def jobs(self) -> Job:
        """This table's job queue: pending, reserved, errors, ignored, completed, refresh(), reserve(),
        complete(), error(), ignore(), progress(). Created on first use, as DataJoint does."""
        from .jobs import Job
        from .schema_jobs import Jobs014, has_014_jobs

        if has_014_jobs(self._connection, self.database):
            return Jobs014(self)  # type: ignore[return-value]
        job = Job(self)
        if not self._connection.in_transaction:
            job._ensure()
        return job

    def _check_tier_rules(self, spec):
        """Auto-populated tables get hidden run-metadata columns when jobs.add_job_metadata is on."""
        super()._check_tier_rules(spec)
        if self._connection.config["jobs.add_job_metadata"]:
            from .metadata import metadata_attributes

            spec.attributes.extend(metadata_attributes(spec.schema, spec.table_name))

    # --- making one key ---
    def _make_one(self, key, make_kwargs, on_commit=None):
        """Run make() for one key inside a transaction (fetch/compute outside, for the other forms).

        `on_commit(made)` runs inside that transaction, so bookkeeping commits with the result.
        Returns False when the key was already made.
        """
        connection = self._connection
        kwargs = make_kwargs or {}
        form = _make_form(self)
        token = making.set(making.get() | self._making_names())
        self._upstream_key, self._upstream = key, None  # self.upstream, built when make() reads it
        try:
            if form == "three parts":
                if self._already_made(key):  # (made since the key was listed) compute nothing
                    return False
                fetched = _as_tuple(self.make_fetch(dict(key), **kwargs))
                computed = self.make_compute(dict(key), *fetched)
                with connection.transaction:
                    if self._already_made(key):
                        _finish(on_commit, False)
                        return False
                    again = _as_tuple(self.make_fetch(dict(key), **kwargs))
                    if not _same(again, fetched):
                        raise DataJointError(
                            f"The inputs of {self.node_name} for key {key} changed between make_fetch and "
                            "make_insert; nothing was inserted for this key. Populate again."
                        )
                    self.make_insert(dict(key), *_as_tuple(computed))
                    _finish(on_commit, True)
                return True
            make = getattr(self, "make", None) or getattr(self, "_make_tuples", None)
            if make is None:
                raise DataJointError(
                    f"Table {self.class_name} has no make() method to populate it: define make(self, key) "
                    "that computes and inserts the rows for one key."
                )
            if form == "generator":
                if self._already_made(key):  # (made since the key was listed) compute nothing
                    return False
                return self._make_generator(make, key, kwargs, on_commit)
            with connection.deferred_transaction():  # on SQLite, other workers write while make() computes
                if self._already_made(key):
                    _finish(on_commit, False)
                    return False
                make(dict(key), **kwargs)
                _finish(on_commit, True)
            return True
        finally:
            making.reset(token)
            self._upstream_key = self._upstream = None

    def _make_generator(self, make, key, kwargs, on_commit):
        """Generator make: `computed = yield fetched`; a None answer means "compute" (yield the result);
        with the computed value it inserts, then yields once more. Fetch and compute run outside the
        transaction; inside it, a second generator re-fetches, compares, and receives the computed value.
        """
        connection = self._connection
        generator = make(dict(key), **kwargs)
        fetched = next(generator)
        computed = next(generator)
        generator.close()
        with connection.transaction:
            if self._already_made(key):
                _finish(on_commit, False)
                return False
            again_generator = make(dict(key), **kwargs)
            again = next(again_generator)
            if not _same(again, fetched):
                again_generator.close()
                raise DataJointError(
                    f"The inputs of {self.node_name} for key {key} changed while computing; nothing was inserted."
                )
            try:
                again_generator.send(computed)
            except StopIteration:
                pass
            again_generator.close()
            _finish(on_commit, True)
        return True

    def _making_names(self):
        """This table and its parts: the tables make() may insert into (kept in the connection's cache)."""
        names = self.__dict__.get("_making")  # kept on the instance populate() runs on
        if names is not None:
            return names
        cache = self._connection.cache
        key = ("making", self.node_name)
        names = cache.get(key)
        if names is None:
            names = cache.put(key, frozenset({self.node_name, *self.parts()}))
        self.__dict__["_making"] = names
        return names

    def _already_made(self, key):
        """Whether the table has rows for `key`: one prepared query, run per key inside make's transaction.

        The query and the key's encoders are kept per heading (a key from key_source is checked by
        the quick normalizers; anything else by backend.encode, as a restriction would be)."""
        connection = self._connection
        heading = self._heading
        names = tuple(n for n in heading.primary_key if n in key)
        check = heading.cache.get(("made", names))
        if check is None or check[0] is not connection:
            check = heading.cache["made", names] = _made_query(self, connection, heading, names)
        _, sql, encoders = check
        try:
            args = [encode(key[n]) for n, encode in zip(names, encoders)]
        except (ValueError, TypeError, OverflowError):
            backend = connection.backend
            args = [backend.encode(key[n], heading[n]) for n in names]  # raises the error a restriction would
        return connection.execute(sql, args or None).fetchone() is not None

    def _make_retrying(self, key, make_kwargs, on_commit):
        """_make_one, retried on write conflicts between workers and, per jobs.max_retries, on failures."""
        settings = self._connection.config
        max_retries = int(settings["jobs.max_retries"] or 0)
        backoff = float(settings["jobs.retry_backoff"] or 0)
        conflicts = failures = 0
        while True:
            try:
                return self._make_one(key, make_kwargs, on_commit)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as error:
                if _is_transient(self._connection, error) and conflicts < TRANSIENT_RETRIES:
                    conflicts += 1
                    time.sleep(min(0.02 * 2 ** min(conflicts, 6), 1.0) * random.uniform(0.5, 1.5))
                    continue
                if isinstance(error, DuplicateError) and self._already_made(key):
                    return False  # another worker stored this key first
                failures += 1
                if failures > max_retries:
                    error.pipejoint_attempts = failures
                    raise
                logger.info(
                    "make(%s) of %s failed (attempt %d of %d), retrying: %s",
                    key,
                    self.class_name,
                    failures,
                    max_retries + 1,
                    error,
                )
                time.sleep(backoff * 2 ** (failures - 1))

    # --- populate ---
    @class_level
    def populate(
        self,
        *restrictions: Restriction,
        suppress_errors: bool = False,
        return_exception_objects: bool = False,
        reserve_jobs: bool = False,
        max_calls: int | None = None,
        display_progress: bool = False,
        processes: int | None = 1,
        make_kwargs: Mapping[str, Any] | None = None,
        priority: int | None = None,
        refresh: bool | None = None,
        order: Literal["original", "reverse", "random"] = "original",
        limit: int | None = None,
        keys: list[Key] | None = None,
        executor: concurrent.futures.Executor | None = None,
    ) -> PopulateResult:
        """Call make() for every key of key_source (restricted) not yet in the table.

        Returns {"success_count": n, "error_list": [(key, error), ...]}.
        """
        connection = self._connection
        if connection.in_transaction:
            raise DataJointError(
                f"populate() of {self.node_name} cannot run inside a transaction: each key gets its own "
                "transaction. Commit or roll back first."
            )
        if self._where:
            raise DataJointError(
                f"populate() is called on the table {self.class_name} itself, with restrictions as arguments: "
                f"{self.class_name}.populate(cond)."
            )
        if order not in ("original", "reverse", "random"):
            raise DataJointError(
                f"populate(order={order!r}) of {self.node_name}: use 'original', 'reverse' or 'random'."
            )
        if processes is None:  # DataJoint's: as many worker processes as CPUs
            processes = os.cpu_count() or 1
        if not isinstance(processes, int) or processes < 1:
            raise DataJointError(f"populate(processes={processes!r}) of {self.node_name}: give a whole number ≥ 1.")
        for argument, value in (("max_calls", max_calls), ("limit", limit)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0):
                raise DataJointError(
                    f"populate({argument}={value!r}) of {self.node_name}: give a whole number ≥ 0, or None for no limit."
                )
        if processes > 1 or executor is not None:
            from .workers import populate_with_workers

            return populate_with_workers(
                self,
                restrictions,
                reserve_jobs=reserve_jobs,
                processes=processes,
                executor=executor,
                suppress_errors=suppress_errors,
                return_exception_objects=return_exception_objects,
                max_calls=max_calls,
                display_progress=display_progress,
                make_kwargs=make_kwargs,
                priority=priority,
                order=order,
                limit=limit,
                keys=keys,
            )
        todo = keys if keys is not None else self._todo(restrictions).keys(order_by="KEY")
        jobs = None
        if reserve_jobs:
            jobs = self.jobs
            if refresh is None or refresh:
                scope = restrictions if keys is None else ()
                _retry_transient(connection, lambda: jobs.refresh(*scope, todo=todo))
            todo = _by_priority(todo, jobs, priority, connection.config)
        if order == "reverse":
            todo = todo[::-1]
        elif order == "random":
            random.shuffle(todo)
        cap = min(x for x in (max_calls, limit, len(todo)) if x is not None)
        if not reserve_jobs:
            todo = todo[:cap]
        return self._populate_keys(
            todo, jobs, cap, suppress_errors, return_exception_objects, display_progress, make_kwargs
        )

    def _populate_keys(self, todo, jobs, cap, suppress_errors, return_exception_objects, display_progress, make_kwargs):
        bar = progress_bar(cap, self.class_name) if display_progress else None
        metadata = None
        if "_job_start_time" in self.heading:  # declared with jobs.add_job_metadata
            from .metadata import RunMetadata

            metadata = RunMetadata(self)
        heartbeat = None
        if jobs is not None:
            from .jobs import Heartbeat, needs_heartbeat

            if needs_heartbeat(self._connection):
                heartbeat = Heartbeat(jobs)
        success, errors, calls = 0, [], 0
        ahead = _Ahead() if jobs is not None and hasattr(jobs, "_take_pending") else None  # (2.x queues)
        todo = list(todo)
        try:
            with sigterm_as_exit(jobs is not None):
                for position, key in enumerate(todo):
                    if calls >= cap:
                        break
                    if ahead is not None:
                        ahead.next_key = todo[position + 1] if position + 1 < len(todo) and calls + 1 < cap else None
                    outcome = self._populate_key(key, jobs, heartbeat, make_kwargs, metadata, ahead)
                    if outcome is None or outcome is False:  # another worker holds or made this key
                        continue
                    calls += 1
                    if outcome is True:
                        success += 1
                    elif isinstance(outcome, Exception):
                        if not suppress_errors:
                            raise outcome
                        errors.append(
                            (key, outcome if return_exception_objects else f"{type(outcome).__name__}: {outcome}")
                        )
                    if bar is not None:
                        bar.update(1)
        finally:
            if ahead is not None and ahead.taken is not None:  # reserved, never started: give it back
                jobs.release(*ahead.taken)
            if heartbeat is not None:
                heartbeat.stop()
            if bar is not None:
                bar.close()
        return {"success_count": success, "error_list": errors}

    def _populate_key(self, key, jobs, heartbeat, make_kwargs, metadata=None, ahead=None):
        """Make one key: True (made), False (already there), None (someone else's job) or the error.

        `metadata` (a RunMetadata) records when, how long, where and with which code the rows were made.
        With `ahead` (an _Ahead), the transaction that stores a result also reserves the next key's
        job: one commit per key instead of two (on a server, one fsync). Another worker trying to
        reserve that job waits for the commit, then finds it reserved; two workers going through the
        keys in opposite orders can deadlock on MySQL, which the server resolves and populate retries.
        """
        if jobs is None:
            start = time.time()

            def on_commit(made):
                if made and metadata is not None:
                    metadata.record(key, start)

            try:
                return self._make_retrying(key, make_kwargs, on_commit)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as error:
                logger.debug("make(%s) failed:\n%s", key, traceback.format_exc())
                return error
        holder = ahead.take(key, jobs) if ahead is not None else None
        if holder is None:
            holder = _retry_transient(self._connection, lambda: jobs.take(key))
        if holder is None:
            return None
        if heartbeat is not None:
            heartbeat.hold(key, holder)
        start = time.time()

        def on_commit(made):
            if made and metadata is not None:
                metadata.record(key, start)
            jobs.finish(key, holder, time.time() - start)
            if made and ahead is not None:
                ahead.reserve_next(jobs)

        try:
            made = self._make_retrying(key, make_kwargs, on_commit)
            if ahead is not None:
                ahead.committed(made)
            if not made:  # made elsewhere: make sure the job row does not linger
                _retry_transient(self._connection, lambda: jobs.finish(key, holder, time.time() - start))
            return made
        except (KeyboardInterrupt, SystemExit) as interruption:  # Ctrl-C, or SIGTERM (signals.py)
            message, stack = interruption_record(interruption)
            try:
                jobs.fail(key, holder, message, stack, time.time() - start)
            except Exception as error:  # the interruption matters more than its record
                logger.warning("Could not record the interrupted job %s of %s: %s", key, self.class_name, error)
            raise
        except Exception as error:
            logger.debug("make(%s) failed:\n%s", key, traceback.format_exc())
            stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            attempts = getattr(error, "pipejoint_attempts", 1)
            message = f"{type(error).__name__}: {error}"
            if attempts > 1:
                message += f" (after {attempts} attempts)"
            _retry_transient(self._connection, lambda: jobs.fail(key, holder, message, stack, time.time() - start))
            return error
        finally:
            if heartbeat is not None:
                heartbeat.drop()

    @class_level
    def progress(self, *restrictions: Restriction, display: bool = False) -> tuple[int, int]:
        """(remaining, total) keys of key_source."""
        source = self._jobs_key_source(restrictions)
        total = len(source.proj())
        remaining = len(source.proj() - self.proj())
        if display:
            done = total - remaining
            percent = 100 * done / total if total else 100
            print(f"{self.class_name}: completed {done} of {total} ({percent:.1f}%), {remaining} remaining")
        return remaining, total

    @class_level
    def job_metadata(self, *restrictions: Restriction) -> list[dict[str, Any]]:
        """The hidden run metadata of the rows (when made, how long make() took, on which host, code
        version), as dicts with their keys. The same as naming the attributes:
        `(Table & restrictions).proj("_job_start_time", "_job_duration", "_job_host", "_job_version")`."""
        from .metadata import fetch_metadata

        return fetch_metadata(self, restrictions)


class Imported(AutoPopulate, UserTable):
    """Data read from outside sources (files, instruments) by make()."""

    tier = "imported"
    tier_prefix = TIER_PREFIXES["imported"]


class Computed(AutoPopulate, UserTable):
    """Results computed from other tables by make()."""

    tier = "computed"
    tier_prefix = TIER_PREFIXES["computed"]


# 2.3.5 aliases
Ingest = Imported
Compute = Computed


def populate_schema(schema: Any, *restrictions: Restriction, **kwargs: Any) -> dict[str, PopulateResult]:
    """Populate every auto-populated table of a schema, parents before children.

    Returns {table class name: populate() result}.
    """
    results = {}
    for cls in auto_populated_classes(schema):
        results[cls.__name__] = cls().populate(*restrictions, **kwargs)
    return results


def auto_populated_classes(schema):
    """The auto-populated table classes declared in a schema, in dependency order."""
    from ..core.naming import node_name

    classes = {}
    stack = [AutoPopulate]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if vars(cls).get("_schema") is schema and cls.__dict__.get("definition") is not None:
            classes[node_name(schema.database, cls().table_name)] = cls
    graph = schema.connection.dependencies.load()
    ordered = graph.topo_sort([n for n in classes if n in graph.graph])
    return [classes[n] for n in ordered]


class _Ahead:
    """The next key's job, reserved by the transaction that stored the current key's result."""

    def __init__(self):
        self.next_key = None  # the key populate makes next (None: none, or the last call allowed)
        self.pending = None  # (key, holder) reserved in the open transaction
        self.taken = None  # (key, holder) reserved by a committed transaction, not started yet

    def reserve_next(self, jobs):
        self.pending = None
        if self.next_key is not None:
            job_key = jobs._key(self.next_key)
            holder = jobs._take_pending(job_key)
            if holder is not None:
                self.pending = (job_key, holder)

    def committed(self, made):
        self.taken, self.pending = (self.pending if made else None), None

    def take(self, key, jobs):
        """The holder of `key`'s job when it was reserved ahead; else None (any other is given back)."""
        taken, self.taken = self.taken, None
        if taken is None:
            return None
        if all(taken[0][n] == key[n] for n in taken[0]):
            return taken[1]
        jobs.release(*taken)
        return None


def _by_priority(todo, jobs, priority, settings):
    """Keys ordered by their job's priority (smaller first); with `priority`, only those at or below it.

    Keys whose job failed or is ignored are left out: they wait until their job row is deleted.
    """
    states = jobs.states()
    default = settings["jobs.default_priority"]
    ranked = []
    for i, key in enumerate(todo):
        status, rank = states.get(jobs.ident(key), (None, default))
        if status in ("error", "ignore"):
            continue
        if priority is None or rank <= priority:
            ranked.append((rank, i, key))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [k for _, _, k in ranked]


def _made_query(table, connection, heading, names):
    """(connection, the "already made?" SELECT, one encoder per key attribute) for _already_made."""
    backend = connection.backend
    p = backend.placeholder
    where = " AND ".join(f"{backend.quote(n)} = {p}" for n in names) or "1 = 1"
    sql = f"SELECT 1 FROM {table.full_table_name} WHERE {where} LIMIT 1"
    return connection, sql, [backend.value_encoder(heading[n].attr_type) for n in names]


def _make_form(table):
    """How the table makes a key: "three parts" (make_fetch/compute/insert), "generator" or "plain".
    Kept on the instance populate() runs on: it asks for every key."""
    form = table.__dict__.get("_make_form")
    if form is not None:
        return form
    if hasattr(table, "make_fetch") and hasattr(table, "make_compute") and hasattr(table, "make_insert"):
        form = "three parts"
    else:
        make = getattr(table, "make", None) or getattr(table, "_make_tuples", None)
        form = "generator" if make is not None and inspect.isgeneratorfunction(make) else "plain"
    table.__dict__["_make_form"] = form
    return form


def _finish(on_commit, made):
    if on_commit is not None:
        on_commit(made)


def _is_transient(connection, error):
    """A write conflict between workers: the driver's error, kept as the context of ours."""
    backend = connection.backend
    return any(e is not None and backend.is_transient(e) for e in (error, error.__context__, error.__cause__))


def _retry_transient(connection, action):
    for attempt in range(TRANSIENT_RETRIES):
        try:
            return action()
        except Exception as error:
            if not _is_transient(connection, error) or attempt == TRANSIENT_RETRIES - 1:
                raise
            time.sleep(0.05 * random.uniform(0.5, 1.5))


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


def _same(a, b):
    """Deep equality that understands numpy arrays (for the make_fetch re-check)."""
    import numpy as np

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b
