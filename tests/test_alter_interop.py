"""A table pipejoint altered reads in DataJoint 2.3.5 as DataJoint would have declared it: column
comments (`:<type>:<comment>`), the table comment, PostgreSQL's enum types, foreign keys and
lineage follow the change. SQLite has no DataJoint counterpart: skipped there."""

from __future__ import annotations

import pipejoint as pj
from helpers import configure_datajoint
from interop import require_server_catalog


def test_datajoint_reads_an_altered_table(connection, settings, schema, tmp_path):
    require_server_catalog(connection)

    @schema
    class Kind(pj.Lookup):
        definition = """
        kind : varchar(8)
        """
        contents = [("wild",), ("lab",)]

    @schema
    class Animal(pj.Manual):
        definition = """
        # animals
        animal_id : int32
        ---
        nickname : varchar(20)
        weight : float32           # grams
        """

    Animal.insert([(1, "Ada", 21.5), (2, "Bo", 30.25)])
    Animal.definition = """
    # animals of the lab
    animal_id : int32
    ---
    name : varchar(40)         # {nickname} what we call it
    weight : float64           # body weight in grams
    sex = "U" : enum('F', 'M', 'U')
    -> [nullable] Kind
    """
    Animal.alter(prompt=False, context={"Kind": Kind})
    dj = configure_datajoint(settings, download_path=tmp_path / "dj")
    vm = dj.VirtualModule("altered", schema.database)
    heading = vm.Animal.heading
    assert heading.names == ["animal_id", "name", "weight", "sex", "kind"]
    assert heading.attributes["weight"].original_type == "float64"  # read from the column comment
    assert heading.attributes["sex"].original_type.startswith("enum")
    assert heading.attributes["name"].comment == "what we call it"
    assert heading.table_status["comment"] == "animals of the lab"
    rows = sorted(vm.Animal.to_dicts(), key=lambda r: r["animal_id"])
    assert rows == [
        dict(animal_id=1, name="Ada", weight=21.5, sex="U", kind=None),
        dict(animal_id=2, name="Bo", weight=30.25, sex="U", kind=None),
    ]
    vm.Animal.insert1(dict(animal_id=3, name="Cy", weight=1.0, sex="F", kind="lab"))
    assert (Animal & {"animal_id": 3}).fetch1("sex", "kind") == ("F", "lab")
    assert vm.Kind.full_table_name in vm.Animal.parents()
