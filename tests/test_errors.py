"""User-caused errors: a DataJointError naming the table, the attribute, the row and the fix,
with the database (and any store) left exactly as it was. Runs on every backend."""

from __future__ import annotations

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError, IntegrityError, InvalidValueError, MissingAttributeError


def _pipeline(schema):
    @schema
    class Animal(dj.Manual):
        definition = """
        animal_id : int
        """

    @schema
    class Rig(dj.Manual):
        definition = """
        rig : varchar(8)
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Animal
        session : int
        ---
        -> Rig
        note = "" : varchar(5)
        """

    Animal.insert([{"animal_id": 1}, {"animal_id": 2}])
    Rig.insert1({"rig": "A"})
    return Animal, Rig, Session


def test_missing_parent_names_parent_attribute_and_row(schema):
    Animal, Rig, Session = _pipeline(schema)
    good = [{"animal_id": 1, "session": s, "rig": "A"} for s in range(3)]
    cases = [
        (
            {"animal_id": 9, "session": 5, "rig": "A"},
            r"row 3: no row of `[^`]+`\.`animal` has \{'animal_id': 9\} "
            r"\(attribute `animal_id`\)",
        ),
        (
            {"animal_id": 2, "session": 5, "rig": "Z"},
            r"row 3: no row of `[^`]+`\.`rig` has \{'rig': 'Z'\} "
            r"\(attribute `rig`\)",
        ),
    ]
    for bad, message in cases:
        with pytest.raises(IntegrityError, match=message) as info:
            Session.insert(good + [bad])
        assert "`session`" in str(info.value) and "Insert the parent rows first" in str(info.value)
        assert len(Session) == 0
    # one row: the missing parent is named (on PostgreSQL, with every parent it could be)
    with pytest.raises(IntegrityError, match=r"row 0: .*no row of `[^`]+`\.`animal` has \{'animal_id': 9\}") as info:
        Session.insert1({"animal_id": 9, "session": 1, "rig": "A"})
    assert "Insert the parent rows first" in str(info.value)
    assert len(Session) == 0
    # the failed inserts left nothing behind: the good rows insert cleanly afterwards
    Session.insert(good)
    assert len(Session) == 3


def test_missing_parent_leaves_no_stored_object(schema, tmp_path):
    location = tmp_path / "store"
    location.mkdir()
    saved = dict(dj.config["stores"])
    dj.config["stores"] = {"main": {"protocol": "file", "location": str(location)}}
    try:
        Animal, _, _ = _pipeline(schema)

        @schema
        class Trace(dj.Manual):
            definition = """
            -> Animal
            trace_id : int
            ---
            data : <blob@main>
            """

        with pytest.raises(IntegrityError, match=r"row 1: no row of `[^`]+`\.`animal`"):
            Trace.insert(
                [{"animal_id": 1, "trace_id": 1, "data": [1, 2, 3]}, {"animal_id": 7, "trace_id": 2, "data": [4, 5, 6]}]
            )
        assert len(Trace) == 0
        assert [p for p in location.rglob("*") if p.is_file()] == []
    finally:
        dj.config["stores"] = saved


def test_update1_errors_name_update1_key_and_attribute(schema):
    _, _, Session = _pipeline(schema)
    Session.insert1({"animal_id": 1, "session": 1, "rig": "A"})
    with pytest.raises(
        InvalidValueError,
        match=r"update1\(\) on `[^`]+`\.`session`, key \{'animal_id': 1, "
        r"'session': 1\}, attribute `note`: string of length 9",
    ):
        Session.update1({"animal_id": 1, "session": 1, "note": "too long!"})
    with pytest.raises(MissingAttributeError, match=r"update1\(\) on .*attribute `rig`.*Give a value"):
        Session.update1({"animal_id": 1, "session": 1, "rig": None})
    assert Session.fetch1("note", "rig") == ("", "A")


def test_populate_refuses_bad_limits(schema):
    Animal, _, _ = _pipeline(schema)

    @schema
    class Weight(dj.Computed):
        definition = """
        -> Animal
        ---
        grams : float
        """

        def make(self, key):
            self.insert1({**key, "grams": 1.0})

    for argument, value in (("max_calls", "2"), ("max_calls", -1), ("limit", 1.5), ("limit", True)):
        with pytest.raises(
            DataJointError,
            match=rf"populate\({argument}={value!r}\) of `[^`]+`\.`__weight`: "
            r"give a whole number",
        ):
            Weight.populate(**{argument: value})
        assert len(Weight) == 0
    assert Weight.populate(max_calls=0)["success_count"] == 0
    assert Weight.populate(max_calls=1)["success_count"] == 1


def test_fetch_errors_name_the_table(schema):
    from pipejoint.errors import UnknownAttributeError

    Animal, _, _ = _pipeline(schema)
    for call in (
        lambda: Animal.fetch("weight"),
        lambda: Animal.to_arrays("weight"),
        lambda: (Animal & {"animal_id": 1}).fetch1("weight"),
    ):
        with pytest.raises(UnknownAttributeError, match=r"`weight` is not in the query on `[^`]+\.animal`"):
            call()
    with pytest.raises(DataJointError, match=r"query on `[^`]+\.animal` returned none"):
        (Animal & {"animal_id": 5}).fetch1()
    with pytest.raises(DataJointError, match=r"query on `[^`]+\.animal` returned 2\. Restrict it further"):
        Animal.fetch1()


@pytest.mark.parametrize(
    ("row", "attribute", "message"),
    [
        ({"id": 1, "name": "caf\udce9.tif"}, "name", r"\\udce9 at position 3, which is no text"),
        ({"id": 1, "name": "a\0b"}, "name", "NUL character"),
        ({"id": "١٢", "name": "x"}, "id", "expected an integer"),
        ({"id": 1, "name": "x", "x": "1e400"}, "x", "too large for a 64-bit float"),
        ({"id": 1, "name": "x", "x": "١٫٥"}, "x", "ASCII digits"),
    ],
)
def test_values_no_backend_stores_alike_are_refused(schema, row, attribute, message):
    """Inputs that would be stored differently per backend (or raise a driver's error) are refused on
    every backend, naming the table, row and attribute; nothing is inserted."""

    @schema
    class Sample(dj.Manual):
        definition = """
        id : int32
        ---
        name = "" : varchar(40)
        x = null : float64
        """

    with pytest.raises(InvalidValueError, match=message) as error:
        Sample.insert1(row)
    assert f"attribute `{attribute}`" in str(error.value) and "row 0" in str(error.value)
    assert len(Sample) == 0
    if attribute == "name":  # a restriction by such a string is refused the same way, with no SQL run
        with pytest.raises(InvalidValueError, match=message):
            len(Sample & {"name": row["name"]})
