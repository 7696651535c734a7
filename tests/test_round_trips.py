"""Round trips to the database per populated key, and the guarantees kept while saving them.

A few part rows go as one INSERT on PostgreSQL (COPY takes two round trips), and a batch insert sent
as one statement on MariaDB and SQLite takes no savepoint. None of this may change what a failure
leaves behind: these tests count the round trips, then check that a failed insert caught inside
make() or a transaction leaves it usable, the database as it was before that insert, and an error
naming the row.
"""

import contextlib
import os
import tempfile

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError, DuplicateError, IntegrityError

# Round trips per key of populate(): make() = fetch1 of the parent + insert1, or insert1 of the master
# + insert of three part rows. The raw driver needs four for either (BEGIN, two statements, COMMIT);
# populate adds the "already made?" check, and on PostgreSQL the savepoint each step of make() runs
# under (the first one travels with BEGIN).
PER_KEY = {"postgresql": (5, 6), "mysql": (5, 5), "sqlite": (5, 5)}


@contextlib.contextmanager
def round_trips(connection):
    """Count what reaches the database: answers to the client (PostgreSQL's ReadyForQuery and
    CopyInResponse, from libpq's own protocol trace), statements (MySQL's Questions) or statements
    run (SQLite's trace callback). Yields a list whose one number is filled in at the end."""
    counted = []
    name = connection.backend.name
    if name == "postgresql":
        fd, path = tempfile.mkstemp()
        connection._raw.pgconn.trace(fd)
        try:
            yield counted
        finally:
            connection._raw.pgconn.untrace()
            os.close(fd)
            with open(path) as trace:
                text = trace.read()
            os.remove(path)
        counted.append(text.count("\tReadyForQuery\t") + text.count("\tCopyInResponse\t"))
    elif name == "mysql":

        def questions():
            return int(connection.query("SHOW SESSION STATUS LIKE 'Questions'").fetchone()[1])

        before = questions()
        yield counted
        counted.append(questions() - before - 1)  # (the SHOW itself)
    else:
        statements = []
        connection._raw.set_trace_callback(statements.append)
        try:
            yield counted
        finally:
            connection._raw.set_trace_callback(None)
        counted.append(len(statements))


@pytest.fixture
def pipeline(schema):
    @schema
    class Source(dj.Manual):
        definition = """
        k : int32
        ---
        x : float64
        """

    @schema
    class Result(dj.Computed):
        definition = """
        -> Source
        ---
        y : float64
        """

        def make(self, key):
            x = (Source & key).fetch1("x")
            self.insert1(dict(key, y=2 * x))

    @schema
    class Master(dj.Computed):
        definition = """
        -> Source
        ---
        n : int32
        """

        class Item(dj.Part):
            definition = """
            -> master
            i : int32
            ---
            v : float64
            """

        def make(self, key):
            self.insert1(dict(key, n=3))
            self.Item.insert([dict(key, i=i, v=i * 0.25) for i in range(3)])

    Source.insert([(k, k * 0.5) for k in range(40)])
    return Source, Result, Master


def _per_key(connection, table):
    """Round trips per key, from populating 5 and then 10 more keys (fixed costs cancel out)."""
    table.populate(max_calls=8)  # statements the driver prepares after a few uses are prepared by now
    with round_trips(connection) as five:
        table.populate(max_calls=5)
    with round_trips(connection) as ten:
        table.populate(max_calls=10)
    return (ten[0] - five[0]) / 5


def test_round_trips_per_populated_key(connection, pipeline):
    _, result, master = pipeline
    assert (_per_key(connection, result), _per_key(connection, master)) == PER_KEY[connection.backend.name]
    assert len(result) == len(master) == 23 and len(master.Item) == 69


def test_a_failed_part_insert_caught_in_make_leaves_nothing_behind(schema):
    """make() stores its master row, tries three part rows of which the last repeats a row already
    there, catches the error (which names that row), and stores other rows: the failed batch left
    none of its rows, and the rest commits, on every backend."""

    @schema
    class Source(dj.Manual):
        definition = """
        k : int32
        """

    messages = []

    @schema
    class Master(dj.Computed):
        definition = """
        -> Source
        ---
        n : int32
        """

        class Item(dj.Part):
            definition = """
            -> master
            i : int32
            ---
            v : float64
            """

        def make(self, key):
            self.insert1(dict(key, n=1))
            self.Item.insert1(dict(key, i=7, v=0.0))
            try:
                self.Item.insert([dict(key, i=1, v=1.0), dict(key, i=2, v=2.0), dict(key, i=7, v=7.0)])
            except DuplicateError as error:
                messages.append(str(error))
            self.Item.insert([dict(key, i=3, v=3.0), dict(key, i=4, v=4.0)])

    Source.insert([(1,), (2,)])
    assert Master.populate() == {"success_count": 2, "error_list": []}
    assert sorted(Master.Item.fetch("i").tolist()) == [3, 3, 4, 4, 7, 7]
    assert len(messages) == 2 and all("row 2" in m and "'i': 7" in m for m in messages)


def test_a_failed_batch_insert_caught_in_a_transaction(schema, connection):
    """Inside one transaction: a batch with a missing parent, a batch with a key already there and
    a value refused before any SQL are each caught; the transaction goes on and commits the rest."""

    @schema
    class Parent(dj.Manual):
        definition = """
        p : int32
        """

    @schema
    class Child(dj.Manual):
        definition = """
        -> Parent
        c : int32
        ---
        note = "" : varchar(32)
        """

    Parent.insert([(1,), (2,)])
    Child.insert1((1, 1, "before"))
    with connection.transaction:
        Child.insert1((2, 1, "first"))
        with pytest.raises(IntegrityError, match=r"row 1.*no row of .*has \{'p': 9\}"):
            Child.insert([(1, 2, ""), (9, 1, ""), (2, 2, "")])
        with pytest.raises(DuplicateError, match=r"row 2: the primary key \{'p': 1, 'c': 1\} is already in"):
            Child.insert([(1, 5, ""), (2, 5, ""), (1, 1, "")])
        with pytest.raises(DataJointError, match="note"):
            Child.insert([(2, 6, ""), (2, 7, "x" * 40)])  # too long: refused before any SQL
        Child.insert([(2, 3, "it's 100% ok"), (2, 4, "back\\slash")])
    rows = sorted((r["p"], r["c"], r["note"]) for r in Child.fetch(as_dict=True))
    assert rows == [(1, 1, "before"), (2, 1, "first"), (2, 3, "it's 100% ok"), (2, 4, "back\\slash")]


def test_a_failed_batch_insert_on_its_own_changes_nothing(schema, connection):
    """Outside a transaction a batch is one transaction of its own: a repeated key among the rows or
    already in the table is named, and no row of the batch stays."""
    from helpers import schema_state

    @schema
    class T(dj.Manual):
        definition = """
        k : int32
        ---
        v : float64
        """

    T.insert([(1, 1.0), (2, 2.0)])
    before = schema_state(connection, schema.database)
    with pytest.raises(DuplicateError, match=r"row 1: the primary key \{'k': 2\} is already in the table"):
        T.insert([(5, 5.0), (2, 0.0), (6, 6.0)])
    with pytest.raises(DuplicateError, match="rows 0 and 2 have the same primary key"):
        T.insert([(7, 7.0), (8, 8.0), (7, 0.0)])
    assert schema_state(connection, schema.database) == before


def test_the_first_statement_of_a_transaction_keeps_its_values(schema, connection):
    """The first statement of a transaction stores and finds exactly what was given: quotes, percent
    signs, backslashes, NULL, dates, decimals, blobs."""
    import datetime

    import numpy as np

    @schema
    class T(dj.Manual):
        definition = """
        name : varchar(40)
        ---
        day = null : date
        amount = null : decimal(6,2)
        data = null : <blob>
        """

    odd = 'it\'s 100%% \\ "odd" %s'
    with connection.transaction:
        T.insert1({"name": odd, "day": datetime.date(2024, 2, 29), "amount": "12.50"})
    with connection.transaction:
        T.insert1({"name": "blob", "data": np.arange(3)})
    with connection.transaction:
        assert (T & {"name": odd}).fetch1("day") == datetime.date(2024, 2, 29)
    assert (T & {"name": "blob"}).fetch1("data").tolist() == [0, 1, 2]
    assert sorted(T.fetch("name").tolist()) == sorted(["blob", odd])


def test_a_transaction_begun_after_the_server_dropped_the_connection(backend_connection, tmp_path, schema):
    """A connection the server dropped between transactions is restored when the next one begins:
    nothing of that transaction was lost, so it runs as usual."""
    from test_connection import kill_session

    connection, settings = backend_connection
    if settings["backend"] == "sqlite":
        pytest.skip("an embedded SQLite file cannot be disconnected by a server; the other backends cover this")

    @schema
    class T(dj.Manual):
        definition = """
        k : int32
        """

    kill_session(connection, settings, tmp_path)
    with connection.transaction:
        T.insert1((1,))
        T.insert1((2,))
    assert sorted(T.fetch("k").tolist()) == [1, 2]


def test_a_batch_sent_in_several_statements_is_taken_back_whole(schema, connection):
    """A batch the driver splits (over 1,000 rows, or over PyMySQL's statement size) still goes under a
    savepoint: when its last row repeats a key, the rows of its first statements are taken back too,
    inside a transaction that goes on."""
    from helpers import schema_state

    @schema
    class T(dj.Manual):
        definition = """
        k : int32
        ---
        note : varchar(2000)
        """

    T.insert1((0, "kept"))
    before = schema_state(connection, schema.database)
    rows = [(k, "x" * 1500) for k in range(1, 1500)] + [(0, "again")]
    with connection.transaction:
        with pytest.raises(DuplicateError, match=r"row 1499: the primary key \{'k': 0\} is already in the table"):
            T.insert(rows)
        assert len(T) == 1
    assert schema_state(connection, schema.database) == before
