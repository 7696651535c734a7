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
    assert "-> Recording" in vm.Count.describe() and "-> master" in vm.Recording.Trial.describe()
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
