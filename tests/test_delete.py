"""Cascading delete across levels and schemas, part integrity, prompts, dry runs, delete_quick."""

import pytest

import pipejoint as dj
from helpers import connect
from pipejoint.errors import DataJointError, IntegrityError, UnknownAttributeError


def _pipeline(make_schema):
    a, b = make_schema(), make_schema()

    @a
    class Subject(dj.Manual):
        definition = """
        subject : int32
        """

    @a
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int32
        ---
        -> [nullable] Subject.proj(partner='subject')
        """

    @b
    class Scan(dj.Manual):
        definition = """
        -> Session
        scan : int32
        """

    @b
    class Stat(dj.Manual):
        definition = """
        -> Scan
        ---
        value : float64
        """

        class Part(dj.Part):
            definition = """
            -> master
            k : int32
            """

    Subject.insert([(s,) for s in range(4)])
    Session.insert(
        [{"subject": s, "session": n, "partner": (s + 1) % 4 if n == 0 else None} for s in range(4) for n in range(2)]
    )
    Scan.insert([{"subject": s, "session": n, "scan": c} for s in range(4) for n in range(2) for c in range(2)])
    Stat.insert([dict(r, value=1.0) for r in Scan])
    Stat.Part.insert([dict(r, k=1) for r in Scan])
    return Subject, Session, Scan, Stat


def test_cascade_through_four_levels_and_two_schemas(make_schema):
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    assert (Subject & {"subject": 1}).delete(dry_run=True)[Session.node_name] == 3  # own 2 + partner row of subject 0
    deleted = (Subject & {"subject": 1}).delete(prompt=False)
    assert deleted == 1
    assert sorted(Subject.fetch("subject").tolist()) == [0, 2, 3]
    sessions = {(r["subject"], r["session"]) for r in Session}
    assert sessions == {(0, 1), (2, 0), (2, 1), (3, 0), (3, 1)}  # (0, 0) had partner 1: renamed FK cascades
    assert {(r["subject"], r["session"]) for r in Scan} == sessions
    assert {(r["subject"], r["session"]) for r in Stat} == sessions
    assert len(Stat.Part) == len(Stat) == 10


def test_failed_cascade_leaves_everything(make_schema, connection):
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    before = {t.node_name: len(t) for t in (Subject, Session, Scan, Stat, Stat.Part)}
    with pytest.raises(DataJointError):
        with connection.transaction:
            (Subject & {"subject": 2}).delete(prompt=False)
            raise DataJointError("fail in the middle")
    assert {t.node_name: len(t) for t in (Subject, Session, Scan, Stat, Stat.Part)} == before


def _contents(tables):
    return {t.node_name: sorted((tuple(sorted(r.items())) for r in t.to_dicts()), key=repr) for t in tables}


def _outside_table(connection, schema, referenced):
    """A table made with raw SQL, hidden (its name starts with `~`, so outside every cascade plan, also
    where the server's catalog is read), whose foreign key refers to `referenced`: the database refuses
    to delete a row it refers to."""
    backend = connection.backend
    name = backend.full_table_name(schema, "~outside_log")
    columns = ", ".join(backend.quote(k) for k in referenced.primary_key)
    target = backend.full_table_name(referenced.database, referenced.table_name)
    definitions = ", ".join(f"{backend.quote(k)} INTEGER NOT NULL" for k in referenced.primary_key)
    connection.query(
        f"CREATE TABLE {name} ({definitions}, PRIMARY KEY ({columns}), "
        f"FOREIGN KEY ({columns}) REFERENCES {target} ({columns}))"
    )
    return name


@pytest.mark.parametrize("outer_transaction", [False, True])
def test_cascade_refused_in_the_middle_leaves_everything(make_schema, connection, outer_transaction):
    """Subject 2's cascade deletes parts, stats and scans (schema b) first; then the database refuses
    to delete its session (schema a), which a table outside the plan refers to: everything stays."""
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    tables = (Subject, Session, Scan, Stat, Stat.Part)
    outside = _outside_table(connection, Session.database, Session)
    key = ", ".join(connection.backend.quote(k) for k in Session.primary_key)
    connection.query(f"INSERT INTO {outside} ({key}) VALUES (2, 1)")
    planned = (Subject & {"subject": 2}).delete(dry_run=True)
    # its own 2 sessions and session (1, 0), whose partner it is: 3 sessions, 6 scans, stats and parts
    assert planned[Session.node_name] == 3
    assert planned[Stat.Part.node_name] == planned[Stat.node_name] == planned[Scan.node_name] == 6
    before = _contents(tables)
    if outer_transaction:  # the caller's transaction goes on, without any of the cascade's deletes
        with connection.transaction:
            with pytest.raises(IntegrityError, match=r"session.*undone") as info:
                (Subject & {"subject": 2}).delete(prompt=False)
            Subject.insert1({"subject": 9})
        assert _contents(tables)[Subject.node_name] == before[Subject.node_name] + [(("subject", 9),)]
        (Subject & {"subject": 9}).delete_quick()
    else:
        with pytest.raises(IntegrityError, match=r"session.*undone") as info:
            (Subject & {"subject": 2}).delete(prompt=False)
    assert Subject.node_name in str(info.value) and "outside" in str(info.value)
    assert not connection.in_transaction
    assert _contents(tables) == before
    connection.query(f"DROP TABLE {outside}")
    assert (Subject & {"subject": 2}).delete(prompt=False) == 1  # without the outside row it goes through
    assert len(Scan & {"subject": 2}) == 0


def test_restriction_by_a_descendant_or_by_itself(make_schema):
    """The subjects are chosen by their sessions, which the cascade deletes first: the subjects are
    still deleted. A restriction that reads the table itself takes the derived-table DELETE (MySQL
    refuses a DELETE whose subquery reads its own table)."""
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    chosen = Subject & (Session & {"subject": 3, "session": 1})
    assert chosen.delete(dry_run=True)[Subject.node_name] == 1
    assert chosen.delete(prompt=False) == 1
    assert sorted(Subject.fetch("subject").tolist()) == [0, 1, 2]
    assert len(Session & {"subject": 3}) == 0 and len(Session & {"partner": 3}) == 0
    assert (Subject & (Subject & "subject > 1").proj()).delete(prompt=False) == 1
    assert sorted(Subject.fetch("subject").tolist()) == [0, 1]
    assert len(Scan & "subject > 1") == 0 and len(Scan) == 6


def test_prompt_and_safemode(make_schema, monkeypatch):
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    monkeypatch.setattr("builtins.input", lambda *a: "no")
    assert (Subject & {"subject": 3}).delete(prompt=True) == 0
    assert len(Subject) == 4
    monkeypatch.setattr("builtins.input", lambda *a: "yes")
    assert (Subject & {"subject": 3}).delete(safemode=True) == 1
    assert (Subject & {"subject": 2}).delete(safemode=False) == 1
    assert len(Subject) == 2


def test_part_integrity(make_schema):
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    with pytest.raises(DataJointError, match="part_integrity='ignore'"):
        (Stat.Part & {"subject": 0}).delete(prompt=False)
    assert (Stat.Part & {"subject": 0}).delete(prompt=False, force=True) == 4
    assert len(Stat) == 16
    (Stat.Part & {"subject": 1}).delete(prompt=False, part_integrity="cascade")
    assert len(Stat & {"subject": 1}) == 0 and len(Scan & {"subject": 1}) == 4
    assert (Stat & {"subject": 2}).delete(prompt=False) == 4
    assert len(Stat.Part & {"subject": 2}) == 0


def test_delete_quick_names_referencing_tables(make_schema):
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    with pytest.raises(IntegrityError, match="session"):
        (Subject & {"subject": 0}).delete_quick()
    assert len(Subject) == 4
    assert (Stat.Part & {"subject": 3}).delete_quick(get_count=True) == 4


def test_part_rows_reached_without_their_master_refuse_the_whole_delete(make_schema):
    schema = make_schema()

    @schema
    class Probe(dj.Manual):
        definition = """
        probe : int32
        """

    @schema
    class Rig(dj.Manual):
        definition = """
        rig : int32
        """

        class Slot(dj.Part):
            definition = """
            -> master
            -> Probe
            """

    Probe.insert([(1,)])
    Rig.insert([(7,)])
    Rig.Slot.insert([(7, 1)])
    with pytest.raises(DataJointError, match="part table .* before its master"):
        (Probe & {"probe": 1}).delete(prompt=False)
    assert len(Probe()) == 1 and len(Rig.Slot()) == 1 and len(Rig()) == 1


def test_drop_accepts_only_enforce_or_ignore(make_schema):
    schema = make_schema()

    @schema
    class Keep(dj.Manual):
        definition = """
        k : int32
        """

    Keep.insert1((1,))
    for wrong in ("cascade", "enforse"):
        with pytest.raises(ValueError, match="part_integrity must be"):
            Keep.drop(part_integrity=wrong)
    assert Keep().is_declared and len(Keep()) == 1


def test_a_misspelled_key_deletes_nothing(schema, caplog):
    """A dict naming no attribute restricts nothing in a query (DataJoint's rule, with a warning); a
    delete restricted by it would delete every row, so it is refused and the table is unchanged."""

    @schema
    class Note(dj.Manual):
        definition = """
        note_id : int32
        ---
        text : varchar(20)
        """

    Note.insert([(1, "a"), (2, "b")])
    with caplog.at_level("WARNING", logger="pipejoint"):
        assert len(Note & {"note_idd": 1}) == 2  # queries: ignored, as in DataJoint
    assert "names no attribute" in caplog.text and "note_idd" in caplog.text
    for delete in (
        lambda: (Note & {"note_idd": 1}).delete(prompt=False),
        lambda: (Note & [{"note_idd": 1}, {"note_idd": 2}]).delete_quick(),
        lambda: (Note & {"text": "a"} & {"nte": 1}).delete(prompt=False),
    ):
        with pytest.raises(UnknownAttributeError, match=r"note_id, text.*Check the spelling") as error:
            delete()
        assert "`note`" in str(error.value) or "note" in str(error.value)
        assert len(Note) == 2
    (Note & {"note_id": 1}).delete(prompt=False)  # a known key, and the unrestricted table, still delete
    assert Note.fetch("note_id").tolist() == [2]
    Note.delete(prompt=False)
    assert len(Note) == 0


def test_cascade_by_several_keys_and_by_a_condition_reaches_the_same_rows(make_schema):
    """Descendants that carry the root's key are restricted by it directly; the rows deleted are
    those the foreign keys lead to, whether the root is restricted by keys or by a condition."""
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    assert (Subject & [{"subject": 0}, {"subject": 2}]).delete(prompt=False) == 2
    sessions = {(r["subject"], r["session"]) for r in Session}
    assert sessions == {(1, 1), (3, 1)}  # (1, 0) and (3, 0) had partners 2 and 0: renamed keys cascade too
    assert {(r["subject"], r["session"]) for r in Stat} == sessions == {(r["subject"], r["session"]) for r in Scan}
    assert (Subject & "subject > 2").delete(prompt=False) == 1
    assert {(r["subject"], r["session"]) for r in Scan} == {(1, 1)} and len(Stat.Part) == 2


def test_cascade_sees_what_another_client_declared_altered_or_dropped(make_schema, connection, settings):
    """The table graph read for one delete stands for the next only while no client changed the
    catalog: tables another connection creates, alters or drops between two deletes are seen."""
    schema = make_schema()

    @schema
    class Root(dj.Manual):
        definition = """
        r : int32
        """

    Root.insert([(r,) for r in range(5)])
    (Root & {"r": 0}).delete(prompt=False)  # the graph is read
    backend = connection.backend
    q = backend.quote
    root = Root.full_table_name
    leaf, note = (backend.full_table_name(schema.database, name) for name in ("leaf", "note"))
    other = connect(settings)
    try:
        other.query(
            f"CREATE TABLE {leaf} ({q('r')} INTEGER NOT NULL, {q('leaf')} INTEGER NOT NULL, "
            f"PRIMARY KEY ({q('r')}, {q('leaf')}), FOREIGN KEY ({q('r')}) REFERENCES {root} ({q('r')}))"
        )
        other.query(f"INSERT INTO {leaf} VALUES (1, 0), (2, 0)")
        other.query(f"CREATE TABLE {note} ({q('r')} INTEGER NOT NULL, PRIMARY KEY ({q('r')}))")
        other.query(f"INSERT INTO {note} VALUES (2), (3)")
        (Root & {"r": 1}).delete(prompt=False)  # declared by the other client: followed
        assert _values(other, leaf) == [2]
        if backend.name == "sqlite":  # SQLite alters a foreign key by making the table anew
            other.query(f"DROP TABLE {note}")
            other.query(
                f"CREATE TABLE {note} ({q('r')} INTEGER NOT NULL, PRIMARY KEY ({q('r')}), "
                f"FOREIGN KEY ({q('r')}) REFERENCES {root} ({q('r')}))"
            )
            other.query(f"INSERT INTO {note} VALUES (2), (3)")
        else:
            other.query(f"ALTER TABLE {note} ADD FOREIGN KEY ({q('r')}) REFERENCES {root} ({q('r')})")
        (Root & {"r": 2}).delete(prompt=False)  # the foreign key the other client added: followed
        assert _values(other, note) == [3]
        assert _values(other, leaf) == []
        other.query(f"DROP TABLE {leaf}")
        other.query(f"DROP TABLE {note}")
        (Root & {"r": 3}).delete(prompt=False)  # dropped by the other client: not looked for
        assert sorted(Root.fetch("r").tolist()) == [4]
    finally:
        other.close()


def _values(connection, table):
    return sorted(r[0] for r in connection.query(f"SELECT {connection.backend.quote('r')} FROM {table}").fetchall())
