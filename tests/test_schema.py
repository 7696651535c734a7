"""Schemas: activation, listing, dropping; table introspection and drop with dependents."""

import pytest

import pipejoint as dj
from helpers import unique_name
from pipejoint.errors import DataJointError, MissingTableError


def test_schema_lifecycle(connection):
    name = unique_name()
    schema = dj.Schema(name, connection=connection)
    assert schema.exists and schema.is_activated()
    assert name in dj.list_schemas(connection)
    schema.drop(prompt=False)
    assert not schema.exists
    assert name not in dj.list_schemas(connection)


def test_missing_schema_without_create(connection):
    with pytest.raises(DataJointError, match="does not exist"):
        dj.Schema(unique_name(), connection=connection, create_schema=False)


def test_invalid_schema_name(connection):
    with pytest.raises(DataJointError, match="not valid"):
        dj.Schema("bad-name.x", connection=connection)


def test_deferred_activation(connection, make_schema):
    schema = dj.Schema()

    @schema
    class Queued(dj.Manual):
        definition = "q : int32"

    name = unique_name()
    schema.activate(name, connection=connection)
    try:
        assert Queued().is_declared and Queued.table_name in schema.list_tables()
        with pytest.raises(DataJointError, match="already activated"):
            schema.activate(unique_name())
    finally:
        schema.drop(prompt=False)


def test_legacy_lowercase_schema_and_spawn(connection, make_schema):
    schema = make_schema()
    legacy = dj.schema(schema.database, connection=connection)

    @legacy
    class Thing(dj.Manual):
        definition = "thing : int32"

    namespace = {}
    schema.spawn_missing_classes(namespace)
    assert set(namespace) == {"Thing"}
    namespace["Thing"].insert1((4,))
    assert Thing.fetch1("thing") == 4


def test_tables_by_name(schema):
    @schema
    class Mouse(dj.Manual):
        definition = "mouse : int32"

    @schema
    class Species(dj.Lookup):
        definition = "species : varchar(10)"
        contents = [("mus",)]

    assert "Mouse" in schema and "species" in schema and "Rat" not in schema
    assert schema["Species"].fetch1("species") == "mus"
    assert [t.table_name for t in schema] == schema.list_tables()
    with pytest.raises(DataJointError, match="has no table"):
        schema.get_table("Rat")


def test_drop_cascades_to_dependents(schema, make_schema):
    @schema
    class Root(dj.Manual):
        definition = "root : int32"

    @schema
    class Leaf(dj.Manual):
        definition = "-> Root\nleaf : int32"

        class Bit(dj.Part):
            definition = "-> master\nbit : int8"

    other = make_schema()

    @other
    class Far(dj.Manual):
        definition = "-> Leaf\nfar : int8"

    Root.insert1((1,))
    names = [Root().full_table_name, Leaf().full_table_name, Leaf.Bit().full_table_name, Far().full_table_name]
    assert Root().descendants() == names
    assert Far().ancestors()[-1] == Far().full_table_name and Root().full_table_name in Far().ancestors()
    with pytest.raises(DataJointError, match="depend on it"):
        Root().drop_quick()
    with pytest.raises(DataJointError, match="part table"):
        Leaf.Bit().drop()
    Root().drop(prompt=False)
    for table in (Root, Leaf, Leaf.Bit, Far):
        assert not table().is_declared
    assert schema.list_tables() == [] and other.list_tables() == []
    with pytest.raises(MissingTableError):
        len(Root())


def test_schema_with_dependents_elsewhere_cannot_be_dropped(make_schema):
    upstream = make_schema()
    downstream = make_schema()

    @upstream
    class Source(dj.Manual):
        definition = "s : int32"

    @downstream
    class Sink(dj.Manual):
        definition = "-> Source"

    with pytest.raises(DataJointError, match="depend on it"):
        upstream.drop(prompt=False)
    assert upstream.exists


def test_free_table(connection, schema):
    @schema
    class Probe(dj.Manual):
        definition = "probe : varchar(8)\n---\nchannels : uint16"

    Probe.insert1(("np1", 384))
    free = dj.FreeTable(connection, f"{schema.database}.probe")
    assert free.fetch1() == {"probe": "np1", "channels": 384}
    assert free.heading.primary_key == ["probe"] and free.class_name == "Probe"


def test_heading_introspection(schema):
    @schema
    class Recording(dj.Manual):
        definition = """
        # a recording
        rec_id : uint32   # id of the recording
        ---
        rate = 30000.0 : float64  # sampling rate
        notes = null : varchar(100)
        """

    heading = Recording.heading
    assert heading.table_comment == "a recording"
    assert heading.primary_key == ["rec_id"] and heading.secondary_attributes == ["rate", "notes"]
    attr = heading["rate"]
    assert (attr.type, attr.comment, attr.nullable, attr.in_key) == ("float64", "sampling rate", False, False)
    # the default's value; its spelling is the server's where the server keeps the table (MySQL
    # writes a double's 30000.0 as 30000, and DataJoint's conventions carry no default text)
    assert float(attr.default) == 30000.0
    assert heading["notes"].nullable and heading["rec_id"].numeric and heading["notes"].string
    assert "rec_id : uint32" in repr(heading)


def test_drop_asks_first_when_safemode_is_on(schema, monkeypatch, capsys):
    @schema
    class Precious(dj.Manual):
        definition = "p : int32"

    Precious.insert1((1,))
    answers = iter(["no", "yes"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    with dj.config.override(safemode=True):
        Precious().drop()
        assert Precious().is_declared, "answering no keeps the table"
        assert "(1 rows)" in capsys.readouterr().out  # lists what would go
        Precious().drop()
    assert not Precious().is_declared


def test_schema_drop_asks_first(connection, monkeypatch):
    schema = dj.Schema(unique_name(), connection=connection)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    schema.drop(prompt=True)
    assert schema.exists
    schema.drop(force=True)  # the legacy spelling of prompt=False
    assert not schema.exists


def test_lookup_contents_from_a_property(schema):
    """A Lookup's `contents` may be a property that computes its rows; they are inserted on
    declaration like a plain list."""

    @schema
    class Shape(dj.Lookup):
        definition = """
        shape : varchar(12)
        ---
        corners : int8
        """

        @property
        def contents(self):
            return [(name, len(name) % 5) for name in ("line", "triangle", "square")]

    assert sorted(Shape.fetch("shape")) == ["line", "square", "triangle"]
    assert (Shape & {"shape": "square"}).fetch1("corners") == 1


def test_rebuild_lineage_writes_the_lineage_rows_again(schema, connection):
    """schema.rebuild_lineage() (DataJoint 2.x) restores ~lineage rows another client left out."""

    @schema
    class Donor(dj.Manual):
        definition = """
        donor_id : int32
        """

    @schema
    class Sample(dj.Manual):
        definition = """
        -> Donor
        sample : int16
        """

    backend = connection.backend
    lineage = backend.full_table_name(schema.database, "~lineage")
    if backend.keeps_lineage_table:  # the servers keep DataJoint's ~lineage table; SQLite its own catalog
        before = sorted(connection.query(f"SELECT table_name, attribute_name, lineage FROM {lineage}").fetchall())
        connection.query(f"DELETE FROM {lineage}")
        schema.rebuild_lineage()
        after = sorted(connection.query(f"SELECT table_name, attribute_name, lineage FROM {lineage}").fetchall())
        assert after == before and ("sample", "donor_id", f"{schema.database}.donor.donor_id") in after
    else:
        schema.rebuild_lineage()
    assert Sample.heading["donor_id"].lineage == Donor.heading["donor_id"].lineage
    Donor.insert1((1,))
    Sample.insert1((1, 2))
    assert len(Sample * Donor) == 1
    with pytest.raises(dj.DataJointError, match="not activated"):
        dj.Schema().rebuild_lineage()


def test_the_servers_own_schemas_are_never_dropped(connection):
    if connection.backend_name == "sqlite":  # no schemas of its own: a schema named `sys` is the user's
        schema = dj.Schema("sys", connection=connection)
        try:

            @schema
            class Note(dj.Manual):
                definition = """
                note : int32
                """

            Note.insert1((1,))
        finally:
            schema.drop(prompt=False)
        assert not schema.exists
        return
    own = ["information_schema", "mysql", "sys"] if connection.backend_name == "mysql" else ["information_schema"]
    for name in own:
        try:
            schema = dj.Schema(name, connection=connection)
            assert schema.exists
            with pytest.raises(dj.errors.AccessError, match="never drops it"):
                schema.drop(prompt=False)
        finally:
            connection.schemas.pop(name, None)
    assert connection.backend.schema_exists(connection, "information_schema")
