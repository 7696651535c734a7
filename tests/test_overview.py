"""schema.overview() and schema.latest_errors(): what the dashboard and the MCP server show of a
pipeline, read from the catalog and the job queues without changing anything."""

from __future__ import annotations

import pytest

import pipejoint as dj
from helpers import schema_state


def _pipeline(schema):
    @schema
    class Animal(dj.Manual):
        definition = """
        # animals in the study
        animal : int32
        """

    @schema
    class Scan(dj.Computed):
        definition = """
        # one scan per animal
        -> Animal
        ---
        value : float64
        """

        class Frame(dj.Part):
            definition = """
            -> master
            frame : int16
            """

        def make(self, key):
            if key["animal"] == 3:
                raise ValueError(f"no scan file for animal {key['animal']}")
            self.insert1({**key, "value": 1.0})
            self.Frame.insert1({**key, "frame": 0})

    Animal.insert([(1,), (2,), (3,), (4,)])
    return Animal, Scan


def test_overview_lists_tables_rows_and_progress(make_schema):
    schema = make_schema()
    Animal, Scan = _pipeline(schema)
    Scan.populate(Animal & "animal < 4", reserve_jobs=True, suppress_errors=True)

    overview = schema.overview()
    assert [t.name for t in overview.tables] == ["Animal", "Scan", "Scan.Frame"]
    animal, scan, frame = overview.tables
    assert (animal.tier, animal.rows, animal.comment, animal.progress) == ("manual", 4, "animals in the study", None)
    assert (scan.tier, scan.rows, scan.comment) == ("computed", 2, "one scan per animal")
    assert scan.progress.as_dict() == {"total": 4, "made": 2, "pending": 1, "reserved": 0, "errors": 1, "ignored": 0}
    assert scan.progress.remaining == 2 and scan.progress.fraction == 0.5
    assert (frame.tier, frame.rows, frame.progress) == ("part", 2, None)
    assert overview.table("Scan.Frame") is frame and overview.table(Scan.table_name) is scan
    assert len(overview.classes["Scan"] & "animal = 1") == 1


def test_overview_reads_without_creating_job_queues(make_schema, connection):
    schema = make_schema()
    _, Scan = _pipeline(schema)
    Scan.populate(suppress_errors=True)  # no reserve_jobs: no queue exists
    before = schema_state(connection, schema.database)
    overview = schema.overview()
    # animal 3 failed with no queue to record it: it is simply left to make, pending
    expected = {"total": 4, "made": 3, "pending": 1, "reserved": 0, "errors": 0, "ignored": 0}
    assert overview.table("Scan").progress.as_dict() == expected
    assert schema.latest_errors() == []
    assert schema_state(connection, schema.database) == before


def test_latest_errors_give_message_key_and_traceback(make_schema):
    schema = make_schema()
    Animal, Scan = _pipeline(schema)
    Scan.populate(reserve_jobs=True, suppress_errors=True)
    errors = schema.latest_errors()
    assert len(errors) == 1
    error = errors[0]
    assert (error.table, error.key) == ("Scan", {"animal": 3})
    assert error.message == "ValueError: no scan file for animal 3"
    assert "Traceback" in error.stack and "no scan file" in error.stack
    assert error.time is not None and error.pid
    assert schema.latest_errors("Scan", limit=5) == errors
    with pytest.raises(dj.DataJointError, match="has no table `Nope`"):
        schema.latest_errors("Nope")
    with pytest.raises(dj.DataJointError, match="Its tables: Animal, Scan, Scan.Frame"):
        schema.overview().table("Nope")
