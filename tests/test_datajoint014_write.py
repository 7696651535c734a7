"""Writing into schemas DataJoint 0.14 made, as 0.14 wrote them (issue 12, item 2).

New rows in a 0.14 schema must be read by 0.14 clients, which keep working on it: ``blob@store``,
``attach@store`` and ``filepath@store`` values go to the store at 0.14's paths with their rows in
``~external_<store>`` (written before the referencing row, in the same transaction, shared when the
content is the same); ``longblob`` values are serialized as 0.14 serialized them.

The fixtures of tests/fixtures/datajoint014/ (made by DataJoint 0.14.6) are loaded into fresh
schemas for this module (the reading tests, test_datajoint014.py, load their own: these tests add
rows). The interop test runs DataJoint 0.14.6 itself in a subprocess (its own virtual environment,
made on first use: helpers.datajoint014_python) to read what pipejoint wrote. The other tests
check the written bytes against DataJoint's blob format and 0.14's documented hashes and paths,
computed here independently of pipejoint (DataJoint 2.3.5's ``blob.pack`` writes what 0.14's did).
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import importlib.util
import json
import os
import subprocess
import uuid
import warnings

import numpy as np
import pytest

import pipejoint as dj
from helpers import (
    DJ014_FIXTURES,
    datajoint014_python,
    drop_datajoint014,
    load_datajoint014,
    mysql_snapshot,
    raw_mysql,
    s3_endpoint,
    store_spec,
    unique_name,
)
from pipejoint.backends.base import ColumnFacts, TableFacts
from pipejoint.catalog.legacy import attribute_type_014, is_014_schema
from pipejoint.storage.codecs import get_codec, register_codec, unregister_codec
from pipejoint.storage.codecs.registry import is_registered

MYSQL_ONLY = "DataJoint 0.14 runs on MySQL/MariaDB only: its schemas exist nowhere else"


def _load_values_module():
    spec = importlib.util.spec_from_file_location("dj014_values", os.path.join(DJ014_FIXTURES, "values.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


values = _load_values_module()
ADAPTERS = values.adapters(dj)
PROTOCOL_MD = "# Protocol\n\n1. anaesthesia\n2. recording\n"  # the fixture's attachment (0.14 stored it)
SHARED_WAVEFORM = np.arange(12, dtype=np.int16).reshape(3, 4)  # the fixture's shared blob@cold value


def datajoint_blob():
    """DataJoint 2.3.5's blob module (a test dependency): it packs exactly as 0.14 did."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import datajoint.blob

    return datajoint.blob


def md5_uuid(data):
    return uuid.UUID(bytes=hashlib.md5(data).digest())


def object_path_014(location, schema, hash_uuid, folds=(2, 2), suffix=""):
    """Where 0.14 keeps a blob or an attachment: {location}/{schema}/{subfolders}/{hash}[.{name}]."""
    hex_hash, parts, pos = hash_uuid.hex, [], 0
    for width in folds:
        parts.append(hex_hash[pos : pos + width])
        pos += width
    return os.path.join(location, schema, *parts, hex_hash + suffix)


def files_under(folder):
    return sorted(os.path.relpath(os.path.join(d, n), folder) for d, _, names in os.walk(folder) for n in names)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(backend_connection, tmp_path_factory):
    connection, settings = backend_connection
    if settings["backend"] != "mysql":
        pytest.skip(MYSQL_ONLY)
    result = load_datajoint014(settings, str(tmp_path_factory.mktemp("dj014w")))
    yield result
    connection.catalog_cache_clear()
    drop_datajoint014(settings, result)


@pytest.fixture
def adapters():
    previous = {name: get_codec(name) for name in ADAPTERS if is_registered(name)}
    for name, adapter in ADAPTERS.items():
        unregister_codec(name)
        register_codec(adapter, name)
    yield ADAPTERS
    for name in ADAPTERS:
        unregister_codec(name)
    for name, codec in previous.items():
        register_codec(codec, name)


@pytest.fixture
def lab(loaded, connection, adapters, tmp_path):
    """The 0.14 lab schema as a virtual module, with 0.14's store configuration."""
    with dj.config.override(stores=loaded.stores, download_path=str(tmp_path / "downloads")):
        dj.VirtualModule("subject", loaded.subject, connection=connection)
        yield dj.VirtualModule("lab", loaded.lab, connection=connection, add_objects=ADAPTERS)


def external_rows(settings, schema, store):
    """{hash: (size, attachment_name, filepath, contents_hash)} of a ~external table, read with raw SQL."""
    raw = raw_mysql(settings)
    try:
        with raw.cursor() as cursor:
            cursor.execute(
                f"SELECT hash, size, attachment_name, filepath, contents_hash FROM `{schema}`.`~external_{store}`"
            )
            return {
                uuid.UUID(bytes=h): (int(size), name, path, None if c is None else uuid.UUID(bytes=c))
                for h, size, name, path, c in cursor.fetchall()
            }
    finally:
        raw.close()


def stored_column(settings, schema, table, column, where):
    raw = raw_mysql(settings)
    try:
        with raw.cursor() as cursor:
            cursor.execute(f"SELECT `{column}` FROM `{schema}`.`{table}` WHERE {where}")
            return [r[0] for r in cursor.fetchall()]
    finally:
        raw.close()


def new_session(lab, subject_id, session_idx):
    lab.Session.insert1(
        dict(
            subject_id=subject_id,
            session_idx=session_idx,
            device_id=None,
            session_date=datetime.date(2024, 5, session_idx),
            session_start=datetime.datetime(2024, 5, session_idx, 9, 0, 0, 250000),
            duration=datetime.timedelta(minutes=30),
            recorded=datetime.datetime(2024, 5, 6, 12, 0, session_idx),
            quality="good",
            notes="pipejoint",
        )
    )


# --- the interop test: DataJoint 0.14.6 reads what pipejoint wrote -----------------------------------


def write_everything(lab, loaded, folder):
    """Rows of every kind, written by pipejoint into the 0.14 schema; returns {class: [rows as inserted]}."""
    rng = np.random.default_rng(14)
    key = dict(subject_id=2, session_idx=7)
    new_session(lab, **key)
    acquisition = folder / "acq" / "s2_7.dat"
    acquisition.parent.mkdir(parents=True)
    acquisition.write_bytes(b"ACQ0" + rng.bytes(300))
    settings_file = os.path.join(loaded.stores["raw"]["stage"], "settings", "subject2", "session27.json")
    os.makedirs(os.path.dirname(settings_file))
    with open(settings_file, "w") as f:
        f.write('{"gain": 3.5, "session": 27}\n')
    trace = rng.standard_normal((50, 3)).astype(np.float32)
    recording = dict(
        key,
        trace=trace,
        trace_ext=trace.astype(np.float64),
        raw_file=str(acquisition),
        settings_file=settings_file,
        sampling_rate=30027.0,
        meta={"rig": "rig1", "channels": [0, 1, 2], "notes": "pipejoint", "gain": 3.5},
        recording_uuid=uuid.uuid5(uuid.NAMESPACE_URL, "pipejoint/recording27"),
    )
    lab.Recording.insert1(recording, allow_direct_insert=True)
    channels = [
        dict(key, channel=0, gain=0.5, waveform=np.arange(8, dtype=np.int16), waveform_ext=SHARED_WAVEFORM),
        dict(key, channel=1, gain=1.0, waveform=np.arange(8, dtype=np.int16) * 2, waveform_ext=np.zeros(3000)),
        dict(
            key, channel=2, gain=1.5, waveform=np.arange(8, dtype=np.int16) * 3, waveform_ext=rng.standard_normal(20000)
        ),
        dict(key, channel=3, gain=2.0, waveform=np.arange(8, dtype=np.int16) * 4, waveform_ext=None),
    ]
    lab.Recording.Channel.insert(channels, allow_direct_insert=True)
    docs = folder / "docs"
    docs.mkdir()
    (docs / "protocol.md").write_text(PROTOCOL_MD)  # the same name and content 0.14 stored: shared
    (docs / "notes v2.txt").write_text("notes written by pipejoint\n")
    documents = [
        dict(doc_id=10, doc=str(docs / "notes v2.txt"), doc_copy=str(docs / "protocol.md")),
        dict(doc_id=11, doc=str(docs / "protocol.md"), doc_copy=str(docs / "notes v2.txt")),
    ]
    lab.Document.insert(documents)
    stats = np.empty((1, 2), dtype=[("name", object), ("value", object)]).view(dj.MatStruct)
    stats[0, 0] = ("mean", np.float64(trace.mean()))
    stats[0, 1] = ("extent", np.array([trace.min(), trace.max()]))
    cells = np.empty((1, 3), dtype=object)
    cells[0, 0], cells[0, 1], cells[0, 2] = "epoch", None, {"k": 2.5}  # a cell 0.14 can read back
    analysis = dict(
        key,
        param_id=1,
        mean_trace=trace.mean(axis=0),
        big_zeros=np.zeros((40, 50)),
        big_random=rng.integers(0, 2**31, 400, dtype=np.int64),
        stats=stats,
        cells=cells.view(dj.MatCell),
        connectivity={1: [2], 2: [1, 3]},
        connectivity_ext={1: [2, 3], 3: [1]},
        analysis_date=datetime.date(2024, 5, 8),
        analyzed=datetime.datetime(2024, 5, 8, 10, 30, 0),
    )
    lab.Analysis.insert1(analysis, allow_direct_insert=True)
    epochs = [
        dict(
            key,
            param_id=1,
            epoch=0,
            epoch_uuid=uuid.uuid4(),
            epoch_values=np.array([[1, 2], [3, 4]], "uint8"),
            label="first",
        ),
        dict(
            key, param_id=1, epoch=1, epoch_uuid=uuid.uuid4(), epoch_values=[np.float64(1), "label", (1, 2)], label=None
        ),
    ]
    lab.Analysis.Epoch.insert(epochs, allow_direct_insert=True)
    lab.Snapshot.insert1(dict(snapshot_id=20, source="pipejoint", payload=b"\x89PNG raw bytes"))
    return {
        "Recording": [recording],
        "Recording.Channel": channels,
        "Document": documents,
        "Analysis": [analysis],
        "Analysis.Epoch": epochs,
        "Snapshot": [dict(snapshot_id=20, source="pipejoint", payload=b"\x89PNG raw bytes")],
    }


FILE_ATTRIBUTES = {"raw_file", "doc", "doc_copy"}


def describe_written(row, stage):
    out = {}
    for name, value in row.items():
        if value is None:
            out[name] = None
        elif name in FILE_ATTRIBUTES:
            out[name] = values.describe_file(value)
        elif name == "settings_file":
            out[name] = dict(values.describe_file(value), path=os.path.relpath(value, stage).replace(os.sep, "/"))
        else:
            out[name] = values.describe(value)
    return out


def run_datajoint014(request, settings):
    python = datajoint014_python()
    request = dict(
        request,
        connection={k: settings[k] for k in ("host", "port", "user", "password")},
    )
    result = subprocess.run(
        [python, os.path.join(DJ014_FIXTURES, "client.py")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"DataJoint 0.14 failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout)


def test_datajoint014_reads_what_pipejoint_writes(loaded, lab, backend_connection, tmp_path):
    """pipejoint writes rows of every kind into the 0.14 fixture schema (blob@, attach@, filepath@,
    longblobs, adapted types, uuids, parts); DataJoint 0.14.6 fetches them equal value for value,
    finds each stored hash equal to the one it computes for the value, and its own
    schema.external[store] sees rows as it would have made them: none unused, every object at the
    path it expects."""
    _, settings = backend_connection
    python = datajoint014_python()  # before writing: skip early when 0.14 is not available
    assert os.path.exists(python)
    written = write_everything(lab, loaded, tmp_path)
    key_where = "subject_id = 2 AND session_idx = 7"
    fetch = [
        {"schema": "lab", "class": "Recording", "restriction": key_where},
        {"schema": "lab", "class": "Recording.Channel", "restriction": key_where},
        {"schema": "lab", "class": "Document", "restriction": "doc_id >= 10"},
        {"schema": "lab", "class": "Analysis", "restriction": key_where},
        {"schema": "lab", "class": "Analysis.Epoch", "restriction": key_where},
        {"schema": "lab", "class": "Snapshot", "restriction": "snapshot_id = 20"},
    ]
    answer = run_datajoint014(
        {
            "stores": loaded.stores,
            "download_path": str(tmp_path / "dj014-downloads"),
            "schemas": {"subject": loaded.subject, "lab": loaded.lab},
            "fetch": fetch,
            "externals": {"lab": ["raw", "cold"]},
        },
        settings,
    )
    stage = loaded.stores["raw"]["stage"]
    for item in fetch:
        name = f"lab.{item['class']}"
        expected = [describe_written(r, stage) for r in written[item["class"]]]
        got = answer["rows"][name]
        assert len(got) == len(expected), name
        for index, (row, want) in enumerate(zip(got, expected)):
            for attribute, value in want.items():
                assert row[attribute] == value, f"{name} row {index} `{attribute}`"
        for row_hashes in answer["hashes"][name]:  # the column holds the hash 0.14 computes for the value
            for attribute, (stored, computed) in row_hashes.items():
                assert stored == computed, f"{name} `{attribute}`"
    for store in ("raw", "cold"):
        info = answer["externals"][f"lab.{store}"]
        assert info["unused"] == [], f"~external_{store}: rows no table refers to"
        assert info["paths"] and all(exists for _, exists in info["paths"]), f"~external_{store}: objects missing"
    hashes = {h for table in answer["hashes"].values() for row in table for stored, _ in row.values() for h in [stored]}
    rows_014 = {r["hash"]["uuid"]: r for store in ("raw", "cold") for r in answer["externals"][f"lab.{store}"]["rows"]}
    assert hashes <= set(rows_014), "a stored hash without its ~external row"
    settings_row = rows_014[answer["hashes"]["lab.Recording"][0]["settings_file"][0]]
    assert settings_row["filepath"] == {"str": "settings/subject2/session27.json"}
    assert settings_row["attachment_name"] is None and settings_row["contents_hash"] is not None
    raw_file_row = rows_014[answer["hashes"]["lab.Recording"][0]["raw_file"][0]]
    assert raw_file_row["attachment_name"] == {"str": "s2_7.dat"} and raw_file_row["filepath"] is None
    assert raw_file_row["size"] == {"int": 304}


# --- what is written, checked without 0.14 ----------------------------------------------------------


def test_blobs_go_where_014_puts_them_and_are_shared(loaded, lab, backend_connection):
    """A blob@store value is DataJoint's serialized blob (compressed as 0.14 compresses it) at
    {location}/{schema}/{subfolders}/{md5 of the bytes}, tracked in ~external_<store> with its size;
    the column holds that md5 as a uuid. A value 0.14 stored already is shared: same hash, same row."""
    _, settings = backend_connection
    pack = datajoint_blob().pack
    before = external_rows(settings, loaded.lab, "cold")
    new_session(lab, 3, 8)
    key = dict(subject_id=3, session_idx=8)
    lab.Recording.insert1(
        dict(
            key,
            trace=np.zeros((2, 2), np.float32),
            trace_ext=np.zeros(2),
            raw_file=__file__,
            settings_file=None,
            sampling_rate=1.0,
            meta={},
            recording_uuid=uuid.uuid4(),
        ),
        allow_direct_insert=True,
    )
    big = np.random.default_rng(3).standard_normal(20000)  # 160 kB that zlib shrinks by a few percent
    lab.Recording.Channel.insert(
        [
            dict(key, channel=0, gain=1.0, waveform=np.zeros(1, np.int16), waveform_ext=SHARED_WAVEFORM),
            dict(key, channel=1, gain=1.0, waveform=np.zeros(1, np.int16), waveform_ext=big),
        ],
        allow_direct_insert=True,
    )
    after = external_rows(settings, loaded.lab, "cold")
    shared, big_hash = md5_uuid(pack(SHARED_WAVEFORM)), md5_uuid(pack(big))
    assert shared in before and after[shared] == before[shared]  # the row 0.14 wrote, reused
    assert set(after) - set(before) == {big_hash}
    assert after[big_hash] == (len(pack(big)), None, None, None)
    stored = stored_column(
        settings, loaded.lab, "_recording__channel", "waveform_ext", "subject_id = 3 AND session_idx = 8"
    )
    assert sorted(uuid.UUID(bytes=s) for s in stored) == sorted([shared, big_hash])
    path = object_path_014(loaded.stores["cold"]["location"], loaded.lab, big_hash, folds=(1,))
    with open(path, "rb") as f:
        assert f.read() == pack(big)
    assert pack(big).startswith(b"ZL123\0")  # 0.14 keeps zlib whenever it is shorter
    channel = (lab.Recording.Channel & key & {"channel": 1}).fetch1("waveform_ext")
    assert np.array_equal(channel, big)


def test_attachments_and_filepaths_as_014_writes_them(loaded, lab, backend_connection, tmp_path):
    """attach@: the md5 of the file's name, a NUL and its content; the file at {hash}.{name}.
    filepath@: the md5 of the path relative to the stage; contents_hash the md5 of the content;
    the file copied to the same relative path under the store's location."""
    _, settings = backend_connection
    raw = loaded.stores["raw"]
    new_session(lab, 3, 9)
    acquisition = tmp_path / "run 9.bin"
    acquisition.write_bytes(b"\x00\x01pipejoint acquisition\xff")
    staged = os.path.join(raw["stage"], "runs", "run9.yaml")
    os.makedirs(os.path.dirname(staged), exist_ok=True)
    with open(staged, "w") as f:
        f.write("gain: 9\n")
    lab.Recording.insert1(
        dict(
            subject_id=3,
            session_idx=9,
            trace=np.zeros(1, np.float32),
            trace_ext=np.ones(1),
            raw_file=str(acquisition),
            settings_file=staged,
            sampling_rate=1.0,
            meta={},
            recording_uuid=uuid.uuid4(),
        ),
        allow_direct_insert=True,
    )
    content = acquisition.read_bytes()
    attach_hash = md5_uuid(b"run 9.bin\0" + content)
    path_hash = md5_uuid(b"runs/run9.yaml")
    rows = external_rows(settings, loaded.lab, "raw")
    assert rows[attach_hash] == (len(content), "run 9.bin", None, None)
    assert rows[path_hash] == (8, None, "runs/run9.yaml", md5_uuid(b"gain: 9\n"))
    with open(object_path_014(raw["location"], loaded.lab, attach_hash, suffix=".run 9.bin"), "rb") as f:
        assert f.read() == content
    with open(os.path.join(raw["location"], "runs", "run9.yaml")) as f:
        assert f.read() == "gain: 9\n"
    stored = stored_column(settings, loaded.lab, "_recording", "raw_file", "subject_id = 3 AND session_idx = 9")
    assert uuid.UUID(bytes=stored[0]) == attach_hash
    row = (lab.Recording & dict(subject_id=3, session_idx=9)).fetch1()
    assert open(row["raw_file"], "rb").read() == content and row["settings_file"] == staged


def test_objects_in_s3_stores_at_014_paths(loaded, lab, backend_connection, tmp_path):
    """With 0.14's stores in S3 buckets, the objects go to {bucket}/{location}/{schema}/{subfolders}/
    {hash}[.{name}] and a filepath to {bucket}/{location}/{path in the stage}, as 0.14 put them."""
    import boto3

    _, settings = backend_connection
    raw = dict(store_spec("s3", tmp_path), stage=str(tmp_path / "stage"))
    cold = dict(store_spec("s3", tmp_path), subfolding=[1])
    os.makedirs(raw["stage"])
    new_session(lab, 3, 14)
    key = dict(subject_id=3, session_idx=14)
    attachment = tmp_path / "s3 file.txt"
    attachment.write_text("to the bucket\n")
    staged = os.path.join(raw["stage"], "cfg", "s3.json")
    os.makedirs(os.path.dirname(staged))
    with open(staged, "w") as f:
        f.write("{}\n")
    trace = np.arange(4.0)
    waveform = np.arange(6, dtype=np.int16)
    with dj.config.override(stores={"raw": raw, "cold": cold}):
        lab.Recording.insert1(
            dict(
                key,
                trace=np.zeros(1, np.float32),
                trace_ext=trace,
                raw_file=str(attachment),
                settings_file=staged,
                sampling_rate=1.0,
                meta={},
                recording_uuid=uuid.uuid4(),
            ),
            allow_direct_insert=True,
        )
        lab.Recording.Channel.insert1(
            dict(key, channel=0, gain=1.0, waveform=waveform, waveform_ext=waveform), allow_direct_insert=True
        )
        row = (lab.Recording & key).fetch1()
        assert np.array_equal(row["trace_ext"], trace) and open(row["raw_file"]).read() == "to the bucket\n"
    pack = datajoint_blob().pack
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://{s3_endpoint()}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )

    def keys(spec):
        listed = s3.list_objects_v2(Bucket=spec["bucket"]).get("Contents", [])
        return {o["Key"] for o in listed}

    trace_hash = md5_uuid(pack(trace))
    attach_hash = md5_uuid(b"s3 file.txt\0to the bucket\n")
    assert keys(raw) == {
        object_path_014(raw["location"], loaded.lab, trace_hash),
        object_path_014(raw["location"], loaded.lab, attach_hash, suffix=".s3 file.txt"),
        f"{raw['location']}/cfg/s3.json",
    }
    assert keys(cold) == {object_path_014(cold["location"], loaded.lab, md5_uuid(pack(waveform)), folds=(1,))}


def test_a_filepath_keeps_its_content(loaded, lab, backend_connection):
    """0.14 keeps one content per path: the same file again shares its row; a changed file at a
    recorded path is refused (naming the table, the attribute and the fix) and nothing changes."""
    _, settings = backend_connection
    new_session(lab, 3, 10)
    new_session(lab, 3, 11)
    new_session(lab, 3, 12)
    staged = os.path.join(loaded.stores["raw"]["stage"], "shared", "config.txt")
    os.makedirs(os.path.dirname(staged), exist_ok=True)
    with open(staged, "w") as f:
        f.write("version 1\n")

    def row(session_idx):
        return dict(
            subject_id=3,
            session_idx=session_idx,
            trace=np.zeros(1, np.float32),
            trace_ext=np.zeros(1),
            raw_file=__file__,
            settings_file=staged,
            sampling_rate=1.0,
            meta={},
            recording_uuid=uuid.uuid4(),
        )

    lab.Recording.insert1(row(10), allow_direct_insert=True)
    lab.Recording.insert1(row(11), allow_direct_insert=True)  # the same file: its row is shared
    path_hash = md5_uuid(b"shared/config.txt")
    assert external_rows(settings, loaded.lab, "raw")[path_hash][3] == md5_uuid(b"version 1\n")
    with open(staged, "w") as f:
        f.write("version 2\n")
    before = mysql_snapshot(settings, [loaded.lab])
    with pytest.raises(dj.DataJointError, match=r"(?s)_recording.*settings_file.*different version.*own file name"):
        lab.Recording.insert1(row(12), allow_direct_insert=True)
    assert mysql_snapshot(settings, [loaded.lab]) == before


def test_a_failed_insert_leaves_no_external_row_and_no_object(loaded, lab, backend_connection, tmp_path):
    """The ~external rows and the objects of a batch that fails (here: its last row repeats a key)
    are gone afterwards: the rows with the transaction, the new objects removed."""
    _, settings = backend_connection
    stores = {name: spec["location"] for name, spec in loaded.stores.items()}
    files = {name: files_under(location) for name, location in stores.items()}
    before = mysql_snapshot(settings, [loaded.lab])
    attachment = tmp_path / "fresh.txt"
    attachment.write_text("never stored\n")
    rows = [
        dict(doc_id=30, doc=str(attachment), doc_copy=str(attachment)),
        dict(doc_id=1, doc=str(attachment), doc_copy=str(attachment)),  # doc_id 1 exists
    ]
    with pytest.raises(dj.DuplicateError):
        lab.Document.insert(rows)
    channel = dict(subject_id=1, session_idx=1, channel=3, gain=1.0, waveform=np.zeros(1, np.int16))
    with pytest.raises(dj.DataJointError):  # the second row's value cannot be packed
        lab.Recording.Channel.insert(
            [dict(channel, waveform_ext=np.arange(5.0)), dict(channel, channel=4, waveform_ext=object())],
            allow_direct_insert=True,
        )
    assert mysql_snapshot(settings, [loaded.lab]) == before
    assert {name: files_under(location) for name, location in stores.items()} == files


def test_store_not_configured_is_refused_clearly(loaded, lab, backend_connection):
    """Writing a 0.14 store attribute whose store is not configured names the table, the attribute,
    the store and the configuration to add; nothing is written."""
    _, settings = backend_connection
    before = mysql_snapshot(settings, [loaded.lab])
    row = dict(
        subject_id=1, session_idx=1, channel=7, gain=1.0, waveform=np.zeros(1, np.int16), waveform_ext=np.ones(3)
    )
    with dj.config.override(stores={"raw": loaded.stores["raw"]}):
        with pytest.raises(dj.DataJointError) as caught:
            lab.Recording.Channel.insert1(row, allow_direct_insert=True)
    message = str(caught.value)
    for part in (
        "_recording__channel",
        "`waveform_ext`",
        "store 'cold' is not configured",
        "dj.config['stores']['cold']",
    ):
        assert part in message, message
    assert mysql_snapshot(settings, [loaded.lab]) == before


def test_an_instance_writes_014_objects_to_its_own_stores(loaded, backend_connection, adapters):
    """A dj.Instance's tables write 0.14 store values to the stores of its own settings, though
    dj.config names none; its ~external row is written as with dj.config."""
    _, settings = backend_connection
    instance = dj.Instance(
        f"{settings['host']}:{settings['port']}", settings["user"], settings["password"], backend="mysql"
    )
    instance.config["stores"] = loaded.stores
    try:
        with dj.config.override(stores={}):
            dj.VirtualModule("subject", loaded.subject, connection=instance.connection)
            lab = dj.VirtualModule("lab", loaded.lab, connection=instance.connection, add_objects=ADAPTERS)
            value = np.arange(5.0) * 7
            row = dict(subject_id=1, session_idx=1, channel=8, gain=1.0, waveform=np.zeros(1, np.int16))
            lab.Recording.Channel.insert1({**row, "waveform_ext": value}, allow_direct_insert=True)
            stored = (lab.Recording.Channel & {"subject_id": 1, "session_idx": 1, "channel": 8}).fetch1("waveform_ext")
        packed = datajoint_blob().pack(value)
        assert md5_uuid(packed) in external_rows(settings, loaded.lab, "cold")
        path = object_path_014(loaded.stores["cold"]["location"], loaded.lab, md5_uuid(packed), folds=(1,))
        with open(path, "rb") as f:
            assert f.read() == packed
        assert np.array_equal(stored, value)
    finally:
        instance.connection.close()


def test_filepath_outside_the_stage_is_refused_clearly(loaded, lab, backend_connection, tmp_path):
    """A filepath@ value must lie in the store's stage (0.14 records its path relative to it): one
    outside is refused naming table, attribute, store, stage and fix; nothing is written, no file left."""
    _, settings = backend_connection
    outside = tmp_path / "elsewhere.json"
    outside.write_text("{}\n")
    new_session(lab, 3, 13)
    before = mysql_snapshot(settings, [loaded.lab])
    files = files_under(loaded.stores["raw"]["location"])
    row = dict(
        subject_id=3,
        session_idx=13,
        trace=np.zeros(1, np.float32),
        trace_ext=np.arange(7.0),  # uploaded before the filepath fails: removed again
        raw_file=__file__,
        settings_file=str(outside),
        sampling_rate=1.0,
        meta={},
        recording_uuid=uuid.uuid4(),
    )
    with pytest.raises(dj.DataJointError) as caught:
        lab.Recording.insert1(row, allow_direct_insert=True)
    message = str(caught.value)
    for part in (
        "_recording",
        "`settings_file`",
        "stage of store 'raw'",
        loaded.stores["raw"]["stage"],
        "Copy the file",
    ):
        assert part in message, message
    no_stage = {k: v for k, v in loaded.stores["raw"].items() if k != "stage"}
    with dj.config.override(stores={"raw": no_stage, "cold": loaded.stores["cold"]}):
        with pytest.raises(dj.DataJointError, match=r"(?s)`settings_file`.*store 'raw' has no 'stage'.*\['stage'\]"):
            lab.Recording.insert1(row, allow_direct_insert=True)
    assert mysql_snapshot(settings, [loaded.lab]) == before
    assert files_under(loaded.stores["raw"]["location"]) == files


def test_update1_writes_014_objects(loaded, lab, backend_connection):
    """update1 of a 0.14 store attribute stores the object and its ~external row as an insert does."""
    _, settings = backend_connection
    key = dict(subject_id=1, session_idx=1, channel=2)
    value = np.linspace(0, 1, 11)
    lab.Recording.Channel.update1(dict(key, waveform_ext=value))
    hash_uuid = md5_uuid(datajoint_blob().pack(value))
    assert hash_uuid in external_rows(settings, loaded.lab, "cold")
    assert np.array_equal((lab.Recording.Channel & key).fetch1("waveform_ext"), value)


def test_adapted_store_type_applies_the_adapter_first(loaded, lab, backend_connection):
    """An adapter over blob@raw (<stored_graph>): put() first, then the blob is stored as 0.14 stored it."""
    _, settings = backend_connection
    key = dict(subject_id=1, session_idx=1, param_id=2)
    graph = {4: [5], 5: [4, 6]}
    lab.Analysis.update1(dict(key, connectivity_ext=graph))
    edges = ADAPTERS["stored_graph"].put(graph)
    assert md5_uuid(datajoint_blob().pack(edges)) in external_rows(settings, loaded.lab, "raw")
    assert (lab.Analysis & key).fetch1("connectivity_ext") == graph


# --- longblob: serialized in a 0.14 schema, raw bytes in others --------------------------------------


def test_longblob_bytes_follow_the_schema(schema, connection):
    """In a schema that is not 0.14's (pipejoint's, DataJoint 2.x's), a native longblob keeps bytes
    as they are, as DataJoint 2.x does, and serializes other values; both read back unchanged."""

    @schema
    class Payload(dj.Manual):
        definition = """
        payload_id : int32
        ---
        payload = null : longblob
        """

    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452")
    Payload.insert([dict(payload_id=1, payload=png), dict(payload_id=2, payload=np.arange(3.0))])
    table = connection.backend.full_table_name(schema.database, "payload")
    (raw,) = connection.query(f"SELECT payload FROM {table} WHERE payload_id = 1").fetchone()
    assert bytes(raw) == png
    (packed,) = connection.query(f"SELECT payload FROM {table} WHERE payload_id = 2").fetchone()
    assert bytes(packed).startswith(b"mYm\0")
    got = dict(zip(*Payload.fetch("payload_id", "payload", order_by="payload_id")))
    assert got[1] == png and np.array_equal(got[2], np.arange(3.0))
    Payload.update1(dict(payload_id=1, payload=b"\x00raw"))
    (raw,) = connection.query(f"SELECT payload FROM {table} WHERE payload_id = 1").fetchone()
    assert bytes(raw) == b"\x00raw"


def make_empty_014_schema(settings, name):
    """A schema as DataJoint 0.14 leaves it when it creates one: only its ~log (with 0.14's columns)."""
    raw = raw_mysql(settings)
    try:
        with raw.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
            cursor.execute(
                f"CREATE TABLE `{name}`.`~log` (`id` int unsigned NOT NULL AUTO_INCREMENT COMMENT 'event order id',"
                " `timestamp` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT 'event timestamp',"
                " `version` varchar(12) NOT NULL COMMENT 'datajoint version',"
                " `user` varchar(255) NOT NULL COMMENT 'user@host',"
                " `host` varchar(255) NOT NULL DEFAULT '' COMMENT 'system hostname',"
                " `event` varchar(255) NOT NULL DEFAULT '' COMMENT 'event message', PRIMARY KEY (`id`))"
                f" COMMENT='event logging table for `{name}`'"
            )
            cursor.execute(f"INSERT INTO `{name}`.`~log` (version, user, event) VALUES ('0.14.6', 'root@%', 'created')")
    finally:
        raw.close()


def test_tables_declared_in_an_empty_014_schema_write_as_014(backend_connection, connection):
    """An empty 0.14 schema (only its ~log) is 0.14's: a table pipejoint declares there gets no
    ~lineage, and its longblob values, bytes too, are serialized as 0.14 serializes them."""
    _, settings = backend_connection
    if settings["backend"] != "mysql":
        pytest.skip(MYSQL_ONLY)
    name = unique_name("pj014empty")
    make_empty_014_schema(settings, name)
    try:
        schema = dj.Schema(name, connection=connection)

        @schema
        class Payload(dj.Manual):
            definition = """
            payload_id : int
            ---
            payload = null : longblob
            """

        Payload.insert([dict(payload_id=1, payload=b"\x00raw"), dict(payload_id=2, payload=np.zeros(2000))])
        assert "~lineage" not in connection.backend.list_tables(connection, name)
        stored = dict(connection.query(f"SELECT payload_id, payload FROM `{name}`.`payload`").fetchall())
        pack = datajoint_blob().pack
        assert bytes(stored[1]) == pack(b"\x00raw") and bytes(stored[2]) == pack(np.zeros(2000))
        assert Payload.fetch("payload", order_by="payload_id")[0] == b"\x00raw"
    finally:
        connection.query(f"DROP DATABASE IF EXISTS `{name}`")
        connection.catalog_cache_clear()


def test_datajoint014_reads_a_table_pipejoint_declared_in_its_empty_schema(backend_connection, connection, tmp_path):
    """DataJoint 0.14 creates an empty schema; pipejoint declares a table there and inserts; 0.14
    reads the values (bytes included) as it wrote them."""
    _, settings = backend_connection
    if settings["backend"] != "mysql":
        pytest.skip(MYSQL_ONLY)
    python = datajoint014_python()
    name = unique_name("pj014made")
    script = (
        "import datajoint as dj, sys\n"
        "dj.config.update({'database.host': sys.argv[1], 'database.port': int(sys.argv[2]), "
        "'database.user': sys.argv[3], 'database.password': sys.argv[4], 'database.use_tls': False})\n"
        "dj.Schema(sys.argv[5])\n"
    )
    args = [settings["host"], str(settings["port"]), settings["user"], settings["password"] or "", name]
    result = subprocess.run([python, "-c", script, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    try:
        assert is_014_schema(connection.backend.list_tables(connection, name))
        schema = dj.Schema(name, connection=connection)

        @schema
        class Payload(dj.Manual):
            definition = """
            payload_id : int
            ---
            payload = null : longblob
            tag = null : uuid
            label = "" : varchar(32)   # core types get no 2.x marker: 0.14 refuses `:varchar(32):`
            count = 0 : int16
            """

        tag = uuid.uuid4()
        Payload.insert(
            [
                dict(payload_id=1, payload=b"\x00raw", tag=tag, label="first", count=3),
                dict(payload_id=2, payload={"a": [1, 2]}),
            ]
        )
        answer = run_datajoint014(
            {
                "stores": {},
                "download_path": str(tmp_path),
                "schemas": {"made": name},
                "fetch": [{"schema": "made", "class": "Payload", "restriction": "payload_id > 0"}],
                "externals": {},
            },
            settings,
        )
        assert answer["rows"]["made.Payload"] == [
            {
                "payload_id": {"int": 1},
                "payload": values.describe(b"\x00raw"),
                "tag": values.describe(tag),
                "label": values.describe("first"),
                "count": {"int": 3},
            },
            {
                "payload_id": {"int": 2},
                "payload": values.describe({"a": [1, 2]}),
                "tag": None,
                "label": values.describe(""),
                "count": {"int": 0},
            },
        ]
    finally:
        connection.query(f"DROP DATABASE IF EXISTS `{name}`")
        connection.catalog_cache_clear()


# --- which schemas are 0.14's -------------------------------------------------------------------------


def _column(name, sql_type, comment=""):
    return ColumnFacts(name=name, sql_type=sql_type, type=sql_type, nullable=False, default=None, comment=comment)


def _table(name, *columns):
    return TableFacts(name, "", list(columns))


JOBS_014 = _table(
    "~jobs",
    *[_column(n, "varchar(255)") for n in ("table_name", "key_hash", "status", "key", "connection_id", "timestamp")],
)


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        pytest.param({"~log": None}, True, id="empty 0.14 schema: its ~log"),
        pytest.param({"session": _table("session", _column("id", "int")), "~log": None}, True, id="plain tables, ~log"),
        pytest.param({"~external_raw": None}, True, id="~external"),
        pytest.param({"~jobs": JOBS_014}, True, id="0.14's ~jobs, no ~log"),
        pytest.param(
            {"~jobs": _table("~jobs", *JOBS_014.columns, _column("token", "varchar(32)"))},
            False,
            id="pipejoint's ~jobs",
        ),
        pytest.param({"scan": _table("scan", _column("raw", "binary(16)", ":blob@raw:"))}, True, id=":blob@raw:"),
        pytest.param({"doc": _table("doc", _column("doc", "longblob", ":attach:"))}, True, id=":attach:"),
        pytest.param({"scan": _table("scan", _column("raw", "json", ":<blob@raw>:"))}, False, id="2.x codec"),
        pytest.param({"~log": None, "~lineage": None}, False, id="~lineage: 2.x's"),
        pytest.param(
            {"session": _table("session", _column("id", "int"), _column("data", "longblob"))}, False, id="plain SQL"
        ),
        pytest.param({}, False, id="empty database"),
    ],
)
def test_is_014_schema(tables, expected):
    facts = {name: table for name, table in tables.items() if table is not None}
    assert is_014_schema(list(tables), facts) is expected


def test_longblob_in_a_014_schema_is_marked_serialized():
    attr_type, comment = attribute_type_014("s", "longblob", "raw samples", in_014_schema=True)
    assert (attr_type.core, attr_type.extra, comment) == ("blob", {"serialized_014": True}, "raw samples")
    assert attribute_type_014("s", "longblob", "raw samples") is None  # elsewhere: the native type
    assert attribute_type_014("s", "int", "", in_014_schema=True) is None


def test_decimal_and_uuid_values_round_trip_in_014(loaded, lab):
    """Plain attributes of a 0.14 table (decimal, uuid, enum) take values as before."""
    lab.AnalysisParam.insert1(dict(param_id=9, method="median", threshold=decimal.Decimal("2.500"), options=b"opt"))
    row = (lab.AnalysisParam & {"param_id": 9}).fetch1()
    assert row["threshold"] == decimal.Decimal("2.500") and row["options"] == b"opt"
