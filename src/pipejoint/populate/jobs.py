"""Job queues: one per auto-populated table, kept in DataJoint 2.x's `~~<table>` tables.

A table's queue is the table `~~<name without leading underscores>` beside it, with DataJoint's
layout: the table's key, then status, priority, times, error and who holds the job. pipejoint
and DataJoint workers share these queues: both reserve a job with one conditional UPDATE (`...
SET status='reserved' WHERE <key> AND status='pending'`), so of any number of racing workers,
of either kind, exactly one changes the row, and the row count tells each whether it won.

A worker that dies leaves its job reserved. On MySQL and PostgreSQL the reservation names the
server session (`connection_id`) that made it, and a session the server no longer has belongs to
a dead worker: the next refresh puts its jobs back to pending, whoever reserved them. SQLite has
no sessions: there a running worker renews its reservation time (the heartbeat), and a job
whose time is older than `jobs.lease_seconds`, or whose worker process on this host is gone, is
free again.

`Table.jobs` is the table's queue (DataJoint 2.x's `Job`: pending, reserved, errors, ignored,
completed, refresh, reserve, complete, error, ignore, progress); `schema.jobs` lists the queues
of a schema (jobs014.py reads DataJoint 0.14's schema-wide `~jobs`).
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import logging
import os
import random
import socket
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..catalog.record import TableRecord
from ..core.heading import Heading
from ..definition.parser import parse_definition
from ..errors import DataJointError, DuplicateError
from ..storage.blob import pack
from ..table.table import Table

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ..core.hints import Key
    from ..query.restriction import Restriction

logger = logging.getLogger("pipejoint")

STATUSES = ("pending", "reserved", "success", "error", "ignore")
ERROR_MESSAGE_LENGTH = 2047
TRUNCATED = "...truncated"
TRUNCATION_APPENDIX = TRUNCATED  # DataJoint's name

# DataJoint 2.x's columns after the key, as it declares them (jobs.py, Job._generate_definition)
JOB_COLUMNS = f"""
status : enum('pending','reserved','success','error','ignore')
priority : int8
created_time=CURRENT_TIMESTAMP(3) : datetime(3)
scheduled_time=CURRENT_TIMESTAMP(3) : datetime(3)
reserved_time=null : datetime(3)
completed_time=null : datetime(3)
duration=null : float64
error_message="" : varchar({ERROR_MESSAGE_LENGTH})
error_stack=null : <blob>
user="" : varchar(255)
host="" : varchar(255)
pid=0 : int32
connection_id=0 : int64
version="" : varchar(64)
INDEX (status, priority, scheduled_time)
"""


def job_table_name(table_name: str) -> str:
    """`__fit` -> `~~fit`, as DataJoint names a table's queue."""
    return "~~" + table_name.lstrip("_")


HOST = socket.gethostname()


def storable_text(text: str) -> str:
    """Text every database column takes: undecodable characters and NULs written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\0", "\\x00")


def error_message_text(message: str) -> str:
    message = storable_text(message)
    if len(message) > ERROR_MESSAGE_LENGTH:
        message = message[: ERROR_MESSAGE_LENGTH - len(TRUNCATED)] + TRUNCATED
    return message


@dataclass(frozen=True)
class Holder:
    """Who holds a reservation: written into the job row, and required by every later change to it."""

    connection_id: int
    pid: int
    host: str
    user: str


def _holder(connection) -> Holder:
    """This process's identity on this connection (kept with the connection: its session is fixed)."""
    holder = connection.cache.get("job holder")
    if holder is None or holder.pid != os.getpid() or holder.connection_id != _session(connection):
        holder = Holder(_session(connection), os.getpid(), HOST, connection.get_user())
        connection.cache.put("job holder", holder)
    return holder


def _session(connection) -> int:
    """The server's session id; SQLite has none, so each connection draws an id of its own."""
    if connection.backend.has_sessions:
        return connection.connection_id
    session = connection.cache.get("job session")
    if session is None:
        session = random.getrandbits(62)
        connection.cache.put("job session", session)
    return session


def key_attributes(target: Any) -> list[str]:
    """The key of a table's jobs: its primary-key attributes that come from its parents (DataJoint's
    rule), or else those of its key_source; attributes make() adds to the key are left out."""
    record = target._record
    inherited = {name for fk in record.foreign_keys if fk.primary for name in fk.attr_map}
    names = [n for n in target.primary_key if n in inherited]
    if not names and hasattr(target, "_jobs_key_source"):
        source = target._jobs_key_source(()).heading.primary_key
        names = [n for n in target.primary_key if n in source]
    if not names:
        raise DataJointError(
            f"{target.node_name} has no key that comes from key_source, so it has no job queue: "
            "add `-> Parent` above `---`."
        )
    return names


class Job(Table):
    """The job queue of one auto-populated table: a table you can query, restrict and delete from,
    with DataJoint 2.x's methods to fill it and to reserve, complete and fail its jobs."""

    tier = "jobs"

    def __init__(self, target: Any) -> None:
        super().__init__()
        self._target = target
        self._job_connection = target._connection
        self._job_database = target.database
        self._table_name = job_table_name(target.table_name)

    # --- identity (a table beside its target, outside the catalog) ---
    @property
    def _connection(self):
        return self._job_connection

    @property
    def database(self) -> str:
        return self._job_database

    @property
    def table_name(self) -> str:
        return self._table_name

    @property
    def full_table_name(self) -> str:
        name = self.__dict__.get("_full_name")
        if name is None:
            name = self.__dict__["_full_name"] = self._connection.backend.full_table_name(
                self.database, self._table_name
            )
        return name

    @property
    def target(self) -> Any:
        """The auto-populated table this queue is for."""
        return self._target

    @property
    def class_name(self) -> str:
        return "Job"

    def parts(self, as_objects: bool = False) -> list[Any]:
        return []

    def children(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def __repr__(self) -> str:
        from .jobs_display import job_text, title_of

        return job_text(self, title_of(self))

    def _repr_html_(self) -> str:
        from .jobs_display import job_html, title_of

        return job_html(self, title_of(self))

    @property
    def definition(self) -> str:
        return self._record.definition

    @property
    def key_names(self) -> list[str]:
        names = self.__dict__.get("_key_names")
        if names is None:
            names = self.__dict__["_key_names"] = list(self._record.heading.primary_key)
        return names

    @property
    def _record(self):
        key = ("job record", self.database, self._table_name)
        cache = self._connection.cache
        record = cache.get(key)
        if record is None:
            names = key_attributes(self._target)
            target_heading = self._target.heading
            definition = self._definition_for(names)
            spec = parse_definition(definition, self.database, self._table_name, {}, self.tier)
            # the key keeps its target's lineage, so a queue restricts and joins with key_source
            attributes = [
                replace(a, lineage=target_heading[a.name].lineage) if a.in_key else a
                for a in spec.heading.all_attributes.values()
            ]
            heading = Heading(attributes, spec.heading.table_comment)
            record = TableRecord(
                self.database, self._table_name, self.tier, "Job", definition, heading, [], spec.indexes
            )
            cache.put(key, record)
        return record

    def _definition_for(self, names):
        heading = self._target.heading
        lines = [f"# Job queue for {self._target.full_table_name}"]
        lines += [f"{name} : {heading[name].type}" for name in names]
        return "\n".join(lines) + "\n---" + JOB_COLUMNS

    # --- declaration: on first use, as DataJoint does ---
    @property
    def is_declared(self) -> bool:
        connection = self._connection
        key = ("job declared", self.database, self._table_name)
        if connection.cache.get(key):
            return True
        declared = self._table_name in connection.backend.list_tables(connection, self.database)
        if declared:
            connection.cache.put(key, True)
        return declared

    def declare(self, context: Mapping[str, Any] | None = None) -> None:
        """Create the queue (kept out of the catalog: it is no step of the pipeline)."""
        from ..definition.ddl import create_table_statements

        connection = self._connection
        if connection.in_transaction:
            raise DataJointError(
                f"The job queue of {self._target.node_name} is created on its first use, which cannot happen "
                f"inside a transaction: use {self._target.class_name}.jobs once before the transaction."
            )
        spec = parse_definition(self._record.definition, self.database, self._table_name, {}, self.tier)
        try:
            for statement in create_table_statements(connection.backend, spec):
                connection.execute(statement)
        except DataJointError:
            connection.cache.put(("job declared", self.database, self._table_name), None)
            if not self.is_declared:  # another worker may have created it at the same moment
                raise

    def _ensure(self) -> Job:
        if not self.is_declared:
            self.declare()
        return self

    def delete(self, transaction: bool = True, prompt: bool | None = None, **kwargs: Any) -> int:
        """Delete these jobs (no prompt: jobs are bookkeeping, nothing depends on them)."""
        if not self.is_declared:
            return 0
        return self.delete_quick(get_count=True) or 0

    def drop(self, prompt: bool | None = None, force: bool = False, part_integrity: str = "enforce") -> None:
        """Drop the queue (no prompt); the next use creates it again."""
        from ..definition.ddl import drop_table_statement

        connection = self._connection
        if self.is_declared:
            connection.execute(drop_table_statement(connection.backend, self.database, self._table_name))
        connection.cache.put(("job declared", self.database, self._table_name), None)

    drop_quick = drop

    # --- views ---
    def _status(self, status: str) -> Job:
        return self._ensure() & {"status": status}

    @property
    def pending(self) -> Job:
        return self._status("pending")

    @property
    def reserved(self) -> Job:
        return self._status("reserved")

    @property
    def errors(self) -> Job:
        return self._status("error")

    @property
    def ignored(self) -> Job:
        return self._status("ignore")

    @property
    def completed(self) -> Job:
        return self._status("success")

    def progress(self) -> dict[str, int]:
        """Counts of jobs per status, with their total."""
        counts: collections.Counter = collections.Counter()
        if self.is_declared:
            counts.update(self.fetch("status"))
        result = {status: counts.get(status, 0) for status in STATUSES}
        result["total"] = sum(counts.values())
        return result

    # --- keys ---
    def _key(self, key: Mapping[str, Any]) -> dict[str, Any]:
        names = self.key_names
        try:  # (per key of a populate: the usual case is checked by the lookups themselves)
            return {n: key[n] for n in names}
        except KeyError:
            pass
        missing = [n for n in names if n not in key]
        if missing:
            raise DataJointError(
                f"A job of {self._target.node_name} is named by {', '.join(self.key_names)}; "
                f"{', '.join(missing)} missing from {dict(key)!r}."
            )
        return {n: key[n] for n in self.key_names}

    def ident(self, key: Mapping[str, Any]) -> tuple:
        """A job's identity: its key's values, in key order (collision-free, unlike a hash)."""
        return tuple(key[n] for n in self.key_names)

    def states(self) -> dict[tuple, tuple[str, int]]:
        """{ident: (status, priority)} of this table's jobs."""
        if not self.is_declared:
            return {}
        rows = self.fetch(*self.key_names, "status", "priority", as_dict=True)
        return {self.ident(r): (r["status"], int(r["priority"])) for r in rows}

    # --- filling the queue ---
    def refresh(
        self,
        *restrictions: Restriction,
        delay: float = 0,
        priority: int | None = None,
        stale_timeout: float | None = None,
        orphan_timeout: float | None = None,
        todo: Iterable[Key] | None = None,
    ) -> dict[str, int]:
        """Bring the queue up to date with key_source and the table.

        - adds a pending job, startable `delay` seconds from now, for every key still to make
          (key_source & restrictions, minus the table) that has none;
        - puts a completed job (kept with jobs.keep_completed) back to pending when its key has
          to be made again (its row was deleted);
        - removes pending and error jobs whose key is made or has left key_source, and completed
          ones whose key is in neither (judged on the whole key_source: restrictions only limit
          what is added);
        - frees jobs reserved by dead workers (sessions the server no longer has; on SQLite,
          lapsed leases), and with `orphan_timeout`, every reservation older than that.
        Ignored jobs stay. Returns {"added", "removed", "orphaned", "re_pended"}.

        populate() passes `todo`, the keys it is about to make, and skips the removal.
        `stale_timeout` is accepted for DataJoint's calls: stale jobs are removed at any age here.
        """
        if not hasattr(self._target, "_todo"):
            raise DataJointError(
                f"Refreshing the jobs of {self._target.node_name} needs its key_source: call refresh() on the "
                "table's class (e.g. from dj.VirtualModule or the pipeline's module), not on a FreeTable."
            )
        self._ensure()
        if priority is None:
            priority = self._connection.config["jobs.default_priority"]
        prune = todo is None
        if todo is None:
            todo = self._target._todo(restrictions).keys(order_by="KEY")
        existing = self.states()
        wanted: dict[tuple, Any] = {}
        for key in todo:
            wanted.setdefault(self.ident(key), key)
        new = [self._key(k) for ident, k in wanted.items() if ident not in existing]
        if new:
            scheduled = self._server_time(delay) if delay else None
            rows = [{**k, "status": "pending", "priority": priority} for k in new]
            if scheduled is not None:
                rows = [{**r, "scheduled_time": scheduled} for r in rows]
            self.insert(rows, skip_duplicates=True)
        re_pend = [self._key(wanted[i]) for i in wanted if existing.get(i, ("",))[0] == "success"]
        re_pended = self._set_status(re_pend, "pending", "success", priority=priority)
        removed = 0
        if prune:
            if restrictions:
                wanted = {self.ident(k): k for k in self._target._todo(())}
            stale = [i for i, (status, _) in existing.items() if status in ("pending", "error") and i not in wanted]
            removed += self._delete_idents(stale)
            done = [i for i, (status, _) in existing.items() if status == "success" and i not in wanted]
            if done:
                sources = {self.ident(k) for k in self._target._jobs_key_source(()).proj()}
                made = {self.ident(k) for k in self._target.proj()}
                removed += self._delete_idents([i for i in done if i not in sources and i not in made])
        orphaned = self._free_abandoned(orphan_timeout)
        return {"added": len(new), "removed": removed, "orphaned": orphaned, "re_pended": re_pended}

    def _server_time(self, seconds: float) -> Any:
        connection = self._connection
        value = connection.execute(f"SELECT {connection.backend.now_plus_sql(seconds)}").fetchone()[0]
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        return value

    def _where_key(self, key):
        """(WHERE clause, its arguments) naming one job; the clause and the encoders are kept on this
        queue object (populate uses one for all its keys)."""
        kept = self.__dict__.get("_where_kept")
        if kept is None:
            backend = self._connection.backend
            q, p = backend.quote, backend.placeholder
            heading = self._record.heading
            clause = " AND ".join(f"{q(n)} = {p}" for n in self.key_names)
            encoders = [backend.value_encoder(heading[n].attr_type) for n in self.key_names]
            kept = self.__dict__["_where_kept"] = (clause, encoders)
        clause, encoders = kept
        try:
            return clause, [encode(key[n]) for n, encode in zip(self.key_names, encoders)]
        except (ValueError, TypeError, OverflowError):
            backend = self._connection.backend
            heading = self._record.heading
            return clause, [backend.encode(key[n], heading[n]) for n in self.key_names]

    def _statement(self, name, build):
        """A statement of the populate protocol, built once per queue object."""
        kept = self.__dict__.setdefault("_statements", {})
        sql = kept.get(name)
        if sql is None:
            sql = kept[name] = build()
        return sql

    def _delete_idents(self, idents):
        removed = 0
        for start in range(0, len(idents), 500):
            keys = [dict(zip(self.key_names, i)) for i in idents[start : start + 500]]
            removed += (self & keys).delete_quick(get_count=True) or 0
        return removed

    def _set_status(self, keys, status, only_from, priority=None):
        if not keys:
            return 0
        backend = self._connection.backend
        q, p = backend.quote, backend.placeholder
        sets = f"{q('status')} = {p}"
        values: list[Any] = [status]
        if priority is not None:
            sets += f", {q('priority')} = {p}"
            values.append(priority)
        changed = 0
        for key in keys:
            where, args = self._where_key(key)
            sql = f"UPDATE {self.full_table_name} SET {sets} WHERE {where} AND {q('status')} = {p}"
            changed += self._connection.execute(sql, (*values, *args, only_from)).rowcount
        return changed

    # --- dead workers ---
    def _free_abandoned(self, orphan_timeout: float | None = None) -> int:
        """Put back to pending the jobs whose workers are gone; how many."""
        connection = self._connection
        backend = connection.backend
        q = backend.quote
        table = self.full_table_name
        reset = (
            f"UPDATE {table} SET {q('status')} = 'pending', {q('reserved_time')} = NULL, "
            f"{q('connection_id')} = 0, {q('pid')} = 0, {q('host')} = '' WHERE {q('status')} = 'reserved'"
        )
        freed = 0
        if orphan_timeout:
            freed += connection.execute(
                f"{reset} AND {q('reserved_time')} < {backend.now_plus_sql(-orphan_timeout)}"
            ).rowcount
        held = connection.execute(
            f"SELECT DISTINCT {q('connection_id')}, {q('user')}, {q('host')}, {q('pid')} FROM {table} "
            f"WHERE {q('status')} = 'reserved'"
        ).fetchall()
        if not held:
            return freed
        p = backend.placeholder
        live = backend.live_sessions(connection)
        if live is not None:
            sessions, sees_all = live
            me = _holder(connection)
            dead = sorted(
                {
                    int(c)
                    for c, user, _, _ in held
                    if c and int(c) not in sessions and (sees_all or _same_account(user, me.user))
                }
            )
            for session in dead:
                freed += connection.execute(f"{reset} AND {q('connection_id')} = {p}", (session,)).rowcount
            return freed
        # SQLite: a lapsed lease, or a worker process on this host that is gone
        lease = float(connection.config["jobs.lease_seconds"])
        freed += connection.execute(f"{reset} AND {q('reserved_time')} < {backend.now_plus_sql(-lease)}").rowcount
        for session, _, host, pid in held:
            if host == HOST and pid and not _process_alive(int(pid)):
                freed += connection.execute(
                    f"{reset} AND {q('connection_id')} = {p} AND {q('pid')} = {p}", (session, pid)
                ).rowcount
        return freed

    # --- DataJoint 2.x's reservation API (by key, whoever holds the job) ---
    def reserve(self, key: Mapping[str, Any]) -> bool:
        """Reserve a pending job that may start now; False when it is not pending (or not yet due)."""
        return self._take_pending(self._key(key)) is not None

    def complete(self, key: Mapping[str, Any], duration: float | None = None) -> None:
        """Record success: delete the job, or with jobs.keep_completed mark it `success`."""
        self._finish(self._key(key), None, duration)

    def error(self, key: Mapping[str, Any], error_message: str, error_stack: str | None = None) -> None:
        """Mark a job failed, with its message (truncated to 2047 characters) and stack."""
        self._fail(self._key(key), None, error_message, error_stack, None)

    def ignore(self, key: Mapping[str, Any]) -> None:
        """Mark a key so that populate never makes it (until its job row is deleted)."""
        key = self._ensure()._key(key)
        if self._set_status([key], "ignore", "pending") or len(self & key):
            backend = self._connection.backend
            where, args = self._where_key(key)
            sql = f"UPDATE {self.full_table_name} SET {backend.quote('status')} = 'ignore' WHERE {where}"
            self._connection.execute(sql, args)
            return
        try:
            self.insert1({**key, "status": "ignore", "priority": self._connection.config["jobs.default_priority"]})
        except DuplicateError:
            self.ignore(key)

    # --- the protocol populate() follows (by holder: a reservation is changed only by its holder) ---
    def _take_pending(self, key):
        connection = self._ensure()._connection
        holder = _holder(connection)
        where, args = self._where_key(key)
        sql = self.__dict__.get("_statements", {}).get("take")
        if sql is None:
            backend = connection.backend
            q, p = backend.quote, backend.placeholder
            sql = self._statement(
                "take",
                lambda: (
                    f"UPDATE {self.full_table_name} SET {q('status')} = 'reserved', {q('host')} = {p}, "
                    f"{q('pid')} = {p}, {q('connection_id')} = {p}, {q('user')} = {p}, {q('version')} = {p}, "
                    f"{q('reserved_time')} = {backend.now_sql} "
                    f"WHERE {where} AND {q('status')} = 'pending' AND {q('scheduled_time')} <= {backend.now_sql}"
                ),
            )
        values = (holder.host, holder.pid, holder.connection_id, holder.user, "", *args)
        return holder if connection.execute(sql, values).rowcount == 1 else None

    def take(self, key: Mapping[str, Any]) -> Holder | None:
        """Reserve the job for `key` for this worker: its holder, or None when someone else has it,
        it failed or is ignored, or the key is made already."""
        key = self._key(key)
        holder = self._take_pending(key)
        if holder is not None:
            return holder
        if self._target._already_made(key):  # made by another worker since this one listed its keys
            return None
        try:  # no job row yet: add it, then take it
            self.insert1({**key, "status": "pending", "priority": self._connection.config["jobs.default_priority"]})
        except DuplicateError:
            return None
        holder = self._take_pending(key)
        if holder is not None and self._target._already_made(key):
            self._finish(key, holder, 0.0)  # made meanwhile: give the key back rather than compute it twice
            return None
        return holder

    def _mine(self, key, holder):
        where, args = self._where_key(key)
        if holder is None:
            return where, args
        held = self.__dict__.get("_held_where")  # the clause is the same for every key: built once
        if held is None:
            q, p = self._connection.backend.quote, self._connection.backend.placeholder
            held = f" AND {q('status')} = 'reserved' AND {q('connection_id')} = {p} AND {q('pid')} = {p}"
            self.__dict__["_held_where"] = held
        args.append(holder.connection_id)
        args.append(holder.pid)
        return where + held, args

    def _finish(self, key, holder, duration):
        """Record success (inside the transaction that stored the result, for populate)."""
        connection = self._connection
        where, args = self._mine(key, holder)
        mine = holder is not None
        keep = connection.config["jobs.keep_completed"]
        sql = self.__dict__.get("_statements", {}).get(("succeeded" if keep else "done", mine))
        if sql is not None:  # (per key of a populate: the statement is built already)
            connection.execute(sql, (duration, *args) if keep else args)
            return
        backend = connection.backend
        q, p = backend.quote, backend.placeholder
        if keep:
            sql = self._statement(
                ("succeeded", mine),
                lambda: (
                    f"UPDATE {self.full_table_name} SET {q('status')} = 'success', "
                    f"{q('completed_time')} = {backend.now_sql}, {q('duration')} = {p} WHERE {where}"
                ),
            )
            connection.execute(sql, (duration, *args))
        else:
            sql = self._statement(("done", mine), lambda: f"DELETE FROM {self.full_table_name} WHERE {where}")
            connection.execute(sql, args)

    def _fail(self, key, holder, message, stack, duration):
        connection = self._connection
        backend = connection.backend
        q, p = backend.quote, backend.placeholder
        where, args = self._mine(key, holder)
        stack_value = None if stack is None else pack(storable_text(stack))  # a <blob>, as DataJoint stores it
        sql = (
            f"UPDATE {self.full_table_name} SET {q('status')} = 'error', {q('completed_time')} = {backend.now_sql}, "
            f"{q('error_message')} = {p}, {q('error_stack')} = {p}, {q('duration')} = {p} WHERE {where}"
        )
        connection.execute(sql, (error_message_text(message), stack_value, duration, *args))

    def finish(self, key: Mapping[str, Any], holder: Holder, duration: float) -> None:
        self._finish(self._key(key), holder, duration)

    def fail(self, key: Mapping[str, Any], holder: Holder, message: str, stack: str, duration: float) -> None:
        self._fail(self._key(key), holder, message, stack, duration)

    def release(self, key: Mapping[str, Any], holder: Holder) -> None:
        """Give a job back (the worker is stopping before it finished the key)."""
        backend = self._connection.backend
        q = backend.quote
        where, args = self._mine(self._key(key), holder)
        with contextlib.suppress(Exception):
            self._connection.execute(
                f"UPDATE {self.full_table_name} SET {q('status')} = 'pending', {q('reserved_time')} = NULL WHERE {where}",
                args,
            )

    def renew_sql(self) -> str:
        """The heartbeat's statement (SQLite): a running job's reservation time moves to now."""
        backend = self._connection.backend
        q, p = backend.quote, backend.placeholder
        where, _ = self._where_key(dict.fromkeys(self.key_names))
        return (
            f"UPDATE {self.full_table_name} SET {q('reserved_time')} = {backend.now_sql} WHERE {where} "
            f"AND {q('status')} = 'reserved' AND {q('connection_id')} = {p} AND {q('pid')} = {p}"
        )


def _same_account(user: str, mine: str) -> bool:
    """MySQL shows a session without the PROCESS privilege only its own account's sessions."""
    return (user or "").split("@")[0] == (mine or "").split("@")[0]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class Heartbeat:
    """Renews the reservation of the job being made, from a thread with its own connection.

    Only SQLite needs it (servers know their sessions). The connection is opened only when a
    make() outlasts a third of the lease, so quick makes cost nothing.
    """

    def __init__(self, jobs: Job) -> None:
        self.jobs = jobs
        self.lease = float(jobs._connection.config["jobs.lease_seconds"])
        self.interval = max(self.lease / 3, 0.05)
        self._current: tuple | None = None
        self._wake = threading.Event()
        self._stopped = False
        self._connection = None
        self._sql = jobs.renew_sql()
        self._thread = threading.Thread(target=self._run, name="pipejoint-heartbeat", daemon=True)
        self._thread.start()

    def hold(self, key: Mapping[str, Any], holder: Holder) -> None:
        self._current = (key, holder)  # one reference replaced: the thread reads it whole, no lock needed

    def drop(self) -> None:
        self._current = None

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        self._thread.join(timeout=5)
        if self._connection is not None:
            self._connection.close()

    def _run(self):
        while not self._stopped:
            self._wake.wait(self.interval)
            if self._stopped:
                return
            current = self._current
            if current is None:
                continue
            try:
                self._renew(*current)
            except Exception as error:  # a missed beat is retried at the next one
                logger.debug("Could not renew the job reservation: %s", error)

    def _renew(self, key, holder):
        if self._connection is None:
            self._connection = clone_connection(self.jobs._connection)
        _, args = self.jobs._where_key(key)
        self._connection.execute(self._sql, (*args, holder.connection_id, holder.pid))


def needs_heartbeat(connection) -> bool:
    """Whether a running job must renew its reservation: only where the database has no sessions."""
    return not connection.backend.has_sessions


def clone_connection(connection):
    """A new connection to the same database, with the same settings."""
    from ..catalog.connection import Connection

    s = connection.settings
    return Connection(
        s.get("host"),
        s.get("user"),
        s.get("password"),
        s.get("port"),
        backend=connection.backend.name,
        database_name=s.get("name"),
        config=connection.config,
    )


__all__ = ["Job", "Heartbeat", "Holder", "job_table_name", "key_attributes", "STATUSES"]
