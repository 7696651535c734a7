"""Inserts, updates and deletes in one transaction commit or roll back together; update1 errors."""

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError, DuplicateError, IntegrityError, UnknownAttributeError


def _table(schema):
    @schema
    class T(dj.Manual):
        definition = """
        id : int32
        ---
        value : float64
        label = null : varchar(8)
        """

    return T


def test_transaction_commits_or_rolls_back_together(schema, connection):
    T = _table(schema)
    T.insert([(i, float(i), None) for i in range(3)])
    with pytest.raises(DuplicateError):
        with connection.transaction:
            T.insert1((10, 1.0, "x"))
            T.update1({"id": 0, "value": 99.0})
            (T & {"id": 1}).delete(prompt=False)
            T.insert1((2, 0.0, None))
    assert sorted(T.fetch("id").tolist()) == [0, 1, 2] and (T & {"id": 0}).fetch1("value") == 0.0
    with connection.transaction:
        T.insert1((10, 1.0, "x"))
        T.update1({"id": 0, "value": 99.0})
        (T & {"id": 1}).delete(prompt=False)
    assert sorted(T.fetch("id").tolist()) == [0, 2, 10] and (T & {"id": 0}).fetch1("value") == 99.0


def test_update1(schema):
    T = _table(schema)
    T.insert1((1, 1.0, "a"))
    T.update1({"id": 1, "label": None})
    assert T.fetch1("label") is None
    with pytest.raises(DataJointError, match="no row"):
        T.update1({"id": 2, "value": 1.0})
    with pytest.raises(UnknownAttributeError, match="color"):
        T.update1({"id": 1, "color": "red"})
    with pytest.raises(DataJointError, match="full primary key"):
        T.update1({"value": 3.0})
    with pytest.raises(DataJointError, match="label.*longer"):
        T.update1({"id": 1, "label": "x" * 20})
    with pytest.raises(DataJointError, match="secondary"):
        T.update1({"id": 1})
    assert T.fetch1() == {"id": 1, "value": 1.0, "label": None}


def test_an_error_caught_inside_a_transaction_leaves_it_usable(schema, connection):
    """The same code commits the same rows on every backend: on PostgreSQL, where an error aborts the
    whole transaction, each insert, update and delete runs under a savepoint of its own."""
    T = _table(schema)

    @schema
    class Child(dj.Manual):
        definition = """
        -> T
        n : int16
        """

    T.insert1((1, 1.0, None))
    with connection.transaction:
        T.insert1((2, 2.0, None))
        with pytest.raises(DuplicateError):
            T.insert1((1, 5.0, None))  # caught: only this step is undone
        with pytest.raises(IntegrityError):
            Child.insert1((99, 1))  # no parent 99
        with pytest.raises(DataJointError):
            T.update1({"id": 7, "value": 0.0})  # no such row
        T.insert1((3, 3.0, "after"))
        Child.insert1((3, 1))
    assert sorted(T.fetch("id").tolist()) == [1, 2, 3] and (T & {"id": 1}).fetch1("value") == 1.0
    assert Child.fetch1("id") == 3


def test_an_error_caught_inside_make_leaves_its_transaction_usable(schema):
    @schema
    class Tag(dj.Manual):
        definition = """
        tag : varchar(16)
        """

    @schema
    class Source(dj.Manual):
        definition = """
        source : int16
        """

    @schema
    class Tagged(dj.Computed):
        definition = """
        -> Source
        ---
        tag : varchar(16)
        """

        def make(self, key):
            try:
                Tag.insert1(("shared",))  # the second make finds it there
            except DuplicateError:
                pass
            self.insert1(dict(key, tag="shared"))

    Source.insert([(1,), (2,)])
    assert Tagged.populate() == {"success_count": 2, "error_list": []}
    assert len(Tagged) == 2 and len(Tag) == 1


def test_a_schema_another_client_creates_during_a_transaction(schema, connection, settings, make_schema):
    """Reading the catalog inside a transaction (a cascading delete loads the dependencies of every
    schema) while another client creates a schema: its new tables are unknown to the transaction's
    snapshot (MySQL: error 1412), which must not break the transaction."""
    from helpers import connect, unique_name

    if connection.backend.name == "sqlite":
        pytest.skip("SQLite has one writer: no other client creates tables while a transaction writes the file")
    T = _table(schema)
    T.insert([(1, 1.0, None), (2, 2.0, None)])
    other = connect(settings)
    name = unique_name()
    try:
        with connection.transaction:
            assert len(T) == 2  # the transaction's snapshot starts here
            theirs = dj.Schema(name, connection=other)

            @theirs
            class Elsewhere(dj.Manual):
                definition = """
                e : int32
                """

            connection.dependencies.load(force=True)
            (T & {"id": 1}).delete(prompt=False)
        assert T.fetch("id").tolist() == [2]
    finally:
        other.close()
        make_schema(name)  # dropped with the test's schemas
