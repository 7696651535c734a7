"""DataJoint 2.3.5 opens, reads, extends and populates what pipejoint declares and writes.

On MySQL/MariaDB and PostgreSQL pipejoint declares tables as DataJoint 2.x does (column comments
`:<type>:<comment>`, the table comment, PostgreSQL's enum types, `_singleton`, `_job_*`, foreign
keys ON UPDATE CASCADE ON DELETE RESTRICT, the `~lineage` table), so real DataJoint, in the same
test, decodes every value and can declare and populate the same pipeline. SQLite has no
DataJoint counterpart (DataJoint 2.3.5 has no SQLite backend): those tests are skipped there,
and SQLite's tables stay as they were.

DataJoint 2.3.5's own limits, seen on tables it declares itself and so left out of the
comparisons below: on PostgreSQL it can neither insert nor fetch `uuid` values (it sends and
expects 16 bytes for the native uuid column) and cannot fetch in-table `<attach>` values (it
gets a memoryview); on MariaDB it cannot insert into store codec columns (`<blob@>`,
`<attach@>`, `<filepath@>`, `<object@>`, `<npy@>`, `<hash@>`: MariaDB reports their JSON column
as longtext).
"""

from __future__ import annotations

import datetime
import decimal
import os
import uuid

import numpy as np
import pytest

import pipejoint as pj
from helpers import configure_datajoint, drop_schema, unique_name
from pipejoint.core.conventions import column_comment, parse_column_comment
from pipejoint.errors import DeclarationError

SUBJECT = """
# a subject of the experiments
subject_id : int32            # subject number
---
name : varchar(64)            # given name
sex : enum('F', 'M', 'U')
dob = null : date
tag = null : uuid             # an external id
"""
KIND = """
kind : varchar(16)
---
description = "" : varchar(255)
"""
DEVICE = """
device : uuid     # serial id of the device
---
model : varchar(32)
"""
SESSION = """
# one recording session
-> Subject
session : int16
---
-> Kind
-> [nullable] Device
started : datetime(3)
ok = 1 : bool
price = 1.5 : decimal(8,2)
info = null : json
gain : float32
rate : float64
small : int8
big : int64
trace = null : <blob>
raw = null : bytes
code : char(4)
notes = null : <attach>
index (started)
unique index (code)
"""
TRIAL = """
-> master
trial : int32
---
outcome : enum('hit', 'miss')
"""
STORED = """
-> Session
---
sblob = null : <blob@main>
satt = null : <attach@main>
fp = null : <filepath@main>
obj = null : <object@main>
arr = null : <npy@main>
h = null : <hash@main>
"""
SETTINGS = """
# lab-wide settings
---
threshold : float64
"""
RESULT = """
-> Session
---
total : float64
"""
OTHER = """
session : int16   # not a session of Session: another lineage
"""


def declare_pipeline(dj, schema):
    """The pipeline on `schema` with `dj`'s tiers (pipejoint or DataJoint): the same code for both."""
    context = {}

    def add(name, base, definition, **members):
        cls = type(name, (base,), {"definition": definition, **members})
        context[name] = schema(cls, context=context)
        return context[name]

    add("Subject", dj.Manual, SUBJECT)
    add("Kind", dj.Lookup, KIND)
    add("Device", dj.Lookup, DEVICE)
    add("Session", dj.Manual, SESSION, Trial=type("Trial", (dj.Part,), {"definition": TRIAL}))
    add("Stored", dj.Manual, STORED)
    add("Settings", dj.Manual, SETTINGS)
    session = context["Session"]

    def make(self, key):
        gain, rate = (session & key).fetch1("gain", "rate")
        self.insert1(dict(key, total=float(gain) + float(rate)))

    add("Result", dj.Computed, RESULT, make=make)
    add("Other", dj.Manual, OTHER)
    return context


@pytest.fixture
def server(connection, settings):
    if connection.backend.name == "sqlite":
        pytest.skip("DataJoint 2.3.5 has no SQLite backend: there is no DataJoint client to share a SQLite file with")
    return connection, settings


@pytest.fixture
def stores(tmp_path):
    """One file store, configured the same way for pipejoint and DataJoint (dj.config['stores'])."""
    location = tmp_path / "store"
    (location / "raw").mkdir(parents=True)
    (location / "raw" / "f.dat").write_bytes(b"raw file content")
    spec = {"default": "main", "filepath_default": "main", "main": {"protocol": "file", "location": str(location)}}
    with pj.config.override(stores=spec, download_path=str(tmp_path / "pj-downloads")):
        yield spec


@pytest.fixture
def datajoint(server, stores, tmp_path):
    connection, settings = server
    (tmp_path / "dj-downloads").mkdir()
    dj = configure_datajoint(settings, stores, tmp_path / "dj-downloads")
    created = []
    yield dj, created
    dj.conn().close()
    for name in created:
        drop_schema(connection, name)


@pytest.fixture
def shared(server, make_schema, datajoint):
    """A schema pipejoint declares the pipeline in; DataJoint opens the same schema."""
    schema = make_schema()
    return schema, declare_pipeline(pj, schema)


def attachment(tmp_path, name="notes.txt", content=b"first notes\n"):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def session_row(tmp_path, session=1):
    return dict(
        subject_id=1,
        session=session,
        kind="a",
        started=datetime.datetime(2024, 1, 2, 3, 4, 5, 123000),
        ok=True,
        price=decimal.Decimal("3.25"),
        info={"channels": [1, 2], "note": "ok"},
        gain=0.5,
        rate=1 / 3,
        small=-5,
        big=2**40 + 1,
        trace=np.arange(6.0).reshape(2, 3),
        raw=b"\x00\x01raw",
        code=f"c{session:03d}",
        notes=attachment(tmp_path),
    )


def stored_row(tmp_path, session=1):
    return dict(
        subject_id=1,
        session=session,
        sblob=np.arange(5),
        satt=attachment(tmp_path, "stored.txt", b"stored attachment"),
        fp="raw/f.dat",
        obj=("dat", b"object bytes"),
        arr=np.arange(4, dtype="int16"),
        h=b"hash-addressed bytes",
    )


def insert_values(tables, tmp_path, tag):
    tables["Kind"].insert1(dict(kind="a", description="first kind"))
    tables["Subject"].insert1(dict(subject_id=1, name="Ann", sex="F", dob=datetime.date(2020, 2, 29), tag=tag))
    tables["Session"].insert1(session_row(tmp_path))
    tables["Session"].Trial.insert(
        [dict(subject_id=1, session=1, trial=t, outcome=o) for t, o in ((1, "hit"), (2, "miss"))]
    )
    tables["Stored"].insert1(stored_row(tmp_path))
    tables["Settings"].insert1(dict(threshold=0.25))


def file_content(path):
    with open(path, "rb") as f:
        return f.read()


def assert_session(row, expected, *, attach=True):
    """A Session row read by either client equals what was inserted, value for value."""
    assert row["subject_id"] == 1 and row["session"] == expected["session"] and row["kind"] == "a"
    assert row["started"] == expected["started"]
    assert bool(row["ok"]) is True  # DataJoint gives MySQL's tinyint as 1
    assert row["price"] == expected["price"] and isinstance(row["price"], decimal.Decimal)
    assert row["info"] == expected["info"]
    assert float(row["gain"]) == 0.5 and row["rate"] == pytest.approx(1 / 3, rel=1e-15)
    assert row["small"] == -5 and row["big"] == 2**40 + 1
    assert isinstance(row["trace"], np.ndarray) and np.array_equal(row["trace"], expected["trace"])
    assert bytes(row["raw"]) == expected["raw"]
    assert row["code"] == expected["code"]
    if attach:
        assert os.path.basename(row["notes"]) == "notes.txt" and file_content(row["notes"]) == b"first notes\n"


def assert_stored(row, expected):
    assert isinstance(row["sblob"], np.ndarray) and np.array_equal(row["sblob"], expected["sblob"])
    assert file_content(row["satt"]) == b"stored attachment"
    assert row["fp"].read() == b"raw file content"
    assert row["obj"].read() == b"object bytes"
    assert np.array_equal(np.asarray(row["arr"]), expected["arr"]) and np.asarray(row["arr"]).dtype == np.int16
    assert bytes(row["h"]) == expected["h"]


# --- the convention itself (no database) -----------------------------------------------------------


@pytest.mark.parametrize(
    "declared, comment, written",
    [
        ("int32", "session number", ":int32:session number"),
        ("varchar(64)", "", ":varchar(64):"),
        ("uuid", "", ":uuid:"),
        ("<blob>", "raw trace", ":<blob>:raw trace"),
        ("<blob@store1>", "", ":<blob@store1>:"),
        ("<npy@local>", "", ":<npy@local>:"),
        ("datetime(3)", "", ":datetime(3):"),
        ("decimal(8,2)", "", ":decimal(8,2):"),
        ("enum('a','b')", "", ":enum('a','b'):"),
        ("json", "", ":json:"),
        ("bytes", "", ":bytes:"),
        ("bool", "", ":bool:"),
        # native types carry no marker, as in DataJoint
        ("int", "a number", "a number"),
        ("int unsigned", "", ""),
        ("longblob", "", ""),
        ("float", "", ""),
        ("time", "", ""),
        ("timestamp", "", ""),
        ("text", "", ""),
        ("decimal(8)", "", ""),
        # pipejoint's spellings of what DataJoint writes differently, and its own core types
        ("blob@store1", "", ":<blob@store1>:"),
        ("attach", "", ":<attach>:"),
        ("boolean", "", ":bool:"),
        ("uint16", "", ":uint16:"),
    ],
)
def test_column_comment_is_datajoints(declared, comment, written):
    assert column_comment(declared, comment) == written
    marker, rest = parse_column_comment(written)
    assert rest == comment and (marker is None) == (written == comment)


def test_parse_column_comment_reads_as_datajoint_does():
    assert parse_column_comment(":<attach@s>:a: b") == ("<attach@s>", "a: b")
    assert parse_column_comment("plain: text") == (None, "plain: text")
    assert parse_column_comment(None) == (None, "")


def test_comments_starting_with_a_colon_are_refused(schema):
    class Colon(pj.Manual):
        definition = """
        id : int32   # :looks like a type
        """

    with pytest.raises(DeclarationError, match=r"(?s)`id`.*starts with a colon.*another character"):
        schema(Colon)

    class ColonTable(pj.Manual):
        definition = """
        # :not a table comment
        id : int32
        """

    with pytest.raises(DeclarationError, match="ColonTable|colon_table"):
        schema(ColonTable)
    assert not Colon().is_declared


def test_sqlite_keeps_the_comments_in_a_hidden_table(connection, schema):
    """SQLite has no comments: ~comments holds the strings DataJoint writes on the servers (every
    column with its declared type), ~lineage is DataJoint's, and no ~catalog is made."""
    if connection.backend.name != "sqlite":
        pytest.skip("about SQLite, whose schemas have no DataJoint counterpart")
    tables = declare_pipeline(pj, schema)
    names = connection.backend.list_tables(connection, schema.database)
    assert {"~lineage", "~comments", "session"} <= set(names) and "~catalog" not in names
    assert tables["Session"].heading["gain"].type == "float32"
    comments = dict(
        connection.query(
            f"SELECT column_name, comment FROM {connection.backend.full_table_name(schema.database, '~comments')} "
            "WHERE table_name = 'session'"
        ).fetchall()
    )
    assert comments["gain"].startswith(":float32:")


# --- the tables: as DataJoint declares them ----------------------------------------------------------


def _server_tables(connection, schema):
    """What the server's catalog says about each table, with the schema's name written as S."""
    q = lambda sql, *args: [tuple(r) for r in connection.query(sql, args).fetchall()]  # noqa: E731
    tables = {}
    for table in connection.backend.list_tables(connection, schema):
        if table == "~catalog":  # pipejoint's own: only in schemas an earlier pipejoint made
            continue
        if connection.backend.name == "mysql":
            comment = q(
                "SELECT table_comment FROM information_schema.tables WHERE table_schema=%s AND table_name=%s",
                schema,
                table,
            )[0][0]
            columns = q(
                "SELECT column_name, column_type, is_nullable, column_default, column_comment FROM "
                "information_schema.columns WHERE table_schema=%s AND table_name=%s ORDER BY ordinal_position",
                schema,
                table,
            )
            foreign = q(
                "SELECT k.constraint_name, GROUP_CONCAT(k.column_name ORDER BY k.ordinal_position), "
                "k.referenced_table_name, GROUP_CONCAT(k.referenced_column_name ORDER BY k.ordinal_position), "
                "r.update_rule, r.delete_rule FROM information_schema.key_column_usage k JOIN "
                "information_schema.referential_constraints r ON r.constraint_schema = k.constraint_schema AND "
                "r.constraint_name = k.constraint_name WHERE k.table_schema=%s AND k.table_name=%s AND "
                "k.referenced_table_name IS NOT NULL GROUP BY k.constraint_name, k.referenced_table_name, "
                "r.update_rule, r.delete_rule",
                schema,
                table,
            )
            foreign = sorted(f[1:] for f in foreign)
            indexes = q(
                "SELECT index_name, MIN(non_unique), GROUP_CONCAT(column_name ORDER BY seq_in_index) FROM "
                "information_schema.statistics WHERE table_schema=%s AND table_name=%s GROUP BY index_name",
                schema,
                table,
            )
            indexes = sorted((bool(i[1]), i[2]) for i in indexes)
        else:
            regclass = connection.backend.full_table_name(schema, table)
            comment = q("SELECT obj_description(%s::regclass, 'pg_class')", regclass)[0][0]
            columns = q(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
                "pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                regclass,
            )
            foreign = sorted(
                q(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid=%s::regclass AND contype='f'",
                    regclass,
                )
            )
            indexes = sorted(
                (" UNIQUE " in d, d.split(" USING btree ", 1)[1])
                for (d,) in q("SELECT indexdef FROM pg_indexes WHERE schemaname=%s AND tablename=%s", schema, table)
            )
        tables[table] = {"comment": comment or "", "columns": columns, "foreign": foreign, "indexes": indexes}
    return _renamed(tables, schema)


def _renamed(value, schema):
    """`value` with the schema's name written as S in every string, so two schemas compare."""
    if isinstance(value, str):
        return value.replace(schema, "S")
    if isinstance(value, dict):
        return {k: _renamed(v, schema) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_renamed(v, schema) for v in value)
    return value


def _lineage_rows(connection, schema):
    table = connection.backend.full_table_name(schema, "~lineage")
    rows = connection.query(f"SELECT table_name, attribute_name, lineage FROM {table}").fetchall()
    return sorted(tuple(value.replace(schema, "S") for value in row) for row in rows)


def _enum_types(connection, schema):
    if connection.backend.name != "postgresql":
        return []
    rows = connection.query(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = %s AND t.typtype = 'e' ORDER BY 1",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


def test_tables_are_declared_as_datajoint_declares_them(server, make_schema, datajoint):
    """The same definitions declared by DataJoint and by pipejoint give the same columns (types, nullability,
    defaults, comments with their type markers), table comments, foreign keys with DataJoint's options,
    indexes, ~lineage rows and PostgreSQL enum types.

    Not compared, as pipejoint's own choices that DataJoint reads the same: index and constraint names,
    CHECK constraints (pipejoint enforces bool and int8 ranges in the database) and the MySQL schema's
    collation (utf8mb4_bin, so comparisons are case-sensitive as on the other backends)."""
    connection, _ = server
    dj, created = datajoint
    theirs = unique_name("dj")
    created.append(theirs)
    declare_pipeline(dj, dj.Schema(theirs))
    ours = make_schema()
    declare_pipeline(pj, ours)

    expected = _server_tables(connection, theirs)
    got = _server_tables(connection, ours.database)
    assert sorted(got) == sorted(expected)
    for table in expected:
        assert got[table] == expected[table], table
    assert _lineage_rows(connection, ours.database) == _lineage_rows(connection, theirs)
    assert _enum_types(connection, ours.database) == _enum_types(connection, theirs)

    # what DataJoint relies on, spelled out
    session = got["session"]["columns"]
    comments = {c[0]: c[-1] for c in session}
    assert comments["trace"] == ":<blob>:" and comments["gain"] == ":float32:" and comments["ok"] == ":bool:"
    # copied by a foreign key: the parent's comment, with only :uuid: restored, and only on MySQL
    mysql = connection.backend.name == "mysql"
    assert comments["device"] == (":uuid:serial id of the device" if mysql else None)
    assert comments["subject_id"] == ("subject number" if mysql else None)
    assert got["session"]["comment"] == "one recording session"
    assert "CASCADE" in repr(got["session"]["foreign"]) and "RESTRICT" in repr(got["session"]["foreign"])
    settings_columns = [c[0] for c in got["settings"]["columns"]]
    assert settings_columns == ["threshold", "_singleton"]
    assert ("settings", "_singleton", "S.settings._singleton") in _lineage_rows(connection, ours.database)


def test_mysql_native_types_carry_no_marker(server, schema):
    connection, _ = server
    if connection.backend.name != "mysql":
        pytest.skip("native MySQL types (int unsigned, longblob) are MySQL's")

    @schema
    class Native(pj.Manual):
        definition = """
        id : int unsigned     # native
        ---
        payload = null : longblob
        when = null : timestamp
        count16 : uint16      # pipejoint's core type: marked so it reads back
        """

    rows = connection.query(
        "SELECT column_name, column_comment FROM information_schema.columns WHERE table_schema=%s AND "
        "table_name='native' ORDER BY ordinal_position",
        (schema.database,),
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        ("id", "native"),
        ("payload", ""),
        ("when", ""),
        ("count16", ":uint16:pipejoint's core type: marked so it reads back"),
    ]


# --- values: DataJoint reads what pipejoint writes, and the other way round ---------------------------


def test_datajoint_reads_every_value_pipejoint_writes(shared, datajoint, tmp_path):
    connection = shared[0].connection
    schema, tables = shared
    dj, _ = datajoint
    postgres = connection.backend.name == "postgresql"
    tag = uuid.UUID("12345678-1234-5678-1234-567812345678")
    insert_values(tables, tmp_path, tag)

    vm = dj.VirtualModule("shared", schema.database)
    subject = vm.Subject.proj(*(["name", "sex", "dob"] if postgres else ["name", "sex", "dob", "tag"])).to_dicts()
    assert subject == [
        dict(subject_id=1, name="Ann", sex="F", dob=datetime.date(2020, 2, 29), **({} if postgres else {"tag": tag}))
    ]
    assert vm.Subject.heading["tag"].uuid  # PostgreSQL: DataJoint 2.3.5 decodes no uuid (see the module doc)
    names = [n for n in vm.Session.heading.names if not (postgres and n == "notes")]
    (row,) = vm.Session.proj(*names).to_dicts()
    assert_session(row, session_row(tmp_path), attach=not postgres)
    assert vm.Session.Trial.to_dicts(order_by="trial") == [
        dict(subject_id=1, session=1, trial=1, outcome="hit"),
        dict(subject_id=1, session=1, trial=2, outcome="miss"),
    ]
    assert_stored(vm.Stored.fetch1(), stored_row(tmp_path))
    assert vm.Settings.to_dicts() == [dict(threshold=0.25)]
    assert vm.Kind.to_dicts() == [dict(kind="a", description="first kind")]

    # DataJoint's own classes bind to the existing tables (nothing is declared again) and read the same
    before = connection.backend.list_tables(connection, schema.database)
    theirs = declare_pipeline(dj, dj.Schema(schema.database))
    assert connection.backend.list_tables(connection, schema.database) == before
    (again,) = theirs["Session"].proj(*names).to_dicts()
    assert_session(again, session_row(tmp_path), attach=not postgres)
    assert len(theirs["Session"].Trial()) == 2 and len(theirs["Session"] * theirs["Subject"]) == 1


def test_compressed_blobs_and_native_times_read_the_same(server, schema, datajoint, tmp_path):
    """A large blob is stored compressed (DataJoint's ZL123 header) and DataJoint unpacks it; native time
    and timestamp columns (no type marker) come back as the driver gives them to DataJoint."""
    connection, _ = server
    dj, _ = datajoint

    @schema
    class Clock(pj.Manual):
        definition = """
        clock : int32
        ---
        image : <blob>
        at : time
        stamp : timestamp
        """

    image = np.zeros((200, 300))
    image[::7, ::5] = 1.5
    at, stamp = datetime.time(13, 14, 15), datetime.datetime(2024, 5, 6, 7, 8, 9)
    Clock.insert1(dict(clock=1, image=image, at=at, stamp=stamp))
    (raw,) = connection.query(f"SELECT image FROM {Clock.full_table_name}").fetchone()
    assert bytes(raw).startswith(b"ZL123\0") and len(raw) < image.nbytes / 10

    row = dj.VirtualModule("clock", schema.database).Clock.fetch1()
    assert np.array_equal(row["image"], image)
    # pymysql gives TIME as a timedelta, psycopg2 as a time of day
    assert row["at"] in (at, datetime.timedelta(hours=13, minutes=14, seconds=15))
    assert row["stamp"] == stamp


def test_pipejoint_reads_what_datajoint_inserts(shared, datajoint, tmp_path):
    connection = shared[0].connection
    schema, tables = shared
    dj, _ = datajoint
    postgres = connection.backend.name == "postgresql"
    theirs = declare_pipeline(dj, dj.Schema(schema.database))
    tag = uuid.UUID("87654321-4321-8765-4321-876543218765")
    theirs["Kind"].insert1(dict(kind="a", description="first kind"))
    theirs["Subject"].insert1(dict(subject_id=1, name="Ann", sex="F", dob=None, tag=None if postgres else tag))
    theirs["Session"].insert1(session_row(tmp_path))
    theirs["Session"].Trial.insert1(dict(subject_id=1, session=1, trial=1, outcome="hit"))
    theirs["Settings"].insert1(dict(threshold=0.5))
    stored = stored_row(tmp_path)
    if postgres:  # MariaDB: DataJoint 2.3.5 cannot insert into store codec columns (see the module doc)
        theirs["Stored"].insert1(stored)

    assert tables["Subject"].fetch1() == dict(
        subject_id=1, name="Ann", sex="F", dob=None, tag=None if postgres else tag
    )
    assert_session(tables["Session"].fetch1(), session_row(tmp_path))
    assert tables["Session"].Trial.fetch1("outcome") == "hit"
    assert tables["Settings"].fetch1("threshold") == 0.5
    # what pipejoint inserts next to DataJoint's rows, DataJoint reads
    tables["Session"].insert1(session_row(tmp_path, 2))
    names = [n for n in theirs["Session"].heading.names if not (postgres and n == "notes")]
    assert len(theirs["Session"].proj(*names).to_dicts()) == 2
    if postgres:
        assert_stored(tables["Stored"].fetch1(), stored)
        # equal content is one hash-addressed object for both clients' rows
        tables["Stored"].insert1(stored_row(tmp_path, 2))
        table = tables["Stored"].full_table_name
        paths = connection.query(f"SELECT sblob, h FROM {table} ORDER BY session").fetchall()
        assert paths[0] == paths[1]
        assert_stored((theirs["Stored"] & {"session": 2}).fetch1(), stored)


def test_store_objects_are_where_datajoint_puts_them(shared, datajoint, tmp_path, stores):
    """Hash-addressed objects of equal content are one file for both clients; schema-addressed ones lie
    under _schema/{schema}/{table}/{key}/, with metadata of DataJoint's shape."""
    connection = shared[0].connection
    schema, tables = shared
    dj, _ = datajoint
    insert_values(tables, tmp_path, None)
    names = ("sblob", "satt", "fp", "obj", "arr", "h")
    (row,) = connection.query(f"SELECT {', '.join(names)} FROM {tables['Stored'].full_table_name}").fetchall()
    meta = {name: _json(value) for name, value in zip(names, row)}
    assert set(meta["sblob"]) == {"hash", "path", "schema", "store", "size"}
    assert meta["sblob"]["path"] == f"_hash/{schema.database}/{meta['sblob']['hash']}"
    assert set(meta["arr"]) == {"path", "store", "dtype", "shape"} and meta["arr"]["dtype"] == "int16"
    assert meta["obj"]["path"].startswith(f"_schema/{schema.database}/stored/subject_id=1/session=1/obj_")
    assert {"path", "store", "size", "ext", "is_dir", "item_count", "timestamp"} <= set(meta["obj"])
    assert {"path", "store", "size", "is_dir", "timestamp"} <= set(meta["fp"]) and meta["fp"]["path"] == "raw/f.dat"
    location = stores["main"]["location"]
    assert os.path.isfile(os.path.join(location, meta["h"]["path"]))
    # DataJoint's hash of the same bytes is the same address
    from datajoint.hash_registry import compute_hash

    assert compute_hash(b"hash-addressed bytes") == meta["h"]["hash"]


def _json(value):
    import json

    return json.loads(value) if isinstance(value, (str, bytes)) else value


# --- populate: DataJoint makes the rows of a table pipejoint declared ---------------------------------


def test_datajoint_populates_a_table_pipejoint_declared(shared, datajoint, tmp_path):
    schema, tables = shared
    dj, _ = datajoint
    insert_values(tables, tmp_path, None)
    tables["Session"].insert1(session_row(tmp_path, 2))
    theirs = declare_pipeline(dj, dj.Schema(schema.database))
    assert theirs["Result"].progress() == (2, 2)
    assert theirs["Result"].populate(reserve_jobs=False) == {"success_count": 2, "error_list": []}
    expected = 0.5 + 1 / 3
    assert tables["Result"].fetch("total").tolist() == pytest.approx([expected, expected])
    assert tables["Result"].populate()["success_count"] == 0  # nothing left for pipejoint

    # DataJoint's distributed populate declares its own jobs table `~~result` in the schema (the
    # queue both clients are to share is a later step); pipejoint lists no `~` table as its own
    tables["Session"].insert1(session_row(tmp_path, 3))
    assert theirs["Result"].populate(reserve_jobs=True)["success_count"] == 1
    connection = schema.connection
    assert "~~result" in connection.backend.list_tables(connection, schema.database)
    assert "~~result" not in schema.list_tables() and len(tables["Result"]) == 3


def test_job_metadata_columns_are_datajoints(server, make_schema, datajoint, tmp_path):
    """Declared with jobs.add_job_metadata, the hidden _job_* columns are DataJoint's, and DataJoint's
    populate fills them in pipejoint's table."""
    connection, _ = server
    dj, _ = datajoint
    with pj.config.override(**{"jobs.add_job_metadata": True}):
        schema = make_schema()
        tables = declare_pipeline(pj, schema)
    insert_values(tables, tmp_path, None)
    heading = tables["Result"].heading
    assert heading["_job_start_time"].type == "datetime(3)" and heading["_job_start_time"].nullable
    assert heading["_job_duration"].type == "float32" and heading["_job_version"].default == '""'
    dj.config.jobs.add_job_metadata = True
    try:
        theirs = declare_pipeline(dj, dj.Schema(schema.database))
        assert theirs["Result"].populate()["success_count"] == 1
    finally:
        dj.config.jobs.add_job_metadata = False
    start, duration, version = tables["Result"].fetch1("_job_start_time", "_job_duration", "_job_version")
    assert isinstance(start, datetime.datetime) and duration >= 0 and version == ""


# --- lineage: DataJoint's semantic matching on pipejoint's tables --------------------------------------


def test_lineage_rows_follow_declare_and_drop(shared, datajoint):
    schema, tables = shared
    connection = schema.connection
    dj, _ = datajoint
    rows = _lineage_rows(connection, schema.database)
    assert ("session", "subject_id", "S.subject.subject_id") in rows
    assert ("session", "kind", "S.#kind.kind") in rows  # a secondary foreign key too
    assert ("session__trial", "session", "S.session.session") in rows
    assert ("other", "session", "S.other.session") in rows
    assert not any(r[1] == "started" for r in rows)  # native secondary attributes have none

    vm = dj.VirtualModule("lineage", schema.database)
    with pytest.raises(dj.DataJointError, match="(?i)lineage"):
        (vm.Session * vm.Other).to_dicts()  # same name, other origin: DataJoint refuses, as pipejoint does
    assert len(vm.Session * vm.Subject) == 0

    tables["Result"].drop()
    assert not any(r[0] == "__result" for r in _lineage_rows(connection, schema.database))


def test_schemas_of_earlier_pipejoint_get_their_lineage_rows(server, schema):
    """A schema an earlier pipejoint made has no ~lineage table: the next declaration creates it with
    the rows of every table already there (from pipejoint's catalog)."""
    connection, _ = server
    tables = declare_pipeline(pj, schema)
    complete = _lineage_rows(connection, schema.database)
    connection.query(f"DROP TABLE {connection.backend.full_table_name(schema.database, '~lineage')}")

    Session = tables["Session"]  # noqa: F841  (the definition names it)

    @schema
    class Later(pj.Manual):
        definition = """
        -> Session
        later : int32
        """

    rows = _lineage_rows(connection, schema.database)
    assert [r for r in rows if r[0] != "later"] == complete
    assert ("later", "session", "S.session.session") in rows and len(tables) == 8


# --- enum attributes in SQL fragments mean the same on every backend -----------------------------------


def test_enum_attributes_in_fragments_compare_as_text(schema):
    """On PostgreSQL an enum column has DataJoint's enum type, which orders by position and has no LIKE:
    restriction strings and computed attributes still compare it as text, as MySQL does."""

    @schema
    class Animal(pj.Manual):
        definition = """
        animal : int32
        ---
        sex : enum('M', 'F')
        """

    Animal.insert([(1, "M"), (2, "F")])
    assert (Animal & "sex LIKE 'F%'").fetch("animal").tolist() == [2]
    assert (Animal & "sex > 'F'").fetch("animal").tolist() == [1]  # 'M' > 'F' as text
    assert (Animal & "UPPER(sex) = 'M'").fetch("animal").tolist() == [1]
    assert sorted(Animal.proj(s="CONCAT(sex, '!')").fetch("s").tolist()) == ["F!", "M!"]
    assert (Animal & {"sex": "F"}).fetch1("animal") == 2
    assert len(Animal & [{"animal": i, "sex": s} for i, s in [(1, "M"), (2, "M"), (3, "F")] * 400]) == 1
