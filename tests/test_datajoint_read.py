"""Schemas made by DataJoint 2.3.5 open in pipejoint as they are, on MySQL/MariaDB and PostgreSQL.

Each test builds a schema with real DataJoint 2.3.5 (the same code a lab runs), inserts rows with
it, then opens the schema with pipejoint: VirtualModule, spawn_missing_classes, FreeTable,
list_tables, Diagram, and the lab's own class definitions. Values are compared value for value
with what DataJoint reads; rows pipejoint inserts are read back by DataJoint; nothing in the
database changes by opening or reading it (the server's dump before and after is the same).
"""

from __future__ import annotations

import datetime
import decimal
import json
import logging
import os
import re
import uuid

import numpy as np
import pytest

import pipejoint as dj
from helpers import unique_name
from interop import (
    database_dump,
    datajoint_connection,
    datajoint_module,
    datajoint_stores,
    drop_datajoint_schema,
    require_server_catalog,
)

TRACE = np.arange(6.0).reshape(2, 3)
SESSION_UUID = uuid.UUID("5a2b4c1e-0000-4000-8000-00000000abcd")


def definitions(native_int, native_blob):
    """The lab's pipeline as DataJoint 2.x code (the same text declares it in pipejoint)."""
    return {
        "Subject": """
        # experimental subjects
        subject_id : int32      # subject number
        ---
        name : varchar(64)
        sex : enum('M', 'F', 'U')
        dob = null : date
        weight = 0 : float64
        """,
        "Species": """
        species : varchar(32)
        """,
        "Session": f"""
        -> Subject
        session_idx : int16
        ---
        -> Species
        session_uuid = null : uuid
        started = CURRENT_TIMESTAMP : datetime(3)
        start_time = null : time
        price : decimal(8,3)
        flag : bool
        meta : json
        trace : <blob>
        raw = null : bytes
        att = null : <attach>
        small : int8
        big : int64
        ratio : float32
        native : {native_int}
        native_blob = null : {native_blob}
        note = null : varchar(255)
        unique index (session_uuid)
        index (price)
        """,
        "Trial": """
        -> master
        trial : int32
        ---
        val : float64
        """,
        "Stim": """
        -> Session.proj(src_subject='subject_id', src_session='session_idx')
        stim : int32
        ---
        -> [nullable] Subject.proj(other='subject_id')
        """,
        "Single": """
        # a singleton
        ---
        value : int32
        """,
        "Stored": """
        stored_id : int32
        ---
        b = null : <blob@main>
        a = null : <attach@main>
        o = null : <object@main>
        n = null : <npy@main>
        h = null : <hash@main>
        f = null : <filepath@main>
        """,
        "Total": """
        -> Session
        ---
        total : float64
        """,
    }


def native_types(connection):
    """DataJoint on PostgreSQL has no unsigned integers and no longblob."""
    if connection.backend.inline_column_comments:  # MySQL
        return "int unsigned", "longblob"
    return "int", "bytes"


def declare_classes(module, schema, texts, with_contents=True):
    """The pipeline's classes made with `module` (datajoint or pipejoint) and declared in `schema`."""

    class Subject(module.Manual):
        definition = texts["Subject"]

    class Species(module.Lookup):
        definition = texts["Species"]
        contents = [{"species": "mouse"}, {"species": "rat"}] if with_contents else []

    class Session(module.Manual):
        definition = texts["Session"]

        class Trial(module.Part):
            definition = texts["Trial"]

    class Stim(module.Manual):
        definition = texts["Stim"]

    class Single(module.Manual):
        definition = texts["Single"]

    class Stored(module.Manual):
        definition = texts["Stored"]

    class Total(module.Computed):
        definition = texts["Total"]

        def make(self, key):
            vals = (Session.Trial & key).to_arrays("val") if hasattr(Session.Trial, "to_arrays") else None
            self.insert1(dict(key, total=float(np.sum(vals))))

    classes = {}
    for cls in (Subject, Species, Session, Stim, Single, Stored, Total):
        context = {**classes, cls.__name__: cls}
        schema(cls, context=context)
        classes[cls.__name__] = cls
    return classes


@pytest.fixture
def lab(connection, settings, tmp_path):
    """A schema made and filled by DataJoint 2.3.5; yields (name, DataJoint classes, store folder)."""
    require_server_catalog(connection)
    datajoint = datajoint_module()
    store = tmp_path / "store"
    (store / "raw").mkdir(parents=True)
    (store / "raw" / "scan.dat").write_bytes(b"raw scan bytes")
    attachment = tmp_path / "notes.txt"
    attachment.write_text("attached notes")
    stores = {"default": "main", "main": {"protocol": "file", "location": str(store)}}
    name = unique_name("djlab")
    djconn = datajoint_connection(settings)
    try:
        with (
            datajoint_stores(stores, download_path=str(tmp_path / "dj-downloads"), **{"jobs.add_job_metadata": True}),
            dj.config.override(stores=stores, download_path=str(tmp_path / "downloads")),
        ):
            schema = datajoint.Schema(name, connection=djconn)
            classes = declare_classes(datajoint, schema, definitions(*native_types(connection)))
            _fill(datajoint, classes, connection, name, attachment)
            yield name, classes, store, attachment
    finally:
        djconn.close()
        drop_datajoint_schema(connection, name)


def _fill(datajoint, c, connection, name, attachment):
    """Rows inserted by DataJoint. Two values DataJoint 2.3.5 cannot insert are written with its
    own codecs and SQL: uuid on PostgreSQL (it sends bytes) and <blob@>/<attach@> on MariaDB
    (its heading does not see their column as JSON)."""
    c["Subject"].insert(
        [
            dict(subject_id=1, name="Ada", sex="F", dob=datetime.date(2020, 1, 2), weight=21.5),
            dict(subject_id=2, name="Bo", sex="M", dob=None, weight=19.0),
            dict(subject_id=3, name="Cy", sex="U", dob=None, weight=0.0),
        ]
    )
    session = dict(
        subject_id=1,
        session_idx=1,
        species="mouse",
        started=datetime.datetime(2024, 5, 6, 7, 8, 9, 123000),
        start_time=datetime.timedelta(hours=9, minutes=30),
        price=decimal.Decimal("12.345"),
        flag=True,
        meta={"depth": [1, 2.5], "ok": True, "tag": "a"},
        trace=TRACE,
        raw=b"\x00\x01raw",
        att=str(attachment),
        small=-3,
        big=2**40 + 1,
        ratio=1.5,
        native=7,
        native_blob=b"native bytes",
        note="first",
    )
    uuid_by_sql = not connection.backend.inline_column_comments  # PostgreSQL
    if not uuid_by_sql:
        session["session_uuid"] = SESSION_UUID
    c["Session"].insert1(session)
    c["Session"].insert1(
        dict(
            subject_id=2,
            session_idx=1,
            species="rat",
            price=decimal.Decimal("0.5"),
            flag=False,
            meta=[1, "two"],
            trace={"nested": [1, 2]},
            small=0,
            big=0,
            ratio=0.25,
            native=0,
        )
    )
    if uuid_by_sql:
        connection.query(
            f"UPDATE {connection.backend.full_table_name(name, 'session')} SET session_uuid = %s "
            "WHERE subject_id = 1 AND session_idx = 1",
            (str(SESSION_UUID),),
        )
    c["Session"].Trial.insert([dict(subject_id=1, session_idx=1, trial=t, val=t / 4) for t in (1, 2, 3)])
    c["Stim"].insert1(dict(src_subject=1, src_session=1, stim=1, other=2))
    c["Stim"].insert1(dict(src_subject=2, src_session=1, stim=1, other=None))
    c["Single"].insert1(dict(value=42))
    stored = dict(
        stored_id=1, o=("dat", b"object bytes"), n=np.arange(4, dtype=np.int16), h=b"hash bytes", f="raw/scan.dat"
    )
    hashed = dict(b=np.arange(5.0), a=str(attachment))
    if connection.backend.inline_column_comments:  # MariaDB: DataJoint's own codecs, then SQL
        c["Stored"].insert1(stored)
        hash_codec = datajoint.codecs.get_codec("hash")
        values = {
            "b": datajoint.codecs.get_codec("blob").encode(hashed["b"]),
            "a": datajoint.codecs.get_codec("attach").encode(hashed["a"]),
        }
        for field, payload in values.items():
            metadata = hash_codec.encode(payload, key={"_schema": name}, context={"schema": name}, store_name="main")
            connection.query(
                f"UPDATE {connection.backend.full_table_name(name, 'stored')} SET {field} = %s WHERE stored_id = 1",
                (json.dumps(metadata),),
            )
    else:
        c["Stored"].insert1({**stored, **hashed})
    c["Total"].populate(reserve_jobs=True)


def _same(a, b):
    """Values equal as a user sees them: arrays by content, times of day whichever way they come."""
    a, b = _content(a), _content(b)
    if isinstance(a, datetime.timedelta):
        a = (datetime.datetime.min + a).time()
    if isinstance(b, datetime.timedelta):
        b = (datetime.datetime.min + b).time()
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b)) and np.asarray(a).dtype == np.asarray(b).dtype
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.generic):
        a = a.item()
    if isinstance(b, np.generic):
        b = b.item()
    return a == b


def _content(value):
    """A fetched store object, attachment path or value, as comparable content."""
    if isinstance(value, memoryview):  # DataJoint on PostgreSQL gives bytea as psycopg2's memoryview
        return bytes(value)
    if hasattr(value, "load") and hasattr(value, "shape"):  # NpyRef
        return np.asarray(value)
    if hasattr(value, "read") and hasattr(value, "path"):  # ObjectRef
        return value.read()
    if isinstance(value, str) and os.path.isfile(value):  # an attachment written to the download folder
        with open(value, "rb") as f:
            return (os.path.basename(value), f.read())
    return value


def _rows(table, order):
    return sorted(table.to_dicts(), key=lambda r: tuple(r[k] for k in order))


def unreadable_by_datajoint(connection):
    """DataJoint 2.3.5 on PostgreSQL cannot decode uuid (psycopg2 gives it a str) nor <attach> (a memoryview)."""
    return set() if connection.backend.inline_column_comments else {"session_uuid", "att"}


def assert_same_rows(pj_table, dj_table, order, skip=()):
    """pipejoint reads what DataJoint reads, attribute for attribute (but `skip`, which DataJoint cannot read)."""
    names = [n for n in dj_table.heading.names if n not in skip]
    mine, theirs = _rows(pj_table.proj(*names), order), _rows(dj_table.proj(*names), order)
    assert len(mine) == len(theirs) > 0
    for a, b in zip(mine, theirs):
        assert a.keys() == b.keys()
        for key in a:
            x, y = _content(a[key]), _content(b[key])
            assert _same(x, y), f"{pj_table.table_name}.{key}: pipejoint {x!r}, DataJoint {y!r}"


def test_virtual_module_reads_every_table_and_value(lab, connection, settings):
    name, c, store, attachment = lab
    before = database_dump(settings, name)
    lab_module = dj.VirtualModule("lab_module", name, connection=connection)
    classes = {k for k in vars(lab_module) if k[:1].isupper()}
    assert {"Subject", "Species", "Session", "Stim", "Single", "Stored", "Total"} <= classes
    assert lab_module.Session.Trial.table_name == "session__trial"
    assert lab_module.Species.tier == "lookup" and lab_module.Total.tier == "computed"
    assert issubclass(lab_module.Total, dj.Computed)
    for cls_name, order in [
        ("Subject", ["subject_id"]),
        ("Species", ["species"]),
        ("Session", ["subject_id", "session_idx"]),
        ("Stim", ["src_subject", "stim"]),
        ("Single", ["value"]),
        ("Stored", ["stored_id"]),
        ("Total", ["subject_id", "session_idx"]),
    ]:
        assert_same_rows(getattr(lab_module, cls_name)(), c[cls_name](), order, unreadable_by_datajoint(connection))
    assert_same_rows(lab_module.Session.Trial(), c["Session"].Trial(), ["trial"])
    # every value type, value for value
    row = (lab_module.Session & {"subject_id": 1}).fetch1()
    assert row["session_uuid"] == SESSION_UUID
    assert row["started"] == datetime.datetime(2024, 5, 6, 7, 8, 9, 123000)
    assert row["start_time"] == datetime.time(9, 30)
    assert row["price"] == decimal.Decimal("12.345") and isinstance(row["price"], decimal.Decimal)
    assert row["flag"] is True and row["meta"] == {"depth": [1, 2.5], "ok": True, "tag": "a"}
    assert np.array_equal(row["trace"], TRACE) and row["trace"].dtype == np.float64
    assert row["raw"] == b"\x00\x01raw" and row["native_blob"] == b"native bytes"
    assert _content(row["att"]) == ("notes.txt", b"attached notes")
    assert (row["small"], row["big"], row["ratio"], row["native"], row["note"]) == (-3, 2**40 + 1, 1.5, 7, "first")
    other = (lab_module.Session & {"subject_id": 2}).fetch1()
    assert other["trace"] == {"nested": [1, 2]} and other["meta"] == [1, "two"] and other["flag"] is False
    assert other["session_uuid"] is None and other["att"] is None
    subject = (lab_module.Subject & {"subject_id": 1}).fetch1()
    assert subject == dict(subject_id=1, name="Ada", sex="F", dob=datetime.date(2020, 1, 2), weight=21.5)
    stored = lab_module.Stored.fetch1()
    assert np.array_equal(stored["b"], np.arange(5.0))
    assert _content(stored["a"]) == ("notes.txt", b"attached notes")
    assert stored["o"].read() == b"object bytes"
    assert np.array_equal(np.asarray(stored["n"]), np.arange(4, dtype=np.int16))
    assert stored["h"] == b"hash bytes"
    assert stored["f"].read() == b"raw scan bytes"
    assert lab_module.Single.fetch1() == {"value": 42}
    assert database_dump(settings, name) == before


def test_headings_and_describe(lab, connection):
    """Types and codecs come back from the column comments, foreign-key columns take their parent's
    type and lineage, hidden attributes stay hidden, and describe() gives a definition."""
    name = lab[0]
    lab_module = dj.VirtualModule("lab_module", name, connection=connection)
    heading = lab_module.Session.heading
    assert heading.primary_key == ["subject_id", "session_idx"]
    types = {n: heading[n].type for n in heading.names}
    assert types["subject_id"] == "int32" and types["session_idx"] == "int16"  # a copied column: the parent's type
    assert (types["trace"], types["att"], types["meta"], types["session_uuid"]) == (
        "<blob>",
        "<attach>",
        "json",
        "uuid",
    )
    assert (types["flag"], types["small"], types["ratio"], types["price"]) == (
        "bool",
        "int8",
        "float32",
        "decimal(8,3)",
    )
    assert heading["subject_id"].comment == "subject number"
    assert heading["species"].lineage == f"{name}.#species.species"
    stim = lab_module.Stim.heading
    assert stim["src_subject"].lineage == f"{name}.subject.subject_id" and stim["other"].nullable
    total = lab_module.Total.heading
    assert total.names == ["subject_id", "session_idx", "total"]
    assert {"_job_start_time", "_job_duration", "_job_version"} <= set(total.all_attributes)
    assert "_singleton" in lab_module.Single.heading.all_attributes and lab_module.Single.heading.names == ["value"]
    assert lab_module.Stored.heading["f"].type == "<filepath@main>"
    named = vars(lab_module)  # describe() names the classes as this namespace holds them
    text = lab_module.Session.describe(context=named)
    assert text.splitlines()[:4] == ["-> Subject", "session_idx : int16", "---", "-> Species"]
    assert "unique index (session_uuid)" in text and "index (price)" in text
    assert "-> Session.proj(src_subject='subject_id', src_session='session_idx')" in lab_module.Stim.describe(
        context=named
    )
    assert "-> [nullable] Subject.proj(other='subject_id')" in lab_module.Stim.describe(context=named)
    assert lab_module.Session.Trial.describe(context=named).startswith("-> master\ntrial : int32")
    assert lab_module.Subject.describe().startswith("# experimental subjects\nsubject_id : int32  # subject number")


def test_list_tables_free_table_spawn_and_diagram(lab, connection, settings):
    name = lab[0]
    before = database_dump(settings, name)
    schema = dj.Schema(name, connection=connection)  # create_tables on: still adds nothing to the schema
    tables = schema.list_tables()
    assert set(tables) == {"subject", "#species", "session", "session__trial", "stim", "single", "stored", "__total"}
    assert tables.index("subject") < tables.index("session") < tables.index("session__trial")
    found = {}
    schema.spawn_missing_classes(into=found)
    assert set(found) == {"Subject", "Species", "Session", "Stim", "Single", "Stored", "Total"}
    assert len(found["Session"].Trial()) == 3
    made = {}
    schema.make_classes(into=made)
    legacy = dj.create_virtual_module("legacy", name, connection=connection)
    assert (
        set(made) == set(found)
        and len(legacy.Stim()) == 2
        and len(dj.virtual_schema(name, connection=connection).Subject()) == 3
    )
    free = dj.FreeTable(connection, f"`{name}`.`session`")
    assert len(free) == 2 and free.primary_key == ["subject_id", "session_idx"]
    full = connection.backend.full_table_name
    assert free.parents() == [full(name, "#species"), full(name, "subject")]
    assert set(free.children()) == {full(name, "session__trial"), full(name, "stim"), full(name, "__total")}
    diagram = dj.Diagram(schema)
    nodes = {n.split("`.`")[1].strip("`") for n in diagram.nodes_to_show}
    assert nodes >= {"subject", "session", "stim", "__total", "#species"}
    assert "Session" in diagram.make_svg() and "Subject" in diagram.make_mermaid()
    assert database_dump(settings, name) == before


def test_queries_across_datajoint_tables(lab, connection):
    """Restriction, join and aggregation give what DataJoint gives."""
    name, c = lab[0], lab[1]
    m = dj.VirtualModule("lab_module", name, connection=connection)
    mine = (m.Session * m.Subject & "weight > 20").fetch("session_idx", "name", as_dict=True)
    theirs = (c["Session"] * c["Subject"] & "weight > 20").proj("name").to_dicts()
    assert mine == [{"session_idx": 1, "name": "Ada"}] and [{k: r[k] for k in mine[0]} for r in theirs] == mine
    counts = m.Subject.aggr(m.Session.Trial, n="count(trial)").fetch(as_dict=True)
    assert sorted((r["subject_id"], r["n"]) for r in counts) == [(1, 3), (2, 0), (3, 0)]
    assert len(m.Subject - m.Session) == 1
    renamed = m.Stim * m.Subject.proj(other="subject_id", other_name="name")
    assert renamed.fetch("other_name").tolist() == ["Bo"]
    assert (m.Total & {"subject_id": 1}).fetch1("total") == pytest.approx(1.5)
    assert len(m.Session & {"flag": True}) == 1 and len(m.Subject & {"sex": "U"}) == 1


def test_pipejoint_inserts_datajoint_reads(lab, connection, tmp_path):
    """Rows pipejoint inserts into DataJoint's tables decode in DataJoint, every value type."""
    name, c, store, attachment = lab
    m = dj.VirtualModule("lab_module", name, connection=connection)
    (store / "raw" / "more.dat").write_bytes(b"more")
    row = dict(
        subject_id=3,
        session_idx=2,
        species="rat",
        session_uuid=uuid.UUID(int=77),
        started=datetime.datetime(2024, 1, 1, 12, 0, 0, 500000),
        start_time=datetime.time(8, 15),
        price=decimal.Decimal("99.001"),
        flag=True,
        meta={"k": [3, 4]},
        trace=np.eye(3, dtype=np.int32),
        raw=b"raw!",
        att=str(attachment),
        small=5,
        big=-(2**50),
        ratio=0.5,
        native=11,
        native_blob=None,
        note="from pipejoint",
    )
    stores = {"default": "main", "main": {"protocol": "file", "location": str(store)}}
    with (
        dj.config.override(stores=stores, download_path=str(tmp_path / "pj")),
        datajoint_stores(stores, download_path=str(tmp_path / "dj")),
    ):
        m.Session.insert1(row)
        m.Session.Trial.insert1(dict(subject_id=3, session_idx=2, trial=1, val=2.0))
        m.Stored.insert1(
            dict(
                stored_id=2,
                b=np.arange(3.0),
                a=str(attachment),
                o=("dat", b"obj2"),
                n=np.ones(2),
                h=b"h2",
                f="raw/more.dat",
            )
        )
        m.Subject.insert1(dict(subject_id=4, name="Di", sex="F"))
        readable = [n for n in c["Session"].heading.names if n not in unreadable_by_datajoint(connection)]
        back = (c["Session"] & {"subject_id": 3, "session_idx": 2}).proj(*readable).fetch1()
        stored = (c["Stored"] & {"stored_id": 2}).fetch1()
        c["Total"].populate()
        total = (c["Total"] & {"subject_id": 3}).fetch1("total")
    if "session_uuid" in unreadable_by_datajoint(connection):
        back["session_uuid"] = (m.Session & {"subject_id": 3}).fetch1("session_uuid")
    for key in (
        "session_uuid",
        "started",
        "price",
        "meta",
        "raw",
        "small",
        "big",
        "ratio",
        "native",
        "note",
        "species",
    ):
        assert _same(back[key], row[key]), key
    assert _same(back["start_time"], row["start_time"]) and bool(back["flag"]) is True
    assert np.array_equal(back["trace"], row["trace"]) and back["trace"].dtype == np.int32
    if "att" in back:
        assert _content(back["att"]) == ("notes.txt", b"attached notes")
    assert np.array_equal(stored["b"], np.arange(3.0)) and _content(stored["a"]) == ("notes.txt", b"attached notes")
    assert stored["o"].read() == b"obj2" and np.array_equal(np.asarray(stored["n"]), np.ones(2))
    assert stored["h"] == b"h2" and stored["f"].read() == b"more"
    assert total == 2.0
    assert (c["Subject"] & {"subject_id": 4}).fetch1("dob") is None


def test_cascading_delete_of_datajoint_rows(lab, connection):
    name, c = lab[0], lab[1]
    m = dj.VirtualModule("lab_module", name, connection=connection)
    planned = (m.Subject & {"subject_id": 1}).delete(dry_run=True)
    assert planned[f"`{name}`.`session__trial`"] == 3 and planned[f"`{name}`.`__total`"] == 1
    assert planned[f"`{name}`.`stim`"] == 1  # its session's stimulus; subject 2's stimulus names it as `other` too
    (m.Subject & {"subject_id": 1}).delete(prompt=False)
    assert sorted(c["Subject"].to_arrays("subject_id").tolist()) == [2, 3]
    assert len(c["Session"].Trial()) == 0 and len(c["Total"] & {"subject_id": 1}) == 0
    (m.Subject & {"subject_id": 2}).delete(prompt=False)  # stimuli referring to it by `other` go too
    assert len(c["Stim"]()) == 0 and len(c["Session"]()) == 0


def test_declaring_the_same_classes_binds_to_the_tables(lab, connection, settings, caplog):
    """The lab's own code with `import pipejoint as dj` binds to DataJoint's tables (no error, no
    change, no warning), and a definition that differs binds with one warning that says what
    differs, changing nothing."""
    name = lab[0]
    before = database_dump(settings, name)
    schema = dj.Schema(name, connection=connection)
    with caplog.at_level(logging.WARNING, logger="pipejoint"):
        classes = declare_classes(dj, schema, definitions(*native_types(connection)))
    assert "differs from the definition" not in caplog.text
    assert len(classes["Session"]()) == 2 and len(classes["Session"].Trial()) == 3
    assert classes["Total"].progress(display=False)[0] == 0  # every session has its total
    assert database_dump(settings, name) == before
    changed = definitions(*native_types(connection))
    changed["Subject"] = (
        changed["Subject"]
        .replace("name : varchar(64)", "name : varchar(32)")
        .replace("weight = 0 : float64", "height : float64")
    )
    other = dj.Schema(name, connection=connection)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipejoint"):
        declare_classes(dj, other, changed)  # binds, and one warning says what differs
    drift = [r.getMessage() for r in caplog.records if "differs from the definition" in r.getMessage()]
    assert len(drift) == 1
    message = drift[0]
    assert f"`{name}`.`subject`" in message and "Subject.alter()" in message
    assert "attribute `name` is varchar(32) in the definition but varchar(64) in the table" in message
    assert "attribute `height` (float64) is in the definition but not in the table" in message
    assert "attribute `weight` (float64) is in the table but not in the definition" in message
    renamed = definitions(*native_types(connection))
    renamed["Stim"] = renamed["Stim"].replace("other='subject_id'", "partner='subject_id'")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipejoint"):
        declare_classes(dj, dj.Schema(name, connection=connection), renamed)
    assert re.search(r"foreign key \(partner->subject_id\) .* in the definition but not", caplog.text)
    assert database_dump(settings, name) == before


def test_datajoint_reads_a_new_pipejoint_table_in_its_schema(lab, connection):
    """A table pipejoint adds to DataJoint's schema makes no catalog table of pipejoint's there;
    pipejoint reads it back from the server like DataJoint's own."""
    name = lab[0]
    schema = dj.Schema(name, connection=connection)
    m = dj.VirtualModule("lab_module", name, connection=connection)

    @schema
    class Note(dj.Manual):
        definition = """
        -> m.Subject
        note_id : int32
        ---
        text : varchar(200)
        """

    assert "~catalog" not in connection.backend.list_tables(connection, name)
    Note.insert1(dict(subject_id=1, note_id=1, text="hello"))
    assert (Note * m.Subject).fetch1("name", "text") == ("Ada", "hello")
    assert connection.backend.full_table_name(name, "note") in m.Subject.children()
    (m.Subject & {"subject_id": 1}).delete(prompt=False)
    assert len(Note()) == 0
    Note.drop()
    assert "note" not in connection.backend.list_tables(connection, name)


def test_conventions_of_names_and_comments():
    from pipejoint.core.conventions import column_comment, parse_column_comment
    from pipejoint.core.naming import plain_class_name, tier_of

    assert parse_column_comment(":int16:trial number") == ("int16", "trial number")
    assert parse_column_comment(":<blob@main>:") == ("<blob@main>", "")
    assert parse_column_comment(":enum('a:b','c'):kind") == ("enum('a:b','c')", "kind")
    assert parse_column_comment("just words: no type") == (None, "just words: no type")
    assert parse_column_comment(":)") == (None, ":)")
    assert parse_column_comment(None) == (None, "")
    for declared, comment in [("int16", "trial number"), ("<npy@s>", ""), ("uuid", "a: b"), ("int unsigned", "plain")]:
        marker = None if declared == "int unsigned" else declared  # native types carry no marker
        assert parse_column_comment(column_comment(declared, comment)) == (marker, comment)
    assert [tier_of(n, ["session"]) for n in ("session", "#species", "_scan", "__spikes", "session__trial")] == [
        "manual",
        "lookup",
        "imported",
        "computed",
        "part",
    ]
    assert tier_of("orphan__part", ["session"]) is None and tier_of("Employee") is None
    assert tier_of("order-items") is None and tier_of("tblData") is None
    assert plain_class_name("order-items") == "OrderItems" and plain_class_name("tblData") == "TblData"
    assert plain_class_name("Employee_Records") == "EmployeeRecords" and plain_class_name("2024data") == "T2024data"
