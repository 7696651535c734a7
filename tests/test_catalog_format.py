"""Where table records live: DataJoint's conventions on MySQL/PostgreSQL, pipejoint's catalog table
on SQLite, and schemas an earlier pipejoint made on MySQL/PostgreSQL (with a `~catalog`), which
keep opening and growing as they were."""

import pipejoint as dj
from helpers import connect, unique_name
from pipejoint.catalog.records import CATALOG_TABLE, _catalog_spec
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
    for statement in create_table_statements(backend, _catalog_spec(name)):
        connection.query(statement)
    connection.catalog_cache_clear()


def test_new_schemas_keep_a_catalog_table_only_where_the_server_cannot_describe_tables(connection, schema):
    _declare(schema)
    tables = connection.backend.list_tables(connection, schema.database)
    assert (CATALOG_TABLE in tables) == (not connection.backend.reads_server_catalog)
    assert ("~lineage" in tables) == connection.backend.keeps_lineage_table


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
