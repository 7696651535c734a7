"""Results carry the heading's types in every fetch format, empty or not: aggregates, computed
attributes and each core type; n-D blobs become Arrow tensors or nested lists."""

import datetime
import decimal
import uuid

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import pipejoint as dj
from pipejoint.core.values import float32_shortest, float32_shortest_column
from pipejoint.errors import DataJointError

pl = pytest.importorskip("polars", reason="polars is an optional extra; these checks need it")

# core type -> (a value, its numpy dtype, its Arrow type, its polars type)
CORE = {
    "i8": ("int8", -5, np.int8, pa.int8(), pl.Int8),
    "u8": ("uint8", 200, np.uint8, pa.uint8(), pl.UInt8),
    "i16": ("int16", -300, np.int16, pa.int16(), pl.Int16),
    "u16": ("uint16", 60000, np.uint16, pa.uint16(), pl.UInt16),
    "i32": ("int32", -70000, np.int32, pa.int32(), pl.Int32),
    "u32": ("uint32", 4_000_000_000, np.uint32, pa.uint32(), pl.UInt32),
    "i64": ("int64", -(2**40), np.int64, pa.int64(), pl.Int64),
    "f32": ("float32", 15.3, np.float64, pa.float32(), pl.Float32),
    "f64": ("float64", 0.1, np.float64, pa.float64(), pl.Float64),
    "b": ("bool", True, np.bool_, pa.bool_(), pl.Boolean),
    "dec": ("decimal(8,3)", decimal.Decimal("12.345"), object, pa.decimal128(8, 3), pl.Decimal(8, 3)),
    "s": ("varchar(12)", "pipejoint", object, pa.string(), pl.String),
    "c": ("char(3)", "abc", object, pa.string(), pl.String),
    "e": ("enum('red','blue')", "blue", object, pa.string(), pl.String),
    "d": ("date", datetime.date(2024, 2, 29), object, pa.date32(), pl.Date),
    "dt": ("datetime", datetime.datetime(2024, 2, 29, 13, 5, 7), object, pa.timestamp("us"), pl.Datetime("us")),
    "u": ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678"), object, pa.uuid(), pl.Binary),
}


@pytest.fixture
def tables(schema):
    attributes = "\n".join(f"{name} : {spec[0]}" for name, spec in CORE.items())

    @schema
    class Everything(dj.Manual):
        definition = f"""
        id : int32
        ---
        {attributes}
        """

    @schema
    class Animal(dj.Manual):
        definition = """
        animal : int32
        ---
        name : varchar(16)
        """

    @schema
    class Weighing(dj.Manual):
        definition = """
        -> Animal
        day : int16
        ---
        grams : int16
        ratio : float32
        """

    @schema
    class Recording(dj.Manual):
        definition = """
        rec : int32
        ---
        signal : <blob>
        """

    Everything.insert1({"id": 1, **{name: spec[1] for name, spec in CORE.items()}})
    Animal.insert([(1, "ada"), (2, "bo"), (3, "cy")])
    Weighing.insert([(1, 1, 20, 0.5), (1, 2, 22, 1.25), (2, 1, 30, 2.5)])
    return Everything, Animal, Weighing, Recording


def _formats(query):
    """{format: {attribute: its type}} of one query's result."""
    arrays = query.to_arrays()
    frame = query.to_pandas().reset_index()
    return {
        "fetch": {n: arrays.dtype[n] for n in arrays.dtype.names},
        "legacy": {n: query.fetch().dtype[n] for n in query.heading.names},
        "pandas": {n: frame[n].dtype for n in query.heading.names},
        "arrow": {f.name: f.type for f in query.to_arrow().schema},
        "polars": dict(query.to_polars().schema),
    }


@pytest.mark.parametrize("empty", [False, True], ids=["rows", "empty"])
def test_each_core_type_in_every_format(tables, empty):
    Everything = tables[0]
    query = Everything & "id = 0" if empty else Everything
    formats = _formats(query)
    for name, (declared, _value, dtype, arrow, polars) in CORE.items():
        assert formats["fetch"][name] == np.dtype(dtype), (name, declared)
        assert formats["legacy"][name] == np.dtype(dtype), (name, declared)
        if arrow == pa.string():  # pandas 3 gives text columns its string dtype
            assert pd.api.types.is_string_dtype(formats["pandas"][name]), (name, declared)
        elif arrow == pa.timestamp("us"):  # and datetimes its datetime64
            assert pd.api.types.is_datetime64_any_dtype(formats["pandas"][name]), (name, declared)
        else:
            assert formats["pandas"][name] == np.dtype(dtype), (name, declared)
        assert formats["arrow"][name] == arrow, (name, declared)
        assert formats["polars"][name] == polars, (name, declared)
    if not empty:
        row = query.to_dicts()[0]
        assert row == {"id": 1, **{name: spec[1] for name, spec in CORE.items()}}
        assert query.to_arrow().column("f32")[0].as_py() == np.float32(15.3)
        assert query.to_polars()["u32"][0] == 4_000_000_000


@pytest.mark.parametrize("empty", [False, True], ids=["rows", "empty"])
def test_aggregates_and_computed_attributes_have_the_heading_types(tables, empty):
    _, Animal, Weighing, _ = tables
    animals = Animal & "animal < 3" & ("animal > 5" if empty else "animal > 0")
    query = animals.aggr(
        Weighing, n="COUNT(*)", total="SUM(grams)", mean="AVG(grams)", low="MIN(grams)", high="MAX(ratio)"
    ).proj(..., twice="n * 2", half="total / 2")
    types = {n: query.heading[n].type for n in query.heading.names}
    assert types["n"] == types["total"] == types["twice"] == "int64" and types["low"] == "int16"
    expected_numpy = {"n": np.int64, "total": np.int64, "low": np.int16, "twice": np.int64, "mean": np.float64}
    expected_arrow = {"n": pa.int64(), "total": pa.int64(), "low": pa.int16(), "twice": pa.int64()}
    expected_arrow |= {"mean": pa.float64(), "high": pa.float32(), "half": pa.float64()}
    formats = _formats(query)
    for name, dtype in expected_numpy.items():
        for fmt in ("fetch", "legacy", "pandas"):
            assert formats[fmt][name] == np.dtype(dtype), (fmt, name)
    for name, arrow in expected_arrow.items():
        assert formats["arrow"][name] == arrow, name
        assert formats["polars"][name] == pl.from_arrow(pa.array([], type=arrow)).dtype, name
    if not empty:
        rows = query.to_dicts(order_by="animal")
        assert rows == [
            {"animal": 1, "n": 2, "total": 42, "mean": 21.0, "low": 20, "high": 1.25, "twice": 4, "half": 21.0},
            {"animal": 2, "n": 1, "total": 30, "mean": 30.0, "low": 30, "high": 2.5, "twice": 2, "half": 15.0},
        ]
        assert all(type(r["total"]) is int and type(r["n"]) is int for r in rows)  # not Decimal (MySQL's SUM)


def test_aggregates_that_may_be_null(tables):
    """keep_all_rows: an animal without weighings has no SUM: None, and the column stays an object
    column in numpy as a nullable stored integer does; Arrow and polars keep int64 with a null."""
    _, Animal, Weighing, _ = tables
    query = Animal.aggr(Weighing, n="COUNT(*)", total="SUM(grams)", keep_all_rows=True)
    arrays = query.to_arrays(order_by="animal")
    assert arrays.dtype["n"] == np.int64 and arrays["n"].tolist() == [2, 1, 0]
    assert arrays.dtype["total"] == np.dtype(object) and arrays["total"].tolist() == [42, 30, None]
    assert query.to_arrow(order_by="animal").column("total").to_pylist() == [42, 30, None]
    assert query.to_arrow().schema.field("total").type == pa.int64()
    assert query.to_polars().schema["total"] == pl.Int64


def test_blobs_to_arrow(tables):
    Recording = tables[3]
    Recording.insert([(1, np.arange(6.0).reshape(2, 3)), (2, np.ones((2, 3)))])
    table = Recording.to_arrow(order_by="rec")
    assert isinstance(table.schema.field("signal").type, pa.FixedShapeTensorType)
    assert np.array_equal(table.column("signal").combine_chunks().to_numpy_ndarray()[0], np.arange(6.0).reshape(2, 3))
    assert Recording.to_polars(order_by="rec")["signal"].to_list()[0] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    Recording.insert1((3, np.zeros((4, 1))))  # another shape: nested lists
    ragged = Recording.to_arrow(order_by="rec").column("signal").to_pylist()
    assert ragged[0] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and ragged[2] == [[0.0]] * 4
    Recording.insert1((4, np.array([{"a": 1}, None], dtype=object).reshape(1, 2)))
    with pytest.raises(DataJointError, match=r"`signal`.*to_arrays\(\)"):
        Recording.to_arrow()
    Recording.insert1((5, np.arange(3.0)))  # 1-D arrays are a list column
    assert (Recording & "rec = 5").to_arrow().column("signal").to_pylist() == [[0.0, 1.0, 2.0]]


def test_float32_columns_decode_like_single_values():
    rng = np.random.default_rng(4)
    values = np.concatenate(
        [rng.standard_normal(2000).round(3), rng.standard_normal(2000) * 1e6, [1e-40, 3.4e38, 0.0, -0.0, np.inf]]
    )
    values = values.astype(np.float32).astype(np.float64).tolist() + [float("nan")]
    column = float32_shortest_column(values)
    single = [float32_shortest(v) for v in values]
    assert column[:-1].tolist() == single[:-1] and np.isnan(column[-1])


def test_many_float32_rows_decode_as_one(tables):
    """Large results decode float32 columns at once; the values are those of single rows."""
    _, Animal, Weighing, _ = tables
    Weighing.insert([(3, d, d, d / 7) for d in range(2, 300)])
    many = (Weighing & "animal = 3").to_dicts(order_by="day")
    for row in many[::50]:
        assert (Weighing & {"animal": 3, "day": row["day"]}).fetch1("ratio") == row["ratio"]
    assert many[1]["ratio"] == float32_shortest(3 / 7) == 0.42857143
    assert Weighing.fetch("ratio", order_by="KEY").dtype == np.float64


def test_arrays_built_at_once_keep_nulls_and_float32_values(schema):
    @schema
    class Reading(dj.Manual):
        definition = """
        reading : int32
        ---
        level = null : float32
        count = null : int16
        """

    Reading.insert([(1, 0.1, 5), (2, None, None), (3, 2 / 3, 7)])
    arrays = Reading.fetch(order_by="reading")
    assert arrays.dtype["level"] == np.float64 and arrays.dtype["count"] == np.dtype(object)
    assert arrays["level"][0] == 0.1 and np.isnan(arrays["level"][1]) and arrays["level"][2] == 0.6666667
    assert arrays["count"].tolist() == [5, None, 7]
    frame = Reading.to_pandas(order_by="reading")
    assert frame["level"].iloc[2] == 0.6666667 and np.isnan(frame["level"].iloc[1])
