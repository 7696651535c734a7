"""Values of every type come back exactly as inserted, the same on every backend (hypothesis)."""

import datetime
import decimal
import math

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import pipejoint as dj
from pipejoint.core.values import float32_shortest, to_float32
from pipejoint.errors import InvalidValueError

_H = hsettings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(-1e15, 1e15)
    | text,  # jsonb prints big floats as integers
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
finite = st.floats(allow_nan=False, allow_infinity=False)

CASES = {
    "int8": st.integers(-(2**7), 2**7 - 1),
    "uint8": st.integers(0, 2**8 - 1),
    "int16": st.integers(-(2**15), 2**15 - 1),
    "uint16": st.integers(0, 2**16 - 1),
    "int32": st.integers(-(2**31), 2**31 - 1),
    "uint32": st.integers(0, 2**32 - 1),
    "int64": st.integers(-(2**63), 2**63 - 1),
    "float64": finite,
    "float32": st.floats(-3e38, 3e38, allow_nan=False),
    "bool": st.booleans(),
    "decimal(12,3)": st.decimals(-(10**9) + 1, 10**9 - 1, places=3, allow_nan=False, allow_infinity=False),
    "varchar(20)": text,
    "char(6)": st.text("abcxyz é", max_size=6).map(lambda s: s.rstrip(" ")),
    "enum('a','bb','c d')": st.sampled_from(["a", "bb", "c d"]),
    "date": st.dates(datetime.date(1000, 1, 1), datetime.date(9999, 12, 31)),
    "datetime": st.datetimes(datetime.datetime(1970, 1, 2), datetime.datetime(2037, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
    "datetime(6)": st.datetimes(datetime.datetime(1970, 1, 2), datetime.datetime(2037, 12, 31)),
    "time": st.times().map(lambda t: t.replace(microsecond=0)),
    "uuid": st.uuids(),
    "json": json_values,
    "bytes": st.binary(max_size=40),
}


def _expected(core, value):
    if core == "float32":  # stored as float32, fetched as the shortest decimal of that float32
        return float32_shortest(to_float32(value))
    if core.startswith("decimal"):
        return value.quantize(decimal.Decimal("0.001"))
    return value


@pytest.mark.parametrize("declared", list(CASES))
def test_values_round_trip(schema, declared):
    @schema
    class Value(dj.Manual):
        definition = f"""
        id : int32
        ---
        v = null : {declared}
        """

    @_H
    @given(st.lists(CASES[declared], min_size=1, max_size=8))
    def check(values):
        Value.delete_quick()
        Value.insert([{"id": i, "v": v} for i, v in enumerate(values)] + [{"id": len(values), "v": None}])
        got = [r["v"] for r in Value.to_dicts(order_by="id")]
        assert got[-1] is None
        for value, back in zip(values, got):
            want = _expected(declared, value)
            assert back == want, (value, back)
            # PostgreSQL's jsonb prints 1e16 as 10000000000000000: equal, but an int in Python
            assert declared == "json" or type(back) is type(want), (value, back)
        # the column-wise paths (numpy, pandas) give the same values; missing floats are NaN there, and
        # pandas makes datetimes its own datetime64 (missing: NaT)
        for column in (list(Value.to_arrays("v", order_by="id")), Value.to_pandas(order_by="id")["v"].tolist()):
            assert _missing(column[-1])
            for want, back in zip(got, column):
                assert back == want or (_missing(back) and _missing(want)), (want, back)

    check()


def _missing(value):
    return value is None or value != value  # None, NaN (numpy floats too), pandas' NaT


def test_key_values_round_trip(schema):
    @schema
    class Keyed(dj.Manual):
        definition = """
        k_uuid : uuid
        k_date : date
        k_str : varchar(16)
        k_big : uint32
        ---
        note = "" : varchar(8)
        """

    @_H
    @given(
        st.lists(
            st.tuples(
                st.uuids(), st.dates(datetime.date(1900, 1, 1)), st.text("abc", max_size=5), st.integers(0, 2**32 - 1)
            ),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    def check(rows):
        Keyed.delete_quick()
        Keyed.insert([r + ("n",) for r in rows])
        assert sorted(Keyed.fetch("k_uuid", "k_date", "k_str", "k_big", as_dict=True), key=str) == sorted(
            [dict(zip(("k_uuid", "k_date", "k_str", "k_big"), r)) for r in rows], key=str
        )
        for row in rows:
            key = dict(zip(("k_uuid", "k_date", "k_str", "k_big"), row))
            assert (Keyed & key).fetch1("KEY") == key

    check()


def test_special_floats_are_the_same_on_every_backend(schema):
    """NaN is a missing value, stored as NULL where the attribute is nullable (DataJoint's rule) and
    refused where it is required; ±inf is refused (MySQL cannot store it). Nothing is inserted by a
    refused row."""

    @schema
    class F(dj.Manual):
        definition = """
        id : int
        ---
        x : float64
        y = null : float32
        """

    F.insert([{"id": 1, "x": 1.5, "y": math.nan}, {"id": 2, "x": 2.5, "y": 0.5}])
    assert F.fetch("y", order_by="id").tolist()[1] == 0.5 and (F & {"id": 1}).fetch1("y") is None
    assert len(F & "y IS NULL") == 1
    for row, message in (
        ({"id": 3, "x": math.nan}, r"`f`.*row 0.*attribute `x`.*NaN is a missing value.*required"),
        ({"id": 3, "x": math.inf}, r"attribute `x`.*inf cannot be stored"),
        ({"id": 3, "x": 1.0, "y": -math.inf}, r"attribute `y`.*-inf cannot be stored"),
    ):
        with pytest.raises(InvalidValueError, match=message):
            F.insert1(row)
    with pytest.raises(InvalidValueError, match="float32"):
        F.insert1({"id": 9, "x": 1.0, "y": 1e39})
    assert len(F) == 2


def test_nan_in_key_is_refused(schema):
    @schema
    class K(dj.Manual):
        definition = """
        x : int32
        """

    with pytest.raises(InvalidValueError, match=r"row 1, attribute `x`: expected an integer, got float nan"):
        K.insert([{"x": 1.0}, {"x": math.nan}])
    assert len(K) == 0


def test_backend_limits_are_clear_errors(schema, connection):
    @schema
    class Wide(dj.Manual):
        definition = """
        id : int
        ---
        big = null : uint64
        dec = null : decimal(30,4)
        """

    Wide.insert1({"id": 1, "big": 2**63 - 1, "dec": decimal.Decimal("12345678901.2345")})
    assert (Wide & {"id": 1}).fetch1("big", "dec") == (2**63 - 1, decimal.Decimal("12345678901.2345"))
    if connection.backend.name == "sqlite":
        with pytest.raises(InvalidValueError, match=r"row 0, attribute `big`.*2\^63-1"):
            Wide.insert1({"id": 2, "big": 2**64 - 1})
        with pytest.raises(InvalidValueError, match=r"attribute `dec`.*15"):
            Wide.insert1({"id": 3, "dec": decimal.Decimal("123456789012345678.1234")})
    else:
        Wide.insert1({"id": 2, "big": 2**64 - 1, "dec": decimal.Decimal("12345678901234567890123456.1234")})
        assert (Wide & {"id": 2}).fetch1("big", "dec") == (
            2**64 - 1,
            decimal.Decimal("12345678901234567890123456.1234"),
        )
    assert len(Wide) == (1 if connection.backend.name == "sqlite" else 2)


def test_char_trailing_spaces_and_times(schema):
    @schema
    class C(dj.Manual):
        definition = """
        id : int
        ---
        c : char(5)
        t : time
        dt : datetime(3)
        """

    C.insert1({"id": 1, "c": "ab ", "t": datetime.timedelta(hours=10, seconds=5), "dt": "2020-01-01 10:00:00.123456"})
    assert C.fetch1("c", "t", "dt") == ("ab", datetime.time(10, 0, 5), datetime.datetime(2020, 1, 1, 10, 0, 0, 123000))
    assert len(C & {"c": "ab"}) == 1
