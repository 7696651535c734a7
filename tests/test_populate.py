"""populate() in one process: the three make forms, atomic keys, errors, key_source, schema.populate()."""

import datetime
import os
import socket
import subprocess

import numpy as np
import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError, TransactionError


def _pipeline(schema, make_style="plain", fail_on=None):
    """Source(id) -> Result(total) with Result.Item parts, made in the requested style."""

    @schema
    class Source(dj.Manual):
        definition = """
        source_id : int32
        ---
        values : <blob>
        """

    class Result(dj.Computed):
        definition = """
        -> Source
        ---
        total : float64
        """

        class Item(dj.Part):
            definition = """
            -> master
            item : int16
            ---
            value : float64
            """

        def _store(self, key, values):
            self.insert1(dict(key, total=float(np.sum(values))))
            self.Item.insert(dict(key, item=i, value=float(v)) for i, v in enumerate(values))
            if fail_on is not None and key["source_id"] == fail_on:
                raise ValueError(f"bad source {key['source_id']}")

    if make_style == "plain":

        def make(self, key):
            values = (Source & key).fetch1("values")
            self._store(key, values)
    elif make_style == "generator":

        def make(self, key):
            values = (Source & key).fetch1("values")
            computed = yield values
            if computed is None:
                computed = values * 1.0
                yield computed
            self._store(key, computed)
            yield

    if make_style == "tripartite":

        def make_fetch(self, key):
            return ((Source & key).fetch1("values"),)

        def make_compute(self, key, values):
            return (values * 1.0,)

        def make_insert(self, key, values):
            self._store(key, values)

        Result.make_fetch, Result.make_compute, Result.make_insert = make_fetch, make_compute, make_insert
    else:
        Result.make = make
    schema(Result)
    Source.insert([dict(source_id=i, values=np.arange(i + 2, dtype=float)) for i in range(4)])
    return Source, Result


@pytest.mark.parametrize("style", ["plain", "generator", "tripartite"])
def test_make_forms(schema, style):
    Source, Result = _pipeline(schema, style)
    assert Result.progress() == (4, 4)
    result = Result.populate()
    assert result == {"success_count": 4, "error_list": []}
    assert len(Result) == 4 and len(Result.Item) == sum(i + 2 for i in range(4))
    assert (Result & {"source_id": 2}).fetch1("total") == float(sum(range(4)))
    assert Result.populate()["success_count"] == 0  # nothing left
    assert Result.progress() == (0, 4)


@pytest.mark.parametrize("style", ["plain", "generator", "tripartite"])
def test_failing_make_leaves_nothing(schema, style):
    Source, Result = _pipeline(schema, style, fail_on=1)
    with pytest.raises(ValueError, match="bad source 1"):
        Result.populate()
    assert not (Result & {"source_id": 1}) and not (Result.Item & {"source_id": 1})
    assert len(Result) == 1  # key 0 was made before the failure, in its own transaction


def test_suppress_errors_collects_and_goes_on(schema):
    Source, Result = _pipeline(schema, fail_on=2)
    result = Result.populate(suppress_errors=True)
    assert result["success_count"] == 3
    [(key, message)] = result["error_list"]
    assert key == {"source_id": 2} and message == "ValueError: bad source 2"
    assert not (Result.Item & key)
    objects = Result.populate(suppress_errors=True, return_exception_objects=True)["error_list"]
    assert isinstance(objects[0][1], ValueError)


def test_changed_inputs_abort_tripartite_key(schema):
    Source, Result = _pipeline(schema, "tripartite")
    original = Result.make_compute

    def compute_and_change(self, key, values):
        (Source & key).delete_quick()
        Source.insert1(dict(key, values=np.arange(9.0)))
        return original(self, key, values)

    Result.make_compute = compute_and_change
    with pytest.raises(DataJointError, match="changed"):
        Result.populate({"source_id": 0})
    assert not Result and not Result.Item


def test_restrictions_limits_and_order(schema):
    Source, Result = _pipeline(schema)
    assert Result.populate({"source_id": 3})["success_count"] == 1
    assert Result.populate("source_id < 2", max_calls=1)["success_count"] == 1
    assert sorted(Result.fetch("source_id").tolist()) == [0, 3]
    assert Result.populate(order="reverse", limit=1)["success_count"] == 1
    assert sorted(Result.fetch("source_id").tolist()) == [0, 2, 3]
    assert Result.populate(order="random", display_progress=True)["success_count"] == 1
    with pytest.raises(DataJointError, match="'original', 'reverse' or 'random'"):
        Result.populate(order="sideways")


def test_populate_refusals(schema, connection):
    Source, Result = _pipeline(schema)
    with pytest.raises(DataJointError, match="insert directly"):
        Result.insert1(dict(source_id=0, total=1.0))
    Result.insert1(dict(source_id=0, total=1.0), allow_direct_insert=True)
    with pytest.raises(DataJointError, match="restrictions as arguments"):
        (Result & {"source_id": 1}).populate()
    with connection.transaction:
        with pytest.raises((DataJointError, TransactionError), match="inside a transaction"):
            Result.populate()
    with pytest.raises(DataJointError, match="processes"):
        Result.populate(processes=0)
    assert len(Result) == 1


def test_key_source_renamed_and_extra_key(schema):
    @schema
    class Cell(dj.Manual):
        definition = """
        cell : int16
        """

    @schema
    class Pair(dj.Computed):
        definition = """
        -> Cell
        -> Cell.proj(other='cell')
        trial : int16          # a key attribute of its own (legacy pattern)
        ---
        distance : int32
        """

        def make(self, key):
            for trial in range(2):
                self.insert1(dict(key, trial=trial, distance=abs(key["cell"] - key["other"])))

    Cell.insert([(1,), (2,), (3,)])
    assert set(Pair.key_source.heading.names) == {"cell", "other"}
    assert Pair.populate({"cell": 1}, reserve_jobs=True)["success_count"] == 3
    assert Pair.populate()["success_count"] == 6
    assert len(Pair) == 18
    assert Pair.progress() == (0, 9)


def test_key_source_override(schema):
    Source, _ = _pipeline(schema)

    @schema
    class Even(dj.Computed):
        definition = """
        -> Source
        """

        @property
        def key_source(self):
            return Source & "source_id % 2 = 0"

        def make(self, key):
            self.insert1(key)

    assert Even.populate()["success_count"] == 2
    assert sorted(Even.fetch("source_id").tolist()) == [0, 2]


def test_schema_populate_in_dependency_order(schema):
    Source, Result = _pipeline(schema)

    @schema
    class Summary(dj.Computed):
        definition = """
        -> Result
        ---
        n_items : int32
        """

        def make(self, key):
            self.insert1(dict(key, n_items=len(Result.Item & key)))

    results = schema.populate(display_progress=False)
    assert list(results) == ["Result", "Summary"]
    assert results["Summary"]["success_count"] == 4
    assert (Summary & {"source_id": 3}).fetch1("n_items") == 5


def test_retry_in_process(schema):
    Source, Result = _pipeline(schema)
    calls = []
    plain = Result.make

    def flaky(self, key):
        calls.append(key["source_id"])
        if calls.count(key["source_id"]) == 1:
            raise RuntimeError("transient trouble")
        plain(self, key)

    Result.make = flaky
    with dj.config.override(jobs__max_retries=1, jobs__retry_backoff=0.01):
        assert Result.populate({"source_id": 1})["success_count"] == 1
    with dj.config.override(jobs__max_retries=0):
        result = Result.populate({"source_id": 2}, suppress_errors=True)
    assert result["success_count"] == 0 and "transient trouble" in result["error_list"][0][1]


def _git_head(path):
    done = subprocess.run(["git", "-C", os.path.dirname(path), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def test_run_metadata(make_schema):
    schema = make_schema()
    with dj.config.override(jobs__add_job_metadata=True):
        Source, Result = _pipeline(schema)

        @schema
        class Pairs(dj.Computed):
            definition = """
            -> Source
            trial : int16          # a key attribute of its own: make() inserts several rows per key
            ---
            n : int32
            """

            def make(self, key):
                self.insert([dict(key, trial=t, n=t) for t in range(3)])

    @schema
    class Plain(dj.Computed):  # declared with the switch off: no metadata
        definition = """
        -> Source
        """

        def make(self, key):
            self.insert1(key)

    names = ["_job_start_time", "_job_duration", "_job_host", "_job_version"]
    assert all(n in Result.heading and n not in Result.heading.names for n in names)  # declared, hidden
    assert "_job_start_time" not in Result.Item.heading and "_job_start_time" not in Plain.heading
    before = datetime.datetime.now() - datetime.timedelta(seconds=1)
    assert Result.populate({"source_id": 1})["success_count"] == 1
    assert Result.populate(reserve_jobs=True)["success_count"] == 3  # the jobs path fills them too
    Pairs.populate()
    Plain.populate()
    after = datetime.datetime.now() + datetime.timedelta(seconds=1)

    # not returned unless named
    assert set(Result.fetch(as_dict=True)[0]) == {"source_id", "total"}
    assert set(Result.to_dicts()[0]) == {"source_id", "total"}
    assert list(Result.to_pandas().columns) == ["total"]
    assert Result.fetch().dtype.names == ("source_id", "total")
    # named: fetch, fetch1, proj (also renamed, and restricted once shown)
    rows = Result.fetch("KEY", "_job_start_time", "_job_duration", "_job_host", "_job_version", as_dict=True)
    assert len(rows) == 4 and all(before <= r["_job_start_time"] <= after for r in rows)
    assert all(0 <= r["_job_duration"] < 60 for r in rows)
    assert {r["_job_host"] for r in rows} == {socket.gethostname()}
    head = _git_head(__file__)
    versions = {r["_job_version"] for r in rows}
    assert versions == {""} if head is None else {v.split("+")[0] for v in versions} == {head}
    assert (Result & {"source_id": 2}).fetch1("_job_host") == socket.gethostname()
    total, host = (Result & {"source_id": 2}).fetch1("total", "_job_host")
    assert total == 6.0 and host == socket.gethostname()
    assert len(Result.fetch("_job_duration")) == 4
    durations, totals = Result.to_arrays("_job_duration", "total", order_by="source_id")
    assert len(durations) == 4 and durations.dtype == np.float64 and list(totals) == sorted(totals)
    keys, hosts = Result.to_arrays("_job_host", include_key=True)
    assert len(keys) == 4 and set(hosts) == {socket.gethostname()}
    shown = Result.proj("total", "_job_duration")
    assert shown.heading.names == ["source_id", "total", "_job_duration"]
    assert len(shown & "_job_duration >= 0") == 4
    assert set(Result.proj(took="_job_duration").to_dicts()[0]) == {"source_id", "took"}
    assert Result.job_metadata({"source_id": 3})[0]["_job_host"] == socket.gethostname()
    # every row made for a key, also when the table adds key attributes of its own
    assert len(Pairs) == 12 and all(r["_job_start_time"] is not None for r in Pairs.job_metadata())
    # rows inserted outside populate have none; a table declared without the switch has no attributes
    Source.insert1(dict(source_id=9, values=np.arange(2.0)))
    Result.insert1(dict(source_id=9, total=1.0), allow_direct_insert=True)
    assert (Result & {"source_id": 9}).fetch1("_job_start_time") is None
    with pytest.raises(DataJointError, match="add_job_metadata"):
        Plain.job_metadata()
    with pytest.raises(DataJointError, match="_job_duration"):
        Plain.fetch("_job_duration")


def test_new_primary_key_attributes_with_datajoint_2s_flag(schema):
    """DataJoint 2.x code turns `jobs.allow_new_pk_fields_in_computed_tables` on before declaring
    a Computed table whose key adds attributes; the flag is accepted and the table populates."""

    @schema
    class Trial(dj.Manual):
        definition = "trial : int32"

    with dj.config.override(jobs={"allow_new_pk_fields_in_computed_tables": True}):
        dj.config.jobs.allow_new_pk_fields_in_computed_tables = True

        @schema
        class Sample(dj.Computed):
            definition = """
            -> Trial
            sample : int16
            ---
            value : float64
            """

            def make(self, key):
                self.insert(dict(key, sample=s, value=key["trial"] * 10.0 + s) for s in range(3))

    assert dj.config.jobs.allow_new_pk_fields_in_computed_tables is False  # restored
    Trial.insert([(1,), (2,)])
    Sample.populate()
    assert Sample().primary_key == ["trial", "sample"]
    assert len(Sample()) == 6 and (Sample & "trial = 2 and sample = 1").fetch1("value") == 21.0
