"""Schemas made by DataJoint 0.14 open in pipejoint as they are (issue 12, item 2).

The fixtures in tests/fixtures/datajoint014/ were made once by real DataJoint 0.14.6
(scripts/make_datajoint014_fixtures.py): SQL dumps of two schemas, the files of their two stores,
and manifest.json with every row as 0.14 fetched it. Each test module run loads them into fresh
schemas on the MariaDB test server and lays the store files out in a temporary folder.

DataJoint 0.14 runs on MySQL/MariaDB only, so these tests skip SQLite and PostgreSQL.

The tables open through the public API (FreeTable, VirtualModule, spawn_missing_classes,
schema.jobs), read from the server's catalog with 0.14's conventions. The hidden bookkeeping
tables (~log, ~external_<store>) have no class by design: `hidden_table_014` (tests/helpers.py)
reads them with the same column rules, to compare their values with what 0.14 fetched.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
import warnings

import numpy as np
import pytest

import pipejoint as dj
from helpers import (
    DJ014_FIXTURES,
    STORE_KINDS,
    dj014_manifest,
    drop_datajoint014,
    hidden_table_014,
    load_datajoint014,
    mysql_snapshot,
    raw_mysql,
    store_spec,
)
from pipejoint.catalog.legacy import attribute_type_014, is_hidden_table
from pipejoint.storage.codecs import get_codec, register_codec, unregister_codec
from pipejoint.storage.codecs.registry import is_registered
from pipejoint.storage.stores import get_store

MYSQL_ONLY = "DataJoint 0.14 runs on MySQL/MariaDB only: its schemas exist nowhere else"


def _free(connection, schema, table):
    return dj.FreeTable(connection, f"`{schema}`.`{table}`")


def _load_values_module():
    spec = importlib.util.spec_from_file_location("dj014_values", os.path.join(DJ014_FIXTURES, "values.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


values = _load_values_module()


# --- the adapters, as the lab's code declares them (the fixture script declared the same) ---------


ADAPTERS = values.adapters(dj)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(backend_connection, tmp_path_factory):
    """The 0.14 fixtures loaded into fresh schemas (dropped after the module)."""
    connection, settings = backend_connection
    if settings["backend"] != "mysql":
        pytest.skip(MYSQL_ONLY)
    result = load_datajoint014(settings, str(tmp_path_factory.mktemp("dj014")))
    yield result
    connection.catalog_cache_clear()
    drop_datajoint014(settings, result)


@pytest.fixture(scope="module")
def s3_buckets(loaded, tmp_path_factory):
    """The loaded store files copied to S3 buckets (moto's server), once per module."""
    specs = {}
    for name, local in loaded.stores.items():
        spec = store_spec("s3", tmp_path_factory.mktemp("s3"))
        spec.update({k: v for k, v in local.items() if k == "subfolding"})
        specs[name] = spec
        with dj.config.override(stores={name: spec}):
            bucket = get_store(name)
            for root, _, files in os.walk(local["location"]):
                for file in files:
                    path = os.path.join(root, file)
                    with open(path, "rb") as f:
                        bucket.put_bytes(os.path.relpath(path, local["location"]).replace(os.sep, "/"), f.read())
    return specs


@pytest.fixture(params=STORE_KINDS)
def stores(request, loaded, tmp_path):
    """The 0.14 stores configured as a lab configures them for pipejoint (file stores, or the same
    files in S3 buckets); downloads into tmp_path, and a fresh stage for filepaths in S3."""
    specs = loaded.stores
    if request.param == "s3":
        specs = {}
        for name, spec in request.getfixturevalue("s3_buckets").items():
            specs[name] = dict(spec, stage=str(tmp_path / "stage" / name)) if "stage" in loaded.stores[name] else spec
    with dj.config.override(stores=specs, download_path=str(tmp_path / "downloads")):
        yield specs


@pytest.fixture
def adapters():
    """The adapters registered under their names (other tests' codecs of the same name put back after)."""
    previous = {name: get_codec(name) for name in ADAPTERS if is_registered(name)}
    for name, adapter in ADAPTERS.items():
        unregister_codec(name)
        register_codec(adapter, name)
    yield ADAPTERS
    for name in ADAPTERS:
        unregister_codec(name)
    for name, codec in previous.items():
        register_codec(codec, name)


def _split(key):
    label, table = key.split(".", 1)
    return label, table


def _schema(loaded, key):
    return loaded.names[_split(key)[0]]


USER_TABLES = list(dj014_manifest()["tables"])
HIDDEN_TABLES = list(dj014_manifest()["hidden_tables"])


# --- comparing with the manifest ---------------------------------------------------------------


def _restore_names(value, loaded):
    """Schema names in text written by 0.14 (~log events, table comments) as the manifest has them."""
    if isinstance(value, str):
        for label, name in loaded.names.items():
            value = value.replace(f"`{name}`", f"`{{{label}}}`")
    return value


def check_rows(loaded, key, got, expected, stores=None):
    """Every row fetched by pipejoint equals the manifest's row (what 0.14 fetched), value for value."""
    assert len(got) == len(expected), f"{key}: {len(got)} rows, 0.14 had {len(expected)}"
    for index, (row, want) in enumerate(zip(got, expected)):
        for name, want_value in want.items():
            if name.startswith("_"):  # a note
                continue
            where = f"{key} row {index} `{name}`"
            assert name in row, f"{where}: missing"
            value = row[name]
            if isinstance(want_value, dict) and "file" in want_value:
                assert isinstance(value, str) and os.path.isfile(value), f"{where}: {value!r} is no file"
                described = values.describe_file(value)
                if "path" in want_value:  # a filepath: the file in the stage, at its path
                    stage = stores["raw"]["stage"]
                    assert os.path.relpath(value, stage).replace(os.sep, "/") == want_value["path"], where
                    described["path"] = want_value["path"]
                assert described == want_value, where
            else:
                assert values.describe(_restore_names(value, loaded)) == want_value, where


# --- the fixtures themselves -------------------------------------------------------------------


def test_fixtures_load_with_every_row(loaded, backend_connection):
    """The dumps load into fresh schemas: every table 0.14 made, with every row (raw SQL)."""
    _, settings = backend_connection
    raw = raw_mysql(settings)
    try:
        with raw.cursor() as cursor:
            counts = {}
            for label, name in loaded.names.items():
                cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (name,))
                for (table,) in cursor.fetchall():
                    cursor.execute(f"SELECT COUNT(*) FROM `{name}`.`{table}`")
                    counts[f"{label}.{table}"] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT referenced_table_schema, referenced_table_name FROM information_schema.key_column_usage "
                "WHERE table_schema = %s AND table_name = 'session' AND referenced_table_name = 'subject'",
                (loaded.lab,),
            )
            cross_schema = cursor.fetchall()
    finally:
        raw.close()
    assert counts == loaded.manifest["row_counts"]
    assert counts["lab.~jobs"] == 6 and counts["lab.~external_raw"] > 0 and counts["lab.__analysis__epoch"] > 0
    assert cross_schema == ((loaded.subject, "subject"),)  # the foreign key names the fresh schema


def test_store_files_lie_where_014_put_them(loaded, backend_connection):
    """Every ~external row's object is in the laid-out store at 0.14's path (computed here from its
    documented layout, independently of pipejoint)."""
    _, settings = backend_connection
    raw = raw_mysql(settings)
    try:
        with raw.cursor() as cursor:
            objects = {}
            for store in loaded.stores:
                cursor.execute(f"SELECT hash, attachment_name, filepath FROM `{loaded.lab}`.`~external_{store}`")
                objects[store] = cursor.fetchall()
    finally:
        raw.close()
    folds = {"raw": (2, 2), "cold": (1,)}
    for store, rows in objects.items():
        location = loaded.stores[store]["location"]
        for digest, attachment, filepath in rows:
            hex_hash = uuid.UUID(bytes=digest).hex
            if filepath:
                path = os.path.join(location, filepath)
            else:
                subfolders, pos = [], 0
                for width in folds[store]:
                    subfolders.append(hex_hash[pos : pos + width])
                    pos += width
                name = hex_hash + (f".{attachment}" if attachment else "")
                path = os.path.join(location, loaded.lab, *subfolders, name)
            assert os.path.isfile(path), path


# --- 0.14's conventions ------------------------------------------------------------------------


def test_column_comments_map_to_types(loaded):
    """Each 0.14 column's SQL type and comment give its attribute type (pipejoint.catalog.legacy)."""
    tables = loaded.manifest["tables"]
    by_name = {(key, c["name"]): c for key in tables for c in tables[key]["columns"]}

    def attr_type(key, name):
        column = by_name[(key, name)]
        return attribute_type_014("the_schema", column["type"], column["comment"])

    t, comment = attr_type("lab._recording", "trace_ext")
    assert (t.codec, t.store, t.extra["external_schema"], comment) == (
        "blob",
        "raw",
        "the_schema",
        "the same samples, in the store",
    )
    t, _ = attr_type("lab._recording", "raw_file")
    assert (t.codec, t.store) == ("attach", "raw")
    t, _ = attr_type("lab._recording", "settings_file")
    assert (t.codec, t.store) == ("filepath", "raw")
    t, _ = attr_type("lab._recording__channel", "waveform_ext")
    assert (t.codec, t.store) == ("blob", "cold")
    t, _ = attr_type("lab.#device", "device_id")
    assert t.core == "uuid"
    t, _ = attr_type("lab.document", "doc")
    assert (t.codec, t.store, t.extra) == ("attach", None, {})
    assert attr_type("lab._recording", "trace") is None  # no marker: the native longblob (read by its header)
    t, _ = attr_type("lab.__analysis", "connectivity")
    assert (t.codec, t.extra) == ("graph", {})
    t, _ = attr_type("lab.__analysis", "connectivity_ext")  # an adapter over blob@raw: a hash column
    assert (t.codec, t.extra) == ("stored_graph", {"external_schema": "the_schema"})
    t, _ = attr_type("lab.__analysis", "analysis_date")
    assert t.codec == "isodate"
    assert attr_type("lab.session", "notes") is None  # a plain column: nothing 0.14-specific
    assert attribute_type_014("s", "json", ":json:") is None  # 2.x markers are not 0.14's
    assert attribute_type_014("s", "json", ":<blob@raw>:") is None
    assert all(is_hidden_table(t) for t in ("~jobs", "~log", "~external_raw")) and not is_hidden_table("session")


# --- values, through headings read with 0.14's conventions -------------------------------------


@pytest.mark.parametrize("key", USER_TABLES)
def test_every_value_decodes(loaded, connection, stores, adapters, key):
    """Every value of every table decodes to what DataJoint 0.14 fetched: longblobs to arrays, dicts,
    MATLAB structs and cells (bytes that are no blob stay bytes); blob@/attach@/filepath@ through
    ~external_<store> and the store; adapted types through the adapter; uuids; parts."""
    schema, table = _schema(loaded, key), _split(key)[1]
    got = _free(connection, schema, table).fetch(as_dict=True, order_by="KEY")
    check_rows(loaded, key, got, loaded.manifest["tables"][key]["rows"], stores)


@pytest.mark.parametrize("key", HIDDEN_TABLES)
def test_hidden_tables_decode(loaded, connection, stores, key):
    """~jobs (its key blobs and error stacks), ~log and ~external_<store> read as 0.14 read them."""
    schema, table = _schema(loaded, key), _split(key)[1]
    got = hidden_table_014(connection, schema, table).fetch(as_dict=True, order_by="KEY")
    check_rows(loaded, key, got, loaded.manifest["hidden_tables"][key]["rows"], stores)


def test_one_row_and_one_attribute(loaded, connection, stores, adapters):
    """fetch1 and fetch('attr') take the same way (one ~external lookup per row or per column)."""
    recording = _free(connection, loaded.lab, "_recording")
    key = {"subject_id": 1, "session_idx": 2}
    expected = next(
        r
        for r in loaded.manifest["tables"]["lab._recording"]["rows"]
        if r["subject_id"] == {"int": 1} and r["session_idx"] == {"int": 2}
    )
    trace, path = (recording & key).fetch1("trace_ext", "raw_file")
    assert values.describe(trace) == expected["trace_ext"]
    assert values.describe_file(path) == expected["raw_file"]
    channels = _free(connection, loaded.lab, "_recording__channel")
    waveforms = channels.fetch("waveform_ext", order_by="KEY")
    described = [None if w is None else values.describe(w) for w in waveforms]
    assert described == [r["waveform_ext"] for r in loaded.manifest["tables"]["lab._recording__channel"]["rows"]]
    analysis = _free(connection, loaded.lab, "__analysis")
    graphs = analysis.fetch("connectivity_ext", order_by="KEY")
    assert [values.describe(g) for g in graphs] == [
        r["connectivity_ext"] for r in loaded.manifest["tables"]["lab.__analysis"]["rows"]
    ]


def test_filepath_is_copied_to_the_stage_and_checked(loaded, connection, stores, tmp_path):
    """A filepath is copied from the store to the stage when missing; a stage copy that differs from
    its checksum is replaced, as 0.14 did."""
    recording = _free(connection, loaded.lab, "_recording")
    key = {"subject_id": 1, "session_idx": 1}
    path = (recording & key).fetch1("settings_file")
    assert path.startswith(stores["raw"]["stage"]) and os.path.isfile(path)
    with open(path, "w") as f:
        f.write("changed locally")
    again = (recording & key).fetch1("settings_file")
    assert again == path
    expected = loaded.manifest["tables"]["lab._recording"]["rows"][0]["settings_file"]
    assert values.describe_file(again)["sha1"] == expected["sha1"]


def test_missing_store_is_named(loaded, connection, tmp_path):
    """Reading a 0.14 store column without that store configured says which store to configure."""
    recording = _free(connection, loaded.lab, "_recording")
    with dj.config.override(stores={}, download_path=str(tmp_path)):
        with pytest.raises(dj.DataJointError, match="Store 'raw'"):
            (recording & {"subject_id": 1, "session_idx": 1}).fetch1("trace_ext")


def test_reading_values_changes_nothing(loaded, connection, backend_connection, stores, adapters):
    """Reading every value of every table (and the hidden ones) leaves the database exactly as it was."""
    _, settings = backend_connection
    before = mysql_snapshot(settings, loaded.names.values())
    for key in USER_TABLES:
        _free(connection, _schema(loaded, key), _split(key)[1]).fetch(as_dict=True)
    for key in HIDDEN_TABLES:
        hidden_table_014(connection, _schema(loaded, key), _split(key)[1]).fetch(as_dict=True)
    assert mysql_snapshot(settings, loaded.names.values()) == before


# --- the public API (needs the reader of the server's catalog) ----------------------------------

CLASSES = {
    "lab": {
        "Device": "Lookup",
        "Session": "Manual",
        "SessionPair": "Manual",
        "Document": "Manual",
        "Snapshot": "Manual",
        "Recording": "Imported",
        "AnalysisParam": "Lookup",
        "Analysis": "Computed",
    },
    "subject": {"Species": "Lookup", "Subject": "Manual"},
}


def test_virtual_module_spawns_the_014_classes(loaded, connection, stores, adapters):
    lab = dj.VirtualModule("lab", loaded.lab, connection=connection, add_objects=ADAPTERS)
    for name, tier in CLASSES["lab"].items():
        cls = getattr(lab, name)
        assert cls.__mro__[1].__name__ == tier or tier in [c.__name__ for c in cls.__mro__], name
    assert {p.__name__ for p in [lab.Recording.Channel, lab.Analysis.Epoch]} == {"Channel", "Epoch"}
    names = set(lab.schema.list_tables())
    assert "session" in names and not any(n.startswith("~") for n in names)


def test_spawn_missing_classes_on_014_schemas(loaded, connection):
    context = {}
    for label in ("subject", "lab"):
        schema = dj.Schema(loaded.names[label], connection=connection, create_tables=False)
        schema.spawn_missing_classes(context=context)
        for name in CLASSES[label]:
            assert name in context, f"{label}: {name} not spawned"


def test_every_value_through_the_virtual_module(loaded, connection, stores, adapters):
    subject = dj.VirtualModule("subject", loaded.subject, connection=connection)
    lab = dj.VirtualModule("lab", loaded.lab, connection=connection, add_objects=ADAPTERS)
    modules = {"lab": lab, "subject": subject}
    for key, info in loaded.manifest["tables"].items():
        label = _split(key)[0]
        owner, _, part = info["class_name"].partition(".")
        cls = getattr(modules[label], owner)
        if part:
            cls = getattr(cls, part)
        got = cls().fetch(as_dict=True, order_by="KEY")
        check_rows(loaded, key, got, info["rows"], stores)


def test_dependencies_across_schemas_and_renamed(loaded, connection, adapters):
    dj.VirtualModule("subject", loaded.subject, connection=connection)
    lab = dj.VirtualModule("lab", loaded.lab, connection=connection, add_objects=ADAPTERS)
    assert connection.backend.full_table_name(loaded.subject, "subject") in lab.Session.parents()
    assert connection.backend.full_table_name(loaded.lab, "#device") in lab.Session.parents()
    pair = lab.SessionPair()
    assert len(pair * lab.Session) == 2
    assert len(lab.Recording.Channel & (lab.Session & {"subject_id": 1})) == 6


def test_schema_jobs_reads_the_014_jobs(loaded, connection, backend_connection):
    """schema.jobs is 0.14's ~jobs, read as it is: its statuses, keys, error messages and stacks,
    restricted like any table; opening it creates nothing and changes nothing."""
    _, settings = backend_connection
    before = mysql_snapshot(settings, [loaded.lab])
    schema = dj.Schema(loaded.lab, connection=connection, create_tables=False)
    jobs = schema.jobs
    rows = jobs.fetch(as_dict=True, order_by="KEY")
    check_rows(loaded, "lab.~jobs", rows, loaded.manifest["hidden_tables"]["lab.~jobs"]["rows"])
    assert sorted(r["status"] for r in rows) == ["error"] * 4 + ["ignore", "reserved"]
    errors = (jobs & {"status": "error"}).fetch(as_dict=True)
    assert {r["key"]["param_id"] for r in errors} == {3}
    assert all(r["error_message"].startswith("ValueError") and "Traceback" in r["error_stack"] for r in errors)
    assert len(jobs & "status = 'reserved'") == 1
    shown, page = repr(jobs & {"status": "error"}), (jobs & {"status": "error"})._repr_html_()
    assert "param_id=3" in shown and "Traceback" not in shown and shown.count("Jobs of") == 1
    assert "param_id=3" in page and "<details>" in page and "Traceback" in page
    assert mysql_snapshot(settings, [loaded.lab]) == before


def test_overview_and_errors_of_a_014_schema(loaded, connection, backend_connection, adapters):
    """schema.overview() counts each table's rows and reads progress and errors from 0.14's ~jobs;
    latest_errors() gives the failed keys with their messages and stacks. Nothing changes."""
    _, settings = backend_connection
    before = mysql_snapshot(settings, loaded.names.values())
    dj.VirtualModule("subject", loaded.subject, connection=connection)
    schema = dj.Schema(loaded.lab, connection=connection, create_tables=False)
    overview = schema.overview()
    jobs = schema.jobs.fetch("table_name", "status", as_dict=True)
    for table in overview.tables:
        assert table.rows == len(table.table()), table.name
        if table.progress is None:
            continue
        statuses = [j["status"] for j in jobs if j["table_name"] == table.table_name]
        remaining, total = table.table.progress()
        assert (table.progress.total, table.progress.made) == (total, total - remaining)
        assert (table.progress.errors, table.progress.reserved, table.progress.ignored) == tuple(
            statuses.count(s) for s in ("error", "reserved", "ignore")
        ), table.name
    assert sum(t.progress.errors for t in overview.tables if t.progress) == 4
    errors = schema.latest_errors(limit=10)
    assert len(errors) == 4
    assert all(e.message.startswith("ValueError") and "Traceback" in e.stack for e in errors)
    assert {e.key["param_id"] for e in errors} == {3}
    assert [e.time for e in errors] == sorted((e.time for e in errors), reverse=True)
    assert mysql_snapshot(settings, loaded.names.values()) == before


def test_opening_and_reading_changes_nothing(loaded, connection, backend_connection, stores, adapters):
    """Opening the schemas, reading every table and the jobs, and drawing the diagram change nothing."""
    _, settings = backend_connection
    before = mysql_snapshot(settings, loaded.names.values())
    dj.VirtualModule("subject", loaded.subject, connection=connection)
    lab = dj.VirtualModule("lab", loaded.lab, connection=connection, add_objects=ADAPTERS)
    for name in CLASSES["lab"]:
        getattr(lab, name)().fetch()
    lab.schema.jobs.fetch()
    dj.Diagram(lab.schema)
    assert mysql_snapshot(settings, loaded.names.values()) == before


def test_longblob_writes_are_014_blobs(loaded, connection, backend_connection):
    """Values written to a 0.14 longblob, bytes too, are serialized as 0.14 wrote them (DataJoint's own
    reader unpacks the stored bytes); pipejoint reads them back."""
    with warnings.catch_warnings():  # DataJoint 2.x warns about its config file and its migrate module
        warnings.simplefilter("ignore")
        import datajoint

    _, settings = backend_connection
    snapshot = _free(connection, loaded.lab, "snapshot")
    written = {
        10: np.arange(6, dtype=np.int16).reshape(2, 3),
        11: {"trial": 3, "values": [1.5, "x"]},
        12: bytes.fromhex("89504e470d0a"),
    }
    try:
        snapshot.insert([dict(snapshot_id=k, source="pipejoint", payload=v) for k, v in written.items()])
        raw = raw_mysql(settings)
        with raw.cursor() as cursor:
            cursor.execute(f"SELECT snapshot_id, payload FROM `{loaded.lab}`.`snapshot` WHERE snapshot_id >= 10")
            stored = dict(cursor.fetchall())
        raw.close()
        assert values.describe(datajoint.blob.unpack(stored[10])) == values.describe(written[10])
        assert values.describe(datajoint.blob.unpack(stored[11])) == values.describe(written[11])
        assert datajoint.blob.unpack(stored[12]) == written[12]
        got = dict(zip(*(snapshot & "snapshot_id >= 10").fetch("snapshot_id", "payload", order_by="KEY")))
        assert {k: values.describe(v) for k, v in got.items()} == {k: values.describe(v) for k, v in written.items()}
    finally:
        (snapshot & "snapshot_id >= 10").delete_quick()


# --- lineage and dependencies: computed from the foreign keys, nothing written ------------------


def test_lineage_comes_from_the_foreign_keys(loaded, connection, adapters):
    """0.14 schemas have no ~lineage: a native key attribute is its own origin and a foreign-key
    attribute takes its parent's, across schemas and through renames; references to
    ~external_<store> are no dependencies and hidden tables are no nodes."""
    dj.VirtualModule("subject", loaded.subject, connection=connection)
    lab = dj.VirtualModule("lab", loaded.lab, connection=connection, add_objects=ADAPTERS)
    subject_id = f"{loaded.subject}.subject.subject_id"
    session_idx = f"{loaded.lab}.session.session_idx"
    session = lab.Session.heading
    assert session["subject_id"].lineage == subject_id
    assert session["session_idx"].lineage == session_idx
    assert session["device_id"].lineage == f"{loaded.lab}.#device.device_id"
    pair = lab.SessionPair.heading
    assert (pair["other_subject"].lineage, pair["other_session"].lineage) == (subject_id, session_idx)
    assert lab.Recording.Channel.heading["subject_id"].lineage == subject_id
    assert not any("~" in p for p in lab.Recording.parents() + lab.Recording.Channel.parents())
    nodes = connection.dependencies.load().graph.nodes
    assert not any("~" in n for n in nodes if loaded.lab in n)


def test_declaring_in_a_014_schema_writes_no_lineage(loaded, connection, backend_connection, adapters):
    """A table declared into a 0.14 schema gets its lineage from its foreign keys; no ~lineage table
    appears in the schema (0.14 clients see it as they left it, plus the new table)."""
    lab = dj.VirtualModule("lab", loaded.lab, connection=connection, add_objects=ADAPTERS)
    schema = dj.Schema(loaded.lab, {"Session": lab.Session}, connection=connection)

    @schema
    class Note(dj.Manual):
        definition = """
        -> Session
        note_idx: int16
        ---
        text: varchar(40)
        """

    try:
        tables = connection.backend.list_tables(connection, loaded.lab)
        assert "note" in tables and "~lineage" not in tables
        assert Note.heading["subject_id"].lineage == f"{loaded.subject}.subject.subject_id"
        assert Note.heading["note_idx"].lineage == f"{loaded.lab}.note.note_idx"
        Note.insert1(dict(subject_id=1, session_idx=1, note_idx=1, text="seen"))
        assert len(Note * lab.Session) == 1
    finally:
        Note.drop_quick()
