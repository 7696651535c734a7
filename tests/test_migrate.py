"""Migrations: renaming tables (schema.migrate) with their parts, their dependents' foreign keys,
lineage and comments following, on every backend; the plan shows statements and row counts."""

from __future__ import annotations

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError, IntegrityError


def _pipeline(schema):
    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : int32
        """

    @schema
    class Session(dj.Manual):
        definition = """
        # a recording session
        -> Subject
        session : int16
        ---
        notes = "" : varchar(100)   # what happened
        """

        class Trial(dj.Part):
            definition = """
            -> master
            trial : int16
            """

    @schema
    class Count(dj.Computed):
        definition = """
        -> Session
        ---
        n : int32
        """

        def make(self, key):
            self.insert1(dict(key, n=len(Session.Trial & key)))

    Subject.insert([(1,), (2,)])
    Session.insert([(1, 1, "a"), (1, 2, "b"), (2, 1, "")])
    Session.Trial.insert([(1, 1, 1), (1, 1, 2), (2, 1, 1)])
    Count.populate(reserve_jobs=True)
    return Subject, Session, Count


def test_renaming_a_table_keeps_its_rows_parts_and_dependents(schema, connection):
    Subject, Session, Count = _pipeline(schema)
    before = {
        "session": Session.to_dicts(order_by="KEY"),
        "trial": Session.Trial.to_dicts(order_by="KEY"),
        "count": Count.to_dicts(order_by="KEY"),
    }
    migration = schema.migrate(rename={"Session": "Recording"})
    plan = migration.plan()
    assert plan.renames == {"session": "recording", "session__trial": "recording__trial"}
    assert plan.rows == {Session.node_name: 3, Count.node_name: 3, Session.Trial.node_name: 3}
    assert len(plan.statements) == 2 and "recording" in str(plan)
    migration.apply(prompt=False)
    assert set(schema.list_tables()) == {"subject", "recording", "recording__trial", "__count"}
    vm = dj.VirtualModule("renamed", schema.database, connection=connection)
    assert vm.Recording.to_dicts(order_by="KEY") == before["session"]
    assert vm.Recording.Trial.to_dicts(order_by="KEY") == before["trial"]
    assert vm.Count.to_dicts(order_by="KEY") == before["count"]
    assert vm.Recording.heading["notes"].comment == "what happened"
    assert vm.Recording.describe().startswith("# a recording session")
    assert "-> vm.Recording" in vm.Count.describe() and "-> master" in vm.Recording.Trial.describe()
    assert len(vm.Count * vm.Recording) == 3  # lineage follows: the join matches on the key
    with pytest.raises(IntegrityError):
        vm.Recording.Trial.insert1((9, 9, 9))
    with pytest.raises(IntegrityError):
        vm.Count.insert1((2, 7, 0), allow_direct_insert=True)
    with pytest.raises(DataJointError):
        (vm.Recording & {"subject_id": 1, "session": 1}).delete_quick()  # its trials refer to it


def test_a_rename_to_a_taken_name_or_another_tier_is_refused(schema):
    Subject, Session, Count = _pipeline(schema)
    tables = set(schema.list_tables())
    with pytest.raises(DataJointError, match="exists"):
        schema.migrate(rename={"Session": "Subject"}).plan()
    with pytest.raises(DataJointError, match="tier"):
        schema.migrate(rename={"session": "#session"}).plan()
    with pytest.raises(DataJointError, match="no table or class `Nothing`"):
        schema.migrate(rename={"Nothing": "Else"}).plan()
    assert set(schema.list_tables()) == tables


def test_a_computed_table_takes_its_jobs_table_along(schema, connection):
    Subject, Session, Count = _pipeline(schema)
    backend = connection.backend
    assert "~~count" in backend.list_tables(connection, schema.database)
    schema.migrate(rename={Count: "Tally"}).apply(prompt=False)
    tables = backend.list_tables(connection, schema.database)
    assert "__tally" in tables and "~~tally" in tables and "~~count" not in tables and "__count" not in tables
    vm = dj.VirtualModule("renamed", schema.database, connection=connection)
    assert len(vm.Tally()) == 3


def _keyed(schema):
    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : int16
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        ---
        rig = "A" : varchar(8)
        """

        class Trial(dj.Part):
            definition = """
            -> master
            trial : int16
            ---
            score = null : float64
            """

    @schema
    class Note(dj.Manual):
        definition = """
        note : int16
        ---
        -> [nullable] Session
        """

    Subject.insert([(1,), (2,)])
    Session.insert([(1, 1, "A"), (1, 2, "B"), (2, 1, "A")])
    Session.Trial.insert([(1, 1, 1, 0.5), (1, 1, 2, None), (1, 2, 1, 2.0)])
    Note.insert([(1, 1, 2), (2, None, None)])
    return Subject, Session, Note


def test_a_primary_key_migration_reaches_every_dependent(schema, connection):
    Subject, Session, Note = _keyed(schema)
    Session.definition = """
    -> Subject
    session : int32            # wider
    rig = "A" : varchar(8)     # moved into the key
    """
    migration = schema.migrate(key=[Session])
    plan = migration.plan()
    assert plan.rows == {Session.node_name: 3, Note.node_name: 2, Session.Trial.node_name: 3}
    migration.apply(prompt=False)
    vm = dj.VirtualModule("keyed", schema.database, connection=connection)
    assert vm.Session.primary_key == ["subject_id", "session", "rig"]
    assert vm.Session.Trial.primary_key == ["subject_id", "session", "rig", "trial"]
    assert vm.Session.to_dicts(order_by="KEY") == [
        dict(subject_id=1, session=1, rig="A"),
        dict(subject_id=1, session=2, rig="B"),
        dict(subject_id=2, session=1, rig="A"),
    ]
    assert vm.Session.Trial.to_dicts(order_by="KEY") == [  # the parts took their sessions' rig
        dict(subject_id=1, session=1, rig="A", trial=1, score=0.5),
        dict(subject_id=1, session=1, rig="A", trial=2, score=None),
        dict(subject_id=1, session=2, rig="B", trial=1, score=2.0),
    ]
    assert vm.Note.to_dicts(order_by="KEY") == [
        dict(note=1, subject_id=1, session=2, rig="B"),
        dict(note=2, subject_id=None, session=None, rig=None),
    ]
    vm.Session.insert1(dict(subject_id=1, session=70000, rig="C"))  # the wider type
    with pytest.raises(IntegrityError):
        vm.Session.Trial.insert1(dict(subject_id=1, session=1, rig="B", trial=5))
    with pytest.raises(IntegrityError):
        vm.Note.insert1(dict(note=3, subject_id=1, session=1, rig="B"))
    assert "-> master" in vm.Session.Trial.describe() and "-> [nullable] Session" in vm.Note.describe()
    assert schema.diff(context={"Subject": Subject, "Session": Session}) == {}
    assert len(vm.Session.Trial * vm.Session) == 3  # lineage of the new columns is the parent's


def test_a_new_key_attribute_with_a_default(schema, connection):
    Subject, Session, Note = _keyed(schema)
    Session.definition = """
    -> Subject
    session : int16
    block = 0 : int16
    ---
    rig = "A" : varchar(8)
    """
    schema.migrate(key=[Session]).apply(prompt=False)
    vm = dj.VirtualModule("keyed", schema.database, connection=connection)
    assert vm.Session.Trial.primary_key == ["subject_id", "session", "block", "trial"]
    assert sorted(vm.Session.Trial.to_arrays("block").tolist()) == [0, 0, 0]
    assert (vm.Note & {"note": 1}).fetch1("block") == 0 and (vm.Note & {"note": 2}).fetch1("block") is None
    vm.Session.insert1(dict(subject_id=1, session=1, block=1, rig="Z"))  # a second block of session 1


@pytest.mark.parametrize(
    "definition, error, words",
    [
        ("-> Subject\nsession : int16\nblock : int16\n---\nrig = 'A' : varchar(8)", "MissingDefaultError", "`block`"),
        ("-> Subject\nsession : int8\n---\nrig = 'A' : varchar(8)", "NarrowingError", "`session`"),
        ("-> Subject\n---\nsession : int16\nrig = 'A' : varchar(8)", "AlterError", "dropping key"),
        ("-> Subject\nsession : int16\n---\nrig = 'A' : varchar(9)", "AlterError", "alter()"),
    ],
)
def test_key_migrations_refused_change_nothing(schema, settings, definition, error, words):
    from interop import database_dump
    from pipejoint import errors

    Subject, Session, Note = _keyed(schema)
    Session.insert1((1, 300, "A"))
    before = database_dump(settings, schema.database)
    Session.definition = definition
    with pytest.raises(getattr(errors, error)) as info:
        schema.migrate(key=[Session]).apply(prompt=False)
    assert words in str(info.value) and f"`{schema.database}`.`session`" in str(info.value)
    assert database_dump(settings, schema.database) == before
