"""Where table records live: DataJoint's conventions on every backend (on SQLite with the comments in
a hidden `~comments` table), and schemas an earlier pipejoint made with a `~catalog`: on MySQL and
PostgreSQL they keep opening and growing as they were; on SQLite the `~catalog` is upgraded to
comments once (test_catalog_upgrade.py has an old file's every detail)."""

import pytest

import pipejoint as dj
from helpers import connect, unique_name
from pipejoint.catalog.catalog_v1 import CATALOG_TABLE, catalog_spec
from pipejoint.definition.ddl import create_table_statements

SUBJECT = """
# a mouse
subject_id : int32            # lab id
---
weight = 1.5 : float32        # grams
note = "" : varchar(64)
index (weight)
"""

SESSION = """
-> Subject
session : int16
---
trace = null : <blob>
made = CURRENT_TIMESTAMP : datetime
"""


def _declare(schema):
    @schema
    class Subject(dj.Manual):
        definition = SUBJECT

    @schema
    class Session(dj.Manual):
        definition = SESSION

    return Subject, Session


def _lines(text):
    return [" ".join(line.split()) for line in text.strip().splitlines()]


def _old_catalog(connection, name):
    """A schema as an earlier pipejoint made it: its `~catalog` table is there before any table."""
    backend = connection.backend
    backend.create_schema(connection, name)
    for statement in create_table_statements(backend, catalog_spec(name)):
        connection.query(statement)
    connection.catalog_cache_clear()


def test_new_schemas_keep_comments_in_a_table_only_where_the_database_has_none(connection, schema):
    _declare(schema)
    tables = connection.backend.list_tables(connection, schema.database)
    assert CATALOG_TABLE not in tables and "~lineage" in tables
    assert ("~comments" in tables) == (connection.backend.name == "sqlite")


def test_new_schema_round_trips_through_the_conventions(connection, settings, schema):
    Subject, Session = _declare(schema)
    Subject.insert1({"subject_id": 1, "weight": 20.5})
    Session.insert1({"subject_id": 1, "session": 2, "trace": [1, 2, 3]})
    other = connect(settings)
    try:
        module = dj.VirtualModule("m", schema.database, connection=other)
        assert list(module.Subject.heading.primary_key) == ["subject_id"]
        assert module.Subject.heading.attributes["weight"].default is not None
        assert list(module.Session().fetch1("trace")) == [1, 2, 3]
        assert module.Subject.heading.table_comment == "a mouse"
        described = _lines(module.Session.describe())
        assert "-> Subject" in described and "made = CURRENT_TIMESTAMP : datetime" in described
        assert "weight = 1.5 : float32 # grams" in _lines(module.Subject.describe())
    finally:
        other.close()


def test_schema_made_by_an_earlier_pipejoint_opens_and_grows(connection, settings, make_schema):
    name = unique_name()
    _old_catalog(connection, name)
    schema = make_schema(name)
    Subject, Session = _declare(schema)
    tables = connection.backend.list_tables(connection, name)
    if connection.backend.keeps_comments_table:  # SQLite: upgraded when first opened
        assert CATALOG_TABLE not in tables and {"~comments", "~lineage"} <= set(tables)
    else:  # the servers keep the old table, and write new tables into it too
        assert CATALOG_TABLE in tables
        rows = connection.query(f"SELECT table_name FROM {connection.backend.full_table_name(name, CATALOG_TABLE)}")
        assert sorted(r[0] for r in rows.fetchall()) == sorted([Subject.table_name, Session.table_name])
    Subject.insert1({"subject_id": 1})
    Session.insert1({"subject_id": 1, "session": 2, "trace": [4, 5]})
    other = connect(settings)
    try:
        module = dj.VirtualModule("m", name, connection=other)
        assert _lines(module.Subject.describe()) == _lines(SUBJECT)  # the declared text, from the old table
        assert module.Subject().fetch1("weight") == 1.5
        assert list(module.Session().fetch1("trace")) == [4, 5]
    finally:
        other.close()
    # a table another client adds beside them (DataJoint, or plain SQL) is seen too
    q = connection.backend.quote
    connection.query(
        f"CREATE TABLE {connection.backend.full_table_name(name, 'note')} ({q('note_id')} INT NOT NULL, "
        f"{q('subject_id')} INT NOT NULL, PRIMARY KEY ({q('note_id')}), FOREIGN KEY ({q('subject_id')}) "
        f"REFERENCES {Subject.full_table_name} ({q('subject_id')}))"
    )
    connection.catalog_cache_clear()
    module = dj.VirtualModule("m2", name, connection=connection)
    assert sorted(module.schema.list_tables()) == sorted([Subject.table_name, Session.table_name, "note"])
    module.Note.insert1({"note_id": 1, "subject_id": 1})
    assert (module.Note * module.Subject).fetch1("weight") == 1.5
    assert _lines(module.Subject.describe()) == _lines(SUBJECT)  # still from the old table


def test_sqlite_tables_made_without_pipejoint_open_from_sqlites_catalog(connection, make_schema):
    """SQLite's own catalog is read like a server's: a table made by plain SQL (no comments) is a
    Manual table whose types come from its declared SQL types."""
    if connection.backend.name != "sqlite":
        pytest.skip("SQLite's reading of its own catalog; test_plain_sql.py has the servers'")
    name = unique_name()
    make_schema(name)
    t = lambda table: connection.backend.full_table_name(name, table)  # noqa: E731
    connection.query(
        f"CREATE TABLE {t('Animal')} (animal_id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, "
        "weight REAL NOT NULL DEFAULT 1.5, born DATE)"
    )
    connection.query(
        f"CREATE TABLE {t('visit')} (animal_id INTEGER NOT NULL REFERENCES {t('Animal')}, day TEXT NOT NULL, "
        "PRIMARY KEY (animal_id, day))"
    )
    connection.query(f"INSERT INTO {t('Animal')} VALUES (1, 'Rex', 2.5, '2020-01-02')")
    connection.catalog_cache_clear()
    module = dj.VirtualModule("plain", name, connection=connection)
    heading = module.Animal.heading
    assert [heading[n].type for n in ("animal_id", "name", "weight", "born")] == [
        "bigint",
        "varchar(20)",
        "double",
        "date",
    ]
    assert heading["weight"].default == "1.5" and list(heading.primary_key) == ["animal_id"]
    module.Visit.insert1({"animal_id": 1, "day": "mon"})
    assert (module.Visit * module.Animal).fetch1("name", "day") == ("Rex", "mon")
    assert module.Visit.parents() == [connection.backend.full_table_name(name, "Animal")]
