"""Object stores on every backend, with a local directory and with S3 (moto's server on loopback)."""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pytest

import pipejoint as dj
from helpers import store_spec, stored_files
from pipejoint.errors import DataJointError, DeclarationError, DuplicateError, ObjectChangedError
from pipejoint.storage import stores as storage
from pipejoint.storage.objectref import NpyRef, ObjectRef


def test_blob_in_store_is_hash_addressed_and_deduplicated(schema, store):
    @schema
    class Trace(dj.Manual):
        definition = """
        trace_id : int32
        ---
        data : <blob@>
        legacy = null : blob@main
        """

    shared = np.arange(5.0)
    Trace.insert(
        [
            {"trace_id": 1, "data": shared},
            {"trace_id": 2, "data": shared.copy(), "legacy": shared},
            {"trace_id": 3, "data": np.eye(3)},
        ]
    )
    files = stored_files(prefix="_hash")
    assert files == sorted(
        {
            f"_hash/{schema.database}/hsxxmqltz5sh74kine2njicx2a",
            f"_hash/{schema.database}/" + storage.content_hash([dj.blob.pack(np.eye(3))]),
        }
    )
    rows = Trace.to_dicts(order_by="trace_id")
    np.testing.assert_array_equal(rows[0]["data"], shared)
    np.testing.assert_array_equal(rows[1]["legacy"], shared)
    np.testing.assert_array_equal(rows[2]["data"], np.eye(3))
    assert rows[0]["legacy"] is None
    data = (Trace & "trace_id = 2").fetch1("data")
    np.testing.assert_array_equal(data, shared)


def test_changed_object_is_detected_on_fetch(schema, store):
    @schema
    class Thing(dj.Manual):
        definition = """
        thing_id : int32
        ---
        data : <blob@>
        """

    Thing.insert1({"thing_id": 1, "data": [1, 2, 3]})
    (path,) = stored_files(prefix="_hash")
    storage.get_store("main").put_bytes(path, dj.blob.pack([4, 5, 6]))
    with pytest.raises(DataJointError, match="Hash mismatch"):
        Thing.fetch1("data")
    storage.get_store("main").delete(path)
    with pytest.raises(dj.MissingExternalFile, match="missing"):
        Thing.fetch1("data")


def test_attach_in_store_returns_downloaded_path(schema, store, tmp_path):
    @schema
    class Doc(dj.Manual):
        definition = """
        doc_id : int32
        ---
        doc : <attach@>
        """

    source = tmp_path / "notes.txt"
    content = b"x" * (storage.CHUNK * 2 + 17)  # larger than one hashing/copy chunk
    source.write_bytes(content)
    Doc.insert1({"doc_id": 1, "doc": str(source)})
    (path,) = stored_files(prefix="_hash")
    assert path.endswith(storage.content_hash([b"notes.txt\0", content]))
    fetched = Doc.fetch1("doc")
    assert fetched.endswith("notes.txt") and str(tmp_path / "downloads") in fetched
    assert open(fetched, "rb").read() == content


def test_attachments_fetched_in_parallel_go_to_the_download_path(schema, store, tmp_path):
    @schema
    class Session(dj.Manual):
        definition = """
        session_id : int32
        ---
        recording : <attach@>
        """

    rows = []
    for i in range(12):  # every session's file has the same name and other content
        source = tmp_path / f"s{i}" / "recording.bin"
        source.parent.mkdir()
        source.write_bytes(f"session {i}".encode() * 100)
        rows.append({"session_id": i, "recording": str(source)})
    Session.insert(rows)
    folder = tmp_path / "fetched"
    keys, paths = Session.fetch("session_id", "recording", order_by="session_id", download_path=folder)
    assert len(set(paths)) == 12 and all(p.startswith(str(folder / "recording")) for p in paths)
    assert [open(p, "rb").read() for p in paths] == [f"session {i}".encode() * 100 for i in keys]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["recording.bin"] + [f"recording_{n}.bin" for n in range(1, 12)]
    )
    assert not (tmp_path / "downloads").exists()  # config['download_path'] was not used


def test_filepath_tracks_size_and_checksum(schema, store):
    @schema
    class Raw(dj.Manual):
        definition = """
        raw_id : int32
        ---
        file : <filepath@>
        """

    main = storage.get_store("main")
    main.put_bytes("raw/session1/data.bin", b"0123456789")
    Raw.insert1({"raw_id": 1, "file": "raw/session1/data.bin"})
    ref = Raw.fetch1("file")
    assert isinstance(ref, ObjectRef) and ref.size == 10 and ref.read() == b"0123456789"
    assert ref.hash == hashlib.md5(b"0123456789").hexdigest() and ref.path == "raw/session1/data.bin"
    assert ref.verify()
    assert stored_files() == ["raw/session1/data.bin"]  # tracked where it is, never copied
    main.put_bytes("raw/session1/data.bin", b"9876543210")
    with pytest.raises(ObjectChangedError, match="checksum"):
        ref.verify()
    main.put_bytes("raw/session1/data.bin", b"012345678")
    with pytest.raises(ObjectChangedError, match="9 bytes, 10 were recorded"):
        ref.verify()
    for bad, message in [("raw/missing.bin", "does not exist"), ("_hash/x", "managed area"), ("../up.bin", "outside")]:
        with pytest.raises(dj.InvalidValueError, match=message) as info:
            Raw.insert1({"raw_id": 2, "file": bad})
        assert "`file`" in str(info.value) and "raw" in str(info.value)
    assert len(Raw()) == 1


def test_object_file_folder_and_bytes(schema, store, tmp_path):
    @schema
    class Rec(dj.Manual):
        definition = """
        rec_id : int32
        ---
        obj : <object@>
        """

    folder = tmp_path / "arr.zarr"
    (folder / "0").mkdir(parents=True)
    (folder / ".zarray").write_text('{"shape": [2]}')
    (folder / "0" / "0").write_bytes(b"chunk")
    single = tmp_path / "movie.avi"
    single.write_bytes(b"frames")
    Rec.insert(
        [{"rec_id": 1, "obj": str(folder)}, {"rec_id": 2, "obj": str(single)}, {"rec_id": 3, "obj": ("bin", b"raw")}]
    )
    refs = dict(zip(*Rec.fetch("rec_id", "obj")))
    zarr_ref = refs[1]
    assert zarr_ref.is_dir and zarr_ref.item_count == 2 and zarr_ref.size == len('{"shape": [2]}') + 5
    assert zarr_ref.path.startswith(f"_schema/{schema.database}/rec/rec_id=1/obj_") and zarr_ref.path.endswith(".zarr")
    assert zarr_ref.open("0/0").read() == b"chunk"
    assert zarr_ref.fsmap[".zarray"] == b'{"shape": [2]}'
    assert sorted(zarr_ref.listdir()) == [".zarray", "0"]
    assert refs[2].read() == b"frames" and refs[2].path.endswith(".avi") and refs[2].verify()
    assert refs[3].read() == b"raw"
    assert zarr_ref.path + ".manifest.json" in stored_files()
    downloaded = refs[2].download(tmp_path / "out")
    assert open(downloaded, "rb").read() == b"frames"


def test_npy_is_lazy_and_memory_mappable(schema, store):
    @schema
    class Arr(dj.Manual):
        definition = """
        arr_id : int32
        ---
        values : <npy@>
        """

    array = np.arange(24, dtype="int16").reshape(4, 6)
    Arr.insert1({"arr_id": 1, "values": array})
    ref = Arr.fetch1("values")
    assert isinstance(ref, NpyRef) and not ref.is_loaded
    assert ref.shape == (4, 6) and ref.dtype == np.int16 and len(ref) == 4
    mapped = ref.load(mmap_mode="r")
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(np.asarray(ref), array)
    with pytest.raises(dj.InvalidValueError, match="object arrays"):
        Arr.insert1({"arr_id": 2, "values": np.array([{}, []], dtype=object)})


@pytest.mark.parametrize("failure", ["duplicate", "bad value"])
def test_failed_insert_leaves_no_orphan(schema, store, tmp_path, failure):
    @schema
    class Exp(dj.Manual):
        definition = """
        exp_id : int32
        ---
        data : <blob@>
        arr = null : <npy@>
        obj = null : <object@>
        """

    Exp.insert1({"exp_id": 1, "data": "kept"})
    before = stored_files()
    rows = [
        {"exp_id": 2, "data": np.random.rand(50), "arr": np.ones(4), "obj": b"x"},
        {"exp_id": 3, "data": "other", "arr": np.zeros(2), "obj": b"y"},
    ]
    if failure == "duplicate":
        rows.append({"exp_id": 1, "data": "dup", "arr": np.ones(1), "obj": b"z"})
        expected = DuplicateError
    else:
        rows.append({"exp_id": 4, "data": "fine", "arr": "not an array"})
        expected = dj.InvalidValueError
    with pytest.raises(expected):
        Exp.insert(rows)
    assert stored_files() == before
    assert Exp.fetch("exp_id").tolist() == [1]
    assert Exp.fetch1("data") == "kept"
    assert dj.gc(schema, min_age=0)["orphaned"] == []


def test_unconfigured_store_is_a_clear_error(schema, store):
    @schema
    class Other(dj.Manual):
        definition = """
        other_id : int32
        ---
        data : <blob@elsewhere>
        """

    with pytest.raises(
        DataJointError, match=r"Store 'elsewhere' is requested but not configured.*`data`|`data`.*'elsewhere'"
    ):
        Other.insert1({"other_id": 1, "data": 1})
    assert len(Other()) == 0
    with dj.config.override(stores={}):

        @schema
        class Dflt(dj.Manual):
            definition = """
            dflt_id : int32
            ---
            data : <blob@>
            """

        with pytest.raises(DataJointError, match="No default store"):
            Dflt.insert1({"dflt_id": 1, "data": 1})


def test_store_only_codecs_need_a_store(schema):
    for spec in ("<npy>", "<hash>", "<object>", "<filepath>"):
        with pytest.raises(DeclarationError, match="requires @, a store"):

            @schema
            class Bad(dj.Manual):
                definition = f"""
                bad_id : int32
                ---
                x : {spec}
                """

    assert schema.list_tables() == []


@pytest.mark.parametrize("kind", ["file", "s3"])
def test_writes_are_atomic(kind, tmp_path):
    with dj.config.override(stores={"main": store_spec(kind, tmp_path)}):
        main = storage.get_store("main")

        def writer(f):
            f.write(b"half" * 1000)
            raise OSError("disk full")

        with pytest.raises(OSError):
            main.write_with("a/b/object", writer)
        assert not main.exists("a/b/object")
        assert stored_files() == []
        main.put_bytes("a/b/object", b"whole")
        assert main.get_bytes("a/b/object") == b"whole"


def test_transfers_run_in_parallel():
    barrier = threading.Barrier(4, timeout=10)  # only passes when four transfers run at once
    assert storage.parallel_map(lambda i: (barrier.wait(), i)[1], range(4)) == [0, 1, 2, 3]


def test_insert_and_fetch_transfer_objects_in_parallel(schema, store, monkeypatch):
    @schema
    class Frame(dj.Manual):
        definition = """
        frame_id : int32
        ---
        data : <blob@>
        """

    # Each transfer waits until three others are under way too: serial transfers would time out.
    uploads, downloads = threading.Barrier(4, timeout=20), threading.Barrier(4, timeout=20)
    put_chunks, get_bytes = storage.Store.put_chunks, storage.Store.get_bytes
    monkeypatch.setattr(storage.Store, "put_chunks", lambda self, *a: (uploads.wait(), put_chunks(self, *a))[1])
    monkeypatch.setattr(storage.Store, "get_bytes", lambda self, *a: (downloads.wait(), get_bytes(self, *a))[1])
    Frame.insert([{"frame_id": i, "data": np.full(100, i)} for i in range(8)])
    values = Frame.fetch("data", order_by="frame_id")
    assert [int(v[0]) for v in values] == list(range(8))


def test_large_files_are_hashed_and_copied_in_chunks(schema, tmp_path, monkeypatch):
    import tracemalloc

    monkeypatch.setattr(storage, "CHUNK", 2**20)
    size = 40 * 2**20
    source = tmp_path / "big.bin"
    with open(source, "wb") as f:
        for i in range(size // 2**20):
            f.write(bytes([i]) * 2**20)
    with dj.config.override(
        stores={"default": "main", "main": store_spec("file", tmp_path)}, download_path=str(tmp_path / "downloads")
    ):

        @schema
        class Big(dj.Manual):
            definition = """
            big_id : int32
            ---
            attached : <attach@>
            obj : <object@>
            tracked = null : <filepath@>
            """

        storage.get_store("main").put_file(str(source), "incoming/big.bin")
        tracemalloc.start()
        try:
            Big.insert1({"big_id": 1, "attached": str(source), "obj": str(source), "tracked": "incoming/big.bin"})
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # a few 1 MB chunks at a time (three transfers run in parallel), never the whole file
        assert peak < 8 * 2**20, f"inserting a {size >> 20} MB file took {peak / 2**20:.0f} MB of memory"
        row = Big.fetch1("obj", "tracked")
        digest = hashlib.md5(source.read_bytes()).hexdigest()
        assert row[0].hash == digest and row[1].hash == digest and row[1].size == size
        (path,) = stored_files(prefix="_hash")
        assert path.endswith(storage.content_hash([b"big.bin\0", source.read_bytes()]))


def test_many_objects_round_trip(schema, store):
    @schema
    class Many(dj.Manual):
        definition = """
        many_id : int32
        ---
        data : <blob@>
        arr : <npy@>
        """

    rows = [{"many_id": i, "data": np.full(10, i), "arr": np.full(3, i)} for i in range(40)]
    Many.insert(rows)
    fetched = Many.to_dicts(order_by="many_id")
    assert [int(r["data"][0]) for r in fetched] == list(range(40))
    assert [int(np.asarray(r["arr"])[0]) for r in fetched] == list(range(40))


def test_bad_store_spec_is_explained(tmp_path):
    with dj.config.override(stores={"x": {"protocol": "ftp", "location": "/"}}):
        with pytest.raises(DataJointError, match="use 'file' or 's3'"):
            storage.get_store("x")
    with dj.config.override(stores={"x": {"protocol": "file", "location": str(tmp_path / "nope")}}):
        with pytest.raises(DataJointError, match="does not exist"):
            storage.get_store("x")
    with dj.config.override(stores={"x": {"protocol": "s3", "bucket": "b", "location": "l"}}):
        with pytest.raises(DataJointError, match="missing endpoint"):
            storage.get_store("x")


def test_legacy_spellings_and_partitioned_paths(schema, store, tmp_path):
    spec = dict(dj.config["stores"]["main"], partition_pattern="{subject}")
    with dj.config.override(stores={"default": "main", "main": spec}):

        @schema
        class Legacy(dj.Manual):
            definition = """
            subject : varchar(16)
            take : int32
            ---
            doc : attach@main
            raw : filepath@main
            arr : <npy@main>
            """

        source = tmp_path / "a.txt"
        source.write_bytes(b"attached")
        storage.get_store("main").put_bytes("incoming/r.bin", b"r")
        Legacy.insert1({"subject": "m/1", "take": 2, "doc": str(source), "raw": "incoming/r.bin", "arr": np.ones(2)})
        row = Legacy.fetch1()
        assert open(row["doc"], "rb").read() == b"attached" and row["raw"].read() == b"r"
        assert row["arr"].path.startswith(f"_schema/subject=m%2F1/{schema.database}/legacy/take=2/arr_")
        (Legacy & {"take": 2}).delete_quick()
        assert len(dj.gc(schema, dry_run=False, min_age=0)["orphaned"]) == 2  # the attachment and the array
        assert stored_files() == ["incoming/r.bin"]  # the user's file is never collected


# --- DataJoint's object-path helpers, object references and <npy@> errors -----------------------


def test_object_path_helpers_follow_datajoints_layout():
    from pipejoint.storage import build_object_path, encode_pk_value, generate_token

    assert [len(generate_token(n)) for n in (1, 8, 12, 99)] == [4, 8, 12, 16]
    assert len({generate_token() for _ in range(50)}) == 50
    assert all(c.isalnum() for c in generate_token(16))
    assert [encode_pk_value(v) for v in (7, -2, "mouse_3")] == ["7", "-2", "mouse_3"]
    assert encode_pk_value("a/b:c") == "a%2Fb%3Ac"
    long_name = "x" * 150
    assert encode_pk_value(long_name).startswith("x" * 50 + "_") and len(encode_pk_value(long_name)) == 59
    key = {"animal": "m/1", "day": 3}
    path, token = build_object_path("lab", "Scan", "movie", key, "tif", schema_prefix="_schema")
    assert path == f"_schema/lab/Scan/animal=m%2F1/day=3/movie_{token}.tif"
    path, token = build_object_path("lab", "Scan", "movie", key, None, "{day}", 5, schema_prefix="/_objects/")
    assert path == f"_objects/day=3/lab/Scan/animal=m%2F1/movie_{token}" and len(token) == 5
    path, token = build_object_path("lab", "Scan", "movie", key, ".zarr", "{day}", schema_prefix="")
    assert path == f"day=3/lab/Scan/animal=m%2F1/movie_{token}.zarr"


def test_object_codec_writes_where_build_object_path_says(schema, store, tmp_path):
    spec = dict(dj.config["stores"]["main"], partition_pattern="{session}", token_length=6)
    with dj.config.override(stores={"default": "main", "main": spec}):

        @schema
        class Movie(dj.Manual):
            definition = """
            animal : varchar(16)
            session : int32
            ---
            clip : <object@>
            """

        Movie.insert1({"animal": "m7", "session": 4, "clip": (".avi", b"frames")})
        ref = Movie.fetch1("clip")
        prefix = f"_schema/session=4/{schema.database}/movie/animal=m7/clip_"
        assert ref.path.startswith(prefix) and len(ref.path) == len(prefix) + 6 + len(".avi")
        assert stored_files() == [ref.path] and ref.read() == b"frames"
        assert dj.gc(schema, min_age=0)["orphaned"] == []  # found under the partition folder
        Movie.delete_quick()
        assert dj.gc(schema, dry_run=False, min_age=0)["deleted"] == 1
        assert stored_files() == []


def test_object_ref_reports_misuse_and_reads_as_datajoint_does(schema, store, tmp_path):
    @schema
    class Sample(dj.Manual):
        definition = """
        sample_id : int32
        ---
        item : <object@>
        """

    folder = tmp_path / "scan"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    (tmp_path / "notes.txt").write_text("notes")
    with pytest.raises(dj.InvalidValueError, match=r"`item`.*not found"):
        Sample.insert1({"sample_id": 9, "item": str(tmp_path / "absent.bin")})
    assert len(Sample()) == 0 and stored_files() == []
    Sample.insert([{"sample_id": 1, "item": str(folder)}, {"sample_id": 2, "item": str(tmp_path / "notes.txt")}])
    folder_ref, file_ref = Sample.fetch("item", order_by="sample_id")
    assert folder_ref.item_count == 2 and folder_ref.timestamp.tzinfo is not None
    assert str(file_ref) == file_ref.path and file_ref.read() == b"notes"
    assert folder_ref.read("sub/b.txt") == b"b" and folder_ref.listdir() == ["a.txt", "sub"]
    with pytest.raises(DataJointError, match="Cannot read"):
        folder_ref.read()
    with pytest.raises(DataJointError, match="Cannot listdir"):
        file_ref.listdir()
    with pytest.raises(DataJointError, match="Cannot walk"):
        list(file_ref.walk())
    with pytest.raises(DataJointError, match="Cannot open"):
        file_ref.open("inner.txt")
    unbound = ObjectRef(path=file_ref.path, size=5, is_dir=False, timestamp=folder_ref.timestamp)
    assert unbound.store is None and unbound.read() == b"notes"  # the default store
    assert unbound.to_json()["timestamp"] == folder_ref.timestamp.isoformat()
    assert ObjectRef.from_json(file_ref.to_json()) == file_ref


class _Bytes:
    """A storage backend in DataJoint's shape: only get_buffer() and protocol."""

    protocol = "s3"

    def __init__(self, data):
        self.data, self.reads = data, 0

    def get_buffer(self, path):
        self.reads += 1
        return self.data


def test_npy_ref_from_metadata_and_any_backend(tmp_path):
    array = np.arange(12, dtype="float32").reshape(3, 4)
    np.save(tmp_path / "a.npy", array)
    backend = _Bytes((tmp_path / "a.npy").read_bytes())
    ref = NpyRef({"path": "x/a.npy", "store": "remote", "dtype": "float32", "shape": [3, 4]}, backend)
    assert (ref.shape, ref.ndim, ref.size, ref.nbytes, len(ref)) == ((3, 4), 2, 12, 48, 3)
    assert "not loaded" in repr(ref) and backend.reads == 0
    mapped = ref.load(mmap_mode="r")
    assert isinstance(mapped, np.memmap) and not ref.is_loaded
    np.testing.assert_array_equal(mapped, array)
    loaded = ref.load()
    assert not isinstance(loaded, np.memmap) and ref.is_loaded and ref.load() is loaded
    np.testing.assert_array_equal(ref[1], array[1])
    assert backend.reads == 2  # one copy for the memory map, one read for load(); then cached
    scalar = NpyRef({"path": "s.npy", "store": None, "dtype": "int8", "shape": []}, backend)
    with pytest.raises(TypeError, match="0-dimensional"):
        len(scalar)
    with pytest.raises(DataJointError, match="dtype, shape"):
        NpyRef({"path": "s.npy"})


def test_npy_codec_needs_store_and_an_array(schema, store):
    from pipejoint.builtin_codecs import FilepathCodec, HashCodec, NpyCodec, ObjectCodec

    for codec in (NpyCodec(), ObjectCodec(), FilepathCodec(), HashCodec()):
        with pytest.raises(dj.errors.CodecError, match="requires @"):
            codec.get_dtype(is_store=False)
        assert codec.get_dtype(is_store=True) == "json"
    with pytest.raises(DataJointError, match="requires numpy.ndarray"):
        NpyCodec().validate([1, 2])
    with pytest.raises(DeclarationError, match="requires @, a store"):

        @schema
        class NoStore(dj.Manual):
            definition = """
            k : int32
            ---
            a : <npy>
            """

    @schema
    class Arrays(dj.Manual):
        definition = """
        k : int32
        ---
        a : <npy@>
        """

    with pytest.raises(dj.InvalidValueError, match=r"`a`.*requires numpy.ndarray"):
        Arrays.insert1({"k": 1, "a": [1, 2, 3]})
    assert len(Arrays()) == 0 and stored_files() == []


def test_staged_insert_writes_into_the_store_then_inserts(schema, store):
    @schema
    class Recording(dj.Manual):
        definition = """
        rec_id : int32
        ---
        raw : <object@>
        label = "" : varchar(20)
        """

    with Recording().staged_insert1 as staged:
        staged.rec.update(rec_id=1, label="first")
        with staged.open("raw", "bin") as f:
            f.write(b"streamed")
    with Recording().staged_insert1 as staged:
        staged.rec["rec_id"] = 2
        chunks = staged.store("raw", ".zarr")
        chunks["0.0"], chunks["meta/.zattrs"] = b"abc", b"{}"
    file_ref, folder_ref = Recording.fetch("raw", order_by="rec_id")
    assert file_ref.read() == b"streamed" and file_ref.ext == ".bin" and file_ref.verify()
    assert file_ref.path.startswith(f"_schema/{schema.database}/recording/rec_id=1/raw_")
    assert (folder_ref.is_dir, folder_ref.item_count, folder_ref.size) == (True, 2, 5)
    assert folder_ref.read("0.0") == b"abc" and folder_ref.verify()
    Recording.insert1({"rec_id": 0, "raw": (".bin", b"plain")})
    plain = (Recording & {"rec_id": 0}).fetch1("raw")
    assert set(file_ref.to_json()) == set(plain.to_json())  # the same metadata as a plain insert
    (Recording & {"rec_id": 0}).delete_quick()
    assert dj.gc(schema, dry_run=False, min_age=0)["orphaned"] == [("main", plain.path)]  # staged ones are referenced
    before = stored_files()

    with pytest.raises(ZeroDivisionError):
        with Recording().staged_insert1 as staged:
            staged.rec["rec_id"] = 3
            with staged.open("raw", ".bin") as f:
                f.write(b"half")
            1 / 0
    with pytest.raises(dj.DuplicateError):
        with Recording().staged_insert1 as staged:
            staged.rec["rec_id"] = 1
            staged.store("raw")["x"] = b"y"
    assert stored_files() == before and len(Recording()) == 2  # nothing left behind
    with pytest.raises(DataJointError, match="Primary key.*rec_id"):
        with Recording().staged_insert1 as staged:
            staged.open("raw")
    with pytest.raises(DataJointError, match="`label` is not an <object@>"):
        with Recording().staged_insert1 as staged:
            staged.rec["rec_id"] = 4
            staged.open("label")
    assert len(Recording()) == 2
