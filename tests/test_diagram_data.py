"""Data-level diagrams: Diagram.cascade (delete preview), Diagram.trace (where rows come from),
diagram.restrict (AND down the graph), counts(), prune(), iteration and trace[...]."""

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError
from pipejoint.table import FreeTable


def _lab(make_schema):
    """Two schemas: labs and animals in one, sessions (with a nullable partner animal), recordings
    and their parts in the other."""
    a, b = make_schema(), make_schema()

    @a
    class Lab(dj.Manual):
        definition = """
        lab : varchar(16)
        """

    @a
    class Animal(dj.Manual):
        definition = """
        animal : int32
        ---
        -> Lab
        """

    @b
    class Session(dj.Manual):
        definition = """
        -> Animal
        session : int32
        ---
        -> [nullable] Animal.proj(partner='animal')
        """

    @b
    class Recording(dj.Manual):
        definition = """
        recording : int32
        ---
        -> Session
        """

        class Channel(dj.Part):
            definition = """
            -> master
            channel : int32
            """

    Lab.insert([("north",), ("south",), ("west",)])
    Animal.insert([(1, "north"), (2, "north"), (3, "south"), (4, "west")])
    Session.insert([(1, 1, None), (1, 2, 3), (2, 1, None), (3, 1, None)])
    Recording.insert([(100, 1, 1), (101, 1, 2), (200, 2, 1)])
    Recording.Channel.insert([(100, 0), (100, 1), (101, 0), (200, 0)])
    return Lab, Animal, Session, Recording


def _count(diagram, table):
    return diagram.counts()[table.full_table_name]


def test_trace_follows_every_foreign_key_up_to_the_roots(make_schema):
    Lab, Animal, Session, Recording = _lab(make_schema)
    trace = dj.Diagram.trace(Recording.Channel & {"recording": 101, "channel": 0})
    # the session (1, 2) refers to animal 1 and, as partner, to animal 3: both are traced
    assert sorted(trace[Animal].fetch("animal")) == [1, 3]
    assert sorted(trace[Lab].fetch("lab")) == ["north", "south"]
    assert trace.counts() == {
        Lab.full_table_name: 2,
        Animal.full_table_name: 2,
        Session.full_table_name: 1,
        Recording.full_table_name: 1,
        Recording.Channel.full_table_name: 1,
    }
    # indexing by class gives an instance of that class; by name, a FreeTable
    assert isinstance(trace[Session], Session)
    by_name = trace[Animal.full_table_name]
    assert isinstance(by_name, FreeTable) and len(by_name) == 2
    assert len(trace["animal"]) == 2 and len(trace["Recording"]) == 1
    # nothing was changed
    assert len(Animal()) == 4 and len(Recording.Channel()) == 4


def test_trace_of_many_rows_is_the_union_and_a_root_traces_to_itself(make_schema):
    Lab, Animal, Session, Recording = _lab(make_schema)
    trace = dj.Diagram.trace(Session & "session = 1")
    assert sorted(trace[Animal].fetch("animal")) == [1, 2, 3]
    assert _count(trace, Lab) == 2
    alone = dj.Diagram.trace(Lab & {"lab": "west"})
    assert alone.counts() == {Lab.full_table_name: 1}


def test_trace_refuses_tables_outside_it(make_schema):
    Lab, Animal, Session, Recording = _lab(make_schema)
    trace = dj.Diagram.trace(Session & {"animal": 1, "session": 1})
    with pytest.raises(DataJointError, match="not in this trace"):
        trace[Recording]  # a descendant, not an ancestor
    with pytest.raises(DataJointError, match="restricted table"):
        dj.Diagram.trace(Session * Animal)


def test_cascade_previews_exactly_what_delete_removes(make_schema):
    Lab, Animal, Session, Recording = _lab(make_schema)
    preview = dj.Diagram.cascade(Animal & {"animal": 3})
    counts = preview.counts()
    # animal 3's own session and the session (1, 2) it is the partner of go, and what hangs on them
    assert counts == {
        Animal.full_table_name: 1,
        Session.full_table_name: 2,
        Recording.full_table_name: 1,
        Recording.Channel.full_table_name: 1,
    }
    assert len(Animal()) == 4 and len(Session()) == 4  # a preview deletes nothing
    dry = (Animal & {"animal": 3}).delete(dry_run=True)
    assert {Animal.full_table_name: dry[Animal.node_name]} == {Animal.full_table_name: 1}
    assert sum(dry.values()) == sum(counts.values())
    (Animal & {"animal": 3}).delete(prompt=False)
    assert len(Session()) == 2 and len(Recording.Channel()) == 3


def test_cascade_iterates_parents_first_and_reversed_leaves_first(make_schema):
    Lab, Animal, Session, Recording = _lab(make_schema)
    preview = dj.Diagram.cascade(Lab & {"lab": "north"})
    names = [t.full_table_name for t in preview]
    assert names == [t.full_table_name for t in (Lab, Animal, Session, Recording, Recording.Channel)]
    assert [t.full_table_name for t in reversed(preview)] == names[::-1]
    assert [len(t) for t in preview] == [1, 2, 3, 3, 4]
    assert isinstance(preview[Recording.Channel], Recording.Channel)


def test_cascade_checks_part_integrity_and_refuses_restrict_and_prune(make_schema):
    Lab, Animal, Session, Recording = _lab(make_schema)
    with pytest.raises(ValueError, match="part_integrity must be"):
        dj.Diagram.cascade(Animal, part_integrity="cascad")
    preview = dj.Diagram.cascade(Animal)
    with pytest.raises(DataJointError, match="Cannot restrict"):
        preview.restrict(Lab & {"lab": "north"})
    with pytest.raises(DataJointError, match="prune"):
        preview.prune()
    assert _count(preview, Animal) == 4


def _masters(make_schema):
    schema = make_schema()

    @schema
    class Probe(dj.Manual):
        definition = """
        probe : int32
        """

    @schema
    class Assembly(dj.Manual):
        definition = """
        assembly : int32
        """

        class Left(dj.Part):
            definition = """
            -> master
            -> Probe
            """

        class Right(dj.Part):
            definition = """
            -> Probe
            slot : int32
            ---
            -> master
            """

    Probe.insert([(1,), (2,), (3,)])
    Assembly.insert([(10,), (20,), (30,)])
    Assembly.Left.insert([(10, 1), (30, 2)])
    Assembly.Right.insert([(1, 0, 20), (2, 0, 30)])
    return Probe, Assembly


def test_part_integrity_cascade_lifts_every_part_to_its_master(make_schema):
    Probe, Assembly = _masters(make_schema)
    # probe 1 is in Left of assembly 10 and (by a secondary reference) Right of assembly 20
    preview = dj.Diagram.cascade(Probe & {"probe": 1}, part_integrity="cascade")
    assert _count(preview, Assembly) == 2
    assert sorted(preview[Assembly].fetch("assembly")) == [10, 20]
    enforce = dj.Diagram.cascade(Probe & {"probe": 1})
    assert Assembly.full_table_name not in enforce.counts()
    (Probe & {"probe": 1}).delete(prompt=False, part_integrity="cascade")
    assert sorted(Assembly.fetch("assembly")) == [30]
    assert len(Assembly.Left()) == 1 and len(Assembly.Right()) == 1


def test_part_integrity_cascade_with_no_part_rows_shows_the_master_empty(make_schema):
    Probe, Assembly = _masters(make_schema)
    preview = dj.Diagram.cascade(Probe & {"probe": 3}, part_integrity="cascade")
    assert _count(preview, Assembly) == 0
    (Probe & {"probe": 3}).delete(prompt=False, part_integrity="cascade")
    assert len(Assembly()) == 3 and len(Probe()) == 2


def test_restrict_narrows_down_the_graph_and_chains(make_schema):
    Lab, Animal, Session, Recording = _lab(make_schema)
    diagram = dj.Diagram([Lab, Animal, Session, Recording, Recording.Channel])
    with pytest.raises(DataJointError, match="restricted diagram"):
        diagram.counts()
    north = diagram.restrict(Lab & {"lab": "north"})
    # AND: session (1, 2) goes (its partner is in the south); sessions without a partner stay
    assert sorted((r["animal"], r["session"]) for r in north[Session].fetch(as_dict=True)) == [(1, 1), (2, 1)]
    assert _count(north, Session) == 2 and _count(north, Recording) == 2 and _count(north, Lab) == 1
    both = north.restrict(Animal & {"animal": 2})
    assert _count(both, Animal) == 1 and _count(both, Session) == 1 and _count(both, Recording) == 1
    assert _count(north, Animal) == 2  # the first diagram is unchanged
    none = both.restrict(Recording & "recording < 200")
    assert _count(none, Recording) == 0 and _count(none, Recording.Channel) == 0
    pruned = none.prune()
    assert Recording.full_table_name not in pruned.counts() and Recording not in pruned
    assert Recording.Channel not in pruned and Session in pruned and Lab in pruned
    assert pruned.prune().counts() == pruned.counts()


def test_prune_without_restriction_drops_empty_tables(make_schema):
    Lab, Animal, Session, Recording = _lab(make_schema)
    (Recording.Channel & {"recording": 200}).delete_quick()
    Recording.Channel.delete_quick()
    pruned = dj.Diagram([Lab, Animal, Recording, Recording.Channel]).prune()
    assert Recording.Channel not in pruned and Recording in pruned and len(pruned) == 3


def test_dependencies_know_tables_by_either_name(make_schema, connection):
    Lab, Animal, Session, Recording = _lab(make_schema)
    deps = connection.dependencies
    deps.load()
    assert Animal.full_table_name in deps and Animal.node_name in deps and Recording.Channel.full_table_name in deps
    assert "`no_such_schema`.`animal`" not in deps and "animal" not in deps


def test_part_of_a_part_lifts_to_the_master_through_renamed_keys(make_schema):
    schema = make_schema()

    @schema
    class Shank(dj.Manual):
        definition = """
        shank : int32
        """

        class Site(dj.Part):
            definition = """
            -> master
            site : int32
            """

        class Contact(dj.Part):  # a part of a part, by renamed keys: no `-> master` of its own
            definition = """
            -> Shank.Site.proj(home_shank='shank', home_site='site')
            contact : int32
            """

    assert Shank.Contact.master is Shank and Shank.Site().master is Shank  # on the class too
    Shank.insert([(1,), (2,)])
    Shank.Site.insert([(1, 10), (1, 11), (2, 20)])
    Shank.Contact.insert([(1, 10, 0), (1, 11, 0), (2, 20, 0)])
    seed = Shank.Contact & {"home_shank": 1, "home_site": 10}
    preview = dj.Diagram.cascade(seed, part_integrity="cascade")
    assert preview.counts() == {
        Shank.full_table_name: 1,
        Shank.Site.full_table_name: 2,
        Shank.Contact.full_table_name: 2,
    }
    assert dj.Diagram.trace(seed).counts() == {
        Shank.full_table_name: 1,
        Shank.Site.full_table_name: 1,
        Shank.Contact.full_table_name: 1,
    }
    seed.delete(prompt=False, part_integrity="cascade")
    assert list(Shank.fetch("shank")) == [2] and len(Shank.Site()) == 1 and len(Shank.Contact()) == 1
