"""Table.alter() on tables that hold data, on every backend: each change keeps every row and every
dependent row, values unchanged, constraints enforced afterwards; each refusal leaves the database
exactly as it was (a dump before and after)."""

from __future__ import annotations

import inspect

import pytest

import pipejoint as dj
from interop import database_dump
from pipejoint.errors import (
    AlterError,
    DataJointError,
    DuplicateError,
    DuplicateIndexError,
    ForeignKeyViolationError,
    IntegrityError,
    MissingDefaultError,
    NarrowingError,
)


def _rows(table):
    return sorted(table.fetch(as_dict=True), key=lambda r: tuple(str(r[k]) for k in table.primary_key))


def _lab(schema):
    @schema
    class Species(dj.Lookup):
        definition = """
        species : varchar(20)
        ---
        latin : varchar(60)
        """
        contents = [("mouse", "Mus musculus"), ("rat", "Rattus norvegicus")]

    @schema
    class Animal(dj.Manual):
        definition = """
        # lab animals
        animal_id : int32
        ---
        nickname : varchar(20)     # what we call it
        weight : float32           # grams
        cage = 1 : int16
        notes = null : varchar(200)
        """

    @schema
    class Weighing(dj.Manual):
        definition = """
        -> Animal
        day : int16
        ---
        grams : float64
        """

    class Surgery(dj.Part):
        definition = """
        -> master
        surgery : int16
        ---
        site : varchar(20)
        """

    Animal.Surgery = Surgery
    Animal.insert([(1, "Ada", 21.5, 3, None), (2, "Bo", 30.25, 4, "shy"), (3, "Cy", 18.0, 3, "")])
    Weighing.insert([(1, 1, 21.0), (1, 2, 21.5), (2, 1, 30.0), (3, 1, 18.0)])
    return Species, Animal, Weighing


def _alter(table, definition, **kwargs):
    """Set the class's definition and alter the table; `-> Parent` names are the caller's."""
    table.definition = definition
    kwargs.setdefault("context", dict(inspect.currentframe().f_back.f_locals))
    return table.alter(prompt=False, **kwargs)


def test_secondary_attributes_change_and_every_row_stays(schema):
    Species, Animal, Weighing = _lab(schema)
    weighings = _rows(Weighing)
    _alter(
        Animal,
        """
        # animals of the lab
        animal_id : int32
        ---
        name : varchar(40)         # {nickname} what we call it
        weight : float64           # body weight in grams
        cage = 7 : int32
        notes = null : varchar(200)  # free text
        sex = "U" : enum('F', 'M', 'U')
        born = null : date
        """,
    )
    assert Animal.heading.names == ["animal_id", "name", "weight", "cage", "notes", "sex", "born"]
    assert _rows(Animal) == [
        dict(animal_id=1, name="Ada", weight=21.5, cage=3, notes=None, sex="U", born=None),
        dict(animal_id=2, name="Bo", weight=30.25, cage=4, notes="shy", sex="U", born=None),
        dict(animal_id=3, name="Cy", weight=18.0, cage=3, notes="", sex="U", born=None),
    ]
    assert _rows(Weighing) == weighings  # the dependent rows stay, their foreign key too
    described = Animal.describe()
    assert "# animals of the lab" in described and "name : varchar(40)  # what we call it" in described
    assert "cage = 7 : int32" in described and "weight : float64  # body weight in grams" in described
    assert 'sex = "U" : enum(' in described and "born = null : date" in described
    assert "nickname" not in described
    # constraints hold: the new enum, the new default, the dependents' foreign key
    with pytest.raises(DataJointError):
        Animal.insert1(dict(animal_id=9, name="X", weight=1.0, sex="Q"))
    Animal.insert1(dict(animal_id=9, name="X", weight=1.0))
    assert (Animal & {"animal_id": 9}).fetch1("cage", "sex") == (7, "U")
    with pytest.raises(IntegrityError):
        Weighing.insert1(dict(animal_id=99, day=1, grams=1.0))
    with pytest.raises(DataJointError):
        (Animal & {"animal_id": 1}).delete_quick()  # rows of Weighing refer to it
    # back again: drop, rename with rename=, narrow (the values fit)
    _alter(
        Animal,
        """
        # animals of the lab
        animal_id : int32
        ---
        nickname : varchar(20)     # what we call it
        weight : float64           # body weight in grams
        cage = 7 : int16
        notes = null : varchar(200)
        """,
        rename={"nickname": "name"},
    )
    assert Animal.heading.names == ["animal_id", "nickname", "weight", "cage", "notes"]
    assert (Animal & {"animal_id": 2}).fetch1("nickname", "cage", "notes") == ("Bo", 4, "shy")
    assert len(Animal()) == 4 and _rows(Weighing) == weighings
    Animal.insert1(dict(animal_id=10, nickname="Z", weight=2.0))
    assert (Animal & {"animal_id": 10}).fetch1("notes") is None


def test_foreign_keys_and_indexes_are_added_and_dropped(schema):
    Species, Animal, Weighing = _lab(schema)
    base = """
    # lab animals
    animal_id : int32
    ---
    nickname : varchar(20)     # what we call it
    weight : float32           # grams
    cage = 1 : int16
    notes = null : varchar(200)
    """
    _alter(Animal, base + "-> [nullable] Species\ntag = null : varchar(10)\nunique index (tag)\nindex (cage)\n")
    assert (Animal & {"animal_id": 1}).fetch1("species") is None
    assert Species.full_table_name in Animal.parents()
    Animal.update1(dict(animal_id=1, species="mouse", tag="A1"))
    Animal.update1(dict(animal_id=2, species="rat", tag="B2"))
    Animal.update1(dict(animal_id=3, species="mouse"))
    with pytest.raises(IntegrityError):
        Animal.update1(dict(animal_id=3, species="yak"))
    with pytest.raises(DuplicateError):
        Animal.update1(dict(animal_id=3, tag="A1"))
    _alter(Animal, base + "-> Species\ntag = null : varchar(10)\nunique index (tag)\n")  # now required
    described = Animal.describe()
    assert "-> Species" in described and "[nullable]" not in described
    assert "unique index (tag)" in described and "index (cage)" not in described
    with pytest.raises(DataJointError):
        Animal.insert1(dict(animal_id=5, nickname="N", weight=1.0))  # species is required now
    with pytest.raises(DataJointError):
        (Species & {"species": "rat"}).delete_quick()  # Animal refers to it
    _alter(Animal, base)  # foreign key, its column and the index go
    assert "species" not in Animal.heading.names and "tag" not in Animal.heading.names
    assert Species.full_table_name not in Animal.parents()
    (Species & {"species": "rat"}).delete_quick()
    assert len(Animal()) == 3 and len(Weighing()) == 4


def test_part_tables_alter_too(schema):
    @schema
    class Rig(dj.Manual):
        definition = """
        rig : int16
        """

        class Channel(dj.Part):
            definition = """
            -> master
            channel : int16
            ---
            gain : float32
            """

    Rig.insert1((1,))
    Rig.Channel.insert([(1, 1, 2.0), (1, 2, 4.0)])
    Rig.Channel.definition = """
    -> master
    channel : int16
    ---
    gain : float64    # amplifier gain
    offset = 0 : float64
    """
    Rig.Channel.alter(prompt=False)
    assert Rig.Channel.to_dicts(order_by="channel") == [
        dict(rig=1, channel=1, gain=2.0, offset=0.0),
        dict(rig=1, channel=2, gain=4.0, offset=0.0),
    ]
    with pytest.raises(IntegrityError):
        Rig.Channel.insert1((2, 1, 1.0, 0.0))  # still part of its master


def _dump_unchanged(settings, schema, action):
    before = database_dump(settings, schema.database)
    action()
    assert database_dump(settings, schema.database) == before


@pytest.mark.parametrize(
    "change, error, words",
    [
        ("age : int16", MissingDefaultError, ["`age`", "3 rows", "'animal_id': 1", "default"]),
        ("-> Species", MissingDefaultError, ["`species`", "3 rows", "[nullable]"]),
        ("weight : int8", NarrowingError, ["`weight`", "2 rows", "'animal_id': 1", "'animal_id': 2"]),
        ("nickname : varchar(2)", NarrowingError, ["`nickname`", "1 row", "'animal_id': 1"]),
        ("nickname : enum('Bo', 'Cy')", NarrowingError, ["`nickname`", "1 row", "'animal_id': 1"]),
        ("notes : varchar(200)", NarrowingError, ["`notes`", "1 row", "'animal_id': 1", "NULL"]),
    ],
)
def test_refusals_change_nothing(schema, settings, change, error, words):
    Species, Animal, Weighing = _lab(schema)
    lines = {
        "nickname": "nickname : varchar(20)     # what we call it",
        "weight": "weight : float32           # grams",
        "notes": "notes = null : varchar(200)",
    }
    name = change.split()[0]
    if name in lines:
        lines[name] = change
        extra = ""
    else:
        extra = change
    definition = "animal_id : int32\n---\n" + "\n".join(lines.values()) + "\ncage = 1 : int16\n" + extra

    def attempt():
        with pytest.raises(error) as info:
            _alter(Animal, definition, context={"Species": Species})
        message = str(info.value)
        assert f"`{schema.database}`.`animal`" in message and "Nothing was changed" in message
        for word in words:
            assert word in message

    _dump_unchanged(settings, schema, attempt)


def test_refusals_of_foreign_keys_and_unique_indexes(schema, settings):
    Species, Animal, Weighing = _lab(schema)
    base = """
    # lab animals
    animal_id : int32
    ---
    nickname : varchar(20)     # what we call it
    weight : float32           # grams
    cage = 1 : int16
    notes = null : varchar(200)
    """

    # a foreign key over an existing column that rows violate: rename nickname -> species
    Animal.definition = base.replace("nickname : varchar(20)     # what we call it", "-> [nullable] Species")

    def attempt_fk():
        with pytest.raises(ForeignKeyViolationError) as info:
            Animal.alter(prompt=False, rename={"species": "nickname"}, context={"Species": Species})
        message = str(info.value)
        assert "`species` (now `nickname`)" in message
        assert "3 rows" in message and "`species`" in message and "Nothing was changed" in message

    _dump_unchanged(settings, schema, attempt_fk)
    before = database_dump(settings, schema.database)
    with pytest.raises(DuplicateIndexError) as info:
        _alter(Animal, base + "unique index (cage)")
    message = str(info.value)
    assert "(cage)" in message and "2 rows" in message and "'animal_id': 1" in message
    assert "`animal`" in message and "Nothing was changed" in message
    assert database_dump(settings, schema.database) == before


def test_primary_key_changes_are_not_alters(schema, settings):
    Species, Animal, Weighing = _lab(schema)
    before = database_dump(settings, schema.database)
    with pytest.raises(AlterError, match=r"primary key.*migrat"):
        _alter(Weighing, "-> Animal\nday : int32\n---\ngrams : float64\n")
    with pytest.raises(AlterError, match=r"primary key"):
        _alter(Weighing, "-> Animal\n---\nday : int16\ngrams : float64\n")
    assert database_dump(settings, schema.database) == before


def test_prompt_shows_the_change_and_asks(schema, settings, monkeypatch):
    from pipejoint import utils

    Species, Animal, Weighing = _lab(schema)
    asked = []

    def answer(text):
        asked.append(text)
        return "no"

    monkeypatch.setattr(utils, "_read", answer)
    before = database_dump(settings, schema.database)
    Animal.definition = Animal.definition.replace("# grams", "# grams, on the lab scale")
    assert Animal.alter() == []
    assert "weight" in asked[0] and "on the lab scale" in asked[0] and "Execute?" in asked[0]
    assert database_dump(settings, schema.database) == before
    monkeypatch.setattr(utils, "_read", lambda text: "yes")
    assert Animal.alter() != []
    assert Animal.heading["weight"].comment == "grams, on the lab scale"
    assert Animal.alter() == []  # nothing left to change


def test_alter_inside_a_transaction_is_refused(schema, connection):
    Species, Animal, Weighing = _lab(schema)
    Animal.definition = Animal.definition.replace("# grams", "# g")
    with connection.transaction, pytest.raises(DataJointError, match="transaction"):
        Animal.alter(prompt=False)


def test_the_book_alters_the_university(schema):
    """The book's alter chapter on the university schema: a student gets an advisor department and
    a phone, a comment changes; every student, major and enrollment stays."""
    from test_query_university import declare, populate

    t = declare(schema)
    populate(t)
    Student, Department = t["Student"], t["Department"]
    dependents = {name: _rows(t[name]) for name in ("StudentMajor", "Enroll", "Grade")}
    students = _rows(Student)
    Student.definition = """
    student_id : int unsigned   # university-wide ID number
    ---
    first_name : varchar(40)
    last_name : varchar(40)
    sex : enum('F', 'M', 'U')
    date_of_birth = null : date
    home_city : varchar(40)
    home_state : char(2)        # US state acronym: e.g. OH
    phone = "" : varchar(20)
    -> [nullable] Department.proj(advisor_dept='dept')
    """
    Student.alter(prompt=False, context={"Department": Department})
    assert _rows(Student) == [dict(s, phone="", advisor_dept=None) for s in students]
    assert {name: _rows(t[name]) for name in dependents} == dependents
    assert Student.heading["home_state"].comment == "US state acronym: e.g. OH"
    first = students[0]["student_id"]
    Student.update1(dict(student_id=first, advisor_dept=Department.fetch("dept", limit=1)[0]))
    with pytest.raises(IntegrityError):
        Student.update1(dict(student_id=first, advisor_dept="NONE"))
    assert "-> [nullable] Department.proj(advisor_dept='dept')" in Student.describe()
