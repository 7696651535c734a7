"""A SQLite file made by an earlier pipejoint (its `~catalog`, format 1) is upgraded once, on first
open, to the comments format, and reads exactly as before.

The file and what the old pipejoint showed of it (records, describe(), every row) are fixtures made
by tests/fixtures/catalog_v1/make.py with the old code. SQLite only: servers keep their `~catalog`
(test_catalog_format.py).
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import sqlite3
import sys

import pytest

import pipejoint as dj
from pipejoint.backends.base import unquote
from pipejoint.catalog.records import read_schema

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "catalog_v1"
sys.path.insert(0, str(FIXTURE))
from pipeline import ACQ, LAB, define, snapshot  # noqa: E402

EXPECTED = json.loads((FIXTURE / "expected.json").read_text())


@pytest.fixture
def old_file(tmp_path):
    """A copy of the old file (the fixture itself is never opened)."""
    path = tmp_path / "lab.db"
    shutil.copy(FIXTURE / "catalog_v1.db", path)
    return path


def _open(path):
    return dj.Connection(backend="sqlite", database_name=str(path))


def _raw(path):
    """{stored table: its rows} of every table of the two schemas, read with sqlite3 alone."""
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {
            name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
            if name.split(".", 1)[0] in (LAB, ACQ)
        }


def _hidden(path):
    return {name.split(".", 1)[1] for name in _raw(path) if name.split(".", 1)[1].startswith("~")}


def _attributes(table):
    """The visible attributes in order, the hidden ones in any order; defaults by their value."""

    def attribute(a):
        default = a["default"]
        if default is not None:
            default = unquote(default)
            default = {"1": "true", "0": "false"}.get(default, default) if a["type"] == "bool" else default
        return dict(a, default=default)

    visible = [attribute(a) for a in table["attributes"] if not a["name"].startswith("_")]
    hidden = sorted((attribute(a) for a in table["attributes"] if a["name"].startswith("_")), key=repr)
    return visible + hidden


_DEFAULT_LINE = re.compile(r"^(?P<name>\w+) = (?P<default>.*) : (?P<type>[^#]*?)(?P<comment>\s+#.*)?$")


def _same_describe(before, after):
    """describe() as before, line for line; a string default may escape its double quotes another
    way (a backslash before each, or each doubled: one value)."""
    old_lines, new_lines = before.splitlines(), after.splitlines()
    if len(old_lines) != len(new_lines):
        return False
    for old, new in zip(old_lines, new_lines):
        if old == new:
            continue
        a, b = _DEFAULT_LINE.match(old), _DEFAULT_LINE.match(new)
        if not (a and b) or unquote(a["default"]) != unquote(b["default"]):
            return False
        if (a["name"], a["type"], a["comment"]) != (b["name"], b["type"], b["comment"]):
            return False
    return True


def test_an_old_file_upgrades_on_first_open_and_reads_as_before(old_file, tmp_path):
    rows_before = _raw(old_file)
    assert "~catalog" in _hidden(old_file)
    connection = _open(old_file)
    try:
        found = json.loads(json.dumps(snapshot(dj, connection, tmp_path / "downloads")))
    finally:
        connection.close()
    assert _hidden(old_file) == {"~comments", "~lineage"}  # ~catalog gone, DataJoint's conventions in its place
    rows_after = _raw(old_file)
    del rows_before[f"{LAB}.~catalog"], rows_before[f"{ACQ}.~catalog"]
    assert {k: v for k, v in rows_after.items() if "~" not in k} == rows_before  # no data row touched
    for schema in (LAB, ACQ):
        assert sorted(found[schema]) == sorted(EXPECTED[schema])
        for name, old in EXPECTED[schema].items():
            new = found[schema][name]
            for key in ("tier", "class_name", "table_comment", "foreign_keys", "indexes", "rows"):
                assert new[key] == old[key], (schema, name, key)
            assert _attributes(new) == _attributes(old), (schema, name)
            assert _same_describe(old["describe"], new["describe"]), (old["describe"], new["describe"])
    # the definition as written is not kept (the servers keep none either): the one rebuilt from the table
    assert found[LAB]["subject"]["definition"] == found[LAB]["subject"]["describe"]


def test_lineage_and_comments_are_where_the_servers_keep_them(old_file):
    connection = _open(old_file)
    try:
        read_schema(connection, ACQ)
        lineage = {
            (t, a): v
            for t, a, v in connection.query(
                f'SELECT table_name, attribute_name, lineage FROM "{ACQ}.~lineage"'
            ).fetchall()
        }
        comments = {
            (t, c): v for t, c, v in connection.query(f'SELECT table_name, column_name, comment FROM "{ACQ}.~comments"')
        }
    finally:
        connection.close()
    assert lineage[("session", "subject_id")] == f"{LAB}.subject.subject_id"
    assert lineage[("session", "experimenter")] == f"{LAB}.person.person"
    assert lineage[("_trace__event", "channel")] == f"{ACQ}._trace__channel.channel"
    assert comments[("session", "session")] == ":smallint:session number"
    assert comments[("session", "uid")] == ":uuid:"
    assert comments[("session", "subject_id")] == ":uint16:lab id"  # a copied column keeps its type too
    assert comments[("stimulus", "stim_id")] == ":int32:"  # auto_increment: SQLite's AUTOINCREMENT says it


def test_the_upgraded_file_opens_with_its_classes_and_grows(old_file, tmp_path):
    connection = _open(old_file)
    try:
        lab = dj.Schema(LAB, connection=connection)
        acq = dj.Schema(ACQ, connection=connection)
        classes = define(dj, lab, acq)  # the same classes bind to the tables (no difference found)
        Subject, Session, Trace = classes["Subject"], classes["Session"], classes["Trace"]
        assert len(Subject()) == 2 and len(Trace.Event()) == 2
        Subject.insert1(dict(subject_id=3, species="mus musculus"))
        Session.insert1(
            dict(subject_id=3, session=1, rig=1, uid="0" * 32, started="2024-03-01 10:00:00", clock="00:00:01")
        )
        Trace.populate()
        classes["Summary"].populate()
        assert len(classes["Summary"]()) == 3

        @acq
        class Note(dj.Manual):
            definition = """
            -> Session
            note_id : int16
            ---
            text : varchar(100)
            """

        Note.insert1(dict(subject_id=3, session=1, note_id=1, text="new table in an old schema"))
        module = dj.VirtualModule("acq", ACQ, connection=_open(old_file))
        assert (module.Note * module.Session).fetch1("text") == "new table in an old schema"
        assert module.Trace.Channel().fetch("signal")[0].shape == (2, 3)
        assert module.Session.heading["uid"].type == "uuid"
        Note.drop_quick()
        assert "note" not in [r[0] for r in connection.query(f'SELECT table_name FROM "{ACQ}.~comments"')]
    finally:
        connection.close()


def test_an_upgrade_that_would_lose_something_changes_nothing(old_file):
    with sqlite3.connect(old_file) as db:  # a class name the table's name cannot give back
        db.execute(f"UPDATE \"{LAB}.~catalog\" SET class_name = 'Laboratory_Person' WHERE table_name = 'person'")
    before = _raw(old_file)
    connection = _open(old_file)
    try:
        with pytest.raises(dj.DataJointError, match=r"(?s)`v1_lab`.*earlier pipejoint.*`person`.*class name"):
            read_schema(connection, LAB)
    finally:
        connection.close()
    assert _raw(old_file) == before  # the old table and everything else as they were


def test_a_file_that_cannot_be_written_says_so(old_file):
    before = _raw(old_file)
    connection = _open(old_file)
    try:
        connection.query("PRAGMA query_only = ON")
        with pytest.raises(dj.DataJointError, match=r"(?s)`v1_lab`.*earlier pipejoint.*write access"):
            read_schema(connection, LAB)
    finally:
        connection.close()
    assert _raw(old_file) == before


def test_an_upgrade_in_a_transaction_goes_with_it(old_file):
    connection = _open(old_file)
    try:
        connection.start_transaction()
        assert "subject" in read_schema(connection, LAB)  # upgraded inside the caller's transaction
        assert "~catalog" not in connection.backend.list_tables(connection, LAB)
        connection.cancel_transaction()  # ... and undone with it
        assert "~catalog" in connection.backend.list_tables(connection, LAB)
        assert "subject" in read_schema(connection, LAB)  # upgraded again, for good
        assert "~catalog" not in connection.backend.list_tables(connection, LAB)
    finally:
        connection.close()
    other = _open(old_file)  # another connection finds it done
    try:
        assert "~catalog" not in other.backend.list_tables(other, LAB)
        assert read_schema(other, LAB)["subject"].heading["weight"].type == "float32"
    finally:
        other.close()
