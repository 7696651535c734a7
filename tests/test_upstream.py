"""self.upstream inside make(): the ancestors restricted to what the key reaches (DataJoint 2.x)."""

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError


def test_make_reads_its_ancestors_through_self_upstream(schema):
    @schema
    class Lab(dj.Lookup):
        definition = """
        lab : varchar(8)
        ---
        city : varchar(16)
        """
        contents = [("a", "Oslo"), ("b", "Lima")]

    @schema
    class Mouse(dj.Manual):
        definition = """
        mouse_id : int32
        ---
        -> Lab
        """

    @schema
    class Other(dj.Lookup):
        definition = """
        other_id : int32
        """
        contents = [(1,)]

    seen = []

    @schema
    class Report(dj.Computed):
        definition = """
        -> Mouse
        ---
        line : varchar(40)
        """

        def make(self, key):
            seen.append(self)
            city = self.upstream[Lab].fetch1("city")  # two foreign keys up, restricted to this mouse's lab
            assert self.upstream[Mouse.full_table_name].fetch1("mouse_id") == key["mouse_id"]
            with pytest.raises(DataJointError, match="not in this trace"):
                self.upstream[Other]
            self.insert1({**key, "line": f"{key['mouse_id']} in {city}"})

    Mouse.insert([(1, "b"), (2, "a")])
    Report.populate()
    assert sorted(Report.fetch("line")) == ["1 in Lima", "2 in Oslo"]
    with pytest.raises(DataJointError, match="only available inside make"):
        seen[0].upstream  # the property raises outside make()
    with pytest.raises(DataJointError, match="only available inside make"):
        Report().upstream


def test_the_three_phases_share_one_upstream(schema):
    @schema
    class Source(dj.Lookup):
        definition = """
        source_id : int32
        ---
        value : int32
        """
        contents = [(1, 10), (2, 20)]

    ids = {}

    @schema
    class Doubled(dj.Computed):
        definition = """
        -> Source
        ---
        result : int32
        """

        def make_fetch(self, key):
            ids.setdefault(key["source_id"], set()).add(id(self.upstream))
            return (self.upstream[Source].fetch1("value"),)

        def make_compute(self, key, value):
            ids[key["source_id"]].add(id(self.upstream))
            return (value * 2,)

        def make_insert(self, key, result):
            ids[key["source_id"]].add(id(self.upstream))
            self.insert1({**key, "result": result})

    Doubled.populate()
    assert sorted(Doubled.fetch("result")) == [20, 40]
    assert all(len(found) == 1 for found in ids.values()) and len(ids) == 2
