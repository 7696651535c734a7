"""fetch/fetch1 and the 2.x formats; iteration, len, bool, in, head, tail; display stays cheap."""

import numpy as np
import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError


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
    pl = pytest.importorskip("polars", reason="polars is not installed: pip install polars")
    assert T.to_polars()["s"].to_list()[0] == "s0"
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install pyarrow")
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
