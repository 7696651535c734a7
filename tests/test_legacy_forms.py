"""Forms the DataJoint book teaches (its 0.14 API), accepted on every backend as DataJoint accepts them."""

import types

import pytest

import pipejoint as dj


def _images(schema):
    @schema
    class Image(dj.Manual):
        definition = """
        image_id : int32
        ---
        label : varchar(16)
        score : float64
        """

    Image.insert([(1, "b", 0.5), (2, "a", 0.9), (3, "a", 0.1)])
    return Image


def test_order_by_as_one_comma_separated_string_with_backticks(schema):
    Image = _images(schema)
    assert Image.fetch("image_id", order_by="label, score DESC").tolist() == [2, 3, 1]
    assert Image.fetch("image_id", order_by="`label` DESC, `image_id`").tolist() == [1, 2, 3]
    assert Image.fetch("image_id", order_by=["score desc", "image_id"]).tolist() == [2, 1, 3]
    assert [r["image_id"] for r in Image.to_dicts(order_by="`score`")] == [3, 1, 2]


def test_numbers_given_for_strings_are_stored_as_their_text(schema):
    """As MySQL stores them (DataJoint passes them on unchanged), on every backend."""
    Image = _images(schema)
    Image.insert1({"image_id": 4, "label": 42, "score": 1.0})
    Image.insert1({"image_id": 5, "label": 2.5, "score": 1.0})
    assert (Image & {"image_id": 4}).fetch1("label") == "42"
    assert (Image & {"image_id": 5}).fetch1("label") == "2.5"
    assert len(Image & {"label": 42}) == 1  # a restriction by the number finds its text


def test_print_shows_the_preview_and_make_sql_the_sql(schema):
    Image = _images(schema)
    query = Image & "label = 'a'"
    shown = str(query)
    assert shown == repr(query) and "image_id" in shown and "0.9" in shown and "SELECT" not in shown
    assert query.make_sql().lstrip().upper().startswith("SELECT")


def test_skip_duplicates_skips_rows_that_collide_on_any_unique_index(schema):
    """As MySQL's INSERT IGNORE does (DataJoint's skip_duplicates), on every backend."""

    @schema
    class Animal(dj.Manual):
        definition = """
        animal_id : int32
        ---
        tag : varchar(16)
        unique index (tag)
        """

    Animal.insert1((1, "A-1"))
    Animal.insert([(2, "A-1"), (3, "A-3"), (1, "A-9")], skip_duplicates=True)
    rows = Animal.fetch(as_dict=True, order_by="animal_id")
    assert [(r["animal_id"], r["tag"]) for r in rows] == [(1, "A-1"), (3, "A-3")]
    Animal.insert1((4, "A-1"), skip_duplicates=True)
    assert len(Animal) == 2


def test_adapted_types_declared_as_the_book_does(make_schema):
    """The book switches adapted types on, then names an adapter object found in the schema's context."""
    dj.errors._switch_adapted_types(True)

    class PairAdapter(dj.AttributeAdapter):
        attribute_type = "longblob"

        def put(self, obj):
            return [obj[0], obj[1]]

        def get(self, value):
            return (int(value[0]), int(value[1]))

    pair = PairAdapter()
    schema = make_schema(context={"pair": pair})

    @schema
    class Edge(dj.Manual):
        definition = """
        edge_id : int
        ---
        ends = null : <pair>
        """

    Edge.insert([{"edge_id": 1, "ends": (3, 4)}, {"edge_id": 2}])
    assert (Edge & {"edge_id": 1}).fetch1("ends") == (3, 4)
    assert (Edge & {"edge_id": 2}).fetch1("ends") is None
    ends = Edge.heading.attributes["ends"]
    assert ends.adapter == "pair" and ends.is_blob and ends.nullable  # stored as its attribute_type


def test_attribute_properties_the_book_prints(schema):
    @schema
    class Recording(dj.Manual):
        definition = """
        # a recording
        rec_id : int unsigned auto_increment   # the recording
        ---
        site : varchar(24)                     # where
        gain = 1.5 : double
        kind : enum('acute','chronic')
        token : uuid
        trace : longblob
        started = null : datetime(3)
        """

    attrs = Recording.heading.attributes
    rec = attrs["rec_id"]
    assert rec.sql == '`rec_id` int unsigned NOT NULL COMMENT "the recording"'
    assert (rec.in_key, rec.autoincrement, rec.numeric, rec.string, rec.is_blob) == (True, True, True, False, False)
    assert attrs["site"].sql == '`site` varchar(24) NOT NULL COMMENT "where"'
    assert attrs["site"].string and not attrs["site"].numeric
    assert attrs["gain"].sql_type == "double" and attrs["gain"].default is not None
    assert attrs["kind"].sql_type == "enum('acute','chronic')"
    token = attrs["token"]
    assert token.uuid and token.sql == '`token` binary(16) NOT NULL COMMENT ":uuid:"'
    trace = attrs["trace"]
    assert trace.is_blob and not trace.is_external and not trace.is_attachment and not trace.is_filepath
    assert trace.sql_type == "longblob" and trace.adapter is None and trace.store is None
    assert attrs["started"].nullable and attrs["started"].sql_type == "datetime(3)"
    for a in attrs.values():
        assert not a.unsupported and a.attribute_expression is None and a.original_name == a.name
        assert set(a.todict()) >= {"name", "type", "in_key", "nullable", "default", "comment", "is_external", "dtype"}
    assert attrs["site"].todict()["comment"] == "where"

    computed = Recording.proj(twice="gain * 2", place="site").heading.attributes
    assert computed["twice"].attribute_expression == "gain * 2" and computed["twice"].original_name == "twice"


def test_a_projection_orders_by_attributes_it_drops(schema):
    """`Image.proj('label').fetch(order_by='score')`: valid in DataJoint, and on PostgreSQL too."""
    Image = _images(schema)
    assert Image.proj("label").fetch("label", order_by="score").tolist() == ["a", "b", "a"]
    assert Image.proj().fetch("image_id", order_by="score DESC").tolist() == [2, 1, 3]
    rows = Image.proj("label").fetch(order_by="label, score DESC", as_dict=True)
    assert [r["image_id"] for r in rows] == [2, 3, 1] and set(rows[0]) == {"image_id", "label"}
    kept = (Image.proj("label") & "image_id > 1") & dj.Top(order_by="score", limit=1)
    assert kept.fetch("KEY") == [{"image_id": 3}]
    assert kept.fetch("image_id", limit=1).tolist() == [3]
    assert Image.proj(grade="score").fetch("image_id", order_by="score").tolist() == [3, 1, 2]
    with pytest.raises(dj.errors.UnknownAttributeError, match="score"):
        (dj.U("label") & Image).fetch(order_by="score")  # distinct values have no score to order by


def _lab(schema):
    @schema
    class Mouse(dj.Manual):
        definition = """
        mouse_id : int
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Mouse
        session : smallint
        """

        class Probe(dj.Part):
            definition = """
            -> master
            probe : tinyint
            """

    @schema
    class Pairing(dj.Manual):
        definition = """
        -> Session
        ---
        -> Mouse.proj(partner='mouse_id')
        """

    return Mouse, Session, Pairing


def test_dependency_methods_name_tables_as_full_table_name(schema):
    """parents(), children(), descendants(), ancestors() list names quoted as full_table_name is, on every backend."""
    Mouse, Session, Pairing = _lab(schema)
    mouse, session, probe, pairing = (t.full_table_name for t in (Mouse, Session, Session.Probe, Pairing))
    assert Session.parents() == [mouse] and Mouse.children() == sorted([session, pairing])
    assert Session.parents(primary=True) == [mouse] and Pairing.parents(primary=False) == [mouse]
    assert set(Session.children()) == {probe, pairing}
    assert Mouse.descendants()[0] == mouse and set(Mouse.descendants()) == {mouse, session, probe, pairing}
    assert Pairing.ancestors()[-1] == pairing and set(Pairing.ancestors()) == {mouse, session, pairing}
    assert Session.parts() == [probe]
    objects = Pairing.parents(as_objects=True)
    assert sorted(t.full_table_name for t in objects) == sorted([mouse, session])
    assert Mouse.descendants(as_objects=True)[0].full_table_name == mouse
    info = dict(Pairing.parents(primary=False, foreign_key_info=True))
    assert info[mouse]["attr_map"] == {"partner": "mouse_id"} and info[mouse]["aliased"]
    assert [t.full_table_name for t, _ in Pairing.parents(as_objects=True, foreign_key_info=True)] == sorted(
        [mouse, session]
    )


def test_describe_names_the_classes_of_its_context_and_declares_again(make_schema):
    """describe(context=...) names referenced tables as the context holds them, modules included, so
    its text declares the same table in another schema; parts name their master `master`."""
    Mouse, Session, Pairing = _lab(make_schema())
    acquisition = types.ModuleType("acquisition")
    acquisition.Session, acquisition.Mouse = Session, Mouse
    context = {"acquisition": acquisition}

    analysis = make_schema()

    @analysis
    class Scan(dj.Manual):
        definition = """
        -> Session
        scan : int
        ---
        -> [nullable] Session.Probe.proj(other_session='session')
        """

        class Field(dj.Part):
            definition = """
            -> master
            field : int
            """

    text = Scan.describe(context=context)
    assert "-> acquisition.Session\n" in text
    assert "-> [nullable] acquisition.Session.Probe.proj(other_session='session')" in text
    assert Scan.Field.describe(context=context).startswith("-> master\n")
    assert Pairing.describe(context={"Mouse": Mouse, "Session": Session}).startswith("-> Session\n")

    copy = make_schema(context=context)

    @copy
    class Scan(dj.Manual):  # the same class, declared again in another schema
        definition = text

        class Field(dj.Part):
            definition = Scan.Field.describe(context=context)

    Mouse.insert1({"mouse_id": 1})
    Session.insert1({"mouse_id": 1, "session": 1})
    Scan.insert1({"mouse_id": 1, "session": 1, "scan": 7})
    Scan.Field.insert1({"mouse_id": 1, "session": 1, "scan": 7, "field": 2})
    assert set(Scan.parents()) == {Session.full_table_name, Session.Probe.full_table_name}
    assert Scan.describe(context=context) == text
    with pytest.raises(dj.errors.IntegrityError):
        Scan.insert1({"mouse_id": 1, "session": 2, "scan": 7})  # the reference to acquisition.Session holds


def test_spawn_missing_classes_puts_classes_and_parts_into_the_context(make_schema, connection):
    schema = make_schema()
    Mouse, Session, Pairing = _lab(schema)
    Mouse.insert1({"mouse_id": 5})
    Session.insert1({"mouse_id": 5, "session": 1})
    Session.Probe.insert1({"mouse_id": 5, "session": 1, "probe": 3})

    context = {"Mouse": Mouse}
    dj.Schema(schema.database, connection=connection).spawn_missing_classes(context=context)
    assert context["Mouse"] is Mouse  # classes already there stay
    assert {"Session", "Pairing"} <= set(context)
    spawned = context["Session"]
    assert spawned.full_table_name == Session.full_table_name and issubclass(spawned, dj.Manual)
    assert spawned.Probe.full_table_name == Session.Probe.full_table_name
    assert spawned.Probe.fetch1("probe") == 3 and "Probe" not in context
    assert len(spawned * context["Mouse"]) == 1


def test_an_attribute_named_key_orders_as_itself_and_a_top_keeps_its_order(schema):
    @schema
    class Slot(dj.Manual):
        definition = """
        id : int
        select : int
        ---
        key : int
        """

    Slot.insert([(1, 1, 5), (2, 1, 9), (3, 1, 1), (4, 1, 7)])
    assert Slot.fetch("id", order_by=["key desc"]).tolist() == [2, 4, 1, 3]  # the attribute, not the primary key
    assert [r["id"] for r in (Slot & dj.Top(2, ["select", "key"])).to_dicts()] == [3, 1]
    assert Slot.fetch("id", order_by="KEY DESC").tolist() == [4, 3, 2, 1]
    ordered = Slot & dj.Top(None, order_by="key")
    assert ordered.to_arrays("id", limit=2).tolist() == [3, 1]  # a preview of it keeps its order
    assert ordered.fetch("id", limit=3, offset=1).tolist() == [1, 4, 2]


def test_tables_the_user_creates_through_query_are_seen(schema, connection):
    """DDL run with connection.query() is seen at once (the catalog read before is forgotten)."""
    assert schema.list_tables() == []
    full = connection.backend.full_table_name(schema.database, "tally")
    connection.query(f"CREATE TABLE {full} (count_id int PRIMARY KEY, total int NOT NULL)")
    module = dj.VirtualModule("m", schema.database, connection=connection)
    assert module.Tally.heading.names == ["count_id", "total"]
    assert module.Tally.proj(n="total").heading.names == ["count_id", "n"]
    connection.query(f"DROP TABLE {full}")
    assert schema.list_tables() == []
