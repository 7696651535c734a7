"""Portable SQL fragments: the MySQL functions DataJoint users write give the same answers everywhere.

Each fragment is used as a computed attribute over three rows (one full of NULLs) and compared with
the answer worked out in Python; restriction strings are compared the same way.
"""

from __future__ import annotations

import datetime
import math
import statistics

import pytest

import pipejoint as dj

D1, D2 = datetime.date(2000, 2, 29), datetime.date(1999, 12, 31)
T1, T2, T3 = (datetime.datetime(2001, 3, 4, 5, 6, 7), datetime.datetime(2000, 1, 1, 0, 0, 0),
              datetime.datetime(2024, 6, 15, 23, 59, 59))
ROWS = [
    dict(id=1, d=D1, dt=T1, a=7, b=2, x=2.5, s="abç"),
    dict(id=2, d=D2, dt=T2, a=-7, b=0, x=-1.5, s="O'Brien"),
    dict(id=3, d=None, dt=T3, a=None, b=3, x=0.0, s=None),
]


def months_between(start, end):
    """Whole months from start to end, as MySQL's TIMESTAMPDIFF(MONTH, ...) counts them."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and (end.day, end.time()) < (start.day, start.time()):
        months -= 1
    return months


def at_midnight(d):
    return datetime.datetime.combine(d, datetime.time())


def null_safe(function):
    def apply(row):
        try:
            return function(row)
        except (TypeError, AttributeError, ZeroDivisionError, ValueError):  # NULL in, NULL out; x/0 is NULL
            return None

    return apply


# fragment -> expected value per row (None in an operand gives None unless the function says otherwise)
SCALARS = {
    "YEAR(d)": lambda r: r["d"].year,
    "MONTH(d)": lambda r: r["d"].month,
    "DAY(d)": lambda r: r["d"].day,
    "HOUR(dt)": lambda r: r["dt"].hour,
    "MINUTE(dt)": lambda r: r["dt"].minute,
    "SECOND(dt)": lambda r: r["dt"].second,
    "YEAR(dt) - YEAR(d)": lambda r: r["dt"].year - r["d"].year,
    "DATEDIFF(dt, d)": lambda r: (r["dt"].date() - r["d"]).days,
    "DATEDIFF('2024-01-01', d)": lambda r: (datetime.date(2024, 1, 1) - r["d"]).days,
    "TIMESTAMPDIFF(DAY, d, dt)": lambda r: (r["dt"] - at_midnight(r["d"])).days,
    "TIMESTAMPDIFF(HOUR, d, dt)": lambda r: int((r["dt"] - at_midnight(r["d"])).total_seconds() // 3600),
    "TIMESTAMPDIFF(MINUTE, dt, d)": lambda r: -int((r["dt"] - at_midnight(r["d"])).total_seconds() // 60),
    "TIMESTAMPDIFF(MONTH, d, dt)": lambda r: months_between(at_midnight(r["d"]), r["dt"]),
    "TIMESTAMPDIFF(YEAR, d, dt)": lambda r: months_between(at_midnight(r["d"]), r["dt"]) // 12,
    'CONCAT(s, "-", a)': lambda r: f"{r['s']}-{r['a']}" if r["s"] is not None and r["a"] is not None else None,
    "CONCAT(a, b)": lambda r: f"{r['a']}{r['b']}" if r["a"] is not None else None,
    "CONCAT_WS('/', s, a, b)": lambda r: "/".join(str(v) for v in (r["s"], r["a"], r["b"]) if v is not None),
    "IF(a > 0, 'pos', 'not')": lambda r: "pos" if r["a"] is not None and r["a"] > 0 else "not",
    "GREATEST(a, b)": lambda r: max(r["a"], r["b"]),
    "LEAST(a, b, 1)": lambda r: min(r["a"], r["b"], 1),
    "FLOOR(x)": lambda r: math.floor(r["x"]),
    "FLOOR(a / b)": lambda r: math.floor(r["a"] / r["b"]),
    "POW(b, 2)": lambda r: float(r["b"] ** 2),
    "POW(x, 2) + 1": lambda r: r["x"] ** 2 + 1,
    "a DIV b": lambda r: int(r["a"] / r["b"]),
    "a / b": lambda r: r["a"] / r["b"],
    "a % b": lambda r: int(math.fmod(r["a"], r["b"])),
    "MOD(a, b)": lambda r: int(math.fmod(r["a"], r["b"])),
    "7 / 2": lambda r: 3.5,
    "7 DIV 2": lambda r: 3,
    "a * b + 1": lambda r: r["a"] * r["b"] + 1,
    "IFNULL(a, 0)": lambda r: r["a"] if r["a"] is not None else 0,
    "COALESCE(s, 'none')": lambda r: r["s"] if r["s"] is not None else "none",
    "UPPER(s)": lambda r: r["s"].upper(),
    "CHAR_LENGTH(s)": lambda r: len(r["s"]),
    "REPLACE(s, 'b', 'B')": lambda r: r["s"].replace("b", "B"),
    # calls inside calls are made portable at every level
    "CONCAT(HOUR(dt), 'h')": lambda r: f"{r['dt'].hour}h",
    "GREATEST(MINUTE(dt), SECOND(dt))": lambda r: max(r["dt"].minute, r["dt"].second),
    "s LIKE 'O%'": lambda r: r["s"].startswith("O"),
    "s LIKE '%b%'": lambda r: "b" in r["s"],
    "s < 'P'": lambda r: r["s"] < "P",
    "d > '2000-01-01'": lambda r: r["d"] > datetime.date(2000, 1, 1),
    "dt >= '2000-01-01 00:00:00'": lambda r: r["dt"] >= datetime.datetime(2000, 1, 1),
    "a IS NULL": lambda r: r["a"] is None,
    "a <=> NULL": lambda r: r["a"] is None,
    "a = 7 OR b = 3": lambda r: None if r["a"] is None and r["b"] != 3 else (r["a"] == 7 or r["b"] == 3),
}


@pytest.fixture
def sample(schema):
    @schema
    class Sample(dj.Manual):
        definition = """
        id : int32
        ---
        d = null : date
        dt : datetime
        a = null : int32
        b : int32
        x : float64
        s = null : varchar(20)
        """

    Sample.insert(ROWS)
    return Sample


def close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(b, bool) and a is not None:
        return bool(a) == b
    return a == b


def test_scalar_functions_agree_with_python(sample):
    names = {f"v{i}": text for i, text in enumerate(SCALARS)}
    rows = {r["id"]: r for r in sample.proj(**names).to_dicts()}
    problems = []
    for name, text in names.items():
        for row in ROWS:
            expected = null_safe(SCALARS[text])(row)
            got = rows[row["id"]][name]
            if not close(got, expected):
                problems.append(f"{text} on row {row['id']}: got {got!r}, expected {expected!r}")
    assert not problems, "\n".join(problems)


def test_computed_types_are_the_same_everywhere(sample):
    q = sample.proj(y="YEAR(d)", n="CHAR_LENGTH(s)", r="a / b", c="CONCAT(s, a)", f="FLOOR(x)", p="POW(b, 2)",
                    i="a DIV b", m="a % b", cnt="DATEDIFF(dt, d)")
    row = (q & {"id": 1}).fetch1()
    assert type(row["y"]) is int and type(row["n"]) is int and type(row["f"]) is int
    assert type(row["i"]) is int and type(row["m"]) is int and type(row["cnt"]) is int
    assert type(row["r"]) is float and type(row["p"]) is float and type(row["c"]) is str


def test_restriction_strings(sample):
    def ids(condition):
        return sorted((sample & condition).fetch("id"))

    assert ids("YEAR(d) = 2000") == [1]
    assert ids("d < '2000-01-01'") == [2]
    assert ids("d IS NULL") == [3]
    assert ids("s LIKE '%''%'") == [2]  # a quote inside a LIKE pattern
    assert ids("s LIKE 'o%'") == []  # LIKE is case-sensitive on every backend
    assert ids("CONCAT(s, '!') = 'abç!'") == [1]
    assert ids("a DIV b = 3") == [1]
    assert ids("DATEDIFF(dt, d) > 300") == [1]
    assert ids("GREATEST(a, b) >= 2") == [1]
    assert ids("IF(a IS NULL, 1, 0) = 1") == [3]
    assert ids("`b` % 2 = 1") == [3]
    assert ids("x BETWEEN -2 AND 0") == [2, 3]
    assert ids("dt > '2020-01-01' AND HOUR(dt) = 23") == [3]
    assert ids("s REGEXP '^[A-Z]'") == [2]
    assert ids("REPLACE(s, 'b', 'B') = 'aBç'") == [1]


def test_clock_and_random_functions(sample):
    today = datetime.date.today()
    rows = sample.proj(age="DATEDIFF(CURDATE(), dt)", year="YEAR(NOW())", r="RAND()",
                       past="dt < NOW()").to_dicts()
    for row in rows:
        expected = (today - next(r for r in ROWS if r["id"] == row["id"])["dt"].date()).days
        assert abs(row["age"] - expected) <= 1  # the server's clock may sit in another time zone
        assert abs(row["year"] - today.year) <= 1
        assert 0 <= row["r"] < 1
        assert row["past"] is True
    assert len(sample & "d < CURDATE()") == 2


def test_aggregate_functions(sample):
    values = [r["x"] for r in ROWS]
    q = dj.U().aggr(sample, n="COUNT(*)", na="COUNT(a)", total="SUM(a)", mean="AVG(x)", low="MIN(d)",
                    high="MAX(s)", sd="STD(x)", sd2="STDDEV(x)", sd3="STDDEV_SAMP(x)",
                    names="GROUP_CONCAT(s ORDER BY s DESC SEPARATOR '; ')", ids="GROUP_CONCAT(id)",
                    dist="GROUP_CONCAT(DISTINCT b ORDER BY b)")
    row = q.fetch1()
    assert row["n"] == 3 and row["na"] == 2 and row["total"] == 0
    assert math.isclose(row["mean"], statistics.fmean(values))
    assert math.isclose(row["sd"], statistics.pstdev(values)) and math.isclose(row["sd2"], statistics.pstdev(values))
    assert math.isclose(row["sd3"], statistics.stdev(values))
    assert row["low"] == D2 and row["high"] == "abç"
    assert row["names"] == "abç; O'Brien"
    assert sorted(row["ids"].split(",")) == ["1", "2", "3"]
    assert row["dist"] == "0,2,3"


def test_aggregates_of_empty_groups(sample, schema):
    Sample = sample  # noqa: F841 - the foreign key below names it
    @schema
    class Reading(dj.Manual):
        definition = """
        -> Sample
        k : int32
        ---
        v : float64
        """

    Reading.insert([(1, 1, 2.0), (1, 2, 4.0)])
    q = sample.aggr(Reading, n="COUNT(*)", m="AVG(v)", sd="STD(v)", all_v="GROUP_CONCAT(v)", top="MAX(v)")
    rows = {r["id"]: r for r in q.to_dicts()}
    assert rows[1]["n"] == 2 and rows[1]["m"] == 3.0 and rows[1]["sd"] == 1.0 and rows[1]["top"] == 4.0
    assert rows[2] == dict(id=2, n=0, m=None, sd=None, all_v=None, top=None)
    assert sorted(float(v) for v in rows[1]["all_v"].split(",")) == [2.0, 4.0]
