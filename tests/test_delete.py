"""Cascading delete across levels and schemas, part integrity, prompts, dry runs, delete_quick."""

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError, IntegrityError


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
    Session.insert([{"subject": s, "session": n, "partner": (s + 1) % 4 if n == 0 else None} for s in range(4) for n in range(2)])
    Scan.insert([{"subject": s, "session": n, "scan": c} for s in range(4) for n in range(2) for c in range(2)])
    Stat.insert([dict(r, value=1.0) for r in Scan.keys()])
    Stat.Part.insert([dict(r, k=1) for r in Scan.keys()])
    return Subject, Session, Scan, Stat


def test_cascade_through_four_levels_and_two_schemas(make_schema):
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    assert (Subject & {"subject": 1}).delete(dry_run=True)[Session.node_name] == 3  # own 2 + partner row of subject 0
    deleted = (Subject & {"subject": 1}).delete(prompt=False)
    assert deleted == 1
    assert sorted(Subject.fetch("subject").tolist()) == [0, 2, 3]
    sessions = {(r["subject"], r["session"]) for r in Session.keys()}
    assert sessions == {(0, 1), (2, 0), (2, 1), (3, 0), (3, 1)}  # (0, 0) had partner 1: renamed FK cascades
    assert {(r["subject"], r["session"]) for r in Scan.keys()} == sessions
    assert {(r["subject"], r["session"]) for r in Stat.keys()} == sessions
    assert len(Stat.Part) == len(Stat) == 10


def test_failed_cascade_leaves_everything(make_schema, connection):
    Subject, Session, Scan, Stat = _pipeline(make_schema)
    before = {t.node_name: len(t) for t in (Subject, Session, Scan, Stat, Stat.Part)}
    with pytest.raises(DataJointError):
        with connection.transaction:
            (Subject & {"subject": 2}).delete(prompt=False)
            raise DataJointError("fail in the middle")
    assert {t.node_name: len(t) for t in (Subject, Session, Scan, Stat, Stat.Part)} == before


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
