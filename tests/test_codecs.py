"""Codecs on every backend: user codecs, chains, legacy adapters, blob attributes and in-table attachments."""

from __future__ import annotations

import numpy as np
import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError, DeclarationError
from pipejoint.storage.codecs import CodecError, unregister_codec


class Interval:
    def __init__(self, low, high):
        self.low, self.high = low, high

    def __eq__(self, other):
        return isinstance(other, Interval) and (self.low, self.high) == (other.low, other.high)


class IntervalCodec(dj.Codec):
    """Chains to <blob>: the encoded list is serialized by the blob codec."""

    name = "interval"

    def get_dtype(self, is_store):
        return "<blob>"

    def validate(self, value):
        if not isinstance(value, Interval):
            raise TypeError(f"expected an Interval, got {type(value).__name__}")

    def encode(self, value, *, key=None):
        return [value.low, value.high]

    def decode(self, stored, *, key=None):
        return Interval(*stored)


class TagCodec(dj.Codec):
    """Stored as varchar(8): the column type comes from the end of the chain."""

    name = "tag"
    dtype = "varchar(8)"

    def encode(self, value, *, key=None):
        return value.upper()

    def decode(self, stored, *, key=None):
        return stored.lower()


class CountCodec(dj.Codec):
    name = "count"
    dtype = "int32"

    def encode(self, value, *, key=None):
        return len(value)

    def decode(self, stored, *, key=None):
        return "x" * stored


class KeyedCodec(dj.Codec):
    """Stores JSON that records the key it was given."""

    name = "keyed"
    dtype = "json"

    def encode(self, value, *, key=None):
        return {
            "value": value,
            "key": {k: v for k, v in key.items() if not k.startswith("_")},
            "table": key["_table"],
            "field": key["_field"],
        }

    def decode(self, stored, *, key=None):
        return stored


class GraphAdapter(dj.AttributeAdapter):
    attribute_type = "longblob"

    def put(self, obj):
        return sorted(obj)

    def get(self, value):
        return set(value.tolist()) if hasattr(value, "tolist") else set(value)


graph = GraphAdapter()


def test_user_codecs_round_trip_in_every_fetch_format(schema):
    @schema
    class Window(dj.Manual):
        definition = """
        window_id : int32
        ---
        span : <interval>
        tag : <tag>
        n : <count>
        meta : <keyed>
        """

    Window.insert(
        [{"window_id": i, "span": Interval(i, i + 1.5), "tag": "ab", "n": "xyz", "meta": [i]} for i in (1, 2)]
    )
    row = (Window & {"window_id": 2}).fetch1()
    assert row["span"] == Interval(2, 3.5) and row["tag"] == "ab" and row["n"] == "xxx"
    assert row["meta"] == {"value": [2], "key": {"window_id": 2}, "table": Window.table_name, "field": "meta"}
    assert list(Window.fetch("span", order_by="window_id")) == [Interval(1, 2.5), Interval(2, 3.5)]
    assert Window.to_pandas().loc[1, "span"] == Interval(1, 2.5)
    assert Window.to_arrays()["tag"].tolist() == ["ab", "ab"]
    with pytest.raises(dj.InvalidValueError, match=r"`window`.*row 0.*`span`.*expected an Interval"):
        Window.insert1({"window_id": 3, "span": (1, 2), "tag": "a", "n": "", "meta": 0})
    with pytest.raises(DataJointError):  # varchar(8) is enforced by the database column
        Window.insert1({"window_id": 4, "span": Interval(0, 1), "tag": "much too long", "n": "", "meta": 0})
    assert len(Window()) == 2


def test_update1_runs_codecs(schema):
    @schema
    class Labeled(dj.Manual):
        definition = """
        labeled_id : int32
        ---
        meta : <keyed>
        """

    Labeled.insert1({"labeled_id": 7, "meta": "a"})
    Labeled.update1({"labeled_id": 7, "meta": "b"})
    assert Labeled.fetch1("meta") == {
        "value": "b",
        "key": {"labeled_id": 7},
        "table": Labeled.table_name,
        "field": "meta",
    }


def test_legacy_attribute_adapter(schema):
    @schema
    class Net(dj.Manual):
        definition = """
        net_id : int32
        ---
        edges : <graph>
        """

    Net.insert1({"net_id": 1, "edges": {3, 1, 2}})
    assert Net.fetch1("edges") == {1, 2, 3}


def test_unknown_codec_fails_at_declaration_naming_the_registered_ones(schema):
    with pytest.raises(DeclarationError) as info:

        @schema
        class Broken(dj.Manual):
            definition = """
            broken_id : int32
            ---
            thing : <nosuchcodec>
            """

    message = str(info.value)
    assert "<nosuchcodec> is not registered" in message and "<blob>" in message and "<interval>" in message
    assert "thing" in message and "broken" in message.lower()
    assert schema.list_tables() == []


def test_codec_registration_rules():
    with pytest.raises(CodecError, match="already registered"):
        type("Impostor", (dj.Codec,), {"name": "blob", "dtype": "bytes"})
    with pytest.raises(CodecError, match="non-empty word"):
        type("Empty", (dj.Codec,), {"name": "", "dtype": "bytes"})

    class Unregistered(dj.Codec, register=False):
        name = "not_in_registry"

    assert "not_in_registry" not in dj.list_codecs()
    assert dj.get_codec("<blob@store>").name == "blob"
    with pytest.raises(CodecError, match="not registered"):
        dj.get_codec("nothing_here")


def test_circular_chain_is_refused(schema):
    class Ping(dj.Codec):
        name = "ping"
        dtype = "<pong>"

    class Pong(dj.Codec):
        name = "pong"
        dtype = "<ping>"

    try:
        with pytest.raises(DeclarationError, match="Circular codec reference"):

            @schema
            class Loop(dj.Manual):
                definition = """
                loop_id : int32
                ---
                x : <ping>
                """
    finally:
        unregister_codec("ping")
        unregister_codec("pong")


def test_unregistered_codec_fails_on_fetch_not_on_load(schema):
    class Temp(dj.Codec):
        name = "temporary"
        dtype = "json"

        def encode(self, value, *, key=None):
            return value

        def decode(self, stored, *, key=None):
            return stored

    @schema
    class Holder(dj.Manual):
        definition = """
        holder_id : int32
        ---
        t : <temporary>
        """

    Holder.insert1({"holder_id": 1, "t": [1]})
    unregister_codec("temporary")
    try:
        assert Holder.fetch("holder_id").tolist() == [1]  # plain columns still work
        with pytest.raises(CodecError, match=r"`t`.*<temporary> is not registered"):
            Holder.fetch1("t")
    finally:
        dj.codecs.register_codec(Temp)


@pytest.mark.parametrize("declared", ["longblob", "mediumblob", "blob", "tinyblob", "<blob>", "<attach>", "<interval>"])
def test_restriction_by_blob_attribute_is_refused(schema, declared):
    @schema
    class Stuff(dj.Manual):
        definition = f"""
        stuff_id : int32
        ---
        payload = null : {declared}
        """

    for restriction in ({"payload": 1}, [{"payload": 1}, {"payload": 2}]):
        with pytest.raises(DataJointError, match=r"Cannot restrict by blob attribute `payload`.*Restrict by key"):
            Stuff & restriction


def test_blob_attributes_in_every_fetch_format(schema):
    @schema
    class Sig(dj.Manual):
        definition = """
        sig_id : int32
        ---
        a : longblob
        b : <blob>
        """

    column = np.arange(6.0).reshape(6, 1)
    Sig.insert1({"sig_id": 1, "a": column, "b": {"k": [1, "two"]}})
    row = Sig.fetch1()
    np.testing.assert_array_equal(row["a"], column)
    assert row["b"] == {"k": [1, "two"]}
    assert Sig.fetch1("a", squeeze=True).shape == (6,)
    assert Sig.fetch("a")[0].shape == (6, 1)
    assert Sig.to_pandas()["b"].iloc[0] == {"k": [1, "two"]}
    assert Sig.to_arrays()["a"][0].shape == (6, 1)


def test_attach_in_table_writes_to_download_path(schema, tmp_path):
    @schema
    class Note(dj.Manual):
        definition = """
        note_id : int32
        ---
        file : <attach>
        """

    first, second = tmp_path / "a" / "report.txt", tmp_path / "b" / "report.txt"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_bytes(b"one")
    second.write_bytes(b"two")
    Note.insert([{"note_id": 1, "file": str(first)}, {"note_id": 2, "file": str(second)}])
    downloads = tmp_path / "downloads"
    with dj.config.override(download_path=str(downloads)):
        paths = Note.fetch("file", order_by="note_id")
        again = Note.fetch("file", order_by="note_id")
    assert [open(p, "rb").read() for p in paths] == [b"one", b"two"]
    assert sorted(p.name for p in downloads.iterdir()) == ["report.txt", "report_1.txt"]
    assert list(again) == list(paths)  # identical content is reused, not copied again
    with pytest.raises(dj.InvalidValueError, match=r"`file`.*not a file"):
        Note.insert1({"note_id": 3, "file": str(tmp_path / "missing.txt")})


def test_attach_fetch_writes_to_the_given_download_path(schema, tmp_path):
    @schema
    class Note(dj.Manual):
        definition = """
        note_id : int32
        ---
        file : attach
        """

    source = tmp_path / "src" / "report.txt"
    source.parent.mkdir()
    source.write_bytes(b"measured")
    Note.insert1({"note_id": 1, "file": str(source)})
    default, given = tmp_path / "default", tmp_path / "given"
    with dj.config.override(download_path=str(default)):
        (path,) = Note.fetch("file", download_path=given)
        assert path == str(given / "report.txt") and open(path, "rb").read() == b"measured"
        assert Note.fetch1("file", download_path=given / "one") == str(given / "one" / "report.txt")
        assert Note.fetch1(download_path=given / "row")["file"] == str(given / "row" / "report.txt")
        assert Note.fetch(as_dict=True, download_path=given / "dicts")[0]["file"] == str(given / "dicts" / "report.txt")
        frame = Note.fetch(format="frame", download_path=given / "frame")
        assert frame["file"].iloc[0] == str(given / "frame" / "report.txt")
        assert not default.exists()  # every call above wrote where it was told
        assert Note.to_dicts()[0]["file"] == str(default / "report.txt")  # 2.x: config['download_path']
    assert open(default / "report.txt", "rb").read() == b"measured"


def test_fetch1_of_other_attributes_writes_no_attachment(schema, tmp_path):
    @schema
    class Note(dj.Manual):
        definition = """
        note_id : int32
        ---
        title : varchar(32)
        file : <attach>
        data : <blob>
        """

    source = tmp_path / "report.txt"
    source.write_bytes(b"content")
    Note.insert1({"note_id": 1, "title": "first", "file": str(source), "data": [1, 2]})
    folder = tmp_path / "downloads"
    assert (Note & {"note_id": 1}).fetch1("title", download_path=folder) == "first"
    assert Note.fetch1("KEY", "data", download_path=folder) == ({"note_id": 1}, [1, 2])
    assert not folder.exists()  # only the named attributes were decoded
    assert Note.fetch1("file", "title", download_path=folder) == (str(folder / "report.txt"), "first")


def test_attach_name_clash_keeps_the_existing_file(schema, tmp_path):
    @schema
    class Note(dj.Manual):
        definition = """
        note_id : int32
        ---
        file : <attach>
        """

    source = tmp_path / "report.txt"
    source.write_bytes(b"from the database")
    Note.insert1({"note_id": 1, "file": str(source)})
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "report.txt").write_bytes(b"the user's own file")
    (folder / "report_1.txt").write_bytes(b"another file of the user")
    path = Note.fetch1("file", download_path=folder)
    assert path == str(folder / "report_2.txt") and open(path, "rb").read() == b"from the database"
    assert (folder / "report.txt").read_bytes() == b"the user's own file"
    assert (folder / "report_1.txt").read_bytes() == b"another file of the user"
    assert Note.fetch1("file", download_path=folder) == path  # the same content is found, not copied again
    assert sorted(p.name for p in folder.iterdir()) == ["report.txt", "report_1.txt", "report_2.txt"]


def test_attachment_name_cannot_leave_the_download_folder(schema, connection, tmp_path):
    @schema
    class Note(dj.Manual):
        definition = """
        note_id : int32
        ---
        file : <attach>
        """

    table = connection.backend.full_table_name(schema.database, Note.table_name)
    q = connection.backend.quote
    p = "?" if connection.backend.paramstyle == "qmark" else "%s"
    connection.query(
        f"INSERT INTO {table} ({q('note_id')}, {q('file')}) VALUES ({p}, {p})",
        (1, b"../../escaped.txt\0written by someone else"),
    )
    folder = tmp_path / "a" / "b"
    path = Note.fetch1("file", download_path=folder)
    assert path == str(folder / "escaped.txt") and not (tmp_path / "escaped.txt").exists()


def test_value_too_large_for_the_server_is_refused_clearly(schema, connection):
    limit = connection.backend.max_value_bytes(connection)
    if limit is None:
        pytest.skip(f"{connection.backend.name} has no per-statement size limit below the column type's own")
    if limit > 64e6:
        pytest.skip(f"the server accepts {limit / 1e6:.0f} MB per statement; a larger test value would be slow")

    @schema
    class Huge(dj.Manual):
        definition = """
        huge_id : int32
        ---
        data : <blob>
        """

    Huge.insert1({"huge_id": 1, "data": 1})
    noise = np.random.default_rng(0).standard_normal(int(limit / 8) + 1000)
    with pytest.raises(dj.InvalidValueError, match=r"`huge`.*`data`.*MB.*max_allowed_packet"):
        Huge.insert([{"huge_id": 2, "data": 2}, {"huge_id": 3, "data": noise}])
    assert Huge.fetch("huge_id").tolist() == [1]
