"""The language of SQL fragments: MySQL's, as sqlglot reads it.

Restriction strings and computed attributes are written in MySQL syntax. What they mean is
needed on both sides of the compiler: the query layer infers a computed attribute's type from it
(STR_TO_DATE's format says date, time or datetime; DATE_ADD of a date by days stays a date), and
each backend rewrites it into its own SQL (DATE_FORMAT's specifiers, the units of an INTERVAL).
Both read those facts here, so the two never disagree.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL

from ..errors import DataJointError


def is_string_literal(node):
    return isinstance(node, exp.Literal) and node.is_string


def interval_unit(node):
    """The unit of an INTERVAL, DATE_ADD or TIMESTAMPDIFF node, upper case; DAY when none is written."""
    unit = node.args.get("unit")
    return (unit.name if unit is not None else "DAY").upper()


def cast_target(node):
    """The name of a CAST's target type as sqlglot reads MySQL's: 'BIGINT' for SIGNED, 'UBIGINT' for UNSIGNED, ..."""
    to = node.args["to"]
    return str(getattr(to.this, "value", to.this)).upper()


# --- date arithmetic ---------------------------------------------------------------------------

INTERVAL_UNITS = {"MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def interval_operands(node):
    """(value, amount, unit, sign) of DATE_ADD, DATE_SUB, TIMESTAMPADD and `value ± INTERVAL n unit`, else None.

    Compound units (DAY_HOUR, ...) are refused: not every backend has them.
    """
    kind = type(node)
    shift = None
    if kind in (exp.DateAdd, exp.DateSub, exp.TimestampAdd):
        shift = node.this, node.expression, interval_unit(node), -1 if kind is exp.DateSub else 1
    elif kind in (exp.Add, exp.Sub):
        value, interval = node.this, node.expression
        if isinstance(value, exp.Interval) and kind is exp.Add:
            value, interval = interval, value
        if isinstance(interval, exp.Interval) and not isinstance(value, exp.Interval):
            shift = value, interval.this, interval_unit(interval), -1 if kind is exp.Sub else 1
    if shift is not None and shift[2] not in INTERVAL_UNITS:
        raise DataJointError(
            f"INTERVAL ... {shift[2]} is not portable: use one of {', '.join(sorted(INTERVAL_UNITS))}, "
            "e.g. DATE_ADD(d, INTERVAL 90 MINUTE)."
        )
    return shift


# --- MySQL date formats (DATE_FORMAT, STR_TO_DATE) ------------------------------------------------

DATE_SPECIFIERS = set("abcDdejMmUuVvWwXxYy")
TIME_SPECIFIERS = set("fHhIiklprSsT")

# sqlglot reads MySQL's format specifiers into its own strftime-like ones (%i -> %M, %M -> %B, ...)
_FROM_SQLGLOT_FORMAT = {ours: mysql for mysql, ours in MySQL.TIME_MAPPING.items() if len(ours) <= 3}


def mysql_format(node):
    """The MySQL format string of a DATE_FORMAT / STR_TO_DATE node, or None when it is not a literal."""
    fmt = node.args.get("format")
    if not is_string_literal(fmt):
        return None
    return re.sub(r"%-?.", lambda m: _FROM_SQLGLOT_FORMAT.get(m.group(), m.group()), fmt.this, flags=re.DOTALL)


def split_format(text):
    """A MySQL format as a list of ('%', letter) specifiers and ('', text) literal pieces."""
    parts, literal, i = [], "", 0
    while i < len(text):
        if text[i] == "%" and i + 1 < len(text):
            letter = text[i + 1]
            if letter in DATE_SPECIFIERS or letter in TIME_SPECIFIERS:
                if literal:
                    parts.append(("", literal))
                    literal = ""
                parts.append(("%", letter))
            else:
                literal += letter  # %% is a percent sign; MySQL prints any other %x as x
            i += 2
        else:
            literal += text[i]
            i += 1
    if literal:
        parts.append(("", literal))
    return parts


def format_kind(text):
    """What STR_TO_DATE returns for a format: 'date', 'time' or 'datetime'."""
    letters = {letter for marker, letter in split_format(text) if marker}
    has_date, has_time = bool(letters & DATE_SPECIFIERS), bool(letters & TIME_SPECIFIERS)
    if has_date and has_time:
        return "datetime"
    return "time" if has_time else "date"


# --- which functions a fragment may call ---------------------------------------------------------

# The MySQL functions that give MySQL's answer on every backend (README, "Portable functions").
PORTABLE_FUNCTIONS = {
    "string": [
        "ASCII",
        "BIT_LENGTH",
        "CHAR_LENGTH",
        "CHARACTER_LENGTH",
        "CONCAT",
        "CONCAT_WS",
        "ELT",
        "FIELD",
        "FIND_IN_SET",
        "INET_ATON",
        "INET_NTOA",
        "INSTR",
        "LCASE",
        "LEFT",
        "LENGTH",
        "LOCATE",
        "LOWER",
        "LPAD",
        "LTRIM",
        "MD5",
        "MID",
        "OCTET_LENGTH",
        "POSITION",
        "REGEXP_INSTR",
        "REGEXP_LIKE",
        "REGEXP_REPLACE",
        "REPEAT",
        "REPLACE",
        "REVERSE",
        "RIGHT",
        "RPAD",
        "RTRIM",
        "SHA2",
        "SPACE",
        "SUBSTR",
        "SUBSTRING",
        "SUBSTRING_INDEX",
        "TRIM",
        "UCASE",
        "UPPER",
    ],
    "numeric": [
        "ABS",
        "ACOS",
        "ASIN",
        "ATAN",
        "ATAN2",
        "CEIL",
        "CEILING",
        "COS",
        "COT",
        "DEGREES",
        "EXP",
        "FLOOR",
        "GREATEST",
        "LEAST",
        "LN",
        "LOG",
        "LOG10",
        "LOG2",
        "MOD",
        "PI",
        "POW",
        "POWER",
        "RADIANS",
        "RAND",
        "ROUND",
        "SIGN",
        "SIN",
        "SQRT",
        "TAN",
        "TRUNCATE",
    ],
    "date and time": [
        "ADDDATE",
        "CURDATE",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "CURRENT_TIMESTAMP",
        "CURTIME",
        "DATE",
        "DATE_ADD",
        "DATE_FORMAT",
        "DATE_SUB",
        "DATEDIFF",
        "DAY",
        "DAYNAME",
        "DAYOFMONTH",
        "DAYOFWEEK",
        "DAYOFYEAR",
        "EXTRACT",
        "FROM_UNIXTIME",
        "HOUR",
        "LAST_DAY",
        "MICROSECOND",
        "MINUTE",
        "MONTH",
        "MONTHNAME",
        "NOW",
        "QUARTER",
        "SEC_TO_TIME",
        "SECOND",
        "STR_TO_DATE",
        "SUBDATE",
        "SYSDATE",
        "TIME",
        "TIME_TO_SEC",
        "TIMESTAMP",
        "TIMESTAMPADD",
        "TIMESTAMPDIFF",
        "UNIX_TIMESTAMP",
        "WEEK",
        "WEEKDAY",
        "WEEKOFYEAR",
        "YEAR",
    ],
    "control flow and casts": ["CAST", "COALESCE", "CONVERT", "IF", "IFNULL", "ISNULL", "NULLIF"],
    "json": ["JSON_VALUE"],
    "aggregate": [
        "AVG",
        "BIT_AND",
        "BIT_OR",
        "BIT_XOR",
        "COUNT",
        "GROUP_CONCAT",
        "MAX",
        "MIN",
        "STD",
        "STDDEV",
        "STDDEV_POP",
        "STDDEV_SAMP",
        "SUM",
        "VAR_POP",
        "VAR_SAMP",
        "VARIANCE",
    ],
}
_PORTABLE = {name for names in PORTABLE_FUNCTIONS.values() for name in names}

_MYSQL = "MySQL and MariaDB"
_DATES = "compute with DATEDIFF, TIMESTAMPDIFF or DATE_ADD instead"
_SERVER = "it describes the server, not the data"
_JSON = "use JSON_VALUE(j, '$.key') or j->>'$.key' for a value's text"
# functions DataJoint users meet in MySQL that are refused: where they exist, and what to write instead
NOT_PORTABLE = {
    "FORMAT": (_MYSQL, "round with ROUND(x, 2) and format the number in Python"),
    "HEX": (f"{_MYSQL} (SQLite's HEX means something else)", "compare the values themselves"),
    "UNHEX": (_MYSQL, "store bytes in a bytes or <blob> attribute"),
    "BIN": (_MYSQL, "format the number in Python"),
    "OCT": (_MYSQL, "format the number in Python"),
    "CONV": (_MYSQL, "format the number in Python"),
    "CHAR": (f"{_MYSQL} (as bytes; SQLite's CHAR returns text)", "write the characters in a string literal"),
    "INSERT": (_MYSQL, "use CONCAT(LEFT(s, i - 1), new, SUBSTRING(s, i + n))"),
    "QUOTE": (f"{_MYSQL} and SQLite, escaping differently", "compare the values themselves"),
    "SOUNDEX": (f"{_MYSQL} (PostgreSQL only with the fuzzystrmatch extension)", "compute it in Python"),
    "STRCMP": (_MYSQL, "compare with <, = and > (IF(a < b, -1, IF(a > b, 1, 0)))"),
    "SHA1": (f"{_MYSQL} (PostgreSQL only with the pgcrypto extension)", "use SHA2(s, 256) or MD5(s)"),
    "SHA": (f"{_MYSQL} (PostgreSQL only with the pgcrypto extension)", "use SHA2(s, 256) or MD5(s)"),
    "CRC32": (_MYSQL, "use MD5(s) or SHA2(s, 256)"),
    "TO_BASE64": (_MYSQL, "encode in Python"),
    "FROM_BASE64": (_MYSQL, "decode in Python"),
    "REGEXP_SUBSTR": (
        f"{_MYSQL} (which disagree when nothing matches) and PostgreSQL",
        "use REGEXP_INSTR or REGEXP_REPLACE",
    ),
    "UUID": (f"{_MYSQL} and PostgreSQL (gen_random_uuid)", "make ids in Python (uuid.uuid4()) and insert them"),
    "MAKEDATE": (_MYSQL, _DATES),
    "MAKETIME": (_MYSQL, "use SEC_TO_TIME(h * 3600 + m * 60 + s)"),
    "PERIOD_ADD": (_MYSQL, _DATES),
    "PERIOD_DIFF": (_MYSQL, _DATES),
    "TO_DAYS": (_MYSQL, "use DATEDIFF(d, '2000-01-01')"),
    "FROM_DAYS": (_MYSQL, "use DATE_ADD('2000-01-01', INTERVAL n DAY)"),
    "TO_SECONDS": (_MYSQL, "use UNIX_TIMESTAMP(dt) or TIMESTAMPDIFF(SECOND, a, b)"),
    "TIMEDIFF": (f"{_MYSQL} (a TIME beyond a day)", "use TIMESTAMPDIFF(SECOND, b, a)"),
    "ADDTIME": (f"{_MYSQL} (a TIME beyond a day)", "use DATE_ADD(dt, INTERVAL n SECOND)"),
    "SUBTIME": (f"{_MYSQL} (a TIME beyond a day)", "use DATE_SUB(dt, INTERVAL n SECOND)"),
    "TIME_FORMAT": (_MYSQL, "use DATE_FORMAT(dt, '%H:%i')"),
    "YEARWEEK": (_MYSQL, "use DATE_FORMAT(d, '%x%v') for ISO weeks"),
    "CONVERT_TZ": (f"{_MYSQL} (with its time zone tables loaded)", "store times in UTC and convert in Python"),
    "UTC_DATE": (_MYSQL, "use CURDATE() with the server in UTC"),
    "UTC_TIME": (_MYSQL, "use CURTIME() with the server in UTC"),
    "UTC_TIMESTAMP": (_MYSQL, "use NOW() with the server in UTC"),
    "JSON_EXTRACT": (f"{_MYSQL} and SQLite, giving JSON text each spaces its own way", _JSON),
    "JSON_UNQUOTE": (_MYSQL, _JSON),
    "JSON_CONTAINS": (_MYSQL, "fetch the json attribute and select in Python"),
    "JSON_LENGTH": (_MYSQL, "fetch the json attribute and select in Python"),
    "JSON_ARRAYAGG": (f"{_MYSQL} and PostgreSQL 16", "use GROUP_CONCAT"),
    "JSON_OBJECTAGG": (f"{_MYSQL} and PostgreSQL 16", "use GROUP_CONCAT"),
    "BIT_COUNT": (f"{_MYSQL} and PostgreSQL 14", "count bits in Python"),
    "ANY_VALUE": ("MySQL 5.7 and later", "use MIN or MAX"),
    "ROW_NUMBER": ("every backend as a window function, which fragments cannot hold", "use dj.Top"),
    "RANK": ("every backend as a window function, which fragments cannot hold", "use dj.Top"),
    "DATABASE": (_MYSQL, _SERVER),
    "SCHEMA": (_MYSQL, _SERVER),
    "USER": (_MYSQL, _SERVER),
    "CURRENT_USER": (f"{_MYSQL} and PostgreSQL", _SERVER),
    "VERSION": (f"{_MYSQL} and PostgreSQL", _SERVER),
    "CONNECTION_ID": (_MYSQL, _SERVER),
    "LAST_INSERT_ID": (_MYSQL, _SERVER),
    "SLEEP": (_MYSQL, "wait in Python"),
}

# words that may stand before "(" in a fragment without being a function call
_SYNTAX = {
    "ALL",
    "AND",
    "ANY",
    "AS",
    "BETWEEN",
    "BY",
    "CASE",
    "DISTINCT",
    "DIV",
    "ELSE",
    "EXISTS",
    "FROM",
    "HAVING",
    "IN",
    "INTERVAL",
    "IS",
    "JOIN",
    "LIKE",
    "NOT",
    "ON",
    "OR",
    "REGEXP",
    "RLIKE",
    "SELECT",
    "SOME",
    "THEN",
    "UNION",
    "USING",
    "WHEN",
    "WHERE",
    "XOR",
}
_TYPE_NAMES = {
    "BINARY",
    "CHAR",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "DOUBLE",
    "FLOAT",
    "INT",
    "INTEGER",
    "NCHAR",
    "NUMERIC",
    "SIGNED",
    "TIME",
    "UNSIGNED",
    "VARCHAR",
}
_NOT_CALLS = {"STRING", "NUMBER", "IDENTIFIER", "NATIONAL_STRING", "HEX_STRING", "BIT_STRING", "BYTE_STRING"}


def called_functions(tokens):
    """The names of the functions a tokenized fragment calls, upper case, as the user wrote them."""
    names = []
    for i, token in enumerate(tokens[:-1]):
        if tokens[i + 1].token_type.name != "L_PAREN" or token.token_type.name in _NOT_CALLS:
            continue
        name = token.text.upper()
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name) or name in _SYNTAX:
            continue
        before = tokens[i - 1].token_type.name if i else ""
        if name in _TYPE_NAMES and before in ("ALIAS", "COMMA"):  # CAST(x AS CHAR(3)), CONVERT(x, DECIMAL(5,2))
            continue
        names.append(name)
    return names


def check_portable(names, text, where=""):
    """Refuse a fragment that calls a function some backend lacks, naming it and where it exists."""
    for name in names:
        if name in _PORTABLE:
            continue
        exists, instead = NOT_PORTABLE.get(name, (None, None))
        if exists is not None:
            reason = f"{name} exists on {exists}, not on every backend pipejoint runs on; {instead}."
        else:
            reason = (
                f"{name} is not one of the functions that give the same answer on SQLite, PostgreSQL and "
                "MySQL/MariaDB (the README lists them under 'Portable functions'). Check the spelling; SQL "
                "written for one server runs through dj.conn().query(sql)."
            )
        raise DataJointError(f"Cannot use {name}() in {text!r}{where}: {reason}")


# --- aliases read as their portable form -----------------------------------------------------------

_EXTRACT = {"YEAR": exp.Year, "MONTH": exp.Month, "DAY": exp.Day, "HOUR": exp.Hour, "MINUTE": exp.Minute}
_EXTRACT.update({"SECOND": exp.Second, "QUARTER": exp.Quarter, "WEEK": exp.Week})


def _alias(node):
    """MySQL's other spellings of a function, as the one spelling the backends rewrite."""
    kind = type(node)
    if kind is exp.Anonymous and node.name.upper() in ("ADDDATE", "SUBDATE") and len(node.expressions) == 2:
        value, amount = node.expressions
        unit = None
        if isinstance(amount, exp.Interval):  # ADDDATE(d, INTERVAL n unit) is DATE_ADD
            amount, unit = amount.this, amount.args.get("unit")
        shift = exp.DateAdd if node.name.upper() == "ADDDATE" else exp.DateSub
        return shift(this=value, expression=amount, unit=unit or exp.var("DAY"))
    if kind is exp.Extract:
        unit = node.this.name.upper()
        if unit == "MICROSECOND":
            return exp.Anonymous(this="MICROSECOND", expressions=[node.expression])
        if unit not in _EXTRACT:
            raise DataJointError(
                f"EXTRACT({unit} FROM ...) is not portable: use one of {', '.join([*_EXTRACT, 'MICROSECOND'])}."
            )
        return _EXTRACT[unit](this=node.expression)
    if kind is exp.WeekOfYear:
        return exp.Week(this=node.this, mode=exp.Literal.number(3))
    if kind is exp.Timestamp and node.args.get("expression") is None:
        return exp.Cast(this=node.this, to=exp.DataType.build("DATETIME"))
    if kind is exp.Atan and node.args.get("expression") is not None:  # ATAN(y, x) is ATAN2
        return exp.Atan2(this=node.this, expression=node.expression)
    if kind is exp.JSONValue and isinstance(node.args.get("returning"), exp.DataType):
        returning = node.args["returning"]  # JSON_VALUE(j, p RETURNING t) is CAST(JSON_VALUE(j, p) AS t)
        node.set("returning", None)
        return exp.Cast(this=node, to=returning)
    if kind in _COMPARISONS:
        for side, other in (("this", "expression"), ("expression", "this")):
            value, against = node.args.get(side), node.args.get(other)
            if isinstance(value, JSON_TEXT) and isinstance(against, exp.Literal) and not against.is_string:
                # MySQL compares the text j->>'$.n' with a number as a number
                node.set(side, exp.Cast(this=value, to=exp.DataType.build("DOUBLE")))
    return node


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
JSON_TEXT = (exp.JSONValue, exp.JSONExtractScalar)  # JSON_VALUE(j, path) and j->>path: text


def portable_spelling(tree):
    """The fragment with MySQL's aliases (ADDDATE, EXTRACT, WEEKOFYEAR, ...) in their main spelling.

    Children are respelled before their parents, so aliases inside aliases are found too."""
    root = tree
    for node in reversed(list(tree.dfs())):
        parent, arg_key, index = node.parent, node.arg_key, node.index  # before _alias may re-parent it
        new = _alias(node)
        if new is node:
            continue
        if parent is None:
            root = new
        else:
            parent.set(arg_key, new, index)
    return root


# --- JSON paths --------------------------------------------------------------------------------


def json_path(node):
    """The keys and array positions of the literal path of JSON_VALUE or ->> ($.probe.channels[0])."""
    path = node.args.get("path") if isinstance(node, exp.JSONValue) else node.expression
    parts = []
    for part in path.expressions if isinstance(path, exp.JSONPath) else [None]:
        if isinstance(part, exp.JSONPathRoot):
            continue
        key = isinstance(part, exp.JSONPathKey) and isinstance(part.this, str)
        if key or (isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, int)):
            parts.append(part.this)
        else:
            raise DataJointError(
                f"The JSON path in {node.sql(dialect='mysql')} is not portable: write it as a string of keys and "
                "array positions, e.g. '$.probe.channels[0]' (no wildcards, ranges or last)."
            )
    return parts


def mysql_json_path(parts):
    """'$.a.b[0]', with keys that are not plain names quoted."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            text += f".{part}"
        else:
            text += '."' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
