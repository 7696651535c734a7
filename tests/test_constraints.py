"""Integrity lives in the database: raw SQL that bypasses pipejoint is rejected too."""

import datetime

import pytest

import pipejoint as dj
from pipejoint.errors import DuplicateError, IntegrityError, MissingAttributeError


@pytest.fixture
def tables(schema):
    @schema
    class Parent(dj.Manual):
        definition = """
        parent_id : int32
        """

    @schema
    class Child(dj.Manual):
        definition = """
        -> Parent
        child_id : uint8
        ---
        mood : enum('happy', 'sad')
        name : varchar(5)
        day = null : date
        score = null : uint16
        flag = null : bool
        price = null : decimal(5,2) unsigned
        """

    Parent.insert1((1,))
    return Parent, Child


def raw_insert(table, **values):
    """INSERT through the connection, bypassing pipejoint's own checks."""
    connection = table.connection
    backend = connection.backend
    placeholder = "?" if backend.paramstyle == "qmark" else "%s"
    columns = ", ".join(backend.quote(k) for k in values)
    marks = ", ".join([placeholder] * len(values))
    connection.query(f"INSERT INTO {table.full_table_name} ({columns}) VALUES ({marks})", tuple(values.values()))


GOOD = dict(parent_id=1, child_id=1, mood="happy", name="ann")


def test_a_valid_row_passes(tables):
    _, Child = tables
    raw_insert(Child, **GOOD)
    assert len(Child()) == 1


@pytest.mark.parametrize(
    "change, error",
    [
        ({"child_id": 256}, IntegrityError),  # uint8 above range
        ({"child_id": -1}, IntegrityError),  # uint8 below range
        ({"mood": "angry"}, IntegrityError),  # not an enum value
        ({"parent_id": 99}, IntegrityError),  # missing parent
        ({"name": "toolong"}, IntegrityError),  # varchar(5)
        ({"score": 70000}, IntegrityError),  # uint16 above range
        ({"price": -1}, IntegrityError),  # unsigned decimal
        ({"mood": None}, (IntegrityError, MissingAttributeError)),  # NOT NULL
        ({"child_id": None}, (IntegrityError, MissingAttributeError)),  # a key is never NULL (nor drawn)
    ],
)
def test_database_rejects_bad_rows(tables, change, error):
    _, Child = tables
    with pytest.raises(error):
        raw_insert(Child, **{**GOOD, **change})
    assert len(Child()) == 0


@pytest.mark.parametrize("day", ["not a date", "2021-13-01", "2021-04-31x", "2021-12-32"])
def test_database_rejects_bad_dates(tables, day):
    _, Child = tables
    with pytest.raises(IntegrityError):
        raw_insert(Child, **GOOD, day=day)
    assert len(Child()) == 0


def test_database_takes_good_dates_and_null(tables):
    _, Child = tables
    raw_insert(Child, **GOOD, day="2021-03-04")
    raw_insert(Child, **{**GOOD, "child_id": 2})
    assert sorted((Child & "child_id > 0").fetch("day", order_by="child_id"), key=str) == sorted(
        [datetime.date(2021, 3, 4), None], key=str
    )


def test_bool_columns_take_only_true_and_false(tables, connection):
    """SQLite and MySQL store bool as an integer with CHECK (x IN (0, 1)); PostgreSQL has a boolean type."""
    _, Child = tables
    bad = "maybe" if connection.backend.name == "postgresql" else 2
    with pytest.raises(IntegrityError):
        raw_insert(Child, **GOOD, flag=bad)
    assert len(Child()) == 0


def test_duplicate_key_is_reported(tables):
    _, Child = tables
    raw_insert(Child, **GOOD)
    with pytest.raises(DuplicateError):
        raw_insert(Child, **GOOD)


def test_parent_row_cannot_be_deleted_under_children(tables):
    Parent, Child = tables
    raw_insert(Child, **GOOD)
    connection = Parent.connection
    with pytest.raises(IntegrityError):
        connection.query(f"DELETE FROM {Parent.full_table_name}")
    assert len(Parent()) == 1


def test_cross_schema_foreign_keys_are_enforced(make_schema):
    upstream = make_schema()
    downstream = make_schema()

    @upstream
    class Lab(dj.Manual):
        definition = "lab : varchar(8)"

    @downstream
    class Rig(dj.Manual):
        definition = """
        -> Lab
        rig : int16
        """

    Lab.insert1(("nyc",))
    raw_insert(Rig, lab="nyc", rig=1)
    with pytest.raises(IntegrityError):
        raw_insert(Rig, lab="paris", rig=1)
    with pytest.raises(IntegrityError):
        Lab.connection.query(f"DELETE FROM {Lab.full_table_name}")
    assert Rig().parents() == [Lab().full_table_name]
    assert Lab().descendants() == [Lab().full_table_name, Rig().full_table_name]


def test_small_rows_and_large_rows_keep_the_same_rules(schema, connection):
    """SQLite keeps a table of small rows in its key's b-tree (WITHOUT ROWID) and one with a blob in a
    rowid table; either way a key is unique and never NULL, and rows come back as stored."""

    @schema
    class Small(dj.Manual):
        definition = """
        sid : int32
        ---
        label : varchar(16)
        """

    @schema
    class Large(dj.Manual):
        definition = """
        lid : int32
        ---
        data : longblob
        """

    for table, row in ((Small, {"sid": 1, "label": "a"}), (Large, {"lid": 1, "data": b"x" * 10_000})):
        table.insert1(row)
        with pytest.raises(DuplicateError):
            table.insert1(row)
        key = table.primary_key[0]
        with pytest.raises((IntegrityError, MissingAttributeError)):
            raw_insert(table, **{**row, key: None})
        assert len(table()) == 1 and (table & {key: 1}).fetch1() == row
    if connection.backend.name == "sqlite":
        forms = dict(connection.query("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
        assert forms[Small.full_table_name.strip('"')].endswith("WITHOUT ROWID")
        assert not forms[Large.full_table_name.strip('"')].endswith("WITHOUT ROWID")
