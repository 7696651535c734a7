"""Portable SQL fragments: the MySQL functions DataJoint users write give the same answers everywhere.

Each fragment is used as a computed attribute over three rows (one full of NULLs) and compared with
the answer worked out in Python as MySQL defines it (MariaDB is the reference); restriction strings
are compared the same way.
"""

from __future__ import annotations

import calendar
import datetime
import math
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
    ],
)
def test_fragments_that_are_not_portable_are_refused_everywhere(sample, fragment):
    """What one backend cannot compute is refused on all of them, MySQL included, with the portable spelling."""
    with pytest.raises(DataJointError, match="portable|literal"):
        sample.proj(v=fragment).to_dicts()
