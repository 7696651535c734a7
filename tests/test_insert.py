"""insert/insert1: every accepted row form, the options, validation before SQL, atomicity."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import pipejoint as dj
from helpers import environment_for
from pipejoint.errors import (
    DataJointError,
    DuplicateError,
    InvalidValueError,
    MissingAttributeError,
    UnknownAttributeError,
)


def _subject(schema):
    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : int32
        ---
        name : varchar(8)
        weight = null : float64
        sex = "U" : enum('F', 'M', 'U')
        """

    return Subject


def test_every_row_form(schema):
    Subject = _subject(schema)
    Subject.insert1({"subject_id": 1, "name": "a"})
    Subject.insert1((2, "b", 2.5, "F"))
    Subject.insert([[3, "c", None, "M"]])
    Subject.insert(
        np.array([(4, "d", 4.0, "F")], dtype=[("subject_id", int), ("name", "U8"), ("weight", float), ("sex", "U1")])
    )
    frame = pd.DataFrame({"subject_id": [5, 6], "name": ["e", "f"], "weight": [5.0, 6.0]}).set_index("subject_id")
    Subject.insert(frame)
    Subject.insert({"subject_id": i, "name": "g"} for i in range(7, 9))
    polars = pytest.importorskip("polars", reason="polars is not installed: pip install polars")
    Subject.insert(polars.DataFrame({"subject_id": [9], "name": ["h"]}))
    pyarrow = pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install pyarrow")
    Subject.insert(pyarrow.table({"subject_id": [10], "name": ["i"]}))
    assert Subject.fetch("subject_id").tolist() == list(range(1, 11))
    assert (Subject & {"subject_id": 2}).fetch1() == {"subject_id": 2, "name": "b", "weight": 2.5, "sex": "F"}
    assert (Subject & {"subject_id": 1}).fetch1("sex") == "U"


def test_insert_from_query_runs_on_server(schema):
    Subject = _subject(schema)

    @schema
    class Copy(dj.Manual):
        definition = """
        subject_id : int32
        ---
        name : varchar(8)
        """

    Subject.insert([{"subject_id": i, "name": str(i)} for i in range(5)])
    Copy.insert(Subject.proj("name") & "subject_id > 1")
    assert sorted(Copy.fetch("subject_id").tolist()) == [2, 3, 4]
    with pytest.raises(UnknownAttributeError, match="weight"):
        Copy.insert(Subject.proj("name", "weight"))
    Copy.insert(Subject.proj("name", "weight"), ignore_extra_fields=True, skip_duplicates=True)
    assert len(Copy) == 5


def test_duplicates_skip_replace(schema):
    Subject = _subject(schema)
    Subject.insert1({"subject_id": 1, "name": "a"})
    with pytest.raises(DuplicateError, match=r"'subject_id': 1"):
        Subject.insert([{"subject_id": 2, "name": "b"}, {"subject_id": 1, "name": "x"}])
    with pytest.raises(DuplicateError, match=r"rows 0 and 1 have the same primary key"):
        Subject.insert([{"subject_id": 7, "name": "b"}, {"subject_id": 7, "name": "x"}])
    assert len(Subject) == 1
    Subject.insert([{"subject_id": 1, "name": "x"}, {"subject_id": 2, "name": "b"}], skip_duplicates=True)
    assert (Subject & {"subject_id": 1}).fetch1("name") == "a"
    Subject.insert1({"subject_id": 1, "name": "z", "weight": 3.0}, replace=True)
    assert (Subject & {"subject_id": 1}).fetch1("name", "weight") == ("z", 3.0)


def test_validation_names_table_attribute_row(schema):
    Subject = _subject(schema)
    rows = [{"subject_id": i, "name": "ok"} for i in range(3)]
    cases = [
        ({"subject_id": 3}, MissingAttributeError, r"row 3, attribute `name`"),
        ({"subject_id": 3, "name": "x", "age": 4}, UnknownAttributeError, r"row 3: `age` is not an attribute"),
        (
            {"subject_id": "three", "name": "x"},
            InvalidValueError,
            r"row 3, attribute `subject_id`: expected an integer",
        ),
        ({"subject_id": 3, "name": "x" * 9}, InvalidValueError, r"row 3, attribute `name`: string of length 9"),
        ({"subject_id": 3, "name": "x", "sex": "Q"}, InvalidValueError, r"row 3, attribute `sex`: 'Q' is not one of"),
        ({"subject_id": 3, "name": None}, MissingAttributeError, r"row 3, attribute `name`"),
        ({"subject_id": 2**40, "name": "x"}, InvalidValueError, r"row 3, attribute `subject_id`.*outside the range"),
    ]
    for bad, error, message in cases:
        with pytest.raises(error, match=message) as info:
            Subject.insert(rows + [bad])
        assert Subject.node_name.split(".")[-1] in str(info.value)
        assert len(Subject) == 0
    Subject.insert(rows + [{"subject_id": 3, "name": "x", "age": 4}], ignore_extra_fields=True)
    assert len(Subject) == 4
    with pytest.raises(DataJointError, match="insert1"):
        Subject.insert("abc")


def test_large_insert_failing_on_last_row_stores_nothing(schema):
    Subject = _subject(schema)
    rows = [{"subject_id": i, "name": "n"} for i in range(100_000)]
    rows[-1] = {"subject_id": 0, "name": "dup"}  # passes validation; the database refuses it
    with pytest.raises(DuplicateError):
        Subject.insert(rows)
    assert len(Subject) == 0
    rows[-1] = {"subject_id": 99_999, "name": "toolongname"}
    with pytest.raises(InvalidValueError, match="row 99999"):
        Subject.insert(rows)
    assert len(Subject) == 0


def test_rows_of_several_statements_keep_every_option(schema):
    """2,500 rows go as several statements where a backend sends many rows per INSERT (SQLite: 1,000):
    a duplicate in a later one still names its row and stores nothing; skip and replace see each row."""
    Subject = _subject(schema)
    Subject.insert1({"subject_id": 2_100, "name": "first"})
    rows = [{"subject_id": i, "name": "n"} for i in range(2_500)]
    with pytest.raises(DuplicateError, match=r"row 2100.*'subject_id': 2100"):
        Subject.insert(rows)
    assert len(Subject) == 1
    Subject.insert(rows, skip_duplicates=True)
    assert len(Subject) == 2_500 and (Subject & {"subject_id": 2_100}).fetch1("name") == "first"
    Subject.insert([{"subject_id": i, "name": "r"} for i in range(999, 1_002)] + rows[2_499:], replace=True)
    names = dict(zip(*(Subject & "subject_id in (998, 999, 1001, 1002, 2499)").fetch("subject_id", "name")))
    assert names == {998: "n", 999: "r", 1001: "r", 1002: "n", 2499: "n"}


def test_generator_is_read_in_chunks(schema):
    Subject = _subject(schema)
    taken = []

    def rows():
        for i in range(25):
            taken.append(i)
            yield {"subject_id": i, "name": "g"}
            if i == 9:
                assert len(Subject & "subject_id < 5") == 5  # the first chunk was sent already

    Subject.insert(rows(), chunk_size=5)
    assert len(Subject) == 25


def test_allow_direct_insert(schema):
    Subject = _subject(schema)

    @schema
    class Stat(dj.Computed):
        definition = """
        -> Subject
        ---
        value : float64
        """

        def make(self, key):
            self.insert1(dict(key, value=1.0))

    Subject.insert1({"subject_id": 1, "name": "a"})
    with pytest.raises(DataJointError, match="allow_direct_insert=True"):
        Stat.insert1({"subject_id": 1, "value": 2.0})
    Stat.insert1({"subject_id": 1, "value": 2.0}, allow_direct_insert=True)
    assert len(Stat) == 1


_WRITER = textwrap.dedent("""
    import sys
    import pipejoint as dj
    from pipejoint.errors import DuplicateError
    schema = dj.Schema(sys.argv[1])
    T = schema.spawn_missing_classes() or dj.VirtualModule("m", sys.argv[1]).T
    start = int(sys.argv[2])
    T.insert([{"id": i} for i in range(start, start + 2000)])
    try:
        T.insert1({"id": 0})
    except DuplicateError as error:
        print("DUP", error)
""")


def test_concurrent_inserts_from_two_processes(schema, settings, connection):
    if connection.backend.name != "sqlite":
        pytest.skip("the busy-timeout test is about SQLite files; servers handle concurrent writers themselves")

    @schema
    class T(dj.Manual):
        definition = """
        id : int32
        """

    T.insert1({"id": 0})
    env = dict(os.environ, **environment_for(settings))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, schema.database, str(start)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for start in (1, 10_001)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert "DUP" in out and "'id': 0" in out, out
    assert len(T) == 4001
