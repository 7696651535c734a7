"""Portable SQL fragments: the MySQL functions DataJoint users write give the same answers everywhere.

Each fragment is used as a computed attribute over three rows (one full of NULLs) and compared with
the answer worked out in Python as MySQL defines it (MariaDB is the reference); restriction strings
are compared the same way.
"""

from __future__ import annotations

import calendar
import datetime
import math
import re
import statistics
from decimal import Decimal

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError

D1, D2 = datetime.date(2000, 2, 29), datetime.date(1999, 12, 31)
T1, T2, T3 = (
    datetime.datetime(2001, 3, 4, 5, 6, 7),
    datetime.datetime(2000, 1, 1, 0, 0, 0),
    datetime.datetime(2024, 6, 15, 23, 59, 59),
)
J1 = {"name": "Rocket", "n": 42, "ok": True, "tags": ["a", "b"], "sub": {"deep": [7]}}
J2 = {"name": "O'Brien", "n": -7, "ok": False, "tags": [], "nothing": None}
ROWS = [
    dict(id=1, d=D1, dt=T1, a=7, b=2, x=2.5, s="abç", j=J1),
    dict(id=2, d=D2, dt=T2, a=-7, b=0, x=-1.5, s="O'Brien", j=J2),
    dict(id=3, d=None, dt=T3, a=None, b=3, x=0.0, s=None, j=None),
]


def months_between(start, end):
    """Whole months from start to end, as MySQL's TIMESTAMPDIFF(MONTH, ...) counts them."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and (end.day, end.time()) < (start.day, start.time()):
        months -= 1
    return months


def at_midnight(d):
    return datetime.datetime.combine(d, datetime.time())


def add_months(moment, months):
    """MySQL's month arithmetic: the day is clipped to the end of a shorter month."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    return moment.replace(year=year, month=month + 1, day=min(moment.day, calendar.monthrange(year, month + 1)[1]))


def round_float(value, digits=0):
    """MySQL's ROUND of a double: scaled by 10^digits, rounded half to even (C's rint), scaled back."""
    if digits >= 0:
        return round(value * 10.0**digits) / 10.0**digits
    return round(value / 10.0**-digits) * 10.0**-digits


def round_exact(value, digits=0):
    """MySQL's ROUND of an integer or decimal: half away from zero."""
    return int(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding="ROUND_HALF_UP"))


def text(value):
    """A value as MySQL converts it to a string; NULL stays NULL (null_safe turns the TypeError into None)."""
    if value is None:
        raise TypeError("NULL")
    return str(value)


def pad(value, length, fill, left):
    """MySQL's LPAD / RPAD."""
    text_ = text(value)
    if length <= len(text_):
        return text_[:length]
    padding = (fill * length)[: length - len(text_)]
    return padding + text_ if left else text_ + padding


def substring(value, start, length=None):
    """MySQL's SUBSTRING: from 1, or from the end when negative; '' for 0 or beyond the start."""
    text = globals()["text"](value)
    if start == 0 or -start > len(text):
        return ""
    first = start - 1 if start > 0 else len(text) + start
    return text[first:] if length is None else text[first : first + max(length, 0)]


DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def week0(d):
    """MySQL's WEEK(d): weeks start on Sunday; the days before the year's first Sunday are week 0."""
    first_sunday = 1 + (6 - datetime.date(d.year, 1, 1).weekday()) % 7
    day_of_year = d.timetuple().tm_yday
    return 0 if day_of_year < first_sunday else (day_of_year - first_sunday) // 7 + 1


def twelve(hour):
    return hour % 12 or 12


def ordinal(day):
    return f"{day}{'th' if day in (11, 12, 13) else {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"


def seconds_of_day(t):
    return t.hour * 3600 + t.minute * 60 + t.second


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
    "COALESCE(a, b)": lambda r: r["a"] if r["a"] is not None else r["b"],
    "NULLIF(a, 7)": lambda r: None if r["a"] == 7 else r["a"],
    "CASE WHEN a > 0 THEN 'p' WHEN a < 0 THEN 'n' ELSE 'z' END": lambda r: (
        "z" if r["a"] is None else ("p" if r["a"] > 0 else "n" if r["a"] < 0 else "z")
    ),
    # numbers
    "ABS(a)": lambda r: abs(r["a"]),
    "SIGN(x)": lambda r: (r["x"] > 0) - (r["x"] < 0),
    "CEIL(x)": lambda r: math.ceil(r["x"]),
    "SQRT(b)": lambda r: math.sqrt(r["b"]),
    "SQRT(x)": lambda r: math.sqrt(r["x"]),  # NULL for a negative number
    "EXP(b)": lambda r: math.exp(r["b"]),
    "LN(b)": lambda r: math.log(r["b"]),  # NULL for 0
    "LN(x)": lambda r: math.log(r["x"]),
    "LOG(b)": lambda r: math.log(r["b"]),
    "LOG10(b)": lambda r: math.log10(r["b"]),
    "LOG2(b)": lambda r: math.log2(r["b"]),
    "LOG(2, x)": lambda r: math.log(r["x"], 2),
    "LOG(b, 8)": lambda r: math.log(8, r["b"]),  # NULL for base 0 and 1
    "PI() * b": lambda r: math.pi * r["b"],
    "a / 3": lambda r: r["a"] / 3,
    "ROUND(x)": lambda r: round_float(r["x"]),  # 2.5 -> 2, -1.5 -> -2: half to even for a double
    "ROUND(x, 1)": lambda r: round_float(r["x"], 1),
    "ROUND(x * 0.05, 2)": lambda r: round_float(r["x"] * 0.05, 2),
    "ROUND(x, -1)": lambda r: round_float(r["x"], -1),
    "ROUND(a, -1)": lambda r: round_exact(r["a"], -1),  # 7 -> 10: half away from zero for an integer
    "ROUND(b * 5, -1)": lambda r: round_exact(r["b"] * 5, -1),
    "ROUND(a / 3, 2)": lambda r: round_float(r["a"] / 3, 2),
    "ROUND(x, b)": lambda r: round_float(r["x"], r["b"]),
    "TRUNCATE(x, 0)": lambda r: float(math.trunc(r["x"])),
    "TRUNCATE(x * 1.37, 1)": lambda r: math.trunc(r["x"] * 1.37 * 10) / 10,
    "TRUNCATE(a / 3, 2)": lambda r: math.trunc(r["a"] / 3 * 100) / 100,
    "CAST(a AS CHAR)": lambda r: text(r["a"]),
    "CAST(a AS CHAR(1))": lambda r: text(r["a"])[:1],
    "CAST(x AS SIGNED)": lambda r: round(r["x"]),  # a double is rounded half to even
    "CAST(b AS UNSIGNED)": lambda r: r["b"],
    "CAST(x * 10 AS DECIMAL(5,2))": lambda r: Decimal(r["x"] * 10).quantize(Decimal("0.01")),
    "CAST(b AS DOUBLE)": lambda r: float(r["b"]),
    "CAST(dt AS DATE)": lambda r: r["dt"].date(),
    "CAST(d AS DATETIME)": lambda r: at_midnight(r["d"]),
    "CAST(dt AS TIME)": lambda r: r["dt"].time(),
    "CAST('2020-01-02' AS DATE)": lambda r: datetime.date(2020, 1, 2),
    # strings
    "UPPER(s)": lambda r: r["s"].upper(),
    "LOWER(s)": lambda r: r["s"].lower(),
    "CHAR_LENGTH(s)": lambda r: len(r["s"]),
    "LENGTH(s)": lambda r: len(r["s"].encode()),  # bytes: 'abç' is 4
    "LENGTH(a)": lambda r: len(text(r["a"])),
    "REPLACE(s, 'b', 'B')": lambda r: r["s"].replace("b", "B"),
    "LEFT(s, 2)": lambda r: r["s"][:2],
    "RIGHT(s, 2)": lambda r: r["s"][-2:],
    "LEFT(s, -1)": lambda r: r["s"][:0],
    "RIGHT(s, 0)": lambda r: r["s"][:0],
    "LEFT(a, 2)": lambda r: text(r["a"])[:2],
    "REVERSE(s)": lambda r: r["s"][::-1],
    "LPAD(s, 5, '*')": lambda r: pad(r["s"], 5, "*", left=True),
    "RPAD(s, 5, '-=')": lambda r: pad(r["s"], 5, "-=", left=False),
    "LPAD(a, 4, '0')": lambda r: pad(r["a"], 4, "0", left=True),
    "SUBSTRING(s, 2, 3)": lambda r: substring(r["s"], 2, 3),
    "SUBSTR(s, 2)": lambda r: substring(r["s"], 2),
    "SUBSTRING(s, -3)": lambda r: substring(r["s"], -3),
    "SUBSTRING(s, -3, 2)": lambda r: substring(r["s"], -3, 2),
    "SUBSTRING(s, 0)": lambda r: substring(r["s"], 0),
    "SUBSTRING(s, -5)": lambda r: substring(r["s"], -5),
    "MID(s, 2, 2)": lambda r: substring(r["s"], 2, 2),
    "TRIM(CONCAT(' ', s, ' '))": lambda r: r["s"].strip(" "),
    "LTRIM(CONCAT(' ', s, ' '))": lambda r: r["s"] + " ",
    "RTRIM(CONCAT(' ', s, ' '))": lambda r: " " + r["s"],
    "LOCATE('b', s)": lambda r: r["s"].find("b") + 1,
    "LOCATE('r', s, 4)": lambda r: r["s"].find("r", 3) + 1,
    "INSTR(s, 'r')": lambda r: r["s"].find("r") + 1,
    # calls inside calls are made portable at every level
    "CONCAT(HOUR(dt), 'h')": lambda r: f"{r['dt'].hour}h",
    "GREATEST(MINUTE(dt), SECOND(dt))": lambda r: max(r["dt"].minute, r["dt"].second),
    "CONCAT(DAYOFWEEK(d), LEFT(s, 1))": lambda r: f"{r['d'].isoweekday() % 7 + 1}{r['s'][0]}",
    "LENGTH(REPLACE(s, 'b', ''))": lambda r: len(r["s"].replace("b", "").encode()),
    "DATE_FORMAT(DATE_ADD(d, INTERVAL 1 MONTH), '%Y-%m')": lambda r: add_months(r["d"], 1).strftime("%Y-%m"),
    # dates and times
    "DATE(dt)": lambda r: r["dt"].date(),
    "TIME(dt)": lambda r: r["dt"].time(),
    "DATE_ADD(d, INTERVAL 1 DAY)": lambda r: r["d"] + datetime.timedelta(days=1),
    "DATE_ADD(d, INTERVAL 2 MONTH)": lambda r: add_months(r["d"], 2),  # 1999-12-31 -> 2000-02-29
    "DATE_ADD(d, INTERVAL b MONTH)": lambda r: add_months(r["d"], r["b"]),
    "DATE_ADD(d, INTERVAL 1 QUARTER)": lambda r: add_months(r["d"], 3),
    "DATE_ADD(d, INTERVAL 1 WEEK)": lambda r: r["d"] + datetime.timedelta(weeks=1),
    "DATE_ADD(d, INTERVAL -1 YEAR)": lambda r: add_months(r["d"], -12),  # 2000-02-29 -> 1999-02-28
    "DATE_ADD(d, INTERVAL 1 HOUR)": lambda r: at_midnight(r["d"]) + datetime.timedelta(hours=1),
    "DATE_ADD(dt, INTERVAL 90 MINUTE)": lambda r: r["dt"] + datetime.timedelta(minutes=90),
    "DATE_ADD(dt, INTERVAL 1 MONTH)": lambda r: add_months(r["dt"], 1),
    "DATE_SUB(d, INTERVAL 1 DAY)": lambda r: r["d"] - datetime.timedelta(days=1),
    "DATE_SUB(dt, INTERVAL b HOUR)": lambda r: r["dt"] - datetime.timedelta(hours=r["b"]),
    "d + INTERVAL 1 MONTH": lambda r: add_months(r["d"], 1),
    "d - INTERVAL 1 YEAR": lambda r: add_months(r["d"], -12),
    "INTERVAL 1 DAY + d": lambda r: r["d"] + datetime.timedelta(days=1),
    "dt + INTERVAL 1 SECOND": lambda r: r["dt"] + datetime.timedelta(seconds=1),
    "TIMESTAMPADD(MONTH, 1, d)": lambda r: add_months(r["d"], 1),
    "DATE_ADD('2000-01-31', INTERVAL 1 MONTH)": lambda r: datetime.date(2000, 2, 29),
    "DAYOFWEEK(d)": lambda r: r["d"].isoweekday() % 7 + 1,  # 1 = Sunday
    "WEEKDAY(d)": lambda r: r["d"].weekday(),  # 0 = Monday
    "DAYOFYEAR(d)": lambda r: r["d"].timetuple().tm_yday,
    "DAYOFMONTH(d)": lambda r: r["d"].day,
    "QUARTER(d)": lambda r: (r["d"].month - 1) // 3 + 1,
    "WEEK(d)": lambda r: week0(r["d"]),
    "WEEK(dt)": lambda r: week0(r["dt"].date()),
    "WEEK(dt, 3)": lambda r: r["dt"].isocalendar()[1],
    "DAYNAME(d)": lambda r: DAYS[r["d"].weekday()],
    "MONTHNAME(d)": lambda r: MONTHS[r["d"].month - 1],
    "LAST_DAY(d)": lambda r: r["d"].replace(day=calendar.monthrange(r["d"].year, r["d"].month)[1]),
    "DATE_FORMAT(dt, '%Y-%m-%d %H:%i:%s')": lambda r: r["dt"].strftime("%Y-%m-%d %H:%M:%S"),
    "DATE_FORMAT(dt, '%W %D %M %Y, %l:%i %p')": lambda r: (
        f"{DAYS[r['dt'].weekday()]} {ordinal(r['dt'].day)} "
        f"{MONTHS[r['dt'].month - 1]} {r['dt'].year}, {twelve(r['dt'].hour)}:{r['dt'].minute:02d} {'AM' if r['dt'].hour < 12 else 'PM'}"
    ),
    "DATE_FORMAT(d, '%a %b %e %c %j %y %U %w %v %x')": lambda r: (
        f"{DAYS[r['d'].weekday()][:3]} {MONTHS[r['d'].month - 1][:3]} {r['d'].day} {r['d'].month} "
        f"{r['d'].timetuple().tm_yday:03d} {r['d'].year % 100:02d} {week0(r['d']):02d} {r['d'].isoweekday() % 7} "
        f"{r['d'].isocalendar()[1]:02d} {r['d'].isocalendar()[0]}"
    ),
    "DATE_FORMAT(dt, '%T|%r|%f|%k|%h|%% \"%Y\"')": lambda r: (
        f"{r['dt']:%H:%M:%S}|{twelve(r['dt'].hour):02d}:{r['dt']:%M:%S} {'AM' if r['dt'].hour < 12 else 'PM'}|"
        f'000000|{r["dt"].hour}|{twelve(r["dt"].hour):02d}|% "{r["dt"].year}"'
    ),
    "STR_TO_DATE(DATE_FORMAT(d, '%d/%m/%Y'), '%d/%m/%Y')": lambda r: r["d"],
    "STR_TO_DATE('Feb 3, 2020', '%b %e, %Y')": lambda r: datetime.date(2020, 2, 3),
    "STR_TO_DATE(CONCAT('2020-01-02 ', HOUR(dt), ':30'), '%Y-%m-%d %H:%i')": lambda r: datetime.datetime(
        2020, 1, 2, r["dt"].hour, 30
    ),
    "STR_TO_DATE('10:11', '%H:%i')": lambda r: datetime.time(10, 11),
    "TIME_TO_SEC(dt)": lambda r: seconds_of_day(r["dt"]),
    "TIME_TO_SEC('01:02:03')": lambda r: 3723,
    "SEC_TO_TIME(b * 3600 + 5)": lambda r: datetime.time(r["b"], 0, 5),
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
        j = null : json
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


TYPED = {  # fragment -> the Python type it is fetched as, on every backend
    int: [
        "YEAR(d)",
        "CHAR_LENGTH(s)",
        "LENGTH(s)",
        "FLOOR(x)",
        "a DIV b",
        "a % b",
        "DATEDIFF(dt, d)",
        "DAYOFWEEK(d)",
        "WEEKDAY(d)",
        "DAYOFYEAR(d)",
        "QUARTER(d)",
        "WEEK(d)",
        "TIME_TO_SEC(dt)",
        "UNIX_TIMESTAMP(dt)",
        "CAST(x AS SIGNED)",
        "ROUND(a, -1)",
        "LOCATE('b', s)",
    ],
    float: [
        "a / b",
        "a / 3",
        "POW(b, 2)",
        "ROUND(x)",
        "ROUND(x, 1)",
        "TRUNCATE(x, 0)",
        "PI()",
        "LN(b)",
        "CAST(b AS DOUBLE)",
    ],
    str: [
        "CONCAT(s, a)",
        "REPLACE(s, 'b', 'B')",
        "LEFT(s, 2)",
        "LPAD(a, 3, '0')",
        "REVERSE(s)",
        "CAST(a AS CHAR)",
        "DATE_FORMAT(d, '%Y')",
        "DAYNAME(d)",
        "MONTHNAME(d)",
        "SUBSTRING(s, -2)",
    ],
    datetime.date: [
        "DATE(dt)",
        "DATE_ADD(d, INTERVAL 1 DAY)",
        "DATE_SUB(d, INTERVAL 1 MONTH)",
        "d + INTERVAL 1 YEAR",
        "CAST(dt AS DATE)",
        "LAST_DAY(d)",
        "STR_TO_DATE('2020-01-02', '%Y-%m-%d')",
        "DATE_ADD('2000-01-31', INTERVAL 1 MONTH)",
    ],
    datetime.datetime: [
        "DATE_ADD(dt, INTERVAL 1 DAY)",
        "DATE_ADD(d, INTERVAL 1 HOUR)",
        "dt - INTERVAL 1 MONTH",
        "FROM_UNIXTIME(86400)",
        "CAST(d AS DATETIME)",
        "STR_TO_DATE('2020-01-02 3:04', '%Y-%m-%d %H:%i')",
        "DATE_ADD('2000-01-31', INTERVAL 1 HOUR)",
    ],
    datetime.time: ["TIME(dt)", "SEC_TO_TIME(b * 60)", "CAST(dt AS TIME)", "STR_TO_DATE('10:11', '%H:%i')"],
}


def test_computed_types_are_the_same_everywhere(sample):
    cases = [(text, kind) for kind, texts in TYPED.items() for text in texts]
    names = {f"v{i}": case for i, case in enumerate(cases)}
    row = (sample.proj(**{name: text for name, (text, _) in names.items()}) & {"id": 1}).fetch1()
    wrong = [
        f"{text}: {type(row[name]).__name__}, expected {kind.__name__}"
        for name, (text, kind) in names.items()
        if type(row[name]) is not kind
    ]
    assert not wrong, "\n".join(wrong)


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
    assert ids("LENGTH(s) = 4") == [1]  # bytes
    assert ids("CHAR_LENGTH(s) = 3") == [1]  # characters
    assert ids("LEFT(s, 1) = 'O' AND RIGHT(s, 2) = 'en'") == [2]
    assert ids("DATE_ADD(d, INTERVAL 1 DAY) = '2000-03-01'") == [1]
    assert ids("d + INTERVAL 2 MONTH = '2000-02-29'") == [2]
    assert ids("DATE_SUB(dt, INTERVAL 1 SECOND) < '2000-01-01'") == [2]
    assert ids("DATE(dt) = '2000-01-01'") == [2]
    assert ids("DAYOFWEEK(d) = 3 OR WEEKDAY(d) = 4") == [1, 2]
    assert ids("DATE_FORMAT(d, '%Y/%m') = '2000/02'") == [1]
    assert ids("MONTHNAME(dt) = 'June'") == [3]
    assert ids("ROUND(x) = 2") == [1]  # 2.5 rounds half to even
    assert ids("TRUNCATE(x, 0) = -1") == [2]
    assert ids("CAST(a AS CHAR) = '-7'") == [2]
    assert ids("LN(b) IS NULL") == [2]  # NULL, not an error, for log(0)
    assert ids("TIME_TO_SEC(dt) > 86000") == [3]
    assert ids("STR_TO_DATE('2000-02-29', '%Y-%m-%d') = d") == [1]
    assert ids("FIND_IN_SET(s, 'x,abç') = 2") == [1]
    assert ids("INET_ATON(CONCAT('10.0.0.', b)) > INET_ATON('10.0.0.2')") == [3]
    assert ids("SUBSTRING_INDEX(s, 'B', -1) = 'rien' AND EXTRACT(YEAR FROM d) = 1999") == [2]


def test_xor_and_bitwise_xor(sample):
    """MySQL's XOR (NULL when a side is NULL) and `^` on SQLite and PostgreSQL too."""

    def ids(condition):
        return sorted((sample & condition).fetch("id"))

    assert ids("a XOR b") == [2]  # 7, 2: both true; -7, 0: one true; NULL: no answer
    assert ids("(a XOR b) IS NULL") == [3]
    assert ids("(b > 1) XOR (x > 0)") == [3]
    assert ids("NOT (b XOR 1)") == [1, 3]
    rows = sample.proj(bits="b ^ 6", either="(b > 1) XOR (x > 0)").fetch(as_dict=True, order_by="id")
    assert [r["bits"] for r in rows] == [4, 6, 5]
    assert [r["either"] for r in rows] == [False, False, True]


def test_clock_and_random_functions(sample):
    today = datetime.date.today()
    rows = sample.proj(age="DATEDIFF(CURDATE(), dt)", year="YEAR(NOW())", r="RAND()", past="dt < NOW()").to_dicts()
    for row in rows:
        expected = (today - next(r for r in ROWS if r["id"] == row["id"])["dt"].date()).days
        assert abs(row["age"] - expected) <= 1  # the server's clock may sit in another time zone
        assert abs(row["year"] - today.year) <= 1
        assert 0 <= row["r"] < 1
        assert row["past"] is True
    assert len(sample & "d < CURDATE()") == 2


def test_aggregate_functions(sample):
    values = [r["x"] for r in ROWS]
    q = dj.U().aggr(
        sample,
        n="COUNT(*)",
        na="COUNT(a)",
        total="SUM(a)",
        mean="AVG(x)",
        low="MIN(d)",
        high="MAX(s)",
        sd="STD(x)",
        sd2="STDDEV(x)",
        sd3="STDDEV_SAMP(x)",
        names="GROUP_CONCAT(s ORDER BY s DESC SEPARATOR '; ')",
        ids="GROUP_CONCAT(id)",
        dist="GROUP_CONCAT(DISTINCT b ORDER BY b)",
        mean_b="AVG(b)",
        mean_ab="AVG(DISTINCT b + 1)",
    )
    row = q.fetch1()
    assert row["n"] == 3 and row["na"] == 2 and row["total"] == 0
    assert math.isclose(row["mean"], statistics.fmean(values))
    assert math.isclose(row["mean_b"], 5 / 3, rel_tol=1e-12)  # a double, not MySQL's 1.6667
    assert math.isclose(row["mean_ab"], 8 / 3, rel_tol=1e-12)
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


def test_epoch_functions(sample, connection):
    """UNIX_TIMESTAMP and FROM_UNIXTIME count from 1970-01-01 UTC; MySQL uses its session time zone."""
    if connection.backend.name == "mysql":
        offset = connection.query("SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW())").fetchone()[0]
        if offset != 0:
            pytest.skip("the MySQL session time zone is not UTC: its epoch functions count in local time")
    q = sample.proj(
        u="UNIX_TIMESTAMP(dt)",
        ud="UNIX_TIMESTAMP(d)",
        back="FROM_UNIXTIME(UNIX_TIMESTAMP(dt))",
        f="FROM_UNIXTIME(b * 86400 + 3600)",
        text="FROM_UNIXTIME(b * 86400, '%Y-%m-%d')",
    )
    rows = {r["id"]: r for r in q.to_dicts()}
    epoch = datetime.datetime(1970, 1, 1)
    for row in ROWS:
        got = rows[row["id"]]
        assert got["u"] == calendar.timegm(row["dt"].timetuple())
        assert got["ud"] == (None if row["d"] is None else calendar.timegm(row["d"].timetuple()))
        assert got["back"] == row["dt"]
        assert got["f"] == epoch + datetime.timedelta(days=row["b"], hours=1)
        assert got["text"] == (epoch + datetime.timedelta(days=row["b"])).strftime("%Y-%m-%d")
    assert (
        abs((sample & {"id": 1}).proj(now="UNIX_TIMESTAMP()").fetch1("now") - datetime.datetime.now().timestamp())
        < 90000
    )


@pytest.mark.parametrize(
    "fragment",
    [
        "WEEK(d, 5)",
        "DATE_FORMAT(d, '%u')",
        "STR_TO_DATE(s, '%x-%v')",
        "DATE_ADD(dt, INTERVAL '1:30' HOUR_MINUTE)",
        "DATE_FORMAT(d, s)",
        "EXTRACT(YEAR_MONTH FROM d)",
        "SHA2(s, 100)",
        "SHA2(s, b)",
        "REGEXP_INSTR(s, 'b', 2)",
        "REGEXP_REPLACE(s, 'b', 'c', 1, 0, 'i')",
        "j->'$.name'",
        "JSON_VALUE(j, '$.tags[*]')",
    ],
)
def test_fragments_that_are_not_portable_are_refused_everywhere(sample, fragment):
    """What one backend cannot compute is refused on all of them, MySQL included, with the portable spelling."""
    with pytest.raises(DataJointError, match="portable|literal"):
        sample.proj(v=fragment).to_dicts()


# --- the portable functions, one table (README: "Portable functions") ------------------------------

date, dt, time = datetime.date, datetime.datetime, datetime.time

PORTABLE = {  # category -> (function, fragment, its value on rows 1, 2, 3 or, for aggregates, over all rows)
    "string": [
        ("ASCII", "ASCII(s)", (97, 79, None)),
        ("BIT_LENGTH", "BIT_LENGTH(s)", (32, 56, None)),
        ("CHAR_LENGTH", "CHAR_LENGTH(s)", (3, 7, None)),
        ("CHARACTER_LENGTH", "CHARACTER_LENGTH(s)", (3, 7, None)),
        ("CONCAT", "CONCAT(s, '-', a)", ("abç-7", "O'Brien--7", None)),
        ("CONCAT_WS", "CONCAT_WS('/', s, a)", ("abç/7", "O'Brien/-7", "")),
        ("ELT", "ELT(b, 'one', 'two', 'three')", ("two", None, "three")),
        ("FIELD", "FIELD(s, 'x', 'abç', 'O''Brien')", (2, 3, 0)),
        ("FIND_IN_SET", "FIND_IN_SET(s, 'x,abç,O''Brien')", (2, 3, None)),
        ("INET_ATON", "INET_ATON(CONCAT('10.0.', b, '.1'))", (167772673, 167772161, 167772929)),
        ("INET_NTOA", "INET_NTOA(167772161 + b * 256)", ("10.0.2.1", "10.0.0.1", "10.0.3.1")),
        ("INSTR", "INSTR(s, 'b')", (2, 0, None)),
        ("LCASE", "LCASE(s)", ("abç", "o'brien", None)),
        ("LEFT", "LEFT(s, 2)", ("ab", "O'", None)),
        ("LENGTH", "LENGTH(s)", (4, 7, None)),
        ("LOCATE", "LOCATE('r', s)", (0, 4, None)),
        ("LOWER", "LOWER(s)", ("abç", "o'brien", None)),
        ("LPAD", "LPAD(s, 5, '*')", ("**abç", "O'Bri", None)),
        ("LTRIM", "LTRIM(CONCAT('  ', s))", ("abç", "O'Brien", None)),
        ("MD5", "MD5(s)", ("33bc1d41721be1b2002e4e68a282395f", "b8263da516a543f09399d4aecdbde4ab", None)),
        ("MID", "MID(s, 2, 2)", ("bç", "'B", None)),
        ("OCTET_LENGTH", "OCTET_LENGTH(s)", (4, 7, None)),
        ("POSITION", "POSITION('r' IN s)", (0, 4, None)),
        ("REGEXP_INSTR", "REGEXP_INSTR(s, '[A-Z]')", (0, 1, None)),
        ("REGEXP_LIKE", "REGEXP_LIKE(s, '^[A-Z]')", (False, True, None)),
        ("REGEXP_REPLACE", "REGEXP_REPLACE(s, '[aeiou]', '')", ("bç", "O'Brn", None)),
        ("REPEAT", "REPEAT(s, b)", ("abçabç", "", None)),
        ("REPLACE", "REPLACE(s, 'b', 'B')", ("aBç", "O'Brien", None)),
        ("REVERSE", "REVERSE(s)", ("çba", "neirB'O", None)),
        ("RIGHT", "RIGHT(s, 2)", ("bç", "en", None)),
        ("RPAD", "RPAD(s, 5, '-')", ("abç--", "O'Bri", None)),
        ("RTRIM", "RTRIM(CONCAT(s, '  '))", ("abç", "O'Brien", None)),
        (
            "SHA2",
            "SHA2(s, 256)",
            (
                "0e1df8edb670fa0e868c7651d3811c255579a619950fc4aaa53df342297a9c19",
                "e6e624964c8327e453b3287bb23046e5b85cfabfab651ef8d68357cbd77a379a",
                None,
            ),
        ),
        ("SPACE", "CONCAT('[', SPACE(b), ']')", ("[  ]", "[]", "[   ]")),
        ("SUBSTR", "SUBSTR(s, 2)", ("bç", "'Brien", None)),
        ("SUBSTRING", "SUBSTRING(s, -3, 2)", ("ab", "ie", None)),
        ("SUBSTRING_INDEX", "SUBSTRING_INDEX(CONCAT_WS(',', s, a, b), ',', -2)", ("7,2", "-7,0", "3")),
        ("TRIM", "TRIM(CONCAT(' ', s, ' '))", ("abç", "O'Brien", None)),
        ("UCASE", "UCASE(s)", ("ABÇ", "O'BRIEN", None)),
        ("UPPER", "UPPER(s)", ("ABÇ", "O'BRIEN", None)),
    ],
    "numeric": [
        ("ABS", "ABS(a)", (7, 7, None)),
        ("ACOS", "ACOS(x / 3)", (0.5856855434571508, 2.0943951023931957, 1.5707963267948966)),
        ("ASIN", "ASIN(x / 3)", (0.9851107833377457, -0.5235987755982989, 0.0)),
        ("ATAN", "ATAN(x)", (1.1902899496825317, -0.982793723247329, 0.0)),
        ("ATAN2", "ATAN2(x, b)", (0.8960553845713439, -1.5707963267948966, 0.0)),
        ("CEIL", "CEIL(x)", (3, -1, 0)),
        ("CEILING", "CEILING(x)", (3, -1, 0)),
        ("COS", "COS(x)", (-0.8011436155469337, 0.0707372016677029, 1.0)),
        ("COT", "COT(x + 1)", (2.669616484968866, -1.830487721712452, 0.6420926159343306)),
        ("DEGREES", "DEGREES(x)", (143.2394487827058, -85.94366926962348, 0.0)),
        ("EXP", "EXP(b)", (7.38905609893065, 1.0, 20.085536923187668)),
        ("FLOOR", "FLOOR(x)", (2, -2, 0)),
        ("GREATEST", "GREATEST(a, b)", (7, 0, None)),
        ("LEAST", "LEAST(a, b)", (2, -7, None)),
        ("LN", "LN(b)", (0.6931471805599453, None, 1.0986122886681098)),
        ("LOG", "LOG(b)", (0.6931471805599453, None, 1.0986122886681098)),
        ("LOG10", "LOG10(b)", (0.30102999566398114, None, 0.47712125471966244)),
        ("LOG2", "LOG2(b)", (1.0, None, 1.5849625007211563)),
        ("MOD", "MOD(a, 3)", (1, -1, None)),
        ("PI", "PI() * b", (6.283185307179586, 0.0, 9.42477796076938)),
        ("POW", "POW(b, 2)", (4.0, 0.0, 9.0)),
        ("POWER", "POWER(x, 2)", (6.25, 2.25, 0.0)),
        ("RADIANS", "RADIANS(x)", (0.04363323129985824, -0.026179938779914945, 0.0)),
        ("RAND", "RAND() < 1", (True, True, True)),
        ("ROUND", "ROUND(x)", (2.0, -2.0, 0.0)),
        ("SIGN", "SIGN(x)", (1, -1, 0)),
        ("SIN", "SIN(x)", (0.5984721441039565, -0.9974949866040544, 0.0)),
        ("SQRT", "SQRT(b)", (1.4142135623730951, 0.0, 1.7320508075688772)),
        ("TAN", "TAN(x)", (-0.7470222972386603, -14.101419947171719, 0.0)),
        ("TRUNCATE", "TRUNCATE(x * 1.37, 1)", (3.4, -2.0, 0.0)),
    ],
    "date and time": [
        ("ADDDATE", "ADDDATE(d, 3)", (date(2000, 3, 3), date(2000, 1, 3), None)),
        ("CURDATE", "CURDATE() > d", (True, True, None)),
        ("CURRENT_DATE", "CURRENT_DATE() > d", (True, True, None)),
        ("CURRENT_TIME", "CURRENT_TIME() IS NOT NULL", (True, True, True)),
        ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP() > dt", (True, True, True)),
        ("CURTIME", "CURTIME() IS NOT NULL", (True, True, True)),
        ("DATE", "DATE(dt)", (date(2001, 3, 4), date(2000, 1, 1), date(2024, 6, 15))),
        ("DATE_ADD", "DATE_ADD(d, INTERVAL 1 MONTH)", (date(2000, 3, 29), date(2000, 1, 31), None)),
        (
            "DATE_FORMAT",
            "DATE_FORMAT(dt, '%Y/%m/%d %H:%i')",
            ("2001/03/04 05:06", "2000/01/01 00:00", "2024/06/15 23:59"),
        ),
        ("DATE_SUB", "DATE_SUB(d, INTERVAL 1 DAY)", (date(2000, 2, 28), date(1999, 12, 30), None)),
        ("DATEDIFF", "DATEDIFF(dt, d)", (369, 1, None)),
        ("DAY", "DAY(d)", (29, 31, None)),
        ("DAYNAME", "DAYNAME(d)", ("Tuesday", "Friday", None)),
        ("DAYOFMONTH", "DAYOFMONTH(d)", (29, 31, None)),
        ("DAYOFWEEK", "DAYOFWEEK(d)", (3, 6, None)),
        ("DAYOFYEAR", "DAYOFYEAR(d)", (60, 365, None)),
        ("EXTRACT", "EXTRACT(MONTH FROM dt)", (3, 1, 6)),
        (
            "FROM_UNIXTIME",
            "FROM_UNIXTIME(UNIX_TIMESTAMP(dt))",
            (dt(2001, 3, 4, 5, 6, 7), dt(2000, 1, 1, 0, 0), dt(2024, 6, 15, 23, 59, 59)),
        ),
        ("HOUR", "HOUR(dt)", (5, 0, 23)),
        ("LAST_DAY", "LAST_DAY(d)", (date(2000, 2, 29), date(1999, 12, 31), None)),
        ("MICROSECOND", "MICROSECOND(dt)", (0, 0, 0)),
        ("MINUTE", "MINUTE(dt)", (6, 0, 59)),
        ("MONTH", "MONTH(d)", (2, 12, None)),
        ("MONTHNAME", "MONTHNAME(d)", ("February", "December", None)),
        ("NOW", "NOW() > dt", (True, True, True)),
        ("QUARTER", "QUARTER(d)", (1, 4, None)),
        ("SEC_TO_TIME", "SEC_TO_TIME(b * 3600 + 5)", (time(2, 0, 5), time(0, 0, 5), time(3, 0, 5))),
        ("SECOND", "SECOND(dt)", (7, 0, 59)),
        (
            "STR_TO_DATE",
            "STR_TO_DATE(CONCAT(b + 1, '/03/2020'), '%d/%m/%Y')",
            (date(2020, 3, 3), date(2020, 3, 1), date(2020, 3, 4)),
        ),
        ("SUBDATE", "SUBDATE(d, INTERVAL 1 MONTH)", (date(2000, 1, 29), date(1999, 11, 30), None)),
        ("SYSDATE", "SYSDATE() > dt", (True, True, True)),
        ("TIME", "TIME(dt)", (time(5, 6, 7), time(0, 0), time(23, 59, 59))),
        ("TIME_TO_SEC", "TIME_TO_SEC(dt)", (18367, 0, 86399)),
        ("TIMESTAMP", "TIMESTAMP(d)", (dt(2000, 2, 29, 0, 0), dt(1999, 12, 31, 0, 0), None)),
        ("TIMESTAMPADD", "TIMESTAMPADD(DAY, b, d)", (date(2000, 3, 2), date(1999, 12, 31), None)),
        ("TIMESTAMPDIFF", "TIMESTAMPDIFF(HOUR, d, dt)", (8861, 24, None)),
        ("UNIX_TIMESTAMP", "UNIX_TIMESTAMP(d) - UNIX_TIMESTAMP('2000-01-01')", (5097600, -86400, None)),
        ("WEEK", "WEEK(d)", (9, 52, None)),
        ("WEEKDAY", "WEEKDAY(d)", (1, 4, None)),
        ("WEEKOFYEAR", "WEEKOFYEAR(d)", (9, 52, None)),
        ("YEAR", "YEAR(d)", (2000, 1999, None)),
    ],
    "control flow and casts": [
        ("CAST", "CAST(a AS CHAR)", ("7", "-7", None)),
        ("COALESCE", "COALESCE(a, b)", (7, -7, 3)),
        ("CONVERT", "CONVERT(b, CHAR)", ("2", "0", "3")),
        ("IF", "IF(a > 0, 'pos', 'neg')", ("pos", "neg", "neg")),
        ("IFNULL", "IFNULL(s, '?')", ("abç", "O'Brien", "?")),
        ("ISNULL", "ISNULL(a)", (False, False, True)),
        ("NULLIF", "NULLIF(b, 0)", (2, None, 3)),
    ],
    "json": [
        ("JSON_VALUE", "JSON_VALUE(j, '$.name')", ("Rocket", "O'Brien", None)),
        ("JSON_VALUE", "JSON_VALUE(j, '$.n' RETURNING SIGNED) - 2", (40, -9, None)),
        ("JSON_VALUE", "JSON_VALUE(j, '$.tags[1]')", ("b", None, None)),
        ("JSON_VALUE", "JSON_VALUE(j, '$.ok')", ("true", "false", None)),
        ("JSON_VALUE", "JSON_VALUE(j, '$.tags')", (None, None, None)),  # objects and arrays are not values
        ("->>", "j->>'$.n' > 30", (True, False, None)),  # compared as a number, as MySQL does
        ("->>", "j->>'$.nothing'", (None, "null", None)),
        ("->>", "CONCAT(j->>'$.sub.deep[0]', '!')", ("7!", None, None)),
    ],
    "aggregate": [
        ("AVG", "AVG(b)", 1.6666666666666667),
        ("BIT_AND", "BIT_AND(b)", 0),
        ("BIT_OR", "BIT_OR(b)", 3),
        ("BIT_XOR", "BIT_XOR(b)", 1),
        ("COUNT", "COUNT(a)", 2),
        ("GROUP_CONCAT", "GROUP_CONCAT(b ORDER BY b)", "0,2,3"),
        ("MAX", "MAX(x)", 2.5),
        ("MIN", "MIN(d)", date(1999, 12, 31)),
        ("STD", "STD(x)", 1.6499158227686108),
        ("STDDEV", "STDDEV(x)", 1.6499158227686108),
        ("STDDEV_POP", "STDDEV_POP(x)", 1.6499158227686108),
        ("STDDEV_SAMP", "STDDEV_SAMP(x)", 2.0207259421636903),
        ("SUM", "SUM(b)", 5),
        ("VAR_POP", "VAR_POP(x)", 2.722222222222222),
        ("VAR_SAMP", "VAR_SAMP(x)", 4.083333333333333),
        ("VARIANCE", "VARIANCE(x)", 2.722222222222222),
    ],
}


def same(got, expected):
    """Equal, and of the same Python type on every backend (floats to 1e-9)."""
    if isinstance(expected, tuple):
        return isinstance(got, tuple) and len(got) == len(expected) and all(map(same, got, expected))
    if isinstance(expected, float):
        return isinstance(got, float) and math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)
    return got == expected and type(got) is type(expected)


@pytest.mark.parametrize("category", list(PORTABLE))
def test_portable_functions(sample, category):
    """Every function the README lists gives MySQL's answer, typed alike, on every backend."""
    cases = PORTABLE[category]
    names = {f"v{i}": fragment for i, (_, fragment, _) in enumerate(cases)}
    if category == "aggregate":
        row = dj.U().aggr(sample, **names).fetch1()
        got = {fragment: row[name] for name, fragment in names.items()}
    else:
        rows = sample.proj(**names).to_dicts(order_by="id")
        got = {fragment: tuple(r[name] for r in rows) for name, fragment in names.items()}
    wrong = [
        f"{function}: {fragment} gave {got[fragment]!r}, expected {expected!r}"
        for function, fragment, expected in cases
        if not same(got[fragment], expected)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_readme_lists_the_portable_functions_and_each_is_tested():
    from pathlib import Path

    from pipejoint.core.fragment_language import PORTABLE_FUNCTIONS

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### Portable functions", 1)[1].split("\n#", 1)[0]
    bullets = re.findall(r"^- \*\*.*(?:\n  .*)*", section, flags=re.MULTILINE)  # with continued lines
    bullets = "\n".join(bullets)
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", bullets))
    portable = {name for names in PORTABLE_FUNCTIONS.values() for name in names}
    assert listed == portable, (listed - portable, portable - listed)
    for category, names in PORTABLE_FUNCTIONS.items():
        tested = {function for function, _, _ in PORTABLE[category] if function.isidentifier()}
        assert sorted(tested) == sorted(names), category


@pytest.mark.parametrize(
    "fragment, name, where",
    [
        ("HEX(s)", "HEX", "exists on MySQL and MariaDB"),
        ("sha1(s)", "SHA1", "pgcrypto"),
        ("FORMAT(x, 2)", "FORMAT", "exists on MySQL and MariaDB"),
        ("TIME_FORMAT(dt, '%H')", "TIME_FORMAT", "DATE_FORMAT(dt, '%H:%i')"),
        ("UUID() IS NOT NULL", "UUID", "uuid.uuid4()"),
        ("CONCAT(s, NO_SUCH_FUNCTION(a))", "NO_SUCH_FUNCTION", "not one of the functions"),
    ],
)
def test_functions_that_are_not_portable_are_refused_up_front(sample, fragment, name, where):
    """Before any SQL is sent, on every backend (MySQL too), naming the function and where it exists."""
    for use in (lambda: sample.proj(v=fragment), lambda: sample & fragment):
        with pytest.raises(DataJointError) as refused:
            use()
        message = str(refused.value)
        assert f"Cannot use {name}() in {fragment!r}" in message and where in message
        assert "sample" in message.lower()
