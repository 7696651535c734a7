"""Scale-out: populate(processes=N), populate(executor=Dask), and the `pipejoint populate / worker` commands."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import pipejoint as dj
from helpers import IN_CI, environment_for
from pipejoint.errors import DataJointError
from pipejoint.populate.workers import start_method
from test_jobs import pipeline

PROCESSES_SCRIPT = """
import json, os, sys
import pipejoint as dj
from pipejoint.populate.workers import load_module, start_method

m = load_module(sys.argv[1])
other = dj.Connection()  # one more connection of this process
other.query("SELECT 1")
if sys.argv[2] != "auto":
    dj.config["jobs.start_method"] = sys.argv[2]
method = start_method()
result = m.Busy.populate(processes=int(sys.argv[3]), display_progress=True)
print(json.dumps({"result": result, "pid": os.getpid(), "method": method,
                  "other_connected": other.is_connected, "made": len(m.Busy)}))
"""


@pytest.mark.parametrize("method, processes", [("auto", 2), ("fork", 4), ("spawn", 2)])
def test_processes_make_each_key_once(tmp_path, settings, connection, method, processes):
    """populate(processes=N), run in a fresh process as a user's script would: no other threads
    run there, so on Linux the default is to fork."""
    with pipeline(tmp_path, settings, connection) as m:
        m.Item.insert([(i,) for i in range(16)])
        done = subprocess.run(
            [sys.executable, "-c", PROCESSES_SCRIPT, m.__file__, method, str(processes)],
            env={**os.environ, **environment_for(settings)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout.strip().splitlines()[-1])
        forked = out["method"] == "fork"
        assert forked == (method == "fork" or (method == "auto" and sys.platform.startswith("linux")))
        assert out["result"] == {"success_count": 16, "error_list": []} and out["made"] == 16
        # before forking, the parent closed its connections (they reopen on next use), so that no
        # worker inherits a database session
        assert out["other_connected"] == (not forked)
        runs = m.Computes.fetch(as_dict=True)
        assert sorted(r["item"] for r in runs) == list(range(16))  # each key computed once
        pids = {r["pid"] for r in runs}
        assert out["pid"] not in pids and len(pids) <= processes  # the work ran in the workers
        imported_in = {r["imported_in"] for r in runs}
        if forked:  # the workers found the pipeline in memory: no second import
            assert imported_in == {out["pid"]}
        else:
            assert imported_in == pids
        assert len(m.Busy.jobs) == 0


def test_connections_are_closed_before_forking_unless_in_a_transaction(connection):
    from pipejoint.populate.workers import _close_connections_for_fork

    connection.start_transaction()
    try:
        assert not _close_connections_for_fork()  # populate() spawns its workers instead
        assert connection.in_transaction and connection.is_connected
    finally:
        connection.cancel_transaction()
    assert _close_connections_for_fork()
    assert not connection.is_connected
    assert connection.query("SELECT 1", reconnect=False).fetchall()[0][0] == 1  # reopens on next use


def test_executor_with_cap_and_tripartite_make(tmp_path, settings, connection):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with pipeline(tmp_path, settings, connection) as m:
        m.Item.insert([(i,) for i in range(9)])
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as executor:
            assert m.Busy.populate(executor=executor, keys=[{"item": 7}, {"item": 8}])["success_count"] == 2
            assert m.Busy.populate(executor=executor, max_calls=4)["success_count"] == 4
            assert m.Busy.populate(executor=executor)["success_count"] == 3
        assert len(m.Busy) == 9
        computed = sorted(m.Computes.fetch("item").tolist())
        assert computed == list(range(9))  # no key computed twice, not even outside the transaction


def test_start_method_forks_only_when_safe(connection):
    code = textwrap.dedent("""
        import threading
        from pipejoint.populate.workers import start_method
        alone = start_method()
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait)
        thread.start()
        print(alone, start_method())
        stop.set()
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    expected = "fork spawn" if sys.platform.startswith("linux") else "spawn spawn"
    assert done.stdout.split() == expected.split(), done.stderr
    with dj.config.override(jobs__start_method="threads"):
        with pytest.raises(DataJointError, match="jobs.start_method"):
            start_method()


def test_dask_executor_completes_a_table(tmp_path, settings, connection):
    if IN_CI:  # the dask extra is installed in CI: its absence is a failure there
        import distributed
    else:
        distributed = pytest.importorskip("distributed", reason="Dask is optional: pip install 'pipejoint[dask]'")
    with pipeline(tmp_path, settings, connection) as m:
        m.Item.insert([(i,) for i in range(12)])
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        try:
            with distributed.Client(cluster) as client:
                result = m.Busy.populate(executor=client.get_executor())
        finally:
            cluster.close()
        assert result == {"success_count": 12, "error_list": []}
        assert len(m.Busy) == 12
        runs = m.Computes.fetch(as_dict=True)
        assert sorted(r["item"] for r in runs) == list(range(12))  # each key computed once
        assert os.getpid() not in {r["pid"] for r in runs}  # by the cluster's workers


def test_workers_refuse_what_they_cannot_carry(schema, connection):
    @schema
    class Local(dj.Manual):
        definition = """
        n : int16
        """

    @schema
    class Doubled(dj.Computed):
        definition = """
        -> Local
        """

        def make(self, key):
            self.insert1(key)

    Local.insert1((1,))
    with pytest.raises(DataJointError, match="inside a function"):
        Doubled.populate(processes=2)
    assert len(Doubled) == 0 and len(Doubled.jobs) == 0


FAILS = """
import pipejoint as dj
schema = dj.Schema(SCHEMA_NAME)

@schema
class Item(dj.Manual):
    definition = "item : int32"

@schema
class Fails(dj.Computed):
    definition = "-> Item"

    def make(self, key):
        if key["item"] == 3:
            raise ValueError("item 3 is broken")
        self.insert1(key)
"""


def test_worker_errors_are_reported(tmp_path, settings, connection):
    """A worker's error reaches the parent as one process would give it: raised, or listed."""
    with pipeline(tmp_path, settings, connection, FAILS) as m:
        m.Item.insert([(i,) for i in range(5)])
        with pytest.raises(ValueError, match="item 3 is broken"):  # as in one process
            m.Fails.populate(processes=2)
        assert len(m.Fails.jobs) == 0  # without reserve_jobs, the jobs table is not written
        with dj.config.override(jobs__max_retries=0):
            result = m.Fails.populate(processes=2, suppress_errors=True)
            assert result["error_list"] == [({"item": 3}, "ValueError: item 3 is broken")]
            assert len(m.Fails) == 4  # (some were made before the first call stopped)
            [(key, error)] = m.Fails.populate(processes=2, suppress_errors=True, return_exception_objects=True)[
                "error_list"
            ]
            assert key == {"item": 3} and isinstance(error, ValueError) and str(error) == "item 3 is broken"

            # with reserve_jobs, the failed job is recorded, and then left alone
            with pytest.raises(ValueError, match="item 3 is broken"):
                m.Fails.populate(processes=2, reserve_jobs=True)
            assert m.Fails.jobs.errors.fetch1("item") == 3
            assert m.Fails.jobs.errors.fetch1("error_message") == "ValueError: item 3 is broken"
            assert m.Fails.populate(processes=2, reserve_jobs=True, suppress_errors=True) == {
                "success_count": 0,
                "error_list": [],
            }
            m.Fails.jobs.errors.delete()
            result = m.Fails.populate(processes=2, reserve_jobs=True, suppress_errors=True)
        assert result["error_list"] == [({"item": 3}, "ValueError: item 3 is broken")]
        assert len(m.Fails.jobs.errors) == 1


def test_a_worker_error_that_cannot_travel_arrives_as_its_text(tmp_path, settings, connection):
    text = FAILS.replace('raise ValueError("item 3 is broken")', 'raise ValueError("item 3 is broken", lambda: 0)')
    with pipeline(tmp_path, settings, connection, text) as m:
        m.Item.insert([(i,) for i in range(5)])
        with dj.config.override(jobs__max_retries=0):
            with pytest.raises(DataJointError, match="ValueError: .*item 3 is broken"):  # not a pickling error
                m.Fails.populate(processes=2)
            [(key, error)] = m.Fails.populate(processes=2, suppress_errors=True, return_exception_objects=True)[
                "error_list"
            ]
        assert key == {"item": 3} and isinstance(error, DataJointError) and "item 3 is broken" in str(error)


def test_processes_without_reserve_jobs_make_keys_whatever_their_jobs_say(tmp_path, settings, connection):
    """DataJoint's direct mode: populate(processes=N) without reserve_jobs makes every key still
    missing, even those whose job row says error or ignore (left by an earlier reserve_jobs run),
    and leaves the jobs table as it was."""
    with pipeline(tmp_path, settings, connection) as m:
        m.Item.insert([(i,) for i in range(8)])
        m.Busy.jobs.refresh()
        m.Busy.jobs.ignore({"item": 0})
        assert m.Busy.jobs.reserve({"item": 1})
        m.Busy.jobs.error({"item": 1}, "failed yesterday")
        before = sorted(m.Busy.jobs.fetch("item", "status", "error_message", as_dict=True), key=lambda r: r["item"])
        result = m.Busy.populate(processes=2)
        assert result == {"success_count": 8, "error_list": []}
        assert sorted(m.Busy.fetch("item").tolist()) == list(range(8))
        assert sorted(m.Computes.fetch("item").tolist()) == list(range(8))  # each key made once
        after = sorted(m.Busy.jobs.fetch("item", "status", "error_message", as_dict=True), key=lambda r: r["item"])
        assert after == before
        # with reserve_jobs, the workers honour the jobs table: ignored and failed keys wait
        (m.Busy & "item < 4").delete()
        result = m.Busy.populate(processes=2, reserve_jobs=True)
        assert result == {"success_count": 2, "error_list": []}
        assert sorted(m.Busy.fetch("item").tolist()) == [2, 3, 4, 5, 6, 7]


def test_processes_without_reserve_jobs_honour_order_and_max_calls(tmp_path, settings, connection):
    with pipeline(tmp_path, settings, connection) as m:
        m.Item.insert([(i,) for i in range(10)])
        assert m.Busy.populate(processes=2, max_calls=3, order="reverse")["success_count"] == 3
        assert sorted(m.Busy.fetch("item").tolist()) == [7, 8, 9]
        assert m.Busy.populate(processes=3, keys=[{"item": 0}, {"item": 5}])["success_count"] == 2
        assert m.Busy.populate(processes=4)["success_count"] == 5
        assert sorted(m.Computes.fetch("item").tolist()) == list(range(10))


def _cli(args, settings, cwd):
    env = {**os.environ, **environment_for(settings)}
    return subprocess.run(
        [sys.executable, "-m", "pipejoint.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_populate_and_worker(tmp_path, settings, connection):
    with pipeline(tmp_path, settings, connection) as m:
        m.Item.insert([(i,) for i in range(6)])
        done = _cli(["populate", f"{m.__file__}.Square", "--reserve-jobs"], settings, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Square: 6 made, 0 failed" in done.stdout
        assert len(m.Square) == 6 and len(m.Busy) == 0
        m.Item.insert([(i,) for i in range(6, 9)])
        done = _cli(["worker", m.__file__], settings, tmp_path)
        assert done.returncode == 0, done.stderr
        assert len(m.Square) == 9 and len(m.Busy) == 9
        assert "12 keys made" in done.stdout
        missing = _cli(["populate", str(tmp_path / "nowhere.py")], settings, tmp_path)
        assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_workers_get_the_database_file_by_absolute_path_and_refuse_memory(tmp_path, monkeypatch):
    from pipejoint.populate.workers import _connection_settings

    monkeypatch.chdir(tmp_path)
    on_file = dj.Connection(backend="sqlite", database_name="relative.db")
    assert _connection_settings(on_file)["database.name"] == str(tmp_path / "relative.db")
    in_memory = dj.Connection(backend="sqlite", database_name=":memory:")
    with pytest.raises(DataJointError, match="in-memory SQLite"):
        _connection_settings(in_memory)
    on_file.close()
    in_memory.close()
