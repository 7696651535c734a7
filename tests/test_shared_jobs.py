"""One job queue for DataJoint 2.3.5 and pipejoint: workers of both populate one table at once.

Each worker is a separate process running the same pipeline module, imported with `import
datajoint as dj` in one and `import pipejoint as dj` in the other, as a lab mid-migration would
run them. Both reserve through DataJoint's `~~<table>` queue; every key is made exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

import pipejoint as dj
from helpers import connect, drop_schema, unique_name
from interop import require_server_catalog

PIPELINE = """
import os, sys, time, warnings
warnings.simplefilter("ignore")
CLIENT = sys.argv[1]
if CLIENT == "datajoint":
    import datajoint as dj
else:
    import pipejoint as dj
for key, value in SETTINGS.items():
    dj.config[key] = value
schema = dj.Schema(SCHEMA)


@schema
class Item(dj.Manual):
    definition = '''
    item : int32
    '''


@schema
class Made(dj.Manual):
    definition = '''
    call : varchar(64)
    ---
    item : int32
    client : varchar(16)
    '''


@schema
class Slow(dj.Computed):
    definition = '''
    -> Item
    ---
    square : int64
    '''

    def make(self, key):
        Made.insert1(dict(call=f"{CLIENT}-{os.getpid()}-{key['item']}-{time.time()}", item=key["item"], client=CLIENT))
        time.sleep(float(os.environ.get("MAKE_SECONDS", "0.05")))
        self.insert1(dict(key, square=key["item"] ** 2))


if __name__ == "__main__":
    go = sys.argv[2]
    open(go + ".ready-" + CLIENT, "w").close()
    while not os.path.exists(go):
        time.sleep(0.005)
    print(Slow.populate(reserve_jobs=True))
"""


def _config(settings):
    config = {
        "database.backend": settings["backend"],
        "database.host": settings["host"],
        "database.port": settings["port"],
        "database.user": settings["user"],
        "database.password": settings.get("password") or "",
    }
    if settings.get("database_name"):
        config["database.name"] = settings["database_name"]
    return config


@pytest.fixture
def shared_pipeline(tmp_path, settings, connection):
    require_server_catalog(connection)
    name = unique_name("q")
    path = tmp_path / "pipeline.py"
    path.write_text(f"SETTINGS = {_config(settings)!r}\nSCHEMA = {name!r}\n" + textwrap.dedent(PIPELINE))
    yield path, name
    drop_schema(connection, name)


def _run_both(path, tmp_path, **env):
    go = tmp_path / "go"
    environment = {**os.environ, **{k: str(v) for k, v in env.items()}}
    workers = {
        client: subprocess.Popen(
            [sys.executable, str(path), client, str(go)],
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for client in ("datajoint", "pipejoint")
    }
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("go.ready-*"))) < 2:
        for worker in workers.values():
            assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the workers never got ready"
        time.sleep(0.02)
    go.touch()
    outputs = {client: worker.communicate(timeout=300) for client, worker in workers.items()}
    for client, worker in workers.items():
        assert worker.returncode == 0, (client, outputs[client])
    return outputs


def _client(path, tmp_path, client, code, wait=True):
    """Run `code` in a fresh process with the pipeline module loaded by `client` (its names in `ns`)."""
    script = f"import runpy, sys\nsys.argv = ['x', {client!r}, '']\nns = runpy.run_path({str(path)!r})\n" + code
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if not wait:
        return process
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def _wait_for_line(process, expected):
    """Read the process's output until it prints `expected` (its other lines are DataJoint's log)."""
    for line in process.stdout:
        if line.strip() == expected:
            return
    process.wait()
    raise AssertionError(f"the worker stopped before printing {expected!r}: {process.stderr.read()}")


def test_datajoint_and_pipejoint_workers_share_one_queue(shared_pipeline, tmp_path, connection):
    path, name = shared_pipeline
    # pipejoint declares the pipeline and its queue, which DataJoint then uses as its own. (Two
    # DataJoint workers that both find no queue race to create it, and on PostgreSQL the loser fails.)
    _client(path, tmp_path, "pipejoint", "ns['Item'].insert([(i,) for i in range(40)])\nns['Slow'].jobs")
    _run_both(path, tmp_path)
    made = dj.FreeTable(connection, f"{name}.made").fetch(as_dict=True)
    assert sorted(r["item"] for r in made) == list(range(40))  # every key made, each exactly once
    assert {r["client"] for r in made} == {"datajoint", "pipejoint"}  # by both workers
    assert len(dj.FreeTable(connection, f"{name}.__slow")) == 40
    table = connection.backend.full_table_name(name, "~~slow")
    assert connection.query(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0  # no job left behind


def test_pipejoint_shares_jobs_with_a_datajoint_worker(shared_pipeline, tmp_path, connection):
    """A queue DataJoint declared, filled and reserved from: pipejoint sees its jobs and respects the
    reservation of its live session; DataJoint sees the errors and ignores pipejoint records; and when
    DataJoint's worker dies, its session is gone and pipejoint makes its job at once."""
    path, name = shared_pipeline
    worker = _client(
        path,
        tmp_path,
        "datajoint",
        "import time\nns['Item'].insert([(i,) for i in range(4)])\nns['Slow'].jobs.refresh()\n"
        "assert ns['Slow'].jobs.reserve({'item': 0})\nprint('reserved', flush=True)\ntime.sleep(600)\n",
        wait=False,
    )
    try:
        _wait_for_line(worker, "reserved")
        ours = dj.VirtualModule("shared", name, connection=connection).Slow
        progress = ours.jobs.progress()
        assert progress == {"pending": 3, "reserved": 1, "success": 0, "error": 0, "ignore": 0, "total": 4}
        assert ours.jobs.refresh()["orphaned"] == 0  # a live session's reservation stays
        assert not ours.jobs.reserve({"item": 0})
        assert ours.jobs.reserve({"item": 1})
        ours.jobs.error({"item": 1}, "ValueError: bad \udcff byte", "Traceback ...")
        ours.jobs.ignore({"item": 2})
        seen = _client(
            path,
            tmp_path,
            "datajoint",
            "e = (ns['Slow'].jobs.errors & {'item': 1}).fetch1()\n"
            "print(repr((e['error_message'], e['error_stack'], len(ns['Slow'].jobs.ignored))))",
        )
        assert seen.strip().splitlines()[-1] == repr(("ValueError: bad \\udcff byte", "Traceback ...", 1))
    finally:
        worker.kill()
        worker.wait()
    assert ours.jobs.refresh()["orphaned"] == 1  # the killed worker's session is gone: its job is pending again
    made = _client(path, tmp_path, "pipejoint", "print(ns['Slow'].populate({'item': 0}, reserve_jobs=True))")
    assert "'success_count': 1" in made
    assert dj.FreeTable(connection, f"{name}.__slow").fetch("item").tolist() == [0]


# --- DataJoint 0.14: one schema-wide ~jobs table, a row per reserved, failed or ignored job ---------

PIPELINE_014 = (
    PIPELINE.replace(
        'if CLIENT == "datajoint":\n    import datajoint as dj',
        'if CLIENT == "datajoint":\n    import datajoint as dj\n    dj.config["safemode"] = False\n'
        '    dj.config["database.use_tls"] = False',
    )
    .replace("    square : int64\n", "    square : bigint\n")
    .replace("    item : int32\n", "    item : int\n")
)


def test_datajoint014_and_pipejoint_workers_share_its_jobs_table(tmp_path, settings, connection):
    """A schema DataJoint 0.14.6 made: a 0.14 worker and a pipejoint worker populate one table at
    once through 0.14's `~jobs`; every key is made exactly once, by both, and no reservation is left."""
    if connection.backend.name != "mysql":
        pytest.skip("DataJoint 0.14 runs on MySQL/MariaDB only")
    from helpers import datajoint014_python

    python = datajoint014_python()
    name = unique_name("q14")
    path = tmp_path / "pipeline.py"
    text = textwrap.dedent(PIPELINE_014)
    path.write_text(
        f"SETTINGS = {_config(settings)!r}\nSCHEMA = {name!r}\n" + text.replace("varchar(16)", "varchar(16)")
    )
    go = tmp_path / "go"
    try:
        declare = (  # 0.14 makes the schema, its tables and ~log; the keys to make
            f"import runpy, sys\nsys.argv = ['x', 'datajoint', '']\nns = runpy.run_path({str(path)!r})\n"
            "ns['Item'].insert([(i,) for i in range(30)])\n"
        )
        subprocess.run([python, "-c", declare], check=True, cwd=tmp_path, capture_output=True)
        environment = {**os.environ, "MAKE_SECONDS": "0.05"}
        workers = {
            "datajoint": subprocess.Popen([python, str(path), "datajoint", str(go)], cwd=tmp_path, env=environment,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
            "pipejoint": subprocess.Popen([sys.executable, str(path), "pipejoint", str(go)], cwd=tmp_path,
                                          env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        }  # fmt: skip
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("go.ready-*"))) < 2:
            for worker in workers.values():
                assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the workers never got ready"
            time.sleep(0.02)
        go.touch()
        for client, worker in workers.items():
            out, err = worker.communicate(timeout=300)
            assert worker.returncode == 0, (client, out, err)
        made = dj.FreeTable(connection, f"{name}.made").fetch(as_dict=True)
        assert sorted(r["item"] for r in made) == list(range(30))  # every key once
        assert {r["client"] for r in made} == {"datajoint", "pipejoint"}  # by both
        tables = connection.backend.list_tables(connection, name)
        assert "~jobs" in tables and not [t for t in tables if t.startswith("~~")]  # 0.14's table only
        jobs = connection.backend.full_table_name(name, "~jobs")
        assert connection.query(f"SELECT COUNT(*) FROM {jobs}").fetchone()[0] == 0
        # a worker that dies holding a 0.14 reservation: its session is gone, the next populate frees it
        dj.FreeTable(connection, f"{name}.item").insert1((30,))
        other = connect(settings)
        holder = dj.VirtualModule("v14", name, connection=other).Slow.jobs.take({"item": 30})
        assert holder is not None and holder.connection_id == other.connection_id
        other.close()
        again = subprocess.run([sys.executable, str(path), "pipejoint", str(go)], cwd=tmp_path, capture_output=True,
                               text=True, timeout=120)  # fmt: skip
        assert "'success_count': 1" in again.stdout, again.stderr
        assert connection.query(f"SELECT COUNT(*) FROM {jobs}").fetchone()[0] == 0
    finally:
        drop_schema(connection, name)
