"""fetch/fetch1 and the 2.x formats; iteration, len, bool, in, head, tail; display stays cheap."""

import datetime
import uuid

import numpy as np
import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError
from pipejoint.query import fetch as fetch_module


def _table(schema):
    @schema
    class T(dj.Manual):
        definition = """
        id : int32
        ---
        x : float64
        n = null : int16
        s : varchar(8)
        """

    T.insert([(i, i / 2, None if i % 2 else i, f"s{i}") for i in range(10)])
    return T


def test_legacy_fetch(schema):
    T = _table(schema)
    array = T.fetch()
    assert array.dtype["id"] == np.int32 and array.dtype["x"] == np.float64 and len(array) == 10
    assert T.fetch("id", order_by="id DESC", limit=3).tolist() == [9, 8, 7]
    assert T.fetch("KEY", limit=2, offset=1) == [{"id": 1}, {"id": 2}]
    ids, xs = T.fetch("id", "x", order_by="KEY")
    assert xs.dtype == np.float64 and xs[3] == 1.5
    assert T.fetch(as_dict=True, order_by="id")[0] == {"id": 0, "x": 0.0, "n": 0, "s": "s0"}
    assert list(T.fetch(format="frame").index) == list(range(10))
    with pytest.raises(DataJointError, match="format"):
        T.fetch(format="bad")


def test_fetch1(schema):
    T = _table(schema)
    assert (T & {"id": 3}).fetch1() == {"id": 3, "x": 1.5, "n": None, "s": "s3"}
    assert (T & {"id": 3}).fetch1("x", "s") == (1.5, "s3")
    with pytest.raises(DataJointError, match="returned none"):
        (T & {"id": 99}).fetch1()
    with pytest.raises(DataJointError, match="returned 10"):
        T.fetch1()


def test_new_formats_and_protocols(schema):
    T = _table(schema)
    frame = T.to_pandas()
    assert frame.index.name == "id" and frame.loc[4, "s"] == "s4"
    x, s = T.to_arrays("x", "s")
    assert x.dtype == np.float64 and s[0] == "s0"
    assert T.keys(limit=2) == [{"id": 0}, {"id": 1}]
    assert len(T) == 10 and bool(T) and not bool(T & {"id": 99})
    assert {"id": 2} in T() and {"id": 42} not in T()  # `in` on the class itself needs table.py
    assert [r["id"] for r in T.head(2)] == [0, 1] and [r["id"] for r in T.tail(2)] == [8, 9]
    assert [r["id"] for r in T] == list(range(10))
    pytest.importorskip("polars", reason="polars is not installed: pip install polars")
    assert T.to_polars()["s"].to_list()[0] == "s0"
    pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install pyarrow")
    assert T.to_arrow().num_rows == 10


def test_display_reads_only_a_preview(schema, monkeypatch):
    T = _table(schema)
    dj.config["display.limit"] = 3
    try:
        text = repr(T())
        html = T()._repr_html_()
    finally:
        dj.config["display.limit"] = 12
    assert "*id" in text and "s2" in text and "s5" not in text and "Total: 10" in text
    assert "<u>id</u>" in html and "s5" not in html and "Total: 10" in html


def test_arrays_and_frames_have_native_dtypes(schema):
    @schema
    class Typed(dj.Manual):
        definition = """
        id : uint16
        ---
        small : int8
        flag : bool
        ratio : float32
        maybe = null : int32
        when : date
        tag : uuid
        label : varchar(8)
        """

    tag = uuid.UUID(int=7)
    Typed.insert(
        [
            {
                "id": i,
                "small": -i,
                "flag": i % 2 == 0,
                "ratio": i / 4,
                "maybe": None if i == 1 else i,
                "when": datetime.date(2020, 1, i + 1),
                "tag": tag,
                "label": f"l{i}",
            }
            for i in range(3)
        ]
    )
    array = Typed.to_arrays(order_by="id")
    assert [array.dtype[n] for n in ("id", "small", "flag", "ratio")] == [np.uint16, np.int8, np.bool_, np.float64]
    assert array.dtype["maybe"] == object and array["maybe"].tolist() == [0, None, 2]  # no native nullable int
    assert array["flag"].tolist() == [True, False, True] and array["ratio"].tolist() == [0.0, 0.25, 0.5]
    assert array["when"][2] == datetime.date(2020, 1, 3) and array["tag"][0] == tag and array["label"][1] == "l1"
    small, when = Typed.to_arrays("small", "when", order_by="id")
    assert small.dtype == np.int8 and small.tolist() == [0, -1, -2] and when.tolist()[0] == datetime.date(2020, 1, 1)
    frame = Typed.to_pandas(order_by="id")
    assert frame["small"].dtype == np.int8 and frame["flag"].dtype == bool and frame["ratio"].dtype == np.float64
    assert frame.loc[1, "maybe"] is None and frame.loc[2, "when"] == datetime.date(2020, 1, 3)
    keys, ratio = Typed.to_arrays("ratio", include_key=True, order_by="id")
    assert keys == [{"id": 0}, {"id": 1}, {"id": 2}] and ratio.dtype == np.float64


def test_iteration_pages_through_the_primary_key(schema, monkeypatch):
    @schema
    class Pair(dj.Manual):
        definition = """
        a : varchar(4)
        b : int16
        c : date
        ---
        x = null : float64
        """

    monkeypatch.setattr(fetch_module, "PAGE", 5)  # pages of 5 rows, ending anywhere in the key
    days = [datetime.date(2024, 1, d) for d in (9, 1)]
    rows = [
        {"a": a, "b": b, "c": c, "x": None if b else 1.5}
        for a in ("p", "q", "r")
        for b in range(3, -1, -1)
        for c in days
    ]
    Pair.insert(rows)
    seen = [(r["a"], r["b"], r["c"]) for r in Pair]
    assert seen == sorted((r["a"], r["b"], r["c"]) for r in rows)  # all 24, in key order, over 5 pages
    assert [(r["a"], r["b"]) for r in Pair & "b > 1" & {"c": days[0]}] == [(a, b) for a in "pqr" for b in (2, 3)]
    top = [(r["a"], r["b"]) for r in Pair & {"c": days[1]} & dj.Top(5, ["b DESC", "a"])]
    assert top == [("p", 3), ("q", 3), ("r", 3), ("p", 2), ("q", 2)]  # in its own order, in one query


def test_iteration_streams(schema, monkeypatch):
    """Rows are read one page at a time: a row added ahead of the loop is still met, and deleting
    the rows already seen skips nothing (pages follow the last key, not an offset)."""

    @schema
    class Item(dj.Manual):
        definition = """
        id : int32
        """

    monkeypatch.setattr(fetch_module, "PAGE", 4)
    Item.insert([(i,) for i in range(10)])
    seen = []
    for row in Item:
        seen.append(row["id"])
        (Item & row).delete_quick()
        if row["id"] == 0:
            Item.insert1((100,))  # read all at once, the loop would never see it
    assert seen == list(range(10)) + [100]
    assert len(Item) == 0


def test_class_level_restrictions_follow_a_redeclared_table(schema):
    @schema
    class Thing(dj.Manual):
        definition = """
        id : int32
        ---
        v : int32
        """

    Thing.insert1((1, 5))
    assert (Thing & {"id": 1}).fetch1() == {"id": 1, "v": 5} and len(Thing - {"id": 1}) == 0
    Thing.drop()
    Thing.definition = """
    id : int32
    ---
    w : varchar(8)
    """
    schema(Thing)
    Thing.insert1((1, "x"))
    assert (Thing & {"id": 1}).fetch1() == {"id": 1, "w": "x"}
