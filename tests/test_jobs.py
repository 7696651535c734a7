"""Job queues: reservation by racing worker processes, dead workers' jobs freed, retries, the queue API."""

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import pipejoint as dj
from helpers import CONFIG_KEYS, connect, drop_schema, environment_for, unique_name
from pipejoint.catalog import connection as connection_module
from pipejoint.errors import DataJointError
from pipejoint.populate.jobs import Job
from pipejoint.populate.workers import load_module

PIPELINE = '''
"""A small pipeline for worker tests.

Square's make() records itself in Calls inside its transaction (what was committed); Busy's
make_compute records every call in Computes, outside any transaction (what was computed, even
if its result was thrown away).
"""
import os
import time
import uuid

import pipejoint as dj

IMPORTED_IN = os.getpid()  # a forked worker has the module in memory from its parent
dj.config["jobs.lease_seconds"] = float(os.environ.get("PJ_LEASE", "300"))
schema = dj.Schema(SCHEMA_NAME)


@schema
class Item(dj.Manual):
    definition = """
    item : int32
    """


@schema
class Calls(dj.Manual):
    definition = """
    call : char(32)
    ---
    item : int32
    pid : int32
    """


@schema
class Computes(dj.Manual):
    definition = """
    call : char(32)
    ---
    item : int32
    pid : int32
    imported_in : int32
    """


@schema
class Square(dj.Computed):
    definition = """
    -> Item
    ---
    square : int64
    """

    def make(self, key):
        Calls.insert1(dict(call=uuid.uuid4().hex, item=key["item"], pid=os.getpid()))
        if os.environ.get("PJ_HANG") == str(key["item"]):
            time.sleep(600)
        time.sleep(float(os.environ.get("PJ_MAKE_SECONDS", "0")))
        self.insert1(dict(key, square=key["item"] ** 2))


@schema
class Busy(dj.Computed):
    definition = """
    -> Item
    ---
    total : int64
    """

    def make_fetch(self, key):
        return (key["item"],)

    def make_compute(self, key, item):
        Computes.insert1(dict(call=uuid.uuid4().hex, item=item, pid=os.getpid(), imported_in=IMPORTED_IN))
        time.sleep(float(os.environ.get("PJ_MAKE_SECONDS", "0")))
        total = 0
        for i in range(int(os.environ.get("PJ_WORK", "20000"))):
            total += (i * item) % 7
        return (total,)

    def make_insert(self, key, total):
        self.insert1(dict(key, total=total))
'''


@contextlib.contextmanager
def pipeline(tmp_path, settings, connection, text=PIPELINE):
    """Write the pipeline module with a fresh schema name, import it against the test database, drop it after."""
    name = unique_name("w")
    path = tmp_path / f"pipeline_{name}.py"
    path.write_text(f"SCHEMA_NAME = {name!r}\n" + textwrap.dedent(text))
    saved = {key: dj.config[key] for key in CONFIG_KEYS.values()}
    try:
        for key, value in settings.items():
            dj.config[CONFIG_KEYS[key]] = value
        connection_module._forget_connection()
        module = load_module(str(path))
    finally:
        for key, value in saved.items():
            dj.config[key] = value
        connection_module._forget_connection()
    try:
        yield module
    finally:
        module.schema.connection.close()
        drop_schema(connection, name)
        sys.modules.pop(module.__name__, None)


def start_worker(module, settings, tmp_path, table="Square", go=None, **env):
    """A separate worker process, as a user would start one per node: populate(reserve_jobs=True).

    With `go` (a path), the worker loads the pipeline, says so in `go`.ready-PID, and starts only
    once `go` exists, so that several workers race from the same moment.
    """
    wait = ""
    if go is not None:
        wait = (
            f"import os, time; open({str(go)!r} + '.ready-' + str(os.getpid()), 'w').close()\n"
            f"while not os.path.exists({str(go)!r}): time.sleep(0.005)\n"
        )
    code = (
        "import sys\nfrom pipejoint.populate.workers import load_module\n"
        f"m = load_module({module.__file__!r})\n{wait}print(m.{table}.populate(reserve_jobs=True))"
    )
    environment = {**os.environ, **environment_for(settings), **{k: str(v) for k, v in env.items()}}
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_together(workers, go, timeout=60):
    """Let workers started with `go` begin once all of them are ready."""
    deadline = time.monotonic() + timeout
    while len(list(go.parent.glob(go.name + ".ready-*"))) < len(workers):
        for w in workers:
            assert w.poll() is None, w.communicate()
        assert time.monotonic() < deadline, "the workers never got ready"
        time.sleep(0.02)
    go.touch()


def test_racing_workers_make_each_key_once(tmp_path, settings, connection):
    with pipeline(tmp_path, settings, connection) as m:
        m.Item.insert([(i,) for i in range(30)])
        go = tmp_path / "go"
        workers = [start_worker(m, settings, tmp_path, table="Busy", go=go, PJ_MAKE_SECONDS=0.01) for _ in range(3)]
        start_together(workers, go)
        outputs = [w.communicate(timeout=120) for w in workers]
        assert all(w.returncode == 0 for w in workers), outputs
        computed = m.Computes.fetch("item").tolist()
        assert sorted(computed) == list(range(30)), m.Computes.fetch(as_dict=True)  # computed once each
        assert len(set(m.Computes.fetch("pid").tolist())) > 1  # the work was shared
        assert len(m.Busy) == 30
        assert len(m.Busy.jobs) == 0 and sum(len(queue) for queue in m.schema.jobs) == 0


def test_killed_worker_key_is_made_again_at_once(tmp_path, settings, connection):
    """With default settings: the server sees the killed worker's session close; on SQLite, this host
    sees its process gone. Either way its job is free at the next populate, not after a lease."""
    with pipeline(tmp_path, settings, connection) as m:
        m.Item.insert1((7,))
        worker = start_worker(m, settings, tmp_path, PJ_HANG=7, PJ_LEASE=60)
        deadline = time.monotonic() + 60
        while not len(m.Square.jobs.reserved):
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker never reserved its job"
            time.sleep(0.1)
        job = m.Square.jobs.reserved.fetch1()
        assert job["pid"] == worker.pid and job["host"]
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate()
        made, killed = 0, time.monotonic()
        while not made:  # no cleanup by hand
            assert time.monotonic() < killed + 10, "the killed worker's job was not freed at once"
            made = m.Square.populate(reserve_jobs=True)["success_count"]
            time.sleep(0.2)
        assert m.Square.fetch1("square") == 49
        assert m.Calls.fetch("pid").tolist() == [os.getpid()]  # the killed make() left nothing
        assert len(m.Square.jobs) == 0


def test_flaky_make_succeeds_on_retry_with_jobs(schema):
    @schema
    class Trial(dj.Manual):
        definition = """
        trial : int16
        """

    attempts = []

    @schema
    class Flaky(dj.Computed):
        definition = """
        -> Trial
        """

        def make(self, key):
            attempts.append(key["trial"])
            if attempts.count(key["trial"]) < 3:
                raise ConnectionError("the instrument did not answer")
            self.insert1(key)

    Trial.insert([(1,), (2,)])
    with dj.config.override(jobs__max_retries=2, jobs__retry_backoff=0.01):
        assert Flaky.populate(reserve_jobs=True) == {"success_count": 2, "error_list": []}
    assert attempts == [1, 1, 1, 2, 2, 2] and len(Flaky.jobs) == 0
    Trial.insert1((3,))
    with dj.config.override(jobs__max_retries=1, jobs__retry_backoff=0.01):
        result = Flaky.populate(reserve_jobs=True, suppress_errors=True)
    assert result["success_count"] == 0 and "did not answer" in result["error_list"][0][1]
    error = Flaky.jobs.errors.fetch1()
    assert error["trial"] == 3 and error["error_message"].endswith("(after 2 attempts)")
    assert "ConnectionError: the instrument did not answer" in error["error_message"]
    assert "Traceback" in error["error_stack"] and "in make" in error["error_stack"]
    assert error["pid"] == os.getpid() and error["user"] is not None and error["host"]


def test_jobs_table_api(schema):
    @schema
    class Run(dj.Manual):
        definition = """
        run : int16
        """

    @schema
    class Fit(dj.Computed):
        definition = """
        -> Run
        """

        def make(self, key):
            if key["run"] == 2:
                raise ValueError("diverged")
            self.insert1(key)

    Run.insert([(1,), (2,), (3,), (4,)])
    assert Fit.jobs.refresh() == {"added": 4, "removed": 0, "orphaned": 0, "re_pended": 0}
    assert Fit.jobs.refresh() == {"added": 0, "removed": 0, "orphaned": 0, "re_pended": 0}
    assert len(Fit.jobs.pending) == 4
    Fit.jobs.ignore({"run": 4})
    assert Fit.jobs.progress() == {"pending": 3, "reserved": 0, "success": 0, "error": 0, "ignore": 1, "total": 4}
    result = Fit.populate(reserve_jobs=True, suppress_errors=True)
    assert result["success_count"] == 2 and len(result["error_list"]) == 1
    assert sorted(Fit.fetch("run").tolist()) == [1, 3]  # 4 is ignored
    # schema.jobs: DataJoint 2.x's list of queues, which restricts and deletes together as the legacy table did
    assert [queue.target.table_name for queue in schema.jobs] == [Fit.table_name]
    errors = schema.jobs & {"status": "error"}
    assert errors[0].fetch1("run") == 2
    assert sum(len(queue) for queue in schema.jobs) == 2 and len(Fit.jobs.ignored) == 1
    assert (schema.jobs & {"status": "error"}).delete() == 1
    assert (schema.jobs & {"status": "error"}).delete_quick(get_count=True) == 0
    assert len(Fit.jobs.errors) == 0
    with pytest.raises(DataJointError, match="run missing"):
        Fit.jobs.ignore({"other": 1})
    Fit.jobs.ignored.delete()
    Fit.make = lambda self, key: self.insert1(key)
    assert Fit.populate(reserve_jobs=True)["success_count"] == 2
    with dj.config.override(jobs__keep_completed=True):
        Run.insert1((5,))
        Fit.populate(reserve_jobs=True)
    done = Fit.jobs.completed.fetch1()
    assert done["run"] == 5 and done["duration"] >= 0 and done["completed_time"] is not None


def test_refresh_removes_stale_and_priority_orders(schema):
    @schema
    class Shot(dj.Manual):
        definition = """
        shot : int16
        """

    order = []

    @schema
    class Analysis(dj.Computed):
        definition = """
        -> Shot
        """

        def make(self, key):
            order.append(key["shot"])
            self.insert1(key)

    Shot.insert([(1,), (2,), (3,)])
    Analysis.jobs.refresh(priority=5)
    Analysis.jobs.refresh({"shot": 3}, priority=1)  # already pending: priority stays
    (Analysis.jobs.pending & {"shot": 3}).delete()
    Analysis.jobs.refresh({"shot": 3}, priority=1)
    (Shot & {"shot": 2}).delete()
    assert Analysis.jobs.refresh() == {"added": 0, "removed": 1, "orphaned": 0, "re_pended": 0}
    assert Analysis.populate(reserve_jobs=True, priority=1)["success_count"] == 1
    assert Analysis.populate(reserve_jobs=True)["success_count"] == 1
    assert order == [3, 1]


def test_refresh_follows_key_source_and_table(schema):
    @schema
    class Cell(dj.Manual):
        definition = """
        cell : int16
        """

    @schema
    class Trace(dj.Computed):
        definition = """
        -> Cell
        """

        def make(self, key):
            if key["cell"] == 3:
                raise ValueError("no signal")
            self.insert1(key)

    def statuses():
        return dict(zip(*Trace.jobs.fetch("cell", "status")))

    Cell.insert([(c,) for c in range(1, 7)])
    assert Trace.jobs.refresh({"cell": 1}) == {
        "added": 1,
        "removed": 0,
        "orphaned": 0,
        "re_pended": 0,
    }  # restricted: adds only these
    assert Trace.jobs.refresh() == {"added": 5, "removed": 0, "orphaned": 0, "re_pended": 0}
    assert statuses() == dict.fromkeys(range(1, 7), "pending")
    Trace.populate({"cell": 1})  # made without jobs: its pending job is stale
    (Cell & {"cell": 2}).delete()  # left key_source: stale too
    Trace.populate({"cell": 3}, reserve_jobs=True, suppress_errors=True)  # fails: an error job
    Trace.jobs.ignore({"cell": 4})
    assert Trace.jobs.refresh() == {"added": 0, "removed": 2, "orphaned": 0, "re_pended": 0}
    assert statuses() == {3: "error", 4: "ignore", 5: "pending", 6: "pending"}
    (Cell & {"cell": 3}).delete()  # an error job whose key left key_source goes too; the ignored one stays
    (Cell & {"cell": 4}).delete()
    assert Trace.jobs.refresh({"cell": 6}) == {
        "added": 0,
        "removed": 1,
        "orphaned": 0,
        "re_pended": 0,
    }  # judged on all keys
    assert statuses() == {4: "ignore", 5: "pending", 6: "pending"}
    with dj.config.override(jobs__keep_completed=True):
        assert Trace.populate(reserve_jobs=True)["success_count"] == 2
        assert statuses() == {4: "ignore", 5: "success", 6: "success"}
        (Trace & {"cell": 5}).delete()  # to be made again: its completed job goes back to pending
        assert Trace.jobs.refresh() == {"added": 0, "removed": 0, "orphaned": 0, "re_pended": 1}
        assert statuses()[5] == "pending"
        (Trace & {"cell": 6}).delete()
        assert Trace.populate(reserve_jobs=True)["success_count"] == 2  # populate re-pends 6 as well
    assert sorted(Trace.fetch("cell").tolist()) == [1, 5, 6]


def test_reservation_is_exclusive(schema, connection, settings):
    """A reserved job is not reserved again, nor made, until its holder completes it or is gone."""

    @schema
    class Key(dj.Manual):
        definition = """
        k : int16
        """

    @schema
    class Made(dj.Computed):
        definition = """
        -> Key
        """

        def make(self, key):
            self.insert1(key)

    Key.insert([(1,), (2,)])
    jobs = Made.jobs
    jobs.refresh()
    assert jobs.reserve({"k": 1}) and not jobs.reserve({"k": 1})
    assert Made.populate(reserve_jobs=True)["success_count"] == 1  # 2 only: 1 is held
    jobs.complete({"k": 1})
    assert len(jobs) == 0 and Made.populate(reserve_jobs=True)["success_count"] == 1
    # a reservation made by another session: kept while that session lives, freed once it is gone
    Key.insert1((3,))
    other = connect(settings)
    try:
        theirs = dj.FreeTable(other, Made.full_table_name.replace("`", "").replace('"', ""))
        assert jobs.refresh()["added"] == 1 and Job(theirs).reserve({"k": 3})
        assert jobs.refresh()["orphaned"] == 0
        assert Made.populate(reserve_jobs=True)["success_count"] == 0
    finally:
        other.close()
    if connection.backend.has_sessions:  # the server ends the closed session soon, not at once
        orphaned, deadline = 0, time.monotonic() + 10
        while not orphaned and time.monotonic() < deadline:
            orphaned = jobs.refresh()["orphaned"]
            time.sleep(0 if orphaned else 0.05)
        assert orphaned == 1
    else:  # SQLite: the holder's process (this one) lives on; its reservation lapses after the lease
        with dj.config.override(jobs__lease_seconds=0.2):
            time.sleep(0.3)
            assert jobs.refresh()["orphaned"] == 1
    assert Made.populate(reserve_jobs=True)["success_count"] == 1


def test_a_running_make_keeps_its_job(schema):
    """A make() that runs longer than the lease keeps its job: the server's session is alive (or, on
    SQLite, the heartbeat renews the reservation), so refresh frees nothing and nobody takes the key."""

    @schema
    class Scan(dj.Manual):
        definition = """
        scan : int16
        """

    seen = {}

    @schema
    class Slow(dj.Computed):
        definition = """
        -> Scan
        """

        def make_fetch(self, key):
            return (key["scan"],)

        def make_compute(self, key, scan):
            seen["first"] = Slow.jobs.reserved.fetch1("reserved_time")
            time.sleep(2.2)  # twice the lease: without renewals the job would be free again
            seen["later"] = Slow.jobs.reserved.fetch1("reserved_time")
            seen["freed"] = Slow.jobs.refresh()["orphaned"]
            seen["taken"] = Slow.jobs.take(key)
            return (scan,)

        def make_insert(self, key, scan):
            self.insert1(key)

    Scan.insert1((1,))
    with dj.config.override(jobs__lease_seconds=1.0):
        assert Slow.populate(reserve_jobs=True)["success_count"] == 1
    assert seen["freed"] == 0 and seen["taken"] is None and len(Slow.jobs) == 0
    if not Slow.connection.backend.has_sessions:  # SQLite: renewed by the heartbeat
        assert seen["later"] > seen["first"] + datetime.timedelta(seconds=1)


def test_queue_is_datajoints_layout(schema, connection):
    """`~~<table>` beside the table, keyed by the table's inherited key, with DataJoint 2.x's columns."""

    @schema
    class Animal(dj.Manual):
        definition = """
        animal : varchar(16)
        """

    @schema
    class Weigh(dj.Imported):
        definition = """
        -> Animal
        weighing : int16       # added by make(): not part of a job's key
        ---
        grams : float64
        """

        def make(self, key):
            self.insert1(dict(key, weighing=1, grams=1.0))

    Animal.insert1(("m1",))
    assert Weigh.jobs.table_name == "~~weigh" and Weigh.jobs.primary_key == ["animal"]
    assert "~~weigh" in connection.backend.list_tables(connection, schema.database)
    assert "~~weigh" not in schema.list_tables()
    assert Weigh.jobs.heading.secondary_attributes == [
        "status", "priority", "created_time", "scheduled_time", "reserved_time", "completed_time", "duration",
        "error_message", "error_stack", "user", "host", "pid", "connection_id", "version",
    ]  # fmt: skip
    Weigh.jobs.refresh(delay=3600)  # scheduled an hour from now: not yet due
    assert not Weigh.jobs.reserve({"animal": "m1"})
    assert Weigh.populate(reserve_jobs=True)["success_count"] == 0
    (Weigh.jobs & {"animal": "m1"}).delete()
    assert Weigh.populate(reserve_jobs=True)["success_count"] == 1
    Weigh.jobs.drop()
    assert "~~weigh" not in connection.backend.list_tables(connection, schema.database)


def test_any_error_text_is_stored_and_populate_goes_on(schema):
    @schema
    class Path(dj.Manual):
        definition = """
        path_id : int16
        """

    @schema
    class Read(dj.Imported):
        definition = """
        -> Path
        """

        def make(self, key):
            if key["path_id"] == 1:
                raise OSError("cannot open /data/caf\udce9\x00.tif")
            self.insert1(key)

    Path.insert([(1,), (2,)])
    result = Read.populate(reserve_jobs=True, suppress_errors=True)
    assert result["success_count"] == 1 and len(result["error_list"]) == 1
    error = Read.jobs.errors.fetch1()
    assert error["error_message"] == "OSError: cannot open /data/caf\\udce9\\x00.tif"
    assert "Traceback" in error["error_stack"] and len(Read.jobs.reserved) == 0
    long = "x" * 3000
    Read.jobs.error({"path_id": 1}, long)
    message = Read.jobs.errors.fetch1("error_message")
    assert len(message) == 2047 and message.endswith("...truncated")


PLAIN_MAKE = '''
import os
import time

import pipejoint as dj

schema = dj.Schema(SCHEMA_NAME)


@schema
class Item(dj.Manual):
    definition = """
    item : int32
    """


@schema
class Note(dj.Manual):
    definition = """
    note : int32
    """


@schema
class Square(dj.Computed):
    definition = """
    -> Item
    ---
    square : int64
    pid : int32
    """

    def make(self, key):  # a plain make, as the book writes it: read, compute, then insert
        value = (Item & key).fetch1("item")
        time.sleep(float(os.environ.get("PJ_MAKE_SECONDS", "0")))
        self.insert1(dict(key, square=value**2, pid=os.getpid()))
'''


def test_plain_makes_share_the_work_and_let_others_write(tmp_path, settings, connection):
    """Workers running a plain make() share the keys (on SQLite too: no write lock is held while make
    computes), and another writer is never kept waiting by a running make."""
    with pipeline(tmp_path, settings, connection, PLAIN_MAKE) as m:
        m.Item.insert([(i,) for i in range(12)])
        go = tmp_path / "go"
        workers = [start_worker(m, settings, tmp_path, go=go, PJ_MAKE_SECONDS=0.3) for _ in range(2)]
        start_together(workers, go)
        time.sleep(0.5)  # both are inside make() now
        started = time.monotonic()
        with dj.config.override(database__busy_timeout=2):
            m.Note.insert1((1,))  # another writer, while the makes run
        assert time.monotonic() - started < 0.25
        outputs = [w.communicate(timeout=120) for w in workers]
        assert all(w.returncode == 0 for w in workers), outputs
        made_by = m.Square.fetch("pid").tolist()
        assert len(made_by) == 12 and len(m.Square.jobs) == 0
        assert {w.pid for w in workers} == set(made_by)  # both made keys
        assert min(made_by.count(w.pid) for w in workers) >= 4  # and shared them


def test_jobs_are_named_by_their_key_values_not_a_hash(schema):
    """Keys whose values would run together in a joined hash ('x' + 'yz' and 'xy' + 'z') are two jobs:
    the queue is keyed by the key's own columns, so one failing leaves the other to be made."""

    @schema
    class Pair(dj.Manual):
        definition = """
        a : varchar(8)
        b : varchar(8)
        """

    @schema
    class Joined(dj.Computed):
        definition = """
        -> Pair
        """

        def make(self, key):
            if key["a"] == "x":
                raise ValueError("the first pair fails")
            self.insert1(key)

    Pair.insert([("x", "yz"), ("xy", "z")])
    result = Joined.populate(reserve_jobs=True, suppress_errors=True)
    assert result["success_count"] == 1 and len(result["error_list"]) == 1
    assert Joined.fetch1("a", "b") == ("xy", "z")
    assert Joined.jobs.errors.fetch1("a", "b") == ("x", "yz")
    assert Joined.jobs.primary_key == ["a", "b"]
