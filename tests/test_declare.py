"""The definition language: every grammar form and type, describe() round trips, bad definitions."""

import datetime
import decimal
import json
import subprocess
import sys
import textwrap
import uuid

import pytest

import pipejoint as dj
from helpers import environment_for
from pipejoint.errors import DeclarationError

ALL_TYPES = """
# every type the definition language accepts
id : int32                       # key
---
i8 : int8
i16 : int16
i32 = 7 : int32
i64 : int64
u8 : uint8
u16 : uint16
u32 : uint32
u64 : uint64
f32 : float32
f64 : float64
flag = true : bool
dec = 1.50 : decimal(8,2)
code : char(3)
label = "hello world" : varchar(64)
kind = 'b' : enum('a', 'b', 'c d')
day : date
moment : datetime
precise = null : datetime(3)
clock : time
stamp = CURRENT_TIMESTAMP : timestamp
ident : uuid
doc = null : json
raw = null : bytes
my_tiny : tinyint
my_tiny_u : tinyint unsigned
my_small_u : smallint unsigned
my_medium : mediumint
my_int : int
my_int_u : int unsigned
my_big : bigint unsigned
my_float : float
my_double : double
my_bool : boolean
my_dec : decimal(10, 3) unsigned
my_text = null : text
my_longblob = null : longblob
my_blob = null : blob
my_codec_blob = null : <blob>
"""


def test_every_type_declares_and_round_trips(schema):
    @schema
    class Everything(dj.Manual):
        definition = ALL_TYPES

    row = dict(
        id=1,
        i8=-128,
        i16=-32768,
        i64=-(2**63),
        u8=255,
        u16=65535,
        u32=2**32 - 1,
        u64=2**62,
        f32=1.5,
        f64=2.25,
        code="abc",
        day=datetime.date(2024, 2, 29),
        moment=datetime.datetime(2024, 1, 2, 3, 4, 5),
        precise=datetime.datetime(2024, 1, 2, 3, 4, 5, 123000),
        clock=datetime.time(13, 14, 15),
        ident=uuid.UUID(int=42),
        doc={"a": [1, 2]},
        raw=b"\x00\x01",
        my_tiny=-5,
        my_tiny_u=200,
        my_small_u=60000,
        my_medium=-8388608,
        my_int=-7,
        my_int_u=4000000000,
        my_big=2**62,
        my_float=0.5,
        my_double=1e300,
        my_bool=False,
        my_dec=decimal.Decimal("1234567.125"),
        my_text="long text",
        my_longblob=b"xyz",
    )
    Everything.insert1(row)
    got = Everything.fetch1()
    for key, value in row.items():
        assert got[key] == value, key
    assert got["i32"] == 7 and got["flag"] is True and got["dec"] == decimal.Decimal("1.50")
    assert got["label"] == "hello world" and got["kind"] == "b"
    assert isinstance(got["stamp"], datetime.datetime)
    heading = Everything.heading
    assert heading.primary_key == ["id"]
    assert heading["u8"].type == "uint8" and heading["my_small_u"].type == "smallint unsigned"
    assert heading["precise"].nullable and not heading["u8"].nullable
    assert heading["label"].default == '"hello world"'


def test_describe_redeclares_the_same_table(schema, make_schema):
    @schema
    class Subject(dj.Manual):
        definition = """
        # animals
        subject_id : uint16   # the id
        ---
        species = "mouse" : varchar(30)  # kind
        """

    @schema
    class Device(dj.Lookup):
        definition = """
        device : varchar(16)
        """
        contents = [("probe",), ("scope",)]

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        ---
        -> [nullable] Device
        -> Subject.proj(buddy_id='subject_id')
        started : datetime(3)
        unique index (started)
        index (session, started)
        """

        class Note(dj.Part):
            definition = """
            -> master
            note_no : int8
            ---
            text : varchar(255)
            """

    described = {cls: cls().describe() for cls in (Subject, Device, Session, Session.Note)}
    assert "-> [nullable] Device" in described[Session]
    assert "-> Subject.proj(buddy_id='subject_id')" in described[Session]
    assert "unique index (started)" in described[Session]
    assert "-> master" in described[Session.Note]
    assert "# animals" in described[Subject] and "# the id" in described[Subject]

    other = make_schema()

    @other
    class Subject(dj.Manual):
        definition = described[Subject]

    @other
    class Device(dj.Lookup):
        definition = described[Device]

    @other
    class Session(dj.Manual):
        definition = described[Session]

    for cls in (Subject, Device, Session):
        fresh = other.get_table(cls.__name__)
        original = schema.get_table(cls.__name__)
        assert fresh.describe() == original.describe()
        assert fresh.heading.to_catalog() != [] and [
            (a.name, a.type, a.in_key, a.nullable, a.default, a.comment) for a in fresh.heading.attributes.values()
        ] == [
            (a.name, a.type, a.in_key, a.nullable, a.default, a.comment) for a in original.heading.attributes.values()
        ]


def test_virtual_module_in_a_fresh_process(schema, settings):
    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : uint8
        ---
        weight = null : float32
        """

    @schema
    class Scan(dj.Computed):
        definition = """
        -> Subject
        ---
        quality : enum('good', 'bad')
        """

        class Slice(dj.Part):
            definition = """
            -> master
            slice_no : uint16
            ---
            ok : bool
            """

        def make(self, key):
            pass

    Subject.insert1({"subject_id": 3, "weight": 2.5})
    Scan.insert1({"subject_id": 3, "quality": "good"}, allow_direct_insert=True)
    Scan.Slice.insert1({"subject_id": 3, "slice_no": 1, "ok": True})
    code = textwrap.dedent(f"""
        import json, pipejoint as dj
        lab = dj.VirtualModule("lab", {schema.database!r})
        result = {{
            "classes": sorted(n for n in vars(lab) if n[:1].isupper()),
            "tiers": [lab.Subject.tier, lab.Scan.tier, lab.Scan.Slice.tier],
            "scan_key": lab.Scan.heading.primary_key,
            "slice_types": [a.type for a in lab.Scan.Slice.heading.attributes.values()],
            "rows": len(lab.Scan * lab.Scan.Slice),
            "weight": lab.Subject.fetch1("weight"),
            "describe": lab.Scan.Slice.describe(),
        }}
        legacy = dj.create_virtual_module("legacy", {schema.database!r})
        result["legacy"] = len(legacy.Subject())
        namespace = {{}}
        lab.schema.spawn_missing_classes(namespace)
        result["spawned"] = sorted(namespace)
        print(json.dumps(result))
    """)
    env = {**_clean_env(), **environment_for(settings)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["classes"] == ["Scan", "Subject"]
    assert result["tiers"] == ["manual", "computed", "part"]
    assert result["scan_key"] == ["subject_id"]
    assert result["slice_types"] == ["uint8", "uint16", "bool"]
    assert result["rows"] == 1 and result["weight"] == 2.5 and result["legacy"] == 1
    assert "-> master" in result["describe"]
    assert result["spawned"] == ["Scan", "Subject"]


def _clean_env():
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}


def test_table_names_follow_tiers(schema):
    @schema
    class MyTable2B(dj.Manual):
        definition = "a : int32"

    @schema
    class Species(dj.Lookup):
        definition = "name : varchar(20)"

    @schema
    class RawData(dj.Imported):
        definition = "-> MyTable2B"

        def make(self, key):
            pass

    @schema
    class Analysis(dj.Computed):
        definition = "-> RawData"

        class Result(dj.Part):
            definition = "-> master\nn : int8"

        def make(self, key):
            pass

    assert MyTable2B.table_name == "my_table2_b"
    assert Species.table_name == "#species"
    assert RawData.table_name == "_raw_data"
    assert Analysis.table_name == "__analysis"
    assert Analysis.Result.table_name == "__analysis__result"
    tables = schema.list_tables()
    assert sorted(tables) == sorted(["my_table2_b", "#species", "_raw_data", "__analysis", "__analysis__result"])
    order = [tables.index(t) for t in ("my_table2_b", "_raw_data", "__analysis", "__analysis__result")]
    assert order == sorted(order), "parents come before their children"
    assert tables.index("__analysis__result") == tables.index("__analysis") + 1, "a part follows its master"


def test_not_camel_case_class_name(schema):
    class my_table(dj.Manual):
        definition = "a : int32"

    with pytest.raises(DeclarationError, match="CamelCase.*MyTable"):
        schema(my_table)


def test_singleton_table_holds_one_row(schema):
    @schema
    class Settings(dj.Manual):
        definition = """
        # global settings: no primary key attributes
        ---
        threshold : float64
        """

    assert Settings.heading.primary_key == []
    Settings.insert1({"threshold": 0.5})
    with pytest.raises(dj.DuplicateError):
        Settings.insert1({"threshold": 0.7})
    assert Settings.fetch1("threshold") == 0.5
    assert "threshold" in Settings.describe() and "_singleton" not in Settings.describe()


def test_foreign_keys_bring_parent_keys(schema):
    @schema
    class Animal(dj.Manual):
        definition = """
        animal : varchar(10)
        """

    @schema
    class Cage(dj.Manual):
        definition = """
        cage : int16
        """

    @schema
    class Housing(dj.Manual):
        definition = """
        -> Animal
        -> [unique] Cage
        ---
        -> [nullable] Animal.proj(mate='animal')
        since = CURRENT_TIMESTAMP : datetime
        """

    heading = Housing.heading
    assert heading.primary_key == ["animal", "cage"]
    assert heading.secondary_attributes == ["mate", "since"]
    assert heading["mate"].nullable and heading["mate"].type == "varchar(10)"
    assert heading["mate"].lineage == heading["animal"].lineage == Animal.heading["animal"].lineage
    Animal.insert([("a",), ("b",)])
    Cage.insert([(1,), (2,)])
    Housing.insert1({"animal": "a", "cage": 1, "mate": "b"})
    with pytest.raises(dj.DuplicateError):  # [unique] Cage
        Housing.insert1({"animal": "b", "cage": 1})
    with pytest.raises(dj.IntegrityError):  # mate must exist
        Housing.insert1({"animal": "b", "cage": 2, "mate": "zz"})
    parents = Housing.parents(foreign_key_info=True)
    assert {p for p, _ in parents} == {Animal().full_table_name, Cage().full_table_name}
    renamed = [props for p, props in parents if props["attr_map"] == {"mate": "animal"}]
    assert renamed and renamed[0]["aliased"] and not renamed[0]["primary"]


def test_references_to_tables_in_other_modules(make_schema):
    upstream = make_schema()

    @upstream
    class Lab(dj.Manual):
        definition = "lab : varchar(8)"

    upstream_module = type(sys)("upstream_module")
    upstream_module.Lab = Lab
    downstream = make_schema()

    @downstream
    class Member(dj.Manual):
        definition = """
        -> upstream_module.Lab
        name : varchar(20)
        """

    Lab.insert1(("x",))
    Member.insert1(("x", "ann"))
    with pytest.raises(dj.IntegrityError):
        Member.insert1(("nope", "bob"))
    assert Member().parents() == [Lab().full_table_name]
    assert Lab().children() == [Member().full_table_name]
    assert Member.describe(context={"upstream_module": upstream_module}).startswith("-> upstream_module.Lab\n")
    assert Member.describe().startswith("-> Lab\n")  # by default, as the caller's namespace holds it
    assert Member.describe(context={}).startswith(f"-> {upstream.database}.Lab\n")  # found nowhere: schema.Class


@pytest.mark.parametrize(
    "definition, message",
    [
        ("id : int33", "Unknown type `int33`"),
        ("id : int32\n---\nx : strange(3)", "Unknown type `strange\\(3\\)`"),
        ("id int32", "is not an attribute, foreign key or index"),
        ("Id : int32", "not a valid attribute name"),
        ("_id : int32", "underscore"),
        ("id = null : int32", "cannot be nullable"),
        ("-> NoSuchTable\nid : int32", "could not be resolved"),
        ("id : int32\n---\n-> [nullable, fancy] Parent", "`fancy` is not a foreign key option"),
        ("-> [nullable] Parent\n---\nx : int32", "cannot be nullable"),
        ("id : int32\n---\nx : int32\nx : int16", "declared twice"),
        ("id : int32\n---\nx = 300 : uint8", "outside the range"),
        ("id : int32\n---\nk = 'z' : enum('a','b')", "not one of the enum values"),
        ("id : int32\n---\nindex(nothing)", "unknown attribute"),
        ("id : int32\n---\nb = 'x' : longblob", "can only default to null"),
        ("doc : json", "cannot be part of the primary key"),
        ("id : int32\n---\n---\nx : int32", "second `---`"),
        ("id : decimal(70,2)", "1 <= p <= 65"),
    ],
)
def test_bad_definitions_are_refused(schema, definition, message):
    @schema
    class Parent(dj.Manual):
        definition = "pid : int32"

    bad = type("BadTable", (dj.Manual,), {"definition": definition})
    before = set(schema.connection.backend.list_tables(schema.connection, schema.database))
    with pytest.raises(DeclarationError, match=message) as error:
        schema(bad, context={"Parent": Parent})
    assert "bad_table" in str(error.value)  # names the table
    after = set(schema.connection.backend.list_tables(schema.connection, schema.database))
    assert before == after, "a failed declaration must leave nothing behind"
    assert not bad().is_declared


def test_self_reference_is_a_cycle(schema):
    class Node(dj.Manual):
        definition = "-> Node\nid : int32"

    with pytest.raises(DeclarationError, match="not declared|cycle"):
        schema(Node, context={"Node": Node})


def test_reference_to_undeclared_table(make_schema):
    lazy = make_schema(create_tables=False)

    class Ghost(dj.Manual):
        definition = "g : int32"

    lazy(Ghost)
    assert not Ghost().is_declared
    active = make_schema()

    class Haunted(dj.Manual):
        definition = "-> Ghost\nh : int32"

    with pytest.raises(DeclarationError, match="not declared"):
        active(Haunted, context={"Ghost": Ghost})


def test_part_may_reach_its_master_through_another_part(schema):
    """As in DataJoint, a part may reference another part of its master instead of the master."""

    @schema
    class Rig(dj.Manual):
        definition = "rig : int32"

        class Arm(dj.Part):
            definition = "-> master\narm : int32"

        class Joint(dj.Part):
            definition = "-> Rig.Arm\njoint : int32"

        class Loose(dj.Part):
            definition = "loose : int32"

    Rig.insert([(1,), (2,)])
    Rig.Arm.insert([(1, 10), (2, 20)])
    Rig.Joint.insert([(1, 10, 100), (2, 20, 200)])
    Rig.Loose.insert1((5,))
    assert Rig.Joint().parents() == [Rig.Arm().full_table_name]
    (Rig & {"rig": 1}).delete()
    assert Rig.Joint.to_arrays("joint").tolist() == [200]
    assert len(Rig.Loose()) == 1  # not below the master: untouched


def test_lookup_contents_are_synced(schema):
    @schema
    class Color(dj.Lookup):
        definition = """
        color : varchar(10)
        ---
        rgb : char(6)
        """
        contents = [("red", "ff0000"), {"color": "green", "rgb": "00ff00"}]

    assert len(Color()) == 2
    Color.contents = list(Color.contents) + [("blue", "0000ff")]
    schema(Color)  # re-decorating (a re-run notebook cell) adds the new rows
    assert sorted(Color.fetch("color")) == ["blue", "green", "red"]


def test_auto_increment(schema):
    @schema
    class Ticket(dj.Manual):
        definition = """
        ticket_id : int32 auto_increment
        ---
        title : varchar(40)
        """

    Ticket.insert([{"title": "a"}, {"title": "b"}])
    assert sorted(Ticket.fetch("ticket_id")) == [1, 2]
    assert Ticket.heading["ticket_id"].autoincrement


def test_every_type_survives_describe_and_a_fresh_process(schema, make_schema, settings):
    @schema
    class Everything(dj.Manual):
        definition = ALL_TYPES

    described = Everything.describe()
    copy = make_schema()

    @copy
    class Everything(dj.Manual):
        definition = described

    original = schema.get_table("Everything").heading
    again = copy.get_table("Everything").heading
    fields = lambda h: [(a.name, a.type, a.in_key, a.nullable, a.default, a.comment) for a in h.attributes.values()]  # noqa: E731
    assert fields(again) == fields(original)
    code = textwrap.dedent(f"""
        import json, pipejoint as dj
        module = dj.virtual_schema({schema.database!r})
        heading = module.Everything.heading
        print(json.dumps([[a.name, a.type, a.in_key, a.nullable, a.default, a.comment] for a in heading.attributes.values()]))
    """)
    env = {**_clean_env(), **environment_for(settings)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert [tuple(f) for f in json.loads(out.stdout.strip().splitlines()[-1])] == fields(original)


def test_class_names_with_underscores_declare_with_a_warning(schema):
    """DataJoint 2.x accepts them, warns, and names the table as if the underscores were not there."""

    class Sorted_Spikes(dj.Manual):
        definition = "spike_id : int32"

    with pytest.warns(UserWarning, match="contains underscores"):
        schema(Sorted_Spikes)
    assert Sorted_Spikes.table_name == "sorted_spikes" and Sorted_Spikes.is_declared


def test_a_subclass_declares_its_base_classs_parts_and_self_names_the_class(schema):
    """`-> self.source` refers to a class attribute; parts defined on a base class belong to each subclass."""

    class Rig(dj.Manual):
        definition = "rig_id : int32"

    class Recording(dj.Manual):
        source = None
        definition = """
        -> self.source
        recording : int16
        """

        class Channel(dj.Part):
            definition = """
            -> master
            channel : int16
            """

        class Pair(dj.Part):
            definition = """
            -> master.Channel
            partner : int16
            """

    class RigRecording(Recording):
        source = Rig

    schema(Rig)
    schema(RigRecording)
    assert RigRecording.primary_key == ["rig_id", "recording"]
    assert RigRecording.Pair.heading.names == ["rig_id", "recording", "channel", "partner"]
    assert RigRecording.Pair.full_table_name.endswith(("rig_recording__pair`", 'rig_recording__pair"'))
    Rig.insert1((1,))
    RigRecording.insert1((1, 1))
    RigRecording.Channel.insert1((1, 1, 3))
    RigRecording.Pair.insert1((1, 1, 3, 4))
    assert len(RigRecording.Pair * RigRecording) == 1
