"""insert1 of a plain dict: the quick path stores what insert() stores and says what insert() says."""

import datetime
import math

import pytest

import pipejoint as dj
from pipejoint.errors import DuplicateError, IntegrityError, InvalidValueError, MissingAttributeError


def _tables(schema):
    @schema
    class Lamp(dj.Manual):
        definition = """
        lamp : int16
        ---
        watts : float32
        lumen = null : float64
        label : varchar(5)
        color = "white" : enum('white', 'red')
        bought = null : date
        """

    @schema
    class Bulb(dj.Manual):
        definition = """
        -> Lamp
        socket : uint8
        """

    return Lamp, Bulb


def test_values_stored_as_insert_stores_them(schema):
    Lamp, _ = _tables(schema)
    rows = [
        {"lamp": 1, "watts": 15.3, "lumen": 2.5, "label": "desk", "color": "red", "bought": datetime.date(2024, 5, 1)},
        {"lamp": 2, "watts": 7, "label": "hall"},  # an int for a float, defaults left out
        {"lamp": 3, "watts": 1.5, "lumen": None, "label": "ünï"},  # non-ASCII text: the full check
        {"lamp": 4, "watts": 2.0, "lumen": float("nan"), "label": "nan"},  # NaN: NULL where allowed
        {"lamp": 5, "watts": 2.0, "label": "none", "color": None},  # None for a default: the default
    ]
    for row in rows:
        Lamp.insert1(row)
    Lamp.insert([{**r, "lamp": r["lamp"] + 10} for r in rows])
    quick = Lamp & "lamp < 10"
    batch = Lamp & "lamp > 10"
    assert [{**r, "lamp": r["lamp"] + 10} for r in quick.fetch(as_dict=True, order_by="lamp")] == batch.fetch(
        as_dict=True, order_by="lamp"
    )
    first = (Lamp & {"lamp": 1}).fetch1()
    assert first["watts"] == pytest.approx(15.3, rel=1e-6) and first["bought"] == datetime.date(2024, 5, 1)
    assert (Lamp & {"lamp": 4}).fetch1("lumen") is None or math.isnan((Lamp & {"lamp": 4}).fetch1("lumen"))
    assert (Lamp & {"lamp": 5}).fetch1("color") == "white"


@pytest.mark.parametrize(
    ("row", "error", "words"),
    [
        ({"lamp": 40000, "watts": 1.0, "label": "x"}, InvalidValueError, "`lamp`"),
        ({"lamp": 1, "watts": 1.0, "label": "toolong"}, InvalidValueError, "`label`"),
        ({"lamp": 1, "watts": 1.0, "label": "x", "color": "blue"}, InvalidValueError, "`color`"),
        ({"lamp": 1, "watts": float("inf"), "label": "x"}, InvalidValueError, "`watts`"),
        ({"lamp": 1, "watts": float("nan"), "label": "x"}, InvalidValueError, "`watts`"),
        ({"lamp": 1, "watts": None, "label": "x"}, MissingAttributeError, "`watts`"),
        ({"lamp": 1, "label": "x"}, MissingAttributeError, "`watts`"),
        ({"lamp": 1, "watts": 1.0, "label": "x\0"}, InvalidValueError, "`label`"),
        ({"lamp": 1, "watts": 1e39, "label": "x"}, InvalidValueError, "`watts`"),
    ],
)
def test_bad_values_refused_with_the_attribute_named(schema, row, error, words):
    Lamp, _ = _tables(schema)
    with pytest.raises(error, match=words):
        Lamp.insert1(row)
    assert len(Lamp()) == 0


def test_database_refusals_explained(schema, connection):
    Lamp, Bulb = _tables(schema)
    Lamp.insert1({"lamp": 1, "watts": 1.0, "label": "a"})
    with pytest.raises(DuplicateError, match="already in the table"):
        Lamp.insert1({"lamp": 1, "watts": 2.0, "label": "b"})
    with pytest.raises(IntegrityError, match="lamp"):
        Bulb.insert1({"lamp": 2, "socket": 1})
    assert len(Bulb()) == 0 and (Lamp & {"lamp": 1}).fetch1("label") == "a"
    # inside a transaction, a refused insert1 caught by the caller leaves the transaction usable
    with connection.transaction:
        Lamp.insert1({"lamp": 2, "watts": 1.0, "label": "c"})
        with pytest.raises(DuplicateError):
            Lamp.insert1({"lamp": 1, "watts": 1.0, "label": "d"})
        Lamp.insert1({"lamp": 3, "watts": 1.0, "label": "e"})
    assert Lamp.fetch("lamp").tolist() == [1, 2, 3]


def test_rolled_back_with_its_transaction(schema, connection):
    Lamp, Bulb = _tables(schema)
    with pytest.raises(RuntimeError), connection.transaction:
        Lamp.insert1({"lamp": 1, "watts": 1.0, "label": "a"})
        Bulb.insert1({"lamp": 1, "socket": 2})
        raise RuntimeError("stop")
    assert len(Lamp()) == 0 and len(Bulb()) == 0


def test_a_caught_failure_undoes_only_its_own_step(schema, connection):
    """Savepoints are reused while nothing was written since they were set (PostgreSQL): a failed
    step must never take back an earlier write, whether it came from a step or from the user's SQL."""
    Lamp, Bulb = _tables(schema)
    Lamp.insert1({"lamp": 1, "watts": 1.0, "label": "a"})
    table = Lamp.full_table_name
    with connection.transaction:
        connection.query(f"INSERT INTO {table} (lamp, watts, label) VALUES (2, 1.0, 'user')")
        with pytest.raises(DuplicateError):
            Lamp.insert1({"lamp": 1, "watts": 1.0, "label": "b"})
        Lamp.insert1({"lamp": 3, "watts": 1.0, "label": "c"})
        with pytest.raises(DuplicateError):  # several rows, the last one a duplicate
            Lamp.insert([{"lamp": 4, "watts": 1.0, "label": "d"}, {"lamp": 1, "watts": 1.0, "label": "e"}])
        with pytest.raises(IntegrityError):
            Bulb.insert([{"lamp": 3, "socket": 1}, {"lamp": 9, "socket": 1}])
        Bulb.insert1({"lamp": 2, "socket": 1})
    assert Lamp.fetch("lamp").tolist() == [1, 2, 3]
    assert Bulb.fetch("lamp").tolist() == [2]
